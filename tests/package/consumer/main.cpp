// Connects to a listener of its own through a lambda factory: proof that the package's
// headers, dependencies and compile flags reach a consumer.
#include <opensock/opensock.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <fmt/core.h>

int main() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  int opened = 0;
  opensock::connect_only_session session(
      io.get_executor(), [&opened](opensock::open_context<asio::ip::tcp>& context) {
        ++opened;
        return opensock::default_socket_factory{}(context);
      });
  std::error_code result = opensock::error::failed_init;
  session.async_connect({"127.0.0.1", acceptor.local_endpoint().port()},
                        [&](std::error_code ec) { result = ec; });
  io.run();
  fmt::print("consumer: {} after {} socket(s)\n", result, opened);
  return !result && opened == 1 ? 0 : 1;
}
