// The connector's whole path for a route: resolve (or skip it for a factory that
// reaches the peer by its own means), order the addresses, race the attempts through
// the socket factory, connect, the handshakes of the route's proxies, and then the
// layers the route adds over the factory's stream (TLS to the origin). Every session
// makes its connections through it, in one coroutine frame of its own.
#pragma once

#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/hops.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/connector/resolve.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/deadline.hpp>
#include <opensock/detail/request_watchdog.hpp>
#include <opensock/detail/tcp_factory_ref.hpp>
#include <opensock/error.hpp>
#include <opensock/open_context.hpp>
#include <opensock/route.hpp>
#include <opensock/socket_factory.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/transport.hpp>

#if OPENSOCK_HAS_TLS
#include <opensock/tls/context.hpp>
#include <opensock/tls/layer.hpp>
#endif

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cassert>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace opensock {

/// What connect_route() made: on success a transport, with the layers of the route over
/// the factory's stream.
template <class Stream>
struct route_connection {
  using endpoint_type = asio::ip::tcp::endpoint;
  std::error_code error;
  std::optional<transport<Stream>> stream;
  /// The endpoint connected to, after any rewrite by the factory.
  endpoint_type endpoint{};
  /// Every attempt, in the order they started.
  std::vector<attempt_record<endpoint_type>> attempts;
  /// The protocol TLS to the origin negotiated by ALPN; empty without.
  std::string alpn;
  /// What the last HTTP proxy asked for a tunnel answered; status 0 without one.
  http::proxy_answer tunnel_answer;
  connect_timings times;
};

template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<route_connection<factory_stream_t<Factory, asio::ip::tcp>>> connect_route(
    Factory& factory, const route& r, const connect_options& options,
    tls::context_cache* contexts = nullptr, opensock::purpose why = purpose::origin,
    asio::cancellation_state stop = {});

namespace detail {

using tcp_attempts = std::vector<attempt_record<asio::ip::tcp::endpoint>>;

// connect_within() for a caller that can cancel it, or a factory that waits itself (its
// own waits follow its coroutine's cancellation): connect_route() in a coroutine of its
// own, cancelled at the deadline or with the caller.
template <class Factory>
asio::awaitable<void> connect_apart_within(
    Factory& factory, const route& r, const connect_options& options, tls::context_cache* contexts,
    purpose why, std::chrono::steady_clock::time_point deadline,
    route_connection<factory_stream_t<Factory, asio::ip::tcp>>& made, tcp_attempts& attempts) {
  auto outcome =
      co_await with_deadline(connect_route(factory, r, options, contexts, why), deadline);
  made = std::move(outcome.value);
  attempts = std::move(made.attempts);
  if (!outcome.expired) co_return;
  if (made.stream) close_stream(factory, made.stream->lowest_layer());
  made.stream.reset();
  made.error = error::operation_timedout;
}

// The connector's path for `r` through `factory`, as options say, for `why`, each stage
// in this coroutine's frame: the name resolved in place when it needs no lookup (an IP
// literal, localhost, an override), the addresses ordered and raced by attempt_race,
// the winner's TCP_NODELAY set, TLS run over it when the route asks for it (with a
// context from `contexts`, made for this connection alone when null). Fills `made`, as
// its default constructor left it, each attempt recorded in `attempts` (made.attempts,
// or storage the caller keeps); what fails on the way is closed through the factory.
//
// Past `deadline` it ends in operation_timedout, everything it opened closed: cancelled
// through `watchdog`, which watches the deadline with the timer it has anyway, when
// nothing can cancel the caller and the factory does not wait itself; otherwise in a
// coroutine of its own (connect_apart_within()). Both follow the caller's executor, so
// that on a strand the cancellation is never concurrent with the connect's own steps.
// Without a deadline, terminal cancellation by `stop`, by default the coroutine's own,
// ends it with operation_aborted. `r`, `options`, `made` and `attempts` must outlive it.
// g++ 12 at -O2 inlines Asio's frame allocation into this coroutine's ramp and then
// takes Asio's own operator delete, which returns the frame to the same allocator, for a
// mismatch: a false -Wmismatched-new-delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<void> connect_within(
    Factory& factory, const route& r, const connect_options& options,
    [[maybe_unused]] tls::context_cache* contexts, request_watchdog* watchdog,
    std::chrono::steady_clock::time_point deadline,
    route_connection<factory_stream_t<Factory, asio::ip::tcp>>& made, tcp_attempts& attempts,
    opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
  using clock = std::chrono::steady_clock;
  using endpoint_type = asio::ip::tcp::endpoint;
  assert(deadline == clock::time_point::max() || !stop.slot().is_connected());
  attempts.clear();
  if (r.secure && !OPENSOCK_HAS_TLS) {
    made.error = error::tls_not_built;
    co_return;
  }
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  if (deadline != clock::time_point::max() &&
      (is_coroutine_factory_v<Factory, asio::ip::tcp> || stop.slot().is_connected() || !watchdog)) {
    co_await connect_apart_within(factory, r, options, contexts, why, deadline, made, attempts);
    co_return;
  }
  // Cancellation arrives as operation_aborted codes that the stages act on, not as
  // exceptions thrown at the next co_await: attempts still running refer to this frame.
  const bool threw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto began = clock::now();
  // The factory's context: what every attempt is opened for, and the executor of the
  // stages' waits.
  open_context<asio::ip::tcp> context;
  if (r.proxies.empty()) {
    context.purpose = why;
    context.host = r.origin.host;
    context.port = r.origin.port;
    context.scheme = r.origin.scheme;
  } else {
    const proxy& nearest = r.proxies.front();
    context.purpose = purpose::proxy;
    context.host = nearest.host;
    context.port = nearest.port;
    context.scheme = scheme_of(nearest.kind);
  }
  context.origin = &r.origin;
  context.executor = co_await asio::this_coro::executor;
  context.local = &r.local;
  std::optional<watched_stop> limit;
  if (deadline != clock::time_point::max()) {
    limit.emplace(*watchdog, context.executor, deadline);
    stop = limit->stop();
  }

  // Under a factory that guards origins, the origin behind proxies is resolved and
  // checked first: one it refuses is never asked of a proxy, nor is any proxy connected.
  // A route to forward through a proxy cannot be checked so: it is refused (a session
  // does not forward under a guard; one that came to guard after aiming the route ends
  // here).
  std::optional<asio::ip::address> checked;
  auto looked_up = began;
  if constexpr (guards_origins_v<Factory>) {
    if (!r.proxies.empty() && guards_origins(factory)) {
      const auto refuses = [&factory](const asio::ip::address& a) {
        return refuses_origin(factory, a);
      };
      if (r.forwarded()) {
        made.error = error::refused_by_socket_factory;
      } else {
        made.error = co_await guarded_origin(r, refuses, stop, checked.emplace());
        context.origin_checked = !made.error;
        looked_up = clock::now();
      }
    }
  }

  // Resolve where the sockets go: the first proxy, or the host to reach with the
  // addresses given for it. One address, the common case, needs no vector.
  const network_target first = r.first_hop();
  const auto given = r.proxies.empty() ? std::span<const asio::ip::address>(r.addresses)
                                       : std::span<const asio::ip::address>();
  std::optional<endpoint_type> only;
  resolve_result resolved;
  if (made.error) {
    // The guard refused the origin: nothing more is resolved or connected.
  } else if constexpr (skips_resolution_v<Factory>) {
    only.emplace(asio::ip::address_v4::any(), first.port);
  } else if (!(only = literal_endpoint(first.host, first.port, given, r.version))) {
    if (auto found = resolve_without_lookup(first.host, first.port, given, r.version)) {
      resolved = std::move(*found);
    } else {
      resolved = co_await resolve(std::string(first.host), first.port, given, r.version, stop);
      looked_up = clock::now();
    }
    if (resolved.error == condition::couldnt_resolve_host && !r.proxies.empty())
      resolved.error = error::couldnt_resolve_proxy;
    resolved.endpoints = interleave_families(std::move(resolved.endpoints));
  }
  made.times.name_lookup = looked_up - began;
  // A tunnel's authentication, when the last proxy's credentials answer its 407: if the
  // proxy closes the connection after one, a new connection asks again, once, as curl's.
  std::unique_ptr<http::tunnel_auth> tunnel;
  if (!r.proxies.empty() && r.proxies.back().answers_challenges())
    tunnel = std::make_unique<http::tunnel_auth>();
  for (bool again = false;; again = true) {
    if (made.error || resolved.error || stop.cancelled() != asio::cancellation_type::none) {
      if (!made.error) made.error = resolved.error ? resolved.error : asio::error::operation_aborted;
      made.times.connect = made.times.name_lookup;
    } else {
      // The attempts, raced.
      const auto endpoints = only ? std::span<const endpoint_type>(&*only, 1)
                                  : std::span<const endpoint_type>(resolved.endpoints);
      attempt_race<Factory, asio::ip::tcp> race(factory, endpoints, context,
                                                options.happy_eyeballs, stop, context.executor,
                                                attempts, began, looked_up);
      while (race.advance()) co_await race.wait();
      made.times.connect = race.ended() - began;
      made.error = race.error();
      if (!made.error) {
        if constexpr (std::is_same_v<factory_stream_t<Factory, asio::ip::tcp>,
                                     asio::ip::tcp::socket>) {
          if (options.tcp_nodelay) {
            std::error_code ignored;  // as curl: a socket that refuses it still works
            race.stream().set_option(asio::ip::tcp::no_delay(true), ignored);
          }
        }
        made.stream.emplace(std::move(race.stream()));
        made.endpoint = race.endpoint();
      }
    }

    // The route's hops, each proxy asked for the next and the last for the origin.
    if (!made.error && !r.proxies.empty())
      made.error = co_await through_proxies(*made.stream, r, made.tunnel_answer,
                                            checked ? &*checked : nullptr, contexts, stop,
                                            tunnel.get());
    if (!made.error || !tunnel || !tunnel->reconnect || again) break;
    close_stream(factory, made.stream->lowest_layer());
    made.stream.reset();
    made.error = {};
  }

  // The PROXY protocol line, first on the way to the server: inside any tunnel, under TLS.
  if (!made.error && r.proxy_header) {
    const std::string line = r.proxy_header->line(made.stream->lowest_layer());
    std::error_code ec;
    co_await asio::async_write(
        *made.stream, asio::buffer(line),
        asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec)));
    if (ec == asio::error::operation_aborted) {
      made.error = ec;
    } else if (ec) {
      made.error = error::proxy_protocol_send_failed;
    }
  }

#if OPENSOCK_HAS_TLS
  // The route's layers: TLS to the origin.
  if (!made.error && r.secure) {
    std::error_code ec;
    const tls::options& settings = r.tls_settings();
    auto tls_context =
        contexts ? tls::context_for(*contexts, settings, ec) : tls::make_context(settings, ec);
    if (!ec) {
      ec = co_await tls::secure(*made.stream, std::move(tls_context), r.origin.host, settings,
                                made.alpn, stop);
    }
    made.times.tls_handshake = clock::now() - began;
    if (ec) made.error = ec;
  }
#endif

  if (limit) {
    const bool timed_out = limit->end();
    while (limit->cancel_pending()) co_await asio::post(context.executor, asio::use_awaitable);
    if (timed_out) made.error = error::operation_timedout;
  }
  if (made.error && made.stream) {
    close_stream(factory, made.stream->lowest_layer());
    made.stream.reset();
  }
  co_await asio::this_coro::throw_if_cancelled(threw_if_cancelled);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// A factory as a session's connects call it: through a tcp_factory_ref when
// connects_by_reference_v, so that its connect is the one compiled for every such
// factory, itself otherwise. It refers to the factory, which must not move.
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
class connecting_factory {
 public:
  explicit connecting_factory(Factory& factory) : factory_(factory), held_(factory) {}
  connecting_factory(const connecting_factory&) = delete;
  connecting_factory& operator=(const connecting_factory&) = delete;

  // connect_within() through the factory.
  asio::awaitable<void> connect_within(
      const route& r, const connect_options& options, tls::context_cache* contexts,
      request_watchdog* watchdog, std::chrono::steady_clock::time_point deadline,
      route_connection<factory_stream_t<Factory, asio::ip::tcp>>& made, tcp_attempts& attempts,
      opensock::purpose why = purpose::origin, asio::cancellation_state stop = {}) {
    if constexpr (by_reference) {
      return detail::connect_within(held_, r, options, contexts, watchdog, deadline, made,
                                    attempts, why, std::move(stop));
    } else {
      return detail::connect_within(factory_, r, options, contexts, watchdog, deadline, made,
                                    attempts, why, std::move(stop));
    }
  }

 private:
  static constexpr bool by_reference = connects_by_reference_v<Factory>;
  struct nothing_held {
    explicit nothing_held(Factory&) noexcept {}
  };

  Factory& factory_;
  [[no_unique_address]] std::conditional_t<by_reference, tcp_factory_ref_for<Factory>,
                                           nothing_held> held_;
};

}  // namespace detail

/// Makes a connection for `r` through `factory`, for `why`: resolve (not for a factory
/// that skips resolution, nor for an IP literal or an override), the addresses ordered
/// and raced as connect_endpoints() does, connect, and then TLS when the route asks for
/// it, with a context from `contexts` (made for this connection alone when null). A
/// connection that fails on the way is closed through the factory. Terminal cancellation
/// by `stop`, by default the coroutine's own, ends it with operation_aborted; a
/// coroutine factory's own operations follow the coroutine's. `r` and `options` must
/// outlive the operation (co_await it in the same expression).
template <class Factory>
  requires socket_factory<Factory, asio::ip::tcp>
asio::awaitable<route_connection<factory_stream_t<Factory, asio::ip::tcp>>> connect_route(
    Factory& factory, const route& r, const connect_options& options, tls::context_cache* contexts,
    opensock::purpose why, asio::cancellation_state stop) {
  route_connection<factory_stream_t<Factory, asio::ip::tcp>> made;
  detail::connecting_factory<Factory> connecting(factory);
  co_await connecting.connect_within(r, options, contexts, nullptr,
                                     std::chrono::steady_clock::time_point::max(), made,
                                     made.attempts, why, std::move(stop));
  co_return made;
}

/// connect_route() as an Asio asynchronous operation run on `executor` (the sockets'):
/// completes `token` with void(std::error_code, route_connection<Stream>), and
/// per-operation cancellation (terminal) ends it with operation_aborted. `factory`, `r`
/// and `options` must outlive it.
template <class Factory, class CompletionToken>
  requires socket_factory<Factory, asio::ip::tcp>
auto async_connect_route(const asio::any_io_executor& executor, Factory& factory, const route& r,
                         const connect_options& options, CompletionToken&& token) {
  return detail::async_stage<route_connection<factory_stream_t<Factory, asio::ip::tcp>>>(
      executor, [&factory, &r, &options] { return connect_route(factory, r, options); },
      std::forward<CompletionToken>(token));
}

}  // namespace opensock

#ifdef OPENSOCK_SEPARATE_COMPILATION
// Compiled once, where <opensock/impl/src.hpp> is included: the connect of every factory
// that answers with a TCP socket, at once or from a coroutine (tcp_factory_ref).
namespace opensock::detail {
extern template asio::awaitable<void> connect_within<tcp_factory_ref<false>>(
    tcp_factory_ref<false>&, const route&, const connect_options&, tls::context_cache*,
    request_watchdog*, std::chrono::steady_clock::time_point,
    route_connection<asio::ip::tcp::socket>&, tcp_attempts&, purpose, asio::cancellation_state);
extern template asio::awaitable<void> connect_within<tcp_factory_ref<true>>(
    tcp_factory_ref<true>&, const route&, const connect_options&, tls::context_cache*,
    request_watchdog*, std::chrono::steady_clock::time_point,
    route_connection<asio::ip::tcp::socket>&, tcp_attempts&, purpose, asio::cancellation_state);
}  // namespace opensock::detail
#endif

// The origin's stages alone, run by the same path without TLS.
#include <opensock/connector/connect_origin.hpp>
