// curl's two ways to steer a name without DNS: --resolve HOST:PORT:ADDR[,ADDR…] gives the
// addresses of HOST:PORT, --connect-to HOST:PORT:HOST2:PORT2 sends connections for
// HOST:PORT to HOST2:PORT2. Both change only where the socket goes, never the name
// the request carries (Host header, TLS name).
#pragma once

#include <opensock/connector/resolve.hpp>
#include <opensock/detail/async_spawn.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace opensock {
namespace detail {

// Splits "A:B:C…" at colons outside brackets, so "[::1]:80" has two fields.
inline std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  bool bracket = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') bracket = true;
    if (text[i] == ']') bracket = false;
    if (text[i] == ':' && !bracket) {
      fields.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  fields.push_back(text.substr(start));
  return fields;
}

inline std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace detail

/// One --resolve entry: HOST:PORT:ADDRESS[,ADDRESS…]; HOST or PORT may be "*" for any.
struct resolve_override {
  std::string host;
  std::optional<std::uint16_t> port;  ///< nullopt for "*"
  std::vector<asio::ip::address> addresses;

  /// Parses curl's syntax (a leading '+' is accepted and ignored, IPv6 addresses may
  /// be bracketed, empty items between commas are skipped); nullopt for anything
  /// malformed or without an address.
  static std::optional<resolve_override> parse(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const auto first = text.find(':');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = text.find(':', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    resolve_override entry;
    entry.host = std::string(text.substr(0, first));
    const std::string_view port_text = text.substr(first + 1, second - first - 1);
    if (port_text != "*") {
      entry.port = detail::parse_port(port_text);
      if (!entry.port) return std::nullopt;
    }
    if (entry.host.empty()) return std::nullopt;
    std::string_view rest = text.substr(second + 1);
    for (;;) {
      const auto comma = rest.find(',');
      const std::string_view item = detail::strip_brackets(rest.substr(0, comma));
      if (!item.empty()) {
        std::error_code ec;
        entry.addresses.push_back(asio::ip::make_address(item, ec));
        if (ec) return std::nullopt;
      }
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    if (entry.addresses.empty()) return std::nullopt;
    return entry;
  }

  bool matches(std::string_view h, std::uint16_t p) const noexcept {
    return (!port || *port == p) &&
           (host == "*" || detail::iequals_ascii(host, detail::strip_brackets(h)));
  }
  /// How specific the entry is, for choosing among several that match: an exact host
  /// beats "*", an exact port beats "*".
  int specificity() const noexcept { return (host == "*" ? 0 : 2) + (port ? 1 : 0); }
};

/// One --connect-to entry: HOST:PORT:HOST2:PORT2. An empty HOST or PORT matches any;
/// an empty HOST2 or PORT2 keeps the original.
struct connect_to_rule {
  std::string host;
  std::optional<std::uint16_t> port;
  std::string to_host;
  std::optional<std::uint16_t> to_port;

  static std::optional<connect_to_rule> parse(std::string_view text) {
    const auto fields = detail::split_fields(text);
    if (fields.size() != 4) return std::nullopt;
    connect_to_rule rule;
    rule.host = std::string(detail::strip_brackets(fields[0]));
    rule.to_host = std::string(detail::strip_brackets(fields[2]));
    if (!fields[1].empty() && !(rule.port = detail::parse_port(fields[1]))) return std::nullopt;
    if (!fields[3].empty() && !(rule.to_port = detail::parse_port(fields[3]))) return std::nullopt;
    return rule;
  }

  bool matches(std::string_view h, std::uint16_t p) const noexcept {
    return (host.empty() || detail::iequals_ascii(host, detail::strip_brackets(h))) &&
           (!port || *port == p);
  }
};

/// How names become endpoints: curl's -4/-6, --connect-to and --resolve.
// A constructor rather than an aggregate, for g++ 12 (see connect_options).
struct resolve_options {
  resolve_options() {}

  ip_version version = ip_version::any;
  std::vector<connect_to_rule> connect_to;
  std::vector<resolve_override> overrides;
};

/// Where a connection to `host`:`port` goes after the first matching --connect-to rule.
/// `host` views the name given or the rule's.
struct network_target {
  std::string_view host;
  std::uint16_t port = 0;
};

inline network_target apply_connect_to(const resolve_options& options, std::string_view host,
                                       std::uint16_t port) {
  for (const auto& rule : options.connect_to) {
    if (!rule.matches(host, port)) continue;
    return {rule.to_host.empty() ? host : std::string_view(rule.to_host),
            rule.to_port.value_or(port)};
  }
  return {host, port};
}

/// The most specific --resolve entry that matches `host`:`port` (the first of equally
/// specific ones), or null when none does.
inline const resolve_override* best_override(const resolve_options& options,
                                             std::string_view host, std::uint16_t port) {
  const resolve_override* best = nullptr;
  for (const auto& entry : options.overrides)
    if (entry.matches(host, port) && (!best || entry.specificity() > best->specificity()))
      best = &entry;
  return best;
}

inline bool is_version(const asio::ip::address& address, ip_version version) noexcept {
  return version == ip_version::any || address.is_v6() == (version == ip_version::v6);
}

/// Keeps the endpoints of the wanted IP version.
inline void keep_version(std::vector<asio::ip::tcp::endpoint>& endpoints, ip_version version) {
  if (version == ip_version::any) return;
  std::erase_if(endpoints, [&](const asio::ip::tcp::endpoint& e) {
    return !is_version(e.address(), version);
  });
}

}  // namespace opensock

namespace opensock {

/// What resolving `host`:`port` gives when it needs no lookup, found in place: the
/// `given` addresses (curl's --resolve, whatever -4/-6 say, as curl documents), else an
/// address or localhost, of the wanted `version`; nullopt when it needs a lookup.
inline std::optional<resolve_result> resolve_without_lookup(
    std::string_view host, std::uint16_t port, std::span<const asio::ip::address> given,
    ip_version version) {
  resolve_result result;
  if (!given.empty()) {
    for (const auto& address : given) result.endpoints.emplace_back(address, port);
    return result;
  }
  result.endpoints = endpoints_without_lookup(host, port);
  if (result.endpoints.empty()) return std::nullopt;
  keep_version(result.endpoints, version);
  if (result.endpoints.empty()) result.error = error::couldnt_resolve_host;
  return result;
}

/// The common case of resolve_without_lookup(), without allocating: the endpoint of an
/// IP literal of a wanted version, when no addresses are given. nullopt in every other
/// case.
inline std::optional<asio::ip::tcp::endpoint> literal_endpoint(
    std::string_view host, std::uint16_t port, std::span<const asio::ip::address> given,
    ip_version version) {
  if (!given.empty()) return std::nullopt;
  const auto address = ip_literal(host);
  if (!address || !is_version(*address, version)) return std::nullopt;
  return asio::ip::tcp::endpoint(*address, port);
}

/// Resolves `host`:`port` to the `given` addresses, or without a lookup when it can
/// (resolve_without_lookup()), else by a lookup restricted to `version`. A lookup
/// follows `stop`, by default the coroutine's own cancellation. `given` must outlive
/// the operation.
inline asio::awaitable<resolve_result> resolve(std::string host, std::uint16_t port,
                                               std::span<const asio::ip::address> given,
                                               ip_version version,
                                               asio::cancellation_state stop = {}) {
  if (auto found = resolve_without_lookup(host, port, given, version)) co_return std::move(*found);
  resolve_result result = co_await resolve(std::move(host), port, version, stop);
  if (result.error) co_return result;
  keep_version(result.endpoints, version);
  if (result.endpoints.empty()) result.error = error::couldnt_resolve_host;
  co_return result;
}

namespace detail {

// The addresses the --resolve entries give `target`.
inline std::span<const asio::ip::address> given_addresses(const resolve_options& options,
                                                          const network_target& target) {
  const resolve_override* entry = best_override(options, target.host, target.port);
  return entry ? std::span<const asio::ip::address>(entry->addresses)
               : std::span<const asio::ip::address>();
}

}  // namespace detail

/// resolve_without_lookup() as curl's name options say: --connect-to first, then a
/// --resolve entry for the resulting name and port, else an address or localhost of a
/// version -4/-6 allow.
inline std::optional<resolve_result> resolve_without_lookup(std::string_view host,
                                                            std::uint16_t port,
                                                            const resolve_options& options) {
  const network_target target = apply_connect_to(options, host, port);
  return resolve_without_lookup(target.host, target.port,
                                detail::given_addresses(options, target), options.version);
}

/// literal_endpoint() as curl's name options say: nullopt whenever a --connect-to rule
/// or a --resolve entry could apply.
inline std::optional<asio::ip::tcp::endpoint> literal_endpoint(std::string_view host,
                                                               std::uint16_t port,
                                                               const resolve_options& options) {
  if (!options.connect_to.empty() || !options.overrides.empty()) return std::nullopt;
  return literal_endpoint(host, port, {}, options.version);
}

/// Resolves `host`:`port` as curl does with these options: --connect-to first, then a
/// --resolve entry for the resulting name and port, else a lookup restricted by -4/-6
/// (--resolve addresses are used whatever -4/-6 say, as curl documents).
/// `options` must outlive the operation (co_await it in the same expression). A lookup
/// follows `stop`, by default the coroutine's own cancellation.
inline asio::awaitable<resolve_result> resolve(std::string host, std::uint16_t port,
                                               const resolve_options& options,
                                               asio::cancellation_state stop = {}) {
  // Not a coroutine of its own: the one it returns owns the name it resolves.
  const network_target target = apply_connect_to(options, host, port);
  return resolve(std::string(target.host), target.port, detail::given_addresses(options, target),
                 options.version, std::move(stop));
}

/// resolve() as an Asio asynchronous operation run on `executor`: completes `token` with
/// void(std::error_code, resolve_result), and per-operation cancellation (terminal)
/// abandons the lookup with operation_aborted. `options` must outlive it.
template <class CompletionToken>
auto async_resolve(const asio::any_io_executor& executor, std::string host, std::uint16_t port,
                   const resolve_options& options, CompletionToken&& token) {
  return detail::async_stage<resolve_result>(
      executor,
      [host = std::move(host), port, &options] { return resolve(host, port, options); },
      std::forward<CompletionToken>(token));
}

}  // namespace opensock
