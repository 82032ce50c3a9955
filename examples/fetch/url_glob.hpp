// URL globbing as curl does it (unless -g): "{a,b,c}" takes each word in turn,
// "[1-10]", "[001-100]" (zero-padded), "[a-z]" and "[1-10:2]" (a step) each value of the
// range, and a URL with several of them every combination, the last varying fastest.
// "\{", "\}", "\[" and "\]" are the characters themselves; an IPv6 literal in brackets
// and "[]" are left alone. "#N" in an -o name is the value of the N-th glob; a glob
// named after its opening character ("{<name>a,b}", "[<name>1-9]", as newer curl names
// them) is "#<name>" there too.
#pragma once

#include "command_line.hpp"

#include <opensock/http/url.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fetch {

/// Why a URL is not a glob curl accepts, or an -o name refers to no glob, and where
/// (1-based; 0: no position); `code`: curl's exit code for it.
struct glob_error {
  std::string message;
  std::size_t position = 0;
  int code = 3;
};

class url_glob {
 public:
  /// The glob `pattern` is; nullopt with `error` set when it is malformed (curl's 3).
  static std::optional<url_glob> parse(std::string_view pattern, glob_error& error);

  /// `text` with its glob characters escaped: the one URL it names is `text`.
  static std::string escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c == '{' || c == '}' || c == '[' || c == ']') out += '\\';
      out += c;
    }
    return out;
  }

  /// How many URLs it names.
  std::uint64_t size() const noexcept { return size_; }

  /// The URL of combination `n` (0-based), each glob's value put in `values`.
  std::string url(std::uint64_t n, std::vector<std::string>& values) const {
    values.assign(globs_, std::string());
    std::vector<std::string> texts(parts_.size());
    for (std::size_t i = parts_.size(); i-- > 0;) {
      const part& p = parts_[i];
      const std::uint64_t count = p.count();
      texts[i] = p.value(n % count);
      n /= count;
      if (p.index >= 0) values[static_cast<std::size_t>(p.index)] = texts[i];
    }
    std::string url;
    for (const auto& t : texts) url += t;
    return url;
  }

  /// `name` with each "#N" (N from 1 to the number of globs) replaced by that glob's
  /// value in `values`, and each "#<name>" by the value of the glob of that name, here
  /// or else in `other` (-T's globs, with `other_values`), as curl looks them up; nullopt
  /// with `error` set for a name no glob has (curl's 43).
  std::optional<std::string> with_values(std::string_view name,
                                         const std::vector<std::string>& values,
                                         glob_error& error, const url_glob* other = nullptr,
                                         const std::vector<std::string>* other_values =
                                             nullptr) const {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (name.substr(i, 2) == "#<") {
        const auto close = name.find('>', i + 2);
        if (close != std::string_view::npos && is_glob_name(name.substr(i + 2, close - i - 2))) {
          const auto wanted = name.substr(i + 2, close - i - 2);
          const auto named = std::find(names_.begin(), names_.end(), wanted);
          const auto other_named =
              other ? std::find(other->names_.begin(), other->names_.end(), wanted)
                    : names_.end();
          if (named != names_.end()) {
            out += values[static_cast<std::size_t>(named - names_.begin())];
          } else if (other && other_named != other->names_.end()) {
            out += (*other_values)[static_cast<std::size_t>(other_named - other->names_.begin())];
          } else {
            error = {"no glob exists with this name", close + 1, 43};
            return std::nullopt;
          }
          i = close;
          continue;
        }
      }
      std::size_t end = i + 1;
      std::size_t n = 0;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end])) &&
             n <= values.size())
        n = n * 10 + static_cast<std::size_t>(name[end++] - '0');
      if (name[i] == '#' && end > i + 1 && n >= 1 && n <= values.size()) {
        out += values[n - 1];
        i = end - 1;
      } else {
        out += name[i];
      }
    }
    return out;
  }

 private:
  // A run of literal text (one value), a set of words, or a range of numbers or letters.
  struct part {
    enum class kind { text, set, numbers, letters } how = kind::text;
    std::vector<std::string> words;  // text: one; set: each
    std::int64_t first = 0, last = 0, step = 1;
    std::size_t pad = 0;  // numbers: the width of zero-padded values
    int index = -1;       // which glob it is, for #N; -1 for text

    std::uint64_t count() const {
      if (how == kind::text || how == kind::set) return words.size();
      return static_cast<std::uint64_t>((last - first) / step) + 1;
    }
    std::string value(std::uint64_t k) const {
      if (how == kind::text || how == kind::set) return words[static_cast<std::size_t>(k)];
      const std::int64_t v = first + static_cast<std::int64_t>(k) * step;
      if (how == kind::letters) return std::string(1, static_cast<char>(v));
      std::string digits = std::to_string(v);
      if (digits.size() < pad) digits.insert(0, pad - digits.size(), '0');
      return digits;
    }
  };

  // A glob's name: letters and digits, as curl takes them.
  static bool is_glob_name(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text)
      if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    return true;
  }

  static constexpr std::size_t max_parts = 255;
  static constexpr std::size_t max_words = 100000;

  bool multiply(std::uint64_t by) {
    if (by != 0 && size_ > std::numeric_limits<std::uint64_t>::max() / by) return false;
    size_ *= by;
    return true;
  }

  // Whether `text` (from a '[' to its ']') is an IPv6 literal: what the URL parser
  // takes for a host in brackets, as curl asks its own.
  static bool is_ipv6_literal(std::string_view text) {
    std::error_code ec;
    (void)opensock::http::url::parse("http://" + std::string(text) + "/", ec);
    return !ec;
  }

  std::vector<part> parts_;
  std::vector<std::string> names_;  // each glob's, empty for one without
  int globs_ = 0;
  std::uint64_t size_ = 1;
};

inline std::optional<url_glob> url_glob::parse(std::string_view pattern, glob_error& error) {
  url_glob g;
  std::string text;
  const auto fail = [&](const char* message, std::size_t at) {
    error.message = message;
    error.position = at;
    return std::nullopt;
  };
  const auto add = [&](part p) {
    if (g.parts_.size() + 1 >= max_parts) return false;
    g.parts_.push_back(std::move(p));
    return true;
  };
  const auto flush_text = [&] {
    if (text.empty()) return true;
    part p;
    p.words.push_back(std::move(text));
    text.clear();
    return add(std::move(p));
  };
  std::size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '[') {
      const auto close = pattern.find(']', i);
      if (pattern.substr(i, 2) == "[]" ||
          (close != std::string_view::npos && is_ipv6_literal(pattern.substr(i, close - i + 1)))) {
        const std::size_t end = pattern.substr(i, 2) == "[]" ? i + 2 : close + 1;
        text.append(pattern.substr(i, end - i));
        i = end;
        continue;
      }
    }
    if (c == '}' || c == ']') return fail("unmatched close brace/bracket", i + 1);
    if (c == '\\' && i + 1 < pattern.size() &&
        std::string_view("{}[]").find(pattern[i + 1]) != std::string_view::npos) {
      text += pattern[i + 1];
      i += 2;
      continue;
    }
    if (c != '{' && c != '[') {
      text += c;
      ++i;
      continue;
    }
    if (!flush_text()) return fail("too many {} sets", i + 1);
    part p;
    p.index = g.globs_++;
    ++i;
    std::string& name = g.names_.emplace_back();
    if (i < pattern.size() && pattern[i] == '<') {
      const auto close = pattern.find('>', i);
      if (close != std::string_view::npos && is_glob_name(pattern.substr(i + 1, close - i - 1))) {
        name = pattern.substr(i + 1, close - i - 1);
        if (std::count(g.names_.begin(), g.names_.end(), name) > 1)
          return fail("Duplicate glob name", close + 1);
        i = close + 1;
      }
    }
    if (c == '{') {
      p.how = part::kind::set;
      std::string word;
      const std::size_t open = i;
      for (;;) {
        if (i == pattern.size()) return fail("unmatched brace", i + 1);
        const char d = pattern[i];
        if (d == '{' || d == '[') return fail("nested brace", i + 1);
        if (d == ']') return fail("unexpected close bracket", i + 1);
        if (d == '}' && i == open) return fail("empty string within braces", i + 1);
        if (d == '}' || d == ',') {
          if (p.words.size() >= max_words) return fail("range overflow", 0);
          p.words.push_back(std::move(word));
          word.clear();
          ++i;
          if (d == '}') break;
          continue;
        }
        if (d == '\\' && i + 1 < pattern.size()) ++i;
        word += pattern[i++];
      }
    } else {
      // [a-z], [a-z:2], [0-9], [001-100], [1-10:3]
      const std::size_t start = i;
      const auto number = [&](std::int64_t& n) {
        if (i == pattern.size() || !std::isdigit(static_cast<unsigned char>(pattern[i])))
          return false;
        n = 0;
        for (; i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i])); ++i) {
          if (n > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return false;
          n = n * 10 + (pattern[i] - '0');
        }
        return true;
      };
      const auto single = [&](char ch) {
        if (i == pattern.size() || pattern[i] != ch) return false;
        ++i;
        return true;
      };
      bool valid = false;
      if (i < pattern.size() && std::isalpha(static_cast<unsigned char>(pattern[i]))) {
        p.how = part::kind::letters;
        if (i + 3 < pattern.size() && pattern[i + 1] == '-') {
          p.first = static_cast<unsigned char>(pattern[i]);
          p.last = static_cast<unsigned char>(pattern[i + 2]);
          i += 3;
          valid = single(']') || (single(':') && number(p.step) && single(']'));
          valid = valid && p.step >= 1 && p.step <= 256;
        }
        valid = valid && (p.first == p.last ? p.step == 1
                                            : p.first < p.last && p.step <= p.last - p.first &&
                                                  p.last - p.first <= 'z' - 'a');
      } else if (i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i]))) {
        p.how = part::kind::numbers;
        if (pattern[i] == '0')
          while (start + p.pad < pattern.size() &&
                 std::isdigit(static_cast<unsigned char>(pattern[start + p.pad])))
            ++p.pad;
        p.step = 0;
        if (number(p.first) && single('-')) {
          while (i < pattern.size() && (pattern[i] == ' ' || pattern[i] == '\t')) ++i;
          if (number(p.last)) {
            if (single(']')) {
              p.step = 1;
            } else if (!(single(':') && number(p.step) && single(']'))) {
              p.step = 0;
            }
          }
        }
        valid = p.step != 0 && (p.first == p.last ? p.step == 1
                                                  : p.first < p.last && p.step <= p.last - p.first);
      } else {
        return fail("bad range specification", i + 1);
      }
      if (!valid) return fail("bad range", i + 1);
    }
    if (!g.multiply(p.count())) return fail("range overflow", i + 1);
    if (!add(std::move(p))) return fail("too many {} sets", i + 1);
  }
  if (!flush_text()) return fail("too many {} sets", i + 1);
  return g;
}

/// Every URL of `o` replaced by the URLs its globs name, each with the -o name (its #N
/// filled in) and the -T file of the URL it came from; a -T file name is a glob too,
/// each of its files sent to each of the URL's, file after file, as curl sends them. On
/// a malformed glob, or an -o name with a glob name no glob has, nothing changes and the
/// URL (or name) and why are returned.
inline std::optional<std::pair<std::string, glob_error>> expand_globs(options& o) {
  std::vector<std::string> urls;
  std::vector<output_spec> outputs;
  std::vector<std::string> uploads;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < o.urls.size(); ++i) {
    glob_error error;
    const bool literal =
        std::find(o.literal_urls.begin(), o.literal_urls.end(), i) != o.literal_urls.end();
    const auto glob = url_glob::parse(literal ? url_glob::escaped(o.urls[i]) : o.urls[i], error);
    if (!glob) return std::make_pair(o.urls[i], std::move(error));
    // -T's files with their globs' values; one pass without a -T file.
    std::vector<std::pair<std::string, std::vector<std::string>>> files(1);
    std::optional<url_glob> file_glob;
    if (i < o.upload_files.size()) {
      file_glob = url_glob::parse(o.upload_files[i], error);
      if (!file_glob) return std::make_pair(o.upload_files[i], std::move(error));
      files.clear();
      for (std::uint64_t n = 0; n < file_glob->size(); ++n) {
        std::vector<std::string> file_values;
        std::string file = file_glob->url(n, file_values);
        files.emplace_back(std::move(file), std::move(file_values));
      }
    }
    for (const auto& [file, file_values] : files) {
      for (std::uint64_t n = 0; n < glob->size(); ++n) {
        urls.push_back(glob->url(n, values));
        if (i < o.outputs.size()) {
          output_spec spec = o.outputs[i];
          if (!spec.remote_name) {
            auto path = glob->with_values(spec.path, values, error,
                                          file_glob ? &*file_glob : nullptr, &file_values);
            if (!path) return std::make_pair(spec.path, std::move(error));
            spec.path = std::move(*path);
          }
          outputs.push_back(std::move(spec));
        }
        if (i < o.upload_files.size()) uploads.push_back(file);
      }
    }
  }
  o.urls = std::move(urls);
  o.literal_urls.clear();
  if (!o.outputs.empty()) o.outputs = std::move(outputs);
  if (!o.upload_files.empty()) o.upload_files = std::move(uploads);
  return std::nullopt;
}

}  // namespace fetch
