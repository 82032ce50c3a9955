// Factory layers that fix the local end of each connection before it is connected: a
// source address and port or port range (curl's --interface ADDRESS, --local-port), and
// a network device (SO_BINDTODEVICE, curl's --interface NAME). A bind that fails is
// error::interface_failed, curl's 45.
#pragma once

#include <opensock/error.hpp>
#include <opensock/factory/layer.hpp>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace opensock {

struct port_range {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
};

class bind_local_layer : public layer_base {
 public:
  bind_local_layer(std::optional<asio::ip::address> address, port_range ports)
      : address_(std::move(address)), ports_(ports) {}

  /// Binds opened sockets; an already connected one is left as it is. An address of the
  /// other family than the attempt's, or a port range with no port free (another
  /// attempt of the race may hold it), refuses that attempt with interface_failed; a
  /// bind that fails otherwise aborts with interface_failed.
  template <class Context, class Result>
  layer_verdict after(const Context& context, Result& result) const {
    if (result.what() != Result::kind::opened) return proceed;
    const bool v6 = context.endpoint.address().is_v6();
    if (address_ && address_->is_v6() != v6) return refuse(error::interface_failed);
    const asio::ip::address local =
        address_ ? *address_
                 : (v6 ? asio::ip::address(asio::ip::address_v6::any())
                       : asio::ip::address(asio::ip::address_v4::any()));
    auto& socket = result.stream();
    using endpoint_type = typename Context::endpoint_type;
    std::error_code ec;
    for (unsigned port = ports_.first;; ++port) {
      socket.bind(endpoint_type(local, static_cast<std::uint16_t>(port)), ec);
      if (!ec || port >= ports_.last || ec != asio::error::address_in_use) break;
    }
    if (ec == asio::error::address_in_use) return refuse(error::interface_failed);
    if (ec) return abort(error::interface_failed);
    return proceed;
  }

 private:
  std::optional<asio::ip::address> address_;
  port_range ports_;
};

/// Binds each socket to `address` (port chosen by the kernel).
inline bind_local_layer bind_local(asio::ip::address address) {
  return {std::move(address), {}};
}
/// Binds each socket to the first free port of `ports`, on any address.
inline bind_local_layer bind_local(port_range ports) {
  if (ports.last < ports.first) ports.last = ports.first;
  return {std::nullopt, ports};
}
/// Binds each socket to `address` and the first free port of `ports`.
inline bind_local_layer bind_local(asio::ip::address address, port_range ports) {
  if (ports.last < ports.first) ports.last = ports.first;
  return {std::move(address), ports};
}

/// Binds each socket to the network device `name` (SO_BINDTODEVICE; needs
/// CAP_NET_RAW). A device that does not exist aborts with interface_failed.
class bind_device : public layer_base {
 public:
  explicit bind_device(std::string name) : name_(std::move(name)) {}

  template <class Context, class Result>
  layer_verdict after(const Context&, Result& result) const {
    if (result.what() != Result::kind::opened) return proceed;
    const int fd = result.stream().native_handle();
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name_.c_str(),
                     static_cast<socklen_t>(name_.size() + 1)) != 0)
      return abort(error::interface_failed);
    return proceed;
  }

 private:
  std::string name_;
};

}  // namespace opensock
