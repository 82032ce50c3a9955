// Fetches a URL through a lambda factory that logs each connection it opens.
//   http_get URL
#include <opensock/format.hpp>
#include <opensock/http/session.hpp>

#include <asio/io_context.hpp>
#include <fmt/core.h>

int main(int argc, char** argv) {
  if (argc != 2) return fmt::print(stderr, "usage: http_get URL\n"), 2;
  std::error_code ec;
  const auto url = opensock::http::url::parse(argv[1], ec);
  if (ec) return fmt::print(stderr, "http_get: {}\n", ec), opensock::curl_code(ec);
  asio::io_context io;
  opensock::http::session session(io.get_executor(), [](opensock::open_context<asio::ip::tcp>& c) {
    fmt::print(stderr, "* connecting to {} for {}:{} (attempt {})\n", c.endpoint, c.host, c.port, c.attempt);
    return opensock::default_socket_factory{}(c);
  });
  session.async_request({"GET", url}, [&](std::error_code error, opensock::http::response r) {
    ec = error;
    if (!error) fmt::print("{} {}\n{}", r.status, r.reason, r.body);
  });
  io.run();
  if (ec) fmt::print(stderr, "http_get: {}\n", ec);
  return opensock::curl_code(ec);
}
