// Definitions for opensock/http/cookie.hpp: Set-Cookie parsing, cookie dates, domain and
// path matching and the public-suffix check, shared with the jar and the cookie file.
#pragma once

#include <opensock/http/cookie.hpp>
#include <opensock/http/fields.hpp>

#include <asio/ip/address.hpp>

#include <algorithm>
#include <limits>
#include <string>
#include <system_error>

#if OPENSOCK_HAS_PSL
#include <libpsl.h>
#endif

namespace opensock::http {
namespace detail {

inline bool cookie_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

inline std::string_view trim_cookie_blanks(std::string_view s) noexcept {
  while (!s.empty() && cookie_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && cookie_blank(s.back())) s.remove_suffix(1);
  return s;
}

inline char cookie_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

inline std::string cookie_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = cookie_lower(c);
  return out;
}

// Control bytes and DEL: servers answer 400 to requests that carry them, so curl refuses
// them in names and values, wherever the cookie comes from.
inline bool invalid_cookie_octets(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

// An IPv4 or IPv6 literal, as inet_pton reads them (curl's Curl_host_is_ipnum).
inline bool cookie_host_is_ip(std::string_view host) {
  if (host.empty() || host.size() > 64) return false;
  const std::string text(host);
  std::error_code ec;
  (void)asio::ip::make_address_v4(text, ec);
  if (!ec) return true;
  if (host.find('%') != std::string_view::npos) return false;  // no scope in a cookie host
  (void)asio::ip::make_address_v6(text, ec);
  return !ec;
}

// Whether `host` is `domain` or ends in "." + domain, without regard to case.
inline bool cookie_tailmatch(std::string_view domain, std::string_view host) noexcept {
  if (host.size() < domain.size()) return false;
  if (!iequals(domain, host.substr(host.size() - domain.size()))) return false;
  return host.size() == domain.size() || host[host.size() - domain.size() - 1] == '.';
}

// RFC 6265 §5.1.4, as curl does it: the cookie path (never ending in '/' but for "/") is
// the request path or a prefix of it that stops before a '/'. Case matters.
inline bool cookie_path_match(std::string_view cookie_path, std::string_view uri_path) noexcept {
  if (cookie_path.size() == 1) return true;
  if (uri_path.empty() || uri_path.front() != '/') uri_path = "/";
  if (uri_path.size() < cookie_path.size()) return false;
  if (uri_path.substr(0, cookie_path.size()) != cookie_path) return false;
  return uri_path.size() == cookie_path.size() || uri_path[cookie_path.size()] == '/';
}

// curl's sanitize_cookie_path: quotes some sites put around the path dropped, a path that
// does not start with '/' made "/", trailing '/'s removed (curl removes one, so its "/a//"
// is written "/a/" and read back "/a": all of them go here, and a file reads back as
// written).
inline std::string sanitize_cookie_path(std::string_view path) {
  if (!path.empty() && path.front() == '"') {
    path.remove_prefix(1);
    if (!path.empty() && path.back() == '"') path.remove_suffix(1);
  }
  if (path.empty() || path.front() != '/') return "/";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

// The host as the cookie engine sees it: curl strips a trailing dot from the connection's
// host name before cookies are matched.
inline std::string_view cookie_host(const url& u) noexcept {
  std::string_view host = u.host;
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  return host;
}

// curl's secure context: a TLS scheme, or a host that cannot leave the machine.
inline bool cookie_secure_origin(const url& u) noexcept {
  const std::string_view host = cookie_host(u);
  return u.scheme == "https" || u.scheme == "wss" || iequals(host, "localhost") ||
         host == "127.0.0.1" || host == "::1";
}

#if OPENSOCK_HAS_PSL
// The list curl uses: the system's newest (psl_latest), else the one built into libpsl.
// Loaded once per process and kept: it is read-only, so every thread may use it.
class cookie_psl {
 public:
  static const psl_ctx_t* get() {
    static const cookie_psl instance;
    return instance.ctx_;
  }
  cookie_psl(const cookie_psl&) = delete;
  cookie_psl& operator=(const cookie_psl&) = delete;
  ~cookie_psl() {
    if (latest_) psl_free(latest_);
  }

 private:
  cookie_psl() : latest_(psl_latest(nullptr)), ctx_(latest_ ? latest_ : psl_builtin()) {}
  psl_ctx_t* latest_;
  const psl_ctx_t* ctx_;
};
#endif

// Without libpsl curl asks a Domain attribute for a dot that is not its last byte, or to
// be "localhost": a top-level domain cannot be set then.
inline bool cookie_bad_domain(std::string_view domain) noexcept {
  if (iequals(domain, "localhost")) return false;
  const auto dot = domain.find('.');
  return dot == std::string_view::npos || dot + 1 == domain.size();
}

// Whether `host` (nullptr for a cookie from a file) may hold a cookie for `domain`: the
// public-suffix check of curl's is_public_suffix, libpsl's verdict on lower-case names
// without trailing dots. Without libpsl every domain passes here, as in curl.
inline bool cookie_domain_acceptable(std::string_view domain,
                                     std::optional<std::string_view> host) {
#if OPENSOCK_HAS_PSL
  if (cookie_host_is_ip(domain)) return true;
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (host && !host->empty() && host->back() == '.') host->remove_suffix(1);
  // curl's buffers hold 255 bytes: longer names are refused.
  if (domain.size() >= 256 || (host && host->size() >= 256)) return false;
  const psl_ctx_t* psl = cookie_psl::get();
  if (!psl) return false;  // curl: "libpsl problem, rejecting cookie for safety"
  const std::string lower_domain = cookie_lower(domain);
  if (!host) return psl_is_public_suffix(psl, lower_domain.c_str()) == 0;
  const std::string lower_host = cookie_lower(*host);
  return psl_is_cookie_domain_acceptable(psl, lower_host.c_str(), lower_domain.c_str()) != 0;
#else
  (void)domain;
  (void)host;
  return true;
#endif
}

// Whether `domain` is a public suffix (a listed one, or an unlisted top-level domain such
// as "localhost" or "test"): RFC 6265bis §5.7 step 9 makes a cookie set for one by that
// very host host-only.
inline bool cookie_domain_is_public_suffix([[maybe_unused]] std::string_view domain) {
#if OPENSOCK_HAS_PSL
  const psl_ctx_t* psl = cookie_psl::get();
  if (!psl || domain.size() >= 256) return false;
  const std::string lower = cookie_lower(domain);
  return psl_is_public_suffix(psl, lower.c_str()) != 0;
#else
  return false;
#endif
}

// The checks of curl's Curl_cookie_add that any cookie passes, from a server or a file:
// the prefixes of RFC 6265bis §4.1.3, matched with case as curl does.
inline bool cookie_prefixes_hold(const cookie& c) noexcept {
  const std::string_view name = c.name;
  if (name.starts_with("__Secure-")) return c.secure;
  if (name.starts_with("__Host-")) return c.secure && c.path == "/" && c.host_only;
  return true;
}

// curl's cap_expires: no expiry more than max_age ahead, the capped one rounded to a
// minute (so a test's expected file does not depend on the second it ran).
inline std::int64_t cap_cookie_expiry(std::int64_t expires, std::int64_t now,
                                      std::chrono::seconds max_age) noexcept {
  constexpr auto top = std::numeric_limits<std::int64_t>::max();
  const std::int64_t age = max_age.count();
  if (expires != 0 && age >= 0 && top - age - 30 > now) {
    std::int64_t cap = now + age;
    if (expires > cap) {
      cap += 30;
      expires = cap / 60 * 60;
    }
  }
  return expires;
}

// The decimal number at the start of `s`, curl's curlx_str_number: nullopt without a
// digit, INT64_MAX on overflow; what follows the digits is ignored.
struct cookie_number {
  std::int64_t value = 0;
  bool overflow = false;
};
inline std::optional<cookie_number> leading_cookie_number(std::string_view s) noexcept {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  cookie_number n;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    const int digit = c - '0';
    if (n.value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
      n.value = std::numeric_limits<std::int64_t>::max();
      n.overflow = true;
      break;
    }
    n.value = n.value * 10 + digit;
  }
  return n;
}

// RFC 6265 §5.1.1's delimiter: the bytes between date tokens.
inline bool cookie_date_delimiter(unsigned char c) noexcept {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
         (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

inline bool cookie_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// `min`..`max` digits at `i`, not followed by another digit; their value.
inline std::optional<int> cookie_date_digits(std::string_view t, std::size_t& i, std::size_t min,
                                             std::size_t max) noexcept {
  std::size_t n = 0;
  int v = 0;
  while (i + n < t.size() && cookie_digit(t[i + n]) && n < max) v = v * 10 + (t[i + n++] - '0');
  if (n < min || (i + n < t.size() && cookie_digit(t[i + n]))) return std::nullopt;
  i += n;
  return v;
}

}  // namespace detail

inline std::optional<cookie_time> parse_cookie_date(std::string_view text) {
  using detail::cookie_date_digits;
  std::optional<int> hour, minute, second, day, month, year;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && detail::cookie_date_delimiter(static_cast<unsigned char>(text[i])))
      ++i;
    const std::size_t start = i;
    while (i < text.size() && !detail::cookie_date_delimiter(static_cast<unsigned char>(text[i])))
      ++i;
    const std::string_view token = text.substr(start, i - start);
    if (token.empty()) continue;
    // Each production is tried in the RFC's order; a token fills the first still missing
    // that it matches, and the non-digit tail a production allows is ignored.
    if (!hour) {
      std::size_t j = 0;
      const auto h = cookie_date_digits(token, j, 1, 2);
      if (h && j < token.size() && token[j] == ':') {
        ++j;
        const auto m = cookie_date_digits(token, j, 1, 2);
        if (m && j < token.size() && token[j] == ':') {
          ++j;
          if (const auto s = cookie_date_digits(token, j, 1, 2)) {
            hour = h, minute = m, second = s;
            continue;
          }
        }
      }
    }
    if (!day) {
      std::size_t j = 0;
      if (const auto d = cookie_date_digits(token, j, 1, 2)) {
        day = d;
        continue;
      }
    }
    if (!month && token.size() >= 3) {
      static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};
      const auto found =
          std::find_if(std::begin(months), std::end(months),
                       [&](std::string_view m) { return iequals(token.substr(0, 3), m); });
      if (found != std::end(months)) {
        month = int(found - std::begin(months)) + 1;
        continue;
      }
    }
    if (!year) {
      std::size_t j = 0;
      if (const auto y = cookie_date_digits(token, j, 2, 4)) {
        year = y;
        continue;
      }
    }
  }
  if (!hour || !day || !month || !year) return std::nullopt;
  int y = *year;
  if (y >= 70 && y <= 99)
    y += 1900;
  else if (y >= 0 && y <= 69)
    y += 2000;
  if (*day < 1 || *day > 31 || y < 1601 || *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(y),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;  // February 30th and the like
  return cookie_time(std::chrono::sys_days(date)) + std::chrono::hours(*hour) +
         std::chrono::minutes(*minute) + std::chrono::seconds(*second);
}

inline std::optional<cookie> parse_set_cookie(std::string_view value, const url& from,
                                              cookie_clock::time_point now,
                                              const cookie_limits& limits) {
  if (value.size() > limits.max_line) return std::nullopt;
  const std::string_view host = detail::cookie_host(from);
  const bool secure_origin = detail::cookie_secure_origin(from);
  const std::int64_t now_s =
      std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  constexpr auto top = std::numeric_limits<std::int64_t>::max();

  cookie c;
  bool named = false;
  std::optional<std::string_view> path_attribute, domain_attribute;
  std::int64_t expires = 0;  // curl's encoding: 0 a session cookie, 1 already expired
  std::size_t i = 0;
  do {
    // A name runs to ';', '=', a tab or a line end; an empty one ends the parsing unless a
    // ';' follows it, as in curl.
    const std::size_t name_end = std::min(value.find_first_of(";\t\r\n=", i), value.size());
    std::string_view name = value.substr(i, name_end - i);
    i = name_end;
    if (name.empty()) continue;
    name = detail::trim_cookie_blanks(name);
    if (detail::invalid_cookie_octets(name)) return std::nullopt;
    bool sep = false;
    std::string_view val;
    if (i < value.size() && value[i] == '=') {
      sep = true;
      const std::size_t val_end = std::min(value.find_first_of(";\r\n", ++i), value.size());
      val = detail::trim_cookie_blanks(value.substr(i, val_end - i));
      i = val_end;
      if (detail::invalid_cookie_octets(val)) return std::nullopt;
    }
    if (!named) {
      // The first pair is the cookie itself: "name=value", the name not empty.
      if (!sep || name.empty()) return std::nullopt;
      if (name.size() + val.size() > limits.max_name_value) return std::nullopt;
      c.name = name;
      c.value = val;
      named = true;
    } else if (!sep) {
      if (iequals(name, "secure")) {
        // A cookie only a secure channel may carry cannot come from an insecure one.
        if (!secure_origin) return std::nullopt;
        c.secure = true;
      } else if (iequals(name, "httponly")) {
        c.http_only = true;
      }
    } else if (iequals(name, "path")) {
      path_attribute = val;
    } else if (iequals(name, "domain") && !val.empty()) {
      if (val.front() == '.') val.remove_prefix(1);
      if (!cookie_psl_built && detail::cookie_bad_domain(val)) return std::nullopt;
      // An IP host takes its own address only, and that makes no domain cookie.
      const bool is_ip = detail::cookie_host_is_ip(host);
      if (is_ip && val == host) {
        domain_attribute = val;
        c.host_only = true;
      } else if (!is_ip && detail::cookie_tailmatch(val, host)) {
        domain_attribute = val;
        c.host_only = false;
      } else {
        return std::nullopt;  // a domain this host is not within
      }
    } else if (iequals(name, "max-age") && !val.empty()) {
      // Max-Age wins over Expires wherever it stands; anything but a number expires the
      // cookie, as 0 does.
      if (val.front() == '"') val.remove_prefix(1);
      const auto n = detail::leading_cookie_number(val);
      if (!n)
        expires = 1;
      else if (n->overflow)
        expires = top;
      else if (n->value == 0)
        expires = 1;
      else if (top - now_s < n->value)
        expires = top;
      else
        expires = now_s + n->value;
      expires = detail::cap_cookie_expiry(expires, now_s, limits.max_age);
    } else if (iequals(name, "expires") && !val.empty()) {
      // curl's MAX_DATE_LENGTH: longer dates are not read. An unreadable date leaves a
      // session cookie.
      constexpr std::size_t max_date_length = 80;
      if (expires == 0 && val.size() < max_date_length) {
        if (const auto date = parse_cookie_date(val)) {
          const std::int64_t at = date->time_since_epoch().count();
          expires = at <= 0 ? 1 : at;  // 0 would read as a session cookie
          expires = detail::cap_cookie_expiry(expires, now_s, limits.max_age);
        }
      }
    } else if (iequals(name, "samesite")) {
      if (iequals(val, "strict"))
        c.same_site = cookie_same_site::strict;
      else if (iequals(val, "lax"))
        c.same_site = cookie_same_site::lax;
      else if (iequals(val, "none"))
        c.same_site = cookie_same_site::none;
      else
        c.same_site = cookie_same_site::unspecified;
    }
  } while (i < value.size() && value[i] == ';' && ++i);
  if (!named) return std::nullopt;

  if (path_attribute && !path_attribute->empty()) {
    c.path = detail::sanitize_cookie_path(*path_attribute);
  } else {
    // The default path: the request path up to its last '/' (RFC 6265 §5.1.4).
    const std::string_view request_path = from.path;
    const auto slash = request_path.rfind('/');
    c.path = detail::sanitize_cookie_path(
        slash == std::string_view::npos ? request_path : request_path.substr(0, slash + 1));
  }
  c.domain = domain_attribute ? *domain_attribute : host;
  if (expires != 0) c.expires = cookie_time(std::chrono::seconds(expires));
  c.creation_time = now;

  if (!detail::cookie_prefixes_hold(c)) return std::nullopt;
  if (!detail::cookie_domain_acceptable(c.domain, host)) return std::nullopt;
  // A public suffix names no site: set by the suffix itself the cookie reaches that host
  // only, never the sites under it. curl makes it a domain cookie, and then refuses it
  // when it reads it back from its file.
  if (!c.host_only && iequals(c.domain, host) && detail::cookie_domain_is_public_suffix(c.domain))
    c.host_only = true;
  return c;
}

}  // namespace opensock::http
