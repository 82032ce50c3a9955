// The hop handshakes of a route, a stage after the connect to its first proxy: each
// proxy is asked to reach the next, and the last to reach the origin, unless it is an
// HTTP proxy that forwards the route's requests. An HTTP proxy is asked for a CONNECT
// tunnel to the name. A SOCKS5h or SOCKS4a proxy is given the name; for SOCKS5 and
// SOCKS4 the name is resolved here, as curl does, and the proxy given the first address
// (the first IPv4 one for SOCKS4). An HTTPS proxy is an HTTP proxy reached through a TLS
// layer of its own. Under a factory that guards origins, the origin is resolved and
// checked first (guarded_origin()), and the last proxy, whatever its kind, asked for the
// address let through.
#pragma once

#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/connector/socks.hpp>
#include <opensock/detail/read_ahead_layer.hpp>
#include <opensock/error.hpp>
#include <opensock/http/connect_tunnel.hpp>
#include <opensock/proxy.hpp>
#include <opensock/route.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/transport.hpp>

#if OPENSOCK_HAS_TLS
#include <opensock/tls/context.hpp>
#include <opensock/tls/layer.hpp>
#endif

#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/address.hpp>
#include <asio/this_coro.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <system_error>

namespace opensock {
namespace detail {

// The address a SOCKS proxy of `kind` that does not resolve names is given for
// `host`:`port`: from `given` (curl's --resolve) or a lookup, the first of them, the
// first IPv4 one for SOCKS4. `is_proxy`: the host is a further proxy, whose name that
// does not resolve is couldnt_resolve_proxy (5) rather than couldnt_resolve_host (6).
inline asio::awaitable<std::error_code> resolve_for_socks(
    proxy_kind kind, std::string_view host, std::uint16_t port,
    std::span<const asio::ip::address> given, ip_version version, bool is_proxy,
    asio::cancellation_state stop, std::string& address) {
  auto found = co_await resolve(std::string(host), port, given, version, stop);
  if (found.error) {
    co_return is_proxy && found.error == condition::couldnt_resolve_host
        ? make_error_code(error::couldnt_resolve_proxy)
        : found.error;
  }
  for (const auto& endpoint : found.endpoints) {
    if (kind == proxy_kind::socks4 && !endpoint.address().is_v4()) continue;
    address = endpoint.address().to_string();
    co_return std::error_code{};
  }
  co_return error::proxy_resolve_host;  // SOCKS4, and the name has IPv6 addresses only
}

}  // namespace detail

/// Resolves the route's host to reach (the origin, or where --connect-to sends it), with
/// its `addresses` and IP version, and sets `checked` to the first address that
/// `refuses` (a predicate on addresses) lets through, in the order attempts take them:
/// the address its last proxy is to reach. IPv4 only when that proxy speaks SOCKS4.
/// Every address refused is refused_by_socket_factory (7); a name without an address
/// SOCKS4 can carry, proxy_resolve_host (97).
template <class Refuses>
asio::awaitable<std::error_code> guarded_origin(const route& r, const Refuses& refuses,
                                                asio::cancellation_state stop,
                                                asio::ip::address& checked) {
  const proxy_kind last = r.proxies.back().kind;
  const bool v4_only = last == proxy_kind::socks4 || last == proxy_kind::socks4a;
  auto found = co_await resolve(std::string(r.host_to_reach()), r.port_to_reach(), r.addresses,
                                r.version, stop);
  if (found.error) co_return found.error;
  bool carried = false;
  for (const auto& endpoint : interleave_families(std::move(found.endpoints))) {
    if (v4_only && !endpoint.address().is_v4()) continue;
    carried = true;
    if (refuses(endpoint.address())) continue;
    checked = endpoint.address();
    co_return std::error_code{};
  }
  co_return carried ? error::refused_by_socket_factory : error::proxy_resolve_host;
}

/// Runs the handshakes of `r`'s proxies over `stream`, connected to the first of them:
/// TLS to each HTTPS proxy, pushed over the stream with the proxy's `tls` options (a
/// context from `contexts`, or made for it when null), and each proxy asked to reach the
/// next, the last to reach the route's host and port to reach (the origin, or where
/// --connect-to sends it); a last proxy that forwards the route's requests is asked
/// nothing. `answer` gets what the last HTTP proxy asked for a tunnel answered, when one
/// was. `checked`, when given, is the origin's address that a guard let through
/// (guarded_origin()): the last proxy is asked for it, never for the name, and an HTTP
/// proxy for a tunnel even where it would forward. `auth`, when given, carries the last
/// proxy's tunnel authentication to a new connection (http::tunnel_auth: the proxy closed
/// the connection after a 407 it answers). Terminal cancellation by `stop`, by default the
/// coroutine's own, ends it with operation_aborted. On failure the caller closes the
/// stream.
template <class Stream>
asio::awaitable<std::error_code> through_proxies(transport<Stream>& stream, const route& r,
                                                 http::proxy_answer& answer,
                                                 const asio::ip::address* checked = nullptr,
                                                 [[maybe_unused]] tls::context_cache* contexts =
                                                     nullptr,
                                                 asio::cancellation_state stop = {},
                                                 http::tunnel_auth* auth = nullptr) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  const bool forwards = r.forwarded() && !checked;
  const std::string checked_text = checked ? checked->to_string() : std::string();
  for (std::size_t i = 0; i < r.proxies.size(); ++i) {
    const proxy& via = r.proxies[i];
    const bool last = i + 1 == r.proxies.size();
    std::error_code ec;
    if (via.kind == proxy_kind::https) {
#if OPENSOCK_HAS_TLS
      auto context =
          contexts ? tls::context_for(*contexts, via.tls, ec) : tls::make_context(via.tls, ec);
      std::string alpn;
      if (!ec) ec = co_await tls::secure(stream, std::move(context), via.host, via.tls, alpn, stop);
      if (ec) co_return ec;
#else
      co_return error::not_built_in;  // TLS to the proxy, as curl built without TLS
#endif
    }
    if (last && forwards) break;
    const std::string_view host = !last    ? std::string_view(r.proxies[i + 1].host)
                                  : checked ? std::string_view(checked_text)
                                            : r.host_to_reach();
    const std::uint16_t port = last ? r.port_to_reach() : r.proxies[i + 1].port;
    if (is_http(via.kind)) {
      ec = co_await http::connect_tunnel(stream, via, host, port, answer, {}, stop,
                                         last ? auth : nullptr);
      if (!ec && !answer.early_bytes.empty()) {
        stream.push(std::make_unique<detail::read_ahead_layer<Stream>>(
            stream.top(), std::move(answer.early_bytes)));
        answer.early_bytes.clear();
      }
    } else if (resolves_remotely(via.kind) || (last && checked)) {
      ec = co_await socks_handshake(stream, via, host, port, stop);
    } else {
      std::string address;
      const auto given = last ? std::span<const asio::ip::address>(r.addresses)
                              : std::span<const asio::ip::address>();
      ec = co_await detail::resolve_for_socks(via.kind, host, port, given, r.version, !last, stop,
                                              address);
      if (!ec) ec = co_await socks_handshake(stream, via, address, port, stop);
    }
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

}  // namespace opensock
