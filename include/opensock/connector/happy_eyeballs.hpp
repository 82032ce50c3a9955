// The connector's race over the resolved endpoints, after RFC 8305 (Happy Eyeballs v2):
// families interleaved IPv6 first, a new attempt every `attempt_delay` or as soon as one
// fails, a bounded number in flight, the first connected stream wins and the others are
// cancelled and closed through the factory.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/detail/error_from_exception.hpp>
#include <opensock/detail/factory_answer.hpp>
#include <opensock/open_context.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
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

// The race over `endpoints` as state between its waits, for a coroutine that drives it:
//
//   attempt_race<Factory, Protocol> race(factory, endpoints, prototype, ...);
//   while (race.advance()) co_await race.wait();
//   // race.error(); race.stream() and race.endpoint() of the winner
//
// advance() starts what is due and says whether there is something to wait for. An
// attempt with nothing to race against (no other in flight, no address after it) runs
// in the driving coroutine itself, with `prototype` as its context: wait() is then its
// connect, or for a coroutine factory the factory's answer and the connect. Any other
// attempt runs apart, in a coroutine of its own (connect_attempt()), and wait() is then
// a timer, ended by an attempt's end, the next attempt's time or `stop`. When the race
// is won, aborted or stopped, the attempts still running are cancelled and waited for,
// so that every socket is closed through the factory before the race ends.
//
// Every attempt is recorded in `records`, after what it already holds, its start and
// duration counted from `began`; the first starts at `first_start`. Everything given by
// reference must outlive the race, which must not move (the attempts apart refer to it).
// The driving coroutine must not throw on cancellation while the race runs
// (asio::this_coro::throw_if_cancelled(false)).
template <class Factory, class Protocol>
class attempt_race {
 public:
  using stream_type = factory_stream_t<Factory, Protocol>;
  using endpoint_type = typename Protocol::endpoint;
  using record_type = attempt_record<endpoint_type>;
  using clock = std::chrono::steady_clock;

  attempt_race(Factory& factory, std::span<const endpoint_type> endpoints,
               open_context<Protocol>& prototype, const happy_eyeballs_options& options,
               const asio::cancellation_state& stop, const asio::any_io_executor& executor,
               std::vector<record_type>& records, clock::time_point began,
               clock::time_point first_start)
      : factory_(factory),
        endpoints_(endpoints),
        prototype_(prototype),
        options_(options),
        stop_(stop),
        executor_(executor),
        records_(records),
        first_record_(records.size()),
        began_(began),
        last_start_(first_start),
        ended_(first_start) {}

  attempt_race(const attempt_race&) = delete;
  attempt_race& operator=(const attempt_race&) = delete;

  /// Takes in the outcome of the last wait, then starts what is due: true when there is
  /// something to wait for (co_await wait(), then call this again), false when the race
  /// is over.
  bool advance() {
    if (waiting_ == waiting::here) {
      settle_here();
    } else if (waiting_ == waiting::apart && !draining_ &&
               stop_.cancelled() != asio::cancellation_type::none) {
      cancelled_ = true;
    }
    waiting_ = waiting::none;
    while (!draining_) {
      if (won_ || aborted_ || cancelled_) {
        drain();
        break;
      }
      const bool more = next_ < endpoints_.size();
      if (!more && running_ == 0) break;
      const bool room = running_ < std::max(1u, options_.max_in_flight);
      const auto room_left = clock::time_point::max() - last_start_;
      const auto due =
          options_.attempt_delay < std::chrono::duration_cast<std::chrono::milliseconds>(room_left)
              ? last_start_ + options_.attempt_delay
              : clock::time_point::max();
      if (more && room && (running_ == 0 || failed_since_last_start_ || clock::now() >= due)) {
        if (start(next_++)) return true;
        continue;
      }
      wake_at_ = more && room ? due : clock::time_point::max();
      waiting_ = waiting::apart;
      return true;
    }
    if (running_ > 0) {
      wake_at_ = clock::time_point::max();
      waiting_ = waiting::apart;
      return true;
    }
    return false;
  }

  /// The wait advance() asked for.
  asio::awaitable<void> wait() {
    if constexpr (is_coroutine_factory_v<Factory, Protocol>) {
      if (waiting_ == waiting::here) return answer_and_connect(*here_, prototype_, stop_);
    } else if constexpr (connectable_to<stream_type, endpoint_type>) {
      if (waiting_ == waiting::here) return here_->connect(prototype_.endpoint, stop_);
    }
    apart_->wake.expires_at(wake_at_);
    // Once the race is over, the attempts being drained refer to it: that wait is not
    // cancellable, and bound to no slot it leaves the coroutine's own to whoever holds it.
    return apart_->wake.async_wait(
        asio::bind_cancellation_slot(draining_ ? asio::cancellation_slot() : stop_.slot(),
                                     asio::redirect_error(asio::use_awaitable, wake_error_)));
  }

  /// Once advance() is false: the race's error, none when an attempt connected.
  std::error_code error() const {
    if (won_) return {};
    if (cancelled_) return asio::error::operation_aborted;
    if (aborted_) return *aborted_;
    return no_connection_error(std::span<const record_type>(records_).subspan(first_record_));
  }
  /// The winner's stream, where its attempt left it, and its endpoint as the factory
  /// left it.
  stream_type& stream() { return apart_ && apart_->winner ? *apart_->winner : here_->stream(); }
  const endpoint_type& endpoint() const noexcept { return endpoint_; }
  /// When the last attempt to end ended (the first start, if none ran).
  clock::time_point ended() const noexcept { return ended_; }
  /// Whether `stop` ended the race while attempts ran apart: a coroutine that follows
  /// its own cancellation resets it then, as the race has answered it.
  bool stopped() const noexcept { return cancelled_; }

 private:
  // What the coroutine waits for: the attempt in it, or the timer of the attempts apart.
  enum class waiting { none, here, apart };

  // An attempt in a coroutine of its own, with its context and its cancellation.
  struct attempt_apart {
    std::size_t index = 0;
    open_context<Protocol> context;
    asio::cancellation_signal cancel;
    bool running = true;
    bool cancelled = false;
  };
  // Made with the first attempt apart: a race with one address has none.
  struct apart_state {
    explicit apart_state(const asio::any_io_executor& executor) : wake(executor) {}
    asio::steady_timer wake;
    std::vector<std::unique_ptr<attempt_apart>> attempts;
    std::optional<stream_type> winner;
  };

  // Starts the attempt to endpoints_[index]: true when it runs here and its wait is next.
  bool start(std::size_t index) {
    const auto now = index == 0 ? last_start_ : clock::now();
    record_type record;
    record.number = static_cast<unsigned>(index + 1);
    record.endpoint = endpoints_[index];
    record.started = now - began_;
    records_.push_back(record);
    last_start_ = now;
    failed_since_last_start_ = false;
    if (running_ > 0 || index + 1 < endpoints_.size()) {
      start_apart(index);
      return false;
    }
    // Nothing to race it against: it runs here, with the prototype as its context.
    prototype_.endpoint = endpoints_[index];
    prototype_.attempt = static_cast<unsigned>(index + 1);
    here_index_ = index;
    here_.emplace(factory_);
    if constexpr (!is_coroutine_factory_v<Factory, Protocol>) {
      if (!here_->opened_now(prototype_, stop_)) {
        settle_here();
        return false;
      }
    }
    waiting_ = waiting::here;
    return true;
  }

  void start_apart(std::size_t index) {
    if (!apart_) apart_ = std::make_unique<apart_state>(executor_);
    auto attempt = std::make_unique<attempt_apart>();
    attempt->index = index;
    attempt->context = prototype_;
    attempt->context.endpoint = endpoints_[index];
    attempt->context.attempt = static_cast<unsigned>(index + 1);
    attempt_apart& a = *attempt;
    apart_->attempts.push_back(std::move(attempt));
    ++running_;
    auto done = [this, &a](std::exception_ptr thrown, attempt_result<stream_type> tried) {
      if (thrown) {
        tried.outcome = attempt_outcome::aborted;
        tried.error = error_from_exception(thrown);
      }
      a.running = false;
      --running_;
      note(a.index, tried.outcome, tried.error, a.context.endpoint, a.cancelled);
      if (tried.outcome == attempt_outcome::connected) {
        if (!won_ && !aborted_) {
          won_ = true;
          apart_->winner = std::move(tried.stream);
          endpoint_ = a.context.endpoint;
        } else {
          close_stream(factory_, *tried.stream);  // connected too late: a loser
        }
      }
      apart_->wake.cancel();
    };
    asio::co_spawn(executor_, connect_attempt(factory_, a.context),
                   asio::bind_cancellation_slot(a.cancel.slot(), std::move(done)));
  }

  void settle_here() {
    const attempt_outcome outcome = here_->settle();
    note(here_index_, outcome, here_->error(), prototype_.endpoint, false);
    if (outcome != attempt_outcome::connected) return;
    // Nothing ran beside it, so nothing has won or aborted: it wins.
    won_ = true;
    endpoint_ = prototype_.endpoint;
  }

  // Notes what attempt `index` came to in its record and in the race, the race's own
  // cancellation of it told by `cancelled`.
  void note(std::size_t index, attempt_outcome outcome, std::error_code error,
            const endpoint_type& endpoint, bool cancelled) {
    ended_ = clock::now();
    record_type& r = records_[first_record_ + index];
    r.endpoint = endpoint;
    r.outcome = outcome;
    r.error = error;
    r.took = ended_ - began_ - r.started;
    switch (outcome) {
      case attempt_outcome::connected: break;
      case attempt_outcome::aborted:
        if (!cancelled && !aborted_ && !won_) aborted_ = error;
        break;
      case attempt_outcome::refused:
      case attempt_outcome::failed: failed_since_last_start_ = true; break;
    }
  }

  // Stops every attempt still running apart; the race then waits for each.
  void drain() {
    draining_ = true;
    if (!apart_) return;
    for (auto& attempt : apart_->attempts) {
      if (!attempt->running) continue;
      attempt->cancelled = true;
      attempt->cancel.emit(asio::cancellation_type::terminal);
    }
  }

  Factory& factory_;
  std::span<const endpoint_type> endpoints_;
  open_context<Protocol>& prototype_;
  const happy_eyeballs_options& options_;
  const asio::cancellation_state& stop_;
  const asio::any_io_executor& executor_;
  std::vector<record_type>& records_;
  std::size_t first_record_;
  clock::time_point began_;
  clock::time_point last_start_;
  clock::time_point ended_;
  clock::time_point wake_at_{};
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::size_t here_index_ = 0;
  std::optional<attempt_steps<Factory, stream_type, endpoint_type>> here_;
  std::unique_ptr<apart_state> apart_;
  endpoint_type endpoint_{};
  std::optional<std::error_code> aborted_;
  std::error_code wake_error_;
  waiting waiting_ = waiting::none;
  bool failed_since_last_start_ = false;
  bool won_ = false;
  bool cancelled_ = false;
  bool draining_ = false;
};

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

/// Races connection attempts to `endpoints`, in their order, each through the factory
/// with a copy of `prototype` (purpose, host, port, scheme, executor) whose endpoint and
/// attempt number are set. Completes when an attempt connects (the others are cancelled
/// and waited for), when the factory aborts, when every attempt has failed, or on
/// terminal cancellation (operation_aborted) by `stop`, by default the coroutine's own.
/// The factory may be called while other attempts are pending. Run it on a strand when
/// the io_context has more than one thread.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<connect_result<factory_stream_t<Factory, Protocol>, typename Protocol::endpoint>>
connect_endpoints(Factory& factory, std::span<const typename Protocol::endpoint> endpoints,
                  const open_context<Protocol>& prototype, happy_eyeballs_options options = {},
                  asio::cancellation_state stop = {}) {
  using clock = std::chrono::steady_clock;
  connect_result<factory_stream_t<Factory, Protocol>, typename Protocol::endpoint> result;
  const auto began = clock::now();
  const bool own_cancellation = !stop.slot().is_connected();
  if (own_cancellation) stop = co_await asio::this_coro::cancellation_state;
  // The race must not throw: attempts still running refer to this frame.
  const bool threw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  open_context<Protocol> context = prototype;
  detail::attempt_race<Factory, Protocol> race(factory, endpoints, context, options, stop, executor,
                                               result.attempts, began, began);
  while (race.advance()) co_await race.wait();
  if (race.stopped() && own_cancellation) co_await asio::this_coro::reset_cancellation_state();
  result.error = race.error();
  if (!result.error) {
    result.stream.emplace(std::move(race.stream()));
    result.endpoint = race.endpoint();
  }
  co_await asio::this_coro::throw_if_cancelled(threw_if_cancelled);
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
