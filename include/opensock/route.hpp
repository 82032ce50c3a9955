// What a connection is for: the origin it finally reaches and how it gets there (the
// proxies it passes, where its sockets go, by which addresses, from which local end; TLS
// to the origin and its settings). Connections are pooled by route, never by origin
// alone, and the connector makes one from a route.
#pragma once

#include <opensock/connector/name_overrides.hpp>
#include <opensock/detail/same_text.hpp>
#include <opensock/local_binding.hpp>
#include <opensock/origin.hpp>
#include <opensock/proxy.hpp>
#include <opensock/proxy_protocol.hpp>
#include <opensock/tls/options.hpp>

#include <asio/ip/address.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opensock {

/// Whether connections for `scheme` run TLS to the origin: https and wss.
inline bool is_tls_scheme(std::string_view scheme) noexcept {
  return scheme == "https" || scheme == "wss";
}

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct route {
  route() = default;
  /// To `target` directly, with TLS when its scheme asks for it: made with `tls`, or
  /// with the default settings.
  explicit route(opensock::origin target)
      : origin(std::move(target)), secure(is_tls_scheme(origin.scheme)) {}
  route(opensock::origin target, tls::options tls)
      : origin(std::move(target)), secure(is_tls_scheme(origin.scheme)), tls(std::move(tls)) {}
  /// To `target` directly, with TLS or without it whatever the scheme says (a
  /// connect-only session reaching a TLS service on a "tcp" origin).
  route(opensock::origin target, bool secure) : origin(std::move(target)), secure(secure) {}
  route(opensock::origin target, bool secure, tls::options tls)
      : origin(std::move(target)), secure(secure), tls(std::move(tls)) {}

  /// The server the connection finally reaches: what Host and SNI name.
  opensock::origin origin;
  /// TLS to the origin, made with tls_settings().
  bool secure = false;
  /// The settings of TLS to the origin; unset, the defaults (tls::options()), so that a
  /// route without TLS neither makes nor copies any.
  std::optional<tls::options> tls;

  /// The proxies the connection passes, nearest first (curl's --preproxy, then its
  /// --proxy): the sockets go to the first, each is asked to reach the next and the last
  /// to reach the origin (its host and port to reach).
  std::vector<proxy> proxies;
  /// Whether an HTTP proxy last forwards the requests for an http origin, written to it
  /// in absolute form, as an HTTP session has it do (curl's default, without
  /// --proxytunnel); otherwise it is asked for a tunnel. TLS to the origin, and an origin
  /// that is not http (ws, a connect-only session's), always take a tunnel.
  bool forward = false;

  /// Where the sockets go when not to the origin itself (curl's --connect-to): empty,
  /// the origin's host; 0, its port. The request and TLS still name the origin.
  std::string connect_host;
  std::uint16_t connect_port = 0;
  /// The addresses of the host the sockets go to, given rather than looked up (curl's
  /// --resolve), whatever `version` says; empty, the name is resolved.
  std::vector<asio::ip::address> addresses;
  /// The addresses a lookup may give (curl's -4/-6).
  ip_version version = ip_version::any;
  /// The local end of each socket the factory opens (curl's --interface, --local-port),
  /// bound before it is connected; a socket the factory connected itself is left as it is.
  local_binding local;
  /// The PROXY protocol line each connection opens with, after any tunnel and before TLS
  /// (curl's --haproxy-protocol); unset, none.
  std::optional<proxy_protocol_header> proxy_header;

  /// The host and port the last proxy is asked to reach, or without proxies the sockets
  /// go to.
  std::string_view host_to_reach() const noexcept {
    return connect_host.empty() ? std::string_view(origin.host) : std::string_view(connect_host);
  }
  std::uint16_t port_to_reach() const noexcept { return connect_port ? connect_port : origin.port; }

  /// Whether the last proxy is an HTTP one that forwards the requests, written to it in
  /// absolute form, rather than a tunnel to the origin: any http origin can then be
  /// reached over the same connection.
  bool forwarded() const noexcept {
    return forward && !proxies.empty() && is_http(proxies.back().kind) && !secure &&
           origin.scheme == "http";
  }

  /// Where the sockets go: the first proxy, else the host and port to reach.
  network_target first_hop() const noexcept {
    if (!proxies.empty()) return {proxies.front().host, proxies.front().port};
    return {host_to_reach(), port_to_reach()};
  }

  /// Steers the route as curl's name options say for its origin: the first matching
  /// --connect-to rule, the addresses the most specific --resolve entry gives where that
  /// leads, and -4/-6.
  void apply_names(const resolve_options& names) {
    const network_target target = apply_connect_to(names, origin.host, origin.port);
    connect_host = detail::same_text(target.host, origin.host) ? std::string()
                                                                 : std::string(target.host);
    connect_port = target.port == origin.port ? 0 : target.port;
    addresses.clear();
    if (const resolve_override* entry = best_override(names, target.host, target.port))
      addresses = entry->addresses;
    version = names.version;
  }

  /// The settings TLS to the origin is made with.
  const tls::options& tls_settings() const {
    static const tls::options defaults;
    return tls ? *tls : defaults;
  }

  /// Whether a connection made for this route can carry a request to `scheme`, `host`
  /// and `port` through `via`, forwarded or not as `forward` says, made under
  /// `settings`, where everything else of a route follows from those (one session's
  /// routes): the proxies are the same, and so is the origin (any http one, when the
  /// last proxy forwards) and the TLS settings where TLS is used.
  bool serves(std::string_view scheme, std::string_view host, std::uint16_t port,
              std::span<const proxy> via, bool forward, const tls::options& settings) const {
    if (!std::equal(proxies.begin(), proxies.end(), via.begin(), via.end())) return false;
    if (forward != this->forward) return false;
    if (forwarded()) return scheme == "http";
    return origin.port == port && detail::same_text(origin.host, host) &&
           detail::same_text(origin.scheme, scheme) && (!secure || tls_settings() == settings);
  }

  friend bool operator==(const route& a, const route& b) {
    return a.origin == b.origin && a.secure == b.secure &&
           (!a.secure || a.tls_settings() == b.tls_settings()) &&
           a.proxies == b.proxies && a.forward == b.forward && a.connect_host == b.connect_host &&
           a.connect_port == b.connect_port &&
           a.addresses == b.addresses && a.version == b.version && a.local == b.local &&
           a.proxy_header == b.proxy_header;
  }
};

}  // namespace opensock
