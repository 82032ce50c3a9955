// Definitions for opensock/proxy.hpp: reading curl's -x syntax.
#pragma once

#include <opensock/detail/percent_decoded.hpp>
#include <opensock/detail/same_text.hpp>
#include <opensock/proxy.hpp>

#include <asio/ip/address.hpp>

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace opensock {
namespace detail {

inline std::optional<proxy_kind> proxy_kind_of(std::string_view scheme) noexcept {
  if (iequals_ascii(scheme, "http")) return proxy_kind::http;
  if (iequals_ascii(scheme, "https")) return proxy_kind::https;
  if (iequals_ascii(scheme, "socks4") || iequals_ascii(scheme, "socks"))
    return proxy_kind::socks4;
  if (iequals_ascii(scheme, "socks4a")) return proxy_kind::socks4a;
  if (iequals_ascii(scheme, "socks5")) return proxy_kind::socks5;
  if (iequals_ascii(scheme, "socks5h")) return proxy_kind::socks5h;
  return std::nullopt;
}

// A host name's bytes: letters, digits and what names and IPv4 literals hold.
inline bool is_host_name(std::string_view host) noexcept {
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return !host.empty();
}

}  // namespace detail

inline std::optional<proxy> proxy::parse(std::string_view text, std::error_code& ec) {
  ec = {};
  const auto malformed = [&ec] {
    ec = error::couldnt_resolve_proxy;
    return std::nullopt;
  };
  proxy p;
  if (const auto sep = text.find("://"); sep != std::string_view::npos) {
    const auto kind = detail::proxy_kind_of(text.substr(0, sep));
    if (!kind) {
      ec = error::couldnt_connect;  // curl: "Unsupported proxy scheme"
      return std::nullopt;
    }
    p.kind = *kind;
    text.remove_prefix(sep + 3);
  }
  // A path, query or fragment after the authority says nothing to a proxy: curl leaves
  // it out.
  text = text.substr(0, text.find_first_of("/?#"));
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = text.substr(0, at);
    const auto colon = userinfo.find(':');
    auto user = detail::percent_decoded(userinfo.substr(0, colon));
    auto password = detail::percent_decoded(
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1));
    if (!user || !password) return malformed();
    p.user = std::move(*user);
    p.password = std::move(*password);
    text.remove_prefix(at + 1);
  }
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return malformed();
    std::error_code bad;
    const auto address = asio::ip::make_address_v6(std::string(text.substr(1, close - 1)), bad);
    if (bad) return malformed();
    p.host = address.to_string();
    const auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return malformed();
      port_text = after.substr(1);
      if (port_text.empty()) return malformed();
    }
  } else {
    const auto colon = text.find(':');
    p.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return malformed();
    }
    if (!detail::is_host_name(p.host)) return malformed();
  }
  p.port = default_port(p.kind);
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, err] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return malformed();
    p.port = static_cast<std::uint16_t>(value);
  }
  return p;
}

}  // namespace opensock
