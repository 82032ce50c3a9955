// websocket::async_connect through a session against python3-websockets started by the
// suite (echo, fragments, pings, server-initiated close, permessage-deflate, subprotocols,
// TLS), through SOCKS and HTTP proxies, and against scripted answers no real server gives.
#include <opensock/websocket/connect.hpp>

#include <opensock/factory/address_filter.hpp>
#include <opensock/factory/unix_socket.hpp>

#include "support/catch.hpp"
#include "support/nginx.hpp"
#include "support/proxy_peers.hpp"
#include "support/run.hpp"
#include "support/scripted_http_server.hpp"
#include "support/websocket_peer.hpp"

#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace opensock;
using namespace opensock::websocket;

namespace {

constexpr auto awaitable = asio::use_awaitable;

template <class Factory>
asio::awaitable<websocket::connect_result<session_stream<Factory>>> connected(
    http::session<Factory>& session, std::string url, handshake_options options = {},
    stream_options behaviour = {}) {
  std::error_code ec;
  auto result = co_await async_connect(session, std::move(url), std::move(options),
                                       std::move(behaviour), asio::redirect_error(awaitable, ec));
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  REQUIRE(result.stream);
  CHECK(result.response.status == 101);
  co_return result;
}

template <class Stream>
asio::awaitable<std::string> echo(Stream& ws, const std::string& message) {
  co_await ws.async_write(asio::buffer(message), awaitable);
  std::string back;
  co_await ws.async_read(back, awaitable);
  co_return back;
}

}  // namespace

TEST_CASE("text and binary messages echo through ws") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto c = co_await connected(session, peer->url("/echo"));
    auto& ws = *c.stream;
    CHECK(c.response.headers.get("Upgrade").value_or("") == "websocket");
    CHECK(c.response.remote.port() == peer->port());
    CHECK(co_await echo(ws, "hello") == "hello");
    CHECK(ws.got_text());
    ws.binary(true);
    const std::string binary("\x00\xff\x10 binary", 10);
    CHECK(co_await echo(ws, binary) == binary);
    CHECK(ws.got_binary());
    CHECK(co_await echo(ws, "") == "");
    co_await ws.async_close(close_reason(close_code::normal), awaitable);
    CHECK(ws.reason().code == 1000);
  }());
}

TEST_CASE("fragmented replies are read whole and pieces sent are echoed whole") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto c = co_await connected(session, peer->url("/fragments"));
    auto& ws = *c.stream;
    CHECK(co_await echo(ws, "a message in fragments of three") ==
          "a message in fragments of three");
    co_await ws.async_write_some(false, asio::buffer(std::string_view("first ")), awaitable);
    co_await ws.async_write_some(true, asio::buffer(std::string_view("second")), awaitable);
    std::string back;
    co_await ws.async_read(back, awaitable);
    CHECK(back == "first second");
  }());
}

TEST_CASE("the server's ping is answered and its close is seen with its code") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    std::vector<std::string> pings;
    stream_options behaviour;
    behaviour.on_control = [&](opcode op, std::string_view payload) {
      if (op == opcode::ping) pings.emplace_back(payload);
    };
    auto c = co_await connected(session, peer->url("/ping"), handshake_options(), behaviour);
    std::string message;
    co_await c.stream->async_read(message, awaitable);
    CHECK(message == "pong hello");  // the server saw our pong
    CHECK(pings == std::vector<std::string>{"hello"});

    auto closing = co_await connected(session, peer->url("/close"));
    std::error_code ec;
    message.clear();
    co_await closing.stream->async_read(message, asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_closed);
    CHECK(closing.stream->reason().code == 4000);
    CHECK(closing.stream->reason().reason == "bye");
  }());
}

TEST_CASE("permessage-deflate is negotiated and compressed messages go both ways") {
  if (!deflate_built) return;
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    for (int variant = 0; variant < 2; ++variant) {
      handshake_options options;
      options.deflate.enabled = true;
      if (variant == 1) {
        options.deflate.client_no_context_takeover = true;
        options.deflate.server_no_context_takeover = true;
        options.deflate.client_max_window_bits = 10;
        options.deflate.server_max_window_bits = 11;
      }
      auto c = co_await connected(session, peer->url("/extensions"), options);
      auto& ws = *c.stream;
      REQUIRE(ws.negotiated().deflate);
      CHECK(ws.negotiated().deflate->server_no_context_takeover == (variant == 1));
      if (variant == 1) CHECK(ws.negotiated().deflate->server_max_window_bits == 11);
      std::string listed;
      co_await ws.async_read(listed, awaitable);
      CHECK(listed.find("permessage-deflate") != std::string::npos);
      std::string text;
      for (int i = 0; i < 5000; ++i) text += "compressible line " + std::to_string(i % 10) + "\n";
      for (int round = 0; round < 3; ++round) CHECK(co_await echo(ws, text) == text);
      CHECK(co_await echo(ws, "short") == "short");
    }
    // Not offered, not used.
    auto plain = co_await connected(session, peer->url("/extensions"));
    CHECK_FALSE(plain.stream->negotiated().deflate);
  }());
}

TEST_CASE("an inflated message over the limit closes with 1009") {
  if (!deflate_built) return;
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    handshake_options options;
    options.deflate.enabled = true;
    stream_options behaviour;
    behaviour.max_message_size = 100000;
    auto c = co_await connected(session, peer->url("/echo"), options, behaviour);
    // A megabyte of one letter compresses to about a kilobyte: the limit is on what it
    // inflates to.
    const std::string bomb(1 << 20, 'a');
    co_await c.stream->async_write(asio::buffer(bomb), awaitable);
    std::string back;
    std::error_code ec;
    co_await c.stream->async_read(back, asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_message_too_big);
    CHECK(back.size() <= 100000);
  }());
}

TEST_CASE("subprotocols and extra headers reach the server") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    handshake_options options;
    options.subprotocols = {"chat.v9", "chat.v1"};
    auto c = co_await connected(session, peer->url("/subprotocol"), options);
    CHECK(c.stream->negotiated().subprotocol == "chat.v1");
    std::string chosen;
    co_await c.stream->async_read(chosen, awaitable);
    CHECK(chosen == "chat.v1");

    handshake_options with_headers;
    with_headers.headers.add("X-Opensock-Test", "present");
    with_headers.headers.add("Origin", "http://localhost");
    auto h = co_await connected(session, peer->url("/headers"), with_headers);
    std::string seen;
    co_await h.stream->async_read(seen, awaitable);
    CHECK(seen.find("\"x-opensock-test\": \"present\"") != std::string::npos);
    CHECK(seen.find("\"origin\": \"http://localhost\"") != std::string::npos);
    CHECK(seen.find("\"sec-websocket-version\": \"13\"") != std::string::npos);
  }());
}

TEST_CASE("a megabyte message from the server is read whole") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto c = co_await connected(session, peer->url("/big?bytes=1048576"));
    std::vector<unsigned char> big;
    co_await c.stream->async_read(big, awaitable);
    REQUIRE(big.size() == 1048576);
    bool pattern = true;
    for (std::size_t i = 0; i < big.size(); ++i) pattern = pattern && big[i] == i % 251;
    CHECK(pattern);
    CHECK(c.stream->got_binary());
  }());
}

TEST_CASE("a refused upgrade is 22 with the server's response") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    std::error_code ec;
    auto c = co_await async_connect(session, peer->url("/reject"), handshake_options(),
                                    asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_refused);
    CHECK(ec == condition::http_returned_error);
    CHECK(c.response.status == 403);
    CHECK(c.response.body == "no");
    CHECK_FALSE(c.stream);
  }());
}

TEST_CASE("a 101 with the wrong accept value or no upgrade is 8") {
  asio::io_context io;
  const std::string wrong_accept =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const std::string no_upgrade =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n";
  for (const std::string& reply : {wrong_accept, no_upgrade}) {
    test::scripted_http_server server(io, reply);
    http::session<> session(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
      std::error_code ec;
      auto c = co_await async_connect(
          session, "ws://127.0.0.1:" + std::to_string(server.port()) + "/", handshake_options(),
          asio::redirect_error(awaitable, ec));
      CHECK(ec == error::websocket_bad_handshake);
      CHECK(ec == condition::weird_server_reply);
      CHECK_FALSE(c.stream);
    }());
  }
}

TEST_CASE("a ws URL in a plain HTTP request is refused before anything is sent") {
  asio::io_context io;
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    std::error_code ec;
    co_await session.async_get("ws://127.0.0.1:1/", asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_url_for_http);
    CHECK(ec == condition::unsupported_protocol);
    co_await async_connect(session, "http://127.0.0.1:1/", handshake_options(),
                           asio::redirect_error(awaitable, ec));
    CHECK(ec == condition::unsupported_protocol);
  }());
}

TEST_CASE("wss runs TLS to the server and verifies it") {
  auto peer = test::websocket_peer::start_or_warn(true);
  if (!peer) return;
  asio::io_context io;
  http::session_options options;
  options.tls.ca_file = test::nginx_pki("ca.pem");
  http::session<> session(io.get_executor(), {}, options);
  http::session<> unverified(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto c = co_await connected(session, peer->url("/echo"));
    CHECK(co_await echo(*c.stream, "over TLS") == "over TLS");
    std::error_code ec;
    co_await async_connect(unverified, peer->url("/echo"), handshake_options(),
                           asio::redirect_error(awaitable, ec));
    CHECK(ec == condition::peer_failed_verification);
  }());
}

TEST_CASE("ws goes through a SOCKS5 proxy and an HTTP proxy's tunnel") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  auto socks = test::start_microsocks();
  auto http_proxy = test::start_tinyproxy();
  if (!socks || !http_proxy) return;
  asio::io_context io;
  for (const std::string& proxy_url : {"socks5h://127.0.0.1:" + std::to_string(socks->port()),
                                      "http://127.0.0.1:" + std::to_string(http_proxy->port())}) {
    http::session_options options;
    std::error_code ec;
    const auto parsed = proxy::parse(proxy_url, ec);
    REQUIRE(parsed);
    options.proxies.push_back(*parsed);
    http::session<> session(io.get_executor(), {}, options);
    test::run(io, [&]() -> asio::awaitable<void> {
      auto c = co_await connected(session, peer->url("/echo"));
      CHECK(co_await echo(*c.stream, "via " + proxy_url) == "via " + proxy_url);
      if (proxy_url.starts_with("http:")) CHECK(c.response.info.tunnel_answer.status == 200);
    }());
  }
}

TEST_CASE("the socket factory decides here too: a denied address is 7") {
  auto peer = test::websocket_peer::start_or_warn();
  if (!peer) return;
  asio::io_context io;
  auto factory = default_socket_factory{} | deny({"127.0.0.0/8"});
  http::session<decltype(factory)> session(io.get_executor(), factory);
  test::run(io, [&]() -> asio::awaitable<void> {
    std::error_code ec;
    co_await async_connect(session, peer->url("/echo"), handshake_options(),
                           asio::redirect_error(awaitable, ec));
    CHECK(ec == condition::couldnt_connect);
  }());
}

TEST_CASE("a server that never answers the upgrade runs into the handshake's time limit") {
  asio::io_context io;
  test::scripted_http_server silent(io, "");
  http::session<> session(io.get_executor());
  test::run(io, [&]() -> asio::awaitable<void> {
    handshake_options options;
    http::request_timeouts limits;
    limits.total = std::chrono::milliseconds(200);
    options.timeouts = limits;
    std::error_code ec;
    auto c = co_await async_connect(
        session, "ws://127.0.0.1:" + std::to_string(silent.port()) + "/", options,
        asio::redirect_error(awaitable, ec));
    CHECK(ec == error::operation_timedout);
    CHECK_FALSE(c.stream);
  }());
}

TEST_CASE("ws reaches a server on a Unix socket through the factory's own stream") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("opensock-ws-" + std::to_string(::getpid()) + ".sock");
  auto peer = test::websocket_peer::start_or_warn(false, path.string());
  if (!peer) return;
  asio::io_context io;
  http::session<unix_socket_factory> session(
      io.get_executor(), unix_socket_factory(asio::local::stream_protocol::endpoint(path.string())));
  test::run(io, [&]() -> asio::awaitable<void> {
    // The URL names the origin, for the Host header; the factory decides where it goes.
    auto c = co_await connected(session, "ws://localhost/echo");
    CHECK(co_await echo(*c.stream, "over a Unix socket") == "over a Unix socket");
  }());
  peer.reset();
  std::filesystem::remove(path);
}
