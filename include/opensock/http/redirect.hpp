// How a client follows a redirect, by curl's rules: where the Location leads (resolved
// against the URL that was fetched), which method and body the next request carries,
// and which credentials stay behind when the origin changes.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/url.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {

/// Whether `status` asks the client to go elsewhere with a Location.
inline bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// Where a response of `status` with `headers` sends the client: its Location, when the
/// status is a redirect and the Location is not empty (an empty one leads nowhere, as
/// curl reads it); nullopt otherwise.
inline std::optional<std::string_view> redirect_location(int status, const fields& headers) {
  if (!is_redirect(status)) return std::nullopt;
  auto location = headers.get("location");
  if (location && location->empty()) location.reset();
  return location;
}

namespace detail {

// A Location with its spaces encoded as curl encodes them ("%20", and "+" after a '?'),
// so that a sloppy server's redirect is followed rather than refused; nullopt when it
// holds none, as nearly every one does.
inline std::optional<std::string> with_spaces_encoded(std::string_view location) {
  if (location.find(' ') == std::string_view::npos) return std::nullopt;
  std::string out;
  bool in_query = false;
  for (char c : location) {
    if (c == '?') in_query = true;
    if (c != ' ') out += c;
    else out += in_query ? "+" : "%20";
  }
  return out;
}

}  // namespace detail

/// Resolves a Location value against `base` (RFC 3986 §5.2): an absolute URL, a
/// scheme-relative "//host/path", an absolute path, a relative path (which may hold
/// "://" after its first segment, as in "a.cgi?u=http://x"), or a query alone.
/// Spaces in it are encoded, as curl encodes them. error::url_malformat or
/// unsupported_protocol for what cannot be followed.
inline url resolve_location(const url& base, std::string_view location, std::error_code& ec) {
  const auto encoded = detail::with_spaces_encoded(location);
  if (encoded) location = *encoded;
  // A scheme, up to the first ':'.
  const auto colon = location.find(':');
  if (colon != std::string_view::npos && detail::valid_scheme(location.substr(0, colon)))
    return url::parse(location, ec);
  if (location.substr(0, 2) == "//")
    return url::parse(base.scheme + ":" + std::string(location), ec);
  // The base's authority, which stays as it was written.
  const auto same_authority = [&base](url u) {
    u.unicode_host = base.unicode_host;
    return u;
  };
  std::string authority = base.scheme + "://";
  if (base.has_userinfo) authority += base.userinfo + "@";
  authority += base.host.find(':') != std::string::npos ? "[" + base.host + "]" : base.host;
  if (base.explicit_port) authority += ":" + std::to_string(base.port);
  if (!location.empty() && location.front() == '/')
    return same_authority(url::parse(authority + std::string(location), ec));
  if (!location.empty() && location.front() == '?')
    return same_authority(url::parse(authority + base.path + std::string(location), ec));
  if (location.empty() || location.front() == '#')
    return same_authority(url::parse(base.to_string(), ec));
  // A relative path replaces the last segment of the base path.
  const std::string directory = base.path.substr(0, base.path.rfind('/') + 1);
  return same_authority(url::parse(authority + directory + std::string(location), ec));
}

/// The redirects after which a POST stays a POST, as curl's CURLOPT_POSTREDIR (--post301,
/// --post302, --post303): any of these, or'ed together; none by default.
inline constexpr unsigned keep_post_after_301 = 1;
inline constexpr unsigned keep_post_after_302 = 2;
inline constexpr unsigned keep_post_after_303 = 4;

/// The request that follows `previous` to `next` after a response of `status`, as curl
/// builds it: 301 and 302 turn a POST into a GET, 303 turns everything but HEAD into a
/// GET (both drop the body and its framing, Content-Type and Expect fields), 307 and 308
/// keep method and body; `keep_post` (keep_post_after_301, ...) keeps a POST a POST
/// after those it names.
/// Authorization and Cookie stay behind when scheme, host or port change.
inline request redirected_request(const request& previous, url next, int status,
                                  unsigned keep_post = 0) {
  request r = previous;
  const bool post = previous.method == "POST";
  const bool kept = post && ((status == 301 && (keep_post & keep_post_after_301)) ||
                             (status == 302 && (keep_post & keep_post_after_302)) ||
                             (status == 303 && (keep_post & keep_post_after_303)));
  const bool to_get = !kept && (((status == 301 || status == 302) && post) ||
                                (status == 303 && previous.method != "HEAD"));
  if (to_get) {
    r.method = "GET";
    r.body.clear();
    r.headers.erase("content-type");
    r.headers.erase("content-length");
    r.headers.erase("transfer-encoding");
    r.headers.erase("expect");  // it speaks of the body that is gone
  }
  if (next.origin() != previous.url.origin()) {
    r.headers.erase("authorization");
    r.headers.erase("cookie");
    r.headers.erase("host");  // a Host set for the previous origin does not fit the next
  }
  r.url = std::move(next);
  return r;
}

}  // namespace opensock::http
