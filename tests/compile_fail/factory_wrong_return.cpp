// A factory that returns a file descriptor, as a C callback would.
#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

#include <sys/socket.h>

int main() {
  asio::io_context io;
#ifdef OPENSOCK_COMPILE_FAIL_CONTROL
  auto factory = [](opensock::open_context<asio::ip::tcp>& context) {
    asio::ip::tcp::socket socket(context.executor);
    socket.assign(context.endpoint.protocol(),
                  ::socket(context.endpoint.protocol().family(), SOCK_STREAM, 0));
    return socket;
  };
#else
  auto factory = [](opensock::open_context<asio::ip::tcp>& context) {
    return ::socket(context.endpoint.protocol().family(), SOCK_STREAM, 0);
  };
#endif
  opensock::connect_only_session session(io.get_executor(), factory);
  return session.is_connected() ? 1 : 0;
}
