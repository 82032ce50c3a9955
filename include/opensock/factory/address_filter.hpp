// Factory layers that refuse addresses by network: deny() refuses the listed networks,
// allow() refuses everything else. They judge the origin: the endpoint as it reaches them,
// so `f | redirect | deny` checks the original address and `f | deny | redirect` the new
// one; behind proxies, each address of the origin, resolved here before any proxy is
// asked for it (guards_origins_v), when the socket to a proxy the application named
// passes. Under a factory that hides them from the connector, they judge the proxy's
// address instead.
#pragma once

#include <opensock/cidr.hpp>
#include <opensock/error.hpp>
#include <opensock/factory/layer.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock {
namespace detail {

inline std::vector<cidr> parse_networks(std::initializer_list<std::string_view> texts) {
  std::vector<cidr> networks;
  networks.reserve(texts.size());
  for (std::string_view text : texts) {
    auto parsed = cidr::parse(text);
    if (!parsed)
      throw std::system_error(error::bad_function_argument,
                              "not an IP network: " + std::string(text));
    networks.push_back(*parsed);
  }
  return networks;
}

inline bool any_contains(const std::vector<cidr>& networks, const asio::ip::address& address) {
  for (const auto& network : networks)
    if (network.contains(address)) return true;
  return false;
}

}  // namespace detail

class address_filter : public layer_base {
 public:
  enum class mode { deny_listed, allow_listed };

  address_filter(mode m, std::vector<cidr> networks) : mode_(m), networks_(std::move(networks)) {}

  /// Whether the layer refuses `address`.
  bool refuses(const asio::ip::address& address) const {
    const bool listed = detail::any_contains(networks_, address);
    return mode_ == mode::deny_listed ? listed : !listed;
  }

  template <class Context>
  layer_verdict before(const Context& context) const {
    if (!context.origin_checked && refuses(context.endpoint.address())) return refuse();
    return proceed;
  }

  const std::vector<cidr>& networks() const noexcept { return networks_; }

 private:
  mode mode_;
  std::vector<cidr> networks_;
};

/// Refuses every address in `networks`. The strings form throws std::system_error
/// (bad_function_argument) for a string that is not an address or CIDR network.
inline address_filter deny(std::vector<cidr> networks) {
  return {address_filter::mode::deny_listed, std::move(networks)};
}
inline address_filter deny(std::initializer_list<std::string_view> networks) {
  return deny(detail::parse_networks(networks));
}

/// Refuses every address outside `networks`.
inline address_filter allow(std::vector<cidr> networks) {
  return {address_filter::mode::allow_listed, std::move(networks)};
}
inline address_filter allow(std::initializer_list<std::string_view> networks) {
  return allow(detail::parse_networks(networks));
}

}  // namespace opensock
