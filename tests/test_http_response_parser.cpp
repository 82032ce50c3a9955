#include <opensock/http/response_parser.hpp>

#include "support/catch.hpp"

#include <string>
#include <string_view>
#include <vector>

using opensock::error;
using opensock::http::body_framing;
using opensock::http::parser_limits;
using opensock::http::response_parser;

namespace {

struct parsed {
  std::error_code error;
  bool done = false;
  int status = 0;
  std::string body;
  std::size_t consumed = 0;
  bool keep_alive = false;
  std::size_t interim = 0;
};

// Feeds `wire` in pieces cut at `cuts`, as a connection would deliver it, keeping the
// unconsumed rest like a read buffer does; then reports the end of the stream if
// `eof`.
parsed feed(std::string_view wire, std::vector<std::size_t> cuts, bool eof, bool head = false,
            parser_limits limits = {}) {
  response_parser parser(limits);
  parser.start(head);
  parsed out;
  std::string buffer;
  cuts.push_back(wire.size());
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    buffer.append(wire.substr(from, cut - from));
    from = cut;
    const std::size_t n = parser.parse(buffer, [&](std::string_view b) { out.body.append(b); });
    out.consumed += n;
    buffer.erase(0, n);
    if (parser.error() || parser.done()) break;
  }
  if (eof && !parser.error() && !parser.done()) parser.finish_at_eof();
  out.error = parser.error();
  out.done = parser.done();
  out.status = parser.status();
  out.keep_alive = parser.keep_alive();
  out.interim = parser.interim().size();
  return out;
}

parsed feed_whole(std::string_view wire, bool eof = true, bool head = false) {
  return feed(wire, {}, eof, head);
}

struct good_case {
  const char* wire;
  int status;
  const char* body;
  bool needs_eof;  // the body ends with the connection
};

const std::vector<good_case> good = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "", false},
    {"HTTP/1.0 200 OK\r\n\r\nuntil close", 200, "until close", true},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
     200, "hello world", false},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
     200, "0123456789", false},
    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
     "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
     201, "ok", false},
    {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 204, "", false},
    {"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 304, "", false},
    {"HTTP/1.1 200 OK\nContent-Length: 2\n\nab", 200, "ab", false},
    {"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", 200, "x", false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc", 200, "abc", false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     200, "abc", false},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes", 200, "raw bytes", true},
    {"HTTP/1.1 200 OK\r\nFolded: a\r\n  b\r\nContent-Length: 0\r\n\r\n", 200, "", false},
    {"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n", 999, "", false},
    {"HTTP/2 200 OK\r\n\r\n", 200, "", true},
    {"HTTP/1.1 200 OK\r\nContent-Length: \t3\t,3 ,  3\r\n\r\nabc", 200, "abc", false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\nabc", 200, "abc", false},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", 200, "abc", false},
};

}  // namespace

TEST_CASE("every response of the corpus parses the same at every split") {
  for (const auto& c : good) {
    const std::string_view wire = c.wire;
    CAPTURE(wire);
    const auto whole = feed_whole(wire);
    REQUIRE(!whole.error);
    REQUIRE(whole.done);
    CHECK(whole.status == c.status);
    CHECK(whole.body == c.body);
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      CAPTURE(cut);
      const auto split = feed(wire, {cut}, true);
      CHECK(!split.error);
      CHECK(split.done);
      CHECK(split.body == c.body);
    }
    // One byte at a time.
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
    const auto bytewise = feed(wire, every, true);
    CHECK(!bytewise.error);
    CHECK(bytewise.body == c.body);
    // Without the end of the stream, only bodies delimited by it are unfinished.
    CHECK(feed(wire, {}, false).done == !c.needs_eof);
  }
}

TEST_CASE("a Content-Length up to 2^63 - 1 is read, one past it is no length") {
  const auto length_of = [](std::string_view value) {
    response_parser p;
    p.start();
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::string(value) + "\r\n\r\n";
    p.parse(head, [](std::string_view) {});
    return p.error() ? std::optional<std::uint64_t>() : p.content_length();
  };
  CHECK(length_of("9223372036854775807") == 9223372036854775807ull);
  CHECK(length_of("9223372036854775807, 9223372036854775807") == 9223372036854775807ull);
  CHECK(length_of("922337203685477580") == 922337203685477580ull);
  // As curl reads one: the body runs to the close, the connection is not kept; under a
  // body limit it is over the limit (curl's 63).
  for (const std::string_view value :
       {"9223372036854775808", " 36893488147419103232 ", "99999999999999999999, 1"}) {
    CAPTURE(value);
    CHECK(!length_of(value));
    const std::string wire =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::string(value) + "\r\n\r\n-foo-\n";
    const auto r = feed_whole(wire, true);
    CHECK(!r.error);
    CHECK(r.done);
    CHECK(r.body == "-foo-\n");
    CHECK(!r.keep_alive);
    parser_limits limited;
    limited.max_body = 2000000;
    CHECK(feed(wire, {}, true, false, limited).error == error::body_too_large);
  }
}

TEST_CASE("interim responses are kept for the caller") {
  const auto r = feed_whole(good[5].wire);
  CHECK(r.interim == 2);
  response_parser parser;
  parser.start();
  parser.parse(good[5].wire, [](std::string_view) {});
  REQUIRE(parser.interim().size() == 2);
  CHECK(parser.interim()[1].status == 103);
  CHECK(parser.interim()[1].headers.get("link") == "</a>");
}

TEST_CASE("headers keep order, duplicates and folding, trailers are separate") {
  response_parser parser;
  parser.start();
  const std::string wire =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Long: one\r\n two\r\n\tthree\r\nset-cookie: b=2\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\nChecksum: abc\r\n\r\n";
  parser.parse(wire, [](std::string_view) {});
  REQUIRE(parser.done());
  CHECK(parser.headers().get_all("SET-COOKIE") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(parser.headers().get("x-long") == "one two three");
  CHECK(parser.trailers().get("checksum") == "abc");
  CHECK(parser.reason() == "OK");
  CHECK(parser.version() == 11);
}

TEST_CASE("each response on a connection has its own reason phrase") {
  response_parser parser;
  std::string reason = "left from before";
  const auto next = [&](std::string_view wire) {
    parser.start();
    CHECK(parser.reason().empty());  // none until this response's status line
    parser.parse(wire, [](std::string_view) {});
    REQUIRE(parser.done());
    const std::string seen(parser.reason());
    opensock::http::fields headers, trailers;
    std::vector<opensock::http::interim_response> interim;
    parser.take_head(reason, headers, trailers, interim);
    CHECK(reason == seen);
    return seen;
  };
  CHECK(next("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == "OK");
  CHECK(next("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == "OK");
  CHECK(next("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") == "Not Found");
  CHECK(next("HTTP/1.1 204\r\n\r\n") == "");
  CHECK(next("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == "OK");
  CHECK(next("HTTP/1.1 200 Ok\r\nContent-Length: 0\r\n\r\n") == "Ok");
}

TEST_CASE("a response stops where the next one begins") {
  response_parser parser;
  parser.start();
  const std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n";
  std::string body;
  const auto n = parser.parse(two, [&](std::string_view b) { body += b; });
  CHECK(parser.done());
  CHECK(body == "a");
  CHECK(two.substr(n).rfind("HTTP/1.1", 0) == 0);
}

TEST_CASE("HEAD responses have no body whatever Content-Length says") {
  const auto r = feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false, true);
  CHECK(r.done);
  CHECK(r.body.empty());
  CHECK(r.keep_alive);
}

TEST_CASE("keep-alive follows version, Connection and framing") {
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  CHECK(!feed_whole("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  CHECK(!feed_whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  CHECK(feed_whole("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
  CHECK(!feed_whole("HTTP/1.1 200 OK\r\n\r\nbody").keep_alive);
  CHECK(!feed_whole(good[11].wire).keep_alive);  // Content-Length beside chunked
}

TEST_CASE("malformed replies end in curl's error numbers") {
  struct bad_case {
    const char* wire;
    error expected;
    int curl;
  };
  const std::vector<bad_case> bad = {
      {"FOO\r\n\r\n", error::http09_not_allowed, 1},
      {"HTTP/1.2 200 OK\r\n\r\n", error::unsupported_http_version, 1},
      {"HTTP/1.10 200 OK\r\n\r\n", error::unsupported_http_version, 1},
      {"HTTP/1.1 2000 OK\r\n\r\n", error::unsupported_status_code, 1},
      {"HTTP/1.1 20 OK\r\n\r\n", error::unsupported_status_code, 1},
      {"HTTP/1.1 099 OK\r\n\r\n", error::unsupported_status_code, 1},
      {"HTTP/1.1 abc OK\r\n\r\n", error::unsupported_status_code, 1},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", error::malformed_header, 8},
      {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", error::malformed_header, 8},
      {"HTTP/1.1 200 OK\r\n Leading: fold\r\n\r\n", error::malformed_header, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999x\r\n\r\n", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3,\r\n\r\nabc", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: ,3\r\n\r\nabc", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length:  \r\n\r\n", error::bad_content_length, 8},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", error::malformed_chunk, 56},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", error::malformed_chunk, 56},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n", error::malformed_chunk, 56},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", error::malformed_chunk, 56},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", error::partial_file, 18},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", error::partial_file, 18},
      {"HTTP/1.1 200 OK\r\nContent-", error::incomplete_header, 8},
      {"HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\nabc", error::folded_framing_field, 8},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, other\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       error::chunked_not_last, 61},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked, other\r\n\r\n",
       error::chunked_not_last, 61},
      {"", error::got_nothing, 52},
      // No final status line came whole: nothing, a cut one, interim responses alone.
      {"HTTP/1.1 20", error::got_nothing, 52},
      {"HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n", error::got_nothing, 52},
      {"HTTP/1.1 100 Continue\r\n\r\nData\r\nData\r\n", error::not_http_after_interim, 8},
      {"HTTP/1.1 302 Found\r\nLocation: /a\r\nX: y\r\nlocation: /b\r\nContent-Length: 0\r\n\r\n",
       error::repeated_location, 8},
      {"HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /a\r\nLocation: /c\r\n\r\n",
       error::repeated_location, 8},
  };
  for (const auto& c : bad) {
    const std::string_view wire = c.wire;
    CAPTURE(wire);
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      CAPTURE(cut);
      const auto r = feed(wire, {cut}, true);
      CHECK(r.error == c.expected);
      CHECK(opensock::curl_code(r.error) == c.curl);
    }
  }
}

TEST_CASE("Content-Length ignored: a body not chunked runs to the close") {
  const auto ignoring = [](std::string_view wire, bool eof) {
    response_parser parser;
    parser.ignore_content_length(true);
    parser.start();
    std::string body;
    const std::size_t used = parser.parse(wire, [&](std::string_view b) { body.append(b); });
    if (eof && !parser.error() && !parser.done()) parser.finish_at_eof();
    return std::tuple(parser.error(), parser.done(), parser.keep_alive(), body, used);
  };
  // Longer and shorter than it says, or not a length at all: all of it, to the close.
  for (const std::string_view length : {"677654", "3", "x"}) {
    CAPTURE(length);
    const std::string wire =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::string(length) + "\r\n\r\nmuahahaha\n";
    const auto [ec, done, keep_alive, body, used] = ignoring(wire, false);
    CHECK(!ec);
    CHECK(!done);
    CHECK(body == "muahahaha\n");
    CHECK(std::get<1>(ignoring(wire, true)));
    CHECK(!keep_alive);
  }
  // Chunked framing is kept, and so is a body-less response's.
  const auto [ec1, done1, keep1, body1, used1] = ignoring(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false);
  CHECK(done1);
  CHECK(body1 == "ok");
  CHECK(std::get<1>(ignoring("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false)));
}

TEST_CASE("a connection speaks one version of HTTP: another on it is refused") {
  response_parser parser;
  parser.allow_http09(true);
  const auto next = [&](std::string_view wire) {
    parser.start();
    parser.parse(wire, [](std::string_view) {});
    return parser.error();
  };
  const std::string_view ok11 = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(!next(ok11));
  CHECK(!next("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));  // HTTP/1 still
  CHECK(next("HTTP/2 200\r\nContent-Length: 0\r\n\r\n") == error::version_changed);
  // Not HTTP/0.9 either, allowed or not, once the connection has answered in HTTP/1.
  CHECK(next("Data\nData\n") == error::version_changed);
  parser.allow_http09(false);
  CHECK(next("Data\nData\n") == error::version_changed);
  CHECK(opensock::curl_code(error::version_changed) == 8);
  // A new connection starts anew.
  parser.start_connection();
  CHECK(next("Data\nData\n") == error::http09_not_allowed);
  parser.start_connection();
  REQUIRE(!next("HTTP/2 200\r\nContent-Length: 0\r\n\r\n"));
  CHECK(next(ok11) == error::version_changed);
}

TEST_CASE("transfer codings kept: the body as it came, its end still found") {
  const auto raw = [](std::string_view wire, std::size_t cut, bool eof,
                      parser_limits limits = {}) {
    response_parser parser(limits);
    parser.keep_transfer_codings(true);
    parser.start();
    std::string body, buffer;
    std::size_t from = 0;
    for (const std::size_t to : {cut, wire.size()}) {
      buffer.append(wire.substr(from, to - from));
      from = to;
      buffer.erase(0, parser.parse(buffer, [&](std::string_view b) { body.append(b); }));
      if (parser.error() || parser.done()) break;
    }
    buffer.append(wire.substr(from));  // what a read brought past the response
    if (eof && !parser.error() && !parser.done()) parser.finish_at_eof();
    return std::tuple(parser.error(), parser.done(), parser.keep_alive(), body, buffer);
  };
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunks = "5;ext=1\r\nhello\r\n6\n world\n0\r\nX-Trailer: t\r\n\r\n";
  for (std::size_t cut = 0; cut <= head.size() + chunks.size(); ++cut) {
    CAPTURE(cut);
    // What follows the body stays unread: it belongs to the next response.
    const auto [ec, done, keep_alive, body, rest] = raw(head + chunks + "HTTP/1.1", cut, false);
    CHECK(!ec);
    CHECK(done);
    CHECK(keep_alive);
    CHECK(body == chunks);
    CHECK(rest == "HTTP/1.1");
  }
  // Another coding last: by Content-Length when there is one, as curl takes it, else to
  // the close.
  const std::string coded = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n";
  const auto [ec1, done1, keep1, body1, rest1] =
      raw(coded + "Content-Length: 4\r\n\r\nabcdef", 0, false);
  CHECK(!ec1);
  CHECK(done1);
  CHECK(!keep1);
  CHECK(body1 == "abcd");
  const auto [ec2, done2, keep2, body2, rest2] = raw(coded + "\r\nabcdef", 0, true);
  CHECK(!ec2);
  CHECK(body2 == "abcdef");
  // The framing counts against the body limit: it is body now.
  parser_limits small;
  small.max_body = 12;
  CHECK(std::get<0>(raw(head + chunks, 0, false, small)) == error::body_too_large);
  small.max_body = chunks.size();
  CHECK(!std::get<0>(raw(head + chunks, 0, false, small)));
}

TEST_CASE("HTTP/0.9 when allowed: a response not beginning with HTTP/ is all body") {
  const auto http09 = [](std::string_view wire, std::vector<std::size_t> cuts, bool head) {
    response_parser parser;
    parser.allow_http09(true);
    parser.start(head);
    std::string body, buffer;
    cuts.push_back(wire.size());
    std::size_t from = 0;
    for (const std::size_t cut : cuts) {
      buffer.append(wire.substr(from, cut - from));
      from = cut;
      buffer.erase(0, parser.parse(buffer, [&](std::string_view b) { body.append(b); }));
      if (parser.error()) break;
    }
    if (!parser.error()) parser.finish_at_eof();
    return std::tuple(parser.error(), parser.status(), parser.version(), body);
  };
  using namespace std::string_view_literals;
  for (const std::string_view wire : {"no headers\n"sv, "HTTX/1.1 200 OK\r\n\r\n"sv,
                                      "\0\0\0 zeroes"sv, "x"sv}) {
    CAPTURE(wire);
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      CAPTURE(cut);
      const auto [ec, status, version, body] = http09(wire, {cut}, false);
      CHECK(!ec);
      CHECK(status == 200);
      CHECK(version == 9);
      CHECK(body == wire);
      // A HEAD's answer has no body to be.
      CHECK(std::get<0>(http09(wire, {cut}, true)) == error::http09_without_body);
    }
  }
  // HTTP/1.x is read as it is, a prefix of "HTTP/" waited on.
  const auto [ec, status, version, body] = http09("HTTP/1.1 201 Made\r\n\r\nrest", {2, 4}, false);
  CHECK(!ec);
  CHECK(status == 201);
  CHECK(version == 11);
  CHECK(body == "rest");
  // Not by default.
  CHECK(feed_whole("no headers\n").error == error::http09_not_allowed);
}

TEST_CASE("a NUL byte or a lone CR in the status line or a header line is refused") {
  using namespace std::string_view_literals;
  for (const std::string_view wire : {
           "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n"sv,
           "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n"sv,
           "HTTP/1.1 200 OK\r\nX\0A: b\r\nContent-Length: 0\r\n\r\n"sv,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \0\r\n\r\n"sv,
           "HTTP/1.1 200 OK\rContent-Length: 3\r\rhi\n"sv,
           "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"sv,
           "HTTP/1.1 200 OK\r\nX-A: a\r\r\nContent-Length: 0\r\n\r\n"sv,
       }) {
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      CAPTURE(cut);
      const auto r = feed(wire, {cut}, true);
      CHECK(r.error == error::invalid_header_byte);
      CHECK(opensock::curl_code(r.error) == 8);
    }
  }
  // In a body it is data.
  using namespace std::string_literals;
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b"sv).body == "a\0b"s);
}

TEST_CASE("the head-line hook sees only the lines the parser took") {
  response_parser parser;
  parser.start();
  std::vector<std::string> seen;
  parser.parse("HTTP/1.1 200 OK\r\nX-A: 1\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
               [](std::string_view) {}, [&](std::string_view line) { seen.emplace_back(line); });
  CHECK(parser.error() == error::malformed_header);
  CHECK(seen == std::vector<std::string>{"HTTP/1.1 200 OK\r\n", "X-A: 1\r\n"});
}

TEST_CASE("every limit is explicit and enforced") {
  parser_limits small;
  small.max_line = 64;
  const std::string long_line = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  CHECK(feed(long_line, {}, true, false, small).error == error::header_line_too_long);
  CHECK(opensock::curl_code(error::header_line_too_long) == 100);
  // Without a newline in sight, the limit applies to what is buffered.
  CHECK(feed("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'), {}, false, false, small).error ==
        error::header_line_too_long);

  parser_limits total;
  total.max_header_bytes = 200;
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 20; ++i) many += "X-Field: 0123456789\r\n";
  CHECK(feed(many + "\r\n", {}, true, false, total).error == error::response_headers_too_large);
  CHECK(opensock::curl_code(error::response_headers_too_large) == 56);

  parser_limits count;
  count.max_header_count = 5;
  CHECK(feed(many + "\r\n", {}, true, false, count).error == error::too_many_response_headers);
  CHECK(opensock::curl_code(error::too_many_response_headers) == 100);
  // By default curl's count: 5000 fields are taken, the 5001st refused.
  std::string fields = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 5000; ++i) fields += "A:\r\n";
  CHECK(feed(fields + "\r\n", {}, true).error == std::error_code());
  CHECK(feed(fields + "A:\r\n\r\n", {}, true).error == error::too_many_response_headers);

  parser_limits body;
  body.max_body = 4;
  CHECK(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", {}, true, false, body).error ==
        error::body_too_large);
  CHECK(feed("HTTP/1.1 200 OK\r\n\r\nhello", {}, true, false, body).error == error::body_too_large);
  CHECK(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", {}, true,
             false, body)
            .error == error::body_too_large);
  CHECK(opensock::curl_code(error::body_too_large) == 63);
  // The default header limit is curl's: 300 KiB.
  CHECK(parser_limits{}.max_header_bytes == 300 * 1024);
}

TEST_CASE("a body of known length may be read by the caller directly") {
  opensock::http::response_parser parser;
  parser.start();
  std::string body;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  CHECK(parser.parse(head, [&](std::string_view b) { body.append(b); }) == head.size());
  CHECK(body == "abc");
  CHECK(parser.direct_body_room() == 7);
  parser.body_read_directly(4);
  CHECK(parser.direct_body_room() == 3);
  CHECK(!parser.done());
  parser.body_read_directly(3);
  CHECK(parser.done());
  CHECK(parser.body_bytes() == 10);
  CHECK(parser.direct_body_room() == 0);

  // Chunked bodies are the parser's to frame.
  parser.start();
  parser.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", [](std::string_view) {});
  CHECK(parser.direct_body_room() == 0);

  // The body limit holds for bytes read directly too.
  opensock::http::parser_limits limits;
  limits.max_body = 5;
  opensock::http::response_parser limited(limits);
  limited.start();
  limited.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", [](std::string_view) {});
  limited.body_read_directly(5);
  CHECK(limited.done());
  limited.start();
  limited.parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", [](std::string_view) {});
  CHECK(limited.error() == opensock::error::body_too_large);
}

TEST_CASE("the framing names match received names of their length in any case, and only those") {
  // Every byte at every place of each name, against iequals: a letter matches itself in
  // either case, anything else only itself (a CR is not '-', nor 0x80 + a letter a letter).
  using opensock::http::iequals;
  namespace detail = opensock::http::detail;
  int mismatches = 0;
  const auto check_all = [&](const auto& known, std::string_view lower) {
    REQUIRE(known.size == lower.size());
    for (std::size_t at = 0; at < lower.size(); ++at) {
      for (int x = 0; x < 256; ++x) {
        std::string name(lower);
        name[at] = static_cast<char>(x);
        if (known.matches(name.data()) != iequals(name, lower)) ++mismatches;
      }
    }
  };
  check_all(detail::connection_name, "connection");
  check_all(detail::content_length_name, "content-length");
  check_all(detail::transfer_encoding_name, "transfer-encoding");
  CHECK(mismatches == 0);
  CHECK(detail::content_length_name.matches("CONTENT-LENGTH"));
  CHECK(detail::transfer_encoding_name.matches("Transfer-Encoding"));
  CHECK(detail::connection_name.matches("cOnNeCtIoN"));
  CHECK(!detail::content_length_name.matches("Content_Length"));
  CHECK(!detail::content_length_name.matches("Content\rLength"));
}

TEST_CASE("the fields that frame a body are found in any case, with their folded lines, and only in this head") {
  // Names of the framing fields' lengths that are not framing fields.
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Lengtx: 3\r\n\r\nabc").body == "abc");
  CHECK(!feed_whole("HTTP/1.1 200 OK\r\nContent-Lengtx: 3\r\n\r\nabc").keep_alive);
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nConnectiom: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encodinf: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            .body == "3\r\nabc\r\n0\r\n\r\n");
  // Any case.
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\n\r\nabcd", false).body == "abc");
  CHECK(feed_whole("HTTP/1.1 200 OK\r\ntransfer-ENCODING: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                   false)
            .body == "abc");
  CHECK(!feed_whole("HTTP/1.1 200 OK\r\nCONNECTION: Close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  // Values as folded lines leave them; Content-Length and Transfer-Encoding may not be
  // folded, the first or a later field of either.
  CHECK(!feed_whole("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 0\r\n\r\n")
             .keep_alive);
  for (const char* folded : {
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\nabc",
           "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:\r\n 3\r\n\r\nabc",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       }) {
    CAPTURE(folded);
    CHECK(feed_whole(folded).error == error::folded_framing_field);
  }
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: a\r\n b\r\n\r\nabc").done);
  // Every Content-Length field, wherever it is; the last Transfer-Encoding field.
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\ncontent-length: 3\r\n\r\nabc")
            .body == "abc");
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\nCONTENT-LENGTH: 4\r\n\r\nabcd")
            .error == error::bad_content_length);
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
                   "raw")
            .error == error::chunked_not_last);
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw").body == "raw");
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n0\r\n\r\n",
                   false)
            .body == "abc");
  // As curl reads them: chunked repeated is chunked once, and "identity" names no coding,
  // which leaves Content-Length to frame the body (the connection is not kept).
  for (const std::string_view codings :
       {"chunked, chunked", "identity, chunked", "chunked\r\nTransfer-Encoding: chunked"}) {
    CAPTURE(codings);
    const auto twice = feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: " + std::string(codings) +
                                  "\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false);
    CHECK(twice.done);
    CHECK(twice.body == "abc");
  }
  const auto identity = feed_whole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, identity\r\nContent-Length: 3\r\n\r\nabc",
      false);
  CHECK(identity.done);
  CHECK(identity.body == "abc");
  CHECK(!identity.keep_alive);
  // After chunked, identity is a coding after chunked too.
  CHECK(feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n")
            .error == error::chunked_not_last);
  // Location fields that agree are no conflict.
  CHECK(feed_whole("HTTP/1.1 302 Found\r\nLocation: /a\r\nlocation: /a\r\nContent-Length: 0\r\n\r\n")
            .done);
  // An interim response's fields frame nothing of the final one.
  const auto after_interim = feed_whole(
      "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
      "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      false);
  CHECK(after_interim.done);
  CHECK(after_interim.body == "ok");
  CHECK(after_interim.keep_alive);
  // Nor do trailers.
  const auto trailers = feed_whole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nConnection: close\r\n"
      "Content-Length: 99\r\n\r\n",
      false);
  CHECK(trailers.done);
  CHECK(trailers.body == "abc");
  CHECK(trailers.keep_alive);
  // Nor those of the response before on the connection.
  response_parser parser;
  parser.start();
  parser.parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
               [](std::string_view) {});
  REQUIRE(parser.done());
  CHECK(!parser.keep_alive());
  parser.start();
  std::string body;
  parser.parse("HTTP/1.1 200 OK\r\nX: 1\r\nContent-Length: 1\r\n\r\nz",
               [&](std::string_view b) { body += b; });
  REQUIRE(parser.done());
  CHECK(parser.keep_alive());
  CHECK(body == "z");
  CHECK(parser.content_length() == 1u);
}
