// An HTTP response as the caller receives it: status, headers, the 1xx responses that
// came before it, the body read whole (unless it went to a sink), trailers, and where
// it came from.
#pragma once

#include <opensock/http/fields.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/url.hpp>

#include <asio/ip/tcp.hpp>

#include <string>
#include <vector>

namespace opensock::http {

struct response {
  int status = 0;
  /// 10, 11 or 20 for HTTP/1.0, HTTP/1.1, HTTP/2.
  int version = 11;
  std::string reason;
  http::fields headers;
  std::vector<interim_response> interim;
  std::string body;
  http::fields trailers;
  /// The URL this response came from, after any redirects (curl's %{url_effective}:
  /// effective_url.to_string()).
  http::url effective_url;
  /// Redirects followed to get here (curl's %{num_redirects}).
  int redirects = 0;
  /// The peer it came from (curl's %{remote_ip} and %{remote_port}); unspecified for a
  /// stream that is not TCP.
  asio::ip::tcp::endpoint remote;
};

}  // namespace opensock::http
