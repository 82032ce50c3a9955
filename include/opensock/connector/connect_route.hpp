// The connector's whole path for a route: the connect stages (resolve, attempts through
// the socket factory, connect) and then the layers the route adds over the factory's
// stream (TLS to the origin). Every session makes its connections through it.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_origin.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/deadline.hpp>
#include <opensock/error.hpp>
#include <opensock/open_context.hpp>
#include <opensock/route.hpp>
#include <opensock/socket_factory.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/transport.hpp>

#if OPENSOCK_HAS_TLS
#include <opensock/tls/context.hpp>
#include <opensock/tls/layer.hpp>
#endif

#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock {

/// What connect_route() made: on success a transport, with the layers of the route over
/// the factory's stream.
template <class Stream>
struct route_connection {
  using endpoint_type = asio::ip::tcp::endpoint;
  std::error_code error;
  std::optional<transport<Stream>> stream;
  /// The endpoint connected to, after any rewrite by the factory.
  endpoint_type endpoint{};
  /// Every attempt, in the order they started.
  std::vector<attempt_record<endpoint_type>> attempts;
  /// The protocol TLS to the origin negotiated by ALPN; empty without.
  std::string alpn;
  connect_timings times;
};

/// Makes a connection for `r`: connect_origin() to its origin through `factory`, then
/// TLS when the route asks for it, with a context from `contexts` (made for this
/// connection alone when null). A connection that fails on the way is closed through
/// the factory. Terminal cancellation by `stop`, by default the coroutine's own, ends
/// it with operation_aborted. `r` and `options` must outlive the operation.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<route_connection<factory_stream_t<Factory, asio::ip::tcp>>> connect_route(
    Factory& factory, const route& r, const connect_options& options,
    [[maybe_unused]] tls::context_cache* contexts = nullptr,
    opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  using clock = std::chrono::steady_clock;
  route_connection<factory_stream_t<Factory, asio::ip::tcp>> made;
  if (r.secure && !OPENSOCK_HAS_TLS) {
    made.error = error::tls_not_built;
    co_return made;
  }
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  const auto began = clock::now();
  auto connected = co_await connect_origin(factory, r.origin, options, why, stop);
  made.attempts = std::move(connected.attempts);
  made.times.name_lookup = connected.name_lookup;
  made.times.connect = clock::now() - began;
  if (connected.error) {
    made.error = connected.error;
    co_return made;
  }
  made.endpoint = connected.endpoint;
  made.stream.emplace(std::move(*connected.stream));
#if OPENSOCK_HAS_TLS
  if (r.secure) {
    std::error_code ec;
    auto context = contexts ? tls::context_for(*contexts, r.tls, ec) : tls::make_context(r.tls, ec);
    if (!ec) ec = co_await tls::secure(*made.stream, context, r.origin.host, r.tls, made.alpn, stop);
    made.times.tls_handshake = clock::now() - began;
    if (ec) {
      made.error = ec;
      close_stream(factory, made.stream->lowest_layer());
      made.stream.reset();
    }
  }
#endif
  co_return made;
}

/// connect_route() as an Asio asynchronous operation run on `executor` (the sockets'):
/// completes `token` with void(std::error_code, route_connection<Stream>), and
/// per-operation cancellation (terminal) ends it with operation_aborted. `factory`, `r`
/// and `options` must outlive it.
template <class Factory, class CompletionToken>
  requires socket_factory<Factory, asio::ip::tcp>
auto async_connect_route(const asio::any_io_executor& executor, Factory& factory, const route& r,
                         const connect_options& options, CompletionToken&& token) {
  return detail::async_stage<route_connection<factory_stream_t<Factory, asio::ip::tcp>>>(
      executor, [&factory, &r, &options] { return connect_route(factory, r, options); },
      std::forward<CompletionToken>(token));
}

namespace detail {

// connect_route() within `deadline`, past which it ends in operation_timedout with
// everything it opened closed. A caller that nothing can cancel and a factory that does
// not wait itself get a stop that a timer on the caller's executor cancels at the
// deadline, with nothing spawned; otherwise the connect runs in a coroutine of its own,
// cancelled at the deadline or with the caller. Both follow the caller's executor, so
// that on a strand the cancellation is never concurrent with the connect's own steps.
template <class Factory>
asio::awaitable<route_connection<factory_stream_t<Factory, asio::ip::tcp>>> connect_within(
    Factory& factory, const route& r, const connect_options& options,
    tls::context_cache* contexts, std::chrono::steady_clock::time_point deadline) {
  using made_type = route_connection<factory_stream_t<Factory, asio::ip::tcp>>;
  auto timed_out = [&](made_type&& made) {
    if (made.stream) close_stream(factory, made.stream->lowest_layer());
    made.stream.reset();
    made.error = error::operation_timedout;
    return std::move(made);
  };
  if (deadline == std::chrono::steady_clock::time_point::max())
    co_return co_await connect_route(factory, r, options, contexts);
  const auto own = co_await asio::this_coro::cancellation_state;
  if (!is_coroutine_factory_v<Factory, asio::ip::tcp> && !own.slot().is_connected()) {
    deadline_stop limit(co_await asio::this_coro::executor, deadline);
    auto made =
        co_await connect_route(factory, r, options, contexts, purpose::origin, limit.stop());
    if (limit.expired()) co_return timed_out(std::move(made));
    co_return made;
  }
  auto outcome = co_await with_deadline(connect_route(factory, r, options, contexts), deadline);
  if (outcome.expired) co_return timed_out(std::move(outcome.value));
  co_return std::move(outcome.value);
}

}  // namespace detail

}  // namespace opensock
