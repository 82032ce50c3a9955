// A churn soak: thousands of requests, 64 at a time, through one session against an
// nginx that closes connections often (after 7 requests, and after 1 s idle), in bursts
// with idle gaps longer than that between them. GETs and POSTs are mixed, and nginx
// answers each with the method and path it was asked. No request may fail or be
// answered for another, no POST may reach nginx twice (its access log counts them), and
// once the session and its io_context are gone, the process holds the file descriptors
// and the heap memory it held before.
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/nginx.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <malloc.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define OPENSOCK_CHURN_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPENSOCK_CHURN_UNDER_ASAN 1
#endif
#endif

namespace {

using opensock::http::request;
using opensock::http::response;
using session_type = opensock::http::session<>;

constexpr int workers = 64;
constexpr int bursts = 3;
constexpr int requests_per_burst = 12;  // by each worker
constexpr int requests = workers * bursts * requests_per_burst;
// Well over nginx's keepalive_timeout, counted from the end of a burst's last request:
// every pooled connection is closed by the server during a gap.
constexpr auto idle_gap = std::chrono::milliseconds(1500);

// What the workers saw; no allocation while they run, so that the heap is measured
// around them alone.
struct tally {
  int answered = 0;
  int failed = 0;
  int misanswered = 0;  // a body that names another method or path
  int posts = 0;
  std::error_code first_failure;
  std::array<int, bursts> finished{};  // workers done with each burst
};

bool is_post(int worker, int burst, int i) { return (worker + burst + i) % 3 == 0; }

std::string path_of(unsigned run, int worker, int burst, int i) {
  return "/churn/" + std::to_string(run) + "/" + (is_post(worker, burst, i) ? "post/" : "get/") +
         std::to_string(worker) + "/" + std::to_string(burst) + "/" + std::to_string(i);
}

asio::awaitable<void> worker(session_type& session, std::uint16_t port, unsigned run, int id,
                             int burst_count, tally& t) {
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);
  response out;  // reused, as a client in a loop reuses it
  request req;
  asio::steady_timer gap(co_await asio::this_coro::executor);
  for (int burst = 0; burst < burst_count; ++burst) {
    if (burst != 0) {
      // The gap starts once every worker is done with the last burst.
      ++t.finished[burst - 1];
      while (t.finished[burst - 1] != workers) {
        gap.expires_after(std::chrono::milliseconds(5));
        co_await gap.async_wait(asio::use_awaitable);
      }
      gap.expires_after(idle_gap);
      co_await gap.async_wait(asio::use_awaitable);
    }
    for (int i = 0; i < requests_per_burst; ++i) {
      const std::string path = path_of(run, id, burst, i);
      const bool post = is_post(id, burst, i);
      std::error_code ec;
      req.method = post ? "POST" : "GET";
      req.url = opensock::http::url::parse(origin + path, ec);
      req.body = post ? opensock::http::request_body("posted by worker " + std::to_string(id))
                      : opensock::http::request_body();
      if (!ec) ec = co_await session.request(req, out);
      if (ec) {
        ++t.failed;
        if (!t.first_failure) t.first_failure = ec;
        continue;
      }
      ++t.answered;
      if (post) ++t.posts;
      if (out.status != 200 || out.body != req.method + " " + path + "\n") ++t.misanswered;
    }
  }
}

// Runs the workers through one session made and destroyed here, with its io_context.
tally churn(std::uint16_t port, unsigned run, int burst_count) {
  tally t;
  asio::io_context io;
  {
    opensock::http::session_options options;
    options.max_idle_per_origin = 32;  // keep enough pooled for nginx's closes to matter
    session_type session(io.get_executor(), {}, options);
    for (int id = 0; id < workers; ++id)
      asio::co_spawn(io, worker(session, port, run, id, burst_count, t), asio::detached);
    io.run_for(std::chrono::seconds(120));
  }
  io.restart();
  io.run_for(std::chrono::milliseconds(100));  // what closing the connections left
  return t;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// Heap bytes in use: the main arena's and the mapped chunks (the test runs on one thread).
std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Whether heap_in_use() is exact here. mallinfo2() counts the chunks glibc keeps in its
// per-thread cache as in use, so the suite runs this test with the cache off; and
// AddressSanitizer keeps the heap itself (LeakSanitizer checks it at exit).
bool heap_measured() {
#ifdef OPENSOCK_CHURN_UNDER_ASAN
  return false;
#else
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables && std::string_view(tunables).find("glibc.malloc.tcache_count=0") !=
                         std::string_view::npos;
#endif
}

// The lines nginx logged for this run: "METHOD PATH CONNECTION".
std::vector<std::string> logged(unsigned run, std::size_t expected) {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  const std::string tag = "/churn/" + std::to_string(run) + "/";
  std::vector<std::string> lines;
  // nginx writes a request's line once it has sent the answer: the last may come late.
  for (int attempt = 0; attempt < 50; ++attempt) {
    lines.clear();
    std::ifstream file(std::string(dir) + "/logs/churn.log");
    for (std::string line; std::getline(file, line);)
      if (line.find(tag) != std::string::npos) lines.push_back(line);
    if (lines.size() >= expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return lines;
}

}  // namespace

TEST_CASE("thousands of GETs and POSTs through one session while nginx closes connections") {
  const auto port = opensock::test::peer_port("churn.port");
  if (!port) {
    WARN("the suite's nginx is not running (run through ctest)");
    return;
  }
  const unsigned run = std::random_device()();
  // A first, short run makes what is made once per process (Asio's and the C library's
  // own state), so that the one measured leaves nothing of its own.
  const tally warm_up = churn(*port, run + 1, 1);

  REQUIRE(warm_up.failed == 0);

  const std::size_t descriptors_before = open_descriptors();
  [[maybe_unused]] const std::size_t heap_before = heap_in_use();
  const tally t = churn(*port, run, bursts);
  [[maybe_unused]] const std::size_t heap_after = heap_in_use();
  const std::size_t descriptors_after = open_descriptors();

  INFO("first failure: " << t.first_failure.message());
  CHECK(t.failed == 0);
  CHECK(t.answered == requests);
  CHECK(t.misanswered == 0);
  CHECK(descriptors_after == descriptors_before);
  if (heap_measured()) {
    CHECK(heap_after == heap_before);
  } else {
    WARN("the heap is not compared: run with GLIBC_TUNABLES=glibc.malloc.tcache_count=0");
  }

  // nginx's view: every request once, POSTs never twice, and connections it closed
  // often (at most 7 requests each).
  const auto lines = logged(run, static_cast<std::size_t>(requests));
  std::map<std::string, int> seen;
  std::map<std::string, int> per_connection;
  for (const auto& line : lines) {
    std::istringstream fields(line);
    std::string method;
    std::string path;
    std::string connection;
    fields >> method >> path >> connection;
    ++seen[method + " " + path];
    ++per_connection[connection];
  }
  REQUIRE(lines.size() == static_cast<std::size_t>(requests));
  int posts_logged = 0;
  for (const auto& [request_line, count] : seen) {
    if (request_line.rfind("POST ", 0) == 0) {
      ++posts_logged;
      INFO(request_line);
      CHECK(count == 1);
    }
  }
  CHECK(posts_logged == t.posts);
  std::set<int> sizes;
  for (const auto& entry : per_connection) sizes.insert(entry.second);
  CHECK(*sizes.rbegin() <= 7);
  CHECK(per_connection.size() >= static_cast<std::size_t>(requests / 7));
}
