// The connector's connect stage for one attempt: open through the factory, connect
// unless the factory already did, and close through the factory what fails.
#pragma once

#include <opensock/connector/open.hpp>
#include <opensock/detail/factory_answer.hpp>
#include <opensock/error.hpp>
#include <opensock/local_binding.hpp>
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
#include <span>
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

namespace detail {

// The steps of one attempt around its only wait, the connect, for a coroutine that
// awaits it itself, which saves a coroutine frame per attempt:
//
//   attempt_steps<Factory, Stream, Endpoint> steps(factory);
//   if (steps.answered(<the factory's answer>, stop)) co_await steps.connect(endpoint, stop);
//   attempt_result<Stream> tried = std::move(steps).result();
//
// with steps.opened_now(context, stop) in place of answered() for a factory that answers
// at once. Each is true only for a stream that can be connected (connect() is declared
// for those only: call it under `if constexpr (connectable_to<Stream, Endpoint>)`).
// Instead of result(), settle(), error() and stream() read the outcome where the steps
// keep it, for a caller that moves a connected stream straight to where it goes.
// A stream that does not end up connected is closed through the factory when the steps
// go, even while a connect is pending (the io_context shutting down).
template <class Factory, class Stream, class Endpoint>
class attempt_steps {
 public:
  explicit attempt_steps(Factory& factory) : factory_(factory) {}
  Factory& factory() const noexcept { return factory_; }
  attempt_steps(const attempt_steps&) = delete;
  attempt_steps& operator=(const attempt_steps&) = delete;
  ~attempt_steps() {
    if (close_) close_stream(factory_, answer_->stream());
  }

  /// Takes the factory's answer to `context`: true when the stream it opened is to be
  /// connected.
  template <class Protocol>
  bool answered(open_result<Stream>&& answer, const open_context<Protocol>& context,
                const asio::cancellation_state& stop) {
    answer_.emplace(std::move(answer));
    return check_answer(context, stop);
  }

  /// As answered(), for a factory that answers at once, called here for `context`: its
  /// answer is made where the steps keep it, and the stream in it is not moved.
  template <class Protocol>
    requires(!is_coroutine_factory_v<Factory, Protocol>)
  bool opened_now(open_context<Protocol>& context, const asio::cancellation_state& stop) {
    answer_.emplace(answer_of<Protocol>{factory_, context});
    return check_answer(context, stop);
  }

  /// The connect, following `stop`: Asio's operation, with no coroutine of its own.
  auto connect(const Endpoint& endpoint, const asio::cancellation_state& stop)
    requires connectable_to<Stream, Endpoint>
  {
    connecting_ = true;
    return answer_->stream().async_connect(
        endpoint, asio::bind_cancellation_slot(
                      stop.slot(), asio::redirect_error(asio::use_awaitable, connect_error_)));
  }

  attempt_result<Stream> result() && {
    settle();
    attempt_result<Stream> result{outcome_, error_, {}};
    // Moved straight out of the answer: once, where take_stream() would move it twice.
    if (outcome_ == attempt_outcome::connected) result.stream.emplace(std::move(answer_->stream()));
    return result;
  }

  /// What became of the attempt, once its connect is over (or once answered() or
  /// opened_now() said there is none).
  attempt_outcome settle() {
    if (connecting_) {
      connecting_ = false;
      if (connect_error_) {
        failed(connect_error_);
      } else {
        close_ = false;
        finish(attempt_outcome::connected, {});
      }
    }
    return outcome_;
  }
  const std::error_code& error() const noexcept { return error_; }
  /// The stream of a connected attempt, where the factory's answer holds it.
  Stream& stream() noexcept { return answer_->stream(); }

 private:
  // The factory's answer where it is used: converted to an open_result in place, the
  // call's result is the answer object itself (no move in between).
  template <class Protocol>
  struct answer_of {
    Factory& factory;
    open_context<Protocol>& context;
    operator open_result<Stream>() const noexcept { return open_socket_now(factory, context); }
  };

  template <class Protocol>
  bool check_answer(const open_context<Protocol>& context, const asio::cancellation_state& stop) {
    using kind = typename open_result<Stream>::kind;
    switch (answer_->what()) {
      case kind::refused:
        return finish(attempt_outcome::refused, answer_->error());
      case kind::aborted:
        return finish(attempt_outcome::aborted, answer_->error());
      case kind::connected:
        return finish(attempt_outcome::connected, {});
      case kind::opened:
        break;
    }
    close_ = true;
    if constexpr (!connectable_to<Stream, Endpoint>) {
      return failed(error::factory_stream_not_connectable);
    } else {
      if constexpr (requires { answer_->stream().is_open(); }) {
        if (!answer_->stream().is_open()) return failed(error::factory_socket_not_open);
      }
      if (context.local && !context.local->unbound() && !bind(context)) return false;
      // A coroutine factory may have swallowed a cancellation: do not start a connect.
      if (stop.cancelled() != asio::cancellation_type::none)
        return failed(asio::error::operation_aborted);
      return true;
    }
  }

  // Binds the opened stream as `context.local` says before it connects: false, with
  // the attempt refused or aborted, when it cannot be. A stream that cannot be bound to
  // an IP address cannot honour a binding at all.
  template <class Protocol>
  bool bind(const open_context<Protocol>& context) {
    if constexpr (requires(Stream& s, typename Protocol::endpoint e, std::error_code& ec) {
                    s.bind(e, ec);
                    e.address().is_v6();
                  }) {
      switch (bind_socket(answer_->stream(), *context.local, context.endpoint.address().is_v6())) {
        case bind_outcome::bound: return true;
        case bind_outcome::refused: return finish(attempt_outcome::refused, error::interface_failed);
        case bind_outcome::failed: break;
      }
    }
    return finish(attempt_outcome::aborted, error::interface_failed);
  }

  // Always false: nothing is left to connect.
  bool finish(attempt_outcome outcome, std::error_code ec) {
    outcome_ = outcome;
    error_ = ec;
    return false;
  }

  bool failed(std::error_code ec) {
    const bool give_up = ec == asio::error::operation_aborted ||
                         ec == error::factory_socket_not_open ||
                         ec == error::factory_stream_not_connectable;
    return finish(give_up ? attempt_outcome::aborted : attempt_outcome::failed, ec);
  }

  Factory& factory_;
  // The stream stays in the factory's answer until result() hands it over.
  std::optional<open_result<Stream>> answer_;
  attempt_outcome outcome_ = attempt_outcome::failed;
  std::error_code error_;
  std::error_code connect_error_;
  bool connecting_ = false;
  bool close_ = false;
};

// The waits of an attempt through a coroutine factory: its answer, then the connect.
template <class Factory, class Stream, class Endpoint, class Protocol>
asio::awaitable<void> answer_and_connect(attempt_steps<Factory, Stream, Endpoint>& steps,
                                         open_context<Protocol>& context,
                                         const asio::cancellation_state& stop) {
  const bool must_connect =
      steps.answered(co_await open_socket(steps.factory(), context), context, stop);
  if constexpr (connectable_to<Stream, Endpoint>) {
    if (must_connect) co_await steps.connect(context.endpoint, stop);
  }
}

}  // namespace detail

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
  using endpoint_type = typename Protocol::endpoint;
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  detail::attempt_steps<Factory, stream_type, endpoint_type> steps(factory);
  if constexpr (is_coroutine_factory_v<Factory, Protocol>) {
    co_await detail::answer_and_connect(steps, context, stop);
  } else if constexpr (detail::connectable_to<stream_type, endpoint_type>) {
    // A synchronous factory is called in place: no coroutine frame for it.
    if (steps.opened_now(context, stop)) co_await steps.connect(context.endpoint, stop);
  } else {
    steps.opened_now(context, stop);
  }
  co_return std::move(steps).result();
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

/// When each phase of a new connection ended, counted from its start: curl's
/// time_namelookup, time_connect and time_appconnect (zero without TLS).
struct connect_timings {
  std::chrono::steady_clock::duration name_lookup{};
  std::chrono::steady_clock::duration connect{};
  std::chrono::steady_clock::duration tls_handshake{};
};

template <class Stream, class Endpoint>
struct connect_result {
  using stream_type = Stream;
  std::error_code error;
  std::optional<Stream> stream;
  /// The endpoint the stream was connected to, after any rewrite by the factory.
  Endpoint endpoint{};
  /// Every attempt, in the order they started.
  std::vector<attempt_record<Endpoint>> attempts;
  /// How long the name took to resolve (curl's time_namelookup, counted from the start
  /// of the connect); zero for an address, an override or a factory that skips it.
  std::chrono::steady_clock::duration name_lookup{};
};

namespace detail {

// The error of a connect in which no attempt connected and none aborted: what every
// attempt agrees on when that is an opensock error (the factory refused them all, every
// bind failed), else couldnt_connect.
template <class Endpoint>
std::error_code no_connection_error(std::span<const attempt_record<Endpoint>> attempts) {
  if (attempts.empty()) return error::host_has_no_address;
  const std::error_code first = attempts.front().error;
  for (const auto& attempt : attempts)
    if (attempt.error != first) return error::couldnt_connect;
  if (first.category() == error_category()) return first;
  return error::couldnt_connect;
}

}  // namespace detail

}  // namespace opensock
