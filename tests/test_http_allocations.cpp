// What a kept-alive request costs in heap allocations, counted by a replaced global
// operator new on the client's thread only (the server runs on another). The pooled
// connection keeps its parser and buffers, Asio recycles coroutine frames, and the
// serializer writes the target and Host without strings of their own, and fields keep
// every name and value in one string, so what is left is the response's header storage
// (that string and the list of offsets into it), which the caller takes away.
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
#include <thread>

namespace {

thread_local bool counting = false;
thread_local long allocations = 0;

}  // namespace

// g++ sees free() on memory from a new-expression once these are inlined; they are the
// replacements of new and delete, so the pair matches.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Every form of new and delete is replaced, so that memory from one is never given back
// to another (AddressSanitizer checks this), and aligned allocations, which Asio uses
// for coroutine frames, are counted too.
namespace {

void* allocate(std::size_t size, std::size_t alignment = 0) {
  if (counting) ++allocations;
  if (size == 0) size = 1;
  void* p = alignment > alignof(std::max_align_t)
                ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                : std::malloc(size);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

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

TEST_CASE("a kept-alive request with a timeout allocates only the response's header storage") {
  asio::io_context server_io;
  opensock::test::scripted_http_server server(
      server_io, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Date: Tue, 24 Nov 2026 12:00:00 GMT\r\nServer: scripted\r\n\r\nhello, world!");
  std::thread server_thread([&] {
    auto busy = asio::make_work_guard(server_io);
    server_io.run();
  });

  asio::io_context io;
  opensock::http::session_options options;
  options.timeouts.total = std::chrono::seconds(30);
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  std::error_code ec;
  const auto url = opensock::http::url::parse(server.url("/some/longer/path/than/sso?query=1"), ec);
  REQUIRE(!ec);
  constexpr int warm_up = 50, measured = 500;
  long counted = 0;
  bool ok = true;
  auto requests = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < warm_up + measured; ++i) {
      opensock::http::request req("GET", url);
      if (i == warm_up) allocations = 0;
      counting = i >= warm_up;
      auto r = co_await session.request(std::move(req));
      counting = false;
      ok = ok && r.status == 200 && r.body == "hello, world!";
    }
    counted = allocations;
    io.stop();  // the session's watchdog timer would keep run_for() going
  };
  asio::co_spawn(io, requests(), asio::detached);
  io.run_for(std::chrono::seconds(30));
  server_io.stop();
  server_thread.join();
  CHECK(ok);
  CHECK(server.connections == 1);
  CHECK(counted <= 2 * measured);
}
