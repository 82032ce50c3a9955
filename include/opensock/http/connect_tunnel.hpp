// The HTTP CONNECT tunnel, a stage over a stream connected to an HTTP proxy: the proxy is
// asked to connect to a host and port, and once it answers 2xx the stream carries that
// connection. The answer's head is read by the response parser, a byte at a time as curl
// reads it, so that nothing of what follows in the tunnel is taken.
#pragma once

#include <opensock/detail/base64.hpp>
#include <opensock/error.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/proxy.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/error.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {

/// The CONNECT request for `host`:`port` (an IPv6 literal in brackets), in HTTP/1.0 to
/// an http_1_0 proxy, with curl's header lines: Host, Basic credentials when `via` has a
/// user, Proxy-Connection.
inline std::string connect_request(const proxy& via, std::string_view host, std::uint16_t port) {
  std::string authority;
  const bool ipv6 = host.find(':') != std::string_view::npos;
  if (ipv6) authority += '[';
  authority += host;
  if (ipv6) authority += ']';
  char digits[6];
  authority += ':';
  authority.append(digits, std::to_chars(digits, digits + sizeof digits, port).ptr);
  const char* version = via.kind == proxy_kind::http_1_0 ? " HTTP/1.0" : " HTTP/1.1";
  std::string out = "CONNECT " + authority + version + "\r\nHost: " + authority + "\r\n";
  if (!via.user.empty())
    out += "Proxy-Authorization: Basic " + opensock::detail::base64(via.user + ":" + via.password) +
           "\r\n";
  out += "Proxy-Connection: Keep-Alive\r\n\r\n";
  return out;
}

/// Asks the HTTP proxy `via`, at the other end of `stream`, for a tunnel to `host` and
/// `port`. `answer` gets what the proxy answered (status 0 if nothing whole came). A status other than
/// 2xx is tunnel_failed, a proxy that closes before its answer ends tunnel_aborted (both
/// curl's 56); an answer that is not HTTP fails as a response would, within `limits`.
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
  std::string& head = answer.head;
  head.clear();
  std::error_code ec;
  const auto token = [&] {
    return asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec));
  };
  const std::string request = connect_request(via, host, port);
  co_await asio::async_write(stream, asio::buffer(request), token());
  if (ec) co_return ec == asio::error::operation_aborted ? ec : error::send_error;

  // A 2xx answer to CONNECT has no body, as the answer to HEAD has none. Each blank line
  // may end the head (or an interim response before it): the parser is asked then.
  response_parser parser(limits);
  parser.start(true);
  std::size_t parsed = 0;
  const auto ignore_body = [](std::string_view) {};
  while (!parser.header_done()) {
    char byte;
    co_await asio::async_read(stream, asio::buffer(&byte, 1), token());
    if (ec == asio::error::eof) co_return error::tunnel_aborted;
    if (ec) co_return ec == asio::error::operation_aborted ? ec : error::recv_error;
    head += byte;
    if (head.size() > limits.max_header_bytes) co_return error::response_headers_too_large;
    if (byte != '\n' || !(head.ends_with("\n\r\n") || head.ends_with("\n\n"))) continue;
    parsed += parser.parse(std::string_view(head).substr(parsed), ignore_body);
    if (parser.error()) co_return parser.error();
  }
  answer.status = parser.status();
  if (answer.status < 200 || answer.status > 299) co_return error::tunnel_failed;
  co_return std::error_code{};
}

}  // namespace opensock::http
