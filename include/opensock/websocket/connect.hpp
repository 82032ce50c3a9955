// A WebSocket connection made through an HTTP session: the session's route to the URL
// (its socket factory, proxies — an HTTP proxy tunnels, never forwards —, TLS for wss),
// the upgrade request and the server's 101 checked, and the connection the session hands
// over wrapped in a websocket::stream with the bytes read past the 101.
#pragma once

#include <opensock/detail/async_spawn.hpp>
#include <opensock/error.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/session.hpp>
#include <opensock/http/url.hpp>
#include <opensock/websocket/handshake.hpp>
#include <opensock/websocket/options.hpp>
#include <opensock/websocket/stream.hpp>

#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace opensock::websocket {

/// The stream of a WebSocket connection a session<Factory> made.
template <class Factory>
using session_stream = stream<typename http::session<Factory>::transport_type>;

/// What a connect gives: the server's answer to the upgrade (its 101, or the response
/// that refused it) and, when it succeeded, the stream.
template <class Stream>
struct connect_result {
  connect_result() = default;
  http::response response;
  std::optional<Stream> stream;
};

/// `co_await websocket::connect(session, url, …)`: connects to `url` (ws or wss) through
/// `session` and runs the opening handshake with `options`; the stream behaves as
/// `behaviour` says. Returns the error code: a URL of another scheme is
/// unsupported_protocol, a refusal websocket_refused (22) with `out.response` holding
/// the answer, a 101 that is not a valid WebSocket answer websocket_bad_handshake (8),
/// and the session's own errors for the connect and the request. `hooks` are called on
/// the way, as for any request (the connection, the request head as sent, each line of
/// the answer). `session`, `options`, `out` and `hooks` must outlive the operation.
template <class Stream>
asio::awaitable<std::error_code> connect(
    http::basic_session<Stream>& session, std::string_view url, const handshake_options& options,
    stream_options behaviour, connect_result<stream<transport<Stream>>>& out,
    const http::transfer_hooks& hooks = http::detail::no_transfer_hooks()) {
  http::request req;
  std::error_code ec;
  req.url = http::url::parse(url, ec);
  if (ec) co_return ec;
  if (req.url.scheme != "ws" && req.url.scheme != "wss") co_return error::unsupported_protocol;
  const std::string key = make_key();
  if ((ec = make_upgrade_request(req.url, options, key, req))) co_return ec;
  std::optional<http::handed_over_connection<Stream>> taken;
  if ((ec = co_await session.handed_over(req, out.response, taken, hooks))) co_return ec;
  handshake_result settled;
  if ((ec = check_upgrade_response(out.response, key, options, settled))) co_return ec;
  if (!taken) co_return error::websocket_bad_handshake;  // a 101 the session kept
  out.stream.emplace(std::move(taken->stream), std::move(behaviour), std::move(settled),
                     taken->buffered);
  co_return std::error_code();
}

namespace detail {

// connect() owning what it uses, for async_connect().
template <class Stream>
asio::awaitable<std::pair<std::error_code, connect_result<stream<transport<Stream>>>>> run_connect(
    http::basic_session<Stream>& session, std::string url, handshake_options options,
    stream_options behaviour) {
  connect_result<stream<transport<Stream>>> out;
  const std::error_code ec =
      co_await connect(session, url, options, std::move(behaviour), out);
  co_return std::pair(ec, std::move(out));
}

}  // namespace detail

/// As connect(), as an Asio asynchronous operation: completes with
/// void(std::error_code, connect_result<session_stream<Factory>>); per-operation
/// cancellation (terminal) ends it with operation_aborted. It runs on the session's
/// executor, which the stream's operations then use too: with an io_context run by
/// several threads, give the session a strand (or await connect() on one), as the
/// stream's read and write must not run at once on two threads.
template <class Stream, class CompletionToken>
auto async_connect(http::basic_session<Stream>& session, std::string url,
                   handshake_options options, stream_options behaviour, CompletionToken&& token) {
  using result = connect_result<stream<transport<Stream>>>;
  return opensock::detail::async_spawn_value<result>(
      session.get_executor(),
      [&session, url = std::move(url), options = std::move(options),
       behaviour = std::move(behaviour)]() mutable {
        return detail::run_connect(session, std::move(url), std::move(options),
                                   std::move(behaviour));
      },
      std::forward<CompletionToken>(token));
}

/// As above, with the stream's default behaviour.
template <class Stream, class CompletionToken>
auto async_connect(http::basic_session<Stream>& session, std::string url,
                   handshake_options options, CompletionToken&& token) {
  return async_connect(session, std::move(url), std::move(options), stream_options(),
                       std::forward<CompletionToken>(token));
}


}  // namespace opensock::websocket
