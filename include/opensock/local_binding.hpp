// The local end of a connection's sockets: a source address and port or port range
// (curl's --interface ADDRESS, --local-port) and a network device (SO_BINDTODEVICE,
// curl's --interface NAME). A route carries one, the connector binds each socket the
// factory opened by it before connecting it, and the bind_local() factory layers use
// the same code. A bind that fails is error::interface_failed, curl's 45.
#pragma once

#include <opensock/error.hpp>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace opensock {

/// Local ports from `first` to `last`; {0, 0} leaves the choice to the kernel.
struct port_range {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  friend bool operator==(const port_range&, const port_range&) = default;
};

// A constructor rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct local_binding {
  local_binding() {}
  explicit local_binding(asio::ip::address address) : address(address) {}
  explicit local_binding(port_range ports) : ports(ordered(ports)) {}
  local_binding(asio::ip::address address, port_range ports)
      : address(address), ports(ordered(ports)) {}

  /// The source address; unset, any address of the attempt's family.
  std::optional<asio::ip::address> address;
  /// The source port: the first free one of the range.
  port_range ports;
  /// The network device the socket is bound to (SO_BINDTODEVICE, needs CAP_NET_RAW);
  /// empty for none.
  std::string device;

  /// Whether it leaves sockets as they are opened.
  bool unbound() const noexcept { return !address && ports == port_range() && device.empty(); }

  friend bool operator==(const local_binding&, const local_binding&) = default;

 private:
  static port_range ordered(port_range ports) noexcept {
    if (ports.last < ports.first) ports.last = ports.first;
    return ports;
  }
};

namespace detail {

enum class bind_outcome {
  bound,
  /// Not for this attempt: an address of the other family, or no port of the range
  /// free (another attempt of the race may hold one); the next address is tried.
  refused,
  /// A bind that cannot work for any address: the connect ends.
  failed,
};

/// Binds `socket`, opened for an endpoint of IPv6 or not as `v6` says, as `binding` says.
template <class Socket>
bind_outcome bind_socket(Socket& socket, const local_binding& binding, bool v6) {
  if (!binding.device.empty()) {
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, binding.device.c_str(),
                     static_cast<socklen_t>(binding.device.size() + 1)) != 0)
      return bind_outcome::failed;
  }
  if (!binding.address && binding.ports == port_range()) return bind_outcome::bound;
  if (binding.address && binding.address->is_v6() != v6) return bind_outcome::refused;
  const asio::ip::address local =
      binding.address ? *binding.address
                      : (v6 ? asio::ip::address(asio::ip::address_v6::any())
                            : asio::ip::address(asio::ip::address_v4::any()));
  using endpoint_type = typename Socket::endpoint_type;
  std::error_code ec;
  for (unsigned port = binding.ports.first;; ++port) {
    socket.bind(endpoint_type(local, static_cast<std::uint16_t>(port)), ec);
    if (!ec || port >= binding.ports.last || ec != asio::error::address_in_use) break;
  }
  if (ec == asio::error::address_in_use) return bind_outcome::refused;
  return ec ? bind_outcome::failed : bind_outcome::bound;
}

}  // namespace detail

}  // namespace opensock
