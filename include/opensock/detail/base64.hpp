// Base64 (RFC 4648, with padding): written for the credentials of Basic authentication,
// read for the PEM keys TLS pins.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace opensock::detail {

inline constexpr std::string_view base64_digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline std::string base64(std::string_view in) {
  const std::string_view digits = base64_digits;
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

/// The bytes `text` encodes; nullopt unless it is strict base64: a length that is a
/// non-zero multiple of 4, digits of the alphabet, padding only at the end.
inline std::optional<std::string> base64_decoded(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned n = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=') {
        if (i + 4 != text.size() || j < 2) return std::nullopt;
        ++padding;
        n <<= 6;
        continue;
      }
      if (padding) return std::nullopt;
      const auto at = base64_digits.find(c);
      if (at == std::string_view::npos) return std::nullopt;
      n = n << 6 | static_cast<unsigned>(at);
    }
    out += static_cast<char>(n >> 16 & 0xff);
    if (padding < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace opensock::detail
