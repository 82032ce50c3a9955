// Who each request authenticates as, the way curl 7.88 decides it: --oauth2-bearer, else
// -u, else the URL's user and password, completed or replaced by a .netrc entry (-n,
// --netrc-optional, --netrc-file). The fetcher follows redirects itself, each hop a
// request of its own, so the rule that keeps credentials to the origin they were given
// for (unless --location-trusted) is applied here, hop by hop.
#pragma once

#include "command_line.hpp"

#include <opensock/error.hpp>
#include <opensock/http/auth.hpp>
#include <opensock/http/url.hpp>
#include <opensock/netrc.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fetch {

/// -u without a ':' (and without --oauth2-bearer, which needs no password): the password
/// asked for as curl asks, before anything is sent. curl reads it with one read() from
/// /dev/tty, or from stdin when there is no terminal, with echo off, and drops the last
/// byte read (the newline); so does this.
inline void ask_password(options& o) {
  if (!o.user || o.bearer || o.user->find(':') != std::string::npos) return;
  std::fprintf(stderr, "Enter host password for user '%s':", o.user->c_str());
  std::fflush(stderr);
  int fd = ::open("/dev/tty", O_RDONLY);
  const bool opened = fd != -1;
  if (!opened) fd = STDIN_FILENO;
  termios saved{};
  const bool terminal = ::tcgetattr(fd, &saved) == 0;
  if (terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSANOW, &quiet);
  }
  char buffer[2048];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (terminal) ::tcsetattr(fd, TCSANOW, &saved);
  if (opened) ::close(fd);
  std::fputs("\n", stderr);
  *o.user += ':';
  if (n > 0) o.user->append(buffer, static_cast<std::size_t>(n - 1));
}

class authentication {
 public:
  explicit authentication(const options& o) : o_(o) {
    namespace http = opensock::http;
    if (o.auth_scheme == options::auth::digest) schemes_ = http::auth_scheme::digest;
    if (o.auth_scheme == options::auth::ntlm) schemes_ = http::auth_scheme::ntlm;
    if (o.auth_scheme == options::auth::any) schemes_ = http::auth_schemes::any;
    if (o.bearer) {
      given_ = http::credentials::bearer(*o.bearer);
    } else if (o.user) {
      const auto colon = o.user->find(':');
      given_ = http::credentials(o.user->substr(0, colon),
                                 colon == std::string::npos ? "" : o.user->substr(colon + 1),
                                 schemes_);
    }
  }

  /// A transfer starts at `first`: the origin credentials are for, and the URL's user
  /// and password (error::url_malformat when they do not decode).
  std::error_code start(const opensock::http::url& first) {
    first_ = first.origin();
    from_url_.reset();
    if (!first.has_userinfo) return {};
    std::error_code ec;
    auto creds = opensock::http::credentials::from_userinfo(first.userinfo, ec);
    if (ec) return ec;
    from_url_ = url_credentials{std::move(creds), first.userinfo.find(':') != std::string::npos};
    return {};
  }

  /// Whether a hop to `to` may carry what was given for the first URL: it goes to the
  /// same origin, or --location-trusted says any will do.
  bool trusted_for(const opensock::http::url& to) const {
    return o_.location_trusted || to.origin() == first_;
  }

  /// The credentials of a hop to `to` (whose own userinfo, from the command line or a
  /// Location, is taken out: the session would read it otherwise), or none.
  /// error::read_error (26) for a .netrc that does not parse, no_such_file_or_directory
  /// for one -n or --netrc-file wants that is not there.
  std::optional<opensock::http::credentials> for_hop(opensock::http::url& to,
                                                     std::error_code& ec) {
    namespace http = opensock::http;
    ec = {};
    const bool trusted = trusted_for(to);
    std::optional<url_credentials> url_creds;
    if (to.has_userinfo && to.origin() != first_) {
      // A Location naming its own user and password.
      auto creds = http::credentials::from_userinfo(to.userinfo, ec);
      if (ec) return std::nullopt;
      url_creds = url_credentials{std::move(creds), to.userinfo.find(':') != std::string::npos};
    } else if (trusted) {
      url_creds = from_url_;
    }
    to.userinfo.clear();
    to.has_userinfo = false;
    // -u (and the token) win over the URL and .netrc, and go nowhere else untrusted.
    if (given_) return trusted ? given_ : std::nullopt;
    std::optional<http::credentials> creds;
    if (url_creds) {
      creds = url_creds->creds;
      creds->schemes = schemes_;
    }
    // --netrc-optional keeps a password the URL gives; -n and --netrc-file replace it.
    const bool optional = o_.netrc_optional;
    if (!optional && !o_.netrc && !o_.netrc_file) return creds;
    if (optional && url_creds && url_creds->has_password) return creds;
    const std::string login = url_creds ? url_creds->creds.user : std::string();
    const auto entry = netrc_entry_for(to.host, login, ec);
    if (ec || !entry) return creds;
    return http::credentials(login.empty() ? entry->login : login, entry->password, schemes_);
  }

 private:
  struct url_credentials {
    opensock::http::credentials creds;
    bool has_password = false;
  };

  // The entry of --netrc-file's file, or of ~/.netrc, for `host`. A file that is not
  // there is no entry under --netrc-optional, and no_such_file_or_directory under -n and
  // --netrc-file (curl's 26, as newer curl says; curl 7.88 goes on without credentials).
  std::optional<opensock::netrc_entry> netrc_entry_for(const std::string& host,
                                                       const std::string& login,
                                                       std::error_code& ec) const {
    std::optional<std::filesystem::path> path;
    if (o_.netrc_file) {
      path = *o_.netrc_file;
    } else {
      path = opensock::default_netrc_path();
    }
    std::error_code ignored;
    if (!path || !std::filesystem::exists(*path, ignored)) {
      if (!o_.netrc_optional) ec = std::make_error_code(std::errc::no_such_file_or_directory);
      return std::nullopt;
    }
    return opensock::find_netrc_file(*path, host, login, ec);
  }

  const options& o_;
  opensock::http::auth_schemes schemes_ = opensock::http::auth_scheme::basic;
  std::optional<opensock::http::credentials> given_;
  opensock::origin first_;
  std::optional<url_credentials> from_url_;
};

}  // namespace fetch
