#include <opensock/http/body_sink.hpp>

#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/compiled_sessions.hpp"
#include "support/http_request.hpp"
#include "support/nginx.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <stdexcept>
#include <string>
#include <tuple>

using opensock::http::body_sink;
using opensock::http::transfer_hooks;
using opensock::test::counting_factory;
using opensock::test::make_request;
using opensock::test::request;
using opensock::test::scripted_http_server;
using namespace std::chrono_literals;

namespace {

transfer_hooks with_sink(body_sink sink) {
  transfer_hooks hooks;
  hooks.on_body = std::move(sink);
  return hooks;
}

std::string nginx_url(const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(*opensock::test::nginx_port()) + path;
}

}  // namespace

static_assert(opensock::http::body_sink_function<void (*)(std::string_view)>);
static_assert(opensock::http::body_sink_function<bool (*)(std::string_view)>);
static_assert(opensock::http::body_sink_function<asio::awaitable<void> (*)(std::string_view)>);
static_assert(opensock::http::body_sink_function<asio::awaitable<bool> (*)(std::string_view)>);
static_assert(!opensock::http::body_sink_function<void (*)(int)>);
static_assert(!opensock::http::body_sink_function<std::string (*)(std::string_view)>);

TEST_CASE("a function sink takes the body in pieces, the response keeps none of it") {
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  for (const char* path : {"/files/1MiB.txt", "/chunked/1MiB.txt"}) {
    std::string received;
    int pieces = 0;
    auto [ec, r] = request(io, session, make_request("GET", nginx_url(path)),
                           with_sink([&](std::string_view piece) {
                             received.append(piece);
                             ++pieces;
                           }));
    REQUIRE(!ec);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(received.size() == 1u << 20);
    CHECK(received.substr(0, 28) == "abcdefghijklmnopqrstuvwxyzab");
    CHECK(pieces > 1);
  }
}

TEST_CASE("a coroutine sink is awaited for each piece") {
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  std::string received;
  auto slow = [&](std::string_view piece) -> asio::awaitable<void> {
    const std::string copy(piece);  // the view is valid until the first suspension only
    asio::steady_timer pause(co_await asio::this_coro::executor, 1ms);
    co_await pause.async_wait(asio::use_awaitable);
    received += copy;
  };
  auto [ec, r] = request(io, session, make_request("GET", nginx_url("/chunked/1MiB.txt")),
                         with_sink(slow));
  REQUIRE(!ec);
  CHECK(r.body.empty());
  CHECK(received.size() == 1u << 20);
  // The connection was left at the end of the response: it carries another request.
  auto [ec2, again] = request(io, session, make_request("GET", nginx_url("/files/hello.txt")));
  CHECK(!ec2);
  CHECK(again.body == "hello, opensock\n");
  CHECK(again.headers.get("x-connection") == r.headers.get("x-connection"));
}

TEST_CASE("a sink that refuses bytes stops the transfer: write_error, curl's 23") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  auto refuse = [](std::string_view) { return false; };
  const auto [ec, r] = request(io, session, make_request("GET", server.url()), with_sink(refuse));
  CHECK(ec == opensock::error::write_error);
  // The head that came before the refusal is the response's.
  CHECK(r.status == 200);
  CHECK(r.headers.get("content-length") == "5");
  auto refuse_later = [](std::string_view) -> asio::awaitable<bool> { co_return false; };
  CHECK(request(io, session, make_request("GET", server.url()), with_sink(refuse_later)).first ==
        opensock::error::write_error);
  CHECK(opened == 2);  // a connection whose response was not read to its end is not reused
  CHECK(closed == 2);
  CHECK(session.idle_connections() == 0);
}

TEST_CASE("a sink that throws refuses the body (23); a hook that throws aborts (42)") {
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  const auto url = nginx_url("/files/1MiB.txt");
  int calls = 0;
  auto [ec, r] = request(io, session, make_request("GET", url),
                         with_sink([&](std::string_view) {
                           ++calls;
                           throw std::runtime_error("disk full");
                         }));
  CHECK(ec == opensock::error::write_error);
  CHECK(calls == 1);

  auto throwing = [&](std::string_view) -> asio::awaitable<bool> {
    ++calls;
    throw std::runtime_error("disk full");
    co_return true;
  };
  std::tie(ec, r) = request(io, session, make_request("GET", url), with_sink(throwing));
  CHECK(ec == opensock::error::write_error);
  CHECK(calls == 2);

  transfer_hooks hooks;
  hooks.on_header_line = [](std::string_view) { throw std::runtime_error("no"); };
  std::tie(ec, r) = request(io, session, make_request("GET", url), hooks);
  CHECK(ec == opensock::error::aborted_by_callback);

  // None of it leaves the session unusable.
  std::tie(ec, r) = request(io, session, make_request("GET", url));
  CHECK(!ec);
  CHECK(r.body.size() == 1u << 20);
}
