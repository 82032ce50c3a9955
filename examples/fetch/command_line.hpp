// opensock-fetch's command line: its flags, read in curl's syntax
// (../common/curl_command_line.hpp), into the options of each group of URLs (--next
// starts a new one). Errors carry curl's texts and its exit code 2.
#pragma once

#include "../common/curl_command_line.hpp"
#include "schemes.hpp"
#include "variables.hpp"

#include <opensock/connector/resolve.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/tls/options.hpp>

#include <asio/ip/address.hpp>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {

/// Where one URL's body goes: a file named on the command line (-o), the last segment
/// of the URL's path (-O), nowhere (--out-null), or stdout when there are fewer of these
/// than URLs.
struct output_spec {
  bool remote_name = false;
  std::string path;
  bool discard = false;
};

/// One -d, --data-binary, --data-raw, --data-urlencode or --json value, as written.
struct data_part {
  enum class kind { ascii, binary, raw, urlencode, json };
  kind how = kind::ascii;
  std::string text;
};

/// One -F or --form-string value, as written; --form-string's is `literal`: no '@', '<'
/// or ';type=' in it means anything.
struct form_spec {
  std::string text;
  bool literal = false;
};

struct options {
  std::vector<std::string> urls;
  // The URLs as written, before their globs are expanded in `urls` (-w's %{urlnum}).
  std::vector<std::string> urls_as_written;
  bool globoff = false;  // -g: URLs are not globs
  std::vector<std::size_t> literal_urls;  // nor these (--url @file's), by their index
  std::vector<output_spec> outputs;
  // -J: with -O, the file is named by the response's Content-Disposition when it names one.
  bool remote_header_name = false;
  // --output-dir: the directory -o and -O files go in; --create-dirs: the directories
  // of their paths made as needed.
  std::optional<std::string> output_dir;
  bool create_dirs = false;
  // --no-clobber: an existing output file is kept and NAME.1 (...) written instead;
  // --remove-on-error: the output file of a failed transfer is removed; --skip-existing:
  // no transfer is made for an output file that exists.
  bool no_clobber = false;
  bool remove_on_error = false;
  bool skip_existing = false;
  // --remote-name-all: -O for every URL that has no -o or -O of its own.
  bool remote_name_all = false;
  bool remote_time = false;  // -R: a file gets the time its response's Last-Modified says
  // --suppress-connect-headers: a proxy's answer to CONNECT is not written by -i or -D.
  bool suppress_connect_headers = false;
  // --disallow-username-in-url: a URL with a user name is refused (67).
  bool disallow_username = false;
  // -D: where every response head goes ("-" for stdout), of every URL.
  std::optional<std::string> dump_header;
  // -T: the file each URL's body is read from, in the order of the URLs ("-" is stdin).
  std::vector<std::string> upload_files;

  bool silent = false;
  bool show_error = false;
  bool include = false;
  bool head = false;
  bool location = false;
  // --follow: -L, and -X's method dropped once a redirect turns the request into a GET.
  bool follow = false;
  // --post301, --post302, --post303: a POST stays one after these redirects.
  unsigned keep_post = 0;
  // --url-query: parts added to every URL's query ("+" first: as written, else as
  // --data-urlencode encodes them).
  std::vector<std::string> url_queries;
  bool no_progress_meter = false;
  bool progress_bar = false;  // -#: the bar in place of the meter
  bool fail = false;
  bool fail_with_body = false;  // as -f, the body written all the same
  bool verbose = false;
  // --trace and --trace-ascii: where the trace goes ("-": stdout, "%": stderr);
  // --trace-time: each entry after the time of day.
  std::optional<std::string> trace;
  bool trace_ascii = false;
  bool trace_time = false;
  bool help = false;
  bool version = false;
  std::optional<std::string> stderr_path;  // --stderr

  std::optional<std::string> method;
  // --request-target: sent in place of the URL's path and query; --path-as-is: the
  // URL's "." and ".." segments sent as written; -0/--http1.0: HTTP/1.0 requests.
  std::optional<std::string> request_target;
  bool path_as_is = false;
  bool http_1_0 = false;
  bool raw = false;  // --raw: bodies written as they came, no coding decoded
  bool ignore_content_length = false;  // bodies not chunked run to the close
  // --proto and --proto-redir: the protocols a URL, and a redirect, may use; --proto-default:
  // the scheme of a URL written without one, in place of curl's guess.
  protocol_set protocols;
  protocol_set redirect_protocols;
  std::optional<std::string> proto_default;
  std::vector<std::string> headers;
  std::optional<std::string> user_agent;  // -A
  // -e: the Referer of the first request, and with ";auto" the URL each redirect left.
  std::optional<std::string> referer;
  bool auto_referer = false;
  std::optional<std::string> range;  // -r: sent as "Range: bytes=<range>"
  std::optional<std::string> time_cond;  // -z: a date or a file, '-' or '=' first
  // -C: resume at this byte, or (-C -) at the size of the output file, appending to it.
  std::optional<std::uint64_t> continue_at;
  bool continue_current = false;
  // --etag-save: the ETag values of the responses go to this file; --etag-compare: this
  // file's content is sent as If-None-Match.
  std::optional<std::string> etag_save;
  std::optional<std::string> etag_compare;
  // --max-filesize: a larger body ends the transfer with 63; 0, none.
  std::uint64_t max_filesize = 0;
  std::vector<data_part> data;
  std::vector<form_spec> forms;  // -F, --form-string: a multipart/form-data POST
  bool form_escape = false;      // --form-escape: \ and " escaped by a backslash in names
  bool get = false;  // -G: the data goes in the URL's query of a GET
  long max_redirs = 50;  // the curl tool's default (libcurl's own is 30)
  // --retry: how many times a transient failure is tried again (retry.hpp says which
  // are), after --retry-delay seconds (else 1 s, doubling), within --retry-max-time.
  long retry = 0;
  std::optional<double> retry_delay;
  std::optional<double> retry_max_time;
  bool retry_all_errors = false;
  bool retry_connrefused = false;
  std::optional<double> max_time;
  std::optional<double> connect_timeout;
  std::optional<double> expect100_timeout;

  std::vector<std::string> resolve;
  std::vector<std::string> connect_to;
  std::optional<std::string> unix_socket;
  bool abstract_unix_socket = false;
  std::optional<std::string> interface;
  std::optional<std::string> local_port;
  opensock::ip_version ip = opensock::ip_version::any;
  std::optional<std::string> write_out;

  // Content codings: --compressed, --tr-encoding.
  bool compressed = false;
  bool tr_encoding = false;
  // --http0.9: an answer without a status line is taken as HTTP/0.9 (1 without it).
  bool http09 = false;

  // Cookies: -b's strings (name=value pairs) and files, -c's file, -j.
  std::vector<std::string> cookies;
  std::optional<std::string> cookie_jar;
  bool junk_session_cookies = false;

  // Authentication: -u's user:password, the schemes allowed (--basic, --digest, --ntlm,
  // --anyauth), --oauth2-bearer, --location-trusted, and the .netrc flags.
  std::optional<std::string> user;
  enum class auth { basic, digest, ntlm, any };
  auth auth_scheme = auth::basic;
  std::optional<std::string> bearer;
  bool location_trusted = false;
  // -n and --netrc-optional are two switches, as in curl: --netrc-optional wins whatever
  // their order, and --netrc-file alone makes the file required.
  bool netrc = false;
  bool netrc_optional = false;
  std::optional<std::string> netrc_file;

  // opensock's own flags.
  std::vector<std::string> deny;
  std::vector<std::string> allow;
  bool deny_private = false;
  bool trace_attempts = false;

  // TLS (https:// URLs).
  bool insecure = false;
  std::optional<std::string> engine;  // --engine: none is built in ("list" shows so)
  std::optional<std::string> cacert;
  std::optional<std::string> capath;
  std::optional<std::string> cert;
  std::optional<std::string> key;
  std::optional<opensock::tls::version> tls_min;
  std::optional<std::string> pinned_public_key;  // --pinnedpubkey

  // Proxies: -x, or the last of curl's --socks4, --socks4a, --socks5 and
  // --socks5-hostname as the scheme it names; --preproxy, a SOCKS proxy before it; -U,
  // the proxy's user:password.
  std::optional<std::string> proxy;
  std::optional<std::string> preproxy;
  std::optional<std::string> proxy_user;
  // --proxy-digest, --proxy-ntlm and --proxy-anyauth: the proxy's credentials go with
  // another scheme than Basic; as in curl, each a switch of its own, --proxy-anyauth
  // before --proxy-ntlm before --proxy-digest.
  bool proxy_digest = false;
  bool proxy_ntlm = false;
  bool proxy_anyauth = false;
  bool proxytunnel = false;
  // --haproxy-protocol: the PROXY protocol line first on each connection to the server,
  // with --haproxy-clientip's address (which implies it) in place of the socket's ends.
  bool haproxy_protocol = false;
  std::optional<std::string> haproxy_clientip;
  // --proxy-header: fields for the proxy alone (on CONNECT, and after the request's own
  // on a request it forwards).
  std::vector<std::string> proxy_headers;
  // --proxy1.0: -x's HTTP proxy asked for tunnels in HTTP/1.0; --noproxy: the hosts
  // reached without proxies, in place of NO_PROXY.
  bool proxy_1_0 = false;
  std::optional<std::string> noproxy;
  // TLS to an HTTPS proxy, as the TLS flags above are to the origin.
  bool proxy_insecure = false;
  std::optional<std::string> proxy_cacert;
  std::optional<std::string> proxy_capath;
  std::optional<std::string> proxy_cert;
  std::optional<std::string> proxy_key;
  std::optional<std::string> proxy_pinned_public_key;
};

/// A command line curl would refuse: the message to print after "opensock-fetch: ".
using usage_error = curl_command_line::usage_error;

namespace detail {

using curl_command_line::flag;
using curl_command_line::parse_seconds;
using curl_command_line::shown;
using curl_command_line::takes;

// The flags opensock-fetch knows, with curl's letters and names.
inline constexpr flag flags[] = {
    {'s', "silent", takes::nothing},
    {'S', "show-error", takes::nothing},
    {'o', "output", takes::value},
    {'q', "disable", takes::nothing},
    {0, "stderr", takes::value},
    {'D', "dump-header", takes::value},
    {'T', "upload-file", takes::value},
    {'O', "remote-name", takes::nothing},
    {'J', "remote-header-name", takes::nothing},
    {0, "output-dir", takes::value},
    {0, "create-dirs", takes::nothing},
    {0, "no-clobber", takes::nothing},
    {0, "clobber", takes::nothing},
    {0, "out-null", takes::nothing},
    {0, "remote-name-all", takes::nothing},
    {'R', "remote-time", takes::nothing},
    {0, "suppress-connect-headers", takes::nothing},
    {0, "disallow-username-in-url", takes::nothing},
    {0, "http0.9", takes::nothing},
    {0, "remove-on-error", takes::nothing},
    {0, "skip-existing", takes::nothing},
    {'i', "include", takes::nothing},
    {0, "show-headers", takes::nothing},
    {'I', "head", takes::nothing},
    {'X', "request", takes::value},
    {0, "request-target", takes::value},
    {0, "path-as-is", takes::nothing},
    {0, "raw", takes::nothing},
    {0, "ignore-content-length", takes::nothing},
    {0, "proto", takes::value},
    {0, "proto-redir", takes::value},
    {0, "proto-default", takes::value},
    {'0', "http1.0", takes::nothing},
    {0, "http1.1", takes::nothing},
    {'H', "header", takes::value},
    {'A', "user-agent", takes::value},
    {'d', "data", takes::value},
    {0, "data-ascii", takes::value},
    {0, "data-binary", takes::value},
    {0, "data-raw", takes::value},
    {0, "data-urlencode", takes::value},
    {0, "json", takes::value},
    {'F', "form", takes::value},
    {0, "form-string", takes::value},
    {0, "form-escape", takes::nothing},
    {'G', "get", takes::nothing},
    {'L', "location", takes::nothing},
    {0, "follow", takes::nothing},
    {0, "post301", takes::nothing},
    {0, "post302", takes::nothing},
    {0, "post303", takes::nothing},
    {0, "url-query", takes::value},
    {0, "no-progress-meter", takes::nothing},
    {'#', "progress-bar", takes::nothing},
    {0, "max-redirs", takes::value},
    {0, "retry", takes::value},
    {0, "retry-delay", takes::value},
    {0, "retry-max-time", takes::value},
    {0, "retry-all-errors", takes::nothing},
    {0, "retry-connrefused", takes::nothing},
    {'g', "globoff", takes::nothing},
    {'m', "max-time", takes::value},
    {0, "connect-timeout", takes::value},
    {0, "expect100-timeout", takes::value},
    {0, "resolve", takes::value},
    {0, "connect-to", takes::value},
    {0, "unix-socket", takes::value},
    {0, "abstract-unix-socket", takes::value},
    {0, "interface", takes::value},
    {0, "local-port", takes::value},
    {'4', "ipv4", takes::nothing},
    {'6', "ipv6", takes::nothing},
    {'f', "fail", takes::nothing},
    {0, "fail-with-body", takes::nothing},
    {'e', "referer", takes::value},
    {'r', "range", takes::value},
    {'z', "time-cond", takes::value},
    {'C', "continue-at", takes::value},
    {0, "etag-save", takes::value},
    {0, "etag-compare", takes::value},
    {0, "max-filesize", takes::value},
    {'w', "write-out", takes::value},
    {'v', "verbose", takes::nothing},
    {0, "trace", takes::value},
    {0, "trace-ascii", takes::value},
    {0, "trace-time", takes::nothing},
    {'h', "help", takes::nothing},
    {'V', "version", takes::nothing},
    {0, "url", takes::value},
    {'k', "insecure", takes::nothing},
    {0, "cacert", takes::value},
    {0, "ca-native", takes::nothing},
    {0, "proxy-ca-native", takes::nothing},
    {0, "engine", takes::value},
    {0, "capath", takes::value},
    {'E', "cert", takes::value},
    {0, "key", takes::value},
    {0, "tlsv1.2", takes::nothing},
    {0, "tlsv1.3", takes::nothing},
    {0, "pinnedpubkey", takes::value},
    {'x', "proxy", takes::value},
    {0, "socks4", takes::value},
    {0, "socks4a", takes::value},
    {0, "socks5", takes::value},
    {0, "socks5-hostname", takes::value},
    {0, "preproxy", takes::value},
    {'U', "proxy-user", takes::value},
    {'p', "proxytunnel", takes::nothing},
    {0, "haproxy-protocol", takes::nothing},
    {0, "haproxy-clientip", takes::value},
    {0, "proxy-header", takes::value},
    {0, "proxy-basic", takes::nothing},
    {0, "proxy-digest", takes::nothing},
    {0, "proxy-ntlm", takes::nothing},
    {0, "proxy-anyauth", takes::nothing},
    {0, "proxy1.0", takes::value},
    {0, "noproxy", takes::value},
    {0, "proxy-insecure", takes::nothing},
    {0, "proxy-cacert", takes::value},
    {0, "proxy-capath", takes::value},
    {0, "proxy-cert", takes::value},
    {0, "proxy-key", takes::value},
    {0, "proxy-pinnedpubkey", takes::value},
    {0, "compressed", takes::nothing},
    {0, "tr-encoding", takes::nothing},
    {'b', "cookie", takes::value},
    {'c', "cookie-jar", takes::value},
    {'j', "junk-session-cookies", takes::nothing},
    {'u', "user", takes::value},
    {0, "basic", takes::nothing},
    {0, "digest", takes::nothing},
    {0, "ntlm", takes::nothing},
    {0, "anyauth", takes::nothing},
    {0, "oauth2-bearer", takes::value},
    {0, "location-trusted", takes::nothing},
    {'n', "netrc", takes::nothing},
    {0, "netrc-optional", takes::nothing},
    {0, "netrc-file", takes::value},
    {0, "deny", takes::value},
    {0, "allow", takes::value},
    {0, "deny-private", takes::nothing},
    {0, "trace-attempts", takes::nothing},
    {':', "next", takes::nothing},
    {0, "variable", takes::value},
    {'K', "config", takes::value},
};

// The flags that hold for every group of a command line, wherever they are written, as
// curl's global options do; the others hold for the group they are written in.
inline bool is_global(const flag& f) {
  const std::string_view n = f.name;
  return n == "silent" || n == "show-error" || n == "verbose" || n == "stderr" || n == "help" ||
         n == "version" || n == "trace" || n == "trace-ascii" || n == "trace-time" ||
         n == "progress-bar";
}

// What the global flags set, from one group into the next.
inline void copy_globals(const options& from, options& to) {
  to.silent = from.silent;
  to.show_error = from.show_error;
  to.verbose = from.verbose;
  to.stderr_path = from.stderr_path;
  to.trace = from.trace;
  to.trace_ascii = from.trace_ascii;
  to.trace_time = from.trace_time;
  to.progress_bar = from.progress_bar;
  to.help = from.help;
  to.version = from.version;
}

inline std::optional<long> parse_long(std::string_view text) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A size as curl reads one: a number of bytes, or of KiB, MiB or GiB with a suffix k, m
// or g (either case).
inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc()) return std::nullopt;
  const std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  if (unit.empty()) return value;
  if (unit.size() != 1) return std::nullopt;
  const int shift = unit == "k" || unit == "K" ? 10
                    : unit == "m" || unit == "M" ? 20
                    : unit == "g" || unit == "G" ? 30
                                                 : -1;
  if (shift < 0 || value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

// --url @file's URLs: one a line, without the line's end; lines of blanks alone and
// those whose first non-blank is '#' left out. nullopt when the file cannot be read
// ("-": stdin).
inline std::optional<std::vector<std::string>> url_file_lines(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return std::nullopt;
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> urls;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] != '#') urls.push_back(std::move(line));
  }
  return urls;
}

// Applies one flag and its value (empty for a flag without one) to `o`. `negated` is
// the --no- form of a boolean flag.
inline std::optional<usage_error> apply(options& o, const flag& f, bool as_long, bool negated,
                                        std::string value) {
  const std::string_view n = f.name;
  const bool on = !negated;
  auto numeric_error = [&] {
    return usage_error{"option " + shown(f, as_long) + ": expected a proper numerical parameter"};
  };
  // Each flag name is distinct, so a flat list of ifs reads as a table.
  if (n == "silent") o.silent = on;
  if (n == "show-error") o.show_error = on;
  // -q: opensock-fetch never reads a .curlrc, which curl's -q keeps it from reading.
  if (n == "output") o.outputs.push_back({false, std::move(value)});
  if (n == "stderr") o.stderr_path = std::move(value);
  if (n == "dump-header") o.dump_header = std::move(value);
  if (n == "upload-file") o.upload_files.push_back(std::move(value));
  // --no-remote-name: this URL's body goes to stdout, --remote-name-all or not.
  if (n == "remote-name") o.outputs.push_back(on ? output_spec{true, {}} : output_spec{false, "-"});
  if (n == "remote-header-name") o.remote_header_name = on;
  if (n == "output-dir") o.output_dir = std::move(value);
  if (n == "create-dirs") o.create_dirs = on;
  if (n == "no-clobber") o.no_clobber = on;
  if (n == "clobber") o.no_clobber = !on;
  if (n == "out-null") o.outputs.push_back({false, {}, true});
  if (n == "remote-name-all") o.remote_name_all = on;
  if (n == "remote-time") o.remote_time = on;
  if (n == "raw") o.raw = on;
  if (n == "ignore-content-length") o.ignore_content_length = on;
  if (n == "suppress-connect-headers") o.suppress_connect_headers = on;
  if (n == "disallow-username-in-url") o.disallow_username = on;
  if (n == "http0.9") o.http09 = on;
  if (n == "remove-on-error") o.remove_on_error = on;
  if (n == "skip-existing") o.skip_existing = on;
  if (n == "include" || n == "show-headers") o.include = on;
  if (n == "head") o.head = on;
  if (n == "request") o.method = std::move(value);
  if (n == "request-target") o.request_target = std::move(value);
  if (n == "path-as-is") o.path_as_is = on;
  if (n == "http1.0") o.http_1_0 = true;
  if (n == "http1.1") o.http_1_0 = false;
  if (n == "header") o.headers.push_back(std::move(value));
  if (n == "data" || n == "data-ascii")
    o.data.push_back({data_part::kind::ascii, std::move(value)});
  if (n == "data-binary") o.data.push_back({data_part::kind::binary, std::move(value)});
  if (n == "data-raw") o.data.push_back({data_part::kind::raw, std::move(value)});
  if (n == "data-urlencode") o.data.push_back({data_part::kind::urlencode, std::move(value)});
  if (n == "json") o.data.push_back({data_part::kind::json, std::move(value)});
  if (n == "form" || n == "form-string") o.forms.push_back({std::move(value), n != "form"});
  if (n == "form-escape") o.form_escape = on;
  if (n == "get") o.get = on;
  if (n == "location") o.location = on;
  if (n == "follow") o.location = o.follow = on;
  const auto keep_post = [&](unsigned bit) {
    o.keep_post = on ? o.keep_post | bit : o.keep_post & ~bit;
  };
  if (n == "post301") keep_post(opensock::http::keep_post_after_301);
  if (n == "post302") keep_post(opensock::http::keep_post_after_302);
  if (n == "post303") keep_post(opensock::http::keep_post_after_303);
  if (n == "url-query") o.url_queries.push_back(std::move(value));
  if (n == "no-progress-meter") o.no_progress_meter = on;
  if (n == "progress-bar") o.progress_bar = on;
  if (n == "max-redirs") {
    const auto parsed = parse_long(value);
    if (!parsed || *parsed < -1) return numeric_error();  // -1: no limit, as in curl
    o.max_redirs = *parsed;
  }
  if (n == "retry") {
    const auto parsed = parse_long(value);
    if (!parsed || *parsed < 0) return numeric_error();
    o.retry = *parsed;
  }
  if (n == "retry-delay" || n == "retry-max-time") {
    const auto parsed = parse_seconds(value);
    if (!parsed) return numeric_error();
    (n == "retry-delay" ? o.retry_delay : o.retry_max_time) = *parsed;
  }
  if (n == "retry-all-errors") o.retry_all_errors = on;
  if (n == "retry-connrefused") o.retry_connrefused = on;
  if (n == "max-time" || n == "connect-timeout" || n == "expect100-timeout") {
    const auto parsed = parse_seconds(value);
    if (!parsed) return numeric_error();
    auto& limit = n == "max-time"          ? o.max_time
                  : n == "connect-timeout" ? o.connect_timeout
                                           : o.expect100_timeout;
    limit = *parsed;
  }
  if (n == "resolve") o.resolve.push_back(std::move(value));
  if (n == "connect-to") o.connect_to.push_back(std::move(value));
  if (n == "unix-socket" || n == "abstract-unix-socket") {
    o.unix_socket = std::move(value);
    o.abstract_unix_socket = n == "abstract-unix-socket";
  }
  if (n == "interface") o.interface = std::move(value);
  if (n == "local-port") {
    const auto dash = value.find('-');
    const std::string_view text = value;
    const auto first = parse_long(text.substr(0, dash));
    const auto last = dash == std::string::npos ? first : parse_long(text.substr(dash + 1));
    if (!first || !last || *first < 1 || *last < *first || *last > 65535) return numeric_error();
    o.local_port = std::move(value);
  }
  if (n == "ipv4") o.ip = opensock::ip_version::v4;
  if (n == "ipv6") o.ip = opensock::ip_version::v6;
  if (n == "fail") o.fail = on;
  if (n == "fail-with-body") o.fail_with_body = on;
  if (n == "referer") {
    constexpr std::string_view automatic = ";auto";
    o.auto_referer = value.ends_with(automatic);
    if (o.auto_referer) value.resize(value.size() - automatic.size());
    o.referer = std::move(value);
  }
  if (n == "range") o.range = std::move(value);
  if (n == "time-cond") o.time_cond = std::move(value);
  if (n == "continue-at") {
    o.continue_current = value == "-";
    o.continue_at.reset();
    if (!o.continue_current) {
      std::uint64_t at = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), at);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        return numeric_error();
      o.continue_at = at;
    }
  }
  if (n == "etag-save") o.etag_save = std::move(value);
  if (n == "etag-compare") o.etag_compare = std::move(value);
  if (n == "max-filesize") {
    const auto parsed = parse_size(value);
    if (!parsed) return numeric_error();
    o.max_filesize = *parsed;
  }
  if (n == "write-out") o.write_out = std::move(value);
  if (n == "verbose") o.verbose = on;
  if (n == "trace" || n == "trace-ascii") {
    o.trace = std::move(value);
    o.trace_ascii = n == "trace-ascii";
  }
  if (n == "trace-time") o.trace_time = on;
  if (n == "help") o.help = true;
  if (n == "version") o.version = true;
  // --url @file (@-: stdin), as newer curl reads it: the file's URLs, none a glob, each
  // saved as -O saves it.
  if (n == "url" && value.starts_with('@')) {
    const auto lines = url_file_lines(value.substr(1));
    if (!lines)
      return usage_error{"option " + shown(f, as_long) + ": error encountered when reading a file",
                         26};
    for (const auto& line : *lines) {
      while (o.outputs.size() < o.urls.size()) o.outputs.push_back({false, "-"});
      o.literal_urls.push_back(o.urls.size());
      o.urls_as_written.push_back(line);
      o.urls.push_back(line);
      o.outputs.push_back({true, {}});
    }
  } else if (n == "url") {
    o.urls_as_written.push_back(value);
    o.urls.push_back(std::move(value));
  }
  if (n == "globoff") o.globoff = on;
  if (n == "insecure") o.insecure = on;
  if (n == "cacert") o.cacert = std::move(value);
  // --ca-native asks for the operating system's own CA store where it is not OpenSSL's
  // (curl: Windows); on this system they are the same, the one used by default.
  if (n == "engine") o.engine = std::move(value);
  if (n == "proto-default") {
    if (!speaks(value))
      return usage_error{"option " + shown(f, as_long) +
                             ": a specified protocol is unsupported by opensock-fetch",
                         1};
    o.proto_default = std::move(value);
  }
  if (n == "capath") o.capath = std::move(value);
  if (n == "cert") o.cert = std::move(value);
  if (n == "key") o.key = std::move(value);
  if (n == "tlsv1.2") o.tls_min = opensock::tls::version::tls1_2;
  if (n == "tlsv1.3") o.tls_min = opensock::tls::version::tls1_3;
  if (n == "proxy") {
    o.proxy = std::move(value);
    o.proxy_1_0 = false;
  }
  if (n == "socks4") o.proxy = "socks4://" + value;
  if (n == "socks4a") o.proxy = "socks4a://" + value;
  if (n == "socks5") o.proxy = "socks5://" + value;
  if (n == "socks5-hostname") o.proxy = "socks5h://" + value;
  if (n == "preproxy") o.preproxy = std::move(value);
  if (n == "proxy-user") o.proxy_user = std::move(value);
  if (n == "user-agent") o.user_agent = std::move(value);
  if (n == "proxytunnel") o.proxytunnel = on;
  if (n == "haproxy-protocol") o.haproxy_protocol = on;
  if (n == "haproxy-clientip") {
    std::error_code ec;
    asio::ip::make_address(value, ec);
    if (ec) return usage_error{"option " + shown(f, as_long) + ": is badly used here"};
    o.haproxy_clientip = std::move(value);
  }
  if (n == "proxy-header") o.proxy_headers.push_back(std::move(value));
  // --proxy-basic: Basic is curl's default, used when neither of these is on.
  if (n == "proxy-digest") o.proxy_digest = on;
  if (n == "proxy-ntlm") o.proxy_ntlm = on;
  if (n == "proxy-anyauth") o.proxy_anyauth = on;
  if (n == "proxy1.0") {
    o.proxy = std::move(value);
    o.proxy_1_0 = true;
  }
  if (n == "noproxy") o.noproxy = std::move(value);
  if (n == "proxy-insecure") o.proxy_insecure = on;
  if (n == "proxy-cacert") o.proxy_cacert = std::move(value);
  if (n == "proxy-capath") o.proxy_capath = std::move(value);
  if (n == "proxy-cert") o.proxy_cert = std::move(value);
  if (n == "proxy-key") o.proxy_key = std::move(value);
  if (n == "pinnedpubkey") o.pinned_public_key = std::move(value);
  if (n == "proxy-pinnedpubkey") o.proxy_pinned_public_key = std::move(value);
  if (n == "compressed") o.compressed = on;
  if (n == "tr-encoding") o.tr_encoding = on;
  if (n == "cookie") o.cookies.push_back(std::move(value));
  if (n == "cookie-jar") o.cookie_jar = std::move(value);
  if (n == "junk-session-cookies") o.junk_session_cookies = on;
  if (n == "user") o.user = std::move(value);
  // The last of --basic, --digest, --ntlm and --anyauth decides, as in curl; --no-digest,
  // --no-ntlm and --no-anyauth go back to Basic.
  if (n == "basic") o.auth_scheme = options::auth::basic;
  if (n == "digest") o.auth_scheme = on ? options::auth::digest : options::auth::basic;
  if (n == "ntlm") o.auth_scheme = on ? options::auth::ntlm : options::auth::basic;
  if (n == "anyauth") o.auth_scheme = on ? options::auth::any : options::auth::basic;
  if (n == "oauth2-bearer") o.bearer = std::move(value);
  if (n == "location-trusted") o.location = o.location_trusted = on;  // -L too, as in curl
  if (n == "netrc") o.netrc = on;
  if (n == "netrc-optional") o.netrc_optional = on;
  if (n == "netrc-file") {
    // A file that is not there is a mistake on the command line, as newer curl takes it.
    std::error_code ec;
    if (!std::filesystem::exists(value, ec))
      return usage_error{"The file '" + value + "' provided to --netrc-file does not exist\n" +
                         "option " + shown(f, as_long) + ": is badly used here"};
    o.netrc_file = std::move(value);
  }
  if (n == "deny") o.deny.push_back(std::move(value));
  if (n == "allow") o.allow.push_back(std::move(value));
  if (n == "deny-private") o.deny_private = on;
  if (n == "trace-attempts") o.trace_attempts = on;
  return std::nullopt;
}

}  // namespace detail

namespace detail {

// A curl config file (-K) as the words of a command line: a line each, "#" lines and
// blank ones skipped; the flag first, with or without its dashes (a long one without
// them may be followed by '=' or ':'), then its value, in double quotes (\t, \n, \r, \v
// and any other escaped byte inside) or up to the first blank. nullopt when the file
// cannot be read ("-": stdin).
inline std::optional<std::vector<std::string>> config_words(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return std::nullopt;
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> words;
  const auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
  for (std::string text; std::getline(in, text);) {
    std::string_view line = text;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const bool dashed = line.front() == '-';
    const auto separator = [dashed](char c) { return !dashed && (c == '=' || c == ':'); };
    std::size_t end = 0;
    while (end < line.size() && !is_blank(line[end]) && !separator(line[end])) ++end;
    const std::string_view flag = line.substr(0, end);
    words.push_back(dashed ? std::string(flag) : "--" + std::string(flag));
    line.remove_prefix(end);
    while (!line.empty() && (is_blank(line.front()) || separator(line.front())))
      line.remove_prefix(1);
    if (!line.empty() && line.front() == '"') {
      std::string value;
      for (std::size_t i = 1; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] != '\\') {
          value += line[i];
          continue;
        }
        if (++i == line.size()) break;
        const char c = line[i];
        value += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'v' ? '\v' : c;
      }
      words.push_back(std::move(value));
    } else if (!line.empty()) {
      std::size_t stop = 0;
      while (stop < line.size() && !std::isspace(static_cast<unsigned char>(line[stop]))) ++stop;
      words.emplace_back(line.substr(0, stop));
    }
  }
  return words;
}

// The command line, or a config file's words, into groups of options.
class command_line_reader {
 public:
  explicit command_line_reader(std::vector<std::string>& warnings) : warnings_(warnings) {}

  std::optional<usage_error> read(int argc, char** argv, int config_depth = 0) {
    return curl_command_line::read(
        argc, argv, flags,
        [&](const flag& f, bool as_long, bool negated, std::string value) {
          return take(f, as_long, negated, std::move(value), config_depth);
        },
        [&](std::string_view word) -> std::optional<usage_error> {
          groups_.back().urls.emplace_back(word);
          groups_.back().urls_as_written.emplace_back(word);
          return one_url_for_etags("--url");
        },
        [&](const flag& f, std::string& value) {
          return vars_.expand(value, "--expand-" + std::string(f.name), warnings_);
        });
  }

  std::vector<options> groups() && { return std::move(groups_); }

 private:
  // Config files within config files end here, as in curl.
  static constexpr int max_config_depth = 5;

  std::optional<usage_error> take(const flag& f, bool as_long, bool negated, std::string value,
                                  int config_depth) {
    const std::string_view name = f.name;
    if (name == "variable") return vars_.set(value, warnings_);
    if (name == "config") return read_config(value, shown(f, as_long), config_depth);
    if (name == "next") {
      // A config file's --next before any URL is passed over; the command line's is an
      // error, as in newer curl.
      if (groups_.back().urls.empty() && config_depth > 0) return std::nullopt;
      if (groups_.back().urls.empty())
        return usage_error{"missing URL before --next\noption " + shown(f, as_long) +
                           ": is badly used here"};
      // A new group starts with the global flags of the groups before it.
      options next;
      copy_globals(groups_.back(), next);
      groups_.push_back(std::move(next));
      return std::nullopt;
    }
    if (name == "range") value = range_with_dash(std::move(value));
    // Each --proto or --proto-redir starts from every protocol again, as curl's.
    if (name == "proto" || name == "proto-redir") {
      options& o = groups_.back();
      auto& set = name == "proto" ? o.protocols : o.redirect_protocols;
      set = protocol_set();
      set.apply(value, warnings_);
      // A set with no protocol at all is refused, as newer curl refuses it.
      if (set.empty()) return usage_error{"option " + shown(f, as_long) + ": is badly used here"};
      return std::nullopt;
    }
    if (!is_global(f)) {
      if (auto failed = apply(groups_.back(), f, as_long, negated, std::move(value)))
        return failed;
      if (name == "url" || name == "etag-save" || name == "etag-compare")
        return one_url_for_etags(shown(f, as_long));
      return std::nullopt;
    }
    for (auto& o : groups_)
      if (auto failed = apply(o, f, as_long, negated, value)) return failed;
    return std::nullopt;
  }

  // -r: a number not followed by a dash is the range from there on, as curl reads it.
  std::string range_with_dash(std::string value) {
    std::size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
    if (digits == 0 || digits > 18 || (digits < value.size() && value[digits] == '-'))
      return value;
    warnings_.push_back("A specified range MUST include at least one dash (-). Appending one "
                        "for you");
    return value.substr(0, digits) + "-";
  }

  // The etag options speak of one file for one URL: a group with them takes one URL
  // alone, as curl's.
  std::optional<usage_error> one_url_for_etags(const std::string& shown_flag) const {
    const options& o = groups_.back();
    if (o.urls.size() <= 1 || (!o.etag_save && !o.etag_compare)) return std::nullopt;
    return usage_error{"The etag options only work on a single URL\noption " + shown_flag +
                       ": is badly used here"};
  }

  std::optional<usage_error> read_config(const std::string& path, const std::string& shown_flag,
                                         int config_depth) {
    if (config_depth >= max_config_depth)
      return usage_error{"Max config file recursion level reached (" +
                         std::to_string(max_config_depth) + ")\noption " + shown_flag +
                         ": is badly used here"};
    auto words = config_words(path);
    if (!words)
      return usage_error{"cannot read config from '" + path + "'\noption " + shown_flag +
                             ": error encountered when reading a file",
                         26};
    std::vector<char*> argv{const_cast<char*>(path.c_str())};  // argv[0], not read
    for (auto& w : *words) argv.push_back(w.data());
    return read(static_cast<int>(argv.size()), argv.data(), config_depth + 1);
  }

  std::vector<std::string>& warnings_;
  std::vector<options> groups_ = std::vector<options>(1);
  variables vars_;
};

}  // namespace detail

/// Reads argv as curl does: one group of options and URLs, and one more after each
/// --next (-:), each group's transfers made after the last group's; -K files' flags in
/// their place. The global flags (-s, -S, -v, --stderr) hold for every group; so do
/// --variable's variables, which an --expand-FLAG value is expanded with. On a usage
/// error, `error` says why (exit code 2); `warnings` gets what curl warns of as it reads.
inline std::vector<options> parse_command_line(int argc, char** argv,
                                               std::optional<usage_error>& error,
                                               std::vector<std::string>& warnings) {
  detail::command_line_reader reader(warnings);
  error = reader.read(argc, argv);
  return std::move(reader).groups();
}

inline constexpr std::string_view usage_text =
    R"(Usage: opensock-fetch [options...] <url>...
 A curl-compatible HTTP/1.1 client on opensock's socket factories.

 -d, --data <data>              HTTP POST data (@file: read it, CR and LF removed)
     --data-ascii <data>        The same as --data
     --data-binary <data>       HTTP POST data, @file read as it is
     --data-raw <data>          HTTP POST data, '@' not special
     --data-urlencode <data>    HTTP POST data URL-encoded ([name]=text, [name]@file)
     --json <data>              HTTP POST JSON (@file), asking for JSON back
 -F, --form <name=content>      A multipart/form-data POST part (@file, <file, ;type=,
                                ;filename=, ;headers=)
     --form-string <name=text>  The same, the text as it is
     --form-escape              Escape \\ and " in -F names and file names by a backslash
 -G, --get                      Put the data in the URL's query of a GET
 -f, --fail                     Fail with exit code 22 on HTTP errors, no body output
     --fail-with-body           The same, the body written all the same
     --max-filesize <bytes>     Fail with 63 on a larger body (k, m, g: KiB, MiB, GiB)
 -e, --referer <url>[;auto]     Send this Referer (";auto": the URL left on a redirect)
 -r, --range <range>            Ask for these bytes only ("Range: bytes=<range>")
 -C, --continue-at <offset|->   Resume at this byte (-: the output file's size)
 -z, --time-cond <time>         Only if changed since this date or file's time
                                ("-": only if not changed since)
     --etag-save <file>         Write the response's ETag to this file
     --etag-compare <file>      Send this file's ETag as If-None-Match
 -H, --header <header/@file>    Pass a custom header to the server
 -A, --user-agent <name>        Send User-Agent <name> (none when empty)
 -I, --head                     Show the response headers only (HEAD)
 -i, --include, --show-headers  Include the response headers in the output
 -L, --location                 Follow redirects
     --follow                   Follow redirects, -X's method dropped when one turns
                                the request into a GET
     --post301, --post302, --post303  Keep a POST a POST after such a redirect
     --url-query <data>         Add to the URL's query (as --data-urlencode; "+": as is)
     --max-redirs <num>         Maximum number of redirects allowed (default 50)
 -m, --max-time <seconds>       Maximum time allowed for each transfer
     --retry <num>              Try a transient failure again this many times
     --retry-delay <seconds>    Wait this long between tries (else 1 s, doubling)
     --retry-max-time <seconds> Try again only this long after the first try
     --retry-all-errors         Try again after any error
     --retry-connrefused        Try again after a refused connection too
 -g, --globoff                  Read no {} or [] globs in URLs
     --connect-timeout <secs>   Maximum time allowed for each connect
     --expect100-timeout <secs> Wait this long for a 100 before sending a body (default 1)
 -o, --output <file>            Write to file instead of stdout (one per URL)
 -D, --dump-header <file>       Write the response heads to this file ("-": stdout)
 -T, --upload-file <file>       PUT this file ("-": stdin) to the URL (one per URL)
 -O, --remote-name              Write to a file named like the remote file
 -R, --remote-time              Give the file the time of the response's Last-Modified
 -J, --remote-header-name       With -O, name the file as Content-Disposition says
     --output-dir <dir>         Put the -o and -O files in this directory
     --create-dirs              Make the directories of -o and -O paths as needed
     --no-clobber               Keep an existing file: write NAME.1 (... NAME.99)
     --clobber                  Overwrite an existing file (the default)
     --out-null                 Write the body nowhere (one per URL, as -o)
     --remote-name-all          -O for every URL without an -o or -O of its own
     --remove-on-error          Remove the output file when the transfer fails
     --skip-existing            Make no transfer when the output file exists
 -K, --config <file>            Read flags from this curl config file ("-": stdin)
 -:, --next                     Start a new group of options and URLs
     --variable <name=text>     A variable (name@file, %name from the environment),
                                put in the value of --expand-FLAG as {{name}}
 -X, --request <method>         Method to use in the request line
     --request-target <target>  Send this target in place of the URL's path and query
     --path-as-is               Send the URL's "." and ".." segments as written
     --raw                      Write bodies as they came, no coding decoded
     --ignore-content-length    Read bodies to the close, whatever their length says
     --proto <protocols>        Use only these protocols ([=+-]name,..., all)
     --proto-redir <protocols>  Follow redirects only to these protocols
     --proto-default <protocol> The scheme of a URL written without one
 -0, --http1.0                  Make HTTP/1.0 requests
     --http0.9                  Take an answer without a status line as HTTP/0.9
     --disallow-username-in-url Refuse a URL with a user name in it (67)
     --http1.1                  Make HTTP/1.1 requests (the default)
 -s, --silent                   Silent mode: no progress meter, no error messages
     --no-progress-meter        No progress meter, error messages still shown
 -#, --progress-bar             A bar of '#' for the progress in place of the meter
     --stderr <file>            Write what goes to stderr to this file ("-": stdout)
 -q, --disable                  Read no .curlrc (opensock-fetch never reads one)
 -S, --show-error               Show error messages even when -s is given
 -v, --verbose                  Show the connection, the request and the response head
     --trace <file>             Write a trace of each transfer, bytes in hex ("-": stdout)
     --trace-ascii <file>       The same, bytes as text
     --trace-time               Each trace entry after the time of day
 -w, --write-out <format>       Write out a format after each transfer (@file, @-)
     --compressed               Ask for a compressed response and decode it
     --tr-encoding              Ask for a compressed transfer coding and decode it
 -b, --cookie <data|filename>   Send these cookies (name=value pairs), or start the
                                cookie engine with the cookies of this file
 -c, --cookie-jar <filename>    Write all cookies to this file after the transfers
 -j, --junk-session-cookies     Drop the session cookies read from a file
 -u, --user <user:password>     Server user and password
     --basic                    Use HTTP Basic authentication (the default)
     --digest                   Use HTTP Digest authentication
     --ntlm                     Use HTTP NTLM authentication
     --anyauth                  Pick the safest authentication the server offers
     --oauth2-bearer <token>    Send this OAuth 2 Bearer token
     --location-trusted         Send credentials to other hosts on redirects too
 -n, --netrc                    Take the user and password from ~/.netrc
     --netrc-optional           The same, but a password in the URL is kept
     --netrc-file <filename>    Take them from this netrc file
     --resolve <host:port:addr[,addr]...>  Resolve host:port to these addresses
     --connect-to <HOST1:PORT1:HOST2:PORT2>  Connect to HOST2:PORT2 instead
     --unix-socket <path>       Connect through this Unix domain socket
     --abstract-unix-socket <name>  The same, in the abstract namespace
     --interface <name|address> Use this network interface or source address
     --local-port <num[-num]>   Use a local port (from this range)
     --haproxy-protocol         Open each connection with a PROXY protocol line
     --haproxy-clientip <ip>    The same, with this address as the client's
 -4, --ipv4                     Resolve names to IPv4 addresses only
 -6, --ipv6                     Resolve names to IPv6 addresses only
 -h, --help                     This help text
 -V, --version                  Show the version and exit

 opensock's own flags, each a socket-factory layer asked for every new connection
 (every redirect hop included):
     --deny <cidr>              Refuse addresses in this network (repeatable)
     --allow <cidr>             Refuse addresses outside these networks (repeatable)
     --deny-private             Refuse loopback, private, link-local, metadata and
                                other internal addresses (the SSRF guard)
     --trace-attempts           Show every connection attempt: address, outcome, time

 TLS (https://, verified against the system's CA store unless told otherwise):
 -k, --insecure                 Do not verify the server's certificate or name
     --cacert <file>            Trust the CAs in this PEM file
     --ca-native                The system's CA store (the default here)
     --engine <name>            A crypto engine (none is built in; "list" lists them)
     --capath <dir>             Trust the CAs in this hashed directory
 -E, --cert <file>              Client certificate (PEM)
     --key <file>               Its private key (PEM; default: the certificate's file)
     --tlsv1.2                  TLS 1.2 or later (the default)
     --tlsv1.3                  TLS 1.3 only
     --pinnedpubkey <hashes|file>  The server's public key: sha256//BASE64[;...], or
                                a PEM or DER key file

 Proxies (without one, the environment's as curl reads it: http_proxy, HTTPS_PROXY,
 ALL_PROXY, NO_PROXY):
 -x, --proxy [scheme://][user:password@]host[:port]
                                Use this proxy: http, https, socks4, socks4a, socks5
                                or socks5h
     --proxy1.0 <host[:port]>   HTTP proxy asked for tunnels in HTTP/1.0
 -p, --proxytunnel              Tunnel http:// URLs through the HTTP proxy (CONNECT)
     --suppress-connect-headers Write no head of a proxy's answer to CONNECT (-i, -D)
     --proxy-header <header/@file>  A field for the proxy alone (CONNECT, forwarded)
     --noproxy <no-proxy-list>  Hosts to reach without a proxy (in place of NO_PROXY)
     --socks4 <host[:port]>     SOCKS4 proxy, the name resolved here
     --socks4a <host[:port]>    SOCKS4a proxy, the name resolved by the proxy
     --socks5 <host[:port]>     SOCKS5 proxy, the name resolved here
     --socks5-hostname <host[:port]>  SOCKS5 proxy, the name resolved by the proxy
     --preproxy [scheme://]host[:port]  A SOCKS proxy to pass before the proxy
 -U, --proxy-user <user:password>  The proxy's user name and password
     --proxy-basic              Send them with Basic authentication (the default)
     --proxy-digest             Send them with Digest, answering the proxy's challenge
     --proxy-ntlm               Send them with NTLM
     --proxy-anyauth            The safest scheme the proxy's challenge offers
     --proxy-insecure           Do not verify an HTTPS proxy's certificate or name
     --proxy-cacert <file>      Trust the CAs in this PEM file for an HTTPS proxy
     --proxy-capath <dir>       Trust the CAs in this hashed directory for it
     --proxy-cert <file>        Client certificate (PEM) for an HTTPS proxy
     --proxy-key <file>         Its private key (PEM)
     --proxy-pinnedpubkey <hashes|file>  The HTTPS proxy's public key, pinned
)";

}  // namespace fetch
