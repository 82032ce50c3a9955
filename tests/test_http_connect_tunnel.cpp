#include <opensock/http/connect_tunnel.hpp>

#include <opensock/connect_only.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/loopback_listener.hpp"
#include "support/nginx.hpp"
#include "support/proxy_peers.hpp"
#include "support/run.hpp"
#include "support/scripted_proxy.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <string>

using asio::ip::tcp;
using opensock::proxy;
using opensock::proxy_kind;
using opensock::test::run;
using opensock::test::scripted_proxy;

namespace {

// The request head the proxy received.
asio::awaitable<std::string> receive_head(tcp::socket& s) {
  asio::streambuf in;
  const auto n = co_await asio::async_read_until(s, in, "\r\n\r\n", asio::use_awaitable);
  co_return std::string(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
}

asio::awaitable<void> send(tcp::socket& s, const std::string& text) {
  co_await asio::async_write(s, asio::buffer(text), asio::use_awaitable);
}

struct tunnel_outcome {
  std::error_code error;
  int status = 0;
  std::string request;
  std::string head;
  std::string early_bytes;
};

// Connects to the proxy on `proxy_port` and asks it for a tunnel to `host`:`port`.
tunnel_outcome tunnel(asio::io_context& io, std::uint16_t proxy_port, const proxy& via,
                      const std::string& host, std::uint16_t port, tcp::socket* keep = nullptr,
                      opensock::http::parser_limits limits = {}) {
  tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), proxy_port});
  tunnel_outcome outcome;
  opensock::http::proxy_answer answer;
  outcome.error =
      run(io, opensock::http::connect_tunnel(socket, via, host, port, answer, limits));
  outcome.status = answer.status;
  outcome.request = std::move(answer.request);
  outcome.head = std::move(answer.head);
  outcome.early_bytes = std::move(answer.early_bytes);
  if (keep) *keep = std::move(socket);
  return outcome;
}

const proxy local_proxy(proxy_kind::http, "127.0.0.1", 3128);

// A session's options with one HTTP proxy on `port`, given user alice and password s3cret
// for `schemes`.
opensock::http::session_options through_proxy_as_alice(std::uint16_t port,
                                                      opensock::http::auth_schemes schemes) {
  opensock::http::session_options options;
  proxy via(proxy_kind::http, "127.0.0.1", port);
  via.user = "alice";
  via.password = "s3cret";
  via.auth = schemes;
  options.proxies.push_back(via);
  return options;
}

}  // namespace

TEST_CASE("CONNECT: curl's request, and the tunnel's first bytes left in the stream") {
  asio::io_context io;
  std::string head;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    head = co_await receive_head(s);
    const std::string answer = "HTTP/1.1 200 Connection established\r\n\r\nhello";
    co_await send(s, answer);
  });
  tcp::socket socket(io);
  const auto outcome = tunnel(io, peer.port(), local_proxy, "example.test", 443, &socket);
  REQUIRE(!outcome.error);
  CHECK(outcome.status == 200);
  CHECK(head ==
        "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n"
        "Proxy-Connection: Keep-Alive\r\n\r\n");
  CHECK(outcome.request == head);
  CHECK(outcome.head == "HTTP/1.1 200 Connection established\r\n\r\n");
  // What came with the answer is given back; the rest is still in the socket.
  std::string tunnel_bytes = outcome.early_bytes;
  REQUIRE(tunnel_bytes.size() <= 5);
  tunnel_bytes.resize(5);
  asio::read(socket, asio::buffer(tunnel_bytes.data() + outcome.early_bytes.size(),
                                  5 - outcome.early_bytes.size()));
  CHECK(tunnel_bytes == "hello");
}

TEST_CASE("CONNECT: tunnel bytes that came with the answer are read first") {
  asio::io_context io;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive_head(s);
    co_await send(s, "HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-server\r\n");
    co_await send(s, "more");
    asio::steady_timer hold(s.get_executor(), std::chrono::seconds(5));
    co_await hold.async_wait(asio::use_awaitable);
  });
  opensock::connect_only_session session(io.get_executor());
  opensock::route r(opensock::origin("example.test", 22, "tcp"));
  r.proxies.push_back(proxy(proxy_kind::http, "127.0.0.1", peer.port()));
  REQUIRE(!opensock::test::run_connect(io, session, r));
  std::string received(20, '\0');
  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_read(session.stream(), asio::buffer(received), asio::use_awaitable);
  }());
  CHECK(received == "SSH-2.0-server\r\nmore");
}

TEST_CASE("CONNECT: Basic credentials, an IPv6 target in brackets, an HTTP/1.0 answer") {
  asio::io_context io;
  std::string head;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    head = co_await receive_head(s);
    const std::string answer = "HTTP/1.0 200 OK\r\nProxy-Agent: test\r\n\r\n";
    co_await send(s, answer);
  });
  proxy via = local_proxy;
  via.user = "alice";
  via.password = "s3cret";
  CHECK(!tunnel(io, peer.port(), via, "2001:db8::1", 8443).error);
  CHECK(head ==
        "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n"
        "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\nProxy-Connection: Keep-Alive\r\n\r\n");
}

TEST_CASE("CONNECT: the proxy's own fields, in curl's places or in place of opensock's") {
  std::string head;
  const auto asked = [&](const proxy& via) {
    asio::io_context io;
    scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
      head = co_await receive_head(s);
      co_await send(s, "HTTP/1.1 200 OK\r\n\r\n");
    });
    return tunnel(io, peer.port(), via, "example.test", 443).error;
  };
  // What curl 7.88 sends for `curl -p -A t -x u:p@127.0.0.1 -H 'X-A: 1' --proxy-header
  // 'X-P: 2' http://example.test:443/`: the User-Agent of -A before Proxy-Connection.
  proxy via = local_proxy;
  via.user = "u";
  via.password = "p";
  via.connect_headers.add("User-Agent", "t");
  via.connect_headers.add("X-P", "2");
  CHECK(!asked(via));
  CHECK(head ==
        "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n"
        "Proxy-Authorization: Basic dTpw\r\nUser-Agent: t\r\nProxy-Connection: Keep-Alive\r\n"
        "X-P: 2\r\n\r\n");
  // Fields of the caller's replace opensock's Host, credentials and Proxy-Connection.
  via.connect_headers.clear();
  via.connect_headers.add("host", "h");
  via.connect_headers.add("Proxy-Authorization", "Bearer x");
  via.connect_headers.add("Proxy-Connection", "close");
  CHECK(!asked(via));
  CHECK(head ==
        "CONNECT example.test:443 HTTP/1.1\r\nhost: h\r\nProxy-Authorization: Bearer x\r\n"
        "Proxy-Connection: close\r\n\r\n");
  // A line break in a field ends the tunnel before anything is sent.
  via.connect_headers.clear();
  via.connect_headers.add("X-A", "1\r\nX-B: 2");
  head.clear();
  CHECK(asked(via) == opensock::error::invalid_request_field);
  CHECK(head.empty());
}

TEST_CASE("CONNECT refused, cut short or not answered in HTTP: 56, or the parser's error") {
  struct answer_case {
    const char* what;
    std::string answer;
    std::error_code expected;
    int status;
  };
  const answer_case cases[] = {
      {"407", "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
       opensock::error::tunnel_failed, 407},
      {"403 with a body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
       opensock::error::tunnel_failed, 403},
      {"502", "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n",
       opensock::error::tunnel_failed, 502},
      {"an interim 100 before the answer",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
       opensock::error::tunnel_failed, 407},
      {"closed inside the head", "HTTP/1.1 200 Connection established\r\n",
       opensock::error::tunnel_aborted, 0},
      {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", opensock::error::http09_not_allowed, 0},
  };
  for (const auto& c : cases) {
    asio::io_context io;
    scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
      co_await receive_head(s);
      co_await send(s, c.answer);
      s.close();
    });
    CAPTURE(c.what);
    const auto outcome = tunnel(io, peer.port(), local_proxy, "example.test", 443);
    CHECK(outcome.error == c.expected);
    CHECK(outcome.status == c.status);
    // The head as it came, an interim response's included, not what followed it.
    if (c.status) CHECK(outcome.head == c.answer.substr(0, c.answer.rfind("\r\n\r\n") + 4));
  }
  asio::io_context io;
  scripted_proxy endless(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive_head(s);
    const std::string answer = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(200, 'x') + "\r\n\r\n";
    co_await send(s, answer);
  });
  opensock::http::parser_limits small;
  small.max_header_bytes = 128;
  const auto outcome =
      tunnel(io, endless.port(), local_proxy, "example.test", 443, nullptr, small);
  CHECK(outcome.error == opensock::error::response_headers_too_large);
  CHECK(opensock::curl_code(outcome.error) == 56);
}

TEST_CASE("through tinyproxy: a tunnel to a loopback server, credentials, a refused target") {
  auto open = opensock::test::start_tinyproxy();
  auto guarded = opensock::test::start_tinyproxy("alice", "s3cret");
  if (!open || !guarded) return;
  asio::io_context io;
  opensock::test::loopback_listener server(io);
  tcp::socket socket(io);
  REQUIRE(!tunnel(io, open->port(), local_proxy, "127.0.0.1", server.port(), &socket).error);
  asio::write(socket, asio::buffer("ping", 4));
  run(io, [&]() -> asio::awaitable<void> {
    while (server.connections().empty()) {
      asio::steady_timer tick(io, std::chrono::milliseconds(5));
      co_await tick.async_wait(asio::use_awaitable);
    }
    char got[4];
    co_await asio::async_read(server.connections().at(0), asio::buffer(got), asio::use_awaitable);
    CHECK(std::string(got, 4) == "ping");
  }());

  proxy via = local_proxy;
  via.user = "alice";
  via.password = "s3cret";
  CHECK(!tunnel(io, guarded->port(), via, "127.0.0.1", server.port()).error);
  const auto unauthorised = tunnel(io, guarded->port(), local_proxy, "127.0.0.1", server.port());
  CHECK(unauthorised.error == opensock::error::tunnel_failed);
  CHECK(unauthorised.status == 407);

  const auto nothing_there =
      tunnel(io, open->port(), local_proxy, "127.0.0.1", opensock::test::proxy_peer::free_port());
  CHECK(nothing_there.error == opensock::error::tunnel_failed);
  CHECK(opensock::curl_code(nothing_there.error) == 7);
}

TEST_CASE("a 407 with a Digest challenge is answered on the same connection") {
  asio::io_context io;
  std::string first, second;
  const std::string challenge =
      "HTTP/1.1 407 Proxy Authentication Required\r\n"
      "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n0nce\", qop=\"auth\"\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    first = co_await receive_head(s);
    // The body comes in pieces, a chunk's line cut in two.
    co_await send(s, challenge + "6\r\nden");
    co_await send(s, "ied\r\n0");
    co_await send(s, "\r\n\r\n");
    second = co_await receive_head(s);
    co_await send(s, std::string("HTTP/1.1 200 Connection established\r\n\r\n"));
  });
  proxy via = local_proxy;
  via.user = "alice";
  via.password = "s3cret";
  via.auth = opensock::http::auth_scheme::digest;
  const auto outcome = tunnel(io, peer.port(), via, "::1", 8443);
  INFO(outcome.error.message() << " " << outcome.request << outcome.head);
  REQUIRE(!outcome.error);
  CHECK(outcome.status == 200);
  // Nothing is sent before the challenge; the answer names CONNECT's authority.
  CHECK(first.find("Proxy-Authorization") == std::string::npos);
  CHECK(second.starts_with("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
                           "Proxy-Authorization: Digest username=\"alice\", realm=\"proxy\", "
                           "nonce=\"n0nce\", uri=\"[::1]:8443\""));
  CHECK(second.find("nc=00000001, qop=auth, response=\"") != std::string::npos);
  // Every request and every answer's head, in order; the 407's body in neither.
  CHECK(outcome.request == first + second);
  CHECK(outcome.head == challenge + "HTTP/1.1 200 Connection established\r\n\r\n");
}

TEST_CASE("a 407 is not answered on a connection the proxy closes or after bytes it sent") {
  asio::io_context io;
  proxy via = local_proxy;
  via.user = "alice";
  via.password = "s3cret";
  via.auth = opensock::http::auth_schemes::any;
  const std::string challenge =
      "HTTP/1.1 407 Proxy Authentication Required\r\n"
      "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n0nce\", qop=\"auth\"\r\n";
  for (const std::string& ending :
       {std::string("Connection: close\r\nContent-Length: 2\r\n\r\nno"),
        std::string("Content-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\n\r\n"),
        std::string("\r\nthe body ends at the close")}) {
    int requests = 0;
    scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
      co_await receive_head(s);
      ++requests;
      co_await send(s, challenge + ending);
      // A second request would be counted before the close.
      std::error_code ec;
      char byte;
      co_await s.async_read_some(asio::buffer(&byte, 1),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) ++requests;
    });
    const auto outcome = tunnel(io, peer.port(), via, "example.test", 443);
    CHECK(outcome.error == opensock::error::tunnel_failed);
    CHECK(outcome.status == 407);
    io.restart();
    io.run();
    CHECK(requests == 1);
  }
}

TEST_CASE("through squid: Digest credentials open a tunnel; wrong ones or Basic alone do not") {
  auto squid = opensock::test::start_squid("alice", "s3cret");
  if (!squid) return;
  asio::io_context io;
  opensock::test::loopback_listener server(io);
  proxy via = local_proxy;
  via.user = "alice";
  via.password = "s3cret";
  for (const auto schemes :
       {opensock::http::auth_schemes(opensock::http::auth_scheme::digest),
        opensock::http::auth_schemes::any}) {
    via.auth = schemes;
    const auto outcome = tunnel(io, squid->port(), via, "127.0.0.1", server.port());
    CHECK(!outcome.error);
    CHECK(outcome.status == 200);
    CHECK(outcome.head.starts_with("HTTP/1.1 407 "));
    CHECK(outcome.request.find("Proxy-Authorization: Digest username=\"alice\"") !=
          std::string::npos);
  }
  via.password = "wrong";
  const auto refused = tunnel(io, squid->port(), via, "127.0.0.1", server.port());
  CHECK(refused.error == opensock::error::tunnel_failed);
  CHECK(refused.status == 407);
  via.password = "s3cret";
  via.auth = opensock::http::auth_scheme::basic;  // sent unasked, and refused
  const auto basic = tunnel(io, squid->port(), via, "127.0.0.1", server.port());
  CHECK(basic.error == opensock::error::tunnel_failed);
  CHECK(basic.status == 407);
  CHECK(basic.request.starts_with("CONNECT "));
  CHECK(basic.request.find("CONNECT ", 1) == std::string::npos);
}

TEST_CASE("through squid: a session's forwarded and tunnelled requests answer its 407") {
  const auto port = opensock::test::nginx_port_or_warn();
  auto squid = opensock::test::start_squid("alice", "s3cret");
  if (!port || !squid) return;
  asio::io_context io;
  auto options = through_proxy_as_alice(squid->port(), opensock::http::auth_scheme::digest);
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/files/hello.txt";
  {
    opensock::http::session forwarding(io.get_executor(), opensock::default_socket_factory{},
                                       options);
    const auto got = run(io, forwarding.get(url));
    CHECK(got.status == 200);
    CHECK(got.body == "hello, opensock\n");
    CHECK(got.info.route->forwarded());
    // A request with a body is sent again whole; the next request of the session is
    // challenged again, as each of curl's transfers is.
    const auto posted = run(io, forwarding.post(url, "data"));
    CHECK(posted.status == 405);  // nginx's answer to a POST to a file
    CHECK(posted.info.reused);
  }
  options.proxy_tunnel = true;
  {
    opensock::http::session tunnelled(io.get_executor(), opensock::default_socket_factory{},
                                      options);
    const auto got = run(io, tunnelled.get(url));
    CHECK(got.body == "hello, opensock\n");
    CHECK(got.info.tunnel_answer.status == 200);
    CHECK(got.info.tunnel_answer.head.starts_with("HTTP/1.1 407 "));
  }
  // Refused: the forwarded request's 407 is its response, as curl gives it.
  options.proxy_tunnel = false;
  options.proxies.front().password = "wrong";
  opensock::http::session refused(io.get_executor(), opensock::default_socket_factory{},
                                  options);
  const auto got = run(io, refused.get(url));
  CHECK(got.status == 407);
}

TEST_CASE("tinyproxy closes after its 407: the tunnel is asked again on a new connection") {
  const auto port = opensock::test::nginx_port_or_warn();
  auto guarded = opensock::test::start_tinyproxy("alice", "s3cret");
  if (!port || !guarded) return;
  asio::io_context io;
  // Nothing is sent before the 407.
  auto options = through_proxy_as_alice(guarded->port(), opensock::http::auth_schemes::any);
  options.proxy_tunnel = true;
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/files/hello.txt";
  const auto connected = [](const opensock::http::response& r) {
    return std::count_if(r.info.attempts.begin(), r.info.attempts.end(), [](const auto& a) {
      return a.outcome == opensock::attempt_outcome::connected;
    });
  };
  {
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                    options);
    const auto got = run(io, session.get(url));
    CHECK(got.body == "hello, opensock\n");
    CHECK(connected(got) == 2);
    const auto& answer = got.info.tunnel_answer;
    CHECK(answer.status == 200);
    // Both connections' exchanges, in order.
    CHECK(answer.head.starts_with("HTTP/1.0 407 "));
    CHECK(answer.head.find("HTTP/1.0 200 ") != std::string::npos);
    CHECK(answer.request.find("Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n") !=
          std::string::npos);
  }
  // Refused again on the new connection: no third one.
  options.proxies.front().password = "wrong";
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                  options);
  std::error_code ec;
  opensock::http::response refused;
  opensock::http::request get("GET", opensock::http::url::parse(url, ec));
  REQUIRE(!ec);
  run(io, [&]() -> asio::awaitable<void> {
    refused = co_await session.async_request(std::move(get),
                                             asio::redirect_error(asio::use_awaitable, ec));
  }());
  CHECK(ec == opensock::error::tunnel_failed);
  // tinyproxy 1.11 answers wrong credentials with 401, others with 407 again.
  const int status = refused.info.tunnel_answer.status;
  CHECK((status == 401 || status == 407));
  CHECK(connected(refused) == 2);
}

TEST_CASE("a chain: a SOCKS5 proxy reaches tinyproxy, which forwards or tunnels to nginx") {
  const auto port = opensock::test::nginx_port_or_warn();
  auto http_proxy = opensock::test::start_tinyproxy();
  auto socks = opensock::test::start_microsocks();
  if (!port || !http_proxy || !socks) return;
  asio::io_context io;
  // curl's --preproxy, then its --proxy.
  opensock::http::session_options options;
  options.proxies.push_back(proxy(proxy_kind::socks5, "127.0.0.1", socks->port()));
  options.proxies.push_back(proxy(proxy_kind::http, "127.0.0.1", http_proxy->port()));
  opensock::http::session chained(io.get_executor(), opensock::default_socket_factory{},
                                  options);
  const std::string url = "http://localhost:" + std::to_string(*port) + "/files/hello.txt";
  const auto response = run(io, chained.get(url));
  CHECK(response.body == "hello, opensock\n");
  CHECK(response.remote.port() == socks->port());
  CHECK(response.info.route->forwarded());
  CHECK(response.info.tunnel_answer.status == 0);

  options.proxy_tunnel = true;
  opensock::http::session tunnelled(io.get_executor(), opensock::default_socket_factory{},
                                    options);
  const auto through_tunnel = run(io, tunnelled.get(url));
  CHECK(through_tunnel.body == "hello, opensock\n");
  CHECK(!through_tunnel.info.route->forwarded());
  CHECK(through_tunnel.info.tunnel_answer.status == 200);
  CHECK(through_tunnel.info.tunnel_answer.head.starts_with("HTTP/1."));

  // A tunnel reaches one origin: a request to another is not sent through it.
  const std::string other = "http://127.0.0.1:" + std::to_string(*port) + "/files/hello.txt";
  const auto elsewhere = run(io, tunnelled.get(other));
  CHECK(elsewhere.body == "hello, opensock\n");
  CHECK(!elsewhere.info.reused);
  CHECK(elsewhere.info.connection_id != through_tunnel.info.connection_id);
  CHECK(elsewhere.info.tunnel_answer.status == 200);
  const auto again = run(io, tunnelled.get(url));
  CHECK(again.info.reused);
  CHECK(again.info.connection_id == through_tunnel.info.connection_id);
}

TEST_CASE("a proxy that never answers: the connect timeout ends the tunnel with 28") {
  for (auto kind : {proxy_kind::http, proxy_kind::socks5h}) {
    CAPTURE(opensock::scheme_of(kind));
    asio::io_context io;
    // Accepts, reads what it is sent, and never answers.
    scripted_proxy silent(io, [&](tcp::socket& s) -> asio::awaitable<void> {
      char sink[512];
      std::error_code ec;
      while (!ec)
        co_await s.async_read_some(asio::buffer(sink),
                                   asio::redirect_error(asio::use_awaitable, ec));
    });
    opensock::http::session_options options;
    options.proxies.push_back(proxy(kind, "127.0.0.1", silent.port()));
    options.timeouts.connect = std::chrono::milliseconds(200);
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                    options);
    std::error_code ec;
    const auto began = std::chrono::steady_clock::now();
    run(io, [&]() -> asio::awaitable<void> {
      opensock::http::response out;
      const auto req = opensock::test::make_request("GET", "https://example.test/");
      ec = co_await session.request(req, out);
    }());
    CHECK(ec == opensock::error::operation_timedout);
    CHECK(opensock::curl_code(ec) == 28);
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(5));
  }
}

TEST_CASE("nginx behind the PROXY protocol hears the socket's ends, a given client, and the "
          "line inside a tunnel") {
  const auto port = opensock::test::peer_port("proxy-protocol.port");
  auto http_proxy = opensock::test::start_tinyproxy();
  if (!port || !http_proxy) {
    WARN("the suite's nginx or tinyproxy is not running (run through ctest)");
    return;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/proxy-protocol";
  // nginx's report: the line's source address and port, destination address and port.
  const auto ends = [](const opensock::http::response& r, const std::string& client,
                       std::uint16_t to) {
    return client + ' ' + std::to_string(r.local.port()) + ' ' + client + ' ' +
           std::to_string(to) + '\n';
  };
  asio::io_context io;
  opensock::http::session_options options;
  // Without the line nginx closes the connection: it does read the line.
  opensock::http::session plain(io.get_executor(), opensock::default_socket_factory{}, options);
  std::error_code refused;
  opensock::http::request get("GET", opensock::http::url::parse(url, refused));
  REQUIRE(!refused);
  run(io, [&]() -> asio::awaitable<void> {
    co_await plain.async_request(std::move(get),
                                 asio::redirect_error(asio::use_awaitable, refused));
  }());
  CHECK(opensock::curl_code(refused) == 52);

  options.proxy_header.emplace();
  opensock::http::session direct(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto own = run(io, direct.get(url));
  CHECK(own.body == ends(own, "127.0.0.1", *port));
  // Once per connection: a kept-alive one carries requests without a second line.
  const auto again = run(io, direct.get(url));
  CHECK(again.info.reused);
  CHECK(again.body == own.body);

  options.proxy_header.emplace(asio::ip::make_address("2001:db8::7"));
  opensock::http::session spoofed(io.get_executor(), opensock::default_socket_factory{},
                                  options);
  const auto given = run(io, spoofed.get(url));
  CHECK(given.body == ends(given, "2001:db8::7", *port));

  // Through a tunnel the line goes inside it, from the ends of the socket to the proxy.
  options.proxy_header.emplace();
  options.proxies.push_back(proxy(proxy_kind::http, "127.0.0.1", http_proxy->port()));
  options.proxy_tunnel = true;
  opensock::http::session tunnelled(io.get_executor(), opensock::default_socket_factory{},
                                    options);
  const auto inside = run(io, tunnelled.get(url));
  CHECK(inside.info.tunnel_answer.status == 200);
  CHECK(inside.body == ends(inside, "127.0.0.1", http_proxy->port()));
}
