#include <opensock/http/url.hpp>

#include "support/catch.hpp"

#include <string>

using opensock::http::url;

namespace {

url parse_ok(std::string_view text) {
  std::error_code ec;
  url u = url::parse(text, ec);
  CAPTURE(text, ec.message());
  REQUIRE(!ec);
  return u;
}

std::error_code parse_error(std::string_view text) {
  std::error_code ec;
  url::parse(text, ec);
  return ec;
}

}  // namespace

TEST_CASE("URLs split into their parts") {
  const auto u = parse_ok("HTTP://user:pw@Example.COM:8080/a/b?x=1&y=2#frag");
  CHECK(u.scheme == "http");
  CHECK(u.userinfo == "user:pw");
  CHECK(u.host == "example.com");
  CHECK(u.port == 8080);
  CHECK(u.explicit_port);
  CHECK(u.path == "/a/b");
  CHECK(u.query == "x=1&y=2");
  CHECK(u.fragment == "frag");
  CHECK(u.target() == "/a/b?x=1&y=2");
  CHECK(u.host_header() == "example.com:8080");
  CHECK(u.to_string() == "http://user:pw@example.com:8080/a/b?x=1&y=2");
  CHECK(u.origin() == opensock::origin("example.com", 8080, "http"));
}

TEST_CASE("two URLs are equal only when every part is") {
  const std::string base = "http://user@example.test:8080/a/b?q=1#top";
  CHECK(parse_ok(base) == parse_ok(base));
  CHECK(parse_ok("http://example.test/") == parse_ok("HTTP://EXAMPLE.test"));
  for (const char* other : {
           "https://user@example.test:8080/a/b?q=1#top",  // scheme
           "http://other@example.test:8080/a/b?q=1#top",  // userinfo
           "http://example.test:8080/a/b?q=1#top",        // no userinfo
           "http://user@example.tes:8080/a/b?q=1#top",    // host
           "http://user@example.test:8081/a/b?q=1#top",   // port
           "http://user@example.test:8080/a/c?q=1#top",   // path
           "http://user@example.test:8080/a/b?q=2#top",   // query
           "http://user@example.test:8080/a/b?#top",      // an empty query
           "http://user@example.test:8080/a/b#top",       // no query
           "http://user@example.test:8080/a/b?q=1#end",   // fragment
       }) {
    CAPTURE(other);
    CHECK_FALSE(parse_ok(base) == parse_ok(other));
  }
  // The port written out or left to the scheme: the same port, not the same URL.
  CHECK_FALSE(parse_ok("http://example.test/") == parse_ok("http://example.test:80/"));
}

TEST_CASE("the in-place compare of URL parts tells strings apart at every byte, at every length") {
  using opensock::detail::same_text;
  for (std::size_t n = 0; n <= 40; ++n) {
    // Views into a larger buffer, at an odd offset: no alignment to lean on.
    const std::string a = "#" + std::string(n, 'x') + "#";
    const std::string_view x(a.data() + 1, n);
    CHECK(same_text(x, std::string(n, 'x')));
    for (std::size_t at = 0; at < n; ++at) {
      std::string b(n, 'x');
      b[at] = 'y';
      if (same_text(x, b)) FAIL_CHECK("length " << n << ", differing at " << at);
    }
    if (n > 0) CHECK(!same_text(x, std::string(n - 1, 'x')));
  }
  CHECK(same_text("", ""));
}

TEST_CASE("default ports, and the Host header without them") {
  CHECK(parse_ok("http://h").port == 80);
  CHECK(parse_ok("https://h").port == 443);
  CHECK(parse_ok("ws://h").port == 80);
  CHECK(parse_ok("wss://h").port == 443);
  CHECK(parse_ok("http://h:80/").host_header() == "h");
  CHECK(parse_ok("https://h:8443/").host_header() == "h:8443");
  CHECK(parse_ok("http://h:/x").port == 80);  // an empty port is the default
}

TEST_CASE("IPv6 literals keep their brackets out of the host and in the Host header") {
  const auto u = parse_ok("http://[::1]:8080/");
  CHECK(u.host == "::1");
  CHECK(u.host_header() == "[::1]:8080");
  CHECK(parse_ok("http://[fe80::1%25lo]/").host == "fe80::1%25lo");
  CHECK(parse_ok("http://[2001:DB8::1]").host == "2001:db8::1");
}

TEST_CASE("the path gets a slash and loses its dot segments") {
  CHECK(parse_ok("http://h").path == "/");
  CHECK(parse_ok("http://h?q").target() == "/?q");
  CHECK(parse_ok("http://h/a/./b/../c").path == "/a/c");
  CHECK(parse_ok("http://h/a/b/..").path == "/a/");
  CHECK(parse_ok("http://h/../../x").path == "/x");
  CHECK(parse_ok("http://h/a/%2e%2E/b").path == "/b");
  CHECK(parse_ok("http://h/a//b").path == "/a//b");
  CHECK(parse_ok("http://h/.").path == "/");
}

TEST_CASE("percent-encoding is kept, and bytes from 0x80 up are encoded") {
  CHECK(parse_ok("http://h/a%20b").path == "/a%20b");
  CHECK(parse_ok("http://h/caf\xc3\xa9").path == "/caf%C3%A9");
  CHECK(parse_ok("http://h/?q=\xff").query == "q=%FF");
  CHECK(parse_ok("http://h/100%").path == "/100%");  // sent as written, as curl does
}

TEST_CASE("malformed URLs are curl's 3, unknown schemes its 1") {
  for (const char* bad : {"", "h", "://h", "http:/h", "http//h", "1http://h", "ht tp://h",
                          "http://", "http:///path", "http://h:99999/", "http://h:0/",
                          "http://h:8x/", "http://[::1/", "http://[::1]x/", "http://[zz]/",
                          "http://[127.0.0.1]/", "http://h/a b", "http://h/\r\nX: y",
                          "http://h/a\x7f", "http://ex ample/", "http://h<>/", "http://h/{}",
                          "http://us er@h/", "http://h/#a b"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
  CHECK(parse_error("ftp://h/") == opensock::error::unsupported_protocol);
  CHECK(parse_error("gopher://h/") == opensock::error::unsupported_protocol);
  CHECK(opensock::curl_code(parse_error("ftp://h/")) == 1);
}
