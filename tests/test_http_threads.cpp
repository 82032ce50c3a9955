#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using opensock::test::scripted_http_server;
using namespace std::chrono_literals;

// One session, many coroutines on their own strands of an io_context run by four
// threads, as Go's http.Client is shared by goroutines. Built with ThreadSanitizer by the
// suite's TSan run, where a data race in the session fails the run.
TEST_CASE("one session shared by coroutines and callbacks on four threads") {
  asio::io_context server_io;
  scripted_http_server server(server_io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  std::thread server_thread([&] { server_io.run(); });

  asio::io_context io(4);
  opensock::http::session_options options;
  options.timeouts.total = 30s;  // every request watched by the session's one timer
  options.max_idle_per_origin = 4;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  std::error_code parse_error;
  const auto url = opensock::http::url::parse(server.url(), parse_error);
  REQUIRE(!parse_error);
  constexpr int coroutines = 12;
  constexpr int requests_each = 800;
  constexpr int callbacks = 400;
  std::atomic<int> succeeded = 0;
  std::atomic<int> failed = 0;

  for (int c = 0; c < coroutines; ++c) {
    asio::co_spawn(
        asio::make_strand(io),
        [&]() -> asio::awaitable<void> {
          const opensock::http::request req("GET", url);
          opensock::http::response out;  // reused: each request fills it
          for (int i = 0; i < requests_each; ++i) {
            const auto ec = co_await session.request(req, out);
            (!ec && out.body == "ok" ? succeeded : failed)++;
          }
        },
        asio::detached);
  }
  for (int i = 0; i < callbacks; ++i) {
    session.async_request(opensock::http::request("GET", url),
                          [&](std::error_code ec, opensock::http::response r) {
                            (!ec && r.body == "ok" ? succeeded : failed)++;
                          });
  }

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();  // run() returns once every request is done
  server_io.stop();
  server_thread.join();

  CHECK(succeeded == coroutines * requests_each + callbacks);
  CHECK(failed == 0);
  CHECK(session.idle_connections() <= options.max_idle_per_origin);
}

TEST_CASE("a jar shared by sessions on several threads stays whole") {
  asio::io_context server_io;
  scripted_http_server server(server_io, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  std::vector<std::string> urls;
  for (int i = 0; i < 4; ++i) {
    const std::string path = "/set" + std::to_string(i);
    server.routes[path] = "HTTP/1.1 200 OK\r\nSet-Cookie: c" + std::to_string(i) +
                          "=1\r\nContent-Length: 0\r\n\r\n";
    urls.push_back(server.url(path));
  }
  std::thread server_thread([&] {
    auto guard = asio::make_work_guard(server_io);
    server_io.run();
  });
  const auto jar = std::make_shared<opensock::http::cookie_jar>();
  opensock::http::session_options options;
  options.cookies = jar;
  std::vector<std::thread> clients;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      asio::io_context io;
      opensock::http::session s(io.get_executor(), opensock::default_socket_factory(), options);
      for (int i = 0; i < 25; ++i) {
        auto [ec, r] = opensock::test::request(
            io, s, opensock::test::make_request("GET", urls[static_cast<std::size_t>(t)]));
        if (ec) ++failures;
      }
    });
  for (auto& c : clients) c.join();
  server_io.stop();
  server_thread.join();
  CHECK(failures == 0);
  CHECK(jar->size() == 4);
  const std::string sent = jar->header_for(opensock::test::make_request("GET", urls[0]).url);
  for (const char* cookie : {"c0=1", "c1=1", "c2=1", "c3=1"})
    CHECK(sent.find(cookie) != std::string::npos);
}
