#include <opensock/http/url.hpp>

#include <opensock/detail/idn.hpp>

#include "support/catch.hpp"

#include <string>
#include <utility>

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

TEST_CASE("an empty userinfo before '@' is kept apart from none") {
  const auto u = parse_ok("http://@example.test/");
  CHECK(u.has_userinfo);
  CHECK(u.userinfo.empty());
  CHECK(u.to_string() == "http://@example.test/");
  CHECK_FALSE(u == parse_ok("http://example.test/"));
  CHECK_FALSE(parse_ok("http://example.test/").has_userinfo);
  CHECK(parse_ok("http://:@example.test/").has_userinfo);
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
    const std::string a = std::string(1, '#').append(n, 'x').append(1, '#');
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
  CHECK(parse_ok("http://[fe80::1%25eth0]/").host_header() == "[fe80::1]");
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
  for (const char* bad : {"", "h", "://h", "http:h", "http//h", "1http://h", "ht tp://h",
                          "http://", "http:////h", "http:/", "http://h:99999/", "http://h:0/",
                          "http://h:8x/", "http://[::1/", "http://[::1]x/", "http://[zz]/",
                          "http://[127.0.0.1]/", "http://h/a b", "http://h/\r\nX: y",
                          "http://h/a\x7f", "http://ex ample/", "http://h<>/", "http://h{}/",
                          "http://us er@h/", "http://h/#a b"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
  CHECK(parse_error("ftp://h/") == opensock::error::unsupported_protocol);
  CHECK(parse_error("gopher://h/") == opensock::error::unsupported_protocol);
  // One to three slashes after the scheme, as curl reads them.
  for (const char* lenient : {"http:/h:8080/p?q", "http:///h:8080/p?q", "HTTP:/h:8080/p?q"}) {
    CAPTURE(lenient);
    CHECK(parse_ok(lenient).to_string() == "http://h:8080/p?q");
  }
  CHECK(opensock::curl_code(parse_error("ftp://h/")) == 1);
}

TEST_CASE("dot segments kept as written when asked (curl's --path-as-is)") {
  std::error_code ec;
  const auto kept = url::parse("http://h/a/../b/./c/..", ec, url::dot_segments::keep);
  REQUIRE(!ec);
  CHECK(kept.path == "/a/../b/./c/..");
  CHECK(parse_ok("http://h/a/../b/./c/..").path == "/b/");
}

TEST_CASE("dot segments may be written with %2e or %2E; segments that only look like them stay") {
  CHECK(parse_ok("http://h/a/%2E/b").path == "/a/b");
  CHECK(parse_ok("http://h/a/.%2e/b").path == "/b");
  CHECK(parse_ok("http://h/a/%2E./b").path == "/b");
  CHECK(parse_ok("http://h/a/b/%2e%2e").path == "/a/");
  CHECK(parse_ok("http://h/a/b/%2E").path == "/a/b/");
  CHECK(parse_ok("http://h/a/./").path == "/a/");
  CHECK(parse_ok("http://h/a/.//b").path == "/a//b");
  CHECK(parse_ok("http://h/..").path == "/");
  CHECK(parse_ok("http://h/a/../..").path == "/");
  CHECK(parse_ok("http://h/a/b/../../../c").path == "/c");
  for (const char* kept : {"/a/.../b", "/a/%2e%2e%2e/b", "/a/..%2e", "/a/.b/c.", "/.well-known/x",
                           "/a/..b", "/a/b..", "/a/%2/b", "/a/%2", "/a/%2f/b", "/a/%2e%",
                           "/a/%2ex", "/a/%3e", "/%2e%2ea", "/a/.%2"}) {
    CAPTURE(kept);
    CHECK(parse_ok(std::string("http://h") + kept).path == kept);
  }
  // The query and the fragment are not paths.
  const auto u = parse_ok("http://h/a?/./../b#/../c");
  CHECK(u.path == "/a");
  CHECK(u.query == "/./../b");
  CHECK(u.fragment == "/../c");
}

TEST_CASE("an empty path is '/', whatever follows the authority") {
  for (const char* text : {"http://h", "http://h:8080", "http://u@h", "http://[::1]"})
    CHECK(parse_ok(text).path == "/");
  auto u = parse_ok("http://h?q");
  CHECK(u.path == "/");
  CHECK(u.has_query);
  CHECK(u.query == "q");
  u = parse_ok("http://h:8080#f");
  CHECK(u.path == "/");
  CHECK(!u.has_query);
  CHECK(u.fragment == "f");
  u = parse_ok("http://h?");
  CHECK(u.has_query);
  CHECK(u.target() == "/?");
  u = parse_ok("http://h?#");
  CHECK(u.has_query);
  CHECK(u.query.empty());
  CHECK(u.fragment.empty());
}

TEST_CASE("the query runs from the first '?' to the first '#', the fragment to the end") {
  auto u = parse_ok("http://h/p?a?b=c?");
  CHECK(u.path == "/p");
  CHECK(u.query == "a?b=c?");
  u = parse_ok("http://h/p#a?b#c");
  CHECK(!u.has_query);
  CHECK(u.query.empty());
  CHECK(u.fragment == "a?b#c");
  u = parse_ok("http://h/p?q/r#f?g");
  CHECK(u.query == "q/r");
  CHECK(u.fragment == "f?g");
  CHECK(u.target() == "/p?q/r");
}

TEST_CASE("every byte in a path, query and fragment: copied (<>{} too, as curl), percent-encoded or malformed") {
  constexpr char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string byte(1, c);
    CAPTURE(b);
    const bool forbidden = b <= 0x20 || b == 0x7f;
    const std::string expected =
        b >= 0x80 ? std::string{'%', hex[b >> 4], hex[b & 15]} : byte;
    if (forbidden) {
      CHECK(parse_error("http://h/a" + byte + "z") == opensock::error::url_malformat);
      CHECK(parse_error("http://h/a?q" + byte + "z") == opensock::error::url_malformat);
      CHECK(parse_error("http://h/a#f" + byte + "z") == opensock::error::url_malformat);
      continue;
    }
    if (c != '?' && c != '#')
      CHECK(parse_ok("http://h/a" + byte + "z").path == "/a" + expected + "z");
    if (c != '#') CHECK(parse_ok("http://h/?q" + byte + "z").query == "q" + expected + "z");
    CHECK(parse_ok("http://h/#f" + byte + "z").fragment == "f" + expected + "z");
    // At the very start and end of each part too ("/." is a dot segment).
    if (c != '?' && c != '#' && c != '.')
      CHECK(parse_ok("http://h/" + byte).path == "/" + expected);
    if (c != '#') CHECK(parse_ok("http://h/?" + byte).query == expected);
    CHECK(parse_ok("http://h/#" + byte).fragment == expected);
  }
}

TEST_CASE("runs of bytes from 0x80 up are encoded byte by byte, among plain ones, at any length") {
  CHECK(parse_ok("http://h/\xe6\x97\xa5\xe6\x9c\xac").path == "/%E6%97%A5%E6%9C%AC");
  CHECK(parse_ok("http://h/\x80?\x81#\x82").target() == "/%80?%81");
  CHECK(parse_ok("http://h/?\xff\xfe").query == "%FF%FE");
  CHECK(parse_ok("http://h/#\xc3\xa9t\xc3\xa9").fragment == "%C3%A9t%C3%A9");
  std::string text = "http://h";
  std::string path;
  for (int i = 0; i < 40; ++i) {
    text += "/seg\xc3\xa9";
    path += "/seg%C3%A9";
  }
  CHECK(parse_ok(text).path == path);
  // A forbidden byte after an encoded one is still malformed.
  for (const char* bad :
       {"http://h/\x80 ", "http://h/?\x80\t", "http://h/#\xff\x7f", "http://h/\xff\x01x"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
}

TEST_CASE("schemes in any case; an unknown one is 1 only when it is a scheme at all") {
  CHECK(parse_ok("HtTpS://h").scheme == "https");
  CHECK(parse_ok("HtTpS://h").port == 443);
  CHECK(parse_ok("WS://h").scheme == "ws");
  CHECK(parse_ok("Wss://h").scheme == "wss");
  for (const char* unknown : {"http+x://h", "h2://h", "httpss://h", "htt://h", "wsss://h",
                              "HTTP2://h", "w.s://h", "x-y://h/"}) {
    CAPTURE(unknown);
    CHECK(parse_error(unknown) == opensock::error::unsupported_protocol);
  }
  for (const char* bad : {"htt_p://h", "ht%74p://h", "http:h", "https:", ":", "http", "-http://h",
                          "+ws://h", "gopher:/h", "ws:", "wss:/"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
}

TEST_CASE("a host is decoded, and an IPv4 address in any form written as a dotted quad") {
  CHECK(parse_ok("http://a%4Ab/").host == "ajb");
  CHECK(parse_ok("http://%31%32%37.0.0.1:8080/").host == "127.0.0.1");
  CHECK(parse_ok("http://%31%32%37.0.0.1:8080/").host_header() == "127.0.0.1:8080");
  const std::pair<const char*, const char*> addresses[] = {
      {"127.0.0.1", "127.0.0.1"},    {"127.1", "127.0.0.1"},
      {"0x7f.0.0.1", "127.0.0.1"},   {"0X7F.0.0.1", "127.0.0.1"},
      {"0177.0.0.01", "127.0.0.1"},  {"2130706433", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},       {"127.0.0.0x1", "127.0.0.1"},
      {"127.0.0.1.", "127.0.0.1"},   {"0", "0.0.0.0"},
      {"1.2.65535", "1.2.255.255"},  {"1.16777215", "1.255.255.255"},
      {"4294967295", "255.255.255.255"}, {"00000000000000000177.0.0.1", "127.0.0.1"},
      {"0x0000000000000007f.0.0.1", "127.0.0.1"},
  };
  for (const auto& [written, quad] : addresses) {
    CAPTURE(written);
    CHECK(parse_ok(std::string("http://") + written + "/").host == quad);
  }
  // Names that only look like addresses stay names, as they do for curl.
  for (const char* name : {"127.0.0.256", "4294967296", "0x100000000", "1.2.65536", "1.2.3.4.5",
                           "1..2", "127.0.0.1..", "0x", "08", "1.2.3.a", "1a", "127.0.0.1.x"}) {
    CAPTURE(name);
    CHECK(parse_ok(std::string("http://") + name + "/").host == name);
  }
  // Decoded bytes that cannot be in a host.
  for (const char* bad : {"http://%7f.0.0.1/", "http://a%2fb/", "http://a%20b/", "http://a%00b/",
                          "http://a%40b/", "http://a%3ab/", "http://a%25b/", "http://a%5cb/"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
}

TEST_CASE("a host in Unicode goes in its IDNA form, converted by libidn2") {
  if (!opensock::detail::has_idn) {
    // A build without libidn2 cannot send such a host: malformed, as for a curl without IDN.
    CHECK(parse_error("http://\xc3\xa5\xc3\xa4\xc3\xb6.se/") == opensock::error::url_malformat);
    return;
  }
  auto u = parse_ok("http://www.\xc3\xa5\xc3\xa4\xc3\xb6.se:8080/page");
  CHECK(u.host == "www.xn--4cab6c.se");
  CHECK(u.unicode_host);
  CHECK(u.host_header() == "www.xn--4cab6c.se:8080");
  CHECK(u.to_string() == "http://www.xn--4cab6c.se:8080/page");
  CHECK(u.to_string(url::host_form::as_written) ==
        "http://www.\xc3\xa5\xc3\xa4\xc3\xb6.se:8080/page");
  // Percent-encoded, in upper case, or with a sharp s that IDNA 2008 keeps (curl's result).
  CHECK(parse_ok("http://%c3%a5%c3%a4%c3%b6.se/").host == "xn--4cab6c.se");
  CHECK(parse_ok("http://\xc3\x85\xc3\x84\xc3\x96.SE/").host == "xn--4cab6c.se");
  CHECK(parse_ok("http://www.gro\xc3\x9f" "e.de/").host == "www.xn--groe-xna.de");
  // A name written in ASCII stays as written, however it looks.
  const auto ascii = parse_ok("http://xn--4cab6c.se/");
  CHECK(!ascii.unicode_host);
  CHECK(ascii.to_string(url::host_form::as_written) == "http://xn--4cab6c.se/");
  // Bytes that are not UTF-8, and names IDNA does not allow.
  for (const char* bad : {"http://a\xff.test/", "http://%c3.test/", "http://\xcc\x81" "a.test/",
                          "http://a\xef\xbf\xbd.test/"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
}

TEST_CASE("the authority: userinfo up to its one '@', the host lowered, the port checked") {
  // Two '@': curl takes the host after the first, a browser after the last.
  for (const char* two : {"http://a@b@h:81/", "http://user@example.com:80@localhost",
                          "http://user@[::1]@localhost"}) {
    CAPTURE(two);
    CHECK(parse_error(two) == opensock::error::url_malformat);
  }
  auto u = parse_ok("http://a%40b@h:81/");
  CHECK(u.userinfo == "a%40b");
  CHECK(u.host == "h");
  CHECK(u.port == 81);
  u = parse_ok("http://h:80@evil/");  // what looks like a port is userinfo
  CHECK(u.userinfo == "h:80");
  CHECK(u.host == "evil");
  CHECK(!u.explicit_port);
  u = parse_ok("http://u:p@H.Example:8080");
  CHECK(u.host == "h.example");
  CHECK(u.port == 8080);
  CHECK(parse_ok("http://ExAmPlE.CoM/").host == "example.com");
  CHECK(parse_ok("http://x-y_z~1.!$&'()*+,;=/").host == "x-y_z~1.!$&'()*+,;=");
  CHECK(parse_ok("http://h:0080/").port == 80);
  CHECK(parse_ok("http://h:0080/").explicit_port);
  CHECK(parse_ok("http://h:65535/").port == 65535);
  CHECK(parse_ok("http://h:?q").port == 80);
  CHECK(!parse_ok("http://h:#f").explicit_port);
  CHECK(parse_ok("http://[::1]:/").port == 80);
  CHECK(parse_ok("http://[::1]:0080/").port == 80);
  CHECK(parse_ok("http://[::1]:0080/").explicit_port);
  for (const char* bad :
       {"http://h:65536/", "http://h:99999999999999999999/", "http://h:1:2/", "http://h:-1/",
        "http://h:+1/", "http://:80/", "http://@h:x/", "http://u@/", "http://u@:80/",
        "http://a%4/", "http://a%/", "http://a%G1/", "http://h\x80/", "http://[::1]:8x/",
        "http://[::1]:99999/", "http://[::1]:00/", "http://h:80:/", "http://[::1]]/",
        "http://h[/"}) {
    CAPTURE(bad);
    CHECK(parse_error(bad) == opensock::error::url_malformat);
  }
}
