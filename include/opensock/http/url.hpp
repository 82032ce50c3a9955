// URLs as an HTTP client reads them (RFC 3986): scheme, userinfo, host (IPv6 literals in
// brackets), port, path with dot segments removed, query, fragment. Malformed input is
// error::url_malformat (curl's 3); a scheme opensock does not speak is 1.
#pragma once

#include <opensock/detail/same_text.hpp>
#include <opensock/error.hpp>
#include <opensock/origin.hpp>

#include <asio/ip/address.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {

struct url {
  std::string scheme;    ///< lower case: "http", "https", "ws" or "wss"
  std::string userinfo;  ///< as written, percent-encoded; empty without '@'
  bool has_userinfo = false;  ///< an '@' ends a userinfo, which may be empty ("http://@h/")
  std::string host;      ///< lower case; an IPv6 literal without its brackets
  /// The host was written in Unicode: `host` holds its ASCII form ("xn--" labels, IDNA
  /// through libidn2), the one sent and resolved. Without libidn2 such a URL is malformed.
  bool unicode_host = false;
  std::uint16_t port = 0;  ///< the explicit port, or the scheme's default
  bool explicit_port = false;
  std::string path;      ///< starts with '/', dot segments removed, percent-encoded
  std::string query;     ///< without the '?'
  bool has_query = false;
  std::string fragment;  ///< without the '#'; never sent

  /// What parse() does with the "." and ".." segments of a path: removes them (RFC
  /// 3986 §5.2.4, as curl does), or keeps them as written (curl's --path-as-is).
  enum class dot_segments { remove, keep };

  /// Parses an absolute URL: its scheme, then one to three slashes before the authority
  /// (two are right; curl takes "http:/h" and "http:///h" for "http://h"). Controls,
  /// space and DEL are malformed anywhere, and '<',
  /// '>', '"', '{', '}', '|', '\\', '^', '`' in the userinfo and host; the path, query
  /// and fragment keep those as written, as curl sends them, and have bytes from 0x80
  /// up percent-encoded.
  static url parse(std::string_view text, std::error_code& ec,
                   dot_segments dots = dot_segments::remove);

  /// The request target in origin form: path and query.
  std::string target() const {
    std::string out;
    append_target(out);
    return out;
  }
  /// target() appended to `out`, without a string of its own.
  void append_target(std::string& out) const;

  /// The Host header's value: the host (bracketed if IPv6, its zone left out), with the
  /// port when it is not the scheme's default.
  std::string host_header() const;
  /// host_header() appended to `out`, without a string of its own.
  void append_host_header(std::string& out) const;

  opensock::origin origin() const { return {host, port, scheme}; }

  /// How to_string() writes a host that was written in Unicode: in the ASCII form sent
  /// and resolved, or in Unicode again, to show a person (curl's effective URL).
  enum class host_form { ascii, as_written };

  /// The URL written back, without the fragment.
  std::string to_string(host_form form = host_form::ascii) const;

  static std::optional<std::uint16_t> default_port(std::string_view scheme) noexcept;

  // Every member, as a defaulted == would, with the strings compared in place: a reused
  // response's effective URL is compared on every request.
  friend bool operator==(const url& a, const url& b) noexcept {
    using opensock::detail::same_text;
    return a.port == b.port && a.explicit_port == b.explicit_port &&
           a.has_query == b.has_query && a.has_userinfo == b.has_userinfo &&
           a.unicode_host == b.unicode_host &&
           same_text(a.path, b.path) && same_text(a.host, b.host) &&
           same_text(a.scheme, b.scheme) && same_text(a.query, b.query) &&
           same_text(a.userinfo, b.userinfo) && same_text(a.fragment, b.fragment);
  }
};

}  // namespace opensock::http

#include <opensock/http/impl/url.hpp>
