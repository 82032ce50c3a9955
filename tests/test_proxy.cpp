#include <opensock/proxy.hpp>

#include "support/catch.hpp"

#include <opensock/no_proxy.hpp>
#include <opensock/proxy_environment.hpp>
#include <opensock/proxy_protocol.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <map>
#include <optional>
#include <string>

using asio::ip::tcp;
using opensock::proxy;
using opensock::proxy_kind;

namespace {

proxy parsed(const std::string& text) {
  std::error_code ec;
  auto p = proxy::parse(text, ec);
  CAPTURE(text);
  REQUIRE(!ec);
  REQUIRE(p);
  return *p;
}

std::error_code failure(const std::string& text) {
  std::error_code ec;
  const auto p = proxy::parse(text, ec);
  CAPTURE(text);
  CHECK(!p);
  return ec;
}

}  // namespace

TEST_CASE("a proxy without a scheme is HTTP, on port 1080 unless it says") {
  const auto p = parsed("proxy.test");
  CHECK(p.kind == proxy_kind::http);
  CHECK(p.host == "proxy.test");
  CHECK(p.port == 1080);
  CHECK(p.user.empty());
  CHECK(parsed("proxy.test:3128").port == 3128);
  CHECK(parsed("http://proxy.test:3128/").port == 3128);
}

TEST_CASE("each scheme curl knows, in any case; HTTPS proxies default to 443") {
  CHECK(parsed("https://p.test").kind == proxy_kind::https);
  CHECK(parsed("https://p.test").port == 443);
  CHECK(parsed("socks4://p.test").kind == proxy_kind::socks4);
  CHECK(parsed("socks://p.test").kind == proxy_kind::socks4);
  CHECK(parsed("socks4a://p.test").kind == proxy_kind::socks4a);
  CHECK(parsed("SOCKS5://p.test").kind == proxy_kind::socks5);
  CHECK(parsed("socks5h://p.test").kind == proxy_kind::socks5h);
  CHECK(parsed("socks5h://p.test").port == 1080);
  CHECK(opensock::scheme_of(proxy_kind::socks5h) == "socks5h");
  CHECK(opensock::resolves_remotely(proxy_kind::socks4a));
  CHECK(!opensock::resolves_remotely(proxy_kind::socks5));
}

TEST_CASE("credentials are percent-decoded; an IPv6 host is bracketed") {
  const auto p = parsed("socks5://us%40er:p%3Ass@[::1]:9050");
  CHECK(p.user == "us@er");
  CHECK(p.password == "p:ss");
  CHECK(p.host == "::1");
  CHECK(p.port == 9050);
  const auto user_only = parsed("http://alice@127.0.0.1");
  CHECK(user_only.user == "alice");
  CHECK(user_only.password.empty());
}

TEST_CASE("an unknown scheme is 7 and malformed text 5, as curl says") {
  CHECK(opensock::curl_code(failure("ftp://p.test")) == 7);
  for (const char* bad : {"", "p.test:", "p.test:0", "p.test:65536", "p.test:12x", "[::1",
                          "[nothost]:80", "us%4@p.test", "p test"})
    CHECK(opensock::curl_code(failure(bad)) == 5);
}

TEST_CASE("what follows a proxy's authority is left out, as curl leaves it") {
  for (const char* text : {"http://p.test:3128/", "http://p.test:3128/path?q#f", "p.test:3128?q",
                           "p.test:3128#f"}) {
    CAPTURE(text);
    const auto p = parsed(text);
    CHECK(p.host == "p.test");
    CHECK(p.port == 3128);
  }
}

TEST_CASE("proxies compare by every field") {
  proxy a(proxy_kind::socks5, "127.0.0.1", 1080);
  proxy b = a;
  CHECK(a == b);
  b.password = "x";
  CHECK(!(a == b));
  CHECK(!(proxy(proxy_kind::socks5, "h") == proxy(proxy_kind::socks5h, "h")));
}

TEST_CASE(
    "no-proxy lists (NO_PROXY, curl --noproxy): names with the names under them, addresses, "
    "ranges, *") {
  const opensock::no_proxy_list list(" example.test , .dotted.test.,10.0.0.0/8 ,,::1, 192.0.2.7");
  CHECK(list.matches("example.test"));
  CHECK(list.matches("www.example.test"));
  CHECK(list.matches("WWW.Example.Test."));
  CHECK(!list.matches("notexample.test"));
  CHECK(!list.matches("example.test.other"));
  CHECK(list.matches("dotted.test"));
  CHECK(list.matches("a.dotted.test"));
  CHECK(list.matches("10.1.2.3"));
  CHECK(!list.matches("11.1.2.3"));
  CHECK(list.matches("::1"));
  CHECK(list.matches("[::1]"));
  CHECK(list.matches("192.0.2.7"));
  CHECK(!list.matches("192.0.2.8"));
  // Nothing is resolved: a name never matches an address, nor an address a name.
  CHECK(!opensock::no_proxy_list("127.0.0.1").matches("localhost"));
  CHECK(!opensock::no_proxy_list("localhost").matches("127.0.0.1"));

  CHECK(opensock::no_proxy_list("*").matches("anything.test"));
  CHECK(opensock::no_proxy_list("*").matches("127.0.0.1"));
  // "*" in a list is a name like any other, as curl reads it.
  CHECK(!opensock::no_proxy_list("a.test,*").matches("b.test"));
  // As curl: an entry followed by a blank and no comma ends the list.
  const opensock::no_proxy_list spaced("a.test b.test");
  CHECK(spaced.matches("a.test"));
  CHECK(!spaced.matches("b.test"));
  CHECK(opensock::no_proxy_list().empty());
  CHECK(opensock::no_proxy_list(" , ").empty());
  CHECK(!opensock::no_proxy_list().matches("a.test"));
}

TEST_CASE("the environment's proxies, read as curl reads them") {
  std::map<std::string, std::string> variables;
  const auto read = [&] {
    return opensock::proxy_environment::read(
        [&](const std::string& name) -> std::optional<std::string> {
          const auto it = variables.find(name);
          return it == variables.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
  };
  const auto chosen = [](const opensock::proxy_environment& env, const char* scheme) {
    std::error_code ec;
    const auto via = env.proxies_for(scheme, ec);
    REQUIRE(!ec);
    return std::vector<proxy>(via.begin(), via.end());
  };

  CHECK(chosen(read(), "http").empty());
  // http_proxy in lower case only; HTTPS_PROXY in either.
  variables["HTTP_PROXY"] = "upper.test:1";
  variables["HTTPS_PROXY"] = "socks5h://secure.test";
  CHECK(chosen(read(), "http").empty());
  REQUIRE(chosen(read(), "https").size() == 1);
  CHECK(chosen(read(), "https")[0] == proxy(proxy_kind::socks5h, "secure.test", 1080));
  variables["https_proxy"] = "lower.test:2";
  CHECK(chosen(read(), "https")[0] == proxy(proxy_kind::http, "lower.test", 2));
  variables["http_proxy"] = "http://u:p@plain.test:3128";
  auto plain = chosen(read(), "http");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].host == "plain.test");
  CHECK(plain[0].port == 3128);
  CHECK(plain[0].user == "u");

  // ALL_PROXY for a scheme without its own; a variable set empty counts as not set, as
  // curl_getenv() has it, and the next in line is read.
  variables["ALL_PROXY"] = "all.test";
  CHECK(chosen(read(), "ws")[0].host == "all.test");
  variables["all_proxy"] = "lower-all.test";
  CHECK(chosen(read(), "wss")[0].host == "lower-all.test");
  variables["https_proxy"] = "";
  CHECK(chosen(read(), "https")[0].host == "secure.test");
  variables.erase("HTTPS_PROXY");
  CHECK(chosen(read(), "https")[0].host == "lower-all.test");
  variables["all_proxy"] = "";
  CHECK(chosen(read(), "https")[0].host == "all.test");
  variables["ALL_PROXY"] = "";
  CHECK(chosen(read(), "https").empty());
  CHECK(chosen(read(), "ftp").empty());

  // NO_PROXY, the lower case first.
  variables["NO_PROXY"] = "upper.test";
  CHECK(read().no_proxy.matches("upper.test"));
  variables["no_proxy"] = "lower.test";
  CHECK(!read().no_proxy.matches("upper.test"));
  CHECK(read().no_proxy.matches("lower.test"));
  variables["no_proxy"] = "";
  CHECK(read().no_proxy.matches("upper.test"));

  // A variable that does not parse fails the requests it would serve, as curl fails.
  variables["http_proxy"] = "gopher://g.test";
  std::error_code ec;
  CHECK(read().proxies_for("http", ec).empty());
  CHECK(ec == opensock::error::couldnt_connect);
}

TEST_CASE("the PROXY protocol line names the socket's ends or the given client") {
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 40000);
  const tcp::endpoint remote(asio::ip::make_address("127.0.0.2"), 8080);
  CHECK(opensock::proxy_protocol_header().line(local, remote) ==
        "PROXY TCP4 127.0.0.1 127.0.0.2 40000 8080\r\n");
  // A given client is both ends, and says the family; the ports stay the socket's.
  const opensock::proxy_protocol_header v6(asio::ip::make_address("2001:db8::7"));
  CHECK(v6.line(local, remote) == "PROXY TCP6 2001:db8::7 2001:db8::7 40000 8080\r\n");
  // An IPv6 zone names an interface of this host alone: it is left out.
  const tcp::endpoint scoped(asio::ip::make_address("fe80::1%1"), 443);
  CHECK(opensock::proxy_protocol_header().line(scoped, scoped) ==
        "PROXY TCP6 fe80::1 fe80::1 443 443\r\n");
  // A socket without IP ends, or without a peer yet, is UNKNOWN.
  asio::io_context io;
  asio::local::stream_protocol::socket unix_socket(io);
  CHECK(opensock::proxy_protocol_header().line(unix_socket) == "PROXY UNKNOWN\r\n");
  tcp::socket unconnected(io);
  CHECK(v6.line(unconnected) == "PROXY UNKNOWN\r\n");
}
