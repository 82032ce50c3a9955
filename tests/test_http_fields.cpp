#include <opensock/http/fields.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <string_view>
#include <vector>

using opensock::http::fields;

namespace {

// Takes its fields as session.post() does, by value, and reads them only after it has
// been suspended: what it returns is what arrived.
asio::awaitable<std::string> post_like(std::string_view target, std::string body,
                                       fields headers) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  std::string seen = std::string(target) + " " + body;
  for (const auto& f : headers) {
    seen += " | ";
    seen += f.name;
    seen += ": ";
    seen += f.value;
  }
  co_return seen;
}

// Braced lists written where a user writes them, inside the co_await expression, which
// g++ 12 compiles only when no std::initializer_list is behind them.
asio::awaitable<std::vector<std::string>> braced_lists_in_co_await() {
  std::vector<std::string> seen;
  seen.push_back(co_await post_like("/items", "name=a",
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}));
  seen.push_back(
      co_await post_like("/items", "", {{"Accept", "*/*"}, {"X-Id", std::string(40, '7')}}));
  seen.push_back(co_await post_like("/items", "", fields{{"X-Id", "8"}}));
  seen.push_back(co_await post_like("/items", "", {}));
  seen.push_back(co_await post_like(
      "/items", "",
      {{"f1", "1"}, {"f2", "2"}, {"f3", "3"}, {"f4", "4"}, {"f5", "5"}, {"f6", "6"},
       {"f7", "7"}, {"f8", "8"}, {"f9", "9"}, {"f10", "10"}, {"f11", "11"}, {"f12", "12"},
       {"f13", "13"}, {"f14", "14"}, {"f15", "15"}, {"f16", "16"}}));
  co_return seen;
}

}  // namespace

TEST_CASE("names are compared without regard to case, order and duplicates are kept") {
  fields f;
  f.add("Set-Cookie", "a=1");
  f.add("Content-Type", "text/plain");
  f.add("set-cookie", "b=2");
  CHECK(f.size() == 3);
  CHECK(f.get("CONTENT-TYPE") == "text/plain");
  CHECK(f.count("Set-Cookie") == 2);
  CHECK(f.get_all("SET-COOKIE") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(!f.get("missing"));
  std::vector<std::string> names;
  for (const auto& field : f) names.emplace_back(field.name);
  CHECK(names == std::vector<std::string>{"Set-Cookie", "Content-Type", "set-cookie"});
}

TEST_CASE("set replaces every field of a name in the place of the first") {
  fields f;
  f.add("A", "1");
  f.add("B", "2");
  f.add("a", "3");
  f.set("a", "x");
  REQUIRE(f.size() == 2);
  CHECK(f.begin()->name == "A");
  CHECK(f.begin()->value == "x");
  f.set("C", "new");
  CHECK(f.get("c") == "new");
  CHECK(f.erase("b") == 1);
  CHECK(f.erase("b") == 0);
  CHECK(f.size() == 2);
}

TEST_CASE("token lists are searched item by item") {
  using opensock::http::has_token;
  CHECK(has_token("keep-alive, Upgrade", "upgrade"));
  CHECK(has_token(" close ", "close"));
  CHECK(!has_token("closed", "close"));
  CHECK(!has_token("", "close"));
  CHECK(has_token("a,,close", "close"));
}

TEST_CASE("fields from a braced list keep its order") {
  const opensock::http::fields f{{"Accept", "*/*"}, {"X-Id", "7"}, {"accept", "text/plain"}};
  CHECK(f.size() == 3);
  CHECK(f.get("x-id") == "7");
  CHECK(f.get("ACCEPT") == "*/*");
  CHECK(f.begin()->name == "Accept");
}

TEST_CASE("braced lists built inside a co_await expression arrive intact") {
  asio::io_context io;
  const auto seen = opensock::test::run(io, braced_lists_in_co_await());
  REQUIRE(seen.size() == 5);
  CHECK(seen[0] == "/items name=a | Content-Type: application/x-www-form-urlencoded");
  CHECK(seen[1] == "/items  | Accept: */* | X-Id: " + std::string(40, '7'));
  CHECK(seen[2] == "/items  | X-Id: 8");
  CHECK(seen[3] == "/items ");
  std::string sixteen = "/items ";
  for (int i = 1; i <= 16; ++i) sixteen += " | f" + std::to_string(i) + ": " + std::to_string(i);
  CHECK(seen[4] == sixteen);
}

TEST_CASE("iequals folds ASCII letters only, for every byte pair, in strings around eight bytes long") {
  // Eight bytes at a time is how iequals compares; a byte on either side of 'A'..'Z',
  // bytes above 0x7f, and a CR against '-' must all stay unequal.
  const auto reference = [](unsigned char x, unsigned char y) {
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    return x == y;
  };
  int mismatches = 0;
  for (const std::size_t length : {1, 7, 8, 9, 11, 16, 17}) {
    for (const std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          std::string a(length, 'k'), b(length, 'K');
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          const bool expected =
              reference(static_cast<unsigned char>(x), static_cast<unsigned char>(y));
          if (opensock::http::iequals(a, b) != expected) ++mismatches;
        }
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(opensock::http::iequals("Content-Length", "content-length"));
  CHECK(!opensock::http::iequals("Content\rLength", "content-length"));
  CHECK(!opensock::http::iequals("content-length", "content-lengt"));
}

TEST_CASE("iequals_lower, which folds only its first side, agrees with iequals for every byte against a lower-case side") {
  // The second side holds no upper-case letter, as the framing names the parser looks
  // for do not: every byte of the first side, at the start, middle and end of strings
  // around eight bytes long, against every byte but 'A'..'Z' on the second.
  int mismatches = 0;
  for (const std::size_t length : {1, 7, 8, 9, 14, 17}) {
    for (const std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          if (y >= 'A' && y <= 'Z') continue;
          std::string a(length, 'K'), lower(length, 'k');
          a[at] = static_cast<char>(x);
          lower[at] = static_cast<char>(y);
          if (opensock::http::detail::iequals_lower(a, lower) != opensock::http::iequals(a, lower))
            ++mismatches;
        }
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(opensock::http::detail::iequals_lower("CONTENT-LENGTH", "content-length"));
  CHECK(!opensock::http::detail::iequals_lower("Content\rLength", "content-length"));
  CHECK(!opensock::http::detail::iequals_lower("Connection", "connectio"));
}
