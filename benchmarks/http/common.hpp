// What every HTTP benchmark client shares: the command line, the shared count of
// requests still to send, the check of every response, and the one line of output.
//   CLIENT HOST PORT PATH N C keepalive|newconn [EXPECT_BODY_BYTES]
// N requests in all, C at a time; keepalive reuses each connection, newconn opens one
// per request. Every response must be a 200 whose body has EXPECT_BODY_BYTES bytes (or,
// without it, as many as the first response's). Output, on stdout:
//   client=NAME requests=N seconds=S rps=R
// and the exit status is non-zero if any request failed or any check did not hold.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

struct options {
  std::string host;
  std::uint16_t port = 0;
  std::string path;
  long requests = 0;
  int concurrency = 1;
  bool keepalive = true;
  long expect_body = -1;
};

inline options parse_options(int argc, char** argv, const char* client) {
  options o;
  bool ok = argc == 7 || argc == 8;
  if (ok) {
    o.host = argv[1];
    const long port = std::atol(argv[2]);
    o.path = argv[3];
    o.requests = std::atol(argv[4]);
    o.concurrency = std::atoi(argv[5]);
    o.keepalive = std::strcmp(argv[6], "keepalive") == 0;
    if (argc == 8) o.expect_body = std::atol(argv[7]);
    ok = port > 0 && port < 65536 && o.requests > 0 && o.concurrency > 0 && !o.path.empty() &&
         o.path[0] == '/' && (o.keepalive || std::strcmp(argv[6], "newconn") == 0) &&
         (argc == 7 || o.expect_body >= 0);
    o.port = static_cast<std::uint16_t>(port);
  }
  if (!ok) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH N C keepalive|newconn [EXPECT_BODY_BYTES]\n",
                 client);
    std::exit(2);
  }
  return o;
}

// Hands out the N requests to the C workers, and checks what comes back. Safe to share
// between threads.
class workload {
 public:
  explicit workload(const options& o) : left_(o.requests), expect_(o.expect_body) {}

  /// Whether the caller may send one more request.
  bool take() noexcept { return left_.fetch_sub(1, std::memory_order_relaxed) > 0; }

  /// Checks one response; false (and counted) if it is not a 200 of the expected size.
  bool check(int status, std::size_t body_bytes) noexcept {
    long expected = expect_.load(std::memory_order_relaxed);
    if (expected < 0) {
      expect_.compare_exchange_strong(expected, static_cast<long>(body_bytes));
      expected = expect_.load(std::memory_order_relaxed);
    }
    if (status == 200 && static_cast<long>(body_bytes) == expected) return true;
    if (failures_.fetch_add(1) < 5)
      std::fprintf(stderr, "bad response: status %d, %zu body bytes (expected 200, %ld)\n",
                   status, body_bytes, expected);
    return false;
  }

  /// A request that failed outright.
  void fail(const char* what) noexcept {
    if (failures_.fetch_add(1) < 5) std::fprintf(stderr, "request failed: %s\n", what);
  }

  long failures() const noexcept { return failures_.load(); }

 private:
  std::atomic<long> left_;
  std::atomic<long> expect_;
  std::atomic<long> failures_{0};
};

class stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

/// Prints the one line and gives main() its exit status.
inline int finish(const char* client, const options& o, const workload& work,
                  const stopwatch& clock) {
  const double seconds = clock.seconds();
  std::printf("client=%s requests=%ld seconds=%.3f rps=%.0f\n", client, o.requests, seconds,
              static_cast<double>(o.requests) / seconds);
  if (work.failures() != 0) {
    std::fprintf(stderr, "%s: %ld of %ld requests failed\n", client, work.failures(), o.requests);
    return 1;
  }
  return 0;
}

}  // namespace bench
