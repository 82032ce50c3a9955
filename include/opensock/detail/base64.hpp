// Base64 (RFC 4648, with padding), for the credentials of Basic authentication.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace opensock::detail {

inline std::string base64(std::string_view in) {
  static constexpr char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&in](std::size_t at) { return static_cast<unsigned char>(in[at]); };
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += digits[v >> 18 & 63];
    out += digits[v >> 12 & 63];
    out += digits[v >> 6 & 63];
    out += digits[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest != 0) {
    const unsigned v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0u);
    out += digits[v >> 18 & 63];
    out += digits[v >> 12 & 63];
    out += rest == 2 ? digits[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace opensock::detail
