// Hand-written Asio: open, connect and close a socket N times, one after the other.
#include "accept_loop.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

int main(int argc, char** argv) {
  const long n = bench::parse_count(argc, argv, "bench_connect_floor");
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  bench::accept_forever(acceptor);
  const auto target = acceptor.local_endpoint();
  int failures = 0;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (long i = 0; i < n; ++i) {
      asio::ip::tcp::socket socket(io);
      socket.open(target.protocol());
      std::error_code ec;
      co_await socket.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) ++failures;
    }
    acceptor.close();
  }, asio::detached);
  io.run();
  bench::report("floor", n, started);
  return failures == 0 ? 0 : 1;
}
