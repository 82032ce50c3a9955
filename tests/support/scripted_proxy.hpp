// A proxy played by a test: it accepts one connection on 127.0.0.1 and runs the test's
// script, a coroutine, on it; for what real proxies will not do on demand (every reply
// code, an answer cut short, a malformed one).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>

namespace opensock::test {

class scripted_proxy {
 public:
  using script = std::function<asio::awaitable<void>(asio::ip::tcp::socket&)>;

  scripted_proxy(asio::io_context& io, script s)
      : acceptor_(io, {asio::ip::address_v4::loopback(), 0}), script_(std::move(s)) {
    asio::co_spawn(io, serve(), asio::detached);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::awaitable<void> serve() {
    socket_ = co_await acceptor_.async_accept(asio::use_awaitable);
    co_await script_(*socket_);
  }

  asio::ip::tcp::acceptor acceptor_;
  script script_;
  std::optional<asio::ip::tcp::socket> socket_;
};

}  // namespace opensock::test
