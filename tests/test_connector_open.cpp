#include <opensock/connector/open.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/system_executor.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <stdexcept>

using asio::ip::tcp;
using opensock::open_context;
using opensock::test::run;
using kind = opensock::open_result<tcp::socket>::kind;

namespace {

open_context<tcp> context_for(asio::io_context& io) {
  open_context<tcp> context;
  context.endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), 1);
  context.executor = io.get_executor();
  return context;
}

template <class Factory>
opensock::open_result<tcp::socket> open_with(asio::io_context& io, Factory factory) {
  auto context = context_for(io);
  return run(io, opensock::open_socket(factory, context));
}

}  // namespace

TEST_CASE("a synchronous factory's answer is passed through") {
  asio::io_context io;
  CHECK(open_with(io, opensock::default_socket_factory{}).what() == kind::opened);
  CHECK(open_with(io, [](open_context<tcp>&) -> opensock::open_result<tcp::socket> {
          return opensock::refuse();
        }).what() == kind::refused);
  CHECK(open_with(io, [](open_context<tcp>& c) {
          return opensock::connected(tcp::socket(c.executor));
        }).what() == kind::connected);
}

TEST_CASE("a coroutine factory is awaited, and may wait itself") {
  asio::io_context io;
  const auto started = std::chrono::steady_clock::now();
  auto answer = open_with(io, [](open_context<tcp>& c) -> asio::awaitable<tcp::socket> {
    asio::steady_timer timer(c.executor, std::chrono::milliseconds(30));
    co_await timer.async_wait(asio::use_awaitable);
    co_return tcp::socket(c.executor, c.endpoint.protocol());
  });
  CHECK(answer.what() == kind::opened);
  CHECK(answer.stream().is_open());
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(30));
}

TEST_CASE("a factory may rewrite the endpoint in the context") {
  asio::io_context io;
  auto context = context_for(io);
  auto rewrite = [](open_context<tcp>& c) {
    c.endpoint.port(4242);
    return tcp::socket(c.executor, c.endpoint.protocol());
  };
  run(io, opensock::open_socket(rewrite, context));
  CHECK(context.endpoint.port() == 4242);
}

TEST_CASE("a factory that throws aborts with the exception's error code") {
  asio::io_context io;
  auto system = open_with(io, [](open_context<tcp>&) -> tcp::socket {
    throw std::system_error(std::make_error_code(std::errc::permission_denied));
  });
  CHECK(system.what() == kind::aborted);
  CHECK(system.error() == std::errc::permission_denied);

  auto other = open_with(io, [](open_context<tcp>&) -> tcp::socket {
    throw std::runtime_error("factory bug");
  });
  CHECK(other.what() == kind::aborted);
  CHECK(other.error() == opensock::error::aborted_by_callback);

  auto memory = open_with(io, [](open_context<tcp>&) -> asio::awaitable<tcp::socket> {
    throw std::bad_alloc();
    co_return tcp::socket(asio::system_executor{});
  });
  CHECK(memory.error() == opensock::error::out_of_memory);
}
