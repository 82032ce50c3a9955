// An SSRF guard: the session refuses every address a server-side fetch must not reach
// (loopback, private and link-local networks, cloud metadata, IPv4 hidden in IPv6),
// whatever name or spelling led there, and traces each attempt.
//
//   ssrf_guard HOST PORT   (exit code: 0 connected, 7 refused or unreachable, as curl)
#include <opensock/connect_only.hpp>
#include <opensock/factory/ssrf_guard.hpp>
#include <opensock/factory/trace.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <fmt/core.h>

#include <charconv>
#include <string>

asio::awaitable<int> guarded_connect(std::string host, std::uint16_t port) {
  auto factory = opensock::default_socket_factory{} | opensock::ssrf_guard() | opensock::trace();
  opensock::connect_only_session session(co_await asio::this_coro::executor, factory);
  std::error_code ec;
  co_await session.async_connect({host, port}, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print("not connected: {}\n", ec);
    co_return opensock::curl_code(ec);
  }
  fmt::print("connected to {}\n", session.remote_endpoint());
  co_return 0;
}

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  if (argc != 3 || std::from_chars(argv[2], argv[2] + std::char_traits<char>::length(argv[2]), port).ec != std::errc()) {
    fmt::print(stderr, "usage: ssrf_guard HOST PORT\n");
    return 2;
  }
  asio::io_context io;
  auto status = asio::co_spawn(io, guarded_connect(argv[1], port), asio::use_future);
  io.run();
  return status.get();
}
