#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/compiled_sessions.hpp"
#include "support/http_request.hpp"
#include "support/loopback_listener.hpp"
#include "support/nginx.hpp"
#include "support/run.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <opensock/factory/any.hpp>
#include <opensock/factory/socket_options.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/version.hpp>
#if ASIO_VERSION >= 102400
#include <asio/deferred.hpp>
#else
#include <asio/experimental/deferred.hpp>
#endif
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using asio::ip::tcp;
using opensock::http::response;
using opensock::open_context;
using opensock::open_result;
using opensock::test::counting_factory;
using opensock::any_socket_factory;
using opensock::test::make_request;
using opensock::test::request;
using opensock::test::scripted_http_server;
using namespace std::chrono_literals;

TEST_CASE("requests to nginx reuse one kept-alive connection, the factory asked once") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  int opened = 0, closed = 0;
  std::vector<std::string> seen;
  {
    opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed, &seen});
    const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/files/hello.txt";
    auto [ec1, first] = request(io, session, make_request("GET", url));
    auto [ec2, second] = request(io, session, make_request("GET", url));
    REQUIRE(!ec1);
    REQUIRE(!ec2);
    CHECK(first.body == "hello, opensock\n");
    CHECK(second.headers.get("x-connection") == first.headers.get("x-connection"));
    CHECK(opened == 1);
    CHECK(session.idle_connections() == 1);
  }
  CHECK(closed == 1);  // the idle connection, when the session went
  CHECK(seen == std::vector<std::string>{"http 127.0.0.1:" + std::to_string(*port)});
}

TEST_CASE("a pooled connection the server closed: an idempotent request is sent again") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1);
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  opensock::test::settle(io, 50ms);  // the server closes the kept-alive connection
  auto [ec, again] = request(io, session, make_request("GET", server.url()));
  CHECK(!ec);
  CHECK(again.body == "ok");
  CHECK(opened == 2);
  CHECK(server.connections == 2);
}

TEST_CASE("a pooled connection the server closed while idle is not used: a POST goes on a new one") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1);
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  opensock::test::settle(io, 50ms);  // the server closes the kept-alive connection
  auto post = make_request("POST", server.url());
  post.body = "once";
  const auto [ec, answer] = request(io, session, post);
  CHECK(!ec);
  CHECK(answer.body == "ok");
  CHECK(opened == 2);
  CHECK(closed >= 1);
  CHECK(server.log == std::vector<std::string>{"GET / body= auth=no", "POST / body=once auth=no"});
}

TEST_CASE("a POST whose connection fails under it is not sent twice") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  server.routes["/once"] = scripted_http_server::hang_up;
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  auto post = make_request("POST", server.url("/once"));
  post.body = "once";
  const auto ec = request(io, session, post).first;
  CHECK(ec == opensock::error::got_nothing);
  CHECK(opened == 1);  // the pooled connection was used, and not replaced for a retry
  CHECK(server.log == std::vector<std::string>{"GET / body= auth=no", "POST /once body=once auth=no"});
}

TEST_CASE("a pooled connection the server reset while idle is not used") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1);
  server.reset_on_close = true;
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  opensock::test::settle(io, 50ms);  // the reset has reached the pooled connection
  auto [ec, again] = request(io, session, make_request("GET", server.url()));
  CHECK(!ec);
  CHECK(again.body == "ok");
  CHECK(opened == 2);
  opensock::test::settle(io, 50ms);
  auto post = make_request("POST", server.url());
  post.body = "once";
  CHECK(!request(io, session, post).first);
  CHECK(opened == 3);
  CHECK(server.log.size() == 3);  // each request once
}

TEST_CASE("a response in another version of HTTP on a kept-alive connection is 8") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/one"] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  server.routes["/two"] = "HTTP/2 200\r\nContent-Length: 2\r\n\r\nok";
  server.routes["/nine"] = "Data\nData\n";
  opensock::http::session_options options;
  options.allow_http09 = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  for (const char* second : {"/two", "/nine"}) {
    CAPTURE(second);
    REQUIRE(!request(io, session, make_request("GET", server.url("/one"))).first);
    const auto [ec, r] = request(io, session, make_request("GET", server.url(second)));
    CHECK(r.info.reused);
    CHECK(ec == opensock::error::version_changed);
    CHECK(opensock::curl_code(ec) == 8);
  }
  // On a connection of its own, each is read as what it is.
  const auto [ec2, r2] = request(io, session, make_request("GET", server.url("/two")));
  CHECK(!ec2);
  CHECK(!r2.info.reused);
  CHECK(r2.version == 20);
}

TEST_CASE("a request timeout ends in 28 and closes the connection through the factory") {
  asio::io_context io;
  scripted_http_server silent(io, "");
  int opened = 0, closed = 0;
  opensock::http::session_options options;
  options.timeouts.total = 150ms;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed}, options);
  const auto started = std::chrono::steady_clock::now();
  const auto ec = request(io, session, make_request("GET", silent.url())).first;
  CHECK(ec == opensock::error::operation_timedout);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(opened == 1);
  CHECK(closed == 1);
  CHECK(session.idle_connections() == 0);
}

TEST_CASE("idle connections expire and respect the pool's limits") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  int opened = 0, closed = 0;
  opensock::http::session_options options;
  options.idle_timeout = 0ms;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed}, options);
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  CHECK(opened == 2);  // the first connection had expired

  options.idle_timeout = 10s;
  options.max_idle = 0;
  opensock::http::session no_pool(io.get_executor(), counting_factory{&opened, &closed}, options);
  REQUIRE(!request(io, no_pool, make_request("GET", server.url())).first);
  CHECK(no_pool.idle_connections() == 0);
}

TEST_CASE("every request carries its own URL's Host: kept alive, and on a connection object used for another origin") {
  asio::io_context io;
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  scripted_http_server a(io, ok), b(io, ok);
  const auto port_of = [](const scripted_http_server& s) {
    const std::string url = s.url();  // http://127.0.0.1:PORT/
    return url.substr(url.rfind(':') + 1, url.size() - url.rfind(':') - 2);
  };
  const auto get = [&](opensock::http::session<>& session, const std::string& url) {
    REQUIRE(!request(io, session, make_request("GET", url)).first);
  };
  opensock::http::session_options options;
  options.max_idle = 0;  // a new connection each time, on the object the last one left
  opensock::http::session fresh(io.get_executor(), opensock::default_socket_factory{}, options);
  get(fresh, a.url());
  get(fresh, b.url());
  get(fresh, a.url());
  get(fresh, "http://localhost:" + port_of(b) + "/");
  opensock::http::session pooled(io.get_executor());
  get(pooled, b.url());
  get(pooled, b.url());
  const std::string host_a = "Host: 127.0.0.1:" + port_of(a) + "\r\n";
  const std::string host_b = "Host: 127.0.0.1:" + port_of(b) + "\r\n";
  const std::string host_named = "Host: localhost:" + port_of(b) + "\r\n";
  const auto has = [](const std::string& head, const std::string& line) {
    return head.find(line) != std::string::npos;
  };
  REQUIRE(a.heads.size() == 2);
  for (const auto& head : a.heads) CHECK(has(head, host_a));
  REQUIRE(b.heads.size() == 4);
  CHECK(has(b.heads[0], host_b));
  CHECK(has(b.heads[1], host_named));
  CHECK(has(b.heads[2], host_b));
  CHECK(has(b.heads[3], host_b));
  CHECK(b.connections == 3);
}

TEST_CASE("a connection object used again for another address connects to that address") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const std::string url = server.url();  // http://127.0.0.1:PORT/
  const std::string elsewhere = "http://127.0.0.2" + url.substr(url.rfind(':'));
  std::vector<tcp::endpoint> asked;
  auto recording = [&](open_context<tcp>& context) -> open_result<tcp::socket> {
    asked.push_back(context.endpoint);
    return opensock::default_socket_factory{}(context);
  };
  opensock::http::session_options options;
  options.max_idle = 0;  // a new connection each time, on the object the last one left
  opensock::http::session session(io.get_executor(), any_socket_factory(recording), options);
  CHECK(!request(io, session, make_request("GET", url)).first);
  CHECK(request(io, session, make_request("GET", elsewhere)).first);  // nothing listens there
  CHECK(!request(io, session, make_request("GET", url)).first);
  REQUIRE(asked.size() == 3);
  CHECK(asked[0].address() == asio::ip::make_address("127.0.0.1"));
  CHECK(asked[1].address() == asio::ip::make_address("127.0.0.2"));
  CHECK(asked[2].address() == asio::ip::make_address("127.0.0.1"));
}

TEST_CASE("a session's names and local end make its routes: where connections go, and from where") {
  asio::io_context io;
  opensock::test::loopback_listener server(io);
  opensock::http::session_options options;
  // Requests name a host no lookup could find; --resolve's address reaches the server.
  const std::string name = std::string(64, 'r') + ".invalid";
  options.names.overrides.push_back(
      *opensock::resolve_override::parse(name + ":" + std::to_string(server.port()) + ":127.0.0.1"));
  options.local = opensock::local_binding(asio::ip::make_address("127.0.0.3"));
  options.timeouts.total = 200ms;
  std::vector<std::string> hosts;
  auto recording = [&](open_context<tcp>& context) -> open_result<tcp::socket> {
    hosts.push_back(std::string(context.host));
    return opensock::default_socket_factory{}(context);
  };
  opensock::http::session session(io.get_executor(), any_socket_factory(recording), options);
  const auto ec = request(
      io, session, make_request("GET", "http://" + name + ":" + std::to_string(server.port()) + "/"))
      .first;
  // The listener answers nothing: the request times out, but it got there, from 127.0.0.3.
  CHECK(ec == opensock::error::operation_timedout);
  opensock::test::settle(io);
  REQUIRE(server.peers().size() == 1);
  CHECK(server.peers()[0].address() == asio::ip::make_address("127.0.0.3"));
  CHECK(hosts == std::vector<std::string>{name});  // the factory is told the origin's name
}

TEST_CASE("a response carries its whole route: names applied, local end, TLS") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  opensock::http::session_options options;
  const std::string name = std::string(64, 'q') + ".invalid";
  const std::string port = std::to_string(server.port());
  options.names.overrides.push_back(*opensock::resolve_override::parse(name + ":" + port + ":127.0.0.1"));
  options.local = opensock::local_binding(asio::ip::make_address("127.0.0.1"));
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  auto [ec, res] = request(io, session, make_request("GET", "http://" + name + ":" + port + "/"));
  REQUIRE(!ec);
  CHECK(res.body == "ok");
  REQUIRE(res.info.route);
  const opensock::route& r = *res.info.route;
  CHECK(r.origin == opensock::origin(name, server.port(), "http"));
  CHECK(!r.secure);
  CHECK(r.host_to_reach() == name);
  CHECK(r.addresses == std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")});
  CHECK(r.local == options.local);
}

TEST_CASE("connect errors reach the caller with curl's numbers") {
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  opensock::test::closed_port nothing(io);
  CHECK(request(io, session, make_request("GET", "http://127.0.0.1:" + std::to_string(nothing.port()) + "/"))
            .first == opensock::error::couldnt_connect);
  CHECK(request(io, session, make_request("GET", "http://" + std::string(64, 'z') + ".invalid/"))
            .first == opensock::error::couldnt_resolve_host);
  // The connection objects those connects left behind serve the next connect.
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto [ec, out] = request(io, session, make_request("GET", server.url()));
  CHECK(!ec);
  CHECK(out.body == "ok");
}

TEST_CASE("a factory's refusal leaves the session able to connect") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  int calls = 0;
  auto refuse_first = [&](open_context<tcp>& context) -> open_result<tcp::socket> {
    if (++calls == 1) return opensock::refuse();
    return opensock::default_socket_factory{}(context);
  };
  opensock::http::session session(io.get_executor(), any_socket_factory(refuse_first));
  CHECK(request(io, session, make_request("GET", server.url())).first ==
        opensock::error::refused_by_socket_factory);
  for (int i = 0; i < 2; ++i) {
    auto [ec, out] = request(io, session, make_request("GET", server.url()));
    CHECK(!ec);
    CHECK(out.body == "ok");
  }
  CHECK(calls == 2);  // the second request's connection carried the third
}

namespace {

const std::string ok_reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone";

}  // namespace

TEST_CASE("redirects are not followed unless asked, then followed as curl does") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/redirect";
  opensock::http::session plain(io.get_executor());
  auto [ec1, not_followed] = request(io, plain, make_request("GET", url));
  REQUIRE(!ec1);
  CHECK(not_followed.status == 302);
  CHECK(not_followed.redirects == 0);

  int opened = 0, closed = 0;
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session following(io.get_executor(), counting_factory{&opened, &closed}, options);
  auto [ec2, followed] = request(io, following, make_request("GET", url));
  REQUIRE(!ec2);
  CHECK(followed.status == 200);
  CHECK(followed.body == "hello, opensock\n");
  CHECK(followed.redirects == 1);
  CHECK(followed.effective_url.to_string() == "http://127.0.0.1:" + std::to_string(*port) + "/files/hello.txt");
  CHECK(opened == 1);  // the same kept-alive connection carried both
}

TEST_CASE("redirect codes change the method as curl does") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/301"] = scripted_http_server::redirect(301, "/done");
  server.routes["/303"] = scripted_http_server::redirect(303, "/done");
  server.routes["/307"] = scripted_http_server::redirect(307, "/done");
  server.routes["/308"] = scripted_http_server::redirect(308, server.base() + "/done");
  server.routes["/done"] = ok_reply;
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  for (const char* path : {"/301", "/303", "/307", "/308"}) {
    auto post = make_request("POST", server.base() + path);
    post.body = "x=1";
    auto [ec, r] = request(io, session, post);
    REQUIRE(!ec);
    CHECK(r.body == "done");
  }
  CHECK(server.log == std::vector<std::string>{
                          "POST /301 body=x=1 auth=no", "GET /done body= auth=no",
                          "POST /303 body=x=1 auth=no", "GET /done body= auth=no",
                          "POST /307 body=x=1 auth=no", "POST /done body=x=1 auth=no",
                          "POST /308 body=x=1 auth=no", "POST /done body=x=1 auth=no"});
}

TEST_CASE("past the redirect limit: too_many_redirects, curl's 47") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/loop"] = scripted_http_server::redirect(302, "/loop");
  opensock::http::session_options options;
  options.follow_redirects = true;
  options.max_redirects = 3;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  auto [ec, r] = request(io, session, make_request("GET", server.base() + "/loop"));
  CHECK(ec == opensock::error::too_many_redirects);
  CHECK(opensock::curl_code(ec) == 47);
  CHECK(server.log.size() == 4);  // the request and three redirects
}

TEST_CASE("an empty Location leads nowhere: the response is the answer, as curl takes it") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/empty"] = "HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 4\r\n\r\nstay";
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  auto [ec, r] = request(io, session, make_request("GET", server.base() + "/empty"));
  REQUIRE(!ec);
  CHECK(r.status == 302);
  CHECK(r.body == "stay");
  CHECK(server.log.size() == 1);
}

TEST_CASE("a redirect followed on a connection that closes after it: its body is not awaited") {
  // Neither a length nor chunked, and Connection: close: the body would run to a close
  // the server never sends, as it holds each connection open after its reply.
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/some"] = "HTTP/1.1 302 Found\r\nLocation: /done\r\nConnection: close\r\n\r\nmoved";
  server.routes["/none"] = "HTTP/1.1 307 Moved\r\nLocation: /done\r\nConnection: close\r\n\r\n";
  server.routes["/kept"] = "HTTP/1.1 302 Found\r\nLocation: /done\r\nContent-Length: 5\r\n\r\nmoved";
  server.routes["/done"] = ok_reply;
  opensock::http::session_options options;
  options.follow_redirects = true;
  options.timeouts.total = 5s;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  for (const char* path : {"/some", "/none", "/kept"}) {
    INFO(path);
    auto [ec, r] = request(io, session, make_request("GET", server.base() + path));
    CHECK(!ec);
    CHECK(r.status == 200);
    CHECK(r.redirects == 1);
    CHECK(r.body == "done");
  }
  // The redirect with a length left its connection for the next request.
  CHECK(session.idle_connections() == 1);
}

TEST_CASE("a server that answered in HTTP/1.0 is spoken to in HTTP/1.0 on that connection and in that run") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/old"] =
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nold";
  server.routes["/new"] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew";
  server.routes["/moved"] =
      "HTTP/1.0 302 Found\r\nLocation: /new\r\nConnection: keep-alive\r\n"
      "Content-Length: 0\r\n\r\n";
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto request_line = [&](std::size_t i) {
    REQUIRE(i < server.heads.size());
    return server.heads[i].substr(0, server.heads[i].find("\r\n"));
  };
  // The connection's last answer decides the next request on it: 1.0, then 1.1 again.
  for (const char* path : {"/old", "/new", "/new"})
    REQUIRE(!request(io, session, make_request("GET", server.base() + path)).first);
  CHECK(server.connections == 1);
  CHECK(request_line(0) == "GET /old HTTP/1.1");
  CHECK(request_line(1) == "GET /new HTTP/1.0");
  CHECK(request_line(2) == "GET /new HTTP/1.1");
  // A redirect answered in 1.0 makes the rest of its run 1.0, a body and all.
  auto req = make_request("POST", server.base() + "/moved");
  req.body = std::string("data");
  auto [ec, r] = request(io, session, req);
  REQUIRE(!ec);
  CHECK(r.status == 200);
  CHECK(request_line(3) == "POST /moved HTTP/1.1");
  CHECK(request_line(4) == "GET /new HTTP/1.0");
  // A new connection starts in 1.1.
  opensock::http::session fresh(io.get_executor(), opensock::default_socket_factory{}, options);
  REQUIRE(!request(io, fresh, make_request("GET", server.base() + "/new")).first);
  CHECK(request_line(5) == "GET /new HTTP/1.1");
}

TEST_CASE("HTTP/0.9 is read only when the session allows it") {
  asio::io_context io;
  scripted_http_server server(io, "no status line, no headers\n", 1);
  opensock::http::session refusing(io.get_executor());
  auto [refused, none] = request(io, refusing, make_request("GET", server.url("/")));
  CHECK(refused == opensock::error::http09_not_allowed);
  opensock::http::session_options options;
  options.allow_http09 = true;
  opensock::http::session allowing(io.get_executor(), opensock::default_socket_factory{}, options);
  auto [ec, r] = request(io, allowing, make_request("GET", server.url("/")));
  REQUIRE(!ec);
  CHECK(r.status == 200);
  CHECK(r.version == 9);
  CHECK(r.body == "no status line, no headers\n");
  CHECK(allowing.idle_connections() == 0);
}

TEST_CASE("Authorization does not follow a redirect to another origin") {
  asio::io_context io;
  scripted_http_server first(io), second(io);
  first.routes["/go"] = scripted_http_server::redirect(302, second.base() + "/there");
  first.routes["/stay"] = scripted_http_server::redirect(302, "/here");
  first.routes["/here"] = ok_reply;
  second.routes["/there"] = ok_reply;
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  for (const char* path : {"/go", "/stay"}) {
    auto req = make_request("GET", first.base() + path);
    req.headers.add("Authorization", "Bearer secret");
    REQUIRE(!request(io, session, req).first);
  }
  CHECK(second.log == std::vector<std::string>{"GET /there body= auth=no"});
  CHECK(first.log == std::vector<std::string>{"GET /go body= auth=yes", "GET /stay body= auth=yes",
                                              "GET /here body= auth=yes"});
}

TEST_CASE("co_await session.request() and the method helpers") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);
  auto lines = opensock::test::run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> seen;
    seen.push_back((co_await session.get(base + "/echo-method")).body);
    seen.push_back((co_await session.delete_(base + "/echo-method")).body);
    seen.push_back((co_await session.post(base + "/body-length", "abc")).body);
    seen.push_back((co_await session.put(base + "/body-length", "abcd")).body);
    const auto head = co_await session.head(base + "/files/hello.txt");
    seen.push_back(std::to_string(head.status) + " " + std::string(head.headers.get("content-length").value_or("")) +
                   " [" + head.body + "]");
    seen.push_back((co_await session.request(make_request("OPTIONS", base + "/echo-method"))).body);
    co_return seen;
  }());
  CHECK(lines == std::vector<std::string>{"GET /echo-method\n", "DELETE /echo-method\n",
                                          "POST 3\n", "PUT 4\n", "200 16 []",
                                          "OPTIONS /echo-method\n"});
  // Errors come as std::system_error with the error code.
  try {
    opensock::test::run(io, session.get("http://[::1/"));
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK(e.code() == opensock::error::url_malformat);
  }
}

TEST_CASE("a body the socket cannot take at once is sent whole: the rest by a write that waits") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  // A send buffer far smaller than the body: the first send takes a part of it.
  opensock::http::session session(
      io.get_executor(), opensock::default_socket_factory{} |
                             opensock::set_option(asio::socket_base::send_buffer_size(4096)));
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/body-length";
  std::string body(1 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  auto lines = opensock::test::run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> seen;
    seen.push_back((co_await session.post(url, body)).body);
    seen.push_back((co_await session.put(url, body.substr(1))).body);
    co_return seen;
  }());
  CHECK(lines == std::vector<std::string>{"POST 1048576\n", "PUT 1048575\n"});
}

TEST_CASE("co_await session.request(req, out) fills a reused response and returns the error") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);
  opensock::http::response out;
  auto seen = opensock::test::run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> bodies;
    // A long body, then a shorter one over it: the second must not keep the first's tail.
    for (const char* path : {"/files/hello.txt", "/echo-method", "/files/hello.txt"}) {
      const auto req = make_request("GET", base + path);
      const std::error_code ec = co_await session.request(req, out);
      bodies.push_back(ec ? ec.message() : out.body + "|" + out.effective_url.path);
    }
    // An error comes back as the code, not thrown.
    const auto refused = make_request("GET", "http://127.0.0.1:1/");
    const std::error_code ec = co_await session.request(refused, out);
    bodies.push_back(std::to_string(opensock::curl_code(ec)));
    co_return bodies;
  }());
  CHECK(seen == std::vector<std::string>{"hello, opensock\n|/files/hello.txt",
                                         "GET /echo-method\n|/echo-method",
                                         "hello, opensock\n|/files/hello.txt", "7"});
}

TEST_CASE("a response reused across requests to two origins keeps its storage bounded") {
  asio::io_context io;
  scripted_http_server server(
      io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-One: 1\r\nX-Two: two\r\nX-Three: three\r\n\r\nok");
  opensock::http::session session(io.get_executor());
  const auto port = std::to_string(server.port());
  const auto get = make_request("GET", "http://127.0.0.1:" + port + "/");
  auto post = make_request("POST", "http://localhost:" + port + "/");
  post.body = "posted";
  response out;
  std::size_t most_header_bytes = 0;
  std::size_t failures = 0;
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10000; ++i) {
      if (co_await session.request(i % 2 ? get : post, out)) ++failures;
      most_header_bytes = std::max(most_header_bytes, out.headers.capacity_bytes());
    }
  }(), 120s);
  CHECK(failures == 0);
  CHECK(out.body == "ok");
  CHECK(session.idle_connections() == 2);
  // The headers take under 100 bytes: their storage stays within a small multiple.
  CHECK(most_header_bytes <= 1024);
  CHECK(out.body.capacity() <= 1024);
}

TEST_CASE("a response tells how it was obtained: its connection, attempts and times") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  opensock::http::session session(io.get_executor());
  auto [ec1, first] = request(io, session, make_request("GET", server.url()));
  auto [ec2, second] = request(io, session, make_request("GET", server.url()));
  REQUIRE(!ec1);
  REQUIRE(!ec2);
  const auto& made = first.info;
  CHECK(!made.reused);
  CHECK(made.connection_id == 1);
  REQUIRE(made.route);
  CHECK(made.route->origin.host == "127.0.0.1");
  CHECK(made.route->origin.port == server.port());
  CHECK(!made.route->secure);
  REQUIRE(made.attempts.size() == 1);
  CHECK(made.attempts[0].outcome == opensock::attempt_outcome::connected);
  CHECK(made.attempts[0].endpoint == first.remote);
  // This end of the connection: loopback, and the same for the request that reused it.
  CHECK(first.local.address().is_loopback());
  CHECK(first.local.port() != 0);
  CHECK(second.local == first.local);
  CHECK(made.connect.name_lookup <= made.connect.connect);
  CHECK(made.connect.connect <= made.first_byte);
  CHECK(made.first_byte <= made.total);
  CHECK(made.total > std::chrono::steady_clock::duration::zero());
  const auto& reused = second.info;
  CHECK(reused.reused);
  CHECK(reused.connection_id == 1);
  CHECK(reused.attempts.empty());
  CHECK(reused.route == made.route);  // the connection's, shared
  CHECK(reused.connect.connect == std::chrono::steady_clock::duration::zero());
  CHECK(reused.first_byte <= reused.total);
}

TEST_CASE("io_context::run() returns once the last request is done, with a 30 s total limit set") {
  // The server runs on an io_context of its own, which would otherwise keep run() busy.
  asio::io_context server_io;
  scripted_http_server server(server_io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  std::thread server_thread([&] { server_io.run(); });
  asio::io_context io;
  opensock::http::session_options options;
  options.timeouts.total = 30s;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  std::chrono::steady_clock::time_point last_done;
  int done = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
          auto r = co_await session.get(server.url());
          done += r.body == "ok" ? 1 : 0;
        }
        last_done = std::chrono::steady_clock::now();
      },
      asio::detached);
  io.run();
  const auto returned = std::chrono::steady_clock::now();
  server_io.stop();
  server_thread.join();
  CHECK(done == 3);
  CHECK(returned - last_done < 100ms);
  CHECK(session.idle_connections() == 1);  // kept, and not what kept run() going
}

TEST_CASE("a 101 hands its connection over with the bytes read past the response") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  server.routes["/upgrade"] =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nHELLO";
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  std::optional<opensock::http::handed_over_connection<tcp::socket>> taken;
  response out;
  std::error_code ec;
  const auto upgrade = make_request("GET", server.url("/upgrade"));
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    ec = co_await session.handed_over(upgrade, out, taken);
  }());
  REQUIRE(!ec);
  CHECK(out.status == 101);
  REQUIRE(taken);
  CHECK(taken->buffered == "HELLO");
  CHECK(taken->stream.lowest_layer().is_open());
  CHECK(taken->remote == out.remote);
  CHECK(session.idle_connections() == 0);
  CHECK(closed == 0);  // the caller's now
  // Any other response leaves the connection with the session.
  std::optional<opensock::http::handed_over_connection<tcp::socket>> none;
  const auto plain = make_request("GET", server.url());
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    ec = co_await session.handed_over(plain, out, none);
  }());
  CHECK(!ec);
  CHECK(!none);
  CHECK(session.idle_connections() == 1);
  // A 101 to a request that was not sent to switch is refused, its connection closed.
  const auto unasked = make_request("GET", server.url("/upgrade"));
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    ec = co_await session.request(unasked, out);
  }());
  CHECK(ec == opensock::error::unrequested_protocol_switch);
  CHECK(opensock::curl_code(ec) == 8);
  CHECK(out.status == 101);
  CHECK(session.idle_connections() == 0);
  CHECK(closed == 1);  // the connection it came on, closed by the session
}

TEST_CASE("get, post and the other methods as asynchronous operations with any completion token") {
  // The server runs on an io_context of its own: this one's run() returns when the
  // requests are done.
  asio::io_context server_io;
  scripted_http_server server(server_io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  std::thread server_thread([&] { server_io.run(); });
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  std::error_code callback_ec;
  std::string callback_body;
  session.async_get(server.url(), [&](std::error_code ec, response r) {
    callback_ec = ec;
    callback_body = r.body;
  });
  auto future = session.async_post(server.url("/p"), "x=1", asio::use_future);
#if ASIO_VERSION >= 102400
  auto deferred = session.async_head(server.url(), asio::deferred);
#else
  auto deferred = session.async_head(server.url(), asio::experimental::deferred);
#endif
  std::error_code malformed;
  session.async_get("http://[::1", [&](std::error_code ec, response) { malformed = ec; });
  std::error_code deferred_ec;
  std::move(deferred)([&](std::error_code ec, response) { deferred_ec = ec; });
  io.run();
  server_io.stop();
  server_thread.join();
  CHECK(!callback_ec);
  CHECK(callback_body == "ok");
  CHECK(future.get().body == "ok");
  CHECK(!deferred_ec);
  CHECK(malformed == opensock::error::url_malformat);
  CHECK(std::count(server.log.begin(), server.log.end(), "POST /p body=x=1 auth=no") == 1);
}

TEST_CASE("POSTs paced slower than nginx's keep-alive timeout: none fails, none is sent twice") {
  const auto port = opensock::test::peer_port("keepalive-1s.port");
  if (!port) {
    WARN("the suite's nginx is not running (run through ctest)");
    return;
  }
  asio::io_context io;
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/echo-method";
  int failures = 0;
  for (int i = 0; i < 4; ++i) {
    auto post = make_request("POST", url);
    post.body = "once";
    auto [ec, r] = request(io, session, post);
    if (ec || r.body != "POST /echo-method\n") ++failures;
    std::this_thread::sleep_for(1300ms);  // nginx closes the idle connection after 1 s
  }
  CHECK(failures == 0);
  CHECK(opened == 4);  // one connection per POST: never a second for the same POST
}
