// Opens a connection to a listener of its own through a lambda factory, then sends the
// separately compiled session to a port no one listens on.
#include <opensock/opensock.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <fmt/core.h>

#include <system_error>

int main() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  int opened = 0;
  opensock::connect_only_session connector(
      io.get_executor(), [&opened](opensock::open_context<asio::ip::tcp>& context) {
        ++opened;
        return opensock::default_socket_factory{}(context);
      });
  std::error_code connected = opensock::error::failed_init;
  connector.async_connect({"127.0.0.1", acceptor.local_endpoint().port()},
                          [&](std::error_code ec) { connected = ec; });
  io.run();
  io.restart();

  acceptor.close();
  opensock::http::session session(io.get_executor());
  std::error_code refused;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await session.get("http://127.0.0.1:1/");
        } catch (const std::system_error& e) {
          refused = e.code();
        }
      },
      asio::detached);
  io.run();
  fmt::print("opensock {}: {} after {} socket(s), then {}\n", OPENSOCK_VERSION_STRING,
             connected, opened, refused);
  return !connected && opened == 1 && refused == opensock::condition::couldnt_connect ? 0 : 1;
}
