// An HTTP request as the caller builds it: method, URL, header fields and a body held in
// memory. Host, Content-Length and Transfer-Encoding are the serializer's to write.
#pragma once

#include <opensock/http/fields.hpp>
#include <opensock/http/url.hpp>

#include <string>
#include <utility>

namespace opensock::http {

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct request {
  request() = default;
  request(std::string method, http::url url, http::fields headers = {}, std::string body = {})
      : method(std::move(method)),
        url(std::move(url)),
        headers(std::move(headers)),
        body(std::move(body)) {}

  std::string method = "GET";
  http::url url;
  /// Sent after Host, in this order. A Host field here replaces the URL's.
  http::fields headers;
  std::string body;
};

}  // namespace opensock::http
