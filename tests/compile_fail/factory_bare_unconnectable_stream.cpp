// A factory that returns, bare, a stream opensock has no way to connect to a TCP
// endpoint (a Unix socket); wrapped in opensock::connected() it is fine.
#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>

int main() {
  asio::io_context io;
  auto factory = [](opensock::open_context<asio::ip::tcp>& context) {
    asio::local::stream_protocol::socket socket(context.executor);
#ifdef OPENSOCK_COMPILE_FAIL_CONTROL
    return opensock::connected(std::move(socket));
#else
    return socket;
#endif
  };
  opensock::connect_only_session session(io.get_executor(), factory);
  return session.is_connected() ? 1 : 0;
}
