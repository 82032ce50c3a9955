// The connector's connect stage for one attempt: open through the factory, connect
// unless the factory already did, and close through the factory what fails.
#pragma once

#include <opensock/connector/open.hpp>
#include <opensock/detail/factory_answer.hpp>
#include <opensock/error.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <system_error>
#include <vector>

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
/// the factory. The connect follows `stop`, by default the coroutine's own cancellation
/// (a coroutine factory's own operations always follow the coroutine's).
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<attempt_result<factory_stream_t<Factory, Protocol>>> connect_attempt(
    Factory& factory, open_context<Protocol>& context, asio::cancellation_state stop = {}) {
  using stream_type = factory_stream_t<Factory, Protocol>;
  using kind = typename open_result<stream_type>::kind;
  attempt_result<stream_type> result;
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;

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
  // Closes through the factory on every way out but success, including the frame's
  // destruction while the connect is pending (the io_context shutting down).
  struct close_unless_kept {
    Factory& factory;
    stream_type& stream;
    bool keep = false;
    ~close_unless_kept() {
      if (!keep) close_stream(factory, stream);
    }
  } guard{factory, stream};

  std::error_code ec;
  if constexpr (!detail::connectable_to<stream_type, typename Protocol::endpoint>) {
    ec = error::factory_stream_not_connectable;
  } else {
    if constexpr (requires { stream.is_open(); }) {
      if (!stream.is_open()) ec = error::factory_socket_not_open;
    }
    // A coroutine factory may have swallowed a cancellation: do not start a connect.
    if (!ec && stop.cancelled() != asio::cancellation_type::none)
      ec = asio::error::operation_aborted;
    if (!ec) {
      co_await stream.async_connect(
          context.endpoint,
          asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec)));
    }
  }
  if (!ec) {
    guard.keep = true;
    result.outcome = attempt_outcome::connected;
    result.stream.emplace(answer.take_stream());
    co_return result;
  }

  result.error = ec;
  const bool give_up = ec == asio::error::operation_aborted ||
                    ec == error::factory_socket_not_open ||
                    ec == error::factory_stream_not_connectable;
  result.outcome = give_up ? attempt_outcome::aborted : attempt_outcome::failed;
  co_return result;
}

/// What became of one attempt, for the caller to read after the connect.
template <class Endpoint>
struct attempt_record {
  unsigned number = 0;
  /// The endpoint as the factory left it.
  Endpoint endpoint{};
  attempt_outcome outcome = attempt_outcome::failed;
  std::error_code error;
  /// When the attempt started, counted from the start of the connect, and how long it ran.
  std::chrono::steady_clock::duration started{};
  std::chrono::steady_clock::duration took{};
};

template <class Stream, class Endpoint>
struct connect_result {
  std::error_code error;
  std::optional<Stream> stream;
  /// The endpoint the stream was connected to, after any rewrite by the factory.
  Endpoint endpoint{};
  /// Every attempt, in the order they started.
  std::vector<attempt_record<Endpoint>> attempts;
};

namespace detail {

// The error of a connect in which no attempt connected and none aborted: what every
// attempt agrees on when that is an opensock error (the factory refused them all, every
// bind failed), else couldnt_connect.
template <class Endpoint>
std::error_code no_connection_error(const std::vector<attempt_record<Endpoint>>& attempts) {
  if (attempts.empty()) return error::host_has_no_address;
  const std::error_code first = attempts.front().error;
  for (const auto& attempt : attempts)
    if (attempt.error != first) return error::couldnt_connect;
  if (first.category() == error_category()) return first;
  return error::couldnt_connect;
}

}  // namespace detail

}  // namespace opensock
