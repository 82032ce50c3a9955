// One HTTP cookie (RFC 6265bis) and the reading of a Set-Cookie field value into one, with
// the rules and limits curl's cookie engine applies (lib/cookie.c), so a jar fills as curl's.
#pragma once

#include <opensock/http/url.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

// Defined to 1 by the CMake target opensock::psl when libpsl was found (link libpsl and
// define it yourself without CMake). Without it a Domain attribute needs a dot that is not
// its last byte, or must be "localhost", as in a curl built without libpsl.
#ifndef OPENSOCK_HAS_PSL
#define OPENSOCK_HAS_PSL 0
#endif

namespace opensock::http {

/// Cookies live in wall-clock time: expiry dates come from servers and cookie files.
using cookie_clock = std::chrono::system_clock;
/// An expiry, in whole seconds since 1970 as curl keeps it: a cookie file may hold any
/// 64-bit count, more than a nanosecond time point can.
using cookie_time = std::chrono::sys_seconds;

/// Whether this build checks cookie domains against the public suffix list (libpsl).
inline constexpr bool cookie_psl_built = OPENSOCK_HAS_PSL != 0;

/// The SameSite attribute as received; curl ignores it, opensock keeps it for
/// request_context::cross_site.
enum class cookie_same_site { unspecified, none, lax, strict };

/// curl's limits on cookies; each default is the curl constant named beside it.
struct cookie_limits {
  /// MAX_COOKIE_LINE: a longer Set-Cookie value is ignored, and so is a cookie-file line of
  /// this length or more (curl reads the file into a buffer of this size).
  std::size_t max_line = 5000;
  /// MAX_NAME: a cookie whose name and value together are longer is ignored.
  std::size_t max_name_value = 4096;
  /// MAX_SET_COOKIE_AMOUNT: cookies taken from one response; further fields are ignored.
  std::size_t max_set_cookie_per_response = 50;
  /// MAX_COOKIE_HEADER_LEN: the longest "Cookie: ..." line sent; the cookie that would
  /// reach it and every one after it stay out.
  std::size_t max_header = 8190;
  /// MAX_COOKIE_SEND_AMOUNT: the most cookies sent in one request.
  std::size_t max_sent = 150;
  /// Cookies kept per domain, the oldest evicted past it. curl has no such limit, so 0,
  /// no limit, is the default.
  std::size_t max_per_domain = 0;
  /// COOKIES_MAXAGE: expiries further ahead are cut to now + this (RFC 6265bis §5.6).
  std::chrono::seconds max_age = std::chrono::hours(400 * 24);

  cookie_limits() = default;
};

struct cookie {
  using clock = cookie_clock;

  std::string name;
  std::string value;
  /// The host for a host-only cookie, else the Domain attribute as written, without a
  /// leading dot (compared without regard to case).
  std::string domain;
  /// Without a trailing '/' (but "/" itself), as curl keeps it.
  std::string path = "/";
  /// Unset: a session cookie, gone when the session ends (curl's -j).
  std::optional<cookie_time> expires;
  bool secure = false;
  bool http_only = false;
  /// Sent to `domain` only; otherwise to its subdomains too (the file's TRUE flag).
  bool host_only = true;
  cookie_same_site same_site = cookie_same_site::unspecified;
  clock::time_point creation_time{};
  /// Set by the jar: the order cookies came in, kept when one replaces another; the file
  /// is written and ties in the Cookie header broken by it.
  std::uint64_t creation_order = 0;

  cookie() = default;
  cookie(std::string name, std::string value, std::string domain, std::string path = "/",
         std::optional<cookie_time> expires = std::nullopt, bool secure = false,
         bool http_only = false, bool host_only = true,
         cookie_same_site same_site = cookie_same_site::unspecified)
      : name(std::move(name)),
        value(std::move(value)),
        domain(std::move(domain)),
        path(std::move(path)),
        expires(expires),
        secure(secure),
        http_only(http_only),
        host_only(host_only),
        same_site(same_site) {}

  /// Whether the cookie has expired at `now` (curl: its expiry is before now's second).
  bool expired(clock::time_point now) const noexcept {
    return expires && *expires < std::chrono::floor<std::chrono::seconds>(now);
  }
};

/// The cookie a Set-Cookie field `value` sets, received in a response from `from`, or
/// nullopt when curl would ignore it: no name or '=' in the first pair, control bytes in
/// the name or value, over the limits, Secure (or a __Secure-/__Host- prefix) from an
/// insecure origin, a Domain the host is not within, or a public suffix. An origin is
/// secure over https or wss, and for the hosts localhost, 127.0.0.1 and ::1 (curl's
/// exception). A cookie that has already expired (Max-Age ≤ 0, a past date) is returned:
/// stored, it deletes the one it replaces.
std::optional<cookie> parse_set_cookie(std::string_view value, const url& from,
                                       cookie_clock::time_point now,
                                       const cookie_limits& limits = {});

/// Whether a cookie date (RFC 6265 §5.1.1) parses, and to what.
std::optional<cookie_time> parse_cookie_date(std::string_view text);

}  // namespace opensock::http

#include <opensock/http/impl/cookie.hpp>
