// opensock-ws's command line, in curl's syntax as opensock-fetch reads it: short flags may
// be combined (-vk), a short flag's value may follow it in the same word (-HName:value) or
// be the next word, a long flag's value is always the next word, and "--" ends the flags.
// Errors carry curl's texts and its exit code 2.
#pragma once

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws {

struct options {
  std::string url;

  // The WebSocket connection.
  bool binary = false;
  std::vector<std::string> headers;    // "Name: value"
  std::vector<std::string> protocols;  // offered in Sec-WebSocket-Protocol, in this order
  bool deflate = false;
  std::optional<double> max_time;       // connect and handshake, seconds
  std::optional<double> ping_interval;  // seconds of silence before a ping
  bool verbose = false;
  bool help = false;

  // Where the connection goes, as opensock-fetch's flags of the same names.
  std::vector<std::string> resolve;
  std::vector<std::string> connect_to;
  std::optional<std::string> proxy;
  std::optional<std::string> noproxy;
  std::vector<std::string> deny;
  std::vector<std::string> allow;
  bool deny_private = false;

  // TLS (wss:// URLs).
  bool insecure = false;
  std::optional<std::string> cacert;
};

/// A command line that cannot be used: the message to print after "opensock-ws: ".
struct usage_error {
  std::string message;
};

namespace detail {

struct flag {
  char letter;            // 0 for long-only flags
  std::string_view name;  // without the leading "--"
  bool takes_value;
};

inline constexpr flag flags[] = {
    {0, "binary", false},
    {'H', "header", true},
    {0, "protocol", true},
    {0, "deflate", false},
    {'m', "max-time", true},
    {0, "ping-interval", true},
    {'v', "verbose", false},
    {'h', "help", false},
    {0, "resolve", true},
    {0, "connect-to", true},
    {'x', "proxy", true},
    {0, "noproxy", true},
    {0, "deny", true},
    {0, "allow", true},
    {0, "deny-private", false},
    {'k', "insecure", false},
    {0, "cacert", true},
};

inline const flag* find_long(std::string_view name) {
  for (const auto& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

inline const flag* find_short(char letter) {
  for (const auto& f : flags)
    if (f.letter == letter) return &f;
  return nullptr;
}

// A flag named as the user wrote it: "-m" or "--max-time".
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

inline std::optional<usage_error> apply(options& o, const flag& f, bool as_long,
                                        std::string value) {
  const std::string_view n = f.name;
  if (n == "max-time" || n == "ping-interval") {
    const auto seconds = parse_seconds(value);
    if (!seconds)
      return usage_error{"option " + shown(f, as_long) + ": expected a proper numerical parameter"};
    (n == "max-time" ? o.max_time : o.ping_interval) = *seconds;
  }
  if (n == "header") {
    // Nothing to send without a name and a colon after it.
    const auto colon = value.find(':');
    if (colon == std::string::npos || colon == 0) {
      const std::string got = "'" + value + "'";
      return usage_error{"option " + shown(f, as_long) + ": expected 'Name: value', got " + got};
    }
    o.headers.push_back(std::move(value));
  }
  // Each flag name is distinct, so a flat list of ifs reads as a table.
  if (n == "binary") o.binary = true;
  if (n == "protocol") o.protocols.push_back(std::move(value));
  if (n == "deflate") o.deflate = true;
  if (n == "verbose") o.verbose = true;
  if (n == "help") o.help = true;
  if (n == "resolve") o.resolve.push_back(std::move(value));
  if (n == "connect-to") o.connect_to.push_back(std::move(value));
  if (n == "proxy") o.proxy = std::move(value);
  if (n == "noproxy") o.noproxy = std::move(value);
  if (n == "deny") o.deny.push_back(std::move(value));
  if (n == "allow") o.allow.push_back(std::move(value));
  if (n == "deny-private") o.deny_private = true;
  if (n == "insecure") o.insecure = true;
  if (n == "cacert") o.cacert = std::move(value);
  return std::nullopt;
}

}  // namespace detail

/// Reads argv. On a usage error, `error` says why (exit code 2). A command line without
/// a URL is an error only when --help is not there.
inline options parse_command_line(int argc, char** argv, std::optional<usage_error>& error) {
  options o;
  bool flags_done = false;
  bool has_url = false;
  for (int i = 1; i < argc && !error; ++i) {
    const std::string_view word = argv[i];
    if (flags_done || word.size() < 2 || word[0] != '-') {
      if (has_url) {
        error = usage_error{"one URL only: '" + o.url + "' and '" + std::string(word) + "'"};
        break;
      }
      o.url = word;
      has_url = true;
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    const auto next_value = [&](const detail::flag& f, bool as_long) -> std::optional<std::string> {
      if (i + 1 >= argc) {
        error = usage_error{"option " + detail::shown(f, as_long) + ": requires parameter"};
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (word[1] == '-') {
      const detail::flag* f = detail::find_long(word.substr(2));
      if (!f) {
        error = usage_error{"option " + std::string(word) + ": is unknown"};
        break;
      }
      std::string value;
      if (f->takes_value) {
        auto v = next_value(*f, true);
        if (!v) break;
        value = std::move(*v);
      }
      error = detail::apply(o, *f, true, std::move(value));
      continue;
    }
    // A word of short flags: each letter a flag, until one that takes a value, which
    // takes the rest of the word or else the next word.
    for (std::size_t at = 1; at < word.size(); ++at) {
      const detail::flag* f = detail::find_short(word[at]);
      if (!f) {
        error = usage_error{"option " + std::string(word) + ": is unknown"};
        break;
      }
      if (!f->takes_value) {
        if ((error = detail::apply(o, *f, false, {}))) break;
        continue;
      }
      std::string value;
      if (at + 1 < word.size()) {
        value = std::string(word.substr(at + 1));
      } else {
        auto v = next_value(*f, false);
        if (!v) break;
        value = std::move(*v);
      }
      error = detail::apply(o, *f, false, std::move(value));
      break;
    }
  }
  if (!error && !has_url && !o.help) error = usage_error{"no URL specified!"};
  return o;
}

inline constexpr std::string_view usage_text =
    R"(Usage: opensock-ws [options...] <ws://... or wss://...>
 A WebSocket client on opensock: each line of stdin goes out as a message (without its
 newline), each message received is printed on stdout followed by a newline. At the end
 of stdin the connection is closed (1000) once the server answers the close; a close
 from the server ends it too, its code on stderr unless it is 1000 or 1001.

     --binary                   Send binary messages; print binary ones as they came
 -H, --header <Name: value>     An extra header for the upgrade request (repeatable)
     --protocol <name>          Offer this subprotocol (repeatable, in order)
     --deflate                  Offer permessage-deflate compression
 -m, --max-time <seconds>       Maximum time for the connect and the handshake
     --ping-interval <seconds>  Ping the server after this long without a message
 -v, --verbose                  Show the connection, the upgrade request and the response
 -h, --help                     This help text

 Where the connection goes, as in opensock-fetch:
     --resolve <host:port:addr[,addr]...>  Resolve host:port to these addresses
     --connect-to <HOST1:PORT1:HOST2:PORT2>  Connect to HOST2:PORT2 instead
 -x, --proxy [scheme://][user:password@]host[:port]
                                Use this proxy: http or https (a CONNECT tunnel),
                                socks4, socks4a, socks5 or socks5h; without one, the
                                environment's (ws_proxy, wss_proxy, all_proxy)
     --noproxy <no-proxy-list>  Hosts to reach without a proxy (in place of NO_PROXY)
     --deny <cidr>              Refuse addresses in this network (repeatable)
     --allow <cidr>             Refuse addresses outside these networks (repeatable)
     --deny-private             Refuse loopback, private, link-local, metadata and
                                other internal addresses (the SSRF guard)

 TLS (wss://, verified against the system's CA store unless told otherwise):
 -k, --insecure                 Do not verify the server's certificate or name
     --cacert <file>            Trust the CAs in this PEM file

 Exit codes are curl's: 0 once the connection closed (whatever the code of the close),
 2 for a command line that cannot be used, 7 when the connect failed, 22 when the
 server refused the upgrade, 28 past --max-time, and so on.
)";

}  // namespace ws
