// Connects from a chosen source address and local port range (curl's --interface and
// --local-port), and shows the local end the server will see.
//
//   bind_source HOST PORT SOURCE-ADDRESS [FIRST-PORT LAST-PORT]
#include <opensock/connect_only.hpp>
#include <opensock/factory/bind.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <string>

asio::awaitable<int> connect_from(std::string host, std::uint16_t port,
                                  opensock::bind_local_layer binding) {
  opensock::connect_only_session session(co_await asio::this_coro::executor,
                                         opensock::default_socket_factory{} | binding);
  std::error_code ec;
  co_await session.async_connect({host, port}, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "connect failed: {}\n", ec);
    co_return opensock::curl_code(ec);
  }
  fmt::print("connected from {} to {}\n", session.lowest_layer().local_endpoint(),
             session.remote_endpoint());
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    fmt::print(stderr, "usage: bind_source HOST PORT SOURCE-ADDRESS [FIRST-PORT LAST-PORT]\n");
    return 2;
  }
  std::error_code ec;
  const auto source = asio::ip::make_address(argv[3], ec);
  if (ec) {
    fmt::print(stderr, "not an IP address: {}\n", argv[3]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  auto binding = argc == 6 ? opensock::bind_local(source, {static_cast<std::uint16_t>(std::atoi(argv[4])),
                                                           static_cast<std::uint16_t>(std::atoi(argv[5]))})
                           : opensock::bind_local(source);
  asio::io_context io;
  auto status = asio::co_spawn(io, connect_from(argv[1], port, binding), asio::use_future);
  io.run();
  return status.get();
}
