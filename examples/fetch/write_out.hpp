// curl's -w/--write-out: a format written after each transfer. %{variable} is replaced by
// what the transfer left (transfer_report), "%%" is a percent sign, \n, \r and \t are
// escapes; %header{name} writes a field of the last response head, %output{file} (or
// %output{>>file}, appending) sends the rest to a file, %time{format} writes the time of
// day in UTC. Read the way curl reads it: any other backslash pair and any other "%x" are
// written as they are, an unknown variable is reported on stderr and left out, "%{" (and
// "%header{", "%time{", "%output{") without "}" is written as it is. Values curl has none
// for are left out, and are null in %{json}, as in curl.
#pragma once

#include "json_string.hpp"
#include "schemes.hpp"
#include "version.hpp"

#include <opensock/http/fields.hpp>

#include <fmt/core.h>

#include <arpa/inet.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fetch {

/// A field of a response head, kept as curl's header API keeps it for %header{} and
/// %{header_json}: the name as received, the value without the blanks around it.
struct response_field {
  int request = 0;  // transfer_report::request when it came
  std::string name;
  std::string value;
};

/// What one transfer leaves for --write-out to report.
struct transfer_report {
  using duration = std::chrono::steady_clock::duration;

  int http_code = 0;
  int http_connect = 0;  // what an HTTP proxy answered CONNECT
  int http_version = 0;  // 10, 11, 20; 0 before any response
  int num_redirects = 0;
  int num_connects = 0;
  long num_retries = 0;  // --retry's attempts before the one described
  // The URL's place among the command line's URLs (0 first; the URLs of one glob share
  // it), and the transfer's among all of the run's (each --retry attempt is one).
  std::size_t urlnum = 0;
  std::int64_t xfer_id = 0;
  std::int64_t conn_id = -1;  // the last connection used (curl's #N); -1 before any
  // The URL as the command line gave it (with -T's file name and -G's query added, as curl
  // adds them), and the one fetched last.
  std::string url;
  std::string url_effective;
  std::string method;  // of the last request sent, or the one that would have been
  std::optional<std::string> content_type;
  std::string redirect_url;                       // empty: none
  std::optional<std::string> referer;             // -e's, or -e ;auto's after a redirect
  std::optional<std::string> filename_effective;  // the output file; none for stdout
  std::string scheme;  // of the last connection, lower case; empty before any
  bool proxy_used = false;
  // opensock does not hand out OpenSSL's verification result: 0, what curl has for a
  // peer verified (and for no TLS).
  long ssl_verify_result = 0;
  long proxy_ssl_verify_result = 0;
  std::uint64_t size_download = 0;
  std::uint64_t size_header = 0;
  std::uint64_t size_upload = 0;     // the last request's body
  std::uint64_t size_request = 0;    // every request's head and body
  std::uint64_t size_delivered = 0;  // the last response's body bytes written
  std::size_t num_headers = 0;
  std::string remote_ip;  // empty while nothing was connected, as curl's
  unsigned remote_port = 0;
  std::string local_ip;  // this end of the last connection used
  unsigned local_port = 0;
  // As newer curl counts them: each phase from the start of its request, summed over the
  // transfer's requests (redirects); time_redirect from the start of the transfer to
  // that of its last request, time_total to its end. How long a request waited for a
  // connection opensock does not say: time_queue stays 0.
  duration time_namelookup{};
  duration time_connect{};
  duration time_appconnect{};
  duration time_pretransfer{};
  duration time_posttransfer{};
  duration time_starttransfer{};
  duration time_redirect{};
  duration time_queue{};
  duration time_total{};
  int exitcode = 0;
  std::string errormsg;
  // The response heads' fields (1xx and trailers left out, as curl's %header{} leaves
  // them), each with the number of the request it answered; `request` is the last
  // request's: counted up at each redirect followed (also when --max-redirs stops it) and
  // each request sent again with credentials, as curl counts them.
  std::vector<response_field> headers;
  int request = 0;
};

/// Keeps a field line of a response head ("Name: value", its line end included) in
/// `r.headers`, as curl's header API reads it; lines without a colon are not fields.
inline void record_field(transfer_report& r, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!line.empty() && blank(line.front())) line.remove_prefix(1);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && blank(value.front())) value.remove_prefix(1);
  while (!value.empty() && blank(value.back())) value.remove_suffix(1);
  r.headers.push_back({r.request, std::string(line.substr(0, colon)), std::string(value)});
}

/// The format of "-w VALUE": VALUE itself, or the contents of a file for "@file" ("@-":
/// stdin). A file that cannot be read gives an empty format, as in curl.
inline std::string write_out_format(const std::string& value) {
  if (value.empty() || value.front() != '@') return value;
  const std::string path = value.substr(1);
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Where %{stderr} switches to: the process's stderr, which --stderr does not move (it
/// moves opensock-fetch's messages only, as curl's does).
inline std::FILE*& write_out_stderr() {
  static std::FILE* stream = stderr;
  return stream;
}

namespace detail {

// ---------------------------------------------------------------------------------------
// URLs split as curl's URL API splits them for %{url.*} and %{urle.*}: any scheme it has
// a name for or not, "http" guessed for a URL without one (or "ftp" and the others for a
// host name starting "ftp." ...), the host as written but for its percent-encoding, IPv4
// numbers written in full and IPv6 ones in their shortest form, dot segments removed
// from the path. A URL curl would refuse has no parts.

struct url_parts {
  std::string scheme;  // lower case
  bool guessed_scheme = false;
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::optional<std::string> options;  // IMAP, POP3 and SMTP only
  std::optional<std::string> host;     // an IPv6 one in brackets; none for file:
  std::optional<std::string> zoneid;
  std::optional<unsigned> port;     // as written
  std::optional<std::string> path;  // none: "/"
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};

inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (lower(c) >= 'a' && lower(c) <= 'f') return lower(c) - 'a' + 10;
  return -1;
}
inline bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && opensock::http::iequals(s.substr(0, prefix.size()), prefix);
}

// The schemes whose user part may carry ";options".
inline bool has_url_options(std::string_view scheme) {
  for (std::string_view s : {"imap", "imaps", "pop3", "pop3s", "smtp", "smtps"})
    if (s == scheme) return true;
  return false;
}

// "c:", "C|" and the like, then a slash or nothing: a drive, which curl refuses in a
// file: URL outside Windows.
inline bool drive_prefix(std::string_view s) {
  return s.size() >= 2 && is_alpha(s[0]) && (s[1] == ':' || s[1] == '|') &&
         (s.size() == 2 || s[2] == '/' || s[2] == '\\');
}

// A "." segment letter: '.' or "%2e"; taken off the front of `s` when there.
inline bool take_dot(std::string_view& s) {
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    return true;
  }
  if (s.size() >= 3 && s[0] == '%' && s[1] == '2' && lower(s[2]) == 'e') {
    s.remove_prefix(3);
    return true;
  }
  return false;
}

// The path without its "." and ".." segments (RFC 3986 5.2.4, as curl reads them).
inline std::string without_dot_segments(std::string_view path) {
  bool work = false;
  for (std::string_view p = path; path.size() >= 2 && !p.empty() && !work;) {
    if (take_dot(p)) {
      work = p.empty() || p[0] == '/' || (take_dot(p) && (p.empty() || p[0] == '/'));
    } else {
      p.remove_prefix(1);
    }
  }
  if (!work) return std::string(path);
  std::string out;
  std::string_view in = path;
  if (std::string_view d = in; take_dot(d)) {
    if (!d.empty() && d[0] == '/') {
      in = d.substr(1);
    } else if (take_dot(d)) {
      if (d.empty()) return out;
      if (d[0] == '/') in = d.substr(1);
    }
  }
  while (!in.empty()) {
    if (in[0] == '/') {
      std::string_view p = in.substr(1);
      if (take_dot(p)) {
        if (p.empty()) {
          out += '/';
          break;
        }
        if (p[0] == '/') {
          in = p;
          continue;
        }
        if (take_dot(p) && (p.empty() || p[0] == '/')) {
          if (const auto last = out.rfind('/'); last != std::string::npos) out.resize(last);
          if (!p.empty()) {
            in = p;
            continue;
          }
          out += '/';
          break;
        }
      }
    }
    out += in[0];
    in.remove_prefix(1);
  }
  return out;
}

// A number in `base` at `at` in `s`, at most `max`: 0, 1 for no digit, 2 for too large.
inline int read_number(std::string_view s, std::size_t& at, unsigned base, std::uint64_t max,
                       std::uint64_t& value) {
  value = 0;
  const std::size_t from = at;
  for (; at < s.size(); ++at) {
    const int digit = hex_value(s[at]);
    if (digit < 0 || static_cast<unsigned>(digit) >= base) break;
    value = value * base + static_cast<unsigned>(digit);
    if (value > max) return 2;
  }
  return at == from ? 1 : 0;
}

// An IPv4 address in any of the forms curl reads ("127.1", "0x7f.1", "2130706433"),
// written as four decimal numbers; false for a host that is not one.
inline bool as_ipv4(std::string& host) {
  std::uint64_t parts[4] = {0, 0, 0, 0};
  int n = 0;
  std::size_t c = 0;
  const auto at = [&](std::size_t i) { return i < host.size() ? host[i] : '\0'; };
  for (bool done = false; !done;) {
    std::uint64_t value = 0;
    int failed;
    if (at(c) == '0' && lower(at(c + 1)) == 'x') {
      c += 2;
      if (read_number(host, c, 16, 0xffffffff, value) != 0) return false;
      failed = 0;
    } else {
      failed = read_number(host, c, at(c) == '0' ? 8 : 10, 0xffffffff, value);
    }
    if (failed != 0) {
      if (n == 0 || failed != 1 || at(c) != '\0') return false;
      --n;
    } else {
      parts[n] = value;
    }
    switch (at(c)) {
      case '.':
        if (n == 3) {
          if (at(c + 1) != '\0') return false;
          done = true;
        } else {
          ++n;
          ++c;
        }
        break;
      case '\0': done = true; break;
      default: return false;
    }
  }
  const std::uint64_t limits[4][4] = {{0xffffffff, 0, 0, 0},
                                      {0xff, 0xffffff, 0, 0},
                                      {0xff, 0xff, 0xffff, 0},
                                      {0xff, 0xff, 0xff, 0xff}};
  for (int i = 0; i <= n; ++i)
    if (parts[i] > limits[n][i]) return false;
  std::uint64_t address = 0;
  for (int i = 0; i < n; ++i) address |= parts[i] << (8 * (3 - i));
  address |= parts[n];
  host = fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff,
                     address & 0xff);
  return true;
}

// "[address]" or "[address%zone]" (the '%' perhaps written "%25"): the address in its
// shortest form, the zone kept apart.
inline bool as_ipv6(std::string& host, std::optional<std::string>& zone) {
  if (host.size() < 4) return false;
  std::string address = host.substr(1, host.size() - 2);
  const auto end = address.find_first_not_of("0123456789abcdefABCDEF:.");
  if (end != std::string::npos) {
    if (address[end] != '%') return false;
    std::string_view rest = std::string_view(host).substr(end + 2);  // after the '%'
    if (rest.starts_with("25") && rest.size() > 2 && rest[2] != ']') rest.remove_prefix(2);
    std::string id;
    while (!rest.empty() && rest[0] != ']' && id.size() < 15) {
      id += rest[0];
      rest.remove_prefix(1);
    }
    if (id.empty() || rest.empty() || rest[0] != ']') return false;
    zone = std::move(id);
    address.resize(end);
  }
  unsigned char binary[16];
  if (::inet_pton(AF_INET6, address.c_str(), binary) != 1) return false;
  char shortest[INET6_ADDRSTRLEN];
  if (::inet_ntop(AF_INET6, binary, shortest, sizeof shortest) &&
      std::strlen(shortest) <= address.size())
    address = shortest;
  host = "[" + address + "]";
  return true;
}

// "[user[:password][;options]@]host[:port]" into `u`; false where curl refuses it.
inline bool read_authority(url_parts& u, std::string_view authority, bool has_scheme) {
  if (const auto at = authority.find('@'); at != std::string_view::npos) {
    const std::string_view login = authority.substr(0, at);
    const auto colon = login.find(':');
    const auto semicolon = has_url_options(u.scheme) ? login.find(';') : std::string_view::npos;
    // The password runs to the options when they follow it, the options to the
    // password when it follows them.
    u.user = std::string(login.substr(0, std::min(colon, semicolon)));
    if (colon != std::string_view::npos) {
      const auto end = semicolon > colon ? std::min(semicolon, login.size()) : login.size();
      u.password = std::string(login.substr(colon + 1, end - colon - 1));
    }
    if (semicolon != std::string_view::npos) {
      const auto end = colon > semicolon ? std::min(colon, login.size()) : login.size();
      if (end > semicolon + 1)
        u.options = std::string(login.substr(semicolon + 1, end - semicolon - 1));
    }
    authority.remove_prefix(at + 1);
  }
  std::string host(authority);
  std::size_t port_at = std::string::npos;
  bool port_ok = true;
  if (!host.empty() && host[0] == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) return false;
    if (close + 1 < host.size()) {
      port_ok = host[close + 1] == ':';
      port_at = close + 1;
    }
  } else {
    port_at = host.find(':');
  }
  if (port_ok && port_at != std::string::npos) {
    const std::string digits = host.substr(port_at + 1);
    host.resize(port_at);
    if (digits.empty()) {
      port_ok = has_scheme;  // "host:" is the default port; without a scheme, no URL
    } else {
      std::size_t end = 0;
      std::uint64_t port = 0;
      port_ok = read_number(digits, end, 10, 0xffff, port) == 0 && end == digits.size();
      if (port_ok) u.port = static_cast<unsigned>(port);
    }
  }
  if (host.empty() || !port_ok) return false;
  if (host.find('%') != std::string::npos) {
    std::string decoded;
    for (std::size_t i = 0; i < host.size(); ++i) {
      char c = host[i];
      if (c == '%' && i + 2 < host.size() && hex_value(host[i + 1]) >= 0 &&
          hex_value(host[i + 2]) >= 0) {
        c = static_cast<char>(hex_value(host[i + 1]) * 16 + hex_value(host[i + 2]));
        i += 2;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      decoded += c;
    }
    host = std::move(decoded);
  }
  if (host[0] == '[') {
    if (!as_ipv6(host, u.zoneid)) return false;
  } else if (!as_ipv4(host)) {
    if (host.find_first_of(" \r\n\t/:#?!@{}[]\\$'\"^`*<>=;,+&()%|") != std::string::npos ||
        host.ends_with("..") || host == ".")
      return false;
  }
  u.host = std::move(host);
  return true;
}

inline std::optional<url_parts> split_url(std::string_view url) {
  if (url.size() > 8000000) return std::nullopt;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  url_parts u;
  std::size_t scheme_end = 0;
  if (!url.empty() && is_alpha(url[0]))
    for (scheme_end = 1; scheme_end < 40 && scheme_end < url.size(); ++scheme_end) {
      const char c = url[scheme_end];
      if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') break;
    }
  const bool has_scheme = scheme_end > 0 && scheme_end + 1 < url.size() &&
                          url[scheme_end] == ':' && url[scheme_end + 1] == '/';
  if (has_scheme)
    for (char c : url.substr(0, scheme_end)) u.scheme += lower(c);
  std::string_view rest;  // the path, query and fragment
  bool is_file = false;
  if (u.scheme == "file") {
    // "file:/path", "file:///path", "file://localhost/path".
    is_file = true;
    if (url.size() <= 6) return std::nullopt;
    rest = url.substr(5);
    if (rest.size() > 1 && rest[1] == '/') {
      std::string_view after = rest.substr(2);
      if (!after.starts_with('/') && !drive_prefix(after)) {
        if (!starts_with_nocase(after, "localhost/") && !after.starts_with("127.0.0.1/"))
          return std::nullopt;
        after.remove_prefix(9);
      }
      rest = after;
    }
    if ((rest.starts_with('/') && drive_prefix(rest.substr(1))) || drive_prefix(rest))
      return std::nullopt;
  } else {
    std::string_view from = url;
    if (has_scheme) {
      std::size_t slashes = 0;
      from.remove_prefix(scheme_end + 1);
      while (!from.empty() && from[0] == '/' && slashes < 4) {
        from.remove_prefix(1);
        ++slashes;
      }
      if (slashes > 3) return std::nullopt;
    }
    const auto host_end = std::min(from.find_first_of("/?#"), from.size());
    if (host_end == 0 || !read_authority(u, from.substr(0, host_end), has_scheme))
      return std::nullopt;
    rest = from.substr(host_end);
    if (!has_scheme) {
      u.guessed_scheme = true;
      u.scheme = guessed_scheme(*u.host);
    }
  }
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    if (hash + 1 < rest.size()) u.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (const auto question = rest.find('?'); question != std::string_view::npos) {
    u.query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  if (rest.size() >= (is_file ? 1u : 2u)) u.path = without_dot_segments(rest);
  return u;
}

// One part of `u` as curl's URL API gives it with a default port: none when absent.
inline std::optional<std::string> url_part(const url_parts& u, std::string_view part) {
  if (part == "scheme") return u.scheme;
  if (part == "user") return u.user;
  if (part == "password") return u.password;
  if (part == "options") return u.options;
  if (part == "host") return u.host;
  if (part == "zoneid") return u.zoneid;
  if (part == "port") {
    const auto port = u.port ? u.port : default_port(u.scheme);
    if (port) return std::to_string(*port);
    return std::nullopt;
  }
  if (part == "path") return u.path.value_or("/");
  if (part == "query") return u.query && !u.query->empty() ? u.query : std::nullopt;
  if (part == "fragment") return u.fragment;
  return std::nullopt;
}

inline bool is_url_part(std::string_view part) {
  for (std::string_view p : {"fragment", "host", "options", "password", "path", "port",
                             "query", "scheme", "user", "zoneid"})
    if (p == part) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// The variables.

struct value {
  enum class kind { text, number, code, time };
  kind type = kind::text;
  bool known = true;  // false: curl has none, written as nothing (null in JSON)
  std::string text;
  std::int64_t number = 0;  // microseconds for a time
};

inline value text(std::string s) {
  value v;
  v.text = std::move(s);
  return v;
}
inline value text(const std::optional<std::string>& s) {
  value v;
  v.known = s.has_value();
  if (s) v.text = *s;
  return v;
}
inline value number(std::int64_t n, value::kind type = value::kind::number) {
  value v;
  v.type = type;
  v.number = n;
  return v;
}
inline value elapsed(transfer_report::duration d) {
  return number(std::chrono::duration_cast<std::chrono::microseconds>(d).count(),
                value::kind::time);
}

// Bytes per second over the whole transfer, in whole bytes, as curl averages them.
inline std::int64_t speed(std::uint64_t bytes, transfer_report::duration spent) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(spent).count();
  const auto size = static_cast<std::int64_t>(bytes);
  if (us < 1) return size * 1000000;
  if (size < std::numeric_limits<std::int64_t>::max() / 1000000) return size * 1000000 / us;
  if (us >= 1000000) return size / (us / 1000000);
  return std::numeric_limits<std::int64_t>::max();
}

/// The report with its URLs split once, for the variables that want their parts.
class variables {
 public:
  explicit variables(const transfer_report& r) : r_(r) {}

  // The value of `name`; nullopt for a name curl has no variable for.
  std::optional<value> get(std::string_view name) {
    const transfer_report& r = r_;
    if (name.starts_with("url.") && is_url_part(name.substr(4)))
      return part(given_, r.url, name.substr(4));
    if (name.starts_with("urle.") && is_url_part(name.substr(5)))
      return part(effective_, r.url_effective, name.substr(5));
    // Without the peer's certificate chain (opensock does not hand it out), as curl
    // writes it for a transfer without TLS.
    if (name == "certs") return text(std::string());
    if (name == "num_certs") return number(0);
    if (name == "conn_id") return number(r.conn_id);
    if (name == "content_type") return text(r.content_type);
    if (name == "errormsg")
      return text(r.exitcode != 0 ? std::optional<std::string>(r.errormsg) : std::nullopt);
    if (name == "exitcode") return number(r.exitcode);
    if (name == "filename_effective") return text(r.filename_effective);
    if (name == "ftp_entry_path") return text(std::nullopt);
    if (name == "http_code" || name == "response_code")
      return number(r.http_code, value::kind::code);
    if (name == "http_connect") return number(r.http_connect, value::kind::code);
    if (name == "http_version")
      return text(std::string(r.http_version == 10   ? "1"
                              : r.http_version == 11 ? "1.1"
                              : r.http_version == 20 ? "2"
                              : r.http_version == 30 ? "3"
                                                     : "0"));
    if (name == "local_ip") return text(r.local_ip);
    if (name == "local_port") return number(r.local_port);
    if (name == "method") return text(r.method);
    if (name == "num_connects") return number(r.num_connects);
    if (name == "num_headers") return number(static_cast<std::int64_t>(r.num_headers));
    if (name == "num_redirects") return number(r.num_redirects);
    if (name == "num_retries") return number(r.num_retries);
    if (name == "proxy_ssl_verify_result") return number(r.proxy_ssl_verify_result);
    if (name == "proxy_used") return number(r.proxy_used ? 1 : 0);
    if (name == "redirect_url")
      return text(r.redirect_url.empty() ? std::nullopt
                                         : std::optional<std::string>(r.redirect_url));
    if (name == "referer") return text(r.referer);
    if (name == "remote_ip") return text(r.remote_ip);
    if (name == "remote_port") return number(r.remote_port);
    if (name == "scheme")
      return text(r.scheme.empty() ? std::nullopt : std::optional<std::string>(r.scheme));
    if (name == "size_delivered") return number(static_cast<std::int64_t>(r.size_delivered));
    if (name == "size_download") return number(static_cast<std::int64_t>(r.size_download));
    if (name == "size_header") return number(static_cast<std::int64_t>(r.size_header));
    if (name == "size_request") return number(static_cast<std::int64_t>(r.size_request));
    if (name == "size_upload") return number(static_cast<std::int64_t>(r.size_upload));
    if (name == "speed_download") return number(speed(r.size_download, r.time_total));
    if (name == "speed_upload") return number(speed(r.size_upload, r.time_total));
    if (name == "ssl_verify_result") return number(r.ssl_verify_result);
    if (name == "time_appconnect") return elapsed(r.time_appconnect);
    if (name == "time_connect") return elapsed(r.time_connect);
    if (name == "time_namelookup") return elapsed(r.time_namelookup);
    if (name == "time_posttransfer") return elapsed(r.time_posttransfer);
    if (name == "time_pretransfer") return elapsed(r.time_pretransfer);
    if (name == "time_queue") return elapsed(r.time_queue);
    if (name == "time_redirect") return elapsed(r.time_redirect);
    if (name == "time_starttransfer") return elapsed(r.time_starttransfer);
    if (name == "time_total") return elapsed(r.time_total);
    if (name == "tls_earlydata") return number(0);  // opensock sends no early data
    if (name == "url") return text(r.url);
    if (name == "url_effective") return text(r.url_effective);
    if (name == "urlnum") return number(static_cast<std::int64_t>(r.urlnum));
    if (name == "xfer_id") return number(r.xfer_id);
    return std::nullopt;
  }

 private:
  using split = std::optional<std::optional<url_parts>>;  // outer: not split yet

  static value part(split& parts, const std::string& url, std::string_view which) {
    if (!parts) parts = split_url(url);
    return text(*parts ? url_part(**parts, which) : std::nullopt);
  }

  const transfer_report& r_;
  split given_;
  split effective_;
};

// Every variable %{json} lists, in curl's order (its own: alphabetical).
inline constexpr std::string_view json_names[] = {
    "certs", "conn_id", "content_type", "errormsg", "exitcode", "filename_effective",
    "ftp_entry_path", "http_code", "http_connect", "http_version", "local_ip", "local_port",
    "method", "num_certs", "num_connects", "num_headers", "num_redirects", "num_retries",
    "proxy_ssl_verify_result", "proxy_used", "redirect_url", "referer", "remote_ip",
    "remote_port", "response_code", "scheme", "size_delivered", "size_download", "size_header",
    "size_request", "size_upload", "speed_download", "speed_upload", "ssl_verify_result",
    "time_appconnect", "time_connect", "time_namelookup", "time_posttransfer",
    "time_pretransfer", "time_queue", "time_redirect", "time_starttransfer", "time_total",
    "tls_earlydata", "url", "url.fragment", "url.host", "url.options", "url.password",
    "url.path", "url.port", "url.query", "url.scheme", "url.user", "url.zoneid",
    "url_effective", "urle.fragment", "urle.host", "urle.options", "urle.password",
    "urle.path", "urle.port", "urle.query", "urle.scheme", "urle.user", "urle.zoneid",
    "urlnum", "xfer_id"};

inline void put(std::FILE* stream, std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stream);
}

// `s` as a JSON string, as curl writes one: its bytes as they are but for '"', '\\' and
// the controls, names in lower case when `lower_case`.
inline void put_json_string(std::FILE* stream, std::string_view s, bool lower_case = false) {
  std::string text(s);
  if (lower_case)
    for (char& c : text) c = lower(c);
  put(stream, "\"" + json_escaped(text) + "\"");
}

inline void put_time(std::FILE* stream, std::int64_t us) {
  fmt::print(stream, "{}.{:06}", us / 1000000, us % 1000000);
}

inline void put_value(std::FILE* stream, const value& v) {
  if (!v.known) return;
  switch (v.type) {
    case value::kind::text: put(stream, v.text); break;
    case value::kind::number: fmt::print(stream, "{}", v.number); break;
    case value::kind::code: fmt::print(stream, "{:03}", v.number); break;
    case value::kind::time: put_time(stream, v.number); break;
  }
}

// What the library is, in place of curl's libcurl version: "libopensock/X OpenSSL/Y ...".
inline std::string library_version() {
  const std::string all = version_text();
  const std::string first = all.substr(0, all.find('\n'));
  const auto library = first.find(" libopensock/");
  return library == std::string::npos ? first : first.substr(library + 1);
}

// %{json}: every variable as a JSON object, curl's "curl_version" last.
inline void put_json(std::FILE* stream, variables& vars) {
  put(stream, "{");
  for (std::string_view name : json_names) {
    const value v = *vars.get(name);
    fmt::print(stream, "\"{}\":", name);
    if (!v.known) {
      put(stream, "null");
    } else if (v.type == value::kind::text) {
      put_json_string(stream, v.text);
    } else if (v.type == value::kind::time) {
      put_time(stream, v.number);
    } else {
      fmt::print(stream, "{}", v.number);
    }
    put(stream, ",");
  }
  put(stream, "\"curl_version\":");
  put_json_string(stream, library_version());
  put(stream, "}");
}

// %{header_json}: the last response's fields as a JSON object, each name (lower case)
// once, where it first came, with all of its values.
inline void put_header_json(std::FILE* stream, const transfer_report& r) {
  put(stream, "{");
  bool first = true;
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    const response_field& f = r.headers[i];
    if (f.request != r.request) continue;
    bool seen = false;
    for (std::size_t j = 0; j < i && !seen; ++j)
      seen = r.headers[j].request == r.request &&
             opensock::http::iequals(r.headers[j].name, f.name);
    if (seen) continue;
    if (!first) put(stream, ",\n");
    first = false;
    put_json_string(stream, f.name, true);
    put(stream, ":[");
    bool first_value = true;
    for (std::size_t j = i; j < r.headers.size(); ++j) {
      const response_field& g = r.headers[j];
      if (g.request != r.request || !opensock::http::iequals(g.name, f.name)) continue;
      if (!first_value) put(stream, ",");
      first_value = false;
      put_json_string(stream, g.value);
    }
    put(stream, "]");
  }
  put(stream, "\n}");
}

// The separator of %header{name:all:separator}: \r, \n, \t and \} are escapes, any other
// backslash pair is written as it is.
inline void put_separator(std::FILE* stream, std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      std::fputc(s[i], stream);
      continue;
    }
    switch (s[++i]) {
      case 'r': std::fputc('\r', stream); break;
      case 'n': std::fputc('\n', stream); break;
      case 't': std::fputc('\t', stream); break;
      case '}': std::fputc('}', stream); break;
      default:
        std::fputc('\\', stream);
        std::fputc(s[i], stream);
    }
  }
}

// %header{...} from just after its "{"; returns where the format goes on. "name" writes
// the first value of that field in the last response; "name:all:separator" every value
// of every response of the transfer (redirects included), in order, separated, up to the
// first response without one.
inline std::size_t put_header(std::FILE* stream, std::string_view format, std::size_t from,
                              const transfer_report& r) {
  auto end = format.find('}', from);
  while (end != std::string_view::npos && format[end - 1] == '\\') end = format.find('}', end + 1);
  if (end == std::string_view::npos) {
    put(stream, "%header{");
    return from;
  }
  std::string_view name = format.substr(from, end - from);
  std::optional<std::string_view> separator;
  if (const auto colon = name.find(':');
      colon != std::string_view::npos && name.substr(colon + 1).starts_with("all:")) {
    separator = name.substr(colon + 5);
    name = name.substr(0, colon);
  }
  if (name.size() >= 256 || r.headers.empty()) return end + 1;  // longer than any curl keeps
  const auto matches = [&](const response_field& f, int request) {
    return f.request == request && opensock::http::iequals(f.name, name);
  };
  if (!separator) {
    for (const auto& f : r.headers)
      if (matches(f, r.request)) {
        put(stream, f.value);
        break;
      }
    return end + 1;
  }
  bool written = false;
  for (int request = 0; request <= r.request; ++request) {
    bool found = false;
    for (const auto& f : r.headers) {
      if (!matches(f, request)) continue;
      if (written) put_separator(stream, *separator);
      put(stream, f.value);
      written = found = true;
    }
    if (!found) break;
  }
  return end + 1;
}

// %time{format}: the time now in UTC through strftime(), with curl's additions: %f the
// microseconds, %s the seconds since the epoch, %z "+0000", %Z "UTC". A result longer
// than curl's 255 bytes is not written.
inline void put_time_of_day(std::FILE* stream, std::string_view format) {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  std::string spec;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      spec += format[i];
      continue;
    }
    switch (format[i + 1]) {
      case 'f': spec += fmt::format("{:06}", now.tv_usec); break;
      case 's': spec += std::to_string(now.tv_sec); break;
      case 'Z': spec += "UTC"; break;
      case 'z': spec += "+0000"; break;
      case '%': spec += "%%"; break;
      default: spec += '%'; continue;
    }
    ++i;
  }
  std::tm utc{};
  const std::time_t seconds = now.tv_sec;
  char out[256];
  if (spec.empty() || !::gmtime_r(&seconds, &utc)) return;
  const std::size_t n = std::strftime(out, sizeof out, spec.c_str(), &utc);
  put(stream, std::string_view(out, n));
}

}  // namespace detail

/// An absolute URL written back as curl's URL API writes it (scheme in lower case, host
/// as written, dot segments removed, fragment kept): what -w's %{redirect_url} shows for
/// a Location whose scheme opensock does not speak. Empty for a URL that is not
/// absolute, or that curl refuses.
inline std::string absolute_url(std::string_view text) {
  const auto u = detail::split_url(text);
  if (!u || u->guessed_scheme || !u->host) return {};
  std::string out = u->scheme + "://";
  if (u->user) out += *u->user;
  if (u->password) out += ":" + *u->password;
  if (u->options) out += ";" + *u->options;
  if (u->user || u->password || u->options) out += '@';
  if (u->zoneid) {
    out += u->host->substr(0, u->host->size() - 1) + "%25" + *u->zoneid + "]";
  } else {
    out += *u->host;
  }
  if (u->port) out += ":" + std::to_string(*u->port);
  out += u->path.value_or("/");
  if (u->query && !u->query->empty()) out += "?" + *u->query;
  if (u->fragment) out += "#" + *u->fragment;
  return out;
}

/// Writes `format` for the transfer `r`: to stdout unless %{stderr} or %output{} switch
/// it.
inline void write_out(std::string_view format, const transfer_report& r) {
  std::FILE* stream = stdout;
  bool own_stream = false;  // a file %output{} opened, closed when left
  const auto switch_to = [&](std::FILE* next, bool own) {
    if (own_stream) std::fclose(stream);
    stream = next;
    own_stream = own;
  };
  detail::variables vars(r);
  bool stop = false;
  for (std::size_t i = 0; i < format.size() && !stop;) {
    const char c = format[i];
    const bool has_next = i + 1 < format.size();
    if (c == '%' && has_next) {
      const std::string_view rest = format.substr(i + 1);
      if (rest[0] == '%') {
        std::fputc('%', stream);
        i += 2;
      } else if (rest[0] == '{') {
        const auto close = format.find('}', i);
        if (close == std::string_view::npos) {
          std::fputs("%{", stream);
          i += 2;
          continue;
        }
        const std::string_view name = format.substr(i + 2, close - i - 2);
        i = close + 1;
        if (name == "onerror") {
          stop = r.exitcode == 0;
        } else if (name == "stdout") {
          switch_to(stdout, false);
        } else if (name == "stderr") {
          switch_to(write_out_stderr(), false);
        } else if (name == "json") {
          detail::put_json(stream, vars);
        } else if (name == "header_json") {
          detail::put_header_json(stream, r);
        } else if (const auto v = vars.get(name)) {
          detail::put_value(stream, *v);
        } else {
          fmt::print(stderr, "opensock-fetch: unknown --write-out variable: '{}'\n", name);
        }
      } else if (rest.starts_with("header{")) {
        i = detail::put_header(stream, format, i + 8, r);
      } else if (rest.starts_with("time{")) {
        const auto close = format.find('}', i + 6);
        if (close == std::string_view::npos) {
          std::fputs("%time{", stream);
          i += 6;
        } else {
          detail::put_time_of_day(stream, format.substr(i + 6, close - i - 6));
          i = close + 1;
        }
      } else if (rest.starts_with("output{")) {
        i += 8;
        const bool append = format.substr(i).starts_with(">>");
        if (append) i += 2;
        const auto close = format.find('}', i);
        if (close == std::string_view::npos) {
          std::fputs("%output{", stream);
          continue;
        }
        // A file that cannot be opened leaves the output where it was, as in curl.
        const std::string path(format.substr(i, close - i));
        if (path.size() < 512)
          if (std::FILE* file = std::fopen(path.c_str(), append ? "a" : "w"))
            switch_to(file, true);
        i = close + 1;
      } else {
        std::fputc('%', stream);
        std::fputc(rest[0], stream);
        i += 2;
      }
    } else if (c == '\\' && has_next) {
      switch (format[i + 1]) {
        case 'n': std::fputc('\n', stream); break;
        case 'r': std::fputc('\r', stream); break;
        case 't': std::fputc('\t', stream); break;
        default:
          std::fputc('\\', stream);
          std::fputc(format[i + 1], stream);
          break;
      }
      i += 2;
    } else {
      std::fputc(c, stream);
      ++i;
    }
  }
  switch_to(stdout, false);
  std::fflush(stdout);
}

}  // namespace fetch
