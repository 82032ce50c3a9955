#include <opensock/http/exchange.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/nginx.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>
#include <opensock/test/stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <optional>
#include <string>

using asio::ip::tcp;
using opensock::http::connection_state;
using opensock::http::request;
using opensock::test::make_request;
using opensock::http::response;
using opensock::test::run;

namespace {

// A connection to the suite's nginx, through a connect-only session.
struct nginx_connection {
  asio::io_context io;
  std::uint16_t port = 0;
  opensock::connect_only_session<> session{io.get_executor()};
  connection_state state;

  bool open() {
    const auto found = opensock::test::nginx_port();
    if (!found) return false;
    port = *found;
    REQUIRE(!opensock::test::run_connect(io, session, {"127.0.0.1", port}));
    return true;
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  std::error_code send(const request& req, response& out) {
    return run(io, opensock::http::exchange(session.stream(), req, out, state));
  }
};

#define REQUIRE_NGINX(connection)                                     \
  if (!(connection).open()) {                                         \
    WARN("the suite's nginx is not running (run through ctest)");     \
    return;                                                           \
  }

}  // namespace

TEST_CASE("a GET to nginx, then another on the same connection") {
  nginx_connection c;
  REQUIRE_NGINX(c);
  response first, second;
  REQUIRE(!c.send(make_request("GET", c.url("/files/hello.txt")), first));
  CHECK(first.status == 200);
  CHECK(first.body == "hello, opensock\n");
  CHECK(first.headers.get("content-length") == "16");
  CHECK(c.state.reusable);
  REQUIRE(!c.send(make_request("GET", c.url("/files/hello.txt")), second));
  CHECK(second.body == first.body);
  // nginx numbers its connections: the same number means the connection was reused.
  CHECK(second.headers.get("x-connection") == first.headers.get("x-connection"));
}

TEST_CASE("chunked bodies from nginx, small and large") {
  nginx_connection c;
  REQUIRE_NGINX(c);
  response small, large;
  REQUIRE(!c.send(make_request("GET", c.url("/chunked/hello.txt")), small));
  CHECK(small.headers.get("transfer-encoding") == "chunked");
  CHECK(small.body == "hello, OPENSOCK\n");
  REQUIRE(!c.send(make_request("GET", c.url("/chunked/1MiB.txt")), large));
  REQUIRE(large.body.size() == 1u << 20);
  bool pattern = true;
  for (std::size_t i = 0; i < large.body.size(); ++i)
    pattern = pattern && large.body[i] == char('a' + i % 26);
  CHECK(pattern);
  CHECK(c.state.reusable);
}

TEST_CASE("HEAD, 204, 304 with If-None-Match, 404 and a redirect from nginx") {
  nginx_connection c;
  REQUIRE_NGINX(c);
  response head, no_content, full, not_modified, missing, redirect;
  REQUIRE(!c.send(make_request("HEAD", c.url("/files/1MiB.txt")), head));
  CHECK(head.status == 200);
  CHECK(head.headers.get("content-length") == "1048576");
  CHECK(head.body.empty());
  REQUIRE(!c.send(make_request("GET", c.url("/no-content")), no_content));
  CHECK(no_content.status == 204);
  REQUIRE(!c.send(make_request("GET", c.url("/files/hello.txt")), full));
  const auto etag = full.headers.get("etag");
  REQUIRE(etag);
  auto conditional = make_request("GET", c.url("/files/hello.txt"));
  conditional.headers.add("If-None-Match", std::string(*etag));
  REQUIRE(!c.send(conditional, not_modified));
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());
  REQUIRE(!c.send(make_request("GET", c.url("/status-404")), missing));
  CHECK(missing.status == 404);
  CHECK(missing.body == "not here\n");
  REQUIRE(!c.send(make_request("GET", c.url("/redirect")), redirect));
  CHECK(redirect.status == 302);
  CHECK(redirect.headers.get("location")->find("/files/hello.txt") != std::string_view::npos);
  CHECK(c.state.reusable);
}

TEST_CASE("a POST body reaches nginx") {
  nginx_connection c;
  REQUIRE_NGINX(c);
  auto post = make_request("POST", c.url("/echo-method?x=1"));
  post.body = "payload";
  response r;
  REQUIRE(!c.send(post, r));
  CHECK(r.body == "POST /echo-method?x=1\n");
}

namespace {

// Plays a server on the other end of an in-memory stream: reads one request head, then
// writes `reply` and, if `close`, closes.
asio::awaitable<std::string> scripted_server(opensock::test::stream& peer, std::string reply,
                                             bool close) {
  std::string request;
  auto buffer = asio::dynamic_buffer(request);
  co_await asio::async_read_until(peer, buffer, "\r\n\r\n", asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer(reply), asio::use_awaitable);
  if (close) {
    std::error_code ignored;
    peer.close(ignored);
  }
  co_return request;
}

// Closes the client's end, then reads what the server's end has not read yet: the bytes
// the client sent after those the server took.
std::size_t unread_after_close(asio::io_context& io, opensock::test::stream& client,
                               opensock::test::stream& server) {
  std::error_code ignored;
  client.close(ignored);
  std::string rest;
  return run(io, [&]() -> asio::awaitable<std::size_t> {
    std::error_code ec;
    auto buffer = asio::dynamic_buffer(rest);
    co_return co_await asio::async_read(server, buffer,
                                        asio::redirect_error(asio::use_awaitable, ec));
  }());
}

// Accepts a connection and reads a request head from it into `request`.
asio::awaitable<tcp::socket> accept_request_head(tcp::acceptor& acceptor, std::string& request) {
  auto peer = co_await acceptor.async_accept(asio::use_awaitable);
  auto buffer = asio::dynamic_buffer(request);
  co_await asio::async_read_until(peer, buffer, "\r\n\r\n", asio::use_awaitable);
  co_return peer;
}

struct scripted_result {
  std::error_code error;
  response out;
  std::string request;
  bool reusable = false;
};

scripted_result exchange_with(std::string reply, bool close, request req = make_request("GET", "http://h/x")) {
  asio::io_context io;
  auto [client, server] = opensock::test::stream::make_pair(io.get_executor());
  scripted_result result;
  connection_state state;
  asio::co_spawn(io, scripted_server(server, std::move(reply), close),
                 [&](std::exception_ptr, std::string seen) { result.request = std::move(seen); });
  result.error = run(io, opensock::http::exchange(client, req, result.out, state));
  result.reusable = state.reusable;
  return result;
}

}  // namespace

TEST_CASE("scripted faults end in curl's numbers") {
  CHECK(exchange_with("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true).error ==
        opensock::error::partial_file);
  CHECK(exchange_with("", true).error == opensock::error::got_nothing);
  CHECK(exchange_with("garbage\r\n\r\n", true).error == opensock::error::http09_not_allowed);
  const auto until_close = exchange_with("HTTP/1.0 200 OK\r\n\r\nall of it", true);
  CHECK(!until_close.error);
  CHECK(until_close.out.body == "all of it");
  CHECK(!until_close.reusable);
}

TEST_CASE("the request goes out as serialized, and a refused field sends nothing") {
  auto req = make_request("GET", "http://example.test:8080/path?q");
  req.headers.add("Accept", "*/*");
  const auto sent = exchange_with("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, req);
  CHECK(!sent.error);
  CHECK(sent.request == "GET /path?q HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n\r\n");
  CHECK(sent.reusable);

  asio::io_context io;
  // Named members rather than structured bindings: clang 14 cannot capture those.
  auto streams = opensock::test::stream::make_pair(io.get_executor());
  auto& client = streams.first;
  auto& server = streams.second;
  auto bad = make_request("GET", "http://h/");
  bad.headers.add("X", "a\r\nInjected: yes");
  connection_state state;
  response out;
  CHECK(run(io, opensock::http::exchange(client, bad, out, state)) ==
        opensock::error::invalid_request_field);
  CHECK(unread_after_close(io, client, server) == 0);
}

TEST_CASE("a reset while reading is a receive error, curl's 56") {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string request;
        auto peer = co_await accept_request_head(acceptor, request);
        co_await asio::async_write(peer, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")),
                                   asio::use_awaitable);
        peer.set_option(asio::socket_base::linger(true, 0));  // close with RST
        peer.close();
      },
      asio::detached);
  opensock::connect_only_session session(io.get_executor());
  REQUIRE(!opensock::test::run_connect(io, session, {"127.0.0.1", acceptor.local_endpoint().port()}));
  connection_state state;
  response out;
  const auto ec = run(io, opensock::http::exchange(session.stream(), make_request("GET", "http://h/"), out, state));
  // A reset arrives as a receive error; if the kernel delivered the bytes and the end
  // first, it is a short body.
  CHECK((ec == opensock::error::recv_error || ec == opensock::error::partial_file));
}

TEST_CASE("async_exchange takes any completion token") {
  nginx_connection connection;
  REQUIRE_NGINX(connection);
  response out;
  std::error_code ec = opensock::error::failed_init;
  const auto req = make_request("GET", connection.url("/files/hello.txt"));
  opensock::http::async_exchange(connection.session.stream(), req, out, connection.state,
                                 opensock::http::detail::no_transfer_hooks(),
                                 [&](std::error_code done) { ec = done; });
  connection.io.restart();
  connection.io.run();
  CHECK(!ec);
  CHECK(out.status == 200);
  CHECK(out.body == "hello, opensock\n");
}

TEST_CASE("a body that asks for 100-continue waits for the 100 from nginx") {
  nginx_connection c;
  REQUIRE_NGINX(c);
  auto post = make_request("POST", c.url("/echo-method"));
  post.headers.add("Expect", "100-continue");
  post.body = "payload";
  // A wait that would outlast the test: only the 100 lets the body go.
  c.state.expect_continue_timeout = std::chrono::hours(1);
  response r;
  REQUIRE(!c.send(post, r));
  CHECK(r.body == "POST /echo-method\n");
  REQUIRE(r.interim.size() == 1);
  CHECK(r.interim[0].status == 100);
  CHECK(!c.state.body_withheld);
  CHECK(c.state.reusable);
}

namespace {

// Plays a server that reads a request's head, answers `first`, then reads `body_size`
// bytes of body and answers `second`: what it received after the head is returned.
asio::awaitable<std::string> continue_server(opensock::test::stream& peer, std::string first,
                                             std::size_t body_size, std::string second) {
  std::string received;
  auto buffer = asio::dynamic_buffer(received);
  const auto head = co_await asio::async_read_until(peer, buffer, "\r\n\r\n", asio::use_awaitable);
  received.erase(0, head);
  if (!first.empty()) co_await asio::async_write(peer, asio::buffer(first), asio::use_awaitable);
  if (body_size > received.size())
    co_await asio::async_read(peer, buffer, asio::transfer_exactly(body_size - received.size()),
                              asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer(second), asio::use_awaitable);
  co_return received;
}

struct continued {
  std::error_code error;
  response out;
  std::string body_received;
  bool withheld = false;
  bool reusable = false;
};

continued expect_continue(std::string first, std::string second,
                          std::chrono::milliseconds timeout, opensock::http::request_body body) {
  asio::io_context io;
  auto [client, server] = opensock::test::stream::make_pair(io.get_executor());
  auto req = make_request("PUT", "http://h/upload");
  req.headers.add("Expect", "100-continue");
  req.body = std::move(body);
  continued result;
  asio::co_spawn(io, continue_server(server, std::move(first), 7, std::move(second)),
                 [&](std::exception_ptr, std::string seen) {
                   result.body_received = std::move(seen);
                 });
  connection_state state;
  state.expect_continue_timeout = timeout;
  result.error = run(io, opensock::http::exchange(client, req, result.out, state));
  result.withheld = state.body_withheld;
  result.reusable = state.reusable;
  return result;
}

constexpr const char* created = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

}  // namespace

TEST_CASE("a body that asks for 100-continue goes after the 100") {
  const auto r = expect_continue("HTTP/1.1 100 Continue\r\n\r\n", created, std::chrono::hours(1),
                                 std::string("payload"));
  REQUIRE(!r.error);
  CHECK(r.out.status == 201);
  CHECK(r.out.body == "ok");
  CHECK(r.body_received == "payload");
  CHECK(!r.withheld);
  CHECK(r.reusable);
}

TEST_CASE("a body that asks for 100-continue goes when no answer comes in time") {
  // The server answers only once it has the body: the wait's end must send it.
  const auto r =
      expect_continue("", created, std::chrono::milliseconds(20), std::string("payload"));
  REQUIRE(!r.error);
  CHECK(r.out.status == 201);
  CHECK(r.body_received == "payload");
  CHECK(r.out.interim.empty());
  CHECK(r.reusable);
}

TEST_CASE("a body from a producer waits for the 100 too") {
  bool produced = false;
  auto producer = opensock::http::request_body::producer(
      [&produced](asio::mutable_buffer room) -> asio::awaitable<std::size_t> {
        if (produced) co_return 0;
        produced = true;
        co_return asio::buffer_copy(room, asio::buffer(std::string_view("payload")));
      },
      7);
  const auto r = expect_continue("HTTP/1.1 100 Continue\r\n\r\n", created, std::chrono::hours(1),
                                 std::move(producer));
  REQUIRE(!r.error);
  CHECK(r.body_received == "payload");
  CHECK(r.out.status == 201);
}

TEST_CASE("a final response before the 100 keeps the body and the connection") {
  asio::io_context io;
  // Named members rather than structured bindings: clang 14 cannot capture those.
  auto streams = opensock::test::stream::make_pair(io.get_executor());
  auto& client = streams.first;
  auto& server = streams.second;
  std::string head;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto buffer = asio::dynamic_buffer(head);
        co_await asio::async_read_until(server, buffer, "\r\n\r\n", asio::use_awaitable);
        const std::string refusal =
            "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope";
        co_await asio::async_write(server, asio::buffer(refusal), asio::use_awaitable);
      },
      asio::detached);
  auto req = make_request("POST", "http://h/form");
  req.headers.add("Expect", "100-continue");
  req.body = "field=value";
  connection_state state;
  state.expect_continue_timeout = std::chrono::hours(1);
  response out;
  REQUIRE(!run(io, opensock::http::exchange(client, req, out, state)));
  CHECK(out.status == 417);
  CHECK(out.body == "nope");
  CHECK(state.body_withheld);
  CHECK(!state.reusable);
  CHECK(head.find("Expect: 100-continue\r\n") != std::string::npos);
  // Nothing followed the head.
  CHECK(head.size() == head.find("\r\n\r\n") + 4);
  CHECK(unread_after_close(io, client, server) == 0);
}

TEST_CASE("a body file that cannot be read ends a request that waits for the 100") {
  asio::io_context io;
  auto streams = opensock::test::stream::make_pair(io.get_executor());
  auto& client = streams.first;
  auto req = make_request("PUT", "http://h/upload");
  req.headers.add("Expect", "100-continue");
  req.body = opensock::http::request_body::file("/nonexistent/opensock-body");
  connection_state state;
  state.expect_continue_timeout = std::chrono::hours(1);
  response out;
  // The server says nothing: the read that waits for it must end with the body's error.
  CHECK(run(io, opensock::http::exchange(client, req, out, state)) == opensock::error::read_error);
  CHECK(!state.reusable);
}

TEST_CASE("a refusal that comes while the body goes stops the body") {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  std::optional<tcp::socket> held;  // open, never read again: the body cannot all go
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string request;
        auto peer = co_await accept_request_head(acceptor, request);
        auto buffer = asio::dynamic_buffer(request);
        const std::string go = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(peer, asio::buffer(go), asio::use_awaitable);
        co_await asio::async_read(peer, buffer, asio::transfer_at_least(1), asio::use_awaitable);
        const std::string refusal = "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n";
        co_await asio::async_write(peer, asio::buffer(refusal), asio::use_awaitable);
        held.emplace(std::move(peer));
      },
      asio::detached);
  opensock::connect_only_session session(io.get_executor());
  const auto port = acceptor.local_endpoint().port();
  REQUIRE(!opensock::test::run_connect(io, session, {"127.0.0.1", port}));
  auto req = make_request("PUT", "http://h/big");
  req.headers.add("Expect", "100-continue");
  req.body = std::string(64 * 1024 * 1024, 'x');  // far more than the socket buffers hold
  connection_state state;
  state.expect_continue_timeout = std::chrono::hours(1);
  response out;
  const auto ec = run(io, opensock::http::exchange(session.stream(), req, out, state));
  INFO(ec.message());
  REQUIRE(!ec);
  CHECK(out.status == 413);
  CHECK(!state.body_withheld);
  CHECK(!state.reusable);
}
