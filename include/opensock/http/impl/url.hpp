// Definitions for opensock/http/url.hpp.
#pragma once

#include <opensock/detail/idn.hpp>
#include <opensock/detail/percent_decoded.hpp>
#include <opensock/http/url.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

namespace opensock::http {
namespace detail {

constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Bytes the userinfo and the host may not hold as they are.
constexpr bool is_forbidden(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return true;
  switch (c) {
    case '<': case '>': case '"': case '{': case '}': case '|': case '\\': case '^': case '`':
      return true;
    default:
      return false;
  }
}

// The classes of bytes the parser scans for, looked up in one table rather than tested
// comparison by comparison: the scans run over every byte of every URL.
enum url_char_class : unsigned char {
  scheme_char = 1,     // ALPHA / DIGIT / "+" / "-" / "."
  // A reg-name's bytes but '%' (unreserved / sub-delims), split in two: hosts are nearly
  // always written in lower case, and one without upper-case letters is not lowered.
  host_char = 2,       // the upper-case letters apart
  upper_char = 4,      // 'A' to 'Z'
  authority_end = 8,   // '/', '?' and '#'
  // Copied as they are into a path, a query or a fragment: the visible bytes below 0x7f,
  // but the delimiters that end each part.
  path_char = 16,      // not '?' or '#'
  query_char = 32,     // not '#'
  fragment_char = 64,
};

inline constexpr auto url_char_classes = [] {
  std::array<unsigned char, 256> table{};
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    unsigned char classes = 0;
    if (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.') classes |= scheme_char;
    if (c >= 'A' && c <= 'Z') classes |= upper_char;
    else if (is_alpha(c) || is_digit(c)) classes |= host_char;
    switch (c) {
      case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
      case '(': case ')': case '*': case '+': case ',': case ';': case '=':
        classes |= host_char;
        break;
      case '/': case '?': case '#':
        classes |= authority_end;
        break;
      default:
        break;
    }
    // A path, query or fragment holds any visible byte as written, <>"{}|\^` too, as
    // curl sends them (its -g URLs, "/a[1]{x}", among them); bytes from 0x80 up are
    // percent-encoded when copied.
    if (i > 0x20 && i < 0x7f) {
      classes |= fragment_char;
      if (c != '#') classes |= query_char;
      if (c != '#' && c != '?') classes |= path_char;
    }
    table[static_cast<std::size_t>(i)] = classes;
  }
  return table;
}();

constexpr bool in_url_class(char c, url_char_class cls) noexcept {
  return (url_char_classes[static_cast<unsigned char>(c)] & cls) != 0;
}

// The schemes opensock speaks, in the lower case a parsed URL holds them.
struct known_scheme {
  std::string_view name;
  std::uint16_t port;
};
inline constexpr known_scheme known_schemes[] = {
    {"http", 80}, {"https", 443}, {"ws", 80}, {"wss", 443}};

// The known scheme that starts `text`, in any case, followed by ':' and one to three
// slashes, as curl reads it; or null. `prefix`: the size of all that.
inline const known_scheme* match_scheme(std::string_view text, std::size_t& prefix) noexcept {
  for (const auto& scheme : known_schemes) {
    const std::size_t size = scheme.name.size();
    if (text.size() < size + 2 || text[size] != ':' || text[size + 1] != '/') continue;
    std::size_t i = 0;
    while (i < size && to_lower(text[i]) == scheme.name[i]) ++i;
    if (i != size) continue;
    prefix = size + 2;
    while (prefix < text.size() && prefix < size + 4 && text[prefix] == '/') ++prefix;
    return &scheme;
  }
  return nullptr;
}

// RFC 3986's scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
inline bool valid_scheme(std::string_view scheme) noexcept {
  if (scheme.empty() || !is_alpha(scheme.front())) return false;
  for (char c : scheme)
    if (!in_url_class(c, scheme_char)) return false;
  return true;
}

// The size of the authority at the start of `rest`, up to the first '/', '?' or '#', and
// where its '@' is (npos without one; `several` when it has more than one): in one pass.
inline std::size_t authority_size(std::string_view rest, std::size_t& at,
                                  bool& several) noexcept {
  at = std::string_view::npos;
  several = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '@') {
      several = several || at != std::string_view::npos;
      at = i;
    } else if (in_url_class(rest[i], authority_end)) {
      return i;
    }
  }
  return rest.size();
}

// The decimal digits at the start of `text`, and their value: a port if it is 1 to 65535.
// Past 65535 the value stops growing, rather than overflow.
struct port_digits {
  std::size_t size = 0;
  unsigned value = 0;
};

inline port_digits scan_port(std::string_view text) noexcept {
  port_digits port;
  for (; port.size < text.size() && is_digit(text[port.size]); ++port.size)
    if (port.value <= 65535)
      port.value = port.value * 10 + static_cast<unsigned>(text[port.size] - '0');
  return port;
}

// A reg-name host and its port as far as they run at the start of `text`: the host up to
// the first byte a reg-name may not hold (a '%' must start an escape of two hex
// digits), then, if the host stopped at a ':', the ':' and the digits after it.
struct host_and_port {
  std::string_view host;
  bool may_hold_upper = false;  // false: the host is in lower case already
  port_digits port;             // no digits: the scheme's default port
  std::size_t size = 0;         // of the host, the ':' and the port
};

inline host_and_port scan_host_and_port(std::string_view text) noexcept {
  host_and_port found;
  std::size_t i = 0;
  while (true) {
    while (i < text.size() && in_url_class(text[i], host_char)) ++i;
    if (i == text.size()) break;
    if (in_url_class(text[i], upper_char)) {
      found.may_hold_upper = true;
      ++i;
    } else if (text[i] == '%' && i + 2 < text.size() && is_hex(text[i + 1]) &&
               is_hex(text[i + 2])) {
      found.may_hold_upper = true;  // in its hex digits
      i += 3;
    } else if (static_cast<unsigned char>(text[i]) >= 0x80) {
      found.may_hold_upper = true;  // a name in Unicode, converted when normalised
      ++i;
    } else {
      break;
    }
  }
  found.host = text.substr(0, i);
  if (i < text.size() && text[i] == ':') {
    found.port = scan_port(text.substr(i + 1));
    i += 1 + found.port.size;
  }
  found.size = i;
  return found;
}

// '%' and the two hex digits of byte `c`, appended to `out`. Out of line: inlined, this
// rare step would cost every copy_encoded() call the registers it needs.
[[gnu::noinline]] inline void append_escaped(std::string& out, char c) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto u = static_cast<unsigned char>(c);
  const char escape[] = {'%', hex[u >> 4], hex[u & 15]};
  out.append(escape, sizeof escape);
}

// Copies a path, query or fragment from the start of `in` to `out`, up to the first byte
// that is neither of class `part` nor from 0x80 up: that is a delimiter that ends the
// part, or a forbidden byte. Returns where it stopped, in.size() at the end. Bytes from
// 0x80 up are percent-encoded; a '%' is sent as written, valid escape or not, as curl
// does. Each run of bytes copied as they are goes in with one append.
inline std::size_t copy_encoded(std::string_view in, url_char_class part, std::string& out) {
  std::size_t i = 0;
  while (true) {
    const std::size_t run = i;
    while (i < in.size() && in_url_class(in[i], part)) ++i;
    out.append(in.substr(run, i - run));
    if (i == in.size() || static_cast<unsigned char>(in[i]) < 0x80) return i;
    append_escaped(out, in[i]);
    ++i;
  }
}

// 1 or 2 when the segment is "." or "..", each dot written plainly or as %2e; else 0.
inline int dot_segment(std::string_view segment) noexcept {
  int dots = 0;
  std::size_t i = 0;
  while (i < segment.size()) {
    if (segment[i] == '.') {
      i += 1;
    } else if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2' &&
               to_lower(segment[i + 2]) == 'e') {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2) return 0;
  }
  return dots;
}

// Whether some segment of `path` begins with "." or "%2", as every dot segment does: a
// path with none is its own remove_dot_segments(), and most paths have none.
inline bool may_hold_dot_segment(std::string_view path) noexcept {
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    if (path[i] != '/') continue;
    if (path[i + 1] == '.') return true;
    if (path[i + 1] == '%' && i + 2 < path.size() && path[i + 2] == '2') return true;
  }
  return false;
}

// RFC 3986 §5.2.4, on a path that starts with '/'.
inline std::string remove_dot_segments(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  bool trailing_slash = false;
  std::size_t i = 1;
  while (i <= path.size()) {
    const std::size_t end = std::min(path.find('/', i), path.size());
    const std::string_view segment = path.substr(i, end - i);
    const int dots = dot_segment(segment);
    // Every segment kept in `out` starts with '/': ".." drops the last of them.
    if (dots == 2 && !out.empty()) out.erase(out.rfind('/'));
    if (dots == 0) {
      out += '/';
      out += segment;
    }
    trailing_slash = dots != 0;
    i = end + 1;
  }
  if (trailing_slash || out.empty()) out += '/';
  return out;
}

// An IPv4 address in any of the forms curl (and inet_aton(3)) reads in a host: one to
// four numbers separated by dots, each decimal, octal after a 0 or hexadecimal after 0x,
// the last filling the bytes the others leave (127.1, 0x7f.0.0.1, 2130706433); with one
// trailing dot or without. nullopt for anything else, numbers too large for their bytes
// included (127.0.0.256 is a name, as it is to curl).
inline std::optional<std::uint32_t> ipv4_of(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::uint64_t parts[4] = {};
  std::size_t count = 0;
  std::size_t i = 0;
  for (;;) {
    if (count == 4 || i == host.size() || !is_digit(host[i])) return std::nullopt;
    unsigned base = 10;
    if (host[i] == '0') {
      base = 8;
      ++i;
      if (i < host.size() && (host[i] == 'x' || host[i] == 'X')) {
        base = 16;
        ++i;
        if (i == host.size() || !is_hex(host[i])) return std::nullopt;
      }
    }
    std::uint64_t value = 0;
    for (; i < host.size() && host[i] != '.'; ++i) {
      const char c = host[i];
      const unsigned digit = is_digit(c) ? unsigned(c - '0') : unsigned(to_lower(c) - 'a' + 10);
      if (!is_hex(c) || digit >= base) return std::nullopt;
      value = value * base + digit;
      if (value > 0xffffffff) return std::nullopt;
    }
    parts[count++] = value;
    if (i == host.size()) break;
    ++i;  // the dot
  }
  // Every number but the last is one byte; the last fills the rest.
  std::uint32_t address = 0;
  for (std::size_t p = 0; p + 1 < count; ++p) {
    if (parts[p] > 0xff) return std::nullopt;
    address |= static_cast<std::uint32_t>(parts[p]) << (24 - 8 * p);
  }
  const unsigned last_bits = 8 * static_cast<unsigned>(5 - count);
  if (last_bits < 32 && parts[count - 1] >> last_bits) return std::nullopt;
  return address | static_cast<std::uint32_t>(parts[count - 1]);
}

// A host that is not an IPv6 literal, as everything after the parser is to see it, and
// as curl makes it: percent-encoded bytes decoded, letters in lower case, a name in
// Unicode (UTF-8, written so or percent-encoded) in its ASCII form (IDNA, through
// libidn2; `unicode` is then set), and an IPv4 address in any form written as a dotted
// quad. False when a decoded byte may not be in a host name (a control byte, a space, a
// delimiter of the URL), or for a name in Unicode that IDNA does not allow or that this
// build cannot convert.
inline bool normalize_host(std::string& host, bool may_hold_upper, bool& unicode) {
  if (host.find('%') != std::string::npos) {
    auto decoded = opensock::detail::percent_decoded(host);
    if (!decoded) return false;
    for (char c : *decoded) {
      if (is_forbidden(c)) return false;
      switch (c) {
        case '/': case '?': case '#': case '@': case ':': case '[': case ']': case '%':
          return false;
        default:
          break;
      }
    }
    host = std::move(*decoded);
    may_hold_upper = true;
  }
  if (may_hold_upper) {
    bool non_ascii = false;
    for (char& c : host) {
      c = to_lower(c);
      non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
    }
    if (non_ascii) {
      auto ascii = opensock::detail::idn_to_ascii(host);
      if (!ascii) return false;
      host = std::move(*ascii);
      unicode = true;
    }
  }
  if (!host.empty() && is_digit(host.front())) {
    if (const auto address = ipv4_of(host)) {
      // Written digit by digit: g++ 12 at -O3 takes std::to_chars's end, on an error
      // that cannot happen here, for a write past the buffer.
      char quad[15];  // 255.255.255.255
      std::size_t length = 0;
      for (int shift = 24; shift >= 0; shift -= 8) {
        const unsigned octet = (*address >> shift) & 0xff;
        if (shift != 24) quad[length++] = '.';
        if (octet >= 100) quad[length++] = static_cast<char>('0' + octet / 100);
        if (octet >= 10) quad[length++] = static_cast<char>('0' + octet / 10 % 10);
        quad[length++] = static_cast<char>('0' + octet % 10);
      }
      const std::string_view written(quad, length);
      if (host != written) host.assign(written);  // most often it is written so already
    }
  }
  return true;
}

// url::parse's work, on a default-constructed `u`: each part is appended to its empty
// string, which costs less than an assignment. `u` may be left part-filled on failure.
inline std::error_code parse_into(std::string_view text, url& u, url::dot_segments dots) {
  constexpr auto malformed = error::url_malformat;

  // scheme "://"
  std::size_t prefix = 0;
  const known_scheme* scheme = match_scheme(text, prefix);
  if (!scheme) {
    // Not a scheme opensock speaks: unsupported if it is a scheme at all.
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.substr(colon, 3) != "://" ||
        !valid_scheme(text.substr(0, colon)))
      return malformed;
    return error::unsupported_protocol;
  }
  u.scheme.append(scheme->name);
  std::string_view rest = text.substr(prefix);

  // The authority, up to the first '/', '?' or '#': [userinfo "@"] host [":" port], the
  // host a reg-name or an IPv6 literal in brackets. A second '@' is malformed: curl reads
  // the userinfo to the first, a browser to the last, and a URL two readers take to two
  // hosts is refused.
  // Most authorities are a reg-name and a port, read here straight from `rest`; the
  // authority is delimited first only when that form does not fill it.
  std::string_view host;
  bool lower_host = true;  // an IPv6 literal's hex digits may be in upper case
  bool ipv6_literal = false;
  port_digits port;
  const auto direct = scan_host_and_port(rest);
  if (direct.size == rest.size() || in_url_class(rest[direct.size], authority_end)) {
    host = direct.host;
    lower_host = direct.may_hold_upper;
    port = direct.port;
    rest = rest.substr(direct.size);
  } else {
    std::size_t at = 0;
    bool several_at = false;
    const auto size = authority_size(rest, at, several_at);
    if (several_at) return malformed;
    std::string_view authority = rest.substr(0, size);
    rest = rest.substr(size);
    if (at != std::string_view::npos) {
      for (char c : authority.substr(0, at))
        if (is_forbidden(c)) return malformed;
      u.userinfo.append(authority.substr(0, at));
      u.has_userinfo = true;
      authority = authority.substr(at + 1);
    }
    if (!authority.empty() && authority.front() == '[') {
      ipv6_literal = true;
      const auto close = authority.find(']');
      if (close == std::string_view::npos) return malformed;
      host = authority.substr(1, close - 1);
      const std::string_view after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return malformed;
        port = scan_port(after.substr(1));
        if (1 + port.size != after.size()) return malformed;
      }
      // An IPv6 literal, with an optional zone written as %25zone.
      // Built by appending: g++ 12 at -O3 warns of an overlap in std::string::replace
      // that cannot happen (-Wrestrict).
      std::string literal;
      const auto zone = host.find("%25");
      if (zone == std::string_view::npos) {
        literal = host;
      } else {
        literal.append(host.substr(0, zone)).append(1, '%').append(host.substr(zone + 3));
      }
      std::error_code address_ec;
      const auto address = asio::ip::make_address(literal, address_ec);
      if (address_ec || !address.is_v6()) return malformed;
    } else {
      const auto found = scan_host_and_port(authority);
      if (found.size != authority.size()) return malformed;
      host = found.host;
      lower_host = found.may_hold_upper;
      port = found.port;
    }
  }
  if (host.empty()) return malformed;
  u.host.append(host);
  if (ipv6_literal) {
    if (lower_host)
      for (char& c : u.host) c = to_lower(c);
  } else if (!normalize_host(u.host, lower_host, u.unicode_host)) {
    return malformed;
  }

  u.port = scheme->port;
  if (port.size > 0) {
    if (port.value == 0 || port.value > 65535) return malformed;
    u.port = static_cast<std::uint16_t>(port.value);
    u.explicit_port = true;
  }

  // path; query after the first '?' before any '#'; fragment after the first '#'
  std::size_t i = copy_encoded(rest, path_char, u.path);
  if (i < rest.size() && rest[i] == '?') {
    u.has_query = true;
    ++i;
    i += copy_encoded(rest.substr(i), query_char, u.query);
  }
  if (i < rest.size() && rest[i] == '#') {
    ++i;
    i += copy_encoded(rest.substr(i), fragment_char, u.fragment);
  }
  if (i < rest.size()) return malformed;  // stopped at a forbidden byte
  // The path is empty or starts with '/'.
  if (u.path.empty()) {
    u.path.push_back('/');
  } else if (dots == url::dot_segments::remove && may_hold_dot_segment(u.path)) {
    u.path = remove_dot_segments(u.path);
  }
  return {};
}

}  // namespace detail

inline std::optional<std::uint16_t> url::default_port(std::string_view scheme) noexcept {
  for (const auto& known : detail::known_schemes)
    if (scheme == known.name) return known.port;
  return std::nullopt;
}

inline url url::parse(std::string_view text, std::error_code& ec, dot_segments dots) {
  // One url, returned on every path, so that it is built in the caller's.
  url u;
  ec = detail::parse_into(text, u, dots);
  if (ec) u = url{};
  return u;
}

inline void url::append_host_header(std::string& out) const {
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += ipv6 ? std::string_view(host).substr(0, host.find("%25")) : std::string_view(host);
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

inline std::string url::to_string(host_form form) const {
  // Appended piece by piece: `"[" + host` would build a temporary, and g++ 12 at -O3
  // warns (-Wrestrict) about the copy inside the standard library's operator+.
  std::string out = scheme;
  out += "://";
  if (has_userinfo) {
    out += userinfo;
    out += '@';
  }
  std::optional<std::string> unicode;
  if (form == host_form::as_written && unicode_host)
    unicode = opensock::detail::idn_to_unicode(host);
  const bool literal = host.find(':') != std::string::npos;
  if (literal) out += '[';
  out += unicode ? *unicode : host;
  if (literal) out += ']';
  if (explicit_port) {
    out += ':';
    out += std::to_string(port);
  }
  out += target();
  return out;
}

}  // namespace opensock::http
