// curl's .netrc: the login and password for a host, read as curl 8 reads the file
// (machine, default, login, password, account, macdef; quoted tokens; comment lines).
#pragma once

#include <opensock/error.hpp>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#if !defined(_WIN32)
#include <pwd.h>
#include <unistd.h>
#endif

namespace opensock {

/// The credentials a .netrc gives a host.
struct netrc_entry {
  std::string login;     ///< the login asked for, or the entry's; may be empty
  std::string password;  ///< empty when the entry has none

  netrc_entry() = default;
  netrc_entry(std::string login_, std::string password_)
      : login(std::move(login_)), password(std::move(password_)) {}
  friend bool operator==(const netrc_entry&, const netrc_entry&) = default;
};

/// curl's limits: a file over 128 KiB (comment lines left out), a line over 16 KiB or a
/// token over 4 KiB does not parse.
inline constexpr std::size_t netrc_max_file = 128 * 1024;
inline constexpr std::size_t netrc_max_line = 16 * 1024;
inline constexpr std::size_t netrc_max_token = 4 * 1024;

/// The entry of `text` (a .netrc's contents) for `host`, as curl picks it: entries are
/// read in order, `machine NAME` matching `host` without regard to case and `default`
/// matching any host, and the first matching entry that has something to give is taken.
/// Without `login`, that is an entry with a login or a password. With `login`, an entry
/// whose login is another is passed over, one with that login counts only with a
/// password, and one without a login but with a password gives that password to `login`.
/// nullopt when no entry matches. Text that does not parse (an unterminated quote, a
/// token, line or file over the limits) is error::read_error, curl's 26 (".netrc error:
/// syntax error"). Lines whose first non-blank byte is '#' are comments; `macdef` skips
/// to the next empty line; quoted tokens take \n, \r, \t and \x escapes.
std::optional<netrc_entry> find_netrc(std::string_view text, std::string_view host,
                                      std::string_view login, std::error_code& ec);

/// The same, a text that does not parse finding nothing.
inline std::optional<netrc_entry> find_netrc(std::string_view text, std::string_view host,
                                             std::string_view login = {}) {
  std::error_code ec;
  return find_netrc(text, host, login, ec);
}

/// find_netrc() on the file at `path`. A file that does not exist, is a directory or
/// cannot be read is error::read_error too, as curl's --netrc fails with 26 ("no such
/// file"); curl's --netrc-optional goes on without credentials after any of these.
std::optional<netrc_entry> find_netrc_file(const std::filesystem::path& path,
                                           std::string_view host, std::string_view login,
                                           std::error_code& ec);

/// The file curl reads without --netrc-file: $NETRC when set, else .netrc in $HOME (or
/// the home directory of the effective user), on Windows _netrc there when .netrc is
/// missing. nullopt when there is no home directory.
std::optional<std::filesystem::path> default_netrc_path();

/// find_netrc_file() on the default file, as curl's --netrc does.
std::optional<netrc_entry> find_default_netrc(std::string_view host, std::string_view login,
                                              std::error_code& ec);

namespace detail {

// The tokens of a .netrc, read as curl's lexer reads them.
class netrc_lexer {
 public:
  enum class kind { end, literal, machine, default_, account, login, password, macdef, junk };

  explicit netrc_lexer(std::string_view text) noexcept : text_(text) {}

  // The next token; with `want_literal`, any token is a literal (a name after a keyword).
  // false when it does not parse.
  bool next(bool want_literal) {
    literal_.clear();
    skip_blanks();
    if (i_ == text_.size()) {
      kind_ = kind::end;
      return true;
    }
    if (text_[i_] == '"') {
      kind_ = kind::literal;
      return quoted();
    }
    const std::size_t start = i_;
    while (i_ < text_.size() && !is_blank(text_[i_]) && !is_newline(text_[i_])) ++i_;
    const std::string_view word = text_.substr(start, i_ - start);
    // The limit is on every token, as curl reads each into the same bounded buffer.
    if (word.size() >= netrc_max_token) return false;
    if (want_literal) {
      kind_ = kind::literal;
      literal_ = word;
      return true;
    }
    kind_ = word_kind(word);
    return true;
  }

  // Past the next empty line: the end of a macdef's body.
  void skip_to_empty_line() noexcept {
    while (i_ < text_.size()) {
      if (text_[i_++] != '\n') continue;
      while (i_ < text_.size() && text_[i_] == '\r') ++i_;
      if (i_ < text_.size() && text_[i_] == '\n') return;
    }
  }

  kind token() const noexcept { return kind_; }
  const std::string& literal() const noexcept { return literal_; }
  // The token read last is read again by the next call of next().
  void push_back() noexcept { pushed_ = true; }
  bool take_pushed() noexcept { return std::exchange(pushed_, false); }

 private:
  static bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
  static bool is_newline(char c) noexcept { return c == '\n' || c == '\r'; }

  static bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (x != b[i]) return false;
    }
    return true;
  }

  static kind word_kind(std::string_view w) noexcept {
    if (iequals(w, "machine")) return kind::machine;
    if (iequals(w, "default")) return kind::default_;
    if (iequals(w, "account")) return kind::account;
    if (iequals(w, "login")) return kind::login;
    if (iequals(w, "password")) return kind::password;
    if (iequals(w, "macdef")) return kind::macdef;
    return kind::junk;
  }

  void skip_blanks() noexcept {
    while (i_ < text_.size() && (is_blank(text_[i_]) || is_newline(text_[i_]))) ++i_;
  }

  bool quoted() {
    ++i_;
    bool escape = false;
    while (i_ < text_.size()) {
      char c = text_[i_++];
      if (escape) {
        escape = false;
        if (c == 'n') c = '\n';
        else if (c == 'r') c = '\r';
        else if (c == 't') c = '\t';
      } else if (c == '\\') {
        escape = true;
        continue;
      } else if (c == '"') {
        return true;
      }
      if (literal_.size() + 1 >= netrc_max_token) return false;
      literal_ += c;
    }
    return false;
  }

  std::string_view text_;
  std::size_t i_ = 0;
  kind kind_ = kind::end;
  std::string literal_;
  bool pushed_ = false;
};

// The file's text as curl keeps it: each line ending in '\n', its bytes from a NUL on
// dropped (curl's lines are C strings), its leading blanks dropped, comment lines left
// out. false over the limits on a line and on the whole.
inline bool netrc_content(std::string_view text, std::string& out) {
  out.clear();
  std::string last;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline == std::string_view::npos ? text.size()
                                                                             : newline + 1);
    text.remove_prefix(line.size());
    if (newline == std::string_view::npos) {
      last.assign(line).append(1, '\n');
      line = last;
    }
    if (line.size() >= netrc_max_line) return false;
    // The line still ends where it did: a NUL must not join it to the next one.
    if (const auto nul = line.find('\0'); nul != std::string_view::npos) {
      std::string kept(line.substr(0, nul));  // `line` may view `last`
      last = std::move(kept.append(1, '\n'));
      line = last;
    }
    std::size_t first = 0;
    while (first < line.size() && (line[first] == ' ' || line[first] == '\t')) ++first;
    if (first < line.size() && line[first] == '#') continue;
    line.remove_prefix(first);
    if (out.size() + line.size() >= netrc_max_file) return false;
    out.append(line);
  }
  return true;
}

}  // namespace detail

inline std::optional<netrc_entry> find_netrc(std::string_view text, std::string_view host,
                                             std::string_view login, std::error_code& ec) {
  using kind = detail::netrc_lexer::kind;
  ec = {};
  std::string content;
  if (!detail::netrc_content(text, content)) {
    ec = error::read_error;
    return std::nullopt;
  }
  detail::netrc_lexer lexer(content);
  bool matches_host = false;
  std::optional<std::string> entry_login, entry_password;

  // Whether the entry that ends here is the one: curl's netrc_scan_end_entry().
  const auto entry_found = [&]() -> std::optional<netrc_entry> {
    std::optional<netrc_entry> found;
    if (matches_host) {
      if (entry_login) {
        if (login.empty()) found.emplace(*entry_login, entry_password.value_or(""));
        else if (*entry_login == login && entry_password)
          found.emplace(std::string(login), *entry_password);
      } else if (entry_password) {
        found.emplace(std::string(login), *entry_password);
      }
    }
    matches_host = false;
    entry_login.reset();
    entry_password.reset();
    return found;
  };
  const auto next = [&](bool want_literal) {
    return lexer.take_pushed() || lexer.next(want_literal);
  };
  // The literal after login, password or account: stored when this entry is for the
  // host; a keyword's absence (the end of the text) leaves the field unset.
  const auto value_into = [&](std::optional<std::string>* field) {
    if (!next(true)) return false;
    if (lexer.token() != kind::literal) {
      lexer.push_back();
      return true;
    }
    if (field && matches_host) *field = lexer.literal();
    return true;
  };

  while (true) {
    if (!next(false)) {
      ec = error::read_error;
      return std::nullopt;
    }
    const kind token = lexer.token();
    if (token == kind::end || token == kind::machine || token == kind::default_ ||
        token == kind::macdef) {
      if (auto found = entry_found()) return found;
    }
    bool ok = true;
    switch (token) {
      case kind::end:
        return std::nullopt;
      case kind::machine:
        ok = next(true);
        if (ok && lexer.token() == kind::literal) {
          const std::string& name = lexer.literal();
          matches_host = name.size() == host.size();
          for (std::size_t i = 0; matches_host && i < name.size(); ++i) {
            const auto lower = [](char c) {
              return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
            };
            matches_host = lower(name[i]) == lower(host[i]);
          }
        } else if (ok) {
          lexer.push_back();
        }
        break;
      case kind::default_:
        matches_host = true;
        break;
      case kind::account:
        ok = value_into(nullptr);
        break;
      case kind::login:
        ok = value_into(&entry_login);
        break;
      case kind::password:
        ok = value_into(&entry_password);
        break;
      case kind::macdef:
        lexer.skip_to_empty_line();
        break;
      case kind::literal:
      case kind::junk:
        break;
    }
    if (!ok) {
      ec = error::read_error;
      return std::nullopt;
    }
  }
}

inline std::optional<netrc_entry> find_netrc_file(const std::filesystem::path& path,
                                                  std::string_view host, std::string_view login,
                                                  std::error_code& ec) {
  ec = {};
  std::error_code status_ec;
  if (std::filesystem::is_directory(path, status_ec)) {
    ec = error::read_error;
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ec = error::read_error;
    return std::nullopt;
  }
  // Read no further than a file that could still fit once its comments are left out:
  // a larger one is refused without holding it all.
  std::string text;
  constexpr std::size_t chunk = 64 * 1024;
  constexpr std::size_t most = 16 * netrc_max_file;
  while (in && text.size() <= most) {
    const std::size_t at = text.size();
    text.resize(at + chunk);
    in.read(text.data() + at, static_cast<std::streamsize>(chunk));
    text.resize(at + static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad() || text.size() > most) {
    ec = error::read_error;
    return std::nullopt;
  }
  return find_netrc(text, host, login, ec);
}

inline std::optional<std::filesystem::path> default_netrc_path() {
  if (const char* netrc = std::getenv("NETRC"); netrc && *netrc) return netrc;
  std::filesystem::path home;
  if (const char* env = std::getenv("HOME"); env && *env) {
    home = env;
  } else {
#if defined(_WIN32)
    if (const char* profile = std::getenv("USERPROFILE"); profile && *profile) home = profile;
#else
    char buffer[1024];
    struct passwd pw;
    struct passwd* found = nullptr;
    if (::getpwuid_r(::geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found &&
        found->pw_dir)
      home = found->pw_dir;
#endif
  }
  if (home.empty()) return std::nullopt;
#if defined(_WIN32)
  std::error_code ec;
  if (!std::filesystem::exists(home / ".netrc", ec) && std::filesystem::exists(home / "_netrc", ec))
    return home / "_netrc";
#endif
  return home / ".netrc";
}

inline std::optional<netrc_entry> find_default_netrc(std::string_view host,
                                                     std::string_view login, std::error_code& ec) {
  const auto path = default_netrc_path();
  if (!path) {
    ec = error::read_error;
    return std::nullopt;
  }
  return find_netrc_file(*path, host, login, ec);
}

}  // namespace opensock
