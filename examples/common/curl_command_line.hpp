// A command line read in curl's syntax, for the example programs that take curl's flags:
// short flags may be combined (-sSL), a short flag's value may follow it in the same word
// (-oFILE) or be the next word, a long flag's value is the next word or follows '=' in
// the same word (--output=FILE, as newer curl reads it), "--no-" before a long flag that
// takes no value turns it off, and "--" ends the flags. Errors carry curl's texts; curl
// exits with 2 on them.
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace curl_command_line {

enum class takes { nothing, value };

struct flag {
  char letter;            // 0 for long-only flags
  std::string_view name;  // without the leading "--"
  takes arg;
};

/// A command line that cannot be used: the message to print after the program's name
/// (each of its lines, when it has more than one).
struct usage_error {
  std::string message;
  // curl's exit code: 2, or 26 when a file the command line names cannot be read.
  int exit_code = 2;
};

// curl names a flag in its messages as the user wrote it: "-m" or "--max-time".
inline std::string shown(const flag& f, bool as_long) {
  return as_long ? "--" + std::string(f.name) : std::string("-") + f.letter;
}

// curl's seconds: a non-negative decimal number, fractions allowed.
inline std::optional<double> parse_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

/// Reads argv: each flag of `flags` found goes to on_flag(flag, as_long, negated, value),
/// each other word to on_word(word); either may answer with a usage error, which ends
/// the reading and is returned, as is a flag that is unknown or lacks its value. With
/// `expand`, "--expand-NAME value" is NAME with its value given to expand(flag, value)
/// first, as newer curl reads it.
using expander = std::function<std::optional<usage_error>(const flag&, std::string&)>;

template <class OnFlag, class OnWord>
std::optional<usage_error> read(int argc, char** argv, std::span<const flag> flags,
                                OnFlag on_flag, OnWord on_word, const expander& expand = {}) {
  const auto find_long = [&](std::string_view name) -> const flag* {
    for (const auto& f : flags)
      if (f.name == name) return &f;
    return nullptr;
  };
  const auto find_short = [&](char letter) -> const flag* {
    for (const auto& f : flags)
      if (f.letter == letter) return &f;
    return nullptr;
  };
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (flags_done || word.size() < 2 || word[0] != '-') {
      if (auto error = on_word(word)) return error;
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    std::optional<usage_error> error;
    const auto next_value = [&](const flag& f, bool as_long) -> std::optional<std::string> {
      if (i + 1 >= argc) {
        error = usage_error{"option " + shown(f, as_long) + ": requires parameter"};
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (word[1] == '-') {
      // "--name=value" gives the value in the same word, as newer curl reads it.
      std::string_view name = word.substr(2);
      std::optional<std::string_view> inline_value;
      if (const auto equals = name.find('='); equals != std::string_view::npos) {
        inline_value = name.substr(equals + 1);
        name = name.substr(0, equals);
      }
      const flag* f = find_long(name);
      bool negated = false;
      if (!f && name.substr(0, 3) == "no-") {
        f = find_long(name.substr(3));
        negated = f && f->arg == takes::nothing;
        if (!negated) f = nullptr;
      }
      const bool expanding = !f && expand && name.substr(0, 7) == "expand-";
      if (expanding) f = find_long(name.substr(7));
      if (!f) return usage_error{"option " + std::string(word) + ": is unknown"};
      if (expanding && f->arg == takes::nothing)
        return usage_error{"option " + std::string(word) + ": variable expansion failure"};
      std::string value;
      if (f->arg == takes::value && inline_value) {
        value = std::string(*inline_value);
      } else if (f->arg == takes::value) {
        auto v = next_value(*f, true);
        if (!v) return error;
        value = std::move(*v);
      }
      if (expanding && (error = expand(*f, value))) return error;
      if ((error = on_flag(*f, true, negated, std::move(value)))) return error;
      continue;
    }
    // A word of short flags: each letter a flag, until one that takes a value, which
    // takes the rest of the word or else the next word.
    for (std::size_t at = 1; at < word.size(); ++at) {
      const flag* f = find_short(word[at]);
      if (!f) return usage_error{"option " + std::string(word) + ": is unknown"};
      if (f->arg == takes::nothing) {
        if ((error = on_flag(*f, false, false, std::string()))) return error;
        continue;
      }
      std::string value;
      if (at + 1 < word.size()) {
        value = std::string(word.substr(at + 1));
      } else {
        auto v = next_value(*f, false);
        if (!v) return error;
        value = std::move(*v);
      }
      if ((error = on_flag(*f, false, false, std::move(value)))) return error;
      break;
    }
  }
  return std::nullopt;
}

}  // namespace curl_command_line
