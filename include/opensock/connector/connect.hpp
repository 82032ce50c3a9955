// The connector's connect stage: one attempt (open through the factory, connect unless
// the factory already did) and the walk through the resolved endpoints in order.
#pragma once

#include <opensock/connector/open.hpp>
#include <opensock/detail/factory_answer.hpp>
#include <opensock/error.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <optional>
#include <span>
#include <system_error>

namespace opensock {

enum class attempt_outcome {
  connected,  ///< the stream is connected
  refused,    ///< the factory refused the address, or could not open a socket for it
  failed,     ///< the connect failed; the socket was closed through the factory
  aborted,    ///< the factory aborted, or the operation was cancelled: try nothing more
};

template <class Stream>
struct attempt_result {
  attempt_outcome outcome = attempt_outcome::failed;
  std::error_code error;
  std::optional<Stream> stream;
};

/// One connection attempt to `context.endpoint`: the factory opens a socket, and
/// opensock connects it to the endpoint as the factory left it, unless the factory
/// answered with an already connected stream. A socket that fails is closed through
/// the factory.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<attempt_result<factory_stream_t<Factory, Protocol>>> connect_attempt(
    Factory& factory, open_context<Protocol>& context) {
  using stream_type = factory_stream_t<Factory, Protocol>;
  using kind = typename open_result<stream_type>::kind;
  attempt_result<stream_type> result;

  // A synchronous factory is called in place: no coroutine frame per attempt.
  std::optional<open_result<stream_type>> opened;
  if constexpr (is_coroutine_factory_v<Factory, Protocol>) {
    opened.emplace(co_await open_socket(factory, context));
  } else {
    opened.emplace(open_socket_now(factory, context));
  }
  open_result<stream_type>& answer = *opened;
  switch (answer.what()) {
    case kind::refused:
      result.outcome = attempt_outcome::refused;
      result.error = answer.error();
      co_return result;
    case kind::aborted:
      result.outcome = attempt_outcome::aborted;
      result.error = answer.error();
      co_return result;
    case kind::connected:
      result.outcome = attempt_outcome::connected;
      result.stream.emplace(answer.take_stream());
      co_return result;
    case kind::opened:
      break;
  }

  stream_type& stream = answer.stream();
  std::error_code ec;
  if constexpr (!detail::connectable_to<stream_type, typename Protocol::endpoint>) {
    ec = error::factory_stream_not_connectable;
  } else {
    if constexpr (requires { stream.is_open(); }) {
      if (!stream.is_open()) ec = error::factory_socket_not_open;
    }
    if (!ec) {
      co_await stream.async_connect(context.endpoint,
                                    asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (!ec) {
    result.outcome = attempt_outcome::connected;
    result.stream.emplace(answer.take_stream());
    co_return result;
  }

  close_stream(factory, stream);
  result.error = ec;
  const bool stop = ec == asio::error::operation_aborted ||
                    ec == error::factory_socket_not_open ||
                    ec == error::factory_stream_not_connectable;
  result.outcome = stop ? attempt_outcome::aborted : attempt_outcome::failed;
  co_return result;
}

template <class Stream, class Endpoint>
struct connect_result {
  std::error_code error;
  std::optional<Stream> stream;
  /// The endpoint the stream was connected to, after any rewrite by the factory.
  Endpoint endpoint{};
};

/// Tries `endpoints` one after the other, each through connect_attempt with a copy of
/// `prototype` (which gives purpose, host, port, scheme and executor) whose endpoint and
/// attempt number are set. The first connected stream wins. When no attempt connects:
/// error::refused_by_socket_factory if the factory refused every address,
/// error::couldnt_connect otherwise; an abort or a cancellation ends the walk at once.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<connect_result<factory_stream_t<Factory, Protocol>, typename Protocol::endpoint>>
connect_in_order(Factory& factory, std::span<const typename Protocol::endpoint> endpoints,
                 const open_context<Protocol>& prototype) {
  open_context<Protocol> context = prototype;
  connect_result<factory_stream_t<Factory, Protocol>, typename Protocol::endpoint> result;
  bool only_policy_refusals = true;
  unsigned attempt = 0;
  for (const auto& endpoint : endpoints) {
    context.endpoint = endpoint;
    context.attempt = ++attempt;
    auto tried = co_await connect_attempt(factory, context);
    switch (tried.outcome) {
      case attempt_outcome::connected:
        result.stream = std::move(tried.stream);
        result.endpoint = context.endpoint;
        co_return result;
      case attempt_outcome::aborted:
        result.error = tried.error;
        co_return result;
      case attempt_outcome::refused:
        if (tried.error != error::refused_by_socket_factory) only_policy_refusals = false;
        break;
      case attempt_outcome::failed:
        only_policy_refusals = false;
        break;
    }
    // A coroutine factory may swallow a cancellation; the walk must still stop.
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      result.error = asio::error::operation_aborted;
      co_return result;
    }
  }
  if (endpoints.empty()) {
    result.error = error::host_has_no_address;
  } else {
    result.error = only_policy_refusals ? error::refused_by_socket_factory
                                        : error::couldnt_connect;
  }
  co_return result;
}

}  // namespace opensock
