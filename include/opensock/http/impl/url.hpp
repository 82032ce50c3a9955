// Definitions for opensock/http/url.hpp.
#pragma once

#include <opensock/http/url.hpp>

#include <charconv>
#include <vector>

namespace opensock::http {
namespace detail {

inline bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Bytes no part of a URL may hold as they are.
inline bool is_forbidden(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return true;
  switch (c) {
    case '<': case '>': case '"': case '{': case '}': case '|': case '\\': case '^': case '`':
      return true;
    default:
      return false;
  }
}

// Copies a path, query or fragment: forbidden bytes make it malformed, bytes from 0x80
// up are percent-encoded. A '%' is sent as written, valid escape or not, as curl does.
inline bool copy_encoded(std::string_view in, std::string& out) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto u = static_cast<unsigned char>(in[i]);
    if (u >= 0x80) {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
      continue;
    }
    if (is_forbidden(in[i])) return false;
    out += in[i];
  }
  return true;
}

// "." or ".." when the segment is one, written plainly or with %2e escapes; else "".
inline std::string dot_segment(std::string_view segment) {
  std::string out;
  for (std::size_t i = 0; i < segment.size() && out.size() <= 2; ++i) {
    if (segment[i] == '.') {
      out += '.';
    } else if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2' &&
               to_lower(segment[i + 2]) == 'e') {
      out += '.';
      i += 2;
    } else {
      return {};
    }
  }
  return out == "." || out == ".." ? out : std::string();
}

// RFC 3986 §5.2.4, on a path that starts with '/'.
inline std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t i = 1;
  bool trailing_slash = false;
  while (i <= path.size()) {
    const std::size_t end = std::min(path.find('/', i), path.size());
    const std::string_view segment = path.substr(i, end - i);
    trailing_slash = false;
    const std::string dots = dot_segment(segment);
    if (dots == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = true;
    } else if (dots == ".") {
      trailing_slash = true;
    } else {
      segments.push_back(segment);
    }
    i = end + 1;
  }
  std::string out;
  for (const auto& segment : segments) {
    out += '/';
    out += segment;
  }
  if (trailing_slash || out.empty()) out += '/';
  return out;
}

inline bool valid_reg_name(std::string_view host) {
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (is_alpha(c) || is_digit(c)) continue;
    switch (c) {
      case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
      case '(': case ')': case '*': case '+': case ',': case ';': case '=':
        continue;
      case '%':
        if (i + 2 < host.size() && is_hex(host[i + 1]) && is_hex(host[i + 2])) continue;
        return false;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace detail

inline std::optional<std::uint16_t> url::default_port(std::string_view scheme) noexcept {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return std::nullopt;
}

inline url url::parse(std::string_view text, std::error_code& ec) {
  ec.clear();
  url u;
  auto malformed = [&] {
    ec = error::url_malformat;
    return url{};
  };

  // scheme "://"
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || !detail::is_alpha(text[0]))
    return malformed();
  for (char c : text.substr(0, colon)) {
    if (!detail::is_alpha(c) && !detail::is_digit(c) && c != '+' && c != '-' && c != '.')
      return malformed();
    u.scheme += detail::to_lower(c);
  }
  if (text.substr(colon, 3) != "://") return malformed();
  const auto port_default = default_port(u.scheme);
  if (!port_default) {
    ec = error::unsupported_protocol;
    return url{};
  }
  std::string_view rest = text.substr(colon + 3);

  // authority, up to the first '/', '?' or '#'
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    for (char c : authority.substr(0, at))
      if (detail::is_forbidden(c)) return malformed();
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return malformed();
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return malformed();
      port_text = after.substr(1);
      has_port = true;
    }
    // An IPv6 literal, with an optional zone written as %25zone.
    std::string literal(host);
    const auto zone = literal.find("%25");
    if (zone != std::string::npos) literal.replace(zone, 3, "%");
    std::error_code address_ec;
    const auto address = asio::ip::make_address(literal, address_ec);
    if (address_ec || !address.is_v6()) return malformed();
  } else {
    const auto port_colon = authority.rfind(':');
    host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      has_port = true;
    }
    if (!detail::valid_reg_name(host)) return malformed();
  }
  if (host.empty()) return malformed();
  for (char c : host) u.host += detail::to_lower(c);

  u.port = *port_default;
  if (has_port && !port_text.empty()) {
    unsigned value = 0;
    const auto [end, parse_ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (parse_ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535 ||
        value == 0)
      return malformed();
    u.port = static_cast<std::uint16_t>(value);
    u.explicit_port = true;
  }

  // path, query, fragment
  const auto hash = rest.find('#');
  if (hash != std::string_view::npos) {
    if (!detail::copy_encoded(rest.substr(hash + 1), u.fragment)) return malformed();
    rest = rest.substr(0, hash);
  }
  const auto question = rest.find('?');
  if (question != std::string_view::npos) {
    u.has_query = true;
    if (!detail::copy_encoded(rest.substr(question + 1), u.query)) return malformed();
    rest = rest.substr(0, question);
  }
  std::string path;
  if (!detail::copy_encoded(rest, path)) return malformed();
  u.path = path.empty() ? std::string("/") : detail::remove_dot_segments(path);
  return u;
}

inline void url::append_host_header(std::string& out) const {
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  if (port != default_port(scheme)) {
    char digits[8];
    const auto end = std::to_chars(digits, digits + sizeof digits, port).ptr;
    out += ':';
    out.append(digits, end);
  }
}

inline std::string url::host_header() const {
  std::string out;
  append_host_header(out);
  return out;
}

inline void url::append_target(std::string& out) const {
  out += path;
  if (has_query) out.append("?").append(query);
}

inline std::string url::to_string() const {
  std::string out = scheme + "://";
  if (!userinfo.empty()) out += userinfo + "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (explicit_port) out += ":" + std::to_string(port);
  out += target();
  return out;
}

}  // namespace opensock::http
