#include <opensock/http/serializer.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"

#include <opensock/http/response_parser.hpp>

#include <string>

using opensock::http::request;
using opensock::test::make_request;
using opensock::http::serialize_head;

namespace {

std::string head(const request& r, std::optional<std::uint64_t> length) {
  std::string out;
  REQUIRE(!serialize_head(r, length, out));
  return out;
}

}  // namespace

TEST_CASE("a GET: origin-form target and Host without the default port") {
  CHECK(head(make_request("GET", "http://example.test/a?b=1#frag"), 0) ==
        "GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
  CHECK(head(make_request("GET", "http://example.test:8080/"), 0) ==
        "GET / HTTP/1.1\r\nHost: example.test:8080\r\n\r\n");
  CHECK(head(make_request("GET", "https://[::1]:443/"), 0) == "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  // An IPv6 zone stays out of Host, as curl leaves it out.
  CHECK(head(make_request("GET", "http://[fe80::1%25eth0]:8080/"), 0) ==
        "GET / HTTP/1.1\r\nHost: [fe80::1]:8080\r\n\r\n");
}

TEST_CASE("a forwarding proxy's own fields follow the request's, checked as they are") {
  opensock::proxy via(opensock::proxy_kind::http, "127.0.0.1", 3128);
  via.forward_headers.add("X-Proxy", "one");
  via.forward_headers.add("X-Empty", "");
  const opensock::http::forwarding forward(via);
  auto r = make_request("GET", "http://example.test/a");
  r.headers.add("X-Own", "1");
  std::string out;
  REQUIRE(!serialize_head(r, std::nullopt, {}, &forward, out));
  CHECK(out == "GET http://example.test/a HTTP/1.1\r\nHost: example.test\r\n"
               "Proxy-Connection: Keep-Alive\r\nX-Own: 1\r\nX-Proxy: one\r\nX-Empty:\r\n\r\n");
  // The proxy's own Proxy-Connection replaces opensock's.
  opensock::proxy keeping = via;
  keeping.forward_headers.add("Proxy-Connection", "close");
  std::string replaced;
  const opensock::http::forwarding keep(keeping);
  REQUIRE(!serialize_head(r, std::nullopt, {}, &keep, replaced));
  CHECK(replaced.find("Keep-Alive") == std::string::npos);
  CHECK(replaced.find("Proxy-Connection: close\r\n") != std::string::npos);
  via.forward_headers.add("X-Bad", "a\r\nInjected: yes");
  const opensock::http::forwarding bad(via);
  std::string refused;
  CHECK(serialize_head(r, std::nullopt, {}, &bad, refused) ==
        opensock::error::invalid_request_field);
  CHECK(refused.empty());
}

TEST_CASE("a target of the caller's in place of the URL's path and query, and HTTP/1.0") {
  auto options = make_request("OPTIONS", "http://example.test/a?b=1");
  options.target = "*";
  CHECK(head(options, std::nullopt) == "OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n");
  auto old = make_request("GET", "http://example.test/a");
  old.version = 10;
  CHECK(head(old, std::nullopt) == "GET /a HTTP/1.0\r\nHost: example.test\r\n\r\n");
  // To a proxy that forwards it, the target goes as it is too, as curl sends it.
  opensock::http::forwarding via;
  std::string forwarded;
  REQUIRE(!serialize_head(options, std::nullopt, {}, &via, forwarded));
  CHECK(forwarded.rfind("OPTIONS * HTTP/1.1\r\nHost: example.test\r\n", 0) == 0);
  // A target with bytes a request line cannot hold, or a version not 1.0 or 1.1: refused.
  std::string refused;
  options.target = "/a b";
  CHECK(serialize_head(options, std::nullopt, refused) == opensock::error::invalid_request_field);
  old.version = 20;
  CHECK(serialize_head(old, std::nullopt, refused) == opensock::error::invalid_request_field);
  CHECK(refused.empty());
}

TEST_CASE("a Host line made once is sent in place of the URL's, a Host field of the caller's in place of both") {
  auto r = make_request("POST", "http://example.test:8080/p");
  r.body = opensock::http::request_body("abc");
  const std::string made = "Host: example.test:8080\r\n";
  std::string with_line, from_url;
  REQUIRE(!serialize_head(r, 3, made, with_line));
  REQUIRE(!serialize_head(r, 3, from_url));
  CHECK(with_line == from_url);
  CHECK(with_line == "POST /p HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 3\r\n\r\n");
  r.headers.add("Host", "virtual.test");
  with_line.clear();
  REQUIRE(!serialize_head(r, 3, made, with_line));
  CHECK(with_line == "POST /p HTTP/1.1\r\nHost: virtual.test\r\nContent-Length: 3\r\n\r\n");
}

TEST_CASE("the caller's fields follow Host in order, a Host of theirs replaces ours in its place") {
  auto r = make_request("GET", "http://example.test/");
  r.headers.add("Accept", "*/*");
  r.headers.add("X-Two", "2");
  CHECK(head(r, 0) == "GET / HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\nX-Two: 2\r\n\r\n");
  r.headers.add("host", "virtual.test");
  r.headers.add("Host", "second.test");  // the first one given is sent
  CHECK(head(r, 0) == "GET / HTTP/1.1\r\nhost: virtual.test\r\nAccept: */*\r\nX-Two: 2\r\n\r\n");
}

TEST_CASE("to a proxy that forwards it: the absolute form, curl's proxy fields") {
  using opensock::http::forwarding;
  using opensock::proxy;
  using opensock::proxy_kind;
  const forwarding anonymous(proxy(proxy_kind::http, "127.0.0.1", 3128));
  proxy with_user(proxy_kind::http, "127.0.0.1", 3128);
  with_user.user = "u";
  with_user.password = "p";
  const forwarding authorised(with_user);
  const auto forwarded = [](const request& r, const forwarding& via) {
    std::string out;
    REQUIRE(!serialize_head(r, 0, {}, &via, out));
    return out;
  };

  // What curl 7.88 sends for `curl -x u:p@127.0.0.1:3128 'http://u2:p2@example.test:80/a/../b?q=1#f'`,
  // less its User-Agent and Accept.
  auto r = make_request("GET", "http://u2:p2@example.test:80/a/../b?q=1#f");
  CHECK(forwarded(r, authorised) ==
        "GET http://example.test/b?q=1 HTTP/1.1\r\nHost: example.test\r\n"
        "Proxy-Authorization: Basic dTpw\r\nProxy-Connection: Keep-Alive\r\n\r\n");
  // Credentials that wait for the proxy's 407 are not sent unasked.
  for (const auto schemes : {opensock::http::auth_schemes(opensock::http::auth_scheme::digest),
                             opensock::http::auth_schemes::any}) {
    with_user.auth = schemes;
    CHECK(with_user.answers_challenges());
    CHECK(forwarded(r, forwarding(with_user)) ==
          "GET http://example.test/b?q=1 HTTP/1.1\r\nHost: example.test\r\n"
          "Proxy-Connection: Keep-Alive\r\n\r\n");
  }
  // Basic alone goes unasked; no user, or a SOCKS proxy, answers nothing.
  proxy other = with_user;
  other.auth = opensock::http::auth_scheme::basic;
  CHECK(!other.answers_challenges());
  other = with_user;
  other.user.clear();
  CHECK(!other.answers_challenges());
  other = with_user;
  other.kind = proxy_kind::socks5;
  CHECK(!other.answers_challenges());
  // A port that is not the default, an IPv6 literal; the leading fields curl writes
  // before Proxy-Connection there, the caller's other fields and a body's framing after.
  r = make_request("POST", "http://[::1]:8080/x");
  r.headers.add("User-Agent", "t");
  r.headers.add("Accept", "*/*");
  r.headers.add("X-A", "1");
  r.body = opensock::http::request_body("abc");
  std::string out;
  REQUIRE(!serialize_head(r, 3, {}, &anonymous, out));
  CHECK(out ==
        "POST http://[::1]:8080/x HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: t\r\n"
        "Accept: */*\r\nProxy-Connection: Keep-Alive\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n");
  // A resumed upload's Content-Range goes where curl writes Range.
  r = make_request("PUT", "http://example.test/");
  r.headers.add("Content-Range", "bytes 2-4/5");
  r.headers.add("User-Agent", "t");
  CHECK(forwarded(r, anonymous) ==
        "PUT http://example.test/ HTTP/1.1\r\nHost: example.test\r\n"
        "Content-Range: bytes 2-4/5\r\nUser-Agent: t\r\nProxy-Connection: Keep-Alive\r\n\r\n");
  // A Proxy-Connection of the caller's replaces curl's, and their Proxy-Authorization
  // the proxy's Basic one; a Host of theirs replaces ours but not the host the target
  // names.
  r = make_request("GET", "http://example.test/");
  r.headers.add("proxy-connection", "close");
  r.headers.add("Host", "virtual.test");
  r.headers.add("Proxy-Authorization", "Bearer t");
  CHECK(forwarded(r, authorised) ==
        "GET http://example.test/ HTTP/1.1\r\nHost: virtual.test\r\n"
        "proxy-connection: close\r\nProxy-Authorization: Bearer t\r\n\r\n");
  // A host no URL parser would give is refused before anything is written.
  r.url.host = "a b";
  out.clear();
  CHECK(serialize_head(r, 0, {}, &anonymous, out) == opensock::error::invalid_request_field);
  CHECK(out.empty());
}

TEST_CASE("bodies are framed by Content-Length, or chunked when the length is unknown") {
  auto with_body = [](const char* method, opensock::http::request_body body) {
    auto r = make_request(method, "http://h/");
    r.body = std::move(body);
    return r;
  };
  CHECK(head(with_body("POST", "12345"), 5) == "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  // An empty body on a method that carries one is announced (curl's -d ''), none is not
  // (curl's -X POST without data).
  CHECK(head(with_body("POST", ""), 0) == "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(head(make_request("POST", "http://h/"), 0) == "POST / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(head(with_body("DELETE", ""), 0) == "DELETE / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(head(with_body("PUT", "x"), std::nullopt) ==
        "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  auto own = with_body("POST", "abc");
  own.headers.add("Content-Length", "3");
  CHECK(head(own, 3) == "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
}

TEST_CASE("CR, LF or NUL anywhere: an error before anything is written") {
  auto check_refused = [](const request& r) {
    std::string out = "untouched";
    CHECK(serialize_head(r, 0, out) == opensock::error::invalid_request_field);
    CHECK(out == "untouched");
  };
  auto r = make_request("GET", "http://h/");
  r.headers.add("X-Injected", "a\r\nEvil: 1");
  check_refused(r);
  r = make_request("GET", "http://h/");
  r.headers.add("X-Nul", std::string("a\0b", 3));
  check_refused(r);
  r = make_request("GET", "http://h/");
  r.headers.add("Bad Name", "v");
  check_refused(r);
  r = make_request("GET", "http://h/");
  r.headers.add("", "v");
  check_refused(r);
  check_refused(make_request("GET\r\nX: y", "http://h/"));
  check_refused(make_request("GE T", "http://h/"));
  CHECK(opensock::curl_code(opensock::error::invalid_request_field) == 43);
  r = make_request("GET", "http://h/");
  r.headers.add("X-Tab", "a\tb");  // a tab is allowed in a value
  CHECK(!serialize_head(r, 0, *std::make_unique<std::string>()));
}

TEST_CASE("each byte is allowed where RFC 9110 allows it: method, field name, field value, path") {
  const auto tchar = [](unsigned b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(b)) != std::string_view::npos;
  };
  const auto accepted = [](const request& r) {
    std::string out;
    return !serialize_head(r, 0, out);
  };
  int mismatches = 0;
  for (unsigned b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    const bool visible = b > 0x20 && b != 0x7f;  // bytes from 0x80 up included
    const bool in_value = (b >= 0x20 || b == '\t') && b != 0x7f;
    auto method = make_request("GET", "http://h/");
    method.method = "G" + byte + "T";
    auto name = make_request("GET", "http://h/");
    name.headers.add("X" + byte, "v");
    auto value = make_request("GET", "http://h/");
    value.headers.add("X", "a" + byte + "z");
    auto path = make_request("GET", "http://h/");
    path.url.path = "/a" + byte;
    const bool ok = accepted(method) == tchar(b) && accepted(name) == tchar(b) &&
                    accepted(value) == in_value && accepted(path) == visible;
    if (!ok) {
      ++mismatches;
      UNSCOPED_INFO("byte " << b);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("chunk framing round-trips through the response parser's chunked decoder") {
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::string piece : {std::string("a"), std::string(300, 'b'), std::string(16, 'c')}) {
    opensock::http::append_chunk_header(piece.size(), wire);
    wire += piece;
    wire += opensock::http::chunk_end;
  }
  wire += opensock::http::last_chunk;
  opensock::http::response_parser parser;
  parser.start();
  std::string body;
  parser.parse(wire, [&](std::string_view b) { body += b; });
  CHECK(parser.done());
  CHECK(body == "a" + std::string(300, 'b') + std::string(16, 'c'));
  std::string header;
  opensock::http::append_chunk_header(0x12c, header);
  CHECK(header == "12c\r\n");
}
