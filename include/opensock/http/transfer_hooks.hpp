// What a caller can watch, or take over, in one request: curl's debug, header and write
// callbacks as values. Every hook is optional; an unset one costs nothing.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/http/body_sink.hpp>
#include <opensock/http/response.hpp>

#include <asio/ip/tcp.hpp>

#include <functional>
#include <string_view>
#include <system_error>
#include <vector>

namespace opensock::http {

/// The connection a request is about to be sent on.
struct connection_info {
  /// Taken from the keep-alive pool rather than opened for this request.
  bool reused = false;
  /// The peer, as the connector connected to it (after any rewrite by the factory).
  asio::ip::tcp::endpoint remote;
  /// The attempts that opened it; empty for a reused connection.
  const std::vector<attempt_record<asio::ip::tcp::endpoint>>* attempts = nullptr;
  /// The protocol TLS negotiated by ALPN ("http/1.1"); empty without TLS or ALPN.
  std::string_view alpn;
  /// What the HTTP proxy asked for its tunnel answered, for a new connection through
  /// one; null otherwise.
  const proxy_answer* tunnel_answer = nullptr;
  /// What the connection is for: the origin, and the proxies it passes.
  const opensock::route* route = nullptr;
};

// A constructor rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await, as hooks given inline to a request would be.
struct transfer_hooks {
  transfer_hooks() {}

  /// Each connection a request (and each redirect hop) uses, before anything is sent.
  std::function<void(const connection_info&)> on_connection;
  /// A new connection that could not be made: every attempt (endpoint, outcome, error,
  /// times) and the error the request fails with. Not called when a time limit cut the
  /// connect short.
  std::function<void(const std::vector<attempt_record<asio::ip::tcp::endpoint>>&,
                     std::error_code)>
      on_connect_error;
  /// The request head as it is about to be written (curl -v's "> " lines). This hook
  /// and the next run in the exchange's I/O handlers: one that throws ends the request
  /// with aborted_by_callback (42).
  std::function<void(std::string_view)> on_request_head;
  /// Every line of each response head, 1xx ones included, and of trailers, as received
  /// with its line ending (curl's header callback; what `curl -i` prints).
  std::function<void(std::string_view)> on_header_line;
  /// Asked once the final head of a response that has a body is in, unless the session
  /// drops that body itself (a 401 it answers, a redirect it follows): whether the body
  /// is not wanted (curl's ignored body, as of a redirect the caller follows itself).
  /// Such a body is read and dropped, to keep the connection for the next request, or
  /// not read at all when the connection closes after it. Runs in the exchange's I/O
  /// handlers, as the two above.
  std::function<bool(int status, const fields& headers)> drop_body;
  /// Where body bytes go; unset, they are collected in response::body.
  body_sink on_body;
};

}  // namespace opensock::http
