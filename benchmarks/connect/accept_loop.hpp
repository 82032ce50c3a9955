// The server side of the connect benchmarks: a loopback listener in the client's own
// io_context that accepts and drops every connection, identical for every client.
#pragma once

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdlib>
#include <fmt/core.h>

namespace bench {

inline void accept_forever(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](std::error_code ec, asio::ip::tcp::socket) {
    if (!ec) accept_forever(acceptor);
  });
}

inline long parse_count(int argc, char** argv, const char* name) {
  const long n = argc == 2 ? std::atol(argv[1]) : 0;
  if (n <= 0) {
    fmt::print(stderr, "usage: {} CONNECTIONS\n", name);
    std::exit(2);
  }
  return n;
}

inline void report(const char* client, long n, std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("client={} connects={} seconds={:.3f} rate={:.0f}\n", client, n, seconds, n / seconds);
}

}  // namespace bench
