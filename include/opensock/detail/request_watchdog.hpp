// One timer that watches the time limits of many requests. A request registers a watch
// (a deadline, a low-speed limit) that lives in its own frame, and removes it when it
// ends. The timer is moved only when a new deadline comes before the one it is set
// for, so kept-alive requests with the same timeout, each with a later deadline than
// the last, cost no timer system call: the timer fires once per timeout period, expires
// what is due and sets itself for what is left. Its owner calls disarm() when it has
// nothing left to watch, so that the timer does not keep the executor busy. Safe to use
// from several threads: its state is behind a mutex, and watches expire under it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>

namespace opensock::detail {

class request_watchdog {
 public:
  using clock = std::chrono::steady_clock;

  /// What one request asks to be watched for. Owned by the request; registered with
  /// add() and removed with remove() before it goes away.
  struct watch {
    clock::time_point deadline = clock::time_point::max();
    /// Fewer than this many bytes a second for `low_speed_time` ends the request (0: off).
    std::uint64_t low_speed_limit = 0;
    clock::duration low_speed_time{};
    /// Bytes received so far, read at each low-speed check.
    /// Read from the thread the watchdog's timer runs on: atomic.
    const std::atomic<std::uint64_t>* progress = nullptr;
    /// Called once, when a limit is passed.
    void (*on_expire)(void* context) = nullptr;
    void* context = nullptr;
    bool expired = false;

   private:
    friend class request_watchdog;
    watch* prev_ = nullptr;
    watch* next_ = nullptr;
    clock::time_point checked_at_{};
    std::uint64_t progress_at_check_ = 0;
    clock::time_point slow_since_{};
    bool slow_ = false;
  };

  explicit request_watchdog(asio::any_io_executor executor)
      : shared_(std::make_shared<shared>(std::move(executor))) {}
  request_watchdog(const request_watchdog&) = delete;
  request_watchdog& operator=(const request_watchdog&) = delete;
  ~request_watchdog() {
    std::lock_guard lock(shared_->mutex);
    shared_->closed = true;
    shared_->timer.cancel();
  }

  void add(watch& w) {
    std::lock_guard lock(shared_->mutex);
    w.prev_ = nullptr;
    w.next_ = shared_->first;
    if (w.next_) w.next_->prev_ = &w;
    shared_->first = &w;
    w.expired = false;
    if (w.low_speed_limit > 0) {
      w.checked_at_ = clock::now();
      w.progress_at_check_ = w.progress ? w.progress->load(std::memory_order_relaxed) : 0;
      w.slow_ = false;
    }
    arm(next_wake(w));
  }

  void remove(watch& w) noexcept {
    std::lock_guard lock(shared_->mutex);
    if (w.prev_) {
      w.prev_->next_ = w.next_;
    } else if (shared_->first == &w) {
      shared_->first = w.next_;
    }
    if (w.next_) w.next_->prev_ = w.prev_;
    w.prev_ = w.next_ = nullptr;
  }

 private:
  // Low-speed limits are checked once a second, as curl does.
  static constexpr clock::duration low_speed_period = std::chrono::seconds(1);

  // The timer and the list outlive the watchdog while a wait is pending on the timer.
  struct shared {
    explicit shared(asio::any_io_executor executor) : timer(std::move(executor)) {}
    mutable std::mutex mutex;
    asio::steady_timer timer;
    clock::time_point armed_for = clock::time_point::max();
    watch* first = nullptr;
    bool closed = false;
  };

  static clock::time_point next_wake(const watch& w) {
    if (w.low_speed_limit == 0) return w.deadline;
    return std::min(w.deadline, w.checked_at_ + low_speed_period);
  }

 public:
  /// Cancels the timer when no watch is left, so that it no longer keeps the executor
  /// busy: one timer system call, when the watchdog falls idle rather than per watch.
  void disarm() {
    std::lock_guard lock(shared_->mutex);
    if (shared_->first || shared_->armed_for == clock::time_point::max()) return;
    shared_->armed_for = clock::time_point::max();
    shared_->timer.cancel();
  }

 private:
  void arm(clock::time_point when) { arm(shared_, when); }

  static void arm(const std::shared_ptr<shared>& s, clock::time_point when) {
    if (when >= s->armed_for) return;
    s->armed_for = when;
    s->timer.expires_at(when);  // cancels a wait set for later; its handler sees that
    s->timer.async_wait([s, when](std::error_code) { fire(s, when); });
  }

  static void fire(const std::shared_ptr<shared>& s, clock::time_point armed_for) {
    std::lock_guard lock(s->mutex);
    // A handler for a setting that was replaced, or a watchdog gone, has nothing to do.
    if (s->closed || armed_for != s->armed_for) return;
    s->armed_for = clock::time_point::max();
    const auto now = clock::now();
    auto next = clock::time_point::max();
    for (watch* w = s->first; w; w = w->next_) {
      if (w->expired) continue;
      if (now >= w->deadline || too_slow(*w, now)) {
        w->expired = true;
        w->on_expire(w->context);
        continue;
      }
      next = std::min(next, next_wake(*w));
    }
    if (next != clock::time_point::max()) arm(s, next);
  }

  // Whether the transfer has stayed under its limit for the time allowed.
  static bool too_slow(watch& w, clock::time_point now) {
    if (w.low_speed_limit == 0 || now - w.checked_at_ < low_speed_period) return false;
    const std::uint64_t progress = w.progress ? w.progress->load(std::memory_order_relaxed) : 0;
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - w.checked_at_).count();
    const bool below =
        (progress - w.progress_at_check_) * 1000 <
        w.low_speed_limit * static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed, 1));
    if (!below) {
      w.slow_ = false;
    } else if (!w.slow_) {
      w.slow_ = true;
      w.slow_since_ = w.checked_at_;
    }
    w.checked_at_ = now;
    w.progress_at_check_ = progress;
    return w.slow_ && now - w.slow_since_ >= w.low_speed_time;
  }

  std::shared_ptr<shared> shared_;
};

}  // namespace opensock::detail
