// A factory that takes the endpoint instead of the open_context.
#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>
#include <asio/system_executor.hpp>

int main() {
  asio::io_context io;
#ifdef OPENSOCK_COMPILE_FAIL_CONTROL
  auto factory = [](opensock::open_context<asio::ip::tcp>& context) {
    asio::ip::tcp::socket socket(context.executor);
    socket.open(context.endpoint.protocol());
    return socket;
  };
#else
  auto factory = [](asio::ip::tcp::endpoint& endpoint) {
    asio::ip::tcp::socket socket(asio::system_executor{});
    socket.open(endpoint.protocol());
    return socket;
  };
#endif
  opensock::connect_only_session session(io.get_executor(), factory);
  return session.is_connected() ? 1 : 0;
}
