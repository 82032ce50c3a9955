// The HTTP CONNECT tunnel, a stage over a stream connected to an HTTP proxy: the proxy is
// asked to connect to a host and port, and once it answers 2xx the stream carries that
// connection. The answer's head is read by the response parser in pieces as they come
// (curl reads it a byte at a time, a system call each); bytes of the tunnel that came
// with it are given back for the caller to read first.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/serializer.hpp>
#include <opensock/proxy.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {

/// Writes into `out` the CONNECT request for `host`:`port` (an IPv6 literal in
/// brackets), in HTTP/1.0 to an http_1_0 proxy, as curl writes it: Host, Basic
/// credentials when `via` has a user, Proxy-Connection, with `via.connect_headers` (a
/// User-Agent first among them before Proxy-Connection, the others after; theirs in
/// place of those opensock writes). error::invalid_request_field when a field holds
/// bytes HTTP does not allow there; nothing is written then.
inline std::error_code connect_request(const proxy& via, std::string_view host,
                                       std::uint16_t port, std::string& out) {
  using namespace std::string_view_literals;
  const fields& extra = via.connect_headers;
  for (const auto f : extra)
    if (!detail::is_token(f.name) || !detail::is_field_value(f.value))
      return error::invalid_request_field;
  const std::size_t before_proxy_connection =
      !extra.empty() && detail::iequals_lower(extra.begin()->name, "user-agent") ? 1 : 0;
  if (!detail::is_target(host)) return error::invalid_request_field;
  // host:port (an IPv6 literal in brackets), written in place each time it goes.
  char digits[6];
  const std::string_view port_text(
      digits, static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, port).ptr -
                                       digits));
  const bool ipv6 = host.find(':') != std::string_view::npos;
  const auto put_authority = [&] {
    if (ipv6) out += '[';
    out += host;
    if (ipv6) out += ']';
    out += ':';
    out += port_text;
  };
  out.clear();
  out.reserve(2 * (host.size() + 8) + 64 + via.user.size() * 2 + via.password.size() * 2 +
              extra.size_bytes() + 4 * extra.size());
  out += "CONNECT "sv;
  put_authority();
  out += via.kind == proxy_kind::http_1_0 ? " HTTP/1.0\r\n"sv : " HTTP/1.1\r\n"sv;
  if (!extra.contains("host")) {
    out += "Host: "sv;
    put_authority();
    out += "\r\n"sv;
  }
  if (!extra.contains("proxy-authorization")) out += proxy_authorization(via);
  std::size_t written = 0;
  const auto put_proxy_connection = [&] {
    if (!extra.contains("proxy-connection")) out += "Proxy-Connection: Keep-Alive\r\n"sv;
  };
  for (const auto f : extra) {
    if (written++ == before_proxy_connection) put_proxy_connection();
    out.append(f.name).append(f.value.empty() ? ":"sv : ": "sv).append(f.value).append("\r\n"sv);
  }
  if (written <= before_proxy_connection) put_proxy_connection();
  out += "\r\n"sv;
  return {};
}

/// Asks the HTTP proxy `via`, at the other end of `stream`, for a tunnel to `host` and
/// `port`. `answer` gets the request and what the proxy answered (status 0 if nothing
/// whole came), and in `early_bytes` the tunnel's first bytes when they came in the same
/// read as the answer: they come before anything read from `stream` next. A status
/// other than 2xx is tunnel_failed, a proxy that closes before its answer ends
/// tunnel_aborted (both curl's 56); an answer that is not HTTP fails as a response
/// would, within `limits`.
/// Terminal cancellation by `stop`, by default the coroutine's own, ends it with
/// operation_aborted. On failure the caller closes the stream.
template <class Stream>
asio::awaitable<std::error_code> connect_tunnel(Stream& stream, const proxy& via,
                                                std::string_view host, std::uint16_t port,
                                                proxy_answer& answer,
                                                parser_limits limits = {},
                                                asio::cancellation_state stop = {}) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  answer.status = 0;
  std::string& request = answer.request;
  std::string& head = answer.head;
  request.clear();
  head.clear();
  answer.early_bytes.clear();
  std::error_code ec;
  const auto token = [&] {
    return asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec));
  };
  if (auto invalid = connect_request(via, host, port, request)) co_return invalid;
  co_await asio::async_write(stream, asio::buffer(request), token());
  if (ec) co_return ec == asio::error::operation_aborted ? ec : error::send_error;

  // A 2xx answer to CONNECT has no body, as the answer to HEAD has none. It is read in
  // pieces as they come; what follows its head in the same read is the tunnel's.
  response_parser parser(limits);
  parser.start(true);
  std::size_t parsed = 0;
  const auto ignore_body = [](std::string_view) {};
  while (!parser.header_done()) {
    const std::size_t had = head.size();
    if (had > limits.max_header_bytes) co_return error::response_headers_too_large;
    head.resize(had + std::min<std::size_t>(1024, limits.max_header_bytes + 1 - had));
    const std::size_t n = co_await stream.async_read_some(
        asio::buffer(head.data() + had, head.size() - had), token());
    head.resize(had + n);
    if (ec == asio::error::eof) co_return error::tunnel_aborted;
    if (ec) co_return ec == asio::error::operation_aborted ? ec : error::recv_error;
    parsed += parser.parse(std::string_view(head).substr(parsed), ignore_body);
    if (parser.error()) co_return parser.error();
  }
  answer.early_bytes.assign(head, parsed);
  head.resize(parsed);
  answer.status = parser.status();
  if (answer.status < 200 || answer.status > 299) co_return error::tunnel_failed;
  co_return std::error_code{};
}

}  // namespace opensock::http
