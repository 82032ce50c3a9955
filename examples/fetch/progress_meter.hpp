// curl's progress meter, simplified: the same two header lines and one status line
// rewritten in place with "\r" at most twice a second, then once more at the end. It is
// shown only where it helps and cannot mix with the body: not with -s or -v, only when
// stderr is a terminal and the body does not go to that terminal. Or curl's progress bar
// (-#): a line of '#' as wide as the terminal (COLUMNS, else its width, else 79) less
// the percentage after it, redrawn at most ten times a second while the size is known,
// shown on any stderr as curl shows it.
#pragma once

#include <fmt/core.h>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace fetch {

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;

  enum class style { meter, bar };

  explicit progress_meter(bool enabled, style how = style::meter)
      : enabled_(enabled), style_(how) {}

  /// A new transfer: `upload` bytes to send; `shown` is false when its body goes to the
  /// terminal the meter would be drawn on (the bar is drawn all the same).
  void start(std::uint64_t upload, bool shown) {
    active_ = enabled_ && (shown || style_ == style::bar);
    if (!active_) return;
    start_ = last_ = clock::now();
    received_ = 0;
    upload_ = upload;
    total_.reset();
    drawn_ = false;
    if (style_ == style::bar) {
      width_ = std::clamp(terminal_columns(), 20, 400);
      return;
    }
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
    if (style_ == style::bar) {
      const bool whole = total_ && received_ >= *total_;
      if (!whole && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      draw_bar();
      return;
    }
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    draw(now);
  }

  /// The transfer ended: the last state of the line, and a newline after it (after the
  /// bar whether or not it was drawn, as curl ends it).
  void finish() {
    if (!active_) return;
    active_ = false;
    if (style_ != style::bar) draw(clock::now());
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

  // COLUMNS when it says more than 20, else the terminal's width, else 79, as curl
  // reads it.
  static int terminal_columns() {
    if (const char* text = std::getenv("COLUMNS")) {
      int n = 0;
      const auto [end, ec] = std::from_chars(text, text + std::strlen(text), n);
      if (ec == std::errc() && *end == '\0' && n > 20 && n <= 10000) return n;
    }
    winsize size{};
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
      if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 79;
  }

  // The bar and the percentage, when the size is known and something came.
  void draw_bar() {
    if (!total_ || *total_ == 0) return;
    const double fraction =
        static_cast<double>(std::min(received_, *total_)) / static_cast<double>(*total_);
    const int bar_width = width_ - 7;
    const auto hashes = static_cast<std::size_t>(bar_width * fraction);
    fmt::print(stderr, "\r{:<{}} {:5.1f}%", std::string(hashes, '#'), bar_width,
               fraction * 100.0);
    std::fflush(stderr);
    drawn_ = true;
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
  style style_;
  int width_ = 79;
  bool drawn_ = false;
  bool active_ = false;
  clock::time_point start_{}, last_{};
  std::uint64_t received_ = 0;
  std::uint64_t upload_ = 0;
  std::optional<std::uint64_t> total_;
};

}  // namespace fetch
