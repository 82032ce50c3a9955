// An IP network in CIDR notation ("10.0.0.0/8", "fd00::/8") and the test whether an
// address lies in it, IPv4 networks also matching IPv4-mapped and -compatible IPv6.
#pragma once

#include <asio/ip/address.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opensock {

class cidr {
 public:
  /// "ADDRESS/PREFIX" or a bare address (a single host). Host bits set below the prefix
  /// are not an error ("10.1.2.3/8" is 10.0.0.0/8), as with ip route. Anything else,
  /// including a prefix longer than the address, gives nullopt.
  static std::optional<cidr> parse(std::string_view text) {
    const auto slash = text.find('/');
    std::error_code ec;
    const auto address = asio::ip::make_address(text.substr(0, slash), ec);
    if (ec) return std::nullopt;
    const unsigned max = address.is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
      const std::string_view digits = text.substr(slash + 1);
      const auto [end, parse_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (parse_ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
          prefix > max)
        return std::nullopt;
    }
    return cidr(address, prefix);
  }

  cidr(const asio::ip::address& network, unsigned prefix_length)
      : v4_(network.is_v4()), prefix_(prefix_length), bytes_(to_bytes(network)) {
    const unsigned max = v4_ ? 32 : 128;
    if (prefix_ > max) prefix_ = max;
    mask_host_bits();
  }

  /// Whether `address` lies in this network. An IPv4 network also contains the IPv6
  /// addresses that carry one of its addresses as IPv4-mapped (::ffff:a.b.c.d) or
  /// IPv4-compatible (::a.b.c.d); an IPv6 network contains the IPv4-mapped form of an
  /// IPv4 address, so ::/0 and ::ffff:0:0/96 contain every IPv4 address.
  bool contains(const asio::ip::address& address) const noexcept {
    if (v4_) {
      const auto v4 = embedded_v4(address);
      return v4 && prefix_matches(*v4, 4);
    }
    const auto v6 = address.is_v4()
                        ? asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes()
                        : address.to_v6().to_bytes();
    return prefix_matches(std::array<unsigned char, 16>(v6), 16);
  }

  asio::ip::address network() const {
    if (v4_) return asio::ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]});
    asio::ip::address_v6::bytes_type b;
    for (std::size_t i = 0; i < 16; ++i) b[i] = bytes_[i];
    return asio::ip::address_v6(b);
  }
  unsigned prefix_length() const noexcept { return prefix_; }
  std::string to_string() const { return network().to_string() + "/" + std::to_string(prefix_); }

  friend bool operator==(const cidr&, const cidr&) = default;

  /// The IPv4 address that `address` is or carries as IPv4-mapped or -compatible
  /// IPv6; nullopt for any other address. :: and ::1 are not IPv4-compatible.
  static std::optional<std::array<unsigned char, 16>> embedded_v4(
      const asio::ip::address& address) noexcept {
    std::array<unsigned char, 16> out{};
    if (address.is_v4()) {
      const auto b = address.to_v4().to_bytes();
      for (std::size_t i = 0; i < 4; ++i) out[i] = b[i];
      return out;
    }
    const auto b = address.to_v6().to_bytes();
    for (std::size_t i = 0; i < 10; ++i)
      if (b[i] != 0) return std::nullopt;
    const bool mapped = b[10] == 0xff && b[11] == 0xff;
    const bool compatible = b[10] == 0 && b[11] == 0 &&
                            (b[12] | b[13] | b[14]) != 0;  // excludes :: and ::1
    if (!mapped && !compatible) return std::nullopt;
    for (std::size_t i = 0; i < 4; ++i) out[i] = b[12 + i];
    return out;
  }

 private:
  static std::array<unsigned char, 16> to_bytes(const asio::ip::address& address) {
    std::array<unsigned char, 16> out{};
    if (address.is_v4()) {
      const auto b = address.to_v4().to_bytes();
      for (std::size_t i = 0; i < 4; ++i) out[i] = b[i];
    } else {
      const auto b = address.to_v6().to_bytes();
      for (std::size_t i = 0; i < 16; ++i) out[i] = b[i];
    }
    return out;
  }

  bool prefix_matches(const std::array<unsigned char, 16>& candidate, std::size_t size) const noexcept {
    unsigned bits = prefix_;
    for (std::size_t i = 0; i < size && bits > 0; ++i) {
      const unsigned take = bits >= 8 ? 8 : bits;
      const auto mask = static_cast<unsigned char>(0xff << (8 - take));
      if ((candidate[i] & mask) != bytes_[i]) return false;
      bits -= take;
    }
    return true;
  }

  void mask_host_bits() noexcept {
    unsigned bits = prefix_;
    for (auto& byte : bytes_) {
      const unsigned keep = bits >= 8 ? 8 : bits;
      byte = static_cast<unsigned char>(byte & (keep == 0 ? 0 : 0xff << (8 - keep)));
      bits -= keep;
    }
  }

  bool v4_;
  unsigned prefix_;
  std::array<unsigned char, 16> bytes_;
};

}  // namespace opensock
