// Runs an awaitable with a deadline: when the deadline passes first, the awaitable is
// cancelled (terminal) and waited for, so nothing it opened outlives the call.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>

namespace opensock::detail {

/// What `operation` returned, or nullopt when `deadline` came first. A terminal
/// cancellation of the caller is passed on to `operation`, whose own result then tells.
template <class T>
asio::awaitable<std::optional<T>> with_deadline(asio::awaitable<T> operation,
                                                std::chrono::steady_clock::time_point deadline) {
  // The drain below must not throw: the operation still running refers to this frame.
  const bool threw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wake(executor);
  asio::cancellation_signal cancel;
  std::optional<T> value;
  std::exception_ptr thrown;
  bool done = false;
  asio::co_spawn(executor, std::move(operation),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, T v) {
                   thrown = e;
                   value.emplace(std::move(v));
                   done = true;
                   wake.cancel();
                 }));
  wake.expires_at(deadline);
  std::error_code ec;
  co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  bool timed_out = false;
  if (!done) {
    timed_out = !ec;  // the timer expired; otherwise the caller was cancelled
    cancel.emit(asio::cancellation_type::terminal);
    if (!timed_out) co_await asio::this_coro::reset_cancellation_state();
    while (!done) {
      wake.expires_at(std::chrono::steady_clock::time_point::max());
      co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_await asio::this_coro::throw_if_cancelled(threw_if_cancelled);
  if (thrown) std::rethrow_exception(thrown);
  if (timed_out) co_return std::nullopt;
  co_return value;
}

}  // namespace opensock::detail
