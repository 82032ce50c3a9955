// A client that reaches the network only through a SOCKS5 proxy, while its SSRF guard
// refuses private origins. The guard still holds behind the proxy: opensock resolves
// the origin itself, checks each address, and asks the proxy for the address it let
// through, never for the name, so the proxy cannot be led to a private one (by DNS
// rebinding, or a name that points inside). The proxy itself is the application's
// choice, and its socket passes the guard. Each socket opened is traced.
//
//   proxy_guard PROXY URL [NETWORK]
//
// PROXY in curl's -x syntax (socks5h://127.0.0.1:1080); NETWORK, in CIDR, an internal
// one the application may reach all the same. Exit code: curl's (7 for a refused origin).
#include <opensock/factory/ssrf_guard.hpp>
#include <opensock/factory/trace.hpp>
#include <opensock/format.hpp>
#include <opensock/http/session.hpp>

#include <asio/io_context.hpp>
#include <fmt/core.h>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4)
    return fmt::print(stderr, "usage: proxy_guard PROXY URL [NETWORK]\n"), 2;
  std::error_code ec;
  auto proxy = opensock::proxy::parse(argv[1], ec);
  if (ec) return fmt::print(stderr, "proxy_guard: {}\n", ec), opensock::curl_code(ec);
  const auto url = opensock::http::url::parse(argv[2], ec);
  if (ec) return fmt::print(stderr, "proxy_guard: {}\n", ec), opensock::curl_code(ec);
  auto guard = opensock::ssrf_guard();
  if (argc == 4 && !opensock::cidr::parse(argv[3]))
    return fmt::print(stderr, "proxy_guard: not a network: {}\n", argv[3]), 2;
  if (argc == 4) guard.except({argv[3]});

  opensock::http::session_options options;
  options.proxies.push_back(std::move(*proxy));
  asio::io_context io;
  opensock::http::session session(
      io.get_executor(), opensock::default_socket_factory{} | guard | opensock::trace(), options);
  session.async_request({"GET", url}, [&](std::error_code error, opensock::http::response r) {
    ec = error;
    if (!error) fmt::print("{} {}, {} bytes\n", r.status, r.reason, r.body.size());
  });
  io.run();
  if (ec) fmt::print(stderr, "proxy_guard: {}\n", ec);
  return opensock::curl_code(ec);
}
