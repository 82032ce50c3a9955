// An SSRF guard as a lambda factory: addresses on loopback, private, link-local and
// unique-local networks are refused, whatever name they were reached through.
//
//   ssrf_guard HOST PORT   (exit code: 0 connected, 7 refused or unreachable, as curl)
#include <opensock/connect_only.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <fmt/core.h>

#include <charconv>
#include <string>

using asio::ip::tcp;

bool is_internal(const asio::ip::address& address) {
  if (address.is_v6()) {
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) return is_internal(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
    const auto first = v6.to_bytes()[0];
    return v6.is_loopback() || v6.is_link_local() || v6.is_unspecified() || (first & 0xfe) == 0xfc;
  }
  const auto bytes = address.to_v4().to_bytes();
  return bytes[0] == 127 || bytes[0] == 10 || bytes[0] == 0 ||
         (bytes[0] == 172 && (bytes[1] & 0xf0) == 16) || (bytes[0] == 192 && bytes[1] == 168) ||
         (bytes[0] == 169 && bytes[1] == 254);
}

asio::awaitable<int> guarded_connect(std::string host, std::uint16_t port) {
  auto guard = [](opensock::open_context<tcp>& context) -> opensock::open_result<tcp::socket> {
    if (is_internal(context.endpoint.address())) {
      fmt::print("refused {} (reached as {})\n", context.endpoint, context.host);
      return opensock::refuse();
    }
    return opensock::default_socket_factory{}(context);
  };
  opensock::connect_only_session session(co_await asio::this_coro::executor, guard);
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
