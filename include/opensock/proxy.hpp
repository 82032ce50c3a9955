// A proxy a connection goes through: its kind (HTTP, HTTP/1.0, HTTPS, SOCKS4, SOCKS4a,
// SOCKS5, SOCKS5h), where it listens and the credentials it is given, read from curl's -x
// syntax: [scheme://][user[:password]@]host[:port].
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/auth_scheme.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/tls/options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock {

enum class proxy_kind {
  http,     ///< HTTP/1.1 proxy: forwarding for http, a CONNECT tunnel otherwise
  http_1_0,  ///< the same, asked for tunnels in HTTP/1.0 (curl's --proxy1.0)
  https,    ///< the same over TLS to the proxy
  socks4,   ///< SOCKS4: the origin resolved here, IPv4 only
  socks4a,  ///< SOCKS4a: the origin's name resolved by the proxy
  socks5,   ///< SOCKS5: the origin resolved here
  socks5h,  ///< SOCKS5: the origin's name resolved by the proxy
};

/// Whether the proxy speaks HTTP (over TLS for HTTPS): it forwards requests or tunnels.
constexpr bool is_http(proxy_kind kind) noexcept {
  return kind == proxy_kind::http || kind == proxy_kind::http_1_0 || kind == proxy_kind::https;
}

/// Whether the proxy is a SOCKS proxy.
constexpr bool is_socks(proxy_kind kind) noexcept { return !is_http(kind); }

/// Whether a SOCKS proxy of `kind` is given the origin's name rather than its address.
constexpr bool resolves_remotely(proxy_kind kind) noexcept {
  return kind == proxy_kind::socks4a || kind == proxy_kind::socks5h;
}

/// The scheme curl writes for `kind`.
constexpr std::string_view scheme_of(proxy_kind kind) noexcept {
  switch (kind) {
    case proxy_kind::http:
    case proxy_kind::http_1_0: return "http";
    case proxy_kind::https: return "https";
    case proxy_kind::socks4: return "socks4";
    case proxy_kind::socks4a: return "socks4a";
    case proxy_kind::socks5: return "socks5";
    case proxy_kind::socks5h: return "socks5h";
  }
  return "http";
}

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct proxy {
  proxy() {}
  /// A proxy of `kind` at `host` and `port` (curl's defaults: 443 for HTTPS, 1080 else).
  proxy(proxy_kind kind, std::string host, std::uint16_t port = 0)
      : kind(kind), host(std::move(host)), port(port ? port : default_port(kind)) {}

  proxy_kind kind = proxy_kind::http;
  /// A name or an IP literal (IPv6 without brackets).
  std::string host;
  std::uint16_t port = 1080;
  /// Credentials for an HTTP(S) proxy, RFC 1929's for SOCKS5, the user id for SOCKS4
  /// (which has no password); empty user: none given.
  std::string user;
  std::string password;
  /// The schemes an HTTP(S) proxy is given them with (curl's CURLOPT_PROXYAUTH): Basic
  /// alone by default, sent before any challenge (--proxy-basic); Digest, or Basic and
  /// Digest (--proxy-digest, --proxy-anyauth), answer the proxy's 407, on the same
  /// connection for a tunnel when the proxy keeps it open. Bearer is never sent to a proxy.
  http::auth_schemes auth = http::auth_scheme::basic;
  /// Fields added to the CONNECT request when this HTTP proxy makes a tunnel (curl's
  /// --proxy-header, Go's ProxyConnectHeader). A Host, Proxy-Authorization or
  /// Proxy-Connection among them replaces opensock's; a User-Agent first among them goes
  /// where curl writes the one of -A.
  http::fields connect_headers;
  /// Fields added after a request's own to each request this HTTP proxy forwards rather
  /// than tunnels (curl's --proxy-header there).
  http::fields forward_headers;
  /// TLS to an HTTPS proxy (curl's --proxy-cacert, --proxy-capath, --proxy-insecure,
  /// --proxy-cert, --proxy-key): by default verified against the system's store, the
  /// certificate checked against `host`.
  tls::options tls;

  /// Whether this HTTP(S) proxy's credentials answer its 407 rather than go unasked: a
  /// user is given, and `auth` allows more than Basic.
  bool answers_challenges() const noexcept {
    return is_http(kind) && !user.empty() && auth != http::auth_scheme::basic;
  }

  static constexpr std::uint16_t default_port(proxy_kind kind) noexcept {
    return kind == proxy_kind::https ? 443 : 1080;
  }

  /// Reads curl's -x syntax: `[scheme://][user[:password]@]host[:port][/...]`, schemes
  /// http, https, socks4 (or socks), socks4a, socks5 and socks5h in any case, http when
  /// there is none; the user and password percent-decoded; an IPv6 host in brackets; a
  /// path, query or fragment left out.
  /// An unknown scheme is couldnt_connect (7), as curl says; anything else malformed
  /// couldnt_resolve_proxy (5).
  static std::optional<proxy> parse(std::string_view text, std::error_code& ec);

  friend bool operator==(const proxy&, const proxy&) = default;
};

}  // namespace opensock

#include <opensock/impl/proxy.hpp>
