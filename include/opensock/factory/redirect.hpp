// A factory layer that sends every attempt to another address: a sidecar, a test
// server, a fixed backend. The host, port and scheme the caller asked for are unchanged.
#pragma once

#include <opensock/factory/layer.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>

namespace opensock {

class redirect_layer : public layer_base {
 public:
  redirect_layer(asio::ip::address address, std::optional<std::uint16_t> port)
      : address_(address), port_(port) {}

  template <class Context>
  layer_verdict before(Context& context) const {
    context.endpoint.address(address_);
    if (port_) context.endpoint.port(*port_);
    return proceed;
  }

 private:
  asio::ip::address address_;
  std::optional<std::uint16_t> port_;
};

/// Connects to `address` instead of the resolved address, on the resolved port.
inline redirect_layer redirect_to(asio::ip::address address) { return {address, std::nullopt}; }

/// Connects to `address` and `port` instead of the resolved endpoint.
inline redirect_layer redirect_to(asio::ip::address address, std::uint16_t port) {
  return {address, port};
}

}  // namespace opensock
