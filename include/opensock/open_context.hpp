// What a socket factory is told about the socket it is asked to open: why, for which
// resolved endpoint (which it may rewrite), for which host and port, for which origin
// behind a proxy, which attempt, and the local end opensock binds it to.
#pragma once

#include <opensock/local_binding.hpp>
#include <opensock/origin.hpp>

#include <asio/any_io_executor.hpp>

#include <cstdint>
#include <string_view>

namespace opensock {

/// Why a socket is opened. libcurl has one value for both; opensock tells them apart so
/// a factory can treat the hop to a proxy differently from the origin.
enum class purpose {
  origin,  ///< a connection to the server named in the request
  proxy,   ///< a connection to a proxy that will reach the origin
};

/// Passed by reference to every factory call, once per connection attempt.
template <class Protocol>
struct open_context {
  using protocol_type = Protocol;
  using endpoint_type = typename Protocol::endpoint;

  opensock::purpose purpose = opensock::purpose::origin;
  /// The resolved address. A factory that changes it redirects the attempt: opensock
  /// connects the returned socket to this endpoint as the factory left it.
  endpoint_type endpoint{};
  /// The name and port being reached, as the caller gave them (not the address): the
  /// origin's, or for purpose::proxy the proxy's.
  std::string_view host{};
  std::uint16_t port = 0;
  /// "http", "https", "ws", … or "tcp" for a connect-only session; for purpose::proxy the
  /// proxy's ("http", "https", "socks4", "socks4a", "socks5", "socks5h").
  std::string_view scheme{};
  /// The origin the connection is for, which for purpose::proxy the proxy will reach:
  /// a guard may judge both. Null when the caller named none.
  const opensock::origin* origin = nullptr;
  /// For purpose::proxy: the origin behind the proxy was resolved and its address let
  /// through by the factory's refuses_origin() (guards_origins_v), the proxy to be asked
  /// for that address. An address guard lets the socket to the proxy pass only then.
  bool origin_checked = false;
  /// 1 for the first socket opened for this connection, then 2, 3, …
  unsigned attempt = 1;
  /// The executor the returned socket must use.
  asio::any_io_executor executor{};
  /// The local end opensock binds a socket the factory opened to before connecting it
  /// (the route's); null, or unbound, leaves it as the factory made it. A factory that
  /// binds the socket itself must not be given a route that does.
  const local_binding* local = nullptr;
};

}  // namespace opensock
