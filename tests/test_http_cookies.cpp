#include <opensock/http/cookie.hpp>
#include <opensock/http/cookie_file.hpp>
#include <opensock/http/cookie_jar.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace opensock::http;
using namespace std::chrono_literals;

namespace {

// A fixed "now": 2026-01-01T00:00:00Z, so expiries are known to the second.
const cookie_clock::time_point t0 = cookie_clock::time_point(1767225600s);
constexpr std::int64_t t0_s = 1767225600;

url u(std::string_view text) {
  std::error_code ec;
  url parsed = url::parse(text, ec);
  CAPTURE(text);
  REQUIRE(!ec);
  return parsed;
}

std::optional<cookie> parse(std::string_view set_cookie,
                            std::string_view from = "http://www.example.test/dir/page",
                            const cookie_limits& limits = {}) {
  return parse_set_cookie(set_cookie, u(from), t0, limits);
}

std::int64_t expiry_of(const cookie& c) {
  return c.expires ? c.expires->time_since_epoch().count() : 0;
}

std::int64_t date(std::string_view text) {
  const auto parsed = parse_cookie_date(text);
  CAPTURE(text);
  REQUIRE(parsed);
  return parsed->time_since_epoch().count();
}

std::string names(const cookie_jar& jar) {
  std::string out;
  for (const auto& c : jar.cookies()) out += (out.empty() ? "" : ",") + c.name;
  return out;
}

}  // namespace

TEST_CASE("a Set-Cookie value without attributes makes a host-only session cookie") {
  const auto c = parse("  sid = abc 123 ");
  REQUIRE(c);
  CHECK(c->name == "sid");
  CHECK(c->value == "abc 123");
  CHECK(c->domain == "www.example.test");
  CHECK(c->host_only);
  CHECK(c->path == "/dir");  // the default path: the request path up to its last '/'
  CHECK(!c->expires);
  CHECK(!c->secure);
  CHECK(!c->http_only);
  CHECK(c->same_site == cookie_same_site::unspecified);
  CHECK(c->creation_time == t0);
}

TEST_CASE("attributes are read without regard to case and unknown ones ignored") {
  const auto c = parse(
      "a=1; PATH=/x/; domain=.Example.test; HttpOnly; Secure; samesite=Lax; "
      "Foo=bar; Max-Age=60",
      "https://www.example.test/");
  REQUIRE(c);
  CHECK(c->path == "/x");              // curl drops a trailing '/'
  CHECK(c->domain == "Example.test");  // kept as written, leading dot dropped
  CHECK(!c->host_only);
  CHECK(c->http_only);
  CHECK(c->secure);
  CHECK(c->same_site == cookie_same_site::lax);
  CHECK(expiry_of(*c) == t0_s + 60);
  CHECK(parse("a=1; SameSite=Strict")->same_site == cookie_same_site::strict);
  CHECK(parse("a=1; SameSite=None")->same_site == cookie_same_site::none);
  CHECK(parse("a=1; SameSite=bogus")->same_site == cookie_same_site::unspecified);
  // A flag written with '=' is no flag to curl.
  CHECK(!parse("a=1; HttpOnly=yes")->http_only);
  // The quotes some sites put around the path go.
  CHECK(parse("a=1; Path=\"/q\"")->path == "/q");
  // A path that does not start with '/' is "/" (curl), an empty one the default path.
  CHECK(parse("a=1; Path=rel")->path == "/");
  CHECK(parse("a=1; Path=")->path == "/dir");
  CHECK(parse("a=1", "http://www.example.test/")->path == "/");
  CHECK(parse("a=1", "http://www.example.test/file")->path == "/");
  CHECK(parse("a=1", "http://www.example.test/a/b/")->path == "/a/b");
  CHECK(parse("a=1; Path=/a//")->path == "/a");
  CHECK(parse("a=1; Path=/one; Path=/two")->path == "/two");
}

TEST_CASE("bad names and values make the cookie ignored") {
  CHECK(!parse(""));
  CHECK(!parse("novalue"));
  CHECK(!parse("=value"));
  CHECK(!parse(" =value"));
  CHECK(
      !parse("a\x01"
             "b=1"));
  CHECK(!parse("a=1\x7f"));
  CHECK(!parse("a=b\tc"));
  CHECK(!parse(std::string("a=b\0c", 5)));
  CHECK(!parse("a\tb=1"));
  CHECK(parse("; a=1"));  // an empty first pair is passed over, as in curl
  // An empty value is a value.
  const auto empty = parse("a=");
  REQUIRE(empty);
  CHECK(empty->value.empty());
  // Quotes, spaces and commas are kept, as browsers and curl do.
  CHECK(parse("a=\"x, y\"")->value == "\"x, y\"");
  // Control bytes in an attribute drop the cookie too.
  CHECK(!parse("a=1; Path=/\x02"));
}

TEST_CASE("cookie dates are read as RFC 6265 section 5.1.1 says") {
  CHECK(date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
  CHECK(date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777);
  CHECK(date("Sun Nov  6 08:49:37 1994") == 784111777);
  CHECK(date("6 november 1994 8:49:37") == 784111777);
  CHECK(date("Nov 06 1994 08:49:37 +0200") == 784111777);  // the zone is not read
  CHECK(date("01 Jan 69 00:00:00") == date("01 Jan 2069 00:00:00"));
  CHECK(date("01 Jan 70 00:00:00") == 0);
  CHECK(date("29 Feb 2028 23:59:59") == 1835481599);
  CHECK(date("31 Dec 9999 23:59:59") == 253402300799);
  for (const char* bad :
       {"", "Sun, 06 Nov 1994 GMT", "06 Nov 1994", "Nov 1994 08:49:37", "06 1994 08:49:37",
        "06 Nov 08:49:37", "32 Nov 1994 08:49:37", "0 Nov 1994 08:49:37", "06 Nov 1600 08:49:37",
        "06 Nov 1994 24:00:00", "06 Nov 1994 08:60:00", "06 Nov 1994 08:49:60",
        "30 Feb 2020 00:00:00", "06 Foo 1994 08:49:37", "06 Nov 19945 08:49:37",
        "006 Nov 1994 08:49:37", "06 Nov 1994 008:49:37"}) {
    CAPTURE(bad);
    CHECK(!parse_cookie_date(bad));
  }
  // An unreadable Expires leaves a session cookie; a date of 80 bytes or more is not read.
  CHECK(!parse("a=1; Expires=tomorrow")->expires);
  const std::string date_79 = "Sun, 06 Nov 2026 08:49:37 GMT " + std::string(49, 'z');
  REQUIRE(date_79.size() == 79);
  CHECK(parse("a=1; Expires=" + date_79)->expires);
  CHECK(!parse("a=1; Expires=" + date_79 + "z")->expires);
  CHECK(parse("a=1; Expires=Sun, 06 Dec 2026 08:49:37 GMT")->expires);
}

TEST_CASE("Max-Age wins over Expires and expiries are capped at 400 days") {
  const std::string soon = "Expires=Thu, 01 Jan 2026 01:00:00 GMT";
  CHECK(expiry_of(*parse("a=1; Max-Age=10; " + soon)) == t0_s + 10);
  CHECK(expiry_of(*parse("a=1; " + soon + "; Max-Age=10")) == t0_s + 10);
  CHECK(expiry_of(*parse("a=1; " + soon)) == t0_s + 3600);
  CHECK(expiry_of(*parse("a=1; Max-Age=\"20\"")) == t0_s + 20);
  CHECK(expiry_of(*parse("a=1; Max-Age=20x")) == t0_s + 20);
  // Zero, negative and not a number: expired at once.
  CHECK(expiry_of(*parse("a=1; Max-Age=0")) == 1);
  CHECK(expiry_of(*parse("a=1; Max-Age=-5")) == 1);
  CHECK(expiry_of(*parse("a=1; Max-Age=soon")) == 1);
  CHECK(!parse("a=1; Max-Age=")->expires);
  // A date before 1970 expires at once as well.
  CHECK(expiry_of(*parse("a=1; Expires=Sun, 06 Nov 1960 08:49:37 GMT")) == 1);
  // Capped: now + 400 days, rounded to the minute.
  const std::int64_t cap = (t0_s + 400 * 86400 + 30) / 60 * 60;
  CHECK(expiry_of(*parse("a=1; Max-Age=99999999999999999999999")) == cap);
  CHECK(expiry_of(*parse("a=1; Max-Age=" + std::to_string(400 * 86400 + 1))) == cap);
  CHECK(expiry_of(*parse("a=1; Max-Age=" + std::to_string(400 * 86400))) == t0_s + 400 * 86400);
  CHECK(expiry_of(*parse("a=1; Expires=31 Dec 9999 23:59:59")) == cap);
}

TEST_CASE("Domain attributes must cover the host and name no public suffix") {
  auto from = [](std::string_view set_cookie, std::string_view host) {
    return parse(set_cookie, "http://" + std::string(host) + "/");
  };
  CHECK(from("a=1; Domain=example.test", "www.example.test"));
  CHECK(from("a=1; Domain=example.test", "example.test"));
  CHECK(from("a=1; Domain=EXAMPLE.test", "a.b.example.test"));
  CHECK(!from("a=1; Domain=other.test", "www.example.test"));
  CHECK(!from("a=1; Domain=ample.test", "www.example.test"));
  CHECK(!from("a=1; Domain=www.example.test", "example.test"));
  CHECK(!from("a=1; Domain=test", "www.example.test"));
  CHECK(!from("a=1; Domain=.", "www.example.test"));
  CHECK(!from("a=1; Domain=example.test.", "www.example.test"));
  // An empty Domain is no Domain.
  CHECK(from("a=1; Domain=", "www.example.test")->host_only);
  // localhost may take cookies for itself.
  const auto local = from("a=1; Domain=localhost", "localhost");
  REQUIRE(local);
  CHECK(local->domain == "localhost");
  // A public suffix (with libpsl "localhost" is one) set by itself stays host-only.
  CHECK(local->host_only == cookie_psl_built);
  // A trailing dot on the host is not part of its name.
  const auto dotted = from("a=1; Domain=example.test", "www.example.test.");
  REQUIRE(dotted);
  CHECK(dotted->domain == "example.test");
  CHECK(from("a=1", "www.example.test.")->domain == "www.example.test");
  if (cookie_psl_built) {
    CHECK(!from("a=1; Domain=co.uk", "www.example.co.uk"));
    CHECK(!from("a=1; Domain=github.io", "someone.github.io"));
    CHECK(from("a=1; Domain=example.co.uk", "www.example.co.uk"));
    CHECK(from("a=1", "co.uk"));
    // Set by the suffix itself it stays there (RFC 6265bis section 5.7).
    const auto suffix = from("a=1; Domain=co.uk", "co.uk");
    REQUIRE(suffix);
    CHECK(suffix->host_only);
  } else {
    // Without libpsl curl only asks for a dot that is not the last byte.
    CHECK(from("a=1; Domain=co.uk", "www.example.co.uk"));
    CHECK(!from("a=1; Domain=uk", "www.example.uk"));
  }
}

TEST_CASE("IP address hosts take no domain cookies") {
  const auto same = parse("a=1; Domain=127.0.0.1", "http://127.0.0.1/");
  REQUIRE(same);
  CHECK(same->host_only);
  CHECK(same->domain == "127.0.0.1");
  CHECK(!parse("a=1; Domain=0.0.1", "http://127.0.0.1/"));
  CHECK(!parse("a=1; Domain=127.0.0", "http://127.0.0.1/"));
  CHECK(parse("a=1", "http://[2001:db8::1]/")->domain == "2001:db8::1");
  CHECK(!parse("a=1; Domain=db8::1", "http://[2001:db8::1]/"));

  cookie_jar jar;
  REQUIRE(jar.store(u("http://10.0.0.1/"), "a=1", t0));
  CHECK(jar.header_for(u("http://10.0.0.1/x"), {}, t0) == "a=1");
  CHECK(jar.header_for(u("http://110.0.0.1/x"), {}, t0).empty());
  CHECK(jar.header_for(u("http://0.0.1/x"), {}, t0).empty());
}

TEST_CASE("Secure cookies come from secure origins only") {
  CHECK(!parse("a=1; Secure", "http://www.example.test/"));
  CHECK(parse("a=1; Secure", "https://www.example.test/")->secure);
  CHECK(parse("a=1; Secure", "wss://www.example.test/")->secure);
  // curl's exception: these never leave the machine.
  CHECK(parse("a=1; Secure", "http://localhost/"));
  CHECK(parse("a=1; Secure", "http://127.0.0.1/"));
  CHECK(parse("a=1; Secure", "http://[::1]/"));
  CHECK(!parse("a=1; Secure", "http://127.0.0.2/"));

  cookie_jar jar;
  REQUIRE(jar.store(u("https://www.example.test/"), "s=1; Secure", t0));
  CHECK(jar.header_for(u("http://www.example.test/"), {}, t0).empty());
  CHECK(jar.header_for(u("https://www.example.test/"), {}, t0) == "s=1");
}

TEST_CASE("an insecure origin does not overwrite a Secure cookie") {
  cookie_jar jar;
  REQUIRE(jar.store(u("https://www.example.test/"), "s=1; Secure; Path=/login", t0));
  CHECK(!jar.store(u("http://www.example.test/"), "s=2; Path=/login", t0));
  CHECK(!jar.store(u("http://www.example.test/"), "s=2; Path=/login/en", t0));
  CHECK(!jar.store(u("http://www.example.test/"), "s=2; Path=/loginhelper", t0));
  CHECK(!jar.store(u("http://www.example.test/"), "s=2; Path=/login; Domain=example.test", t0));
  CHECK(!jar.store(u("http://www.example.test/"), "s=; Path=/login; Max-Age=0", t0));
  // Another path, another domain, another name: fine.
  CHECK(jar.store(u("http://www.example.test/"), "s=3; Path=/other", t0));
  CHECK(jar.store(u("http://other.test/"), "s=4; Path=/login", t0));
  CHECK(jar.store(u("http://www.example.test/"), "t=5; Path=/login", t0));
  // A secure origin may replace it.
  CHECK(jar.store(u("https://www.example.test/"), "s=6; Path=/login", t0));
  // s=6 keeps the creation of s=1, older than t=5.
  CHECK(jar.header_for(u("https://www.example.test/login"), {}, t0) == "t=5; s=6");
}

TEST_CASE("cookie prefixes hold their rules") {
  const auto https = "https://www.example.test/dir/x";
  CHECK(!parse("__Secure-a=1", https));
  CHECK(parse("__Secure-a=1; Secure", https));
  CHECK(!parse("__Secure-a=1; Secure", "http://www.example.test/"));
  CHECK(parse("__Secure-a=1; Secure; Domain=example.test", https));
  CHECK(!parse("__Host-a=1; Secure", https));  // default path /dir
  CHECK(parse("__Host-a=1; Secure; Path=/", https));
  CHECK(!parse("__Host-a=1; Path=/", https));
  CHECK(!parse("__Host-a=1; Secure; Path=/; Domain=example.test", https));
  CHECK(!parse("__Host-a=1; Secure; Path=/x", https));
  // Matched with case, as curl does.
  CHECK(parse("__secure-a=1", "http://www.example.test/"));
  CHECK(parse("__HOST-a=1", "http://www.example.test/"));

  cookie_jar jar;
  CHECK(!jar.insert(
      cookie("__Host-a", "1", "www.example.test", "/", std::nullopt, true, false, false)));
  CHECK(jar.insert(cookie("__Host-a", "1", "www.example.test", "/", std::nullopt, true)));
  CHECK(!jar.insert(cookie("__Secure-a", "1", "www.example.test")));
}

TEST_CASE("paths match at segment boundaries") {
  cookie_jar jar;
  REQUIRE(jar.store(u("http://h.test/"), "a=1; Path=/foo", t0));
  for (const char* yes : {"/foo", "/foo/", "/foo/bar", "/foo/bar/baz"}) {
    CAPTURE(yes);
    CHECK(jar.header_for(u(std::string("http://h.test") + yes), {}, t0) == "a=1");
  }
  for (const char* no : {"/", "/fo", "/foobar", "/Foo", "/bar/foo"}) {
    CAPTURE(no);
    CHECK(jar.header_for(u(std::string("http://h.test") + no), {}, t0).empty());
  }
  CHECK(detail::cookie_path_match("/", "/anything"));
  CHECK(!detail::cookie_path_match("/foo", ""));  // "" reads as "/"
}

TEST_CASE("domain and host-only cookies reach the hosts they should") {
  cookie_jar jar;
  REQUIRE(jar.store(u("http://www.example.test/"), "host=1", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "dom=2; Domain=example.test", t0));
  CHECK(jar.header_for(u("http://www.example.test/"), {}, t0) == "host=1; dom=2");
  CHECK(jar.header_for(u("http://WWW.Example.Test./"), {}, t0) == "host=1; dom=2");
  CHECK(jar.header_for(u("http://a.www.example.test/"), {}, t0) == "dom=2");
  CHECK(jar.header_for(u("http://example.test/"), {}, t0) == "dom=2");
  CHECK(jar.header_for(u("http://badexample.test/"), {}, t0).empty());
  CHECK(jar.header_for(u("http://other.test/"), {}, t0).empty());
}

TEST_CASE("a cookie replaces the one of the same name domain and path") {
  cookie_jar jar;
  REQUIRE(jar.store(u("http://www.example.test/"), "a=1", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "b=2", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "a=3", t0 + 5s));
  CHECK(jar.size() == 2);
  const auto all = jar.cookies();
  REQUIRE(all.size() == 2);
  // The replacement keeps the creation of the replaced cookie.
  CHECK(all[0].name == "b");
  CHECK(all[1].value == "3");
  CHECK(all[1].creation_time == t0);
  // Another path, a domain cookie, another name case: other cookies.
  REQUIRE(jar.store(u("http://www.example.test/"), "a=4; Path=/x", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "a=5; Domain=www.example.test", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "A=6", t0));
  CHECK(jar.size() == 5);
  // Deletion: Max-Age 0 or a past date.
  CHECK(jar.store(u("http://www.example.test/"), "a=; Max-Age=0", t0));
  CHECK(jar.store(u("http://www.example.test/"), "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", t0));
  CHECK(jar.size() == 3);
  CHECK(names(jar) == "A,a,a");
  // A deletion that matches nothing adds nothing.
  CHECK(jar.store(u("http://www.example.test/"), "zz=; Max-Age=-1", t0));
  CHECK(jar.size() == 3);
}

TEST_CASE("cookies expire and session cookies go on request") {
  cookie_jar jar;
  REQUIRE(jar.store(u("http://h.test/"), "short=1; Max-Age=10", t0));
  REQUIRE(jar.store(u("http://h.test/"), "session=2", t0));
  REQUIRE(jar.store(u("http://h.test/"), "long=3; Max-Age=1000", t0));
  // Same path and domain: the longer name first.
  CHECK(jar.header_for(u("http://h.test/"), {}, t0 + 10s) == "session=2; short=1; long=3");
  CHECK(jar.header_for(u("http://h.test/"), {}, t0 + 11s) == "session=2; long=3");
  CHECK(jar.size() == 2);
  jar.remove_session_cookies();
  CHECK(names(jar) == "long");
  jar.remove_expired(t0 + 1001s);
  CHECK(jar.empty());
}

TEST_CASE("cookies are sent in curl's order") {
  cookie_jar jar;
  const auto from = u("http://www.example.test/");
  REQUIRE(jar.store(from, "p=1", t0));
  REQUIRE(jar.store(from, "q=2", t0));
  REQUIRE(jar.store(from, "r=3; Domain=example.test", t0));
  REQUIRE(jar.store(from, "ss=4", t0));
  REQUIRE(jar.store(from, "t=5; Path=/a", t0));
  REQUIRE(jar.store(from, "u=6; Path=/a/b", t0));
  // Longer path, then longer domain, then longer name, then the newer (curl 7.88 sends
  // exactly this for these cookies).
  CHECK(jar.header_for(u("http://www.example.test/a/b/c"), {}, t0) ==
        "u=6; t=5; ss=4; q=2; p=1; r=3");
  CHECK(names(jar) == "u,t,ss,r,q,p");
}

TEST_CASE("SameSite keeps cookies from cross-site requests") {
  cookie_jar jar;
  const auto from = u("http://h.test/");
  REQUIRE(jar.store(from, "s=1; SameSite=Strict", t0));
  REQUIRE(jar.store(from, "l=2; SameSite=Lax", t0));
  REQUIRE(jar.store(from, "n=3; SameSite=None", t0));
  REQUIRE(jar.store(from, "p=4", t0));
  CHECK(jar.header_for(from, {}, t0) == "p=4; n=3; l=2; s=1");
  CHECK(jar.header_for(from, request_context("POST"), t0) == "p=4; n=3; l=2; s=1");
  CHECK(jar.header_for(from, request_context("GET", true), t0) == "p=4; n=3; l=2");
  CHECK(jar.header_for(from, request_context("", true), t0) == "p=4; n=3; l=2");
  CHECK(jar.header_for(from, request_context("HEAD", true), t0) == "p=4; n=3; l=2");
  CHECK(jar.header_for(from, request_context("POST", true), t0) == "p=4; n=3");
  CHECK(jar.header_for(from, request_context("get", true), t0) == "p=4; n=3");  // case counts
}

TEST_CASE("the Set-Cookie value length limit") {
  const cookie_limits limits;
  std::string at = "a=1; Path=/" + std::string(limits.max_line - 11, 'p');
  REQUIRE(at.size() == limits.max_line);
  CHECK(parse(at, "http://h.test/", limits));
  CHECK(!parse(at + "p", "http://h.test/", limits));
}

TEST_CASE("the name and value size limit") {
  const cookie_limits limits;
  const std::string name(96, 'n');
  CHECK(parse(name + "=" + std::string(4000, 'v'), "http://h.test/", limits));
  CHECK(!parse(name + "=" + std::string(4001, 'v'), "http://h.test/", limits));
  cookie_limits small;
  small.max_name_value = 3;
  CHECK(parse("ab=c", "http://h.test/", small));
  CHECK(!parse("ab=cd", "http://h.test/", small));
}

TEST_CASE("the Set-Cookie fields per response limit") {
  const auto from = u("http://h.test/");
  for (std::size_t count : {50u, 51u}) {
    fields response;
    response.add("Set-Cookie", "bad");  // ignored ones do not count
    for (std::size_t i = 0; i < count; ++i)
      response.add("set-cookie", "c" + std::to_string(i) + "=1");
    response.add("Content-Type", "text/plain");
    cookie_jar jar;
    CHECK(jar.store(from, response, t0) == 50);
    CHECK(jar.size() == 50);
  }
}

TEST_CASE("the cookies sent per request limit") {
  const auto from = u("http://h.test/");
  for (std::size_t count : {150u, 151u}) {
    cookie_jar jar;
    for (std::size_t i = 0; i < count; ++i)
      REQUIRE(jar.store(from, "c" + std::to_string(i) + "=1", t0));
    const auto header = jar.header_for(from, {}, t0);
    CHECK(std::count(header.begin(), header.end(), '=') == 150);
    // The cap keeps the cookies earliest in the jar: c150 is the one left out.
    CHECK(header.find("c150=") == std::string::npos);
    CHECK(header.find("c149=") != std::string::npos);
  }
}

TEST_CASE("the Cookie header length limit") {
  const auto from = u("http://h.test/");
  // "Cookie: " (8) + "a=" + value: the cookie fits while the line stays under 8190.
  for (std::size_t value : {8179u, 8180u}) {
    cookie_jar jar(cookie_limits{});
    cookie c("a", std::string(value, 'v'), "h.test");
    REQUIRE(jar.insert(c));
    CHECK(jar.header_for(from, {}, t0).empty() == (value == 8180));
  }
  // The first cookie that does not fit ends the line, though a later one would fit.
  cookie_jar jar;
  REQUIRE(jar.insert(cookie("b", std::string(4000, 'v'), "h.test", "/x/y")));
  REQUIRE(jar.insert(cookie("a", std::string(4171, 'v'), "h.test", "/x")));
  REQUIRE(jar.insert(cookie("cc", "123", "h.test")));
  REQUIRE(jar.insert(cookie("d", "1", "h.test")));
  const auto header = jar.header_for(u("http://h.test/x/y"), {}, t0);
  CHECK(header.size() == 2 + 4000 + 2 + 2 + 4171);  // "Cookie: " and it: 8185 bytes
  CHECK(header.find("cc=") == std::string::npos);
  CHECK(header.find("d=") == std::string::npos);
}

TEST_CASE("the cookies per domain limit") {
  cookie_limits limits;
  CHECK(limits.max_per_domain == 0);  // curl has none
  limits.max_per_domain = 3;
  cookie_jar jar(limits);
  const auto from = u("http://h.test/");
  for (int i = 0; i < 3; ++i) REQUIRE(jar.store(from, "c" + std::to_string(i) + "=1", t0));
  REQUIRE(jar.store(u("http://other.test/"), "x=1", t0));
  CHECK(jar.size() == 4);
  REQUIRE(jar.store(from, "c1=2", t0));  // a replacement evicts nothing
  CHECK(jar.size() == 4);
  REQUIRE(jar.store(from, "c3=1", t0));  // the oldest of h.test goes
  CHECK(names(jar) == "c3,x,c2,c1");
}

TEST_CASE("cookie files are read as curl reads them") {
  cookie_jar jar;
  read_cookie_file(
      "# Netscape HTTP Cookie File\n"
      "\n"
      ".example.test\tTRUE\t/\tFALSE\t0\tdom\t1\n"
      "#HttpOnly_www.example.test\tFALSE\t/p/\tTRUE\t1893456000\thttp\t2\r\n"
      "# a comment\tFALSE\t/\tFALSE\t0\tno\t1\n"
      "www.example.test\tFALSE\tFALSE\t0\told\t3\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\tempty\n"
      "www.example.test\tFALSE\t/\tFALSE\tsoon\tbadexpiry\t1\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\textra\t1\t2\n"
      "www.example.test\tFALSE\t/\tFALSE\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\tctl\tx\x01y\n"
      "www.example.test\tFALSE\t/\tFALSE\t100\texpired\t1\n"
      "\tFALSE\t/\tFALSE\t0\tnodomain\t1\n"
      "..example.test\tTRUE\t/\tFALSE\t0\ttwodots\t1\n"
      ".#HttpOnly_www.example.test\tFALSE\t/\tFALSE\t0\thash\t1\n"
      "Set-Cookie: hdr=1; Domain=example.test\n"
      ".test\tTRUE\t/\tFALSE\t0\tsuffix\t1\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\t__Secure-x\t1\n"
      "www.example.test\tfalse\t/\ttrue\t0\tlast\t4",
      jar, t0);
  std::string listed;
  for (const auto& c : jar.cookies()) listed += cookie_file_line(c) + "\n";
  std::string expected =
      "www.example.test\tFALSE\t/\tTRUE\t0\tlast\t4\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\tempty\t\n"
      "www.example.test\tFALSE\t/\tFALSE\t0\told\t3\n"
      "#HttpOnly_www.example.test\tFALSE\t/p\tTRUE\t1893456000\thttp\t2\n"
      ".example.test\tTRUE\t/\tFALSE\t0\tdom\t1\n";
  if (!cookie_psl_built)  // without libpsl nothing refuses a domain cookie for "test"
    expected.insert(expected.find('\n') + 1, ".test\tTRUE\t/\tFALSE\t0\tsuffix\t1\n");
  CHECK(listed == expected);
  // A line too long for curl's buffer is passed over.
  cookie_jar limited;
  const std::string value(limited.limits().max_line, 'v');
  read_cookie_file(
      "h.test\tFALSE\t/\tFALSE\t0\tlong\t" + value + "\nh.test\tFALSE\t/\tFALSE\t0\tok\t1\n",
      limited, t0);
  CHECK(names(limited) == "ok");
  // A file's cookie does not replace one a server set.
  cookie_jar live;
  REQUIRE(live.store(u("http://h.test/"), "a=server", t0));
  read_cookie_file("h.test\tFALSE\t/\tFALSE\t0\ta\tfile\n", live, t0);
  CHECK(live.header_for(u("http://h.test/"), {}, t0) == "a=server");
}

TEST_CASE("cookie files are written as curl writes them") {
  cookie_jar jar;
  REQUIRE(
      jar.store(u("https://www.example.test/"), "a=1; Domain=example.test; Secure; HttpOnly", t0));
  REQUIRE(jar.store(u("http://www.example.test/x/y"), "b=2; Max-Age=60", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "c=", t0));
  REQUIRE(jar.store(u("http://www.example.test/"), "gone=1; Max-Age=5", t0));
  CHECK(write_cookie_file(jar, t0 + 6s) ==
        "# Netscape HTTP Cookie File\n"
        "# https://curl.se/docs/http-cookies.html\n"
        "# This file was generated by opensock! Edit at your own risk.\n"
        "\n"
        "www.example.test\tFALSE\t/\tFALSE\t0\tc\t\n"
        "www.example.test\tFALSE\t/x\tFALSE\t" +
            std::to_string(t0_s + 60) +
            "\tb\t2\n"
            "#HttpOnly_.example.test\tTRUE\t/\tTRUE\t0\ta\t1\n");
  // Read back, the cookies are the same (the order reversed, as with curl).
  cookie_jar again;
  read_cookie_file(write_cookie_file(jar, t0), again, t0);
  CHECK(names(again) == "a,b,c,gone");
}

TEST_CASE("cookie files load and save through the file system") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("opensock-cookies-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  cookie_jar jar;
  // A missing file, or a directory, loads nothing and is no error, as for curl's -b.
  CHECK(!load_cookie_file(dir / "missing.txt", jar, t0));
  CHECK(!load_cookie_file(dir, jar, t0));
  CHECK(jar.empty());
  REQUIRE(jar.store(u("http://h.test/"), "a=1; Max-Age=100", t0));
  CHECK(!save_cookie_file(dir / "jar.txt", jar, t0));
  CHECK(!save_cookie_file(dir / "jar.txt", jar, t0));  // over an existing file
  const auto perms = std::filesystem::status(dir / "jar.txt").permissions();
  CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
        std::filesystem::perms::none);
  cookie_jar loaded;
  CHECK(!load_cookie_file(dir / "jar.txt", loaded, t0));
  CHECK(loaded.header_for(u("http://h.test/"), {}, t0) == "a=1");
  // Only jar.txt is there: no temporary left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 1);
  CHECK(save_cookie_file(dir / "no-such-dir" / "jar.txt", jar, t0) == opensock::error::write_error);
  CHECK(save_cookie_file(dir, jar, t0) == opensock::error::write_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("one jar serves several threads at once") {
  cookie_jar jar;
  std::atomic<bool> wrong = false;
  // Catch's macros are not for worker threads: the URLs are parsed before they start.
  std::vector<url> origins;
  for (int t = 0; t < 4; ++t) origins.push_back(u("http://h" + std::to_string(t) + ".test/"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const url& from = origins[static_cast<std::size_t>(t)];
      for (int i = 0; i < 300; ++i) {
        jar.store(from, "c" + std::to_string(i % 40) + "=" + std::to_string(i), t0);
        const auto header = jar.header_for(from, {}, t0);
        if (header.find("c" + std::to_string(i % 40) + "=" + std::to_string(i)) ==
            std::string::npos)
          wrong = true;
        if (i % 50 == 0) (void)write_cookie_file(jar, t0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(!wrong);
  CHECK(jar.size() == 4 * 40);
}

namespace {

std::string run(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  char buffer[512];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = ::pclose(pipe);
  CAPTURE(command, out);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The lines of a cookie file but its comment header.
std::vector<std::string> cookie_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || (line.front() == '#' && !line.starts_with("#HttpOnly_"))) continue;
    lines.push_back(line);
  }
  return lines;
}

std::string http_date(std::int64_t seconds) {
  const std::time_t t = seconds;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[64];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return out;
}

// The value of the Cookie field of a recorded request head.
std::string cookie_field(const std::string& head) {
  const auto at = head.find("\r\nCookie: ");
  if (at == std::string::npos) return "";
  const auto start = at + 10;
  return head.substr(start, head.find("\r\n", start) - start);
}

}  // namespace

TEST_CASE("the jar writes and sends what curl writes and sends") {
  REQUIRE(std::system("curl --version >/dev/null 2>&1") == 0);
  // Within 400 days: curl 7.88 does not cap expiries, later curls do.
  const std::int64_t in_a_month =
      std::chrono::floor<std::chrono::seconds>(cookie_clock::now() + 30 * 24h)
          .time_since_epoch()
          .count();
  // Cases where curl 7.88 and today's curl agree: explicit paths without a trailing '/',
  // and the request at "/set", whose default path is "/" in both.
  const std::vector<std::string> set_cookies = {
      "host=1",
      "dom=2; Domain=example.test",
      "dotdom=3; Domain=.example.test; Path=/p",
      "exp=4; Expires=" + http_date(in_a_month),
      "http=5; HttpOnly; Path=/p/q",
      "rep=old",
      "rep=new",
      "del=x",
      "del=; Max-Age=0",
      "gone=; Expires=Thu, 01 Jan 1970 00:00:10 GMT",
      "other=6; Domain=other.test",
      "sec=7; Secure",
      "__Host-h=8; Path=/",
      "empty=",
      "sp ace = a b ",
      "lax=9; SameSite=Lax; Path=/p/q/r",
      "x=10; Path=/p/q/r; Domain=www.example.test",
      "=nameless",
      "tld=11; Domain=test",
  };
  asio::io_context io;
  std::string reply = "HTTP/1.1 200 OK\r\n";
  for (const auto& s : set_cookies) reply += "Set-Cookie: " + s + "\r\n";
  reply += "Content-Length: 0\r\n\r\n";
  opensock::test::scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  server.routes["/set"] = reply;
  const std::string port = std::to_string(server.port());
  const std::string base = "http://www.example.test:" + port;

  const auto dir = std::filesystem::temp_directory_path() /
                   ("opensock-cookies-curl-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto curl_file = dir / "curl.txt";
  const auto curl_again = dir / "curl-again.txt";
  // The name is resolved by curl's --resolve: no DNS query leaves the machine.
  const std::string curl =
      "curl -s --noproxy '*' --max-time 10 -o /dev/null --resolve www.example.test:" + port +
      ":127.0.0.1 ";
  const auto with_server = [&](const std::string& command) {
    std::atomic<bool> done = false;
    std::thread client([&] {
      run(command);
      done = true;
    });
    while (!done) io.run_for(std::chrono::milliseconds(10));
    client.join();
  };
  with_server(curl + "-c '" + curl_file.string() + "' '" + base + "/set'");
  with_server(curl + "-b '" + curl_file.string() + "' -c '" + curl_again.string() + "' '" + base +
              "/p/q/r/s'");
  REQUIRE(server.heads.size() == 2);

  // The same fields, from the same URL, into a jar.
  cookie_jar jar;
  fields response;
  for (const auto& s : set_cookies) response.add("Set-Cookie", s);
  jar.store(u(base + "/set"), response);
  const auto theirs = cookie_lines(slurp(curl_file));
  const auto ours = cookie_lines(write_cookie_file(jar));
  CHECK(theirs.size() == 10);
  CHECK(ours == theirs);

  // curl's file read back sends what curl sent, and is written back as curl wrote it.
  cookie_jar loaded;
  REQUIRE(!load_cookie_file(curl_file, loaded));
  const std::string sent = cookie_field(server.heads[1]);
  CHECK(!sent.empty());
  CHECK(loaded.header_for(u(base + "/p/q/r/s")) == sent);
  CHECK(cookie_lines(write_cookie_file(loaded)) == cookie_lines(slurp(curl_again)));

  // Both requests in one curl run, its jar live between them, and the same exchange
  // through a session with a jar: the same Cookie sent, the same file written.
  const auto curl_live = dir / "curl-live.txt";
  with_server(curl + "-c '" + curl_live.string() + "' '" + base + "/set' '" + base +
              "/p/q/r/s'");
  REQUIRE(server.heads.size() == 4);
  session_options options;
  options.cookies = std::make_shared<cookie_jar>();
  options.names.overrides.push_back(
      *opensock::resolve_override::parse("www.example.test:" + port + ":127.0.0.1"));
  session s(io.get_executor(), opensock::default_socket_factory(), options);
  auto [ec, r] = opensock::test::request(io, s, opensock::test::make_request("GET", base + "/set"));
  REQUIRE(!ec);
  CHECK(cookie_lines(write_cookie_file(*options.cookies)) == theirs);
  std::tie(ec, r) =
      opensock::test::request(io, s, opensock::test::make_request("GET", base + "/p/q/r/s"));
  REQUIRE(!ec);
  REQUIRE(server.heads.size() == 6);
  CHECK(!cookie_field(server.heads[3]).empty());
  CHECK(cookie_field(server.heads[5]) == cookie_field(server.heads[3]));
  CHECK(cookie_lines(write_cookie_file(*options.cookies)) == cookie_lines(slurp(curl_live)));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a session's cookies go with every hop of a redirect and between sessions") {
  asio::io_context io;
  opensock::test::scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  server.routes["/login"] =
      "HTTP/1.1 302 Found\r\nSet-Cookie: id=1; Path=/\r\nSet-Cookie: step=login; Path=/in\r\n"
      "Location: /in/home\r\nContent-Length: 0\r\n\r\n";
  server.routes["/in/home"] =
      "HTTP/1.1 200 OK\r\nSet-Cookie: step=home; Path=/in\r\nContent-Length: 2\r\n\r\nok";
  server.routes["/out"] =
      "HTTP/1.1 200 OK\r\nSet-Cookie: id=; Max-Age=0; Path=/\r\nContent-Length: 0\r\n\r\n";
  const auto jar = std::make_shared<cookie_jar>();
  session_options options;
  options.cookies = jar;
  options.follow_redirects = true;
  session first(io.get_executor(), opensock::default_socket_factory(), options);
  auto [ec, r] = opensock::test::request(io, first,
                                         opensock::test::make_request("GET", server.url("/login")));
  REQUIRE(!ec);
  CHECK(r.body == "ok");
  REQUIRE(server.heads.size() == 2);
  CHECK(cookie_field(server.heads[0]).empty());
  // Set by the redirect, sent on the hop it leads to: the longer path first.
  CHECK(cookie_field(server.heads[1]) == "step=login; id=1");
  CHECK(jar->size() == 2);

  // Another session with the same jar, and a caller's own Cookie field beside the jar's.
  session second(io.get_executor(), opensock::default_socket_factory(), options);
  auto req = opensock::test::make_request("GET", server.url("/in/x"));
  req.headers.add("Cookie", "mine=1");
  std::tie(ec, r) = opensock::test::request(io, second, std::move(req));
  REQUIRE(!ec);
  CHECK(server.heads[2].find("Cookie: step=home; id=1\r\n") != std::string::npos);
  CHECK(server.heads[2].find("Cookie: mine=1\r\n") != std::string::npos);
  // A cookie deleted by its server goes no more.
  std::tie(ec, r) =
      opensock::test::request(io, second, opensock::test::make_request("GET", server.url("/out")));
  REQUIRE(!ec);
  std::tie(ec, r) =
      opensock::test::request(io, first, opensock::test::make_request("GET", server.url("/in/y")));
  REQUIRE(!ec);
  REQUIRE(server.heads.size() == 5);
  CHECK(cookie_field(server.heads[4]) == "step=home");
  // Without a jar, none.
  session without(io.get_executor());
  std::tie(ec, r) =
      opensock::test::request(io, without, opensock::test::make_request("GET", server.url("/in/z")));
  REQUIRE(!ec);
  CHECK(server.heads.back().find("Cookie") == std::string::npos);
}
