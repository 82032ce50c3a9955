// The connector's first stage: a host name and port become the list of TCP endpoints to
// try, in order. Numeric hosts and "localhost" never reach a resolver.
#pragma once

#include <opensock/detail/same_text.hpp>
#include <opensock/error.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace opensock {

struct resolve_result {
  std::error_code error;
  std::vector<asio::ip::tcp::endpoint> endpoints;
};

namespace detail {

// RFC 6761 reserves "localhost" and its subdomains for loopback; curl answers them
// without a lookup, and so do we, so that such a name never leaves the machine.
inline bool is_localhost_name(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  constexpr std::string_view name = "localhost";
  if (iequals_ascii(host, name)) return true;
  return host.size() > name.size() + 1 && host[host.size() - name.size() - 1] == '.' &&
         iequals_ascii(host.substr(host.size() - name.size()), name);
}

// A dotted-quad IPv4 address as inet_pton reads it: four decimal parts from 0 to 255,
// none with a leading zero. Parsed here because this runs for every new connection, and
// asio::ip::make_address_v4 makes a string for inet_pton first.
inline std::optional<asio::ip::address_v4> parse_dotted_quad(std::string_view text) noexcept {
  asio::ip::address_v4::bytes_type bytes{};
  const char* p = text.data();
  const char* const end = p + text.size();
  // The digit at p; 10 or more for any other character, and at the end.
  const auto digit = [&] { return p != end ? static_cast<unsigned>(*p - '0') : 10u; };
  // Part by part, each digit tested once: this runs for every new connection to an
  // address given as such.
  for (std::size_t part = 0;; ++part) {
    unsigned value = digit();
    if (value > 9) return std::nullopt;
    ++p;
    // Up to two digits more, none after a leading zero.
    if (const unsigned second = digit(); second < 10) {
      if (value == 0) return std::nullopt;
      value = value * 10 + second;
      ++p;
      if (const unsigned third = digit(); third < 10) {
        value = value * 10 + third;
        ++p;
        if (value > 255) return std::nullopt;
      }
    }
    bytes[part] = static_cast<unsigned char>(value);
    if (part == 3) break;
    // A fourth digit fails here, or at the end's check.
    if (p == end || *p != '.') return std::nullopt;
    ++p;
  }
  if (p != end) return std::nullopt;
  return asio::ip::address_v4(bytes);
}

inline std::string_view strip_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace detail

/// The address an IP literal `host` spells, in brackets or not; nullopt for a name.
inline std::optional<asio::ip::address> ip_literal(std::string_view host) {
  const std::string_view bare = detail::strip_brackets(host);
  // Dotted IPv4 first: make_address() tries IPv6 before it.
  if (const auto v4 = detail::parse_dotted_quad(bare)) return asio::ip::address(*v4);
  std::error_code ec;
  const auto literal = asio::ip::make_address(bare, ec);
  if (ec) return std::nullopt;
  return literal;
}

/// The endpoints of a host that needs no lookup: an IP literal gives itself, and
/// "localhost" (or a name under it) gives ::1 then 127.0.0.1. Empty for any other name.
inline std::vector<asio::ip::tcp::endpoint> endpoints_without_lookup(std::string_view host,
                                                                     std::uint16_t port) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  if (const auto literal = ip_literal(host)) {
    endpoints.emplace_back(*literal, port);
  } else if (detail::is_localhost_name(detail::strip_brackets(host))) {
    endpoints.reserve(2);
    endpoints.emplace_back(asio::ip::address_v6::loopback(), port);
    endpoints.emplace_back(asio::ip::address_v4::loopback(), port);
  }
  return endpoints;
}

enum class ip_version { any, v4, v6 };

namespace detail {

// What a lookup in progress shares with the resolve() awaiting it. Not a class local to
// resolve(): g++ 12 fails to mangle one inside a coroutine in optimised builds with
// sanitizers.
struct name_lookup {
  explicit name_lookup(const asio::any_io_executor& executor)
      : resolver(executor), wake(executor) {}
  asio::ip::tcp::resolver resolver;
  asio::steady_timer wake;
  std::error_code error;
  asio::ip::tcp::resolver::results_type found;
  bool done = false;
};

}  // namespace detail

/// Resolves `host` asynchronously: first as endpoints_without_lookup() does, any other
/// name through getaddrinfo on Asio's resolver, restricted to `version`. A name that
/// does not resolve ends in error::couldnt_resolve_host (curl's 6). Cancellation, by
/// `stop` or by default the coroutine's own, is honoured at once: a lookup still running
/// is abandoned, not waited for.
inline asio::awaitable<resolve_result> resolve(std::string host, std::uint16_t port,
                                               ip_version version = ip_version::any,
                                               asio::cancellation_state stop = {}) {
  using asio::ip::tcp;
  resolve_result result;
  result.endpoints = endpoints_without_lookup(host, port);
  if (!result.endpoints.empty()) co_return result;
  const std::string_view bare = detail::strip_brackets(host);
  if (bare.empty()) {
    result.error = error::url_malformat;
    co_return result;
  }

  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  if (stop.cancelled() != asio::cancellation_type::none) {
    result.error = asio::error::operation_aborted;
    co_return result;
  }
  // getaddrinfo cannot be interrupted: the lookup reports into state it shares with
  // this coroutine, which waits on a timer that cancellation or the lookup ends.
  auto state = std::make_shared<detail::name_lookup>(co_await asio::this_coro::executor);
  auto on_done = [state](std::error_code ec, tcp::resolver::results_type found) {
    state->error = ec;
    state->found = std::move(found);
    state->done = true;
    state->wake.cancel();
  };
  const std::string service = std::to_string(port);
  const auto flags = tcp::resolver::numeric_service;
  if (version == ip_version::any) {
    state->resolver.async_resolve(bare, service, flags, on_done);
  } else {
    state->resolver.async_resolve(version == ip_version::v4 ? tcp::v4() : tcp::v6(), bare,
                                  service, flags, on_done);
  }
  state->wake.expires_at(asio::steady_timer::time_point::max());
  std::error_code ignored;
  co_await state->wake.async_wait(asio::bind_cancellation_slot(
      stop.slot(), asio::redirect_error(asio::use_awaitable, ignored)));
  if (!state->done) {
    state->resolver.cancel();
    result.error = asio::error::operation_aborted;
    co_return result;
  }
  if (state->error) {
    result.error = error::couldnt_resolve_host;
    co_return result;
  }
  result.endpoints.reserve(state->found.size());
  for (const auto& entry : state->found) result.endpoints.push_back(entry.endpoint());
  if (result.endpoints.empty()) result.error = error::host_has_no_address;
  co_return result;
}

}  // namespace opensock
