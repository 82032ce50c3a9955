// Two ways to give an operation a deadline. with_deadline() runs any awaitable in a
// coroutine of its own, which it cancels (terminal) when the deadline passes first, and
// waits for, so nothing it opened outlives the call. deadline_stop cancels an operation
// that takes a cancellation state of its own to follow, in the caller's coroutine, with
// nothing spawned, by a timer on the caller's executor. The caller's own cancellation
// does not reach that operation (Asio clears a coroutine's cancellation slot whenever one
// of its waits completes, so it cannot be passed on), so deadline_stop is for callers
// that nothing can cancel.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace opensock::detail {

/// What an operation run by with_deadline() returned, and whether its deadline passed
/// first (it was then cancelled, and returned what it had when it stopped).
template <class T>
struct deadline_outcome {
  bool expired = false;
  T value;
};

/// Runs `operation` until it returns, cancelling it (terminal) when `deadline` passes
/// first. A terminal cancellation of the caller is passed on to `operation`, whose own
/// result then tells.
template <class T>
asio::awaitable<deadline_outcome<T>> with_deadline(asio::awaitable<T> operation,
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
  co_return deadline_outcome<T>{timed_out, std::move(*value)};
}

/// A cancellation state, stop(), for operations that bind every wait of theirs to its
/// slot (the connector's, a TLS handshake): cancelled (terminal) when `deadline` passes.
/// Lives in a coroutine frame, where it does not move.
class deadline_stop {
 public:
  using clock = std::chrono::steady_clock;

  /// Cancelled at `deadline` by a timer on `executor`, which is cancelled when the stop
  /// goes, so that it keeps the executor busy no longer than the operation.
  deadline_stop(const asio::any_io_executor& executor, clock::time_point deadline)
      : timer_(std::make_shared<timer_state>(executor, deadline, this)),
        stop_(signal_.slot(), asio::enable_terminal_cancellation()) {
    // The handler may run after the stop has gone (the timer had fired, its handler
    // was queued): it reaches the stop only through the state it shares.
    timer_->timer.async_wait([state = timer_](std::error_code ec) {
      if (!ec && state->owner) expire(state->owner);
    });
  }

  deadline_stop(const deadline_stop&) = delete;
  deadline_stop& operator=(const deadline_stop&) = delete;
  ~deadline_stop() {
    timer_->owner = nullptr;
    timer_->timer.cancel();
  }

  const asio::cancellation_state& stop() const noexcept { return stop_; }
  /// Whether the deadline passed; then the operation's outcome is a timeout, whatever it
  /// says (a cancellation between two of its waits is seen at the next).
  bool expired() const noexcept { return expired_; }

 private:
  struct timer_state {
    timer_state(const asio::any_io_executor& executor, clock::time_point deadline,
                deadline_stop* stop)
        : timer(executor, deadline), owner(stop) {}
    asio::steady_timer timer;
    deadline_stop* owner;
  };

  static void expire(void* self) {
    auto* stop = static_cast<deadline_stop*>(self);
    stop->expired_ = true;
    stop->signal_.emit(asio::cancellation_type::terminal);
  }

  std::shared_ptr<timer_state> timer_;
  asio::cancellation_signal signal_;
  asio::cancellation_state stop_;
  bool expired_ = false;
};

}  // namespace opensock::detail
