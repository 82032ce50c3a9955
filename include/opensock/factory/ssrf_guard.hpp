// A ready SSRF guard: a factory layer that refuses every address a server-side request
// should not reach, including IPv4 addresses smuggled inside IPv6 (mapped, compatible,
// NAT64, 6to4) and the cloud metadata endpoints.
#pragma once

#include <opensock/cidr.hpp>
#include <opensock/factory/address_filter.hpp>
#include <opensock/factory/layer.hpp>

#include <asio/ip/address.hpp>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace opensock {

class ssrf_guard_layer : public layer_base {
 public:
  ssrf_guard_layer() = default;

  /// Lets `networks` through although the guard would refuse them (an internal
  /// service the application may reach, say). Checked before the guard's own lists.
  ssrf_guard_layer& except(std::vector<cidr> networks) {
    exceptions_.insert(exceptions_.end(), networks.begin(), networks.end());
    return *this;
  }
  ssrf_guard_layer& except(std::initializer_list<std::string_view> networks) {
    return except(detail::parse_networks(networks));
  }

  /// Whether the guard refuses `address`.
  bool refuses(const asio::ip::address& address) const {
    if (detail::any_contains(exceptions_, address)) return false;
    if (address.is_v4()) return refuses_v4(address.to_v4());
    const auto v6 = address.to_v6();
    if (detail::any_contains(blocked_v6(), address)) return true;
    const auto carried = carried_v4(v6);
    return carried && refuses_v4(*carried);
  }

  /// Judges the origin: the address a socket goes to, or behind proxies each address of
  /// the origin, resolved here (guards_origins_v), when the socket to the proxy passes.
  /// Under a factory that hides the guard from the connector, the proxy's address is
  /// judged instead.
  template <class Context>
  layer_verdict before(const Context& context) const {
    if (!context.origin_checked && refuses(context.endpoint.address())) return refuse();
    return proceed;
  }

 private:
  static const std::vector<cidr>& blocked_v4() {
    static const std::vector<cidr> networks = detail::parse_networks({
        "0.0.0.0/8",        // "this network", unspecified
        "10.0.0.0/8",       // private (RFC 1918)
        "100.64.0.0/10",    // carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",      // loopback
        "169.254.0.0/16",   // link-local, with the metadata service 169.254.169.254
        "168.63.129.16/32", // Azure's platform endpoint (metadata, DNS, health)
        "172.16.0.0/12",    // private
        "192.0.0.0/24",     // IETF protocol assignments
        "192.168.0.0/16",   // private
        "198.18.0.0/15",    // benchmarking
        "224.0.0.0/4",      // multicast
        "240.0.0.0/4",      // reserved, and 255.255.255.255 broadcast
    });
    return networks;
  }

  static const std::vector<cidr>& blocked_v6() {
    static const std::vector<cidr> networks = detail::parse_networks({
        "::/96",           // unspecified, loopback and deprecated IPv4-compatible
        "fe80::/10",       // link-local
        "fec0::/10",       // site-local (deprecated, still routed by some stacks)
        "fc00::/7",        // unique local, with the metadata service fd00:ec2::254
        "ff00::/8",        // multicast
        "2001::/32",       // Teredo: tunnels to an IPv4 host
        "100::/64",        // discard-only
        "64:ff9b:1::/48",  // local-use NAT64 (RFC 8215): reaches local networks
    });
    return networks;
  }

  static bool refuses_v4(const asio::ip::address_v4& v4) {
    return detail::any_contains(blocked_v4(), asio::ip::address(v4));
  }

  // The IPv4 address an IPv6 address leads to: IPv4-mapped, the SIIT form
  // ::ffff:0:a.b.c.d, the well-known NAT64 prefix 64:ff9b::/96, and 6to4 (2002::/16).
  static std::optional<asio::ip::address_v4> carried_v4(const asio::ip::address_v6& v6) {
    const auto b = v6.to_bytes();
    auto v4_at = [&](std::size_t i) {
      return asio::ip::address_v4({b[i], b[i + 1], b[i + 2], b[i + 3]});
    };
    if (auto embedded = cidr::embedded_v4(asio::ip::address(v6)))
      return asio::ip::address_v4({(*embedded)[0], (*embedded)[1], (*embedded)[2], (*embedded)[3]});
    static const cidr nat64 = *cidr::parse("64:ff9b::/96");
    static const cidr siit = *cidr::parse("::ffff:0:0:0/96");
    static const cidr six_to_four = *cidr::parse("2002::/16");
    if (nat64.contains(v6) || siit.contains(v6)) return v4_at(12);
    if (six_to_four.contains(v6)) return v4_at(2);
    return std::nullopt;
  }

  std::vector<cidr> exceptions_;
};

/// The ready SSRF guard: `factory | opensock::ssrf_guard()`.
inline ssrf_guard_layer ssrf_guard() { return {}; }

}  // namespace opensock
