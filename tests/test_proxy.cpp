#include <opensock/proxy.hpp>

#include "support/catch.hpp"

#include <string>

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
                          "[nothost]:80", "p.test/path", "us%4@p.test", "p test"})
    CHECK(opensock::curl_code(failure(bad)) == 5);
}

TEST_CASE("proxies compare by every field") {
  proxy a(proxy_kind::socks5, "127.0.0.1", 1080);
  proxy b = a;
  CHECK(a == b);
  b.password = "x";
  CHECK(!(a == b));
  CHECK(!(proxy(proxy_kind::socks5, "h") == proxy(proxy_kind::socks5h, "h")));
}
