// What a connection is for: the origin it finally reaches and how it gets there (TLS
// to the origin and its settings; later the proxies it passes). Connections are pooled
// by route, never by origin alone, and the connector makes one from a route.
#pragma once

#include <opensock/detail/same_text.hpp>
#include <opensock/origin.hpp>
#include <opensock/tls/options.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

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

  /// The settings TLS to the origin is made with.
  const tls::options& tls_settings() const {
    static const tls::options defaults;
    return tls ? *tls : defaults;
  }

  /// Whether a connection made for this route can carry a request to `scheme`, `host`
  /// and `port` made under `tls_settings`: the origin is the same, and so are the TLS
  /// settings where TLS is used.
  bool serves(std::string_view scheme, std::string_view host, std::uint16_t port,
              const tls::options& settings) const {
    return origin.port == port && detail::same_text(origin.host, host) &&
           detail::same_text(origin.scheme, scheme) && (!secure || tls_settings() == settings);
  }

  friend bool operator==(const route& a, const route& b) {
    return a.origin == b.origin && a.secure == b.secure &&
           (!a.secure || a.tls_settings() == b.tls_settings());
  }
};

}  // namespace opensock
