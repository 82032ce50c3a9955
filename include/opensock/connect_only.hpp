// A connect-only session (curl's CONNECT_ONLY): the connector's path for a route
// (resolve, attempts through the socket factory, connect, TLS when asked), and the
// connected stream handed to the caller's own protocol.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_route.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/request_watchdog.hpp>
#include <opensock/open_context.hpp>
#include <opensock/origin.hpp>
#include <opensock/route.hpp>
#include <opensock/socket_factory.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock {

/// Owns at most one connection, made by connect_route() through `Factory` and closed
/// through it: resolve, attempts, connect and, for a route that asks for it, TLS. Names
/// resolve to TCP endpoints and the factory is asked for each attempt; the stream at
/// the bottom is whatever the factory returns: a TCP socket, or a Unix stream socket or
/// any other Asio stream that the factory connected itself.
template <class Factory = default_socket_factory>
class connect_only_session {
  using Protocol = asio::ip::tcp;
  static_assert(detail::check_socket_factory<Factory, Protocol>());

 public:
  using executor_type = asio::any_io_executor;
  using endpoint_type = Protocol::endpoint;
  using factory_type = Factory;
  using lowest_layer_type = factory_stream_t<Factory, Protocol>;
  using stream_type = transport<lowest_layer_type>;

  explicit connect_only_session(executor_type executor)
      : connect_only_session(std::move(executor), Factory(), connect_options()) {}
  connect_only_session(executor_type executor, Factory factory)
      : connect_only_session(std::move(executor), std::move(factory), connect_options()) {}
  connect_only_session(executor_type executor, Factory factory, connect_options options)
      : executor_(std::move(executor)),
        factory_(std::move(factory)),
        options_(std::move(options)),
        watchdog_(executor_) {}

  connect_only_session(const connect_only_session&) = delete;
  connect_only_session& operator=(const connect_only_session&) = delete;
  ~connect_only_session() {
    assert(!connecting_ && "a connect_only_session must outlive its async_connect");
    close();
  }

  /// Connects to `target`, closing the connection held before; TLS runs to it when its
  /// scheme is https or wss. Completes with void(std::error_code): curl-numbered
  /// opensock errors (operation_timedout past the connect or total timeout), a
  /// factory's own abort code, or asio::error::operation_aborted when cancelled
  /// (terminal cancellation). Every socket opened for a failed, losing or cancelled
  /// attempt is closed through the factory. One connect at a time: a second one started
  /// while the first runs fails with asio::error::in_progress. The session must outlive
  /// the operation, and its executor must be a strand if the io_context runs on several
  /// threads.
  template <class CompletionToken>
  auto async_connect(origin target, CompletionToken&& token) {
    return async_connect(route(std::move(target)), std::forward<CompletionToken>(token));
  }

  /// As above, for `r`: a route that asks for TLS gets it whatever its scheme (curl's
  /// CONNECT_ONLY over https), made with r.tls_settings().
  template <class CompletionToken>
  auto async_connect(route r, CompletionToken&& token) {
    return detail::async_spawn(
        executor_, [this, r = std::move(r)]() mutable { return run_connect(std::move(r)); },
        std::forward<CompletionToken>(token));
  }

  bool is_connected() const noexcept { return stream_.has_value(); }

  /// The connected stream, with TLS over it when the route asked for it: for the
  /// caller's protocol. Requires is_connected().
  stream_type& stream() noexcept {
    assert(stream_);
    return *stream_;
  }

  /// The factory's stream under any layer: the socket. Requires is_connected().
  lowest_layer_type& lowest_layer() noexcept {
    assert(stream_);
    return stream_->lowest_layer();
  }

  /// The endpoint connected to, after any rewrite by the factory. Requires is_connected().
  const endpoint_type& remote_endpoint() const noexcept {
    assert(stream_);
    return remote_endpoint_;
  }

  /// The protocol TLS negotiated by ALPN; empty without TLS or ALPN.
  const std::string& alpn() const noexcept { return alpn_; }

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
    close_stream(factory_, stream_->lowest_layer());
    stream_.reset();
  }

  Factory& factory() noexcept { return factory_; }
  const Factory& factory() const noexcept { return factory_; }
  connect_options& options() noexcept { return options_; }
  const connect_options& options() const noexcept { return options_; }
  executor_type get_executor() const noexcept { return executor_; }

 private:
  asio::awaitable<std::error_code> run_connect(route r) {
    // Cancellation arrives as operation_aborted codes that the stages act on, not as
    // exceptions thrown at the next co_await.
    co_await asio::this_coro::throw_if_cancelled(false);
    if (connecting_) co_return asio::error::in_progress;
    connecting_ = true;
    // Also when the frame goes with a connect under way (the io_context shutting down).
    struct connect_done {
      explicit connect_done(connect_only_session& s) : session(s) {}
      ~connect_done() { session.connecting_ = false; }
      connect_only_session& session;
    } done(*this);
    // The factory's context refers to the route's strings: they live in the session
    // until the operation ends.
    route_ = std::move(r);
    close();
    attempts_.clear();
    alpn_.clear();
    route_connection<lowest_layer_type> made;
    co_await connect_.connect_within(
        route_, options_, &tls_contexts_, &watchdog_,
        options_.connect_deadline(std::chrono::steady_clock::now()), made, attempts_);
    // Its timer, set for the deadline, would keep the executor busy until then.
    watchdog_.disarm();
    if (made.error) co_return made.error;
    stream_.emplace(std::move(*made.stream));
    remote_endpoint_ = made.endpoint;
    alpn_ = std::move(made.alpn);
    co_return std::error_code{};
  }

  executor_type executor_;
  Factory factory_;
  // Calls it through a reference of one type when it answers with a TCP socket: the
  // connect compiled for every such factory.
  detail::connecting_factory<Factory> connect_{factory_};
  connect_options options_;
  // Watches the deadline of a connect.
  detail::request_watchdog watchdog_;
  route route_;
  tls::context_cache tls_contexts_;
  bool connecting_ = false;
  std::optional<stream_type> stream_;
  endpoint_type remote_endpoint_{};
  std::string alpn_;
  std::vector<attempt_record<endpoint_type>> attempts_;
};

}  // namespace opensock
