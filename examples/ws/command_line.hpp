// opensock-ws's command line: its flags, read in curl's syntax as opensock-fetch reads
// its own (../common/curl_command_line.hpp). Errors carry curl's texts and its exit
// code 2.
#pragma once

#include "../common/curl_command_line.hpp"

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

using usage_error = curl_command_line::usage_error;

namespace detail {

using curl_command_line::flag;
using curl_command_line::parse_seconds;
using curl_command_line::shown;
using curl_command_line::takes;

inline constexpr flag flags[] = {
    {0, "binary", takes::nothing},
    {'H', "header", takes::value},
    {0, "protocol", takes::value},
    {0, "deflate", takes::nothing},
    {'m', "max-time", takes::value},
    {0, "ping-interval", takes::value},
    {'v', "verbose", takes::nothing},
    {'h', "help", takes::nothing},
    {0, "resolve", takes::value},
    {0, "connect-to", takes::value},
    {'x', "proxy", takes::value},
    {0, "noproxy", takes::value},
    {0, "deny", takes::value},
    {0, "allow", takes::value},
    {0, "deny-private", takes::nothing},
    {'k', "insecure", takes::nothing},
    {0, "cacert", takes::value},
};

// One flag and its value; `negated` for a --no- flag, which turns a boolean off.
inline std::optional<usage_error> apply(options& o, const flag& f, bool as_long, bool negated,
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
  if (n == "binary") o.binary = !negated;
  if (n == "protocol") o.protocols.push_back(std::move(value));
  if (n == "deflate") o.deflate = !negated;
  if (n == "verbose") o.verbose = !negated;
  if (n == "help") o.help = !negated;
  if (n == "resolve") o.resolve.push_back(std::move(value));
  if (n == "connect-to") o.connect_to.push_back(std::move(value));
  if (n == "proxy") o.proxy = std::move(value);
  if (n == "noproxy") o.noproxy = std::move(value);
  if (n == "deny") o.deny.push_back(std::move(value));
  if (n == "allow") o.allow.push_back(std::move(value));
  if (n == "deny-private") o.deny_private = !negated;
  if (n == "insecure") o.insecure = !negated;
  if (n == "cacert") o.cacert = std::move(value);
  return std::nullopt;
}

}  // namespace detail

/// Reads argv. On a usage error, `error` says why (exit code 2). A command line without
/// a URL is an error only when --help is not there.
inline options parse_command_line(int argc, char** argv, std::optional<usage_error>& error) {
  options o;
  bool has_url = false;
  error = curl_command_line::read(
      argc, argv, detail::flags,
      [&](const detail::flag& f, bool as_long, bool negated, std::string value) {
        return detail::apply(o, f, as_long, negated, std::move(value));
      },
      [&](std::string_view word) -> std::optional<usage_error> {
        if (has_url) return usage_error{"one URL only: '" + o.url + "' and '" + std::string(word) + "'"};
        o.url = word;
        has_url = true;
        return std::nullopt;
      });
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
