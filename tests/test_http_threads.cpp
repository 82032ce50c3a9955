#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/scripted_http_server.hpp"

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
