// The cookies of one command line, as curl handles them: -b's name=value strings sent on
// every request as they are, and the cookie engine (one jar for all the URLs) that -b's
// files and -c turn on. The fetcher writes the Cookie field itself rather than leave it
// to the session's jar, because curl writes one field for both: the jar's cookies first,
// then the strings.
#pragma once

#include "command_line.hpp"

#include <opensock/http/cookie_file.hpp>
#include <opensock/http/cookie_jar.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/url.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fetch {

class cookie_engine {
 public:
  /// Reads -b and -c: the strings (an argument with '=' in it), else the files loaded
  /// now, "-" from stdin. A file that cannot be read loads nothing, as in curl; -j then
  /// drops the session cookies they held, before any request could set one.
  explicit cookie_engine(const options& o) : jar_path_(o.cookie_jar) {
    bool engine = o.cookie_jar.has_value();
    for (const auto& arg : o.cookies) {
      if (arg.find('=') != std::string::npos) {
        // Several -b strings are joined with "; ", as newer curl joins them (curl 7.88:
        // a bare ';').
        if (strings_) *strings_ += "; ";
        strings_ = strings_.value_or("") + arg;
      } else {
        engine = true;
        files_.push_back(arg);
      }
    }
    if (!engine) return;
    jar_ = std::make_shared<opensock::http::cookie_jar>();
    for (const auto& file : files_) {
      if (file == "-") {
        const std::string text(std::istreambuf_iterator<char>(std::cin), {});
        opensock::http::read_cookie_file(text, *jar_);
      } else if (!file.empty()) {
        (void)opensock::http::load_cookie_file(file, *jar_);
      }
    }
    if (o.junk_session_cookies) jar_->remove_session_cookies();
  }

  /// Whether Set-Cookie fields are stored (curl's cookie engine is on).
  bool engine() const noexcept { return jar_ != nullptr; }

  /// The Cookie field's value for a request to `to`, empty for none. A -H Cookie field
  /// (`own_field`) replaces the strings, as in curl, but not the jar's cookies; the
  /// strings go only where credentials would (`trusted`: the first origin, or any with
  /// --location-trusted), as newer curl sends them.
  std::string field_for(const opensock::http::url& to, std::string_view method, bool own_field,
                        bool trusted) const {
    std::string value;
    if (jar_) value = jar_->header_for(to, opensock::http::request_context(method));
    if (strings_ && !own_field && trusted) {
      if (!value.empty()) value += "; ";
      value += *strings_;
    }
    return value;
  }

  /// One response head line: a Set-Cookie field is stored for `from`.
  void header_line(const opensock::http::url& from, std::string_view line) {
    if (!jar_) return;
    constexpr std::string_view name = "set-cookie:";
    if (line.size() < name.size() || !opensock::http::iequals(line.substr(0, name.size()), name))
      return;
    line.remove_prefix(name.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    jar_->store(from, line);
  }

  /// -c: the jar written out after each transfer, failed ones too, as curl writes it when
  /// it cleans a transfer up; "-" to stdout. curl says nothing when it cannot write the
  /// file (but with -v), and neither does this.
  void save(bool verbose) const {
    if (!jar_ || !jar_path_) return;
    if (*jar_path_ == "-") {
      const std::string text = opensock::http::write_cookie_file(*jar_);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return;
    }
    if (opensock::http::save_cookie_file(*jar_path_, *jar_) && verbose)
      std::fprintf(stderr, "* WARNING: failed to save cookies in %s\n", jar_path_->c_str());
  }

 private:
  std::optional<std::string> jar_path_;
  std::vector<std::string> files_;
  std::optional<std::string> strings_;
  std::shared_ptr<opensock::http::cookie_jar> jar_;
};

}  // namespace fetch
