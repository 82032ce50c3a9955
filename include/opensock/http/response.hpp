// An HTTP response as the caller receives it: status, headers, the 1xx responses that
// came before it, the body read whole (unless it went to a sink), trailers, and where
// it came from.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/url.hpp>
#include <opensock/origin.hpp>
#include <opensock/route.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace opensock::http {

/// What an HTTP proxy answered CONNECT (curl's %{http_connect}, and the head its -i
/// shows before the response's).
struct proxy_answer {
  /// The status; 0 when no answer came, or no tunnel was asked for.
  int status = 0;
  /// The CONNECT request sent, with the blank line that ends it; empty when none was.
  std::string request;
  /// The status line and header fields as received, each line with its ending, and the
  /// blank line that ends them.
  std::string head;
  /// The tunnel's first bytes, when they came in the same read as the head: they belong
  /// before anything read from the stream next.
  std::string early_bytes;
};

/// How a response was obtained: on which connection, made how, and when each phase of
/// the request ended (curl's -w times, counted from the start of the request's last
/// hop: time_namelookup, time_connect, time_appconnect, time_starttransfer,
/// time_total).
struct transfer_info {
  /// The connection's number in its session (1, 2, …), and whether it came from the
  /// pool rather than being made for this request.
  std::uint64_t connection_id = 0;
  bool reused = false;
  /// The route it was made for: the origin, whether TLS runs to it and with which
  /// settings, where its sockets went and from which local end. Shared with the
  /// connection, which never changes it.
  std::shared_ptr<const opensock::route> route;
  /// The protocol TLS negotiated by ALPN; empty without.
  std::string alpn;
  /// For a new connection, every attempt (endpoint, outcome, error, start, duration);
  /// empty for a reused one.
  std::vector<attempt_record<asio::ip::tcp::endpoint>> attempts;
  /// Phases of a new connection; zero for a reused one.
  connect_timings connect;
  /// What the HTTP proxy asked for the new connection's tunnel answered, also when it
  /// refused; status 0 for a reused connection, or one without.
  proxy_answer tunnel_answer;
  /// The first byte of the response, and the end of the request.
  std::chrono::steady_clock::duration first_byte{};
  std::chrono::steady_clock::duration total{};
};

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
  /// The peer it came from (curl's %{remote_ip} and %{remote_port}), and this end of the
  /// connection (%{local_ip}, %{local_port}); unspecified for a stream that is not TCP.
  asio::ip::tcp::endpoint remote;
  asio::ip::tcp::endpoint local;
  /// How it was obtained.
  transfer_info info;
};

}  // namespace opensock::http
