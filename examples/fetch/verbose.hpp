// -v and --trace-attempts: what curl -v shows on stderr ("*" for the connection, "> "
// for the request head, "< " for the response head), and opensock's own per-attempt
// trace. The "Trying" lines come from a factory layer, so they appear as each attempt
// starts, in the order the connector makes them (Happy Eyeballs included).
#pragma once

#include <opensock/factory/layer.hpp>
#include <opensock/format.hpp>
#include <opensock/http/transfer_hooks.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <string_view>

namespace fetch {

/// A layer that writes curl's "*   Trying ADDRESS:PORT..." for every attempt, and a
/// line for each attempt an inner layer refused (--deny, --deny-private) or aborted.
class verbose_layer : public opensock::layer_base {
 public:
  explicit verbose_layer(bool enabled) : enabled_(enabled) {}

  template <class Context>
  opensock::layer_verdict before(const Context& context) const {
    if (enabled_) fmt::print(stderr, "*   Trying {}...\n", context.endpoint);
    return opensock::proceed;
  }

  template <class Context, class Result>
  opensock::layer_verdict after(const Context& context, const Result& result) const {
    using kind = typename Result::kind;
    if (!enabled_) return opensock::proceed;
    if (result.what() == kind::refused)
      fmt::print(stderr, "* {} refused by the socket factory: {}\n", context.endpoint,
                 result.error());
    if (result.what() == kind::aborted)
      fmt::print(stderr, "* {} aborted by the socket factory: {}\n", context.endpoint,
                 result.error());
    return opensock::proceed;
  }

 private:
  bool enabled_;
};

/// "* Connected to HOST (IP) port N (#id)", or curl's line for a reused connection.
/// HOST is the first proxy's for a connection through proxies, as curl names it.
inline void show_connection(const opensock::http::connection_info& info, std::string_view host,
                            int id) {
  if (info.reused) {
    fmt::print(stderr, "* Re-using existing connection #{} with host {}\n", id, host);
    return;
  }
  if (info.route && !info.route->proxies.empty()) host = info.route->proxies.front().host;
  fmt::print(stderr, "* Connected to {} ({}) port {} (#{})\n", host, info.remote.address(),
             info.remote.port(), id);
}

/// Each line of `text` with `mark` before it.
inline void show_lines(std::string_view mark, std::string_view text) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line =
        text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    fmt::print(stderr, "{}{}", mark, line);
    text.remove_prefix(line.size());
  }
}

/// Each line of the request head with "> " before it, as curl -v shows it.
inline void show_request_head(std::string_view head) { show_lines("> ", head); }

/// The CONNECT request and the proxy's answer, as curl -v shows them.
inline void show_tunnel(const opensock::http::proxy_answer& answer) {
  if (answer.request.empty()) return;
  const auto space = answer.request.find(' ');
  const auto target = answer.request.substr(space + 1, answer.request.find(' ', space + 1) -
                                                           space - 1);
  fmt::print(stderr, "* Establish HTTP proxy tunnel to {}\n", target);
  show_lines("> ", answer.request);
  show_lines("< ", answer.head);
  if (answer.status >= 200 && answer.status <= 299) {
    fmt::print(stderr, "* CONNECT tunnel established, response {}\n", answer.status);
  } else if (answer.status) {
    fmt::print(stderr, "* CONNECT tunnel failed, response {}\n", answer.status);
  }
}

/// The SOCKS hops of a new connection, each with what it was asked to reach, as curl
/// -v shows them (the HTTP proxy's tunnel by show_tunnel()).
inline void show_socks_hops(const opensock::route& r) {
  for (std::size_t i = 0; i < r.proxies.size(); ++i) {
    const auto& via = r.proxies[i];
    if (!opensock::is_socks(via.kind)) continue;
    const bool last = i + 1 == r.proxies.size();
    const std::string_view host = last ? r.host_to_reach() : std::string_view(r.proxies[i + 1].host);
    const auto port = last ? r.port_to_reach() : r.proxies[i + 1].port;
    const std::string_view version = via.kind == opensock::proxy_kind::socks4    ? "SOCKS4"
                                     : via.kind == opensock::proxy_kind::socks4a ? "SOCKS4a"
                                                                                 : "SOCKS5";
    fmt::print(stderr, "* {} connect to {}:{} ({} resolved)\n", version, host, port,
               opensock::resolves_remotely(via.kind) ? "remotely" : "locally");
    fmt::print(stderr, "* {} request granted.\n", version);
  }
}

/// One response head line (with its line ending, as received) with "< " before it.
inline void show_response_line(std::string_view line) {
  fmt::print(stderr, "< {}", line);
}

/// --trace-attempts: the connector's record of each attempt of one connect: address,
/// outcome, when it started and how long it took.
template <class Attempts>
void show_attempt_list(const Attempts& attempts) {
  using ms = std::chrono::duration<double, std::milli>;
  for (const auto& a : attempts) {
    const char* outcome = "failed";
    switch (a.outcome) {
      case opensock::attempt_outcome::connected: outcome = "connected"; break;
      case opensock::attempt_outcome::refused: outcome = "refused"; break;
      case opensock::attempt_outcome::failed: outcome = "failed"; break;
      case opensock::attempt_outcome::aborted: outcome = "aborted"; break;
    }
    if (a.error) {
      fmt::print(stderr, "* attempt {} to {}: {} ({}), started at {:.1f} ms, took {:.1f} ms\n",
                 a.number, a.endpoint, outcome, a.error, ms(a.started).count(), ms(a.took).count());
    } else {
      fmt::print(stderr, "* attempt {} to {}: {}, started at {:.1f} ms, took {:.1f} ms\n", a.number,
                 a.endpoint, outcome, ms(a.started).count(), ms(a.took).count());
    }
  }
}

/// curl -v's line for each attempt whose connect failed.
template <class Attempts>
void show_failed_attempts(const Attempts& attempts) {
  for (const auto& a : attempts)
    if (a.outcome == opensock::attempt_outcome::failed)
      fmt::print(stderr, "* connect to {} port {} failed: {}\n", a.endpoint.address(),
                 a.endpoint.port(), a.error.message());
}

/// --trace-attempts for a connection a request is about to use.
inline void show_attempts(const opensock::http::connection_info& info) {
  if (info.reused) {
    fmt::print(stderr, "* attempts: none, the connection to {} was reused\n", info.remote);
  } else if (info.attempts) {
    show_attempt_list(*info.attempts);
  }
}

}  // namespace fetch
