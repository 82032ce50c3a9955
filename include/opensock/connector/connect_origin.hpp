// The whole connector for one origin: resolve (or skip it for a factory that reaches the
// peer by its own means), order the addresses, race the attempts. Sessions of every
// protocol open their connections through it.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/connector/open.hpp>
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

namespace detail {

// What connect_origin() does between its waits: a name resolved in place when it needs
// no lookup, the addresses ordered, the one attempt made when there is a single address,
// the result put together. Apart from the coroutine, so that a caller with a coroutine
// frame of its own can run them without connect_origin()'s:
//
//   origin_plan<Factory> plan(factory, target, options, why, executor);
//   if (plan.needs_lookup()) plan.looked_up(co_await resolve(...));
//   if (plan.ended(stop)) {                      // the name did not resolve, or stop
//     result = std::move(plan).result();
//   } else if (plan.single_address()) {
//     if (plan.answered(<the factory's answer for plan.attempt_context()>, stop))
//       co_await plan.connect(stop);             // opened_now(stop) for a factory
//     result = std::move(plan).result();         // that answers at once
//   } else {
//     result = std::move(plan).raced(co_await connect_endpoints(factory, plan.endpoints(),
//                                                               plan.context(), ...));
//   }
template <class Factory>
class origin_plan {
 public:
  using endpoint_type = asio::ip::tcp::endpoint;
  using stream_type = factory_stream_t<Factory, asio::ip::tcp>;
  using result_type = connect_result<stream_type, endpoint_type>;
  static constexpr bool connectable = connectable_to<stream_type, endpoint_type>;

  /// `host_address`, when given: where the address target.host spells is kept for the
  /// next plan to the same host (literal_endpoint()'s `known`).
  origin_plan(Factory& factory, const origin& target, const connect_options& options,
              opensock::purpose why, const asio::any_io_executor& executor,
              std::optional<asio::ip::address>* host_address = nullptr)
      : options_(options),
        context_{.purpose = why,
                 .host = target.host,
                 .port = target.port,
                 .scheme = target.scheme,
                 .executor = executor},
        attempt_(factory) {
    if constexpr (skips_resolution_v<Factory>) {
      only_ = endpoint_type(asio::ip::address_v4::any(), target.port);
      resolved_ = true;
    } else if ((only_ = literal_endpoint(target.host, target.port, options.names, host_address))) {
      resolved_ = true;
    } else if (auto found = resolve_without_lookup(target.host, target.port, options.names)) {
      looked_up(std::move(*found));
    }
  }

  /// Whether the name needs a lookup: resolve() of the target's host and port.
  bool needs_lookup() const noexcept { return !resolved_; }
  void looked_up(resolve_result&& resolved) {
    resolved_ = true;
    if (resolved.error) {
      error_ = resolved.error;
      return;
    }
    endpoints_ = interleave_families(std::move(resolved.endpoints));
  }

  /// Whether the connect ended before any attempt: the name did not resolve, or `stop`
  /// was cancelled.
  bool ended(const asio::cancellation_state& stop) {
    if (error_) return true;
    if constexpr (!skips_resolution_v<Factory>) {
      if (stop.cancelled() != asio::cancellation_type::none) {
        error_ = asio::error::operation_aborted;
        return true;
      }
    }
    return false;
  }

  /// Nothing to race: the one attempt is made through answered() and connect().
  bool single_address() const noexcept { return endpoints().size() == 1; }
  /// Whether the connect needs no wait but the one attempt's connect: no lookup, and
  /// no race (it ended already, or there is one address).
  bool one_wait() const noexcept { return resolved_ && (error_ || single_address()); }
  /// No one is to read the attempts: result() leaves them out, and their times are not
  /// taken. Before the first attempt.
  void skip_records() noexcept { recorded_ = false; }

  /// The context of the one attempt, to call the factory with; its time starts now.
  open_context<asio::ip::tcp>& attempt_context() {
    attempting_ = true;
    if (recorded_) began_ = std::chrono::steady_clock::now();
    context_.endpoint = endpoints().front();
    return context_;
  }
  bool answered(open_result<stream_type>&& answer, const asio::cancellation_state& stop) {
    return attempt_.answered(std::move(answer), stop);
  }
  /// For a factory that answers at once, when one_wait(): unless ended(), the factory
  /// called for the one attempt. True when its stream is to be connected (connect()).
  bool opened_now(const asio::cancellation_state& stop)
    requires(!is_coroutine_factory_v<Factory, asio::ip::tcp>)
  {
    return !ended(stop) && attempt_.opened_now(attempt_context(), stop);
  }
  auto connect(const asio::cancellation_state& stop)
    requires connectable
  {
    return attempt_.connect(context_.endpoint, stop);
  }
  static constexpr bool interruptible =
      attempt_steps<Factory, stream_type, endpoint_type>::interruptible;
  /// Cancels the one attempt's connect under way, if one is, as a stop would.
  void interrupt() noexcept
    requires interruptible
  {
    attempt_.interrupt();
  }

  /// The outcome once ended() or the one attempt.
  result_type result() && {
    // One object from start to end: a result moved is a socket moved.
    result_type result = attempting_ ? one_attempt_result(std::move(attempt_).result(),
                                                          context_.endpoint, took(), recorded_)
                                     : result_type();
    if (!attempting_) result.error = error_;
    finish(result.error, result.stream);
    return result;
  }

  /// As result(), with a connected stream moved into `stream` and not into the result,
  /// for a caller that holds the place the stream ends in.
  result_type result(std::optional<stream_type>& stream) && {
    result_type result = attempting_ ? one_attempt_result(std::move(attempt_).result(stream),
                                                          context_.endpoint, took(), recorded_)
                                     : result_type();
    if (!attempting_) result.error = error_;
    finish(result.error, stream);
    return result;
  }

  /// Several addresses: a race over endpoints() by connect_endpoints(), with context(),
  /// whose outcome raced() completes.
  std::span<const endpoint_type> endpoints() const noexcept {
    if (only_) return {&*only_, 1};
    return endpoints_;
  }
  open_context<asio::ip::tcp>& context() noexcept { return context_; }
  result_type raced(result_type&& result) && {
    finish(result.error, result.stream);
    return std::move(result);
  }

 private:
  // The attempt's time, for its record alone.
  std::chrono::steady_clock::duration took() const {
    return recorded_ ? std::chrono::steady_clock::now() - began_
                     : std::chrono::steady_clock::duration::zero();
  }

  void finish(std::error_code error, std::optional<stream_type>& stream) {
    if constexpr (std::is_same_v<stream_type, asio::ip::tcp::socket>) {
      if (!error && options_.tcp_nodelay) {
        std::error_code ignored;  // as curl: a socket that refuses it still works
        stream->set_option(asio::ip::tcp::no_delay(true), ignored);
      }
    }
  }

  const connect_options& options_;
  open_context<asio::ip::tcp> context_;
  // One address, the common case, is held here rather than in endpoints_: no allocation.
  std::optional<endpoint_type> only_;
  std::vector<endpoint_type> endpoints_;
  bool resolved_ = false;
  bool attempting_ = false;
  bool recorded_ = true;
  std::chrono::steady_clock::time_point began_;
  attempt_steps<Factory, stream_type, endpoint_type> attempt_;
  std::error_code error_;
};

}  // namespace detail

/// Connects to `target` through `factory` as `options` say, for `purpose`. `target` and
/// `options` must outlive the operation (co_await it in the same expression). Terminal
/// cancellation by `stop`, by default the coroutine's own, ends it with
/// operation_aborted; a coroutine factory's own operations follow the coroutine's.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<connect_result<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::endpoint>>
connect_origin(Factory& factory, const origin& target, const connect_options& options,
               opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  detail::origin_plan<Factory> plan(factory, target, options, why,
                                    co_await asio::this_coro::executor);
  if (plan.needs_lookup())
    plan.looked_up(co_await resolve(target.host, target.port, options.names, stop));
  if (plan.ended(stop)) co_return std::move(plan).result();
  if (plan.single_address()) {
    // Nothing to race: the attempt is made here, a coroutine frame fewer than through
    // connect_endpoints(), and for a synchronous factory one fewer again than through
    // connect_attempt().
    bool must_connect;
    if constexpr (is_coroutine_factory_v<Factory, asio::ip::tcp>) {
      must_connect = plan.answered(co_await open_socket(factory, plan.attempt_context()), stop);
    } else {
      must_connect = plan.opened_now(stop);
    }
    if constexpr (detail::origin_plan<Factory>::connectable) {
      if (must_connect) co_await plan.connect(stop);
    }
    co_return std::move(plan).result();
  }
  co_return std::move(plan).raced(co_await connect_endpoints(
      factory, plan.endpoints(), plan.context(), options.happy_eyeballs, stop));
}

}  // namespace opensock
