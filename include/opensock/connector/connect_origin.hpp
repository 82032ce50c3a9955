// The connector's stages up to a connected stream, for one origin: resolve (or skip it
// for a factory that reaches the peer by its own means), order the addresses, race the
// attempts. They are connect_route()'s, run for a route without TLS.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_route.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/origin.hpp>
#include <opensock/route.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <utility>

namespace opensock {

/// Connects to `target` through `factory` as `options` say, for `purpose`: the name
/// resolved (not for a factory that skips resolution, nor for an IP literal or an
/// override), the addresses ordered and raced as connect_endpoints() does, TCP_NODELAY
/// set as `options` say; no TLS, whatever the scheme. `options` must outlive the
/// operation (co_await it in the same expression). Terminal cancellation by `stop`, by
/// default the coroutine's own, ends it with operation_aborted; a coroutine factory's
/// own operations follow the coroutine's.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint>>
connect_origin(Factory& factory, const origin& target, const connect_options& options,
               opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint> result;
  const route plain(target, false);
  route_connection<factory_stream_t<Factory, asio::ip::tcp>> made;
  co_await detail::connect_within(factory, plain, options, nullptr, nullptr,
                                  std::chrono::steady_clock::time_point::max(), made,
                                  result.attempts, why, std::move(stop));
  result.error = made.error;
  result.name_lookup = made.times.name_lookup;
  if (made.stream) {
    result.stream.emplace(std::move(made.stream->lowest_layer()));
    result.endpoint = made.endpoint;
  }
  co_return result;
}

/// connect_origin() as an Asio asynchronous operation run on `executor` (the sockets'):
/// completes `token` with void(std::error_code, connect_result<Stream, Endpoint>), and
/// per-operation cancellation (terminal) ends it with operation_aborted. `factory`,
/// `target` and `options` must outlive it.
template <class Factory, class CompletionToken>
  requires socket_factory<Factory, asio::ip::tcp>
auto async_connect_origin(const asio::any_io_executor& executor, Factory& factory,
                          const origin& target, const connect_options& options,
                          CompletionToken&& token) {
  using result_type =
      connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint>;
  return detail::async_stage<result_type>(
      executor, [&factory, &target, &options] { return connect_origin(factory, target, options); },
      std::forward<CompletionToken>(token));
}

}  // namespace opensock
