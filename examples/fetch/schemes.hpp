// What curl knows of URL schemes and opensock-fetch takes from it: each scheme's default
// port, the scheme guessed for a URL written without one, and the sets of protocols
// --proto and --proto-redir allow, read in curl's syntax.
#pragma once

#include <opensock/http/fields.hpp>
#include <opensock/tls/options.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fetch {

/// The default port of each scheme curl knows; nullopt for a scheme it does not.
inline std::optional<unsigned> default_port(std::string_view scheme) {
  static constexpr std::pair<std::string_view, unsigned> ports[] = {
      {"dict", 2628},    {"file", 0},      {"ftp", 21},       {"ftps", 990},   {"gopher", 70},
      {"gophers", 70},   {"http", 80},     {"https", 443},    {"imap", 143},   {"imaps", 993},
      {"ldap", 389},     {"ldaps", 636},   {"mqtt", 1883},    {"mqtts", 8883}, {"pop3", 110},
      {"pop3s", 995},    {"rtsp", 554},    {"scp", 22},       {"sftp", 22},    {"smb", 445},
      {"smbs", 445},     {"smtp", 25},     {"smtps", 465},    {"socks", 1080}, {"socks4", 1080},
      {"socks4a", 1080}, {"socks5", 1080}, {"socks5h", 1080}, {"telnet", 23},  {"tftp", 69},
      {"ws", 80},        {"wss", 443}};
  for (const auto& [name, port] : ports)
    if (name == scheme) return port;
  return std::nullopt;
}

/// The scheme curl guesses for a URL without one, from its host name: ftp for "ftp.…",
/// and so dict, ldap, imap, smtp and pop3; http for any other.
inline std::string_view guessed_scheme(std::string_view host) {
  for (std::string_view guess : {"ftp", "dict", "ldap", "imap", "smtp", "pop3"}) {
    if (host.size() > guess.size() && host[guess.size()] == '.' &&
        opensock::http::iequals(host.substr(0, guess.size()), guess))
      return guess;
  }
  return "http";
}

/// Whether opensock-fetch speaks `scheme`: http, and https where TLS is built in.
inline bool speaks(std::string_view scheme) {
  return scheme == "http" || (scheme == "https" && opensock::tls::built);
}

/// The protocols a transfer may use (--proto), or a redirect may lead to (--proto-redir),
/// among those opensock-fetch speaks.
class protocol_set {
 public:
  /// Every protocol opensock-fetch speaks: where --proto starts, and --proto-redir too
  /// (curl's http, https, ftp and ftps hold them all).
  protocol_set() = default;

  bool allows(std::string_view scheme) const {
    return speaks(scheme) && ((scheme == "http" && http_) || (scheme == "https" && https_));
  }

  /// Whether it allows no protocol at all, of those curl knows.
  bool empty() const { return !http_ && !https_ && !every_other_ && others_.empty(); }

  /// Applies curl's syntax: comma-separated names, each with "+" (allow; the default),
  /// "-" (deny) or "=" (allow it alone) first; "all" for every protocol. A name curl
  /// knows but opensock-fetch does not speak changes nothing; one curl does not know
  /// either is left out with a warning.
  void apply(std::string_view spec, std::vector<std::string>& warnings) {
    while (!spec.empty()) {
      const auto comma = spec.find(',');
      std::string_view token = spec.substr(0, comma);
      spec = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
      if (token.empty()) continue;
      char action = '+';
      if (token.front() == '+' || token.front() == '-' || token.front() == '=') {
        action = token.front();
        token.remove_prefix(1);
      }
      const bool every = opensock::http::iequals(token, "all");
      if (!every && !default_port(lowered(token))) {
        warnings.push_back("unrecognized protocol '" + std::string(token) + "'");
        continue;
      }
      if (action == '=') {
        http_ = https_ = every_other_ = false;
        others_.clear();
      }
      const bool on = action != '-';
      if (every || opensock::http::iequals(token, "http")) http_ = on;
      if (every || opensock::http::iequals(token, "https")) https_ = on;
      if (every) {
        every_other_ = on;
        others_.clear();
      } else if (!opensock::http::iequals(token, "http") &&
                 !opensock::http::iequals(token, "https") && !every_other_) {
        // Every other protocol but some is never none: only a set built up from none
        // is counted name by name.
        const std::string name = lowered(token);
        const auto at = std::find(others_.begin(), others_.end(), name);
        if (on && at == others_.end()) others_.push_back(name);
        if (!on && at != others_.end()) others_.erase(at);
      }
    }
  }

 private:
  static std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }

  bool http_ = true;
  bool https_ = true;
  // The protocols curl knows that opensock-fetch does not speak: all, or those named.
  bool every_other_ = true;
  std::vector<std::string> others_;
};

}  // namespace fetch
