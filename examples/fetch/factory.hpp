// The socket factory opensock-fetch connects through, composed from opensock's layers
// as the command line asks: --deny, --allow, --deny-private (ssrf_guard), -v (the
// "Trying" lines) and --trace-attempts (trace); and the local end its connections are
// bound to (--interface, --local-port), which the session's routes carry.
// Every layer is present in the type and switched on or off by the command line, so one
// session type serves every combination of flags.
#pragma once

#include "command_line.hpp"
#include "verbose.hpp"

#include <opensock/cidr.hpp>
#include <opensock/factory/address_filter.hpp>
#include <opensock/factory/layer.hpp>
#include <opensock/factory/ssrf_guard.hpp>
#include <opensock/factory/trace.hpp>
#include <opensock/factory/unix_socket.hpp>
#include <opensock/local_binding.hpp>
#include <opensock/socket_factory.hpp>

#include <fmt/core.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fetch {

/// A layer that is there only when the command line asked for it: it forwards each
/// hook to `L` when it holds one, and lets the attempt through otherwise.
template <class L>
class optional_layer : public opensock::layer_base {
 public:
  optional_layer() = default;
  explicit optional_layer(std::optional<L> layer) : layer_(std::move(layer)) {}

  template <class Context>
    requires requires(L& l, Context& c) { l.before(c); }
  opensock::layer_verdict before(Context& context) {
    return layer_ ? layer_->before(context) : opensock::proceed;
  }

  template <class Context, class Result>
    requires requires(L& l, Context& c, Result& r) { l.after(c, r); }
  opensock::layer_verdict after(Context& context, Result& result) {
    return layer_ ? layer_->after(context, result) : opensock::proceed;
  }

  template <class Stream>
    requires requires(L& l, Stream& s) { l.close(s); }
  void close(Stream& stream) {
    if (layer_) layer_->close(stream);
  }

  // An address guard judges the origins behind proxies too, when it is there.
  bool refuses(const asio::ip::address& address) const
    requires opensock::address_guard<L>
  {
    return layer_ && layer_->refuses(address);
  }
  bool guards() const
    requires opensock::address_guard<L>
  {
    return layer_.has_value();
  }

 private:
  std::optional<L> layer_;
};

/// A factory the command line cannot be turned into: the message and curl's code.
struct factory_error {
  std::string message;
  int code = 2;
};

namespace detail {

// --trace-attempts: the trace layer's lines, each with the time since the program
// started, so that the attempts of a Happy Eyeballs race can be read against each other.
inline opensock::trace_layer timed_trace() {
  const auto start = std::chrono::steady_clock::now();
  return opensock::trace([start](std::string_view line) {
    const std::chrono::duration<double, std::milli> at = std::chrono::steady_clock::now() - start;
    fmt::print(stderr, "{} (at {:.1f} ms)\n", line, at.count());
  });
}

inline std::optional<std::vector<opensock::cidr>> networks(const std::vector<std::string>& texts,
                                                           std::string& bad) {
  std::vector<opensock::cidr> out;
  for (const auto& text : texts) {
    auto parsed = opensock::cidr::parse(text);
    if (!parsed) {
      bad = text;
      return std::nullopt;
    }
    out.push_back(*parsed);
  }
  return out;
}

// The first address of the network interface `name` (IPv4 first, as curl's if2ip does
// for a socket of either family it binds), or nullopt when there is no such interface.
inline std::optional<asio::ip::address> interface_address(const std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<asio::ip::address> v4, v6;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || name != i->ifa_name) continue;
    if (i->ifa_addr->sa_family == AF_INET && !v4) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      v4 = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
    } else if (i->ifa_addr->sa_family == AF_INET6 && !v6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(sin6->sin6_addr.s6_addr), std::end(sin6->sin6_addr.s6_addr),
                bytes.begin());
      v6 = asio::ip::address_v6(bytes, sin6->sin6_scope_id);
    }
  }
  ::freeifaddrs(list);
  return v4 ? v4 : v6;
}

}  // namespace detail

/// The TCP factory: the default one, then (inner to outer) the address filters, the
/// SSRF guard, the -v lines and the trace. An address a filter refuses never gets a
/// socket; the trace stands outermost and sees every answer, refusals included.
using tcp_factory = opensock::layered_factory<
    opensock::layered_factory<
        opensock::layered_factory<
            opensock::layered_factory<
                opensock::layered_factory<opensock::default_socket_factory,
                                          optional_layer<opensock::address_filter>>,
                optional_layer<opensock::address_filter>>,
            optional_layer<opensock::ssrf_guard_layer>>,
        verbose_layer>,
    optional_layer<opensock::trace_layer>>;

/// The Unix-socket factory (--unix-socket, --abstract-unix-socket): no address is
/// resolved or filtered, so only the trace applies.
using unix_factory =
    opensock::layered_factory<opensock::unix_socket_factory, optional_layer<opensock::trace_layer>>;

inline std::optional<opensock::trace_layer> trace_if(const options& o) {
  if (!o.trace_attempts) return std::nullopt;
  return detail::timed_trace();
}

inline unix_factory make_unix_factory(const options& o) {
  auto inner = o.abstract_unix_socket ? opensock::abstract_unix_socket(*o.unix_socket)
                                      : opensock::unix_socket(*o.unix_socket);
  return std::move(inner) | optional_layer<opensock::trace_layer>(trace_if(o));
}

/// The local end of the session's connections (--interface ADDRESS, --interface NAME
/// for its address, "if!NAME", "host!ADDRESS", --local-port N[-M]), bound by the
/// connector as curl binds after its open-socket callback; nullopt, with `error` set,
/// when the interface does not exist.
inline std::optional<opensock::local_binding> local_binding_for(const options& o,
                                                                factory_error& error) {
  opensock::local_binding local;
  if (o.interface) {
    std::string name = *o.interface;
    if (name.rfind("if!", 0) == 0 || name.rfind("host!", 0) == 0)
      name = name.substr(name.find('!') + 1);
    std::error_code ec;
    const auto literal = asio::ip::make_address(name, ec);
    if (!ec) {
      local.address = literal;
    } else if (auto found = detail::interface_address(name)) {
      local.address = *found;
    } else {
      error = {fmt::format("Couldn't bind to '{}'", name), 45};
      return std::nullopt;
    }
  }
  if (o.local_port) {
    const auto dash = o.local_port->find('-');
    opensock::port_range ports;
    ports.first = static_cast<std::uint16_t>(std::stoul(o.local_port->substr(0, dash)));
    ports.last = dash == std::string::npos
                     ? ports.first
                     : static_cast<std::uint16_t>(std::stoul(o.local_port->substr(dash + 1)));
    local = local.address ? opensock::local_binding(*local.address, ports)
                          : opensock::local_binding(ports);
  }
  return local;
}

/// Builds the TCP factory, or says why the flags cannot be used.
inline std::optional<tcp_factory> make_tcp_factory(const options& o, factory_error& error) {
  std::string bad;
  std::optional<opensock::address_filter> deny, allow;
  if (!o.deny.empty()) {
    auto list = detail::networks(o.deny, bad);
    if (!list) {
      error = {fmt::format("option --deny: not an IP network: '{}'", bad), 2};
      return std::nullopt;
    }
    deny = opensock::deny(std::move(*list));
  }
  if (!o.allow.empty()) {
    auto list = detail::networks(o.allow, bad);
    if (!list) {
      error = {fmt::format("option --allow: not an IP network: '{}'", bad), 2};
      return std::nullopt;
    }
    allow = opensock::allow(std::move(*list));
  }
  std::optional<opensock::ssrf_guard_layer> guard;
  if (o.deny_private) guard = opensock::ssrf_guard();

  return opensock::default_socket_factory{} |
         optional_layer<opensock::address_filter>(std::move(deny)) |
         optional_layer<opensock::address_filter>(std::move(allow)) |
         optional_layer<opensock::ssrf_guard_layer>(std::move(guard)) | verbose_layer(o.verbose) |
         optional_layer<opensock::trace_layer>(trace_if(o));
}

}  // namespace fetch
