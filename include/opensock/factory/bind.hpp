// Factory layers that fix the local end of each connection before it is connected, for
// a factory of its own rather than for a route (route::local): a source address and
// port or port range (curl's --interface ADDRESS, --local-port), and a network device
// (SO_BINDTODEVICE, curl's --interface NAME). A bind that fails is
// error::interface_failed, curl's 45.
#pragma once

#include <opensock/error.hpp>
#include <opensock/factory/layer.hpp>
#include <opensock/local_binding.hpp>

#include <asio/ip/address.hpp>

#include <string>
#include <utility>

namespace opensock {

class bind_local_layer : public layer_base {
 public:
  explicit bind_local_layer(local_binding binding) : binding_(std::move(binding)) {}

  /// Binds opened sockets; an already connected one is left as it is. An address of the
  /// other family than the attempt's, or a port range with no port free (another
  /// attempt of the race may hold it), refuses that attempt with interface_failed; a
  /// bind that fails otherwise aborts with interface_failed.
  template <class Context, class Result>
  layer_verdict after(const Context& context, Result& result) const {
    if (result.what() != Result::kind::opened) return proceed;
    switch (detail::bind_socket(result.stream(), binding_, context.endpoint.address().is_v6())) {
      case detail::bind_outcome::bound: return proceed;
      case detail::bind_outcome::refused: return refuse(error::interface_failed);
      case detail::bind_outcome::failed: break;
    }
    return abort(error::interface_failed);
  }

  const local_binding& binding() const noexcept { return binding_; }

 private:
  local_binding binding_;
};

/// Binds each socket to `address` (port chosen by the kernel).
inline bind_local_layer bind_local(asio::ip::address address) {
  return bind_local_layer(local_binding(address));
}
/// Binds each socket to the first free port of `ports`, on any address.
inline bind_local_layer bind_local(port_range ports) {
  return bind_local_layer(local_binding(ports));
}
/// Binds each socket to `address` and the first free port of `ports`.
inline bind_local_layer bind_local(asio::ip::address address, port_range ports) {
  return bind_local_layer(local_binding(address, ports));
}

/// Binds each socket to the network device `name` (SO_BINDTODEVICE; needs
/// CAP_NET_RAW). A device that does not exist aborts with interface_failed.
inline bind_local_layer bind_device(std::string name) {
  local_binding binding;
  binding.device = std::move(name);
  return bind_local_layer(std::move(binding));
}

}  // namespace opensock
