// An HTTP request as the caller builds it: method, URL, header fields and a body held in
// memory. Host, Content-Length and Transfer-Encoding are the serializer's to write.
#pragma once

#include <opensock/http/fields.hpp>
#include <opensock/http/url.hpp>

#include <string>

namespace opensock::http {

struct request {
  std::string method = "GET";
  http::url url;
  /// Sent after Host, in this order. A Host field here replaces the URL's.
  http::fields headers;
  std::string body;
};

}  // namespace opensock::http
