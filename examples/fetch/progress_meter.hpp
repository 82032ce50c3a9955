// curl's progress meter, simplified: the same two header lines and one status line
// rewritten in place with "\r" at most twice a second, then once more at the end. It is
// shown only where it helps and cannot mix with the body: not with -s or -v, only when
// stderr is a terminal and the body does not go to that terminal.
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace fetch {

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;

  explicit progress_meter(bool enabled) : enabled_(enabled) {}

  /// A new transfer: `upload` bytes to send; `shown` is false when its body goes to the
  /// terminal the meter would be drawn on.
  void start(std::uint64_t upload, bool shown) {
    active_ = enabled_ && shown;
    if (!active_) return;
    start_ = last_ = clock::now();
    received_ = 0;
    upload_ = upload;
    total_.reset();
    fmt::print(stderr,
               "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n");
    draw(start_);
  }

  /// The size the response announced, when it did.
  void expect(std::optional<std::uint64_t> total) { total_ = total; }

  /// `n` more body bytes arrived.
  void received(std::uint64_t n) {
    if (!active_) return;
    received_ += n;
    const auto now = clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    draw(now);
  }

  /// The transfer ended: the last state of the line, and a newline after it.
  void finish() {
    if (!active_) return;
    active_ = false;
    draw(clock::now());
    std::fputc('\n', stderr);
  }

 private:
  // curl's five-character sizes: bytes, then k, M, G with one decimal where it fits.
  static std::string size5(std::uint64_t n) {
    if (n < 100000) return fmt::format("{:5}", n);
    if (n < 10000 * 1024ull) return fmt::format("{:4}k", n / 1024);
    if (n < 100 * 1024 * 1024ull)
      return fmt::format("{:2}.{}M", n >> 20, ((n % (1 << 20)) * 10) >> 20);
    if (n < 10000 * 1024 * 1024ull) return fmt::format("{:4}M", n >> 20);
    return fmt::format("{:4}G", n >> 30);
  }

  static std::string hms(std::optional<double> seconds) {
    if (!seconds) return "--:--:--";
    const auto s = static_cast<std::uint64_t>(*seconds);
    return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  }

  void draw(clock::time_point now) {
    const double spent = std::chrono::duration<double>(now - start_).count();
    const auto speed =
        spent > 0 ? static_cast<std::uint64_t>(static_cast<double>(received_) / spent) : 0;
    const std::uint64_t total = total_.value_or(received_);
    const int percent = total == 0 ? (total_ ? 100 : 0) : static_cast<int>(received_ * 100 / total);
    std::optional<double> total_time, left;
    if (total_ && speed > 0) {
      total_time = static_cast<double>(*total_) / static_cast<double>(speed);
      left = *total_time > spent ? *total_time - spent : 0.0;
    }
    fmt::print(stderr, "\r{:3} {}  {:3} {}  {:3} {}  {}  {} {} {} {} {}", total_ ? percent : 0,
               size5(total_.value_or(0)), percent, size5(received_), upload_ ? 100 : 0,
               size5(upload_), size5(speed), size5(0), hms(total_time), hms(spent), hms(left),
               size5(speed));
    std::fflush(stderr);
  }

  bool enabled_;
  bool active_ = false;
  clock::time_point start_{}, last_{};
  std::uint64_t received_ = 0;
  std::uint64_t upload_ = 0;
  std::optional<std::uint64_t> total_;
};

}  // namespace fetch
