// --retry and its family: which ends of a transfer are tried again and how long to wait
// first, as curl decides (its tool, not libcurl: a retry is a new transfer).
#pragma once

#include "command_line.hpp"
#include "time_condition.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fetch {

/// How a transfer ended, as far as --retry looks at it.
struct attempt_end {
  bool started = false;    // a request was made: it failed no earlier than that
  int code = 0;            // the exit code
  std::error_code error;   // what failed, when something did
  int http_code = 0;       // the last response's status
  std::int64_t retry_after = 0;  // the last response's Retry-After, in seconds
};

/// The retries of one URL: whether to try again, and the wait before.
class retry_budget {
 public:
  using clock = std::chrono::steady_clock;

  explicit retry_budget(const options& o)
      : o_(o),
        left_(o.retry),
        sleep_(o.retry_delay ? seconds(*o.retry_delay) : std::chrono::milliseconds(1000)),
        started_(clock::now()) {}

  /// Why `end` is tried again, in curl's words after "Problem", or nullptr: a timeout
  /// or a name not resolved always, a refused connection with --retry-connrefused, an
  /// HTTP 408, 429, 500, 502, 503 or 504 (under -f too), anything with
  /// --retry-all-errors. Nothing once the retries or --retry-max-time are spent, nor
  /// for what failed before a request was made (a file that cannot be read), as curl.
  const char* reason(const attempt_end& end) const {
    if (left_ <= 0 || !end.started) return nullptr;
    if (o_.retry_max_time && *o_.retry_max_time > 0 &&
        clock::now() - started_ >= seconds(*o_.retry_max_time))
      return nullptr;
    const char* why = nullptr;
    if (end.code == 28 || end.code == 6 || end.code == 5) {
      why = ": timeout";
    } else if (o_.retry_connrefused && end.code == 7) {
      if (end.error == std::errc::connection_refused) why = ": connection refused";
    } else if (end.code == 0 || ((o_.fail || o_.fail_with_body) && end.code == 22)) {
      switch (end.http_code) {
        case 408: case 429: case 500: case 502: case 503: case 504:
          why = ": HTTP error";
          break;
        default:
          break;
      }
    }
    if (!why && end.code != 0 && o_.retry_all_errors) why = "(retrying all errors)";
    return why;
  }

  /// The wait before the next attempt: the current sleep, or a longer Retry-After of an
  /// HTTP error; nullopt when that Retry-After would run past --retry-max-time (no
  /// retry then). `why` is what reason() gave.
  std::optional<std::chrono::milliseconds> wait(const attempt_end& end, const char* why) const {
    if (std::string_view(why) != ": HTTP error" || end.retry_after <= 0) return sleep_;
    constexpr std::int64_t longest = std::chrono::milliseconds::max().count() / 1000;
    const std::int64_t after = std::min(end.retry_after, longest);
    if (o_.retry_max_time && *o_.retry_max_time > 0) {
      const auto spent =
          std::chrono::duration_cast<std::chrono::seconds>(clock::now() - started_).count();
      if (static_cast<double>(spent + after) > *o_.retry_max_time) return std::nullopt;
    }
    return std::max(sleep_, std::chrono::milliseconds(after * 1000));
  }

  /// One retry spent: without --retry-delay the next sleep doubles, to ten minutes.
  void spend() {
    --left_;
    if (!o_.retry_delay) sleep_ = std::min(sleep_ * 2, std::chrono::milliseconds(600'000));
  }

  long left() const noexcept { return left_; }

 private:
  static std::chrono::milliseconds seconds(double s) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(s));
  }

  const options& o_;
  long left_;
  std::chrono::milliseconds sleep_;
  clock::time_point started_;
};

/// A Retry-After value in seconds from now: delay-seconds, or a date as curl_getdate()
/// reads one; 0 for a date past or a value not understood, as curl takes it.
inline std::int64_t retry_after_seconds(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::int64_t seconds = 0;
  std::size_t digits = 0;
  for (; digits < value.size() && value[digits] >= '0' && value[digits] <= '9'; ++digits) {
    if (seconds > (INT64_MAX - 9) / 10) return 0;
    seconds = seconds * 10 + (value[digits] - '0');
  }
  if (digits > 0) return seconds;
  const auto at = parse_date(value);
  const std::int64_t now = std::time(nullptr);
  return at && *at > now ? *at - now : 0;
}

}  // namespace fetch
