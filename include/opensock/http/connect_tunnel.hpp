// The HTTP CONNECT tunnel, a stage over a stream connected to an HTTP proxy: the proxy is
// asked to connect to a host and port, and once it answers 2xx the stream carries that
// connection. The answer's head is read by the response parser in pieces as they come
// (curl reads it a byte at a time, a system call each); bytes of the tunnel that came
// with it are given back for the caller to read first.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/auth.hpp>
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
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace opensock::http {

/// Appends `host`:`port` to `out` as CONNECT names it: an IPv6 literal in brackets.
inline void append_connect_authority(std::string& out, std::string_view host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  char digits[6];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, port).ptr);
}

/// Writes into `out` the CONNECT request for `host`:`port` (an IPv6 literal in
/// brackets), in HTTP/1.0 to an http_1_0 proxy, as curl writes it: Host, the credentials
/// `via` sends unasked (proxy_authorization()) or `authorization`, a Proxy-Authorization
/// value answering the proxy's 407, Proxy-Connection, with `via.connect_headers` (a
/// User-Agent first among them before Proxy-Connection, the others after; theirs in
/// place of those opensock writes). error::invalid_request_field when a field holds
/// bytes HTTP does not allow there; nothing is written then.
inline std::error_code connect_request(const proxy& via, std::string_view host,
                                       std::uint16_t port, std::string& out,
                                       std::string_view authorization = {}) {
  using namespace std::string_view_literals;
  const fields& extra = via.connect_headers;
  for (const auto f : extra)
    if (!detail::is_token(f.name) || !detail::is_field_value(f.value))
      return error::invalid_request_field;
  const std::size_t before_proxy_connection =
      !extra.empty() && detail::iequals_lower(extra.begin()->name, "user-agent") ? 1 : 0;
  if (!detail::is_target(host)) return error::invalid_request_field;
  out.clear();
  out.reserve(2 * (host.size() + 8) + 64 + via.user.size() * 2 + via.password.size() * 2 +
              authorization.size() + extra.size_bytes() + 4 * extra.size());
  out += "CONNECT "sv;
  append_connect_authority(out, host, port);
  out += via.kind == proxy_kind::http_1_0 ? " HTTP/1.0\r\n"sv : " HTTP/1.1\r\n"sv;
  if (!extra.contains("host")) {
    out += "Host: "sv;
    append_connect_authority(out, host, port);
    out += "\r\n"sv;
  }
  if (!extra.contains("proxy-authorization")) {
    if (authorization.empty()) {
      out += proxy_authorization(via);
    } else {
      out.append("Proxy-Authorization: "sv).append(authorization).append("\r\n"sv);
    }
  }
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

/// A tunnel's authentication, carried from one connection to the next: curl connects
/// again when a proxy closes the connection after a 407 its credentials answer.
struct tunnel_auth {
  tunnel_auth() = default;

  authenticator challenges{auth_hop::proxy};
  /// The Proxy-Authorization value the next CONNECT goes with; empty: what
  /// proxy_authorization() sends unasked.
  std::string authorization;
  /// Set when the proxy closed the connection after a 407 `authorization` answers: the
  /// tunnel is to be asked again on a new connection, which continues `answer`'s record.
  bool reconnect = false;
};

/// Asks the HTTP proxy `via`, at the other end of `stream`, for a tunnel to `host` and
/// `port`. `answer` gets every request sent and every answer's head, in order, the last
/// answer's status (0 if nothing whole came), and in `early_bytes` the tunnel's first
/// bytes when they came in the same read as the answer: they come before anything read
/// from `stream` next. When `via`'s credentials allow more than Basic sent unasked
/// (proxy::auth), a 407 is answered, once (a stale Digest nonce once more), as curl
/// answers it: on the same connection, its body read past, when the proxy keeps it; else
/// `auth`, when given, is left asking for a new connection (tunnel_auth::reconnect), to
/// be passed to the call made over it. A status other than 2xx is tunnel_failed, a proxy
/// that closes before its answer ends tunnel_aborted (both curl's 56); an answer that is
/// not HTTP fails as a response would, within `limits`. Terminal cancellation by `stop`,
/// by default the coroutine's own, ends it with operation_aborted. On failure the caller
/// closes the stream.
template <class Stream>
asio::awaitable<std::error_code> connect_tunnel(Stream& stream, const proxy& via,
                                                std::string_view host, std::uint16_t port,
                                                proxy_answer& answer,
                                                parser_limits limits = {},
                                                asio::cancellation_state stop = {},
                                                tunnel_auth* auth = nullptr) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  // A 407 is answered when the credentials wait for it: Digest, or a choice of schemes.
  const bool answers_challenges =
      via.answers_challenges() && !via.connect_headers.contains("proxy-authorization");
  std::unique_ptr<tunnel_auth> own;
  if (!auth && answers_challenges) auth = (own = std::make_unique<tunnel_auth>()).get();
  answer.status = 0;
  std::string& requests = answer.request;
  std::string& heads = answer.head;
  if (!auth || !std::exchange(auth->reconnect, false)) {
    requests.clear();
    heads.clear();
  }
  answer.early_bytes.clear();
  std::error_code ec;
  const auto token = [&] {
    return asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec));
  };
  std::string request;
  response_parser parser(limits);
  // What goes unasked when it is not Basic: NTLM's negotiate message.
  if (auth && auth->authorization.empty()) {
    if (auto first = auth->challenges.first_authorization(
            credentials(via.user, via.password, via.auth)))
      auth->authorization = std::move(*first);
  }
  for (;;) {
    if (auto invalid = connect_request(via, host, port, request,
                                       auth ? std::string_view(auth->authorization) : ""))
      co_return invalid;
    requests += request;
    co_await asio::async_write(stream, asio::buffer(request), token());
    if (ec) co_return ec == asio::error::operation_aborted ? ec : error::send_error;

    // The head is read in pieces as they come, into `heads` after the heads before it;
    // what follows it in the same read is the tunnel's after a 2xx (which has no body),
    // or the start of the body of any other answer.
    parser.start_connect();
    const std::size_t begin = heads.size();
    std::size_t parsed = 0, head_size = 0;
    const auto count_head = [&head_size](std::string_view line) { head_size += line.size(); };
    const auto ignore_body = [](std::string_view) {};
    while (!parser.header_done()) {
      const std::size_t had = heads.size() - begin;
      if (had > limits.max_header_bytes) co_return error::response_headers_too_large;
      heads.resize(begin + had + std::min<std::size_t>(1024, limits.max_header_bytes + 1 - had));
      const std::size_t n = co_await stream.async_read_some(
          asio::buffer(heads.data() + begin + had, heads.size() - begin - had), token());
      heads.resize(begin + had + n);
      if (ec == asio::error::eof) co_return error::tunnel_aborted;
      if (ec) co_return ec == asio::error::operation_aborted ? ec : error::recv_error;
      parsed += parser.parse(std::string_view(heads).substr(begin + parsed), ignore_body,
                             count_head);
      if (parser.error()) co_return parser.error();
    }
    std::string rest = heads.substr(begin + parsed);
    heads.resize(begin + head_size);
    answer.status = parser.status();
    if (answer.status >= 200 && answer.status <= 299) {
      answer.early_bytes = std::move(rest);
      co_return std::error_code{};
    }
    if (answer.status != 407 || !answers_challenges) co_return error::tunnel_failed;
    std::string uri;  // Digest's, as curl writes it for CONNECT
    append_connect_authority(uri, host, port);
    auto answered = auth->challenges.answer(parser.headers(), "CONNECT", uri,
                                            credentials(via.user, via.password, via.auth));
    if (!answered) co_return error::tunnel_failed;
    auth->authorization = std::move(*answered);
    if (!parser.keep_alive()) {
      auth->reconnect = true;
      co_return error::tunnel_failed;
    }
    // The 407's body is read past; the request goes again once it has ended, if the proxy
    // sent nothing after it.
    for (;;) {
      rest.erase(0, parser.parse(rest, ignore_body));
      if (parser.error()) co_return error::tunnel_failed;
      if (parser.done()) break;
      const std::size_t had = rest.size();  // part of a chunk's line
      if (had > limits.max_header_bytes) co_return error::tunnel_failed;
      rest.resize(had + 2048);
      const std::size_t n =
          co_await stream.async_read_some(asio::buffer(rest.data() + had, 2048), token());
      rest.resize(had + n);
      if (ec == asio::error::eof) co_return error::tunnel_failed;
      if (ec) co_return ec == asio::error::operation_aborted ? ec : error::recv_error;
    }
    if (!rest.empty()) co_return error::tunnel_failed;
  }
}

}  // namespace opensock::http
