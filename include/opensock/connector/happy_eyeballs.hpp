// The connector's race over the resolved endpoints, after RFC 8305 (Happy Eyeballs v2):
// families interleaved IPv6 first, a new attempt every `attempt_delay` or as soon as one
// fails, a bounded number in flight, the first connected stream wins and the others are
// cancelled and closed through the factory.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/detail/error_from_exception.hpp>
#include <opensock/open_context.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace opensock {

struct happy_eyeballs_options {
  /// How long an attempt runs alone before the next one starts (curl: 200 ms).
  std::chrono::milliseconds attempt_delay{200};
  /// How many attempts may be in flight at once.
  unsigned max_in_flight = 6;
};

namespace detail {

template <class Endpoint>
bool one_family(std::span<const Endpoint> endpoints) {
  const auto v6 = std::count_if(endpoints.begin(), endpoints.end(),
                                [](const Endpoint& e) { return e.address().is_v6(); });
  return v6 == 0 || static_cast<std::size_t>(v6) == endpoints.size();
}

// The outcome of a connect that made one attempt, `tried`, to `endpoint` (as the
// factory left it), which took `took`; its record in `attempts` unless `recorded` is
// false (no one is to read it, and it would be the result's one allocation).
template <class Stream, class Endpoint>
connect_result<Stream, Endpoint> one_attempt_result(attempt_result<Stream>&& tried,
                                                    const Endpoint& endpoint,
                                                    std::chrono::steady_clock::duration took,
                                                    bool recorded = true) {
  connect_result<Stream, Endpoint> result;
  attempt_record<Endpoint> record;
  record.number = 1;
  record.endpoint = endpoint;
  record.outcome = tried.outcome;
  record.error = tried.error;
  record.took = took;
  if (tried.outcome == attempt_outcome::connected) {
    result.stream = std::move(tried.stream);
    result.endpoint = endpoint;
  } else if (tried.outcome == attempt_outcome::aborted) {
    result.error = tried.error;
  } else {
    result.error = no_connection_error(std::span<const attempt_record<Endpoint>>(&record, 1));
  }
  if (recorded) result.attempts.push_back(record);
  return result;
}

}  // namespace detail

/// Orders endpoints as RFC 8305 §4 does after sorting: alternate the families, starting
/// with IPv6 when there is any; the order within each family is kept.
template <class Endpoint>
std::vector<Endpoint> interleave_families(std::span<const Endpoint> endpoints) {
  if (detail::one_family(endpoints)) return {endpoints.begin(), endpoints.end()};
  std::vector<Endpoint> v6, v4, out;
  for (const auto& e : endpoints) (e.address().is_v6() ? v6 : v4).push_back(e);
  out.reserve(endpoints.size());
  for (std::size_t i = 0; i < std::max(v6.size(), v4.size()); ++i) {
    if (i < v6.size()) out.push_back(v6[i]);
    if (i < v4.size()) out.push_back(v4[i]);
  }
  return out;
}

/// As above, keeping the storage of `endpoints` when they are all of one family.
template <class Endpoint>
std::vector<Endpoint> interleave_families(std::vector<Endpoint> endpoints) {
  if (detail::one_family(std::span<const Endpoint>(endpoints))) return endpoints;
  return interleave_families(std::span<const Endpoint>(endpoints));
}

/// Races connection attempts to `endpoints`, in their order, each through
/// connect_attempt() with a copy of `prototype` (purpose, host, port, scheme, executor)
/// whose endpoint and attempt number are set. Completes when an attempt connects (the
/// others are cancelled and waited for), when the factory aborts, when every attempt
/// has failed, or on terminal cancellation (operation_aborted) by `stop`, by default the
/// coroutine's own. The factory may be called while other attempts are pending. Run it
/// on a strand when the io_context has more than one thread.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<connect_result<factory_stream_t<Factory, Protocol>, typename Protocol::endpoint>>
connect_endpoints(Factory& factory, std::span<const typename Protocol::endpoint> endpoints,
                  const open_context<Protocol>& prototype, happy_eyeballs_options options = {},
                  asio::cancellation_state stop = {}) {
  using stream_type = factory_stream_t<Factory, Protocol>;
  using clock = std::chrono::steady_clock;
  connect_result<stream_type, typename Protocol::endpoint> result;
  const auto began = clock::now();
  const bool own_cancellation = !stop.slot().is_connected();
  if (own_cancellation) stop = co_await asio::this_coro::cancellation_state;
  if (endpoints.empty()) {
    result.error = error::host_has_no_address;
    co_return result;
  }

  if (endpoints.size() == 1) {
    // Nothing to race: the attempt runs in this coroutine, under its cancellation.
    open_context<Protocol> context = prototype;
    context.endpoint = endpoints[0];
    auto tried = co_await connect_attempt(factory, context, stop);
    co_return detail::one_attempt_result(std::move(tried), context.endpoint, clock::now() - began);
  }

  // The drain below must not throw: attempts still running refer to this frame.
  const bool threw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);

  struct attempt_slot {
    open_context<Protocol> context;
    asio::cancellation_signal cancel;
    bool running = true;
    bool cancelled = false;
  };
  std::vector<std::unique_ptr<attempt_slot>> slots;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wake(executor);
  std::size_t running = 0;
  bool failed_since_last_start = false;
  std::optional<std::error_code> aborted;
  clock::time_point last_start{};

  auto finish = [&](std::size_t index, attempt_result<stream_type> tried) {
    attempt_slot& slot = *slots[index];
    slot.running = false;
    --running;
    auto& record = result.attempts[index];
    record.endpoint = slot.context.endpoint;
    record.outcome = tried.outcome;
    record.error = tried.error;
    record.took = clock::now() - began - record.started;
    switch (tried.outcome) {
      case attempt_outcome::connected:
        if (!result.stream && !aborted) {
          result.stream = std::move(tried.stream);
          result.endpoint = slot.context.endpoint;
        } else {
          close_stream(factory, *tried.stream);  // connected too late: a loser
        }
        break;
      case attempt_outcome::aborted:
        if (!slot.cancelled && !aborted && !result.stream) aborted = tried.error;
        break;
      case attempt_outcome::refused:
      case attempt_outcome::failed:
        failed_since_last_start = true;
        break;
    }
    wake.cancel();
  };

  auto start = [&](std::size_t index) {
    auto slot = std::make_unique<attempt_slot>();
    slot->context = prototype;
    slot->context.endpoint = endpoints[index];
    slot->context.attempt = static_cast<unsigned>(index + 1);
    attempt_record<typename Protocol::endpoint> record;
    record.number = slot->context.attempt;
    record.endpoint = endpoints[index];
    record.started = clock::now() - began;
    result.attempts.push_back(record);
    last_start = clock::now();
    failed_since_last_start = false;
    ++running;
    auto& cancel_slot = slot->cancel;
    auto& context = slot->context;
    slots.push_back(std::move(slot));
    asio::co_spawn(executor, connect_attempt(factory, context),
                   asio::bind_cancellation_slot(
                       cancel_slot.slot(),
                       [&finish, index](std::exception_ptr thrown, attempt_result<stream_type> tried) {
                         if (thrown) {
                           tried.outcome = attempt_outcome::aborted;
                           tried.error = detail::error_from_exception(thrown);
                         }
                         finish(index, std::move(tried));
                       }));
  };

  std::size_t next = 0;
  bool cancelled = false;
  for (;;) {
    if (result.stream || aborted) break;
    const bool more = next < endpoints.size();
    if (!more && running == 0) break;
    const bool room = running < std::max(1u, options.max_in_flight);
    const auto room_left = clock::time_point::max() - last_start;
    const auto due =
        options.attempt_delay < std::chrono::duration_cast<std::chrono::milliseconds>(room_left)
            ? last_start + options.attempt_delay
            : clock::time_point::max();
    if (more && room && (running == 0 || failed_since_last_start || clock::now() >= due)) {
      start(next++);
      continue;
    }
    wake.expires_at(more && room ? due : clock::time_point::max());
    std::error_code ignored;
    co_await wake.async_wait(
        asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ignored)));
    if (stop.cancelled() != asio::cancellation_type::none) {
      cancelled = true;
      break;
    }
  }

  // Stop every attempt still running and wait for each, so that every socket is closed
  // through the factory before this returns.
  for (auto& slot : slots) {
    if (!slot->running) continue;
    slot->cancelled = true;
    slot->cancel.emit(asio::cancellation_type::terminal);
  }
  if (cancelled && own_cancellation) co_await asio::this_coro::reset_cancellation_state();
  while (running > 0) {
    wake.expires_at(clock::time_point::max());
    std::error_code ignored;
    // Not cancellable: the attempts refer to this frame. Bound to no slot, the wait
    // also leaves the coroutine's own slot to whoever holds it.
    co_await wake.async_wait(asio::bind_cancellation_slot(
        asio::cancellation_slot(), asio::redirect_error(asio::use_awaitable, ignored)));
  }

  co_await asio::this_coro::throw_if_cancelled(threw_if_cancelled);
  if (result.stream) co_return result;
  if (cancelled) {
    result.error = asio::error::operation_aborted;
  } else if (aborted) {
    result.error = *aborted;
  } else {
    result.error = detail::no_connection_error<typename Protocol::endpoint>(result.attempts);
  }
  co_return result;
}

/// One attempt at a time, in order: each starts when the one before has failed.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
auto connect_in_order(Factory& factory, std::span<const typename Protocol::endpoint> endpoints,
                      const open_context<Protocol>& prototype) {
  return connect_endpoints(factory, endpoints, prototype,
                           {std::chrono::milliseconds::max(), 1});
}

}  // namespace opensock
