// An HTTP request as the caller builds it: method, URL, header fields, a body (in
// memory, from a file or from a producer) and, when they differ from the session's,
// its time limits and proxies. Host, Content-Length and Transfer-Encoding are the serializer's to
// write.
#pragma once

#include <opensock/http/auth.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/request_body.hpp>
#include <opensock/http/timeouts.hpp>
#include <opensock/http/url.hpp>
#include <opensock/proxy.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace opensock::http {

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct request {
  request() = default;
  request(std::string method, http::url url, http::fields headers = {},
          request_body body = {})
      : method(std::move(method)),
        url(std::move(url)),
        headers(std::move(headers)),
        body(std::move(body)) {}

  std::string method = "GET";
  http::url url;
  /// Sent after Host, in this order. A Host field here replaces the URL's, in its place
  /// (first, as curl writes a -H Host).
  http::fields headers;
  request_body body;
  /// The request target sent in place of the URL's path and query (curl's
  /// --request-target): "*" for a server-wide OPTIONS, or any target the URL cannot
  /// say. Unset, the URL's.
  std::optional<std::string> target;
  /// The request line's version: 11, or 10 for HTTP/1.0 (curl's --http1.0). The
  /// response decides whether the connection is kept, as always.
  int version = 11;
  /// This request's time limits; unset, the session's apply.
  std::optional<request_timeouts> timeouts;
  /// The proxies this request passes, nearest first, used as they are (an empty list:
  /// none); unset, the session's apply.
  std::optional<std::vector<proxy>> proxies;
  /// Who the request authenticates as (curl's -u, --digest, --anyauth, --oauth2-bearer);
  /// unset, the URL's userinfo, percent-decoded, for Basic. Sent to the request's own
  /// origin only: a redirect elsewhere goes without them unless the session's
  /// location_trusted says otherwise. An Authorization field in `headers` wins.
  std::optional<http::credentials> credentials;
};

}  // namespace opensock::http
