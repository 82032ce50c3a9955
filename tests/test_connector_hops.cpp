#include <opensock/connector/hops.hpp>

#include <opensock/connect_only.hpp>
#include <opensock/factory/address_filter.hpp>
#include <opensock/factory/any.hpp>
#include <opensock/factory/ssrf_guard.hpp>
#include <opensock/factory/with_close.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/loopback_listener.hpp"
#include "support/proxy_peers.hpp"
#include "support/nginx.hpp"
#include "support/run.hpp"
#include "support/scripted_proxy.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <string>
#include <vector>

using asio::ip::tcp;
using opensock::connect_only_session;
using opensock::open_context;
using opensock::proxy;
using opensock::proxy_kind;
using opensock::route;
using opensock::any_socket_factory;
using opensock::test::loopback_listener;
using opensock::test::start_microsocks;
using opensock::test::run;
using opensock::test::run_connect;

namespace {

route through(std::string host, std::uint16_t port, std::vector<proxy> proxies) {
  route r(opensock::origin(std::move(host), port));
  r.proxies = std::move(proxies);
  return r;
}

// What the server at the end of the connection receives of "ping".
template <class Session>
std::string ping_through(asio::io_context& io, Session& session, loopback_listener& server) {
  std::string received;
  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(session.stream(), asio::buffer("ping", 4), asio::use_awaitable);
    while (server.connections().empty()) {
      asio::steady_timer tick(io, std::chrono::milliseconds(5));
      co_await tick.async_wait(asio::use_awaitable);
    }
    char got[4];
    co_await asio::async_read(server.connections().back(), asio::buffer(got), asio::use_awaitable);
    received.assign(got, 4);
  }());
  return received;
}

// A name glibc refuses without asking a server: a proxy asked to resolve it fails.
const std::string unresolvable = std::string(64, 'x') + ".invalid";

// The factory of the guard tests: refuses 127.0.0.2 and ::1, lets 127.0.0.1 through.
auto guarded_factory() {
  return opensock::default_socket_factory{} | opensock::deny({"127.0.0.2/32", "::1/128"});
}

}  // namespace

TEST_CASE("a route through a SOCKS5 proxy: the factory opens the socket to the proxy") {
  auto socks = start_microsocks();
  if (!socks) return;
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> seen;
  connect_only_session session(io.get_executor(), any_socket_factory([&](open_context<tcp>& c) {
    seen.push_back(std::string(c.purpose == opensock::purpose::proxy ? "proxy " : "origin ") +
                   std::string(c.scheme) + " " + std::string(c.host) + ":" +
                   std::to_string(c.port) + " for " + c.origin->host + ":" +
                   std::to_string(c.origin->port));
    return opensock::default_socket_factory{}(c);
  }));
  const auto target =
      through("127.0.0.1", server.port(), {proxy(proxy_kind::socks5, "127.0.0.1", socks->port())});
  REQUIRE(!run_connect(io, session, target));
  CHECK(session.remote_endpoint().port() == socks->port());
  CHECK(ping_through(io, session, server) == "ping");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == "proxy socks5 127.0.0.1:" + std::to_string(socks->port()) +
                       " for 127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("SOCKS5h and SOCKS5 proxies each reach the server; a chain passes each hop") {
  auto first = start_microsocks();
  auto second = start_microsocks();
  if (!first || !second) return;
  asio::io_context io;
  loopback_listener server(io);
  const auto factory = any_socket_factory(opensock::default_socket_factory{});
  for (auto kind : {proxy_kind::socks5h, proxy_kind::socks5}) {
    connect_only_session session(io.get_executor(), factory);
    CAPTURE(opensock::scheme_of(kind));
    route r = through("127.0.0.1", server.port(), {proxy(kind, "127.0.0.1", first->port())});
    REQUIRE(!run_connect(io, session, r));
    CHECK(ping_through(io, session, server) == "ping");
  }
  connect_only_session chained(io.get_executor(), factory);
  REQUIRE(!run_connect(io, chained,
                       through("127.0.0.1", server.port(),
                               {proxy(proxy_kind::socks5, "127.0.0.1", first->port()),
                                proxy(proxy_kind::socks5h, "127.0.0.1", second->port())})));
  CHECK(chained.remote_endpoint().port() == first->port());
  CHECK(ping_through(io, chained, server) == "ping");
}

TEST_CASE("through dante: SOCKS4 given the first IPv4 address of a name, and SOCKS5") {
  auto dante = opensock::test::start_dante();
  if (!dante) return;
  asio::io_context io;
  loopback_listener server(io);
  const auto factory = any_socket_factory(opensock::default_socket_factory{});
  // localhost is ::1 first, then 127.0.0.1: SOCKS4 carries the IPv4 one (SOCKS5 would
  // carry ::1, where the server does not listen).
  for (auto kind : {proxy_kind::socks4, proxy_kind::socks5}) {
    CAPTURE(opensock::scheme_of(kind));
    connect_only_session session(io.get_executor(), factory);
    const auto target = through(kind == proxy_kind::socks4 ? "localhost" : "127.0.0.1",
                                server.port(), {proxy(kind, "127.0.0.1", dante->port())});
    REQUIRE(!run_connect(io, session, target));
    CHECK(ping_through(io, session, server) == "ping");
  }
  // Behind a guard, SOCKS4 too is given the checked address.
  connect_only_session guarded(io.get_executor(), guarded_factory());
  route r = through(unresolvable, server.port(),
                    {proxy(proxy_kind::socks4, "127.0.0.1", dante->port())});
  r.addresses = {asio::ip::make_address("127.0.0.2"), asio::ip::make_address("127.0.0.1")};
  REQUIRE(!run_connect(io, guarded, r));
  CHECK(ping_through(io, guarded, server) == "ping");
}

TEST_CASE("a proxy whose name does not resolve is 5; an origin the proxy cannot reach is 97") {
  auto socks = start_microsocks();
  if (!socks) return;
  asio::io_context io;
  connect_only_session session(io.get_executor(),
                               any_socket_factory(opensock::default_socket_factory{}));
  // A first label over 63 bytes: glibc refuses the name without asking a server.
  const auto no_proxy =
      run_connect(io, session, through("127.0.0.1", 80, {proxy(proxy_kind::socks5, unresolvable)}));
  CHECK(no_proxy == opensock::error::couldnt_resolve_proxy);
  CHECK(opensock::curl_code(no_proxy) == 5);

  asio::ip::tcp::acceptor closed(io, {asio::ip::address_v4::loopback(), 0});
  const auto port = closed.local_endpoint().port();
  closed.close();
  const auto refused = run_connect(
      io, session,
      through("127.0.0.1", port, {proxy(proxy_kind::socks5, "127.0.0.1", socks->port())}));
  CHECK(refused == opensock::error::proxy_reply_connection_refused);
  CHECK(opensock::curl_code(refused) == 97);
  CHECK(!session.is_connected());
}

TEST_CASE("routes through different proxies are different routes") {
  route a = through("example.test", 443, {proxy(proxy_kind::socks5, "127.0.0.1", 1080)});
  route b = a;
  CHECK(a == b);
  b.proxies[0].kind = proxy_kind::socks5h;
  CHECK(!(a == b));
  b = a;
  b.proxies.clear();
  CHECK(!(a == b));
  CHECK(a.first_hop().host == "127.0.0.1");
  CHECK(a.first_hop().port == 1080);
  CHECK(b.first_hop().host == "example.test");
}

TEST_CASE("an HTTP session through a SOCKS5h or an HTTP proxy, plain and over TLS") {
  const auto port = opensock::test::nginx_port_or_warn();
  auto socks = start_microsocks();
  auto http_proxy = opensock::test::start_tinyproxy();
  if (!port || !socks || !http_proxy) return;
  for (const auto& via : {proxy(proxy_kind::socks5h, "127.0.0.1", socks->port()),
                          proxy(proxy_kind::http, "127.0.0.1", http_proxy->port())}) {
    CAPTURE(opensock::scheme_of(via.kind));
    asio::io_context io;
    opensock::http::session_options options;
    options.proxies.push_back(via);
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                    options);
    const auto response = run(io, session.get("http://localhost:" + std::to_string(*port) +
                                              "/files/hello.txt"));
    CHECK(response.status == 200);
    CHECK(response.body == "hello, opensock\n");
    CHECK(response.remote.port() == via.port);
    REQUIRE(response.info.route);
    CHECK(response.info.route->proxies == options.proxies);

#if OPENSOCK_HAS_TLS
    // TLS to the origin inside the tunnel: the name is sent by SNI and checked against
    // the certificate, the proxy sees only encrypted bytes.
    const auto tls_port = opensock::test::nginx_tls_port("good");
    REQUIRE(tls_port);
    options.tls.ca_file = opensock::test::nginx_pki("ca.pem");
    opensock::http::session secure(io.get_executor(), opensock::default_socket_factory{},
                                   options);
    const auto over_tls = run(io, secure.get("https://localhost:" + std::to_string(*tls_port) +
                                             "/files/hello.txt"));
    CHECK(over_tls.status == 200);
    CHECK(over_tls.body == "hello, opensock\n");
#endif
  }
}

TEST_CASE("behind any proxy, a guard refuses the origin before a proxy is connected") {
  asio::io_context io;
  loopback_listener proxy_end(io);
  const auto factory = opensock::default_socket_factory{} | opensock::ssrf_guard();
  static_assert(opensock::guards_origins_v<decltype(factory)>);
  static_assert(!opensock::guards_origins_v<opensock::default_socket_factory>);
  for (auto kind : {proxy_kind::http, proxy_kind::http_1_0, proxy_kind::socks4,
                    proxy_kind::socks4a, proxy_kind::socks5, proxy_kind::socks5h}) {
    CAPTURE(opensock::scheme_of(kind));
    for (const char* origin : {"127.0.0.1", "localhost", "169.254.169.254", "[::ffff:10.0.0.1]"}) {
      CAPTURE(origin);
      connect_only_session session(io.get_executor(), factory);
      const auto ec = run_connect(
          io, session, through(origin, 443, {proxy(kind, "127.0.0.1", proxy_end.port())}));
      // SOCKS4 carries IPv4 addresses only: an IPv6 origin is 97, as without a guard.
      const bool v6_only = origin[0] == '[';
      if (v6_only && (kind == proxy_kind::socks4 || kind == proxy_kind::socks4a)) {
        CHECK(ec == opensock::error::proxy_resolve_host);
      } else {
        CHECK(ec == opensock::error::refused_by_socket_factory);
        CHECK(opensock::curl_code(ec) == 7);
      }
    }
  }
  // The proxy, on loopback, is the application's: its socket passes the guard, but no
  // attempt was made for an origin the guard refuses.
  CHECK(proxy_end.connections().empty());

  // A factory that passes the guard on (with_close) keeps it; one that hides it (erased
  // here into a std::function) fails closed: the guard judges the proxy's own address.
  const auto closing = opensock::with_close(factory, [](tcp::socket& s) { s.close(); });
  static_assert(opensock::guards_origins_v<decltype(closing)>);
  connect_only_session hidden(io.get_executor(), any_socket_factory(factory));
  static_assert(!opensock::guards_origins_v<any_socket_factory>);
  const auto ec = run_connect(
      io, hidden, through("93.184.215.14", 443, {proxy(proxy_kind::socks5h, "127.0.0.1",
                                                       proxy_end.port())}));
  CHECK(ec == opensock::error::refused_by_socket_factory);
  CHECK(proxy_end.connections().empty());
}

TEST_CASE("behind a guard, an HTTP proxy is asked for the checked address, not the name") {
  asio::io_context io;
  std::string head;
  opensock::test::scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    asio::streambuf in;
    const auto n = co_await asio::async_read_until(s, in, "\r\n\r\n", asio::use_awaitable);
    head.assign(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
    co_await asio::async_write(s, asio::buffer("HTTP/1.1 200 OK\r\n\r\n", 19), asio::use_awaitable);
  });
  connect_only_session session(io.get_executor(), guarded_factory());
  route r = through(unresolvable, 8443, {proxy(proxy_kind::http, "127.0.0.1", peer.port())});
  r.addresses = {asio::ip::make_address("::1"), asio::ip::make_address("127.0.0.2"),
                 asio::ip::make_address("127.0.0.1")};
  REQUIRE(!run_connect(io, session, r));
  CHECK(head ==
        "CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"
        "Proxy-Connection: Keep-Alive\r\n\r\n");
}

TEST_CASE("behind a guard, SOCKS5h and SOCKS5 proxies and tinyproxy reach the checked address") {
  auto socks = start_microsocks();
  auto http_proxy = opensock::test::start_tinyproxy();
  if (!socks || !http_proxy) return;
  asio::io_context io;
  loopback_listener server(io);
  for (const auto& via : {proxy(proxy_kind::socks5h, "127.0.0.1", socks->port()),
                          proxy(proxy_kind::socks5, "127.0.0.1", socks->port()),
                          proxy(proxy_kind::http, "127.0.0.1", http_proxy->port())}) {
    CAPTURE(opensock::scheme_of(via.kind));
    connect_only_session session(io.get_executor(), guarded_factory());
    // Given the name, the proxy could not resolve it; the guarded path never gives it.
    route r = through(unresolvable, server.port(), {via});
    r.addresses = {asio::ip::make_address("127.0.0.2"), asio::ip::make_address("127.0.0.1")};
    REQUIRE(!run_connect(io, session, r));
    CHECK(ping_through(io, session, server) == "ping");
  }
  // The proxy is the application's: on loopback, which the SSRF guard refuses, its
  // socket passes; the origin is judged, and passes by the guard's exception.
  loopback_listener excepted(io, asio::ip::make_address("127.0.0.2"));
  connect_only_session session(io.get_executor(), opensock::default_socket_factory{} |
                                                      opensock::ssrf_guard().except({"127.0.0.2"}));
  REQUIRE(!run_connect(io, session,
                       through("127.0.0.2", excepted.port(),
                               {proxy(proxy_kind::socks5h, "127.0.0.1", socks->port())})));
  CHECK(ping_through(io, session, excepted) == "ping");
}

TEST_CASE("behind a guard, an HTTP session's requests and TLS keep the origin's name") {
  const auto port = opensock::test::nginx_port_or_warn();
  auto http_proxy = opensock::test::start_tinyproxy();
  if (!port || !http_proxy) return;
  asio::io_context io;
  opensock::http::session_options options;
  options.proxies.emplace_back(proxy_kind::http, "127.0.0.1", http_proxy->port());
  options.names.overrides.push_back(*opensock::resolve_override::parse(
      unresolvable + ":" + std::to_string(*port) + ":127.0.0.2,127.0.0.1"));
  opensock::http::session session(io.get_executor(), guarded_factory(), options);
  // An http:// request is not forwarded (the proxy would resolve the name): it goes
  // through a tunnel to the checked address, with the name in Host.
  const auto response = run(io, session.get("http://" + unresolvable + ":" +
                                            std::to_string(*port) + "/files/hello.txt"));
  CHECK(response.status == 200);
  CHECK(response.body == "hello, opensock\n");
  REQUIRE(response.info.route);
  CHECK(!response.info.route->forward);
  CHECK(response.info.tunnel_answer.status == 200);

#if OPENSOCK_HAS_TLS
  // localhost resolves here to ::1, refused, and 127.0.0.1; TLS inside the tunnel still
  // sends the name by SNI and checks the certificate against it.
  const auto tls_port = opensock::test::nginx_tls_port("good");
  REQUIRE(tls_port);
  options.tls.ca_file = opensock::test::nginx_pki("ca.pem");
  opensock::http::session secure(io.get_executor(), guarded_factory(), options);
  const auto over_tls =
      run(io, secure.get("https://localhost:" + std::to_string(*tls_port) + "/files/hello.txt"));
  CHECK(over_tls.status == 200);
  CHECK(over_tls.body == "hello, opensock\n");
#endif
}

#if OPENSOCK_HAS_TLS
TEST_CASE("an HTTPS proxy: TLS to the proxy, forwarding in it, TLS to the origin inside it") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  auto https_proxy = opensock::test::https_proxy::start(opensock::test::nginx_pki("good.pem"),
                                                        opensock::test::nginx_pki("good.key"));
  if (!https_proxy) return;
  const auto tls_port = opensock::test::nginx_tls_port("good");
  REQUIRE(tls_port);
  const std::string hello = "/files/hello.txt";
  asio::io_context io;
  proxy via(proxy_kind::https, "localhost", https_proxy->port());
  via.tls.ca_file = opensock::test::nginx_pki("ca.pem");
  opensock::http::session_options options;
  options.proxies.push_back(via);
  options.tls.ca_file = opensock::test::nginx_pki("ca.pem");
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                  options);
  // http://: forwarded by the proxy, over TLS to it.
  auto response = run(io, session.get("http://localhost:" + std::to_string(*port) + hello));
  CHECK(response.status == 200);
  CHECK(response.body == "hello, opensock\n");
  CHECK(response.remote.port() == https_proxy->port());
  REQUIRE(response.info.route);
  CHECK(response.info.route->forwarded());
  // https://: a CONNECT tunnel in TLS to the proxy, TLS to the origin inside it.
  response = run(io, session.get("https://localhost:" + std::to_string(*tls_port) + hello));
  CHECK(response.status == 200);
  CHECK(response.body == "hello, opensock\n");
  CHECK(response.info.tunnel_answer.status == 200);

  // The proxy's certificate is checked with the proxy's own settings: the origin's CA
  // given to the session alone does not make the proxy trusted (60).
  options.proxies[0].tls = opensock::tls::options();
  options.proxies[0].tls.ca_file = opensock::test::nginx_pki("other-ca.pem");
  opensock::http::session untrusted(io.get_executor(), opensock::default_socket_factory{},
                                    options);
  std::error_code ec;
  run(io, [&]() -> asio::awaitable<void> {
    opensock::http::response out;
    const auto req =
        opensock::test::make_request("GET", "http://localhost:" + std::to_string(*port) + hello);
    ec = co_await untrusted.request(req, out);
  }());
  CHECK(opensock::curl_code(ec) == 60);
  // Verification off (curl's --proxy-insecure): the tunnel is encrypted, the proxy unproven.
  options.proxies[0].tls = opensock::tls::options::insecure();
  opensock::http::session insecure(io.get_executor(), opensock::default_socket_factory{},
                                   options);
  response = run(io, insecure.get("https://localhost:" + std::to_string(*tls_port) + hello));
  CHECK(response.status == 200);
}
#endif
