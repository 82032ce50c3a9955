// opensock: a connect-only session with the default factory, N connects one after the
// other to a numeric address (no resolver), each closing the one before.
#include "accept_loop.hpp"

#include <opensock/connect_only.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

int main(int argc, char** argv) {
  const long n = bench::parse_count(argc, argv, "bench_connect_opensock");
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  bench::accept_forever(acceptor);
  const opensock::origin target{"127.0.0.1", acceptor.local_endpoint().port()};
  int failures = 0;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    opensock::connect_only_session session(io.get_executor());
    for (long i = 0; i < n; ++i) {
      std::error_code ec;
      co_await session.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) ++failures;
    }
    session.close();
    acceptor.close();
  }, asio::detached);
  io.run();
  bench::report("opensock", n, started);
  return failures == 0 ? 0 : 1;
}
