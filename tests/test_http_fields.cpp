#include <opensock/http/fields.hpp>

#include "support/catch.hpp"

#include <string>
#include <vector>

using opensock::http::fields;

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
