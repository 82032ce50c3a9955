// Runs asynchronous work to completion on an io_context with a deadline, so a test that
// would hang fails instead, and gives back its result.
#pragma once

#include "catch.hpp"

#include <opensock/origin.hpp>
#include <opensock/route.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <system_error>
#include <utility>

namespace opensock::test {

inline constexpr std::chrono::seconds default_deadline{10};

// Runs `io` until `done` is set (the completion stops the context) or the deadline passes.
inline void run_until(asio::io_context& io, const bool& done,
                      std::chrono::steady_clock::duration deadline) {
  io.restart();
  io.run_for(deadline);
  REQUIRE(done);
}

/// Runs `coroutine` and returns what it returns, rethrowing what it throws.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> coroutine,
      std::chrono::steady_clock::duration deadline = default_deadline) {
  std::optional<T> result;
  std::exception_ptr thrown;
  bool done = false;
  auto body = [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(coroutine)); };
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    thrown = e;
    done = true;
    io.stop();
  });
  run_until(io, done, deadline);
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*result);
}

inline void run(asio::io_context& io, asio::awaitable<void> coroutine,
                std::chrono::steady_clock::duration deadline = default_deadline) {
  std::exception_ptr thrown;
  bool done = false;
  asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e) {
    thrown = e;
    done = true;
    io.stop();
  });
  run_until(io, done, deadline);
  if (thrown) std::rethrow_exception(thrown);
}

/// Runs session.async_connect(target) and returns the error_code it completes with.
template <class Session>
std::error_code run_connect(asio::io_context& io, Session& session, opensock::route target,
                            std::chrono::steady_clock::duration deadline = default_deadline) {
  std::error_code result;
  bool done = false;
  session.async_connect(std::move(target), [&](std::error_code ec) {
    result = ec;
    done = true;
    io.stop();
  });
  run_until(io, done, deadline);
  return result;
}

/// The same for a route straight to `target`.
template <class Session>
std::error_code run_connect(asio::io_context& io, Session& session, opensock::origin target,
                            std::chrono::steady_clock::duration deadline = default_deadline) {
  return run_connect(io, session, opensock::route(std::move(target)), deadline);
}

}  // namespace opensock::test

namespace opensock::test {

/// Lets `io` run for `duration`, e.g. for a listener to accept what was connected.
inline void settle(asio::io_context& io, std::chrono::steady_clock::duration duration =
                                             std::chrono::milliseconds(20)) {
  io.restart();
  io.run_for(duration);
}

}  // namespace opensock::test
