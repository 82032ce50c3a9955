// Percent-encoding as curl's tool writes it: RFC 3986's unreserved characters (letters,
// digits, "-._~") as they are, every other byte as %XX.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace fetch {

/// How a space is written: %20, or '+' (--data-urlencode's form encoding).
enum class space_as { percent, plus };

/// Appends `text`, percent-encoded with upper-case hex digits, to `out`.
inline void append_percent_encoded(std::string& out, std::string_view text,
                                   space_as space = space_as::percent) {
  const char* hex = "0123456789ABCDEF";
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == ' ' && space == space_as::plus) {
      out += '+';
    } else {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
}

inline std::string percent_encoded(std::string_view text, space_as space = space_as::percent) {
  std::string out;
  append_percent_encoded(out, text, space);
  return out;
}

/// `text` with the hex digits of its %XX escapes in upper case, as newer curl writes the
/// query it appends for -G and --url-query.
inline std::string with_upper_case_escapes(std::string text) {
  const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] != '%' || !hex(text[i + 1]) || !hex(text[i + 2])) continue;
    text[i + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i + 1])));
    text[i + 2] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i + 2])));
    i += 2;
  }
  return text;
}

}  // namespace fetch
