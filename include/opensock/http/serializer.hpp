// Writes a request's head (request line and header section) and frames its body: the
// origin-form target (the absolute form to a proxy that forwards it), Host with a port
// only when it is not the default, Content-Length for a body of known length, chunked
// coding otherwise. Fields are checked first: CR,
// LF or NUL anywhere is an error before a byte is written (curl 7.88 sends them as
// they are, which lets a caller's input inject headers).
#pragma once

#include <opensock/detail/base64.hpp>
#include <opensock/error.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/request.hpp>
#include <opensock/proxy.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {
namespace detail {

// The bytes each part of a request head may hold, one table lookup a byte: every byte
// of every head is checked before it is sent.
enum char_class : unsigned char {
  token_char = 1,   // RFC 9110 tchar: methods and field names
  target_char = 2,  // the request target: anything visible, no blank, no DEL
  value_char = 4,   // a field value: any byte but the controls (tab allowed) and DEL
};

inline constexpr std::array<unsigned char, 256> char_classes = [] {
  std::array<unsigned char, 256> classes{};
  constexpr std::string_view token_marks = "!#$%&'*+-.^_`|~";
  for (unsigned c = 0; c < 256; ++c) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || token_marks.find(static_cast<char>(c)) != std::string_view::npos)
      classes[c] |= token_char;
    if (c > 0x20 && c != 0x7f) classes[c] |= target_char;
    if ((c >= 0x20 || c == '\t') && c != 0x7f) classes[c] |= value_char;
  }
  return classes;
}();

inline bool all_of_class(std::string_view s, char_class wanted) noexcept {
  for (const char c : s)
    if ((char_classes[static_cast<unsigned char>(c)] & wanted) == 0) return false;
  return true;
}

inline bool is_token(std::string_view s) noexcept {
  return !s.empty() && all_of_class(s, token_char);
}

inline bool is_field_value(std::string_view s) noexcept { return all_of_class(s, value_char); }

inline bool is_target(std::string_view s) noexcept {
  return !s.empty() && all_of_class(s, target_char);
}

// `value` in decimal, written into `digits`.
template <class Unsigned, std::size_t N>
std::string_view decimal(Unsigned value, char (&digits)[N]) noexcept {
  const char* end = std::to_chars(digits, digits + N, value).ptr;
  return {digits, static_cast<std::size_t>(end - digits)};
}

// Whether curl writes a field of this name before Proxy-Connection.
inline bool before_proxy_connection(std::string_view name) noexcept {
  for (std::string_view lower :
       {"authorization", "range", "content-range", "user-agent", "accept", "te",
        "accept-encoding", "referer"})
    if (iequals_lower(name, lower)) return true;
  return false;
}

// Tells the first Connection field of a list, when `wanted`: the one a session's added
// fields hold merged.
class first_connection_field {
 public:
  explicit first_connection_field(bool wanted) noexcept : wanted_(wanted) {}
  bool is(const fields::field& f) noexcept {
    if (!wanted_ || !iequals_lower(f.name, "connection")) return false;
    wanted_ = false;
    return true;
  }

 private:
  bool wanted_;
};

// How the caller's own fields frame a request's body.
enum class caller_framing {
  none,        // neither Content-Length nor Transfer-Encoding: opensock frames it
  length,      // Content-Length: the body goes as it is
  chunked,     // a Transfer-Encoding whose last coding is chunked: the body goes as chunks
  unframable,  // any other Transfer-Encoding, or one beside a Content-Length
};

inline caller_framing framing_by_caller(const request& r) noexcept {
  bool length = false, transfer_coded = false, chunked = false;
  for (const auto& f : r.headers) {
    if (iequals_lower(f.name, "content-length")) {
      length = true;
    } else if (iequals_lower(f.name, "transfer-encoding")) {
      transfer_coded = true;
      // The last coding of the field's list that is not empty.
      for (std::string_view list = f.value; !list.empty();) {
        const auto comma = list.rfind(',');
        const std::string_view coding =
            trim_ows(list.substr(comma == std::string_view::npos ? 0 : comma + 1));
        list = list.substr(0, comma == std::string_view::npos ? 0 : comma);
        if (coding.empty()) continue;
        chunked = iequals_lower(coding, "chunked");
        break;
      }
    }
  }
  if (transfer_coded)
    return chunked && !length ? caller_framing::chunked : caller_framing::unframable;
  return length ? caller_framing::length : caller_framing::none;
}

}  // namespace detail

/// The Proxy-Authorization line sent to `via` before any challenge, for the requests an
/// HTTP proxy forwards and for CONNECT: its Basic credentials when Basic is the one scheme
/// allowed, as curl sends them; empty without a user, or when the proxy's 407 is awaited.
inline std::string proxy_authorization(const proxy& via) {
  if (via.user.empty() || via.auth != auth_scheme::basic) return {};
  return "Proxy-Authorization: Basic " +
         opensock::detail::base64(via.user + ":" + via.password) + "\r\n";
}

/// How requests are written to an HTTP proxy that forwards them, as curl writes them:
/// the target in absolute form (scheme, host, a port that is not the default, path and
/// query; a request's own target as it is), the proxy's Basic credentials after Host,
/// and Proxy-Connection: Keep-Alive after the leading fields curl writes before it
/// (Authorization, Range or Content-Range, User-Agent, Accept, TE, Accept-Encoding,
/// Referer); each of the two unless the caller's fields hold one; then the proxy's
/// forward_headers after the caller's fields.
struct forwarding {
  forwarding() = default;
  explicit forwarding(const proxy& via)
      : authorization(proxy_authorization(via)), headers(via.forward_headers) {}

  /// The Proxy-Authorization line, or empty.
  std::string authorization;
  /// proxy::forward_headers.
  http::fields headers;
};

/// Fields a session adds to one request on its way (credentials, cookies, the codings it
/// decodes), as whole lines with their endings, each empty when there is none: written
/// where curl writes them, so that a request reads the same whoever added a field.
struct added_fields {
  added_fields() = default;

  /// Right after Host (and a proxy's credentials): Authorization.
  std::string after_host;
  /// After the caller's leading fields (those curl writes first: Authorization, Range or
  /// Content-Range, User-Agent, Accept, TE, Accept-Encoding, Referer) and
  /// Proxy-Connection, before the rest: Accept-Encoding, TE, Cookie.
  std::string after_leading;
  /// Set when after_leading holds the caller's first Connection field, merged with what
  /// the session adds to it: that field is not written again where the caller put it.
  bool merges_connection = false;

  bool empty() const noexcept { return after_host.empty() && after_leading.empty(); }
  void clear() noexcept {
    after_host.clear();
    after_leading.clear();
    merges_connection = false;
  }
};

/// Checks what serialize_head() would write; error::invalid_request_field if any part
/// holds bytes HTTP/1.1 does not allow there, error::unframable_request_body if the
/// caller's own fields frame the body in a way no server can read (RFC 9112 §6.3), or
/// chunked in an HTTP/1.0 request.
inline std::error_code validate(const request& r) {
  if (!detail::is_token(r.method) || !detail::is_target(r.url.path) ||
      (r.url.has_query && !detail::is_target(r.url.query) && !r.url.query.empty()) ||
      (r.target && !detail::is_target(*r.target)) || (r.version != 10 && r.version != 11))
    return error::invalid_request_field;
  for (const auto& f : r.headers)
    if (!detail::is_token(f.name) || !detail::is_field_value(f.value))
      return error::invalid_request_field;
  const auto framing = detail::framing_by_caller(r);
  if (framing == detail::caller_framing::unframable ||
      (framing == detail::caller_framing::chunked && r.version == 10))
    return error::unframable_request_body;
  return {};
}

/// Appends the head of `r` to `out`. `body_length`: the body's size when known (then
/// Content-Length is written for a non-empty body, and for an empty one on methods
/// that carry a body), nullopt for a body streamed with chunked coding; a request with
/// no body at all (`r.body.none()`) gets neither. Fields the caller set take
/// precedence: a Host (written first, where Host goes), Content-Length or
/// Transfer-Encoding in `r.headers` is sent instead of opensock's (the exchange then
/// sends the body as chunks under a caller's chunked). Nothing is appended on error.
/// `host_line`: the Host field's whole line (`Host: …\r\n`), made once by a caller that
/// sends many requests to the same host and port; empty, it is made from `r.url`.
/// `forward`: set for a request to a proxy that forwards it. `added`: fields a session
/// adds, or null.
inline std::error_code serialize_head(const request& r, std::optional<std::uint64_t> body_length,
                                      std::string_view host_line, const forwarding* forward,
                                      std::string& out, const added_fields* added = nullptr) {
  using namespace std::string_view_literals;
  if (auto ec = validate(r)) return ec;
  // Sized first, then written into room made in one step, rather than appended piece
  // by piece: this runs for every request.
  bool framed_by_caller = false, proxy_connection_given = false,
       proxy_authorization_given = false;
  std::size_t fields_size = 0;
  // How many of the caller's fields go before Proxy-Connection and the added fields.
  std::size_t before_proxy_connection = 0;
  const std::string_view after_host = added ? std::string_view(added->after_host) : "";
  const std::string_view after_leading = added ? std::string_view(added->after_leading) : "";
  bool leading = forward || !after_leading.empty();
  // The caller's Host field goes where Host goes, first, as curl writes it; a Connection
  // field the added ones hold merged is not written again.
  std::optional<fields::field> host_field;
  const bool merged_connection = added && added->merges_connection;
  detail::first_connection_field merged(merged_connection);
  for (const auto& f : r.headers) {
    if (detail::iequals_lower(f.name, "host")) {
      if (!host_field) host_field = f;
      continue;
    }
    if (merged.is(f)) continue;
    leading = leading && detail::before_proxy_connection(f.name);
    before_proxy_connection += leading ? 1 : 0;
    proxy_connection_given =
        proxy_connection_given || (forward && detail::iequals_lower(f.name, "proxy-connection"));
    proxy_authorization_given = proxy_authorization_given ||
                                (forward && detail::iequals_lower(f.name, "proxy-authorization"));
    framed_by_caller = framed_by_caller || detail::iequals_lower(f.name, "content-length") ||
                       detail::iequals_lower(f.name, "transfer-encoding");
    fields_size += f.name.size() + (f.value.empty() ? 3 : 4 + f.value.size());
  }
  if (host_field) {
    const auto& f = *host_field;
    fields_size += f.name.size() + (f.value.empty() ? 3 : 4 + f.value.size());
  }
  static const fields none;
  const fields& proxy_fields = forward ? forward->headers : none;
  for (const auto& f : proxy_fields) {
    if (!detail::is_token(f.name) || !detail::is_field_value(f.value))
      return error::invalid_request_field;
    // The proxy's own Proxy-Connection or Proxy-Authorization replaces opensock's too.
    proxy_connection_given =
        proxy_connection_given || detail::iequals_lower(f.name, "proxy-connection");
    proxy_authorization_given =
        proxy_authorization_given || detail::iequals_lower(f.name, "proxy-authorization");
    fields_size += f.name.size() + (f.value.empty() ? 3 : 4 + f.value.size());
  }
  const url& u = r.url;
  const bool host_made = !host_field && host_line.empty();
  const bool bracketed = (host_made || forward) && u.host.find(':') != std::string::npos;
  // The Host field names an IPv6 literal without its zone ("%25eth0"), as curl writes it:
  // a zone means something on this machine alone.
  const std::string_view zoneless_host =
      bracketed ? std::string_view(u.host).substr(0, u.host.find("%25")) : std::string_view(u.host);
  char port_digits[8];
  std::string_view port;
  if ((host_made || forward) && u.port != url::default_port(u.scheme))
    port = detail::decimal(u.port, port_digits);
  // The absolute form's scheme, host and port before the path; to a proxy only.
  std::size_t authority_size = 0;
  std::string_view proxy_connection, proxy_authorization;
  if (forward) {
    if (!detail::is_target(u.host) || !detail::is_token(u.scheme))
      return error::invalid_request_field;
    if (!proxy_authorization_given) proxy_authorization = forward->authorization;
    // A target of the caller's goes as it is, to a proxy too, as curl sends it.
    authority_size = r.target ? proxy_authorization.size()
                              : u.scheme.size() + 3 + u.host.size() + (bracketed ? 2 : 0) +
                                    (port.empty() ? 0 : 1 + port.size()) +
                                    proxy_authorization.size();
    if (!proxy_connection_given) proxy_connection = "Proxy-Connection: Keep-Alive\r\n"sv;
  }
  char length_digits[24];
  std::string_view framing, length;
  if (!framed_by_caller && !r.body.none()) {
    if (!body_length && r.version == 10) return error::unframable_request_body;  // no chunks
    if (!body_length) {
      framing = "Transfer-Encoding: chunked\r\n"sv;
    } else if (*body_length > 0 || r.method == "POST" || r.method == "PUT" ||
               r.method == "PATCH") {
      framing = "Content-Length: "sv;
      length = detail::decimal(*body_length, length_digits);
    }
  }
  const std::size_t target_size =
      r.target ? r.target->size() : u.path.size() + (u.has_query ? 1 + u.query.size() : 0);
  const std::size_t host_size =
      host_field  ? 0
      : host_made ? 8 + zoneless_host.size() + (bracketed ? 2 : 0) +
                        (port.empty() ? 0 : 1 + port.size())
                  : host_line.size();
  const std::size_t size = r.method.size() + 1 + authority_size + proxy_connection.size() +
                           after_host.size() + after_leading.size() + target_size + 11 +
                           host_size +
                           fields_size + framing.size() +
                           (length.empty() ? 0 : length.size() + 2) + 2;
  const std::size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  // An empty piece may have no storage at all: memcpy must not see its null pointer.
  const auto put = [&p](std::string_view piece) {
    if (piece.empty()) return;
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  const auto put_host_port = [&](std::string_view host) {
    if (bracketed) put("["sv);
    put(host);
    if (bracketed) put("]"sv);
    if (!port.empty()) {
      put(":"sv);
      put(port);
    }
  };
  put(r.method);
  put(" "sv);
  if (forward && !r.target) {
    put(u.scheme);
    put("://"sv);
    put_host_port(u.host);
  }
  if (r.target) {
    put(*r.target);
  } else {
    put(u.path);
  }
  if (!r.target && u.has_query) {
    put("?"sv);
    put(u.query);
  }
  put(r.version == 10 ? " HTTP/1.0\r\n"sv : " HTTP/1.1\r\n"sv);
  // An empty value goes as "Name:", the way curl sends "-H 'Name;'".
  const auto put_field = [&](const fields::field& f) {
    put(f.name);
    put(f.value.empty() ? ":"sv : ": "sv);
    put(f.value);
    put("\r\n"sv);
  };
  if (host_made) {
    put("Host: "sv);
    put_host_port(zoneless_host);
    put("\r\n"sv);
  } else if (host_field) {
    put_field(*host_field);
  } else {
    put(host_line);
  }
  put(proxy_authorization);
  put(after_host);
  std::size_t written = 0;
  detail::first_connection_field merged_again(merged_connection);
  for (const auto& f : r.headers) {
    if (detail::iequals_lower(f.name, "host") || merged_again.is(f)) continue;
    if (written++ == before_proxy_connection) {
      put(proxy_connection);
      put(after_leading);
    }
    put_field(f);
  }
  if (written <= before_proxy_connection) {
    put(proxy_connection);
    put(after_leading);
  }
  for (const auto& f : proxy_fields) put_field(f);
  if (!framing.empty()) {
    put(framing);
    if (!length.empty()) {
      put(length);
      put("\r\n"sv);
    }
  }
  put("\r\n"sv);
  return {};
}

/// As above, to the origin or through a tunnel.
inline std::error_code serialize_head(const request& r, std::optional<std::uint64_t> body_length,
                                      std::string_view host_line, std::string& out) {
  return serialize_head(r, body_length, host_line, nullptr, out);
}

/// As above, the Host field made from `r.url`.
inline std::error_code serialize_head(const request& r, std::optional<std::uint64_t> body_length,
                                      std::string& out) {
  return serialize_head(r, body_length, {}, nullptr, out);
}

/// The line before a chunk of `size` bytes (size > 0) in chunked coding.
inline void append_chunk_header(std::uint64_t size, std::string& out) {
  char digits[17];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[size & 15];
    size >>= 4;
  } while (size != 0);
  while (n > 0) out += digits[--n];
  out += "\r\n";
}

/// What ends a chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";

/// The last chunk and the end of a chunked body without trailers.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace opensock::http
