// What a kept-alive request costs in heap allocations, counted by a replaced global
// operator new and aligned_alloc on the client's thread only (the server runs on
// another). The pooled connection keeps its parser and buffers, the serializer writes
// into the connection's buffer, fields keep every name and value in one string, and Asio
// recycles most coroutine frames and operations. Into a reused response, opensock
// allocates nothing; a new response needs its own header storage.
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/scripted_http_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <exception>
#include <thread>
#include <utility>

namespace {

thread_local bool counting = false;
thread_local long allocations = 0;        // through operator new
thread_local long aligned_allocations = 0;  // through aligned_alloc: Asio's

}  // namespace

// g++ sees free() on memory from a new-expression once these are inlined; they are the
// replacements of new and delete, so the pair matches.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Every form of new and delete is replaced, so that memory from one is never given back
// to another (AddressSanitizer checks this).
namespace {

void* allocate_aligned(std::size_t alignment, std::size_t size) noexcept {
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return posix_memalign(&p, alignment, size == 0 ? 1 : size) == 0 ? p : nullptr;
}

void* allocate(std::size_t size, std::size_t alignment = 0) {
  if (counting) ++allocations;
  if (size == 0) size = 1;
  void* p = alignment > alignof(std::max_align_t) ? allocate_aligned(alignment, size)
                                                  : std::malloc(size);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

// Asio allocates coroutine frames and operations with aligned_alloc (after keeping a
// few for reuse), not with operator new: replaced too, so they are counted.
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  if (counting) ++aligned_allocations;
  return allocate_aligned(alignment, size);
}

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

// Whether coroutine frames are as small as an optimised build makes them: Asio recycles
// a frame of up to about 1 KiB only.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADDRESS_SANITIZER 1
#endif
#endif
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(ADDRESS_SANITIZER)
constexpr bool optimised_frames = true;
#else
constexpr bool optimised_frames = false;
#endif

constexpr int warm_up = 50, measured = 500;

// A scripted server on its own thread, and a session with a request timeout set.
struct kept_alive_peer {
  kept_alive_peer()
      : server(server_io,
               "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain; "
               "charset=utf-8\r\nDate: Tue, 24 Nov 2026 12:00:00 GMT\r\nServer: "
               "scripted\r\n\r\nhello, world!"),
        server_thread([this] {
          auto busy = asio::make_work_guard(server_io);
          server_io.run();
        }),
        session(io.get_executor(), opensock::default_socket_factory{}, options()) {
    std::error_code ec;
    url = opensock::http::url::parse(server.url("/some/longer/path/than/sso?query=1"), ec);
  }
  ~kept_alive_peer() {
    server_io.stop();
    server_thread.join();
  }
  static opensock::http::session_options options() {
    opensock::http::session_options o;
    o.timeouts.total = std::chrono::seconds(30);
    return o;
  }
  // Runs `requests` to its end; the session's watchdog timer would keep run_for() going.
  void run(asio::awaitable<void> requests) {
    asio::co_spawn(io, std::move(requests), [this](std::exception_ptr) { io.stop(); });
    io.run_for(std::chrono::seconds(30));
  }

  asio::io_context server_io;
  opensock::test::scripted_http_server server;
  std::thread server_thread;
  asio::io_context io;
  opensock::http::session<> session;
  opensock::http::url url;
};

void start_counting(int i) {
  if (i == warm_up) allocations = aligned_allocations = 0;
  counting = i >= warm_up;
}

}  // namespace

TEST_CASE("a kept-alive request into a reused response allocates nothing") {
  kept_alive_peer peer;
  opensock::http::response response;
  bool ok = true;
  peer.run([&]() -> asio::awaitable<void> {
    const opensock::http::request req("GET", peer.url);
    for (int i = 0; i < warm_up + measured; ++i) {
      start_counting(i);
      const std::error_code ec = co_await peer.session.request(req, response);
      counting = false;
      ok = ok && !ec && response.status == 200 && response.body == "hello, world!";
    }
  }());
  CHECK(ok);
  CHECK(peer.server.connections == 1);
  // The response's storage is reused and the connection keeps its buffers.
  CHECK(allocations == 0);
  // Asio's own memory: coroutine frames (the caller's, the request's, and Asio's for
  // the exchange it awaits) and operations, of which Asio keeps two of each kind, of up
  // to about 1 KiB, per thread for reuse. What does not fit there comes from the heap:
  // a few blocks a request, never growing with the number of requests.
  if (optimised_frames) CHECK(aligned_allocations <= 4 * measured);
}

TEST_CASE("a kept-alive request giving a new response allocates its header storage") {
  kept_alive_peer peer;
  bool ok = true;
  peer.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < warm_up + measured; ++i) {
      opensock::http::request req("GET", peer.url);
      start_counting(i);
      auto r = co_await peer.session.request(std::move(req));
      counting = false;
      ok = ok && r.status == 200 && r.body == "hello, world!";
    }
  }());
  CHECK(ok);
  CHECK(peer.server.connections == 1);
  // A new response's header storage (its string and list of offsets), and the block
  // that holds the request handed over and the response while the request runs.
  CHECK(allocations <= 3 * measured);
}
