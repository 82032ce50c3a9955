// JSON strings as curl's tool writes them (--expand's json, -w's %{json} and
// %{header_json}): the bytes as they are but for '"', '\\' and the control characters.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace fetch {

/// `text` escaped for the inside of a JSON string (without the quotes).
inline std::string json_escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace fetch
