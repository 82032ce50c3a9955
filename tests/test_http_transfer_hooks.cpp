#include <opensock/http/transfer_hooks.hpp>

#include <opensock/format.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/loopback_listener.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

using opensock::http::connection_info;
using opensock::http::transfer_hooks;
using opensock::test::make_request;
using opensock::test::request;
using opensock::test::scripted_http_server;

TEST_CASE("the header hook sees every head line as received, 1xx and trailers included") {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
  const std::string head =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Folded: one\r\n  two\r\nTrailer: X-Sum\r\n\r\n";
  const std::string body = "3\r\nabc\r\n0\r\n";
  const std::string trailer = "X-Sum: 7\n\r\n";  // a bare LF is kept as it came
  asio::io_context io;
  scripted_http_server server(io, interim + head + body + trailer);
  opensock::http::session session(io.get_executor());
  std::string lines;
  int calls = 0;
  transfer_hooks hooks;
  hooks.on_header_line = [&](std::string_view line) {
    lines.append(line);
    ++calls;
  };
  auto [ec, r] = request(io, session, make_request("GET", server.url()), hooks);
  REQUIRE(!ec);
  CHECK(r.body == "abc");
  CHECK(lines == interim + head + trailer);
  CHECK(calls == 13);
  CHECK(r.trailers.get("x-sum") == "7");
}

TEST_CASE("the request head hook sees the bytes the server received") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 204 No Content\r\n\r\n");
  opensock::http::session session(io.get_executor());
  std::string sent;
  transfer_hooks hooks;
  hooks.on_request_head = [&](std::string_view head) { sent.append(head); };
  auto req = make_request("PUT", server.url("/x?y=1"));
  req.headers.add("X-Custom", "yes");
  req.body = "body";
  REQUIRE(!request(io, session, req, hooks).first);
  REQUIRE(server.heads.size() == 1);
  CHECK(sent == server.heads[0]);
  CHECK(sent.starts_with("PUT /x?y=1 HTTP/1.1\r\n"));
}

TEST_CASE("the connection hook tells new from reused connections, with the peer") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  opensock::http::session session(io.get_executor());
  std::vector<std::string> seen;
  transfer_hooks hooks;
  hooks.on_connection = [&](const connection_info& c) {
    seen.push_back(std::string(c.reused ? "reused " : "new ") + c.remote.address().to_string() +
                   " " + std::to_string(c.attempts ? c.attempts->size() : 0));
  };
  auto [ec1, first] = request(io, session, make_request("GET", server.url()), hooks);
  auto [ec2, second] = request(io, session, make_request("GET", server.url()), hooks);
  REQUIRE(!ec1);
  REQUIRE(!ec2);
  CHECK(seen == std::vector<std::string>{"new 127.0.0.1 1", "reused 127.0.0.1 0"});
  CHECK(first.remote == second.remote);
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(first.remote.port()) + "/");
}

TEST_CASE("a body the drop hook refuses is read past on a kept connection, not awaited on a closing one") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept");
  server.routes["/dropped"] = "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\ndropped";
  // No length and Connection: close, and the server holds each connection open after
  // its reply: the body would run to a close that never comes.
  server.routes["/closing"] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nnever";
  opensock::http::session_options options;
  options.timeouts.total = std::chrono::seconds(5);
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  std::vector<int> asked;
  std::vector<bool> reused;
  std::string sunk;
  transfer_hooks hooks;
  hooks.drop_body = [&](int status, const opensock::http::fields& headers) {
    asked.push_back(status);
    return status == 404 || headers.contains("connection");
  };
  hooks.on_connection = [&](const connection_info& c) { reused.push_back(c.reused); };
  hooks.on_body = [&](std::string_view piece) {
    sunk += piece;
    return true;
  };
  for (const char* path : {"/dropped", "/kept", "/closing"}) {
    INFO(path);
    const auto [ec, r] = request(io, session, make_request("GET", server.url(path)), hooks);
    CHECK(!ec);
    CHECK(r.status == (path == std::string_view("/dropped") ? 404 : 200));
  }
  CHECK(asked == std::vector<int>{404, 200, 200});
  CHECK(sunk == "kept");
  // The dropped body was read, so its connection carried the next two requests; the
  // one that closes after its response is not kept.
  CHECK(reused == std::vector<bool>{false, true, true});
  CHECK(session.idle_connections() == 0);
}

TEST_CASE("the connect error hook sees every failed attempt") {
  asio::io_context io;
  opensock::test::closed_port nothing(io);
  opensock::http::session session(io.get_executor());
  std::vector<std::string> attempts;
  std::error_code reported;
  transfer_hooks hooks;
  hooks.on_connect_error = [&](const auto& records, std::error_code ec) {
    for (const auto& r : records) attempts.push_back(fmt::format("{} {}", r.endpoint, r.error.message()));
    reported = ec;
  };
  const auto url = "http://127.0.0.1:" + std::to_string(nothing.port()) + "/";
  const auto ec = request(io, session, make_request("GET", url), hooks).first;
  CHECK(ec == opensock::error::couldnt_connect);
  CHECK(reported == ec);
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0] == "127.0.0.1:" + std::to_string(nothing.port()) + " " +
                           std::make_error_code(std::errc::connection_refused).message());
}
