// The connector's stages up to a connected stream, for one origin: resolve (or skip it
// for a factory that reaches the peer by its own means), order the addresses, race the
// attempts. connect_route() runs it, and the layers a route adds over its stream.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/connector/open.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/factory_answer.hpp>
#include <opensock/open_context.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace opensock {

/// Connects to `target` through `factory` as `options` say, for `purpose`: the name
/// resolved (not for a factory that skips resolution, nor for an IP literal or an
/// override), the addresses ordered and raced by connect_endpoints(). `target` and
/// `options` must outlive the operation (co_await it in the same expression). Terminal
/// cancellation by `stop`, by default the coroutine's own, ends it with
/// operation_aborted; a coroutine factory's own operations follow the coroutine's.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint>>
connect_origin(Factory& factory, const origin& target, const connect_options& options,
               opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  using endpoint_type = asio::ip::tcp::endpoint;
  using result_type = connect_result<factory_stream_t<Factory, asio::ip::tcp>, endpoint_type>;
  using clock = std::chrono::steady_clock;
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  const auto began = clock::now();
  // One address, the common case, needs no vector.
  std::optional<endpoint_type> only;
  resolve_result resolved;
  if constexpr (skips_resolution_v<Factory>) {
    only.emplace(asio::ip::address_v4::any(), target.port);
  } else if (!(only = literal_endpoint(target.host, target.port, options.names))) {
    if (auto found = resolve_without_lookup(target.host, target.port, options.names)) {
      resolved = std::move(*found);
    } else {
      resolved = co_await resolve(target.host, target.port, options.names, stop);
    }
    resolved.endpoints = interleave_families(std::move(resolved.endpoints));
  }
  const auto looked_up = clock::now() - began;
  if (resolved.error || stop.cancelled() != asio::cancellation_type::none) {
    result_type failed;
    failed.error = resolved.error ? resolved.error : asio::error::operation_aborted;
    failed.name_lookup = looked_up;
    co_return failed;
  }
  const std::span<const endpoint_type> endpoints =
      only ? std::span<const endpoint_type>(&*only, 1)
           : std::span<const endpoint_type>(resolved.endpoints);
  open_context<asio::ip::tcp> context;
  context.purpose = why;
  context.host = target.host;
  context.port = target.port;
  context.scheme = target.scheme;
  context.executor = co_await asio::this_coro::executor;
  auto result = co_await connect_endpoints(factory, endpoints, context, options.happy_eyeballs, stop);
  result.name_lookup = looked_up;
  if constexpr (std::is_same_v<typename result_type::stream_type, asio::ip::tcp::socket>) {
    if (!result.error && options.tcp_nodelay) {
      std::error_code ignored;  // as curl: a socket that refuses it still works
      result.stream->set_option(asio::ip::tcp::no_delay(true), ignored);
    }
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
