// The whole connector for one origin: resolve (or skip it for a factory that reaches the
// peer by its own means), order the addresses, race the attempts. Sessions of every
// protocol open their connections through it.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/open_context.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <span>
#include <system_error>
#include <type_traits>

namespace opensock {

/// Connects to `target` through `factory` as `options` say, for `purpose`. `target` and
/// `options` must outlive the operation (co_await it in the same expression). Terminal
/// cancellation by `stop`, by default the coroutine's own, ends it with
/// operation_aborted; a coroutine factory's own operations follow the coroutine's.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint>>
connect_origin(Factory& factory, const origin& target, const connect_options& options,
               opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  using endpoint_type = asio::ip::tcp::endpoint;
  using stream_type = factory_stream_t<Factory, asio::ip::tcp>;
  connect_result<stream_type, endpoint_type> result;
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  resolve_result resolved;
  if constexpr (skips_resolution_v<Factory>) {
    resolved.endpoints.emplace_back(asio::ip::address_v4::any(), target.port);
  } else {
    // Most names need no lookup, and then no coroutine frame.
    if (auto found = resolve_without_lookup(target.host, target.port, options.names)) {
      resolved = std::move(*found);
    } else {
      resolved = co_await resolve(target.host, target.port, options.names, stop);
    }
    if (resolved.error) {
      result.error = resolved.error;
      co_return result;
    }
    if (stop.cancelled() != asio::cancellation_type::none) {
      result.error = asio::error::operation_aborted;
      co_return result;
    }
  }
  const auto ordered = interleave_families(std::move(resolved.endpoints));
  open_context<asio::ip::tcp> context;
  context.purpose = why;
  context.host = target.host;
  context.port = target.port;
  context.scheme = target.scheme;
  context.executor = co_await asio::this_coro::executor;
  if (ordered.size() == 1) {
    // Nothing to race: the attempt is made here, a coroutine frame fewer than through
    // connect_endpoints(), which does the same, and for a synchronous factory one fewer
    // again than through connect_attempt().
    const auto began = std::chrono::steady_clock::now();
    context.endpoint = ordered.front();
    attempt_result<stream_type> tried;
    if constexpr (is_coroutine_factory_v<Factory, asio::ip::tcp>) {
      tried = co_await connect_attempt(factory, context, stop);
    } else {
      detail::attempt_steps<Factory, stream_type> steps(factory);
      const bool must_connect =
          steps.template answered<endpoint_type>(open_socket_now(factory, context), stop);
      if constexpr (detail::connectable_to<stream_type, endpoint_type>) {
        if (must_connect) {
          std::error_code ec;
          co_await steps.stream().async_connect(
              context.endpoint, asio::bind_cancellation_slot(
                                    stop.slot(), asio::redirect_error(asio::use_awaitable, ec)));
          steps.connected(ec);
        }
      }
      tried = std::move(steps).result();
    }
    result = detail::one_attempt_result(std::move(tried), context.endpoint,
                                        std::chrono::steady_clock::now() - began);
  } else {
    result = co_await connect_endpoints(factory, std::span<const endpoint_type>(ordered),
                                        context, options.happy_eyeballs, stop);
  }
  if constexpr (std::is_same_v<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::socket>) {
    if (!result.error && options.tcp_nodelay) {
      std::error_code ignored;  // as curl: a socket that refuses it still works
      result.stream->set_option(asio::ip::tcp::no_delay(true), ignored);
    }
  }
  co_return result;
}

}  // namespace opensock
