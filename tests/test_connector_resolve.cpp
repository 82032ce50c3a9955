#include <opensock/connector/resolve.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/io_context.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::test::run;

namespace {

opensock::resolve_result resolve(std::string host, std::uint16_t port) {
  asio::io_context io;
  return run(io, opensock::resolve(host, port));
}

}  // namespace

TEST_CASE("an IPv4 literal resolves to itself") {
  auto r = resolve("127.0.0.7", 8080);
  REQUIRE(!r.error);
  REQUIRE(r.endpoints.size() == 1);
  CHECK(r.endpoints[0] == tcp::endpoint(make_address("127.0.0.7"), 8080));
}

TEST_CASE("dotted IPv4 is read as inet_pton reads it: every short string of digits and dots, and longer ones at random") {
  // inet_pton is the reference: the parser must accept what it accepts, with the same
  // address, and refuse the rest (leading zeros, parts past 255, three or five parts).
  std::size_t compared = 0, accepted = 0, mismatches = 0;
  const auto compare = [&](const std::string& text) {
    unsigned char expected[4];
    const bool valid = inet_pton(AF_INET, text.c_str(), expected) == 1;
    const auto parsed = opensock::detail::parse_dotted_quad(text);
    ++compared;
    accepted += valid ? 1 : 0;
    if (parsed.has_value() != valid ||
        (valid && std::memcmp(parsed->to_bytes().data(), expected, 4) != 0)) {
      ++mismatches;
      UNSCOPED_INFO("differs from inet_pton: \"" << text << "\"");
    }
  };
  const std::string alphabet = "0125.x";
  for (std::size_t length = 1, strings = alphabet.size(); length <= 8;
       ++length, strings *= alphabet.size()) {
    std::string text(length, '0');
    for (std::size_t n = 0; n < strings; ++n) {
      for (std::size_t i = 0, rest = n; i < length; ++i, rest /= alphabet.size())
        text[i] = alphabet[rest % alphabet.size()];
      compare(text);
    }
  }
  std::mt19937 random(7);
  for (int i = 0; i < 100000; ++i) {
    std::string text;
    const int parts = 3 + static_cast<int>(random() % 3);
    for (int p = 0; p < parts; ++p) {
      if (p != 0) text += random() % 50 == 0 ? "," : ".";
      const int digits = static_cast<int>(random() % 5);
      for (int d = 0; d < digits; ++d) text += static_cast<char>('0' + random() % 10);
    }
    compare(text);
  }
  compare("255.255.255.255");
  compare("256.0.0.1");
  compare("");
  CHECK(mismatches == 0);
  CHECK(accepted > 1000);  // the valid ones were tried, not only the invalid
  CHECK(compared > 300000);
}

TEST_CASE("an IPv6 literal resolves to itself, with or without brackets") {
  for (const char* host : {"::1", "[::1]"}) {
    auto r = resolve(host, 443);
    REQUIRE(!r.error);
    REQUIRE(r.endpoints.size() == 1);
    CHECK(r.endpoints[0] == tcp::endpoint(make_address("::1"), 443));
  }
}

TEST_CASE("localhost and its subdomains are loopback, IPv6 first, without a lookup") {
  for (const char* host : {"localhost", "LocalHost", "localhost.", "api.localhost", "a.b.LOCALHOST"}) {
    CAPTURE(host);
    auto r = resolve(host, 9);
    REQUIRE(!r.error);
    REQUIRE(r.endpoints.size() == 2);
    CHECK(r.endpoints[0] == tcp::endpoint(make_address("::1"), 9));
    CHECK(r.endpoints[1] == tcp::endpoint(make_address("127.0.0.1"), 9));
  }
  CHECK(!opensock::detail::is_localhost_name("notlocalhost"));
  CHECK(!opensock::detail::is_localhost_name("localhost.example"));
}

TEST_CASE("odd IPv4 spellings that getaddrinfo accepts resolve numerically") {
  for (const char* host : {"2130706433", "0x7f.1", "017700000001", "127.1"}) {
    CAPTURE(host);
    auto r = resolve(host, 80);
    REQUIRE(!r.error);
    REQUIRE(!r.endpoints.empty());
    CHECK(r.endpoints[0] == tcp::endpoint(make_address("127.0.0.1"), 80));
  }
}

TEST_CASE("a name that cannot resolve ends in couldnt_resolve_host, curl's 6") {
  // glibc refuses a first label longer than 63 characters without asking any server.
  const std::string unresolvable = std::string(64, 'a') + ".invalid";
  auto r = resolve(unresolvable, 80);
  CHECK(r.error == opensock::error::couldnt_resolve_host);
  CHECK(opensock::curl_code(r.error) == 6);
  CHECK(r.endpoints.empty());
}

TEST_CASE("an empty host is a malformed target, curl's 3") {
  CHECK(resolve("", 80).error == opensock::error::url_malformat);
  CHECK(resolve("[]", 80).error == opensock::error::url_malformat);
}
