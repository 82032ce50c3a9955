// Two ways to give an operation a deadline. with_deadline() runs any awaitable in a
// coroutine of its own, which it cancels (terminal) when the deadline passes first, and
// waits for, so nothing it opened outlives the call. watched_stop cancels an operation
// that takes a cancellation state of its own to follow, in the caller's coroutine, with
// nothing spawned and no timer of its own: a request_watchdog, whose one timer watches
// many deadlines, tells it the deadline has passed. The caller's own cancellation does
// not reach that operation (Asio clears a coroutine's cancellation slot whenever one of
// its waits completes, so it cannot be passed on), so watched_stop is for callers that
// nothing can cancel.
#pragma once

#include <opensock/detail/request_watchdog.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
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
// g++ 12 at -O2 inlines Asio's frame allocation into this coroutine's ramp and then
// takes Asio's own operator delete, which returns the frame to the same allocator, for a
// mismatch: a false -Wmismatched-new-delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
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
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// A cancellation state, stop(), for operations that bind every wait of theirs to its
/// slot (the connector's, a TLS handshake): cancelled (terminal) once `watchdog` finds
/// `deadline` passed. The watchdog calls from whichever thread runs its timer, so the
/// cancellation is posted to `executor`, the operation's. It lives in the operation's
/// coroutine frame, where it does not move, and the coroutine ends it: end() stops the
/// watch, and while cancel_pending() the coroutine lets the executor run the
/// cancellation posted, which refers to the stop (co_await asio::post(executor)).
/// `watchdog` and `executor` must outlive it.
class watched_stop {
 public:
  using clock = std::chrono::steady_clock;

  watched_stop(request_watchdog& watchdog, const asio::any_io_executor& executor,
               clock::time_point deadline)
      : watchdog_(watchdog),
        executor_(executor),
        stop_(signal_.slot(), asio::enable_terminal_cancellation()) {
    watch_.deadline = deadline;
    watch_.on_expire = &watched_stop::expire;
    watch_.context = this;
    watchdog_.add(watch_);
  }

  watched_stop(const watched_stop&) = delete;
  watched_stop& operator=(const watched_stop&) = delete;
  ~watched_stop() {
    if (watching_) watchdog_.remove(watch_);
  }

  const asio::cancellation_state& stop() const noexcept { return stop_; }

  /// Stops watching: true when the deadline passed first, and then the operation's
  /// outcome is a timeout, whatever it says (a cancellation between two of its waits is
  /// seen at the next).
  bool end() noexcept {
    watchdog_.remove(watch_);
    watching_ = false;
    return watch_.expired;
  }

  /// Whether the cancellation posted at the deadline has yet to run.
  bool cancel_pending() const noexcept { return pending_.load(std::memory_order_acquire); }

 private:
  // Under the watchdog's lock, on the thread its timer runs on.
  static void expire(void* self) {
    auto* stop = static_cast<watched_stop*>(self);
    stop->pending_.store(true, std::memory_order_release);
    asio::post(stop->executor_, [stop] {
      stop->signal_.emit(asio::cancellation_type::terminal);
      stop->pending_.store(false, std::memory_order_release);
    });
  }

  request_watchdog& watchdog_;
  const asio::any_io_executor& executor_;
  request_watchdog::watch watch_;
  asio::cancellation_signal signal_;
  asio::cancellation_state stop_;
  std::atomic<bool> pending_{false};
  bool watching_ = true;
};

}  // namespace opensock::detail
