// A connect-only session (curl's CONNECT_ONLY): resolve, race attempts through the
// socket factory, connect, and hand the connected stream to the caller's own protocol.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_origin.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/deadline.hpp>
#include <opensock/open_context.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <cassert>
#include <chrono>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock {

/// Owns at most one connection, opened through `Factory` and closed through it. Names
/// resolve to TCP endpoints and the factory is asked for each attempt; the stream type
/// is whatever the factory returns: a TCP socket, or a Unix stream socket or any other
/// Asio stream that the factory connected itself.
template <class Factory = default_socket_factory>
class connect_only_session {
  using Protocol = asio::ip::tcp;
  static_assert(detail::check_socket_factory<Factory, Protocol>());

 public:
  using executor_type = asio::any_io_executor;
  using endpoint_type = Protocol::endpoint;
  using factory_type = Factory;
  using stream_type = factory_stream_t<Factory, Protocol>;

  explicit connect_only_session(executor_type executor, Factory factory = Factory(),
                                connect_options options = {})
      : executor_(std::move(executor)),
        factory_(std::move(factory)),
        options_(std::move(options)) {}

  connect_only_session(const connect_only_session&) = delete;
  connect_only_session& operator=(const connect_only_session&) = delete;
  ~connect_only_session() {
    assert(!connecting_ && "a connect_only_session must outlive its async_connect");
    close();
  }

  /// Connects to `target`, closing the connection held before. Completes with
  /// void(std::error_code): curl-numbered opensock errors (operation_timedout past the
  /// connect or total timeout), a factory's own abort code, or
  /// asio::error::operation_aborted when cancelled (terminal cancellation). Every
  /// socket opened for a failed, losing or cancelled attempt is closed through the
  /// factory. One connect at a time: a second one started while the first runs fails
  /// with asio::error::in_progress. The session must outlive the operation, and its
  /// executor must be a strand if the io_context runs on several threads.
  template <class CompletionToken>
  auto async_connect(origin target, CompletionToken&& token) {
    return detail::async_spawn(
        executor_,
        [this, target = std::move(target)]() mutable { return run_connect(std::move(target)); },
        std::forward<CompletionToken>(token));
  }

  bool is_connected() const noexcept { return stream_.has_value(); }

  /// The connected stream, for the caller's protocol. Requires is_connected().
  stream_type& stream() noexcept {
    assert(stream_);
    return *stream_;
  }

  /// The endpoint connected to, after any rewrite by the factory. Requires is_connected().
  const endpoint_type& remote_endpoint() const noexcept {
    assert(stream_);
    return remote_endpoint_;
  }

  /// Every attempt of the last connect, with its endpoint, outcome, error and timing.
  const std::vector<attempt_record<endpoint_type>>& attempts() const noexcept {
    return attempts_;
  }

  /// Takes the stream out of the session; the caller closes it from then on.
  stream_type release() {
    assert(stream_);
    stream_type s = std::move(*stream_);
    stream_.reset();
    return s;
  }

  /// Closes the connection, if any, through the factory.
  void close() noexcept {
    if (!stream_) return;
    close_stream(factory_, *stream_);
    stream_.reset();
  }

  Factory& factory() noexcept { return factory_; }
  const Factory& factory() const noexcept { return factory_; }
  connect_options& options() noexcept { return options_; }
  const connect_options& options() const noexcept { return options_; }
  executor_type get_executor() const noexcept { return executor_; }

 private:
  asio::awaitable<std::error_code> run_connect(origin target) {
    // Cancellation arrives as operation_aborted codes that the stages act on, not as
    // exceptions thrown at the next co_await.
    co_await asio::this_coro::throw_if_cancelled(false);
    if (connecting_) co_return asio::error::in_progress;
    connecting_ = true;
    // Also when the frame goes with a connect under way (the io_context shutting down).
    struct connect_done {
      connect_only_session& session;
      ~connect_done() {
        session.connecting_ = false;
        session.plan_.reset();
        session.limit_.reset();
      }
    } done{*this};
    // The factory's context refers to the target's strings: they live in the session
    // until the operation ends.
    target_ = std::move(target);
    close();
    attempts_.clear();
    const auto deadline = options_.connect_deadline(std::chrono::steady_clock::now());
    const auto own = co_await asio::this_coro::cancellation_state;
    if constexpr (connects_in_place) {
      // A connect with one wait, the common case, is taken here: no frames of the
      // connector's. Its state is the session's, where it does not move.
      if (!own.slot().is_connected() && plan_one_wait()) {
        if (deadline != std::chrono::steady_clock::time_point::max())
          limit_.emplace(executor_, deadline);
        const auto stop = limit_ ? limit_->stop() : asio::cancellation_state();
        if (plan_->opened_now(stop)) co_await plan_->connect(stop);
        co_return planned_connect_ended();
      }
    }
    if (deadline == std::chrono::steady_clock::time_point::max())
      co_return co_await connect_stages();
    if (!is_coroutine_factory_v<Factory, Protocol> && !own.slot().is_connected()) {
      // Nothing can cancel this coroutine and the factory does not wait itself: the
      // connector follows a stop that a timer cancels at the deadline, with no coroutine
      // spawned (see detail/deadline.hpp).
      detail::deadline_stop limit(co_await asio::this_coro::executor, deadline);
      const auto ec = co_await connect_stages(limit.stop());
      if (!limit.expired()) co_return ec;
    } else if (auto outcome = co_await detail::with_deadline(connect_stages(), deadline)) {
      co_return *outcome;
    }
    close();
    co_return error::operation_timedout;
  }

  // `stop`: as connect_origin() takes it; by default this coroutine's own cancellation.
  asio::awaitable<std::error_code> connect_stages(asio::cancellation_state stop = {}) {
    co_await asio::this_coro::throw_if_cancelled(false);
    co_return connected(
        co_await connect_origin(factory_, target_, options_, purpose::origin, std::move(stop)));
  }

  using result_type = connect_result<stream_type, endpoint_type>;

  std::error_code connected(result_type&& result) {
    attempts_ = std::move(result.attempts);
    if (result.error) return result.error;
    stream_.emplace(std::move(*result.stream));
    remote_endpoint_ = result.endpoint;
    return {};
  }

  // Whether the factory answers at once and its stream is connected with one wait.
  static constexpr bool connects_in_place =
      !is_coroutine_factory_v<Factory, Protocol> && detail::origin_plan<Factory>::connectable;

  // Whether target_ needs no lookup and gives one address: then plan_ holds the
  // connect, for run_connect() to make in its own frame.
  bool plan_one_wait() {
    if (plan_.emplace(factory_, target_, options_, purpose::origin, executor_).one_wait())
      return true;
    plan_.reset();
    return false;
  }

  std::error_code planned_connect_ended() {
    const bool expired = limit_ && limit_->expired();
    const auto ec = connected(std::move(*plan_).result());
    plan_.reset();
    limit_.reset();
    if (!expired) return ec;
    close();
    return error::operation_timedout;
  }

  executor_type executor_;
  Factory factory_;
  connect_options options_;
  origin target_;
  bool connecting_ = false;
  std::optional<stream_type> stream_;
  endpoint_type remote_endpoint_{};
  std::vector<attempt_record<endpoint_type>> attempts_;
  // A connect that run_connect() makes in its own frame: its deadline's stop, and
  // connect_origin()'s steps. Empty when none is under way.
  std::optional<detail::deadline_stop> limit_;
  std::optional<detail::origin_plan<Factory>> plan_;
};

}  // namespace opensock
