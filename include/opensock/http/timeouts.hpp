// The time limits of one request, each ending it with operation_timedout (28) as curl's
// options of the same names do. A session watches total and low-speed limits with one
// timer that it does not move for each request (that would cost a system call per
// request), and cancels it once no request is in flight, so that io_context::run()
// returns when the work is done.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace opensock::http {

struct request_timeouts {
  /// The whole request, connects and redirects included (curl's --max-time).
  std::optional<std::chrono::milliseconds> total;
  /// Each new connection, name resolution included (curl's --connect-timeout). Unset,
  /// the session's connect options decide (300 s by default, as in curl).
  std::optional<std::chrono::milliseconds> connect;
  /// Fails the request when fewer than `low_speed_limit` bytes a second arrive for
  /// `low_speed_time` (curl's --speed-limit and --speed-time). Off while the limit is 0.
  std::uint64_t low_speed_limit = 0;
  std::chrono::milliseconds low_speed_time = std::chrono::seconds(30);
  /// How long a request with "Expect: 100-continue" waits for the 100 before it sends
  /// its body anyway (curl's --expect100-timeout); 0 sends the body without waiting.
  std::chrono::milliseconds expect_continue = std::chrono::seconds(1);
};

}  // namespace opensock::http
