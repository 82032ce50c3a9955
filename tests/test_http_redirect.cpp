#include <opensock/http/redirect.hpp>

#include <opensock/detail/idn.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"

#include <string>

using opensock::http::redirected_request;
using opensock::http::resolve_location;
using opensock::http::url;
using opensock::test::make_request;

namespace {

std::string resolved(const std::string& base_text, std::string_view location,
                     url::host_form form = url::host_form::ascii) {
  std::error_code ec;
  const auto base = url::parse(base_text, ec);
  REQUIRE(!ec);
  const auto next = resolve_location(base, location, ec);
  if (ec) return "error " + std::to_string(opensock::curl_code(ec));
  return next.to_string(form);
}

}  // namespace

TEST_CASE("a Location resolves against the URL that was fetched") {
  const std::string base = "http://h:8080/a/b/c?q=1";
  CHECK(resolved(base, "http://other.test/x") == "http://other.test/x");
  CHECK(resolved(base, "//other.test:81/y") == "http://other.test:81/y");
  CHECK(resolved(base, "/root?z") == "http://h:8080/root?z");
  CHECK(resolved(base, "d") == "http://h:8080/a/b/d");
  CHECK(resolved(base, "../d") == "http://h:8080/a/d");
  CHECK(resolved(base, "?only") == "http://h:8080/a/b/c?only");
  // "://" after the first segment is no scheme.
  CHECK(resolved(base, "data.cgi?moo=http://&/x") == "http://h:8080/a/b/data.cgi?moo=http://&/x");
  CHECK(resolved(base, "Https://Other.test/") == "https://other.test/");
  CHECK(resolved("https://[::1]/x", "/y") == "https://[::1]/y");
  CHECK(resolved(base, "ftp://h/file") == "error 1");
  CHECK(resolved(base, "http://bad host/") == "error 3");
}

TEST_CASE("spaces in a Location are encoded as curl encodes them") {
  const std::string base = "http://h/a/b";
  CHECK(resolved(base, "/b c") == "http://h/b%20c");
  CHECK(resolved(base, "c d") == "http://h/a/c%20d");
  CHECK(resolved(base, "/b c?x y z") == "http://h/b%20c?x+y+z");
  CHECK(resolved(base, "http://other/ x") == "http://other/%20x");
  CHECK(resolved(base, "/b\tc") == "error 3");
}

TEST_CASE("301 and 302 turn a POST into a GET, 303 everything but HEAD, 307 and 308 keep it") {
  auto post = make_request("POST", "http://h/form");
  post.body = "a=1";
  post.headers.add("Content-Type", "application/x-www-form-urlencoded");
  const auto next = make_request("GET", "http://h/next").url;
  for (int status : {301, 302, 303}) {
    CAPTURE(status);
    const auto r = redirected_request(post, next, status);
    CHECK(r.method == "GET");
    CHECK(r.body.empty());
    CHECK(!r.headers.contains("content-type"));
  }
  for (int status : {307, 308}) {
    CAPTURE(status);
    const auto r = redirected_request(post, next, status);
    CHECK(r.method == "POST");
    CHECK(r.body == "a=1");
    CHECK(r.headers.get("content-type") == "application/x-www-form-urlencoded");
  }
  CHECK(redirected_request(make_request("PUT", "http://h/"), next, 302).method == "PUT");
  CHECK(redirected_request(make_request("PUT", "http://h/"), next, 303).method == "GET");
  CHECK(redirected_request(make_request("HEAD", "http://h/"), next, 303).method == "HEAD");
  CHECK(redirected_request(post, next, 302).url.path == "/next");
}

TEST_CASE("keep_post keeps a POST a POST after the redirects it names, as curl's --post301") {
  using namespace opensock::http;
  auto post = make_request("POST", "http://h/form");
  post.body = "a=1";
  const auto next = make_request("GET", "http://h/next").url;
  const auto method_after = [&](int status, unsigned keep) {
    return redirected_request(post, next, status, keep).method;
  };
  CHECK(method_after(301, keep_post_after_301) == "POST");
  CHECK(method_after(302, keep_post_after_301) == "GET");
  CHECK(method_after(302, keep_post_after_302) == "POST");
  CHECK(method_after(303, keep_post_after_301 | keep_post_after_302) == "GET");
  CHECK(method_after(303, keep_post_after_303) == "POST");
  CHECK(redirected_request(post, next, 303, keep_post_after_303).body == "a=1");
  // Only a POST is kept: a PUT after a 303 becomes a GET all the same.
  CHECK(redirected_request(make_request("PUT", "http://h/"), next, 303, keep_post_after_303)
            .method == "GET");
}

TEST_CASE("credentials stay behind when the origin changes") {
  auto req = make_request("GET", "http://h/");
  req.headers.add("Authorization", "Bearer secret");
  req.headers.add("Cookie", "session=1");
  req.headers.add("X-Other", "kept");
  const auto same = redirected_request(req, make_request("GET", "http://h/elsewhere").url, 302);
  CHECK(same.headers.contains("authorization"));
  CHECK(same.headers.contains("cookie"));
  for (const char* other : {"http://evil.test/", "http://h:8080/", "https://h/"}) {
    CAPTURE(other);
    const auto away = redirected_request(req, make_request("GET", other).url, 302);
    CHECK(!away.headers.contains("authorization"));
    CHECK(!away.headers.contains("cookie"));
    CHECK(away.headers.get("x-other") == "kept");
  }
}

TEST_CASE("a Location within the same authority keeps a host written in Unicode") {
  if (!opensock::detail::has_idn) return;  // such a base does not parse (test_http_url)
  const std::string base = "http://\xc3\xa5\xc3\xa4\xc3\xb6.se:8080/a/b";
  const auto shown = url::host_form::as_written;
  CHECK(resolved(base, "c") == "http://xn--4cab6c.se:8080/a/c");
  CHECK(resolved(base, "c", shown) == "http://\xc3\xa5\xc3\xa4\xc3\xb6.se:8080/a/c");
  CHECK(resolved(base, "/root?q", shown) == "http://\xc3\xa5\xc3\xa4\xc3\xb6.se:8080/root?q");
  CHECK(resolved(base, "http://xn--4cab6c.se:8080/x", shown) == "http://xn--4cab6c.se:8080/x");
  CHECK(resolved(base, "//other.test/y", shown) == "http://other.test/y");
}
