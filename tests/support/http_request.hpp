// Builds a request from a method and a URL the test knows to be valid.
#pragma once

#include "catch.hpp"

#include <opensock/http/request.hpp>

#include <string>

namespace opensock::test {

inline http::request make_request(std::string method, const std::string& url_text) {
  http::request r;
  r.method = std::move(method);
  std::error_code ec;
  r.url = http::url::parse(url_text, ec);
  REQUIRE(!ec);
  return r;
}

}  // namespace opensock::test
