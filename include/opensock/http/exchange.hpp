// One HTTP/1.1 request and its response over any connected Asio stream: the protocol
// step that sessions repeat on pooled connections, and that a connect-only user can run
// on a stream of their own.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/serializer.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <string>
#include <system_error>

namespace opensock::http {

/// What a connection keeps between exchanges, so that nothing is allocated again for
/// the next request on it: the parser, the bytes read past the last response (which
/// belong to the next one), and the buffer requests are written from.
struct connection_state {
  response_parser parser;
  std::string read_buffer;
  std::string write_buffer;
  /// Whether another request may follow on this connection.
  bool reusable = false;
};

namespace detail {

inline std::error_code send_error_of(std::error_code ec) {
  return ec == asio::error::operation_aborted ? ec : std::error_code(error::send_error);
}

inline std::error_code recv_error_of(std::error_code ec) {
  return ec == asio::error::operation_aborted ? ec : std::error_code(error::recv_error);
}

inline constexpr std::size_t read_size = 16 * 1024;

}  // namespace detail

/// Sends `req` on `stream` and reads the response into `out`. Errors carry curl's
/// numbers: what the serializer refuses (43, nothing sent), a failed write (55), a failed
/// read (56), and the parser's (1, 8, 18, 52, 56, 63). Afterwards `state.reusable` says
/// whether the connection can carry another request. Cancellation (terminal) ends it
/// with operation_aborted; the connection is then not reusable.
template <class AsyncStream>
asio::awaitable<std::error_code> exchange(AsyncStream& stream, const request& req, response& out,
                                          connection_state& state) {
  state.reusable = false;
  state.write_buffer.clear();
  if (auto ec = serialize_head(req, req.body.size(), state.write_buffer)) co_return ec;

  std::error_code ec;
  const std::array<asio::const_buffer, 2> parts{asio::buffer(state.write_buffer),
                                                asio::buffer(req.body)};
  co_await asio::async_write(stream, parts, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return detail::send_error_of(ec);

  auto& parser = state.parser;
  auto& buffer = state.read_buffer;
  parser.start(req.method == "HEAD");
  out.body.clear();
  auto on_body = [&](std::string_view bytes) { out.body.append(bytes); };
  for (;;) {
    // Bytes left from before belong to this response.
    const std::size_t used = parser.parse(buffer, on_body);
    buffer.erase(0, used);
    if (parser.error()) co_return parser.error();
    if (parser.done()) break;

    const std::size_t kept = buffer.size();
    buffer.resize(kept + detail::read_size);
    const std::size_t n = co_await stream.async_read_some(
        asio::buffer(buffer.data() + kept, detail::read_size),
        asio::redirect_error(asio::use_awaitable, ec));
    buffer.resize(kept + n);
    if (ec == asio::error::eof) {
      parser.finish_at_eof();
      if (parser.error()) co_return parser.error();
      break;
    }
    if (ec) co_return detail::recv_error_of(ec);
  }

  out.status = parser.status();
  out.version = parser.version();
  out.reason.assign(parser.reason());
  out.headers = parser.headers();
  out.interim = parser.interim();
  out.trailers = parser.trailers();
  state.reusable = parser.keep_alive() && buffer.empty();
  co_return std::error_code{};
}

}  // namespace opensock::http
