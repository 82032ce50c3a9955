// --variable and the --expand- form of every flag that takes a value, as newer curl has
// them: "--variable name=text", "name@file" ("@-": stdin), "%name" from the environment
// ("%name=default", "%name@file" when it is not set), a byte range first
// ("name[5-15]=..."); then "{{name}}" in an --expand-FLAG value is the variable's
// content, passed through functions left to right ("{{name:trim:url}}": trim, json, url,
// b64, 64dec), "\{{" a literal "{{", and an unknown name nothing.
#pragma once

#include "../common/curl_command_line.hpp"
#include "json_string.hpp"
#include "percent_encoding.hpp"

#include <opensock/detail/base64.hpp>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {

class variables {
 public:
  using usage_error = curl_command_line::usage_error;

  /// One --variable value; `warnings` gets what curl warns of and skips.
  std::optional<usage_error> set(std::string_view input, std::vector<std::string>& warnings) {
    std::string_view line = input;
    const bool import = !line.empty() && line.front() == '%';
    if (import) line.remove_prefix(1);
    std::size_t length = 0;
    while (length < line.size() && is_name_char(line[length])) ++length;
    const std::string name(line.substr(0, length));
    line.remove_prefix(length);
    if (name.empty() || name.size() >= max_name) {
      warnings.push_back("Bad variable name length (" + std::to_string(name.size()) +
                         "), skipping");
      return std::nullopt;
    }
    std::optional<std::string> content;
    if (import) {
      const char* found = std::getenv(name.c_str());
      if (!found && line.empty())
        return failure("Variable '" + name + "' import fail, not set", "--variable",
                       "variable expansion failure");
      if (found) content = found;
    }
    // [first-last]: the bytes kept, the last one included; [first-] to the end.
    std::uint64_t first = 0, last = std::numeric_limits<std::uint64_t>::max();
    if (line.size() > 1 && line.front() == '[' && is_digit(line[1])) {
      line.remove_prefix(1);
      const auto number = [&line](std::uint64_t& n) {
        if (line.empty() || !is_digit(line.front())) return false;
        n = 0;
        for (; !line.empty() && is_digit(line.front()); line.remove_prefix(1)) {
          if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return false;
          n = n * 10 + static_cast<std::uint64_t>(line.front() - '0');
        }
        return true;
      };
      const auto single = [&line](char c) {
        if (line.empty() || line.front() != c) return false;
        line.remove_prefix(1);
        return true;
      };
      const bool valid = number(first) && single('-') &&
                         (single(']') || (number(last) && single(']'))) && first <= last;
      if (!valid) return failure("", "--variable", "syntax error in --variable argument");
    }
    if (!content && !line.empty() && line.front() == '@') {
      const std::string path(line.substr(1));
      std::string bytes;
      if (path == "-") {
        bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
          auto failed = failure("Failed to open " + path + ": No such file or directory",
                                "--variable", "error encountered when reading a file");
          failed.exit_code = 26;
          return failed;
        }
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      content = cut(bytes, first, last);
    } else if (!content && !line.empty() && line.front() == '=') {
      content = cut(std::string(line.substr(1)), first, last);
    } else if (!content) {
      warnings.push_back("Bad --variable syntax, skipping: " + std::string(input));
      return std::nullopt;
    }
    values_[name] = std::move(*content);
    return std::nullopt;
  }

  /// `text` with every "{{name[:function...]}}" replaced, for the flag `flag` (as
  /// written, for the message of a failure).
  std::optional<usage_error> expand(std::string& text, const std::string& flag,
                                    std::vector<std::string>& warnings) const {
    std::string out;
    bool replaced = false;
    std::size_t at = 0;
    for (;;) {
      const auto open = text.find("{{", at);
      if (open == std::string::npos) break;
      if (open > at && text[open - 1] == '\\') {
        out.append(text, at, open - at - 1);
        out += "{{";
        at = open + 2;
        continue;
      }
      const auto close = text.find("}}", open);
      if (close == std::string::npos) {
        warnings.push_back("missing close '}}' in '" + text + "'");
        break;
      }
      const std::string_view inner = std::string_view(text).substr(open + 2, close - open - 2);
      const auto colon = inner.find(':');
      const std::string_view name = inner.substr(0, colon);
      bool sensible = true;
      for (const char c : name) sensible = sensible && is_name_char(c);
      if (name.empty() || name.size() >= max_name || !sensible) {
        warnings.push_back(name.empty() || name.size() >= max_name
                               ? "bad variable name length '" + text + "'"
                               : "bad variable name: " + std::string(name));
        out.append(text, at, close + 2 - at);  // kept as written
        at = close + 2;
        continue;
      }
      out.append(text, at, open - at);
      const auto found = values_.find(std::string(name));
      std::string value = found == values_.end() ? std::string() : found->second;
      if (colon != std::string_view::npos) {
        const std::string_view functions = inner.substr(colon);
        if (!apply_functions(functions.substr(1), value))
          return failure("unknown variable function in '" + std::string(functions) + "'",
                         flag, "variable expansion failure");
      }
      if (value.find('\0') != std::string::npos)
        return failure("variable contains null byte", flag, "variable expansion failure");
      out += value;
      replaced = true;
      at = close + 2;
    }
    if (!replaced) return std::nullopt;
    out.append(text, at, std::string::npos);
    text = std::move(out);
    return std::nullopt;
  }

 private:
  static constexpr std::size_t max_name = 128;

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  }

  static std::string cut(std::string bytes, std::uint64_t first, std::uint64_t last) {
    if (first >= bytes.size()) return {};
    const std::uint64_t end = std::min<std::uint64_t>(last, bytes.size() - 1) + 1;
    return bytes.substr(static_cast<std::size_t>(first), static_cast<std::size_t>(end - first));
  }

  // curl's message, then "option FLAG: reason", as curl ends on a bad flag (2).
  static usage_error failure(const std::string& message, const std::string& flag,
                             const std::string& reason) {
    return usage_error{(message.empty() ? "" : message + "\n") + "option " + flag + ": " +
                       reason};
  }

  // The functions of "name:f1:f2", each on what the one before gave.
  static bool apply_functions(std::string_view list, std::string& value) {
    while (true) {
      const auto colon = list.find(':');
      const std::string_view f = list.substr(0, colon);
      if (f == "trim") {
        const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)); };
        std::size_t from = 0, to = value.size();
        while (from < to && space(value[from])) ++from;
        while (to > from && space(value[to - 1])) --to;
        value = value.substr(from, to - from);
      } else if (f == "json") {
        value = json_escaped(value);
      } else if (f == "url") {
        value = percent_encoded(value);
      } else if (f == "b64") {
        value = opensock::detail::base64(value);
      } else if (f == "64dec") {
        value = opensock::detail::base64_decoded(value).value_or("[64dec-fail]");
      } else {
        return false;
      }
      if (colon == std::string_view::npos) return true;
      list.remove_prefix(colon + 1);
    }
  }

  std::map<std::string, std::string> values_;
};

}  // namespace fetch
