// One command line's transfers over one http::session, so that a later URL to the same
// origin reuses the connection. Each URL is a transfer: the request, then each redirect
// with -L, which opensock-fetch follows itself (rather than the session) because -X
// keeps its method on every hop in curl, and because the body of a response that will
// be followed must be read but not written. The body streams from the session's body
// sink to the output; nothing of it is kept. Each hop gets its credentials (auth.hpp) and
// its Cookie field (cookies.hpp) here, for the same reason.
#pragma once

#include "auth.hpp"
#include "command_line.hpp"
#include "content_disposition.hpp"
#include "cookies.hpp"
#include "output.hpp"
#include "progress_meter.hpp"
#include "request_plan.hpp"
#include "retry.hpp"
#include "time_condition.hpp"
#include "trace.hpp"
#include "upload.hpp"
#include "url_glob.hpp"
#include "verbose.hpp"
#include "write_out.hpp"

#include <opensock/connector/name_overrides.hpp>
#include <opensock/error.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/http/serializer.hpp>
#include <opensock/http/session.hpp>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace fetch {

namespace http = opensock::http;

/// Prints "opensock-fetch: (N) message" unless -s hides it (and -S does not show it).
inline void report_error(const options& o, int code, std::string_view message) {
  if (o.silent && !o.show_error) return;
  fmt::print(stderr, "opensock-fetch: ({}) {}\n", code, message);
}

/// Prints "Warning: message" unless -s hides it, as curl's warnings.
inline void report_warning(const options& o, std::string_view message) {
  if (!o.silent) fmt::print(stderr, "Warning: {}\n", message);
}

/// A URL as curl takes it: without a scheme (a letter, then letters, digits, '+', '-' or
/// '.', then ":/"), the scheme --proto-default names, or the one curl guesses from the
/// host name (http, but ftp for "ftp.…" and so on).
inline std::string with_scheme(std::string_view text,
                               const std::optional<std::string>& fallback) {
  const auto colon = text.find(':');
  if (colon != std::string_view::npos &&
      opensock::http::detail::valid_scheme(text.substr(0, colon)) &&
      text.substr(colon + 1, 1) == "/")
    return std::string(text);
  if (fallback) return *fallback + "://" + std::string(text);
  std::string_view host = text.substr(0, text.find_first_of("/?#"));
  if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  return std::string(guessed_scheme(host)) + "://" + std::string(text);
}

/// Gives the file at `path` the modification (and access) time `seconds` since the epoch,
/// as curl's -R does; a file whose time cannot be set keeps its own, as in curl.
inline void set_file_time(const std::string& path, std::int64_t seconds) {
  const timespec times[2] = {{static_cast<std::time_t>(seconds), 0},
                             {static_cast<std::time_t>(seconds), 0}};
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

/// What one hop's response head said so far, read from the raw lines the session hands
/// to transfer_hooks::on_header_line (1xx heads included, then the trailers).
struct head_reader {
  enum class where { status_line, head, body_or_trailers };
  where at = where::status_line;
  int status = 0;
  bool has_location = false;
  std::optional<std::uint64_t> content_length;
  // A Content-Length past 2^63 - 1: no length, but more than any --max-filesize.
  bool length_too_large = false;
  // --ignore-content-length: none is read.
  bool ignores_length = false;
  // Content-Range's first byte, read as curl reads it (the first number after the name);
  // `whole_range`: it has '*' first ("bytes */size"), which makes curl take everything.
  std::optional<std::uint64_t> range_start;
  bool whole_range = false;
  // Last-Modified as a date; -1 for one that is not a date (curl's reading).
  std::optional<std::int64_t> last_modified;
  std::uint64_t bytes = 0;  // head and trailer bytes of this hop
  std::size_t lines = 0;    // header fields of the final head

  /// Reads one line; returns whether it is the empty line ending the trailers, which
  /// curl does not write with -i.
  bool read(std::string_view line) {
    bytes += line.size();
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    // The session answers a 401 by sending the request again: the next response's status
    // line follows the first one's head. No trailer field is named "HTTP/...".
    if (at == where::body_or_trailers && bare.starts_with("HTTP/")) at = where::status_line;
    switch (at) {
      case where::status_line: {
        const auto space = bare.find(' ');
        status = 0;
        if (space != std::string_view::npos && bare.size() >= space + 4)
          for (std::size_t i = space + 1; i < space + 4; ++i)
            status = status * 10 + (bare[i] - '0');
        has_location = false;
        content_length.reset();
        length_too_large = false;
        range_start.reset();
        whole_range = false;
        last_modified.reset();
        lines = 0;
        at = where::head;
        return false;
      }
      case where::head:
        if (bare.empty()) {
          at = status >= 100 && status < 200 && status != 101 ? where::status_line
                                                              : where::body_or_trailers;
        } else {
          ++lines;
          const auto colon = bare.find(':');
          const std::string_view name = bare.substr(0, colon);
          // An empty Location leads nowhere.
          if (http::iequals(name, "location") && colon != std::string_view::npos &&
              bare.find_first_not_of(" \t", colon + 1) != std::string_view::npos)
            has_location = true;
          if (http::iequals(name, "last-modified") && colon != std::string_view::npos)
            last_modified = parse_date(bare.substr(colon + 1)).value_or(-1);
          if (http::iequals(name, "content-length") && colon != std::string_view::npos &&
              !ignores_length) {
            // Read as the session's parser reads it.
            using http::detail::length_reading;
            std::optional<std::uint64_t> length;
            const auto reading = http::detail::merge_content_length(bare.substr(colon + 1), length);
            if (reading == length_reading::valid) content_length = length;
            length_too_large = reading == length_reading::too_large;
          }
          if (http::iequals(name, "content-range") && colon != std::string_view::npos) {
            std::string_view value = bare.substr(colon + 1);
            const auto at = value.find_first_of("0123456789*");
            if (at == std::string_view::npos || value[at] == '*') {
              whole_range = true;
            } else {
              std::uint64_t n = 0;
              for (std::size_t i = at; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i)
                n = n * 10 + std::uint64_t(value[i] - '0');
              range_start = n;
            }
          }
        }
        return false;
      case where::body_or_trailers: return bare.empty();
    }
    return false;
  }

  bool final_head_done() const noexcept { return at == where::body_or_trailers; }
};

template <class Factory>
class fetcher {
 public:
  using clock = std::chrono::steady_clock;

  fetcher(asio::any_io_executor executor, Factory factory, const options& o,
          const request_plan& plan, http::session_options session_options,
          cookie_engine& cookies, trace_writer* trace = nullptr)
      : o_(o),
        plan_(plan),
        cookies_(cookies),
        trace_(trace),
        auth_(o),
        timeouts_(session_options.timeouts),
        session_(std::move(executor), std::move(factory), std::move(session_options)),
        meter_(!o.silent && !o.verbose && !o.no_progress_meter &&
                   (o.progress_bar || ::isatty(2) == 1),
               o.progress_bar ? progress_meter::style::bar : progress_meter::style::meter) {
    if (o.dump_header) heads_.emplace(*o.dump_header);
  }

  /// Every URL in turn; the exit code is the last transfer's, as in curl.
  asio::awaitable<int> run() {
    int code = 0;
    for (std::size_t i = 0; i < o_.urls.size(); ++i) code = co_await transfer(i);
    session_.close_idle();
    co_return code;
  }

 private:
  struct hop_state {
    head_reader head;
    bool connected = false;
    bool follow = false;   // the response is a redirect -L follows: its body is dropped
    bool failing = false;  // -f and a status from 400 up
    bool too_large = false;  // a body larger than --max-filesize
    output* etags = nullptr;  // --etag-save's file
    bool name_from_header = false;  // -O -J: Content-Disposition may name the file
    // -C: the byte resumed at; a body that does not start there is not written, or is
    // refused at its first byte (curl's 33).
    std::uint64_t resume = 0;
    bool ignore_body = false;
    bool cannot_resume = false;
    bool resume_refused = false;
    bool write_failed = false;
    // -z: a body whose Last-Modified fails the condition is not written (its first
    // byte ends the transfer), and the transfer counts as a 304, as curl simulates one.
    bool condition_unmet = false;
    bool not_modified = false;
    std::uint64_t body_bytes = 0;
    // For -w: the length of the request's body (none: counted as it is sent), when its
    // head last went out, and whether a final response head came (a next one answers
    // the request sent again with credentials).
    std::optional<std::uint64_t> body_length;
    std::optional<clock::time_point> head_sent;
    bool answered = false;
  };

  // Where the i-th URL's output goes: -o FILE, -O (the URL's last path segment), or
  // stdout when the command line has fewer -o/-O than URLs; --output-dir before any path
  // but stdout's, absolute ones too, as curl puts it.
  std::optional<std::string> output_path(std::size_t i, const http::url& u) const {
    if (i >= o_.outputs.size()) return std::nullopt;
    const auto& spec = o_.outputs[i];
    if (spec.discard) return "/dev/null";
    std::string path = spec.remote_name ? remote_file_name(u.path) : spec.path;
    return path == "-" ? path : in_output_dir(std::move(path));
  }

  // -O's name for a URL path: its last segment, trailing slashes (or backslashes) left
  // out; "curl_response" for a path of none, as newer curl names it (curl 7.88 fails
  // such a transfer with 23).
  std::string remote_file_name(std::string_view path) const {
    while (!path.empty()) {
      const auto cut = path.find_last_of("/\\");
      if (cut == std::string_view::npos) break;
      if (cut + 1 < path.size()) return std::string(path.substr(cut + 1));
      path.remove_suffix(1);
    }
    if (!path.empty()) return std::string(path);
    report_warning(o_, "No remote filename, uses \"curl_response\"");
    return "curl_response";
  }

  // `name` in --output-dir, when it names one.
  std::string in_output_dir(std::string name) const {
    if (!o_.output_dir || o_.output_dir->empty()) return name;
    return *o_.output_dir + "/" + name;
  }

  // curl's wording of the errors a user meets most; the others as opensock words them.
  std::string describe(std::error_code ec, const http::url& u, const hop_state& hop,
                       clock::time_point started) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count();
    const auto target =
        opensock::apply_connect_to(session_.options().names, u.host, u.port);
    const int code = opensock::curl_code(ec);
    if (code == 7)
      return fmt::format("Failed to connect to {} port {} after {} ms: {}", target.host,
                         target.port, ms, ec.message());
    if (code == 6) return fmt::format("Could not resolve host: {}", target.host);
    if (code == 28 && !hop.connected)
      return fmt::format("Connection timed out after {} milliseconds", ms);
    if (code == 28) {
      if (hop.head.content_length)
        return fmt::format(
            "Operation timed out after {} milliseconds with {} out of {} bytes received", ms,
            hop.body_bytes, *hop.head.content_length);
      return fmt::format("Operation timed out after {} milliseconds with {} bytes received", ms,
                         hop.body_bytes);
    }
    if (ec == opensock::error::got_nothing) return "Empty reply from server";
    if (ec == opensock::error::recv_error) return "Recv failure: Connection reset by peer";
    if (ec == opensock::error::partial_file) {
      if (hop.head.content_length && *hop.head.content_length > hop.body_bytes)
        return fmt::format("transfer closed with {} bytes remaining to read",
                           *hop.head.content_length - hop.body_bytes);
      return "transfer closed with outstanding read data remaining";
    }
    return ec.message();
  }

  // The URL's transfer, and as --retry says, the transfer again: -w describes the last.
  asio::awaitable<int> transfer(std::size_t index) {
    retry_budget retries(o_);
    long retried = 0;
    for (;;) {
      const auto started = clock::now();
      transfer_report report;
      report.method = plan_.custom_method.value_or(plan_.method);
      report.url = given_url(index);
      report.url_effective = report.url;  // until it is read: curl shows it as given
      report.urlnum = url_number(index);
      report.xfer_id = next_transfer_id();
      if (o_.referer && !o_.referer->empty()) report.referer = *o_.referer;
      attempt_end end;
      end.code = co_await run_hops(index, started, report, end);
      meter_.finish();
      if (const char* why = retries.reason(end)) {
        if (const auto wait = retries.wait(end, why)) {
          report_warning(o_, fmt::format("Problem {}. Will retry in {} seconds. {} retries left.",
                                         why, wait->count() / 1000, retries.left()));
          retries.spend();
          ++retried;
          asio::steady_timer pause(co_await asio::this_coro::executor, *wait);
          co_await pause.async_wait(asio::use_awaitable);
          continue;
        }
        report_warning(o_, "The Retry-After: time would make this command line exceed the "
                           "maximum allowed time for retries.");
      }
      report.num_retries = retried;
      co_return finish_transfer(end.code, started, report);
    }
  }

  int finish_transfer(int code, clock::time_point started, transfer_report& report) {
    report.exitcode = code;
    report.time_total = clock::now() - started;
    if (o_.write_out) write_out(write_out_format(*o_.write_out), report);
    cookies_.save(o_.verbose);
    return code;
  }

  // -w's %{url}: the URL as the command line gave it (a glob's as expanded), with what
  // curl adds before the transfer: -T's file name, and -G's and --url-query's query
  // before any fragment.
  std::string given_url(std::size_t index) const {
    std::string text = o_.urls[index];
    if (index < o_.upload_files.size())
      text = with_upload_name(std::move(text), o_.upload_files[index]);
    for (const auto* query : {&plan_.query, &plan_.url_query}) {
      if (!*query) continue;
      const auto hash = std::min(text.find('#'), text.size());
      const bool has_query = text.find('?') < hash;
      text.insert(hash, (has_query ? "&" : "?") + **query);
    }
    return text;
  }

  // -w's %{urlnum}: the place on the command line of the URL `index` comes from; the
  // URLs of one glob share it.
  std::size_t url_number(std::size_t index) const {
    if (o_.globoff) return index;
    std::uint64_t first = 0;  // of the URLs of the written one
    for (std::size_t i = 0; i < o_.urls_as_written.size(); ++i) {
      glob_error error;
      const auto glob = url_glob::parse(o_.urls_as_written[i], error);
      first += glob ? glob->size() : 1;
      if (index < first) return i;
    }
    return index;
  }

  // -w's %{xfer_id}: the transfers of the whole run are numbered, every attempt of
  // --retry too, as curl numbers those that share its connection cache.
  static std::int64_t next_transfer_id() {
    static std::int64_t next = 0;
    return next++;
  }

  // The URL's requests, hop after hop as -L follows; `end` says how the last ended.
  asio::awaitable<int> run_hops(std::size_t index, clock::time_point started,
                                transfer_report& report, attempt_end& end) {
    std::error_code ec;
    const std::string* upload_file =
        index < o_.upload_files.size() ? &o_.upload_files[index] : nullptr;
    http::url u = http::url::parse(
        with_scheme(upload_file ? with_upload_name(o_.urls[index], *upload_file)
                                : o_.urls[index],
                    o_.proto_default),
        ec, o_.path_as_is ? http::url::dot_segments::keep : http::url::dot_segments::remove);
    if (!ec && !o_.protocols.allows(u.scheme)) ec = opensock::error::unsupported_protocol;
    for (const auto* query : {&plan_.query, &plan_.url_query}) {  // -G, --url-query
      if (ec || !*query) continue;
      u.query += u.has_query ? "&" : "";
      u.query += **query;
      u.has_query = true;
    }
    if (ec) co_return fail_url(ec, o_.urls[index], u, report);
    if (o_.disallow_username && u.has_userinfo) {
      report.errormsg = "Option DISALLOW_USERNAME_IN_URL is set and URL contains username.";
      report_error(o_, 67, report.errormsg);
      co_return 67;
    }
    report.url_effective = effective_url(u);
    if (const auto bad_userinfo = auth_.start(u))
      co_return fail_url(bad_userinfo, o_.urls[index], u, report);

    // -D's file, made (emptied by the first URL) before anything is connected, as curl
    // makes it; every head of every URL goes there.
    if (heads_ && !heads_->create()) {
      report.errormsg = fmt::format("Failed to open {}", heads_->path());
      report_error(o_, 23, report.errormsg);
      co_return 23;
    }
    // -C: where to resume, and the output file appended to from there.
    const auto path = output_path(index, u);
    std::uint64_t resume = o_.continue_at.value_or(0);
    if (o_.continue_current && path && *path != "-") {
      std::error_code absent;
      resume = std::filesystem::file_size(*path, absent);
      if (absent) resume = 0;
    }
    // --skip-existing: no transfer for a file that is there already.
    if (o_.skip_existing && path && *path != "-" && std::filesystem::exists(*path)) {
      if (o_.verbose)
        show_lines("* ", fmt::format("skips transfer, \"{}\" exists locally\n", *path));
      co_return 0;
    }
    output out(path, resume > 0);
    if (o_.no_clobber) out.never_overwrite();
    // --remove-on-error: the file goes unless the transfer ends well (disarmed there).
    struct removal {
      output& out;
      bool armed;
      ~removal() {
        if (armed) out.remove();
      }
    } removed_on_error{out, o_.remove_on_error};
    // -w's %{filename_effective}: the file's name as the transfer leaves it (-J and
    // --no-clobber may change it); none for stdout.
    struct file_name {
      const output& out;
      transfer_report& report;
      ~file_name() {
        if (!out.to_stdout()) report.filename_effective = out.path();
      }
    } named_file{out, report};
    if (o_.create_dirs) out.make_directories();
    const std::uint64_t upload = plan_.body   ? plan_.body->size()
                                 : plan_.form ? plan_.form->size()
                                              : 0;
    meter_.start(upload, !(out.to_stdout() && ::isatty(1) == 1));
    http::request req(plan_.method, u, plan_.headers);
    std::optional<output> etags;
    if (const int code = complete_request(req, upload_file, resume, etags, report))
      co_return code;
    int redirects = 0;
    int status = 0;  // the last response's, and its Last-Modified as a date (-R)
    std::optional<std::int64_t> last_modified;
    std::optional<std::string> custom_method = plan_.custom_method;  // -X
    std::optional<std::string> referer;  // -e ;auto's, once a redirect was followed
    bool answered_http10 = false;        // by a response of this transfer
    for (;;) {
      hop_state hop;
      hop.head.ignores_length = o_.ignore_content_length;
      if (etags) hop.etags = &*etags;
      hop.resume = upload_file ? 0 : resume;  // an upload resumed is no download resumed
      hop.name_from_header = o_.remote_header_name && index < o_.outputs.size() &&
                             o_.outputs[index].remote_name;
      http::request wire = req;
      // -X writes its method on every hop's request line; the body is what the
      // request has (none without data, or after a redirect turned a POST into a GET).
      if (custom_method) wire.method = *custom_method;
      report.method = wire.method;
      wire.target = o_.request_target;
      if (o_.http_1_0) wire.version = 10;
      // A server that answered in HTTP/1.0 is spoken to in it for the rest of the
      // transfer, as curl speaks to it: a body of unknown length cannot go then.
      if (answered_http10) {
        wire.version = 10;
        if (!wire.body.none() && !body_length(wire.body) &&
            !wire.headers.contains("content-length"))
          co_return fail(report, 25, "Chunky upload is not supported by HTTP 1.0");
      }
      wire.credentials = auth_.for_hop(wire.url, ec);
      if (ec) {
        const bool missing = ec == std::errc::no_such_file_or_directory;
        report.errormsg = missing ? ".netrc error: no such file" : ".netrc parser error";
        report_error(o_, 26, report.errormsg);
        co_return 26;
      }
      add_cookie_field(wire);
      if (referer) set_referer(wire, *referer);
      // opensock refuses CR, LF and NUL in a field before it connects; say so here,
      // where the user can tell which header it was.
      if (const auto invalid = http::validate(wire)) {
        if (invalid == opensock::error::unframable_request_body)
          co_return fail(report, 43,
                         "a Transfer-Encoding set with -H must end in chunked and come without "
                         "a Content-Length: opensock refuses to send a body no server could "
                         "tell the end of (curl sends it)");
        co_return fail(report, 43,
                       fmt::format("{} holds CR, LF or another byte HTTP does not allow there: "
                                   "opensock refuses to send it (curl 7.88 sends it as it is)",
                                   what_is_invalid(wire)));
      }
      if (o_.max_time && *o_.max_time > 0) {
        const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::duration<double>(*o_.max_time));
        const auto spent =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
        http::request_timeouts timeouts = timeouts_;
        timeouts.total = std::max(limit - spent, std::chrono::milliseconds(1));
        wire.timeouts = timeouts;
      }
      // -w's sizes: a body of no stated length is counted as it goes.
      hop.body_length = body_length(wire.body);
      const auto counted = std::make_shared<body_count>();
      if (!hop.body_length && wire.body.producer())
        wire.body = http::request_body::producer(
            [produce = *wire.body.producer(), counted](asio::mutable_buffer room) {
              return count_body(produce, counted, room);
            });
      report.size_delivered = 0;
      // A named variable, not a temporary inside the co_await: see the README's note on
      // g++ 12 and aggregate temporaries (transfer_hooks is an aggregate).
      http::transfer_hooks hooks = hooks_for(hop, out, u, report);
      end.started = true;
      const auto hop_started = clock::now();
      http::response r = co_await session_.async_request(
          std::move(wire), std::move(hooks), asio::redirect_error(asio::use_awaitable, ec));
      add_times(report, r.info, hop, hop_started);
      // The body's bytes as sent, its chunked framing included, as newer curl counts them.
      report.size_upload =
          hop.head_sent ? hop.body_length.value_or(counted->bytes + counted->framing) : 0;
      report.size_request += counted->bytes + counted->framing;

      end.error = ec;
      end.http_code = r.status;
      if (const auto after = r.headers.get("retry-after"))
        end.retry_after = retry_after_seconds(*after);
      if (r.local.port() != 0) {
        report.local_ip = r.local.address().to_string();
        report.local_port = r.local.port();
      }
      status = r.status;
      last_modified = hop.head.last_modified;
      // A request that got no response (a redirect to a refused port) leaves the last
      // response's code, version and type, as curl leaves them.
      if (r.status) {
        answered_http10 = answered_http10 || r.version == 10;
        report.http_code = r.status;
        report.http_version = r.version;
        report.content_type.reset();
        if (const auto type = r.headers.get("content-type"))
          report.content_type = std::string(*type);
      }
      if (r.info.tunnel_answer.status) report.http_connect = r.info.tunnel_answer.status;
      report.num_redirects = redirects;
      report.url_effective = effective_url(req.url);
      report.size_download = hop.body_bytes;
      report.size_header += hop.head.bytes;
      report.num_headers = hop.head.lines;

      if (hop.not_modified) {
        if (o_.verbose)
          show_lines("* ", plan_.time_cond->how == time_condition::kind::unmodified_since
                               ? "The requested document is not old enough\n"
                                 "Simulate an HTTP 304 response\n"
                               : "The requested document is not new enough\n"
                                 "Simulate an HTTP 304 response\n");
        report.http_code = 304;
        removed_on_error.armed = false;
        co_return 0;
      }
      if (hop.resume_refused) {
        report.errormsg = "HTTP server doesn't seem to support byte ranges. Cannot resume.";
        report_error(o_, 33, report.errormsg);
        co_return 33;
      }
      if (hop.too_large) {
        report.errormsg = "Maximum file size exceeded";
        report_error(o_, 63, report.errormsg);
        co_return 63;
      }
      if (hop.failing && (!ec || ec == opensock::error::write_error))
        co_return fail(report, 22, fmt::format("The requested URL returned error: {}", r.status));
      if (hop.write_failed) co_return fail(report, 23, "Failure writing output to destination");
      // A refused tunnel: its answer's head with -i, and -f fails it as it fails a
      // response, as curl does.
      if (ec == opensock::error::tunnel_failed) {
        const auto& answer = r.info.tunnel_answer;
        if (o_.verbose) show_tunnel(answer);
        const bool shown = !o_.suppress_connect_headers;
        if ((shown && (o_.include || o_.head) && !out.write(answer.head)) ||
            (shown && heads_ && !heads_->write(answer.head)))
          co_return fail(report, 23, "Failure writing output to destination");
        if (o_.fail && answer.status >= 400)
          co_return fail(report, 22,
                         fmt::format("The requested URL returned error: {}", answer.status));
      }
      if (ec) {
        const int code = opensock::curl_code(ec);
        report.errormsg =
            ec == opensock::error::tunnel_failed
                ? fmt::format("CONNECT tunnel failed, response {}", r.info.tunnel_answer.status)
                : describe(ec, req.url, hop, started);
        report_error(o_, code, report.errormsg);
        co_return code;
      }
      const auto location = r.headers.get("location");
      // An empty Location leads nowhere: curl follows none.
      if (location && !location->empty() && r.status >= 300 && r.status < 400) {
        std::error_code location_error;
        http::url next = http::resolve_location(req.url, *location, location_error);
        // Where a redirect not followed would have gone, as curl shows it, also for a
        // scheme opensock does not speak.
        const bool too_many = o_.max_redirs != -1 && redirects >= o_.max_redirs;
        if (!o_.location || too_many)
          report.redirect_url = location_error ? absolute_url(*location) : effective_url(next);
        if (o_.location) {
          // curl counts the next request once it decides to follow, also when it then
          // cannot make it.
          ++report.request;
          if (too_many) {
            co_return fail(report, 47,
                           fmt::format("Maximum ({}) redirects followed", o_.max_redirs));
          }
          if (!location_error && (!o_.protocols.allows(next.scheme) ||
                                  !o_.redirect_protocols.allows(next.scheme)))
            location_error = opensock::error::unsupported_protocol;
          if (location_error)
            co_return fail_url(location_error, std::string(*location), next, report);
          if (o_.auto_referer) {
            http::url left = req.url;
            left.userinfo.clear();
            left.has_userinfo = false;
            referer = left.to_string();
            report.referer = referer;
          }
          report.time_redirect = clock::now() - started;
          const std::string method = req.method;
          req = http::redirected_request(req, std::move(next), r.status, o_.keep_post);
          // --follow: -X's method goes once the redirect makes the request a GET, as a
          // 303 makes any but HEAD.
          if (o_.follow && (req.method != method ||
                            (r.status == 303 && custom_method && *custom_method != "HEAD")))
            custom_method.reset();
          // A 307 or 308 sends the form again, from its start.
          if (plan_.form && !req.body.none()) req.body = plan_.form->body();
          u = req.url;
          ++redirects;
          continue;
        }
      }
      break;
    }
    // curl leaves an empty file after a transfer that succeeded without a byte, but for a
    // 304: the file it has is the one the condition asked about.
    if ((status != 304 && !out.create()) || !out.close())
      co_return fail(report, 23, "Failure writing output to destination");
    // -R: the file takes the time of the document, when the response said it.
    if (o_.remote_time && last_modified && *last_modified != -1 && !out.to_stdout())
      set_file_time(out.path(), *last_modified);
    if (o_.fail_with_body && status >= 400)
      co_return fail(report, 22, fmt::format("The requested URL returned error: {}", status));
    removed_on_error.armed = false;
    co_return 0;
  }

  // What the options add to a transfer's request: the body (-d's, -F's, or -T's with PUT
  // and its framing), -C's Range, --etag-compare's If-None-Match; and --etag-save's file,
  // made in `etags`. 0, or the exit code of what failed.
  int complete_request(http::request& req, const std::string* upload_file, std::uint64_t resume,
                       std::optional<output>& etags, transfer_report& report) const {
    if (plan_.body) req.body = *plan_.body;
    if (plan_.form) req.body = plan_.form->body();
    if (resume > 0 && plan_.own_range && !upload_file) {
      const std::string range = fmt::format("bytes={}-", resume);
      if (req.headers.contains("range")) {
        req.headers.set("Range", range);
      } else {
        insert_field(req.headers, 0, "Range", range);
      }
    }
    // --etag-compare's file, read as curl reads it: its lines joined, without line ends.
    // One that cannot be read counts as empty, as newer curl takes it (curl 7.88: 26).
    if (o_.etag_compare) {
      std::ifstream in(*o_.etag_compare, std::ios::binary);
      if (!in)
        report_warning(o_, fmt::format("Failed to open {}: {}", *o_.etag_compare,
                                       std::strerror(errno)));
      std::string etag;
      for (char c; in && in.get(c);)
        if (c != '\r' && c != '\n') etag += c;
      if (etag.empty()) etag = "\"\"";  // as curl sends an empty file
      insert_field(req.headers, plan_.added_at, "If-None-Match", etag);
    }
    // --etag-save's file, made before anything is connected (its directories too with
    // --create-dirs, as newer curl makes them); one that cannot be made skips the
    // transfer: 26.
    if (o_.etag_save) {
      output& file = etags.emplace(*o_.etag_save);
      if (o_.create_dirs) file.make_directories();
      if (!file.create()) {
        report.errormsg = fmt::format(
            "Failed creating file for saving etags: \"{}\". Skip this transfer", *o_.etag_save);
        report_warning(o_, report.errormsg);
        return 26;
      }
    }
    if (upload_file) {
      // -C: the file from that byte, and Content-Range saying which part it is; -C -
      // cannot know what the server has, and sends the whole file as the range from 0.
      const std::uint64_t offset =
          uploads_stdin(*upload_file) || o_.continue_current ? 0 : resume;
      auto body = open_upload(*upload_file, offset);
      if (!body) {
        report.errormsg = fmt::format("Can't open '{}'!", *upload_file);
        report_error(o_, 26, report.errormsg);
        return 26;
      }
      req.method = "PUT";
      if (!plan_.custom_method) report.method = "PUT";
      // The bytes sent: the file's from the offset on (none past its end: the library
      // then fails the transfer with 26, as curl does), or stdin's, of no known length.
      std::optional<std::uint64_t> sent = body->length;
      if (sent) sent = *sent - std::min(offset, *sent);
      if ((offset > 0 || o_.continue_current) && sent > 0u && plan_.own_range)
        insert_field(req.headers, 0, "Content-Range",
                     fmt::format("bytes {}-{}/{}", offset, *body->length - 1, *body->length));
      if (plan_.upload_framing) {
        if (sent) {
          req.headers.add("Content-Length", std::to_string(*sent));
        } else {
          req.headers.add("Transfer-Encoding", "chunked");
        }
      }
      if (!sent && o_.http_1_0) {
        report.errormsg = "Chunky upload is not supported by HTTP 1.0";
        report_error(o_, 25, report.errormsg);
        return 25;
      }
      if (plan_.asks_to_continue(sent)) req.headers.add("Expect", "100-continue");
      req.body = std::move(body->body);
    }
    return 0;
  }

  // Which part of a request validate() refused, for the message.
  static std::string what_is_invalid(const http::request& r) {
    auto bad = [](std::string_view s) {
      for (char c : s)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return true;
      return false;
    };
    for (const auto& f : r.headers)
      if (bad(f.name) || bad(f.value)) return fmt::format("the header '{}'", f.name);
    if (bad(r.method)) return "the method (-X)";
    return "the request";
  }

  int fail_url(std::error_code ec, const std::string& text, const http::url& u,
               transfer_report& report) const {
    const int code = opensock::curl_code(ec);
    if (code == 1) {
      const auto colon = text.find("://");
      const std::string scheme = colon == std::string::npos ? u.scheme : text.substr(0, colon);
      report.errormsg =
          fmt::format("Protocol \"{}\" not supported or disabled in libopensock", scheme);
    } else {
      report.errormsg = ec.message();
    }
    report_error(o_, code, report.errormsg);
    return code;
  }

  // Ends the transfer with `code`, saying why (-w's %{errormsg} too).
  int fail(transfer_report& report, int code, std::string message) const {
    report.errormsg = std::move(message);
    report_error(o_, code, report.errormsg);
    return code;
  }

  // -w's %{url_effective}: the URL as curl writes it back, its fragment kept, its host
  // in Unicode when it was written so.
  static std::string effective_url(const http::url& u) {
    std::string shown = u.to_string(http::url::host_form::as_written);
    if (!u.fragment.empty()) shown.append("#").append(u.fragment);
    return shown;
  }

  // The bytes a request's body has (-w's %{size_upload}); none for one of no stated
  // length, counted as it is sent instead.
  static std::optional<std::uint64_t> body_length(const http::request_body& body) {
    if (const auto* path = body.file_path()) {
      std::error_code absent;
      const auto size = std::filesystem::file_size(*path, absent);
      return absent ? 0 : size - std::min<std::uint64_t>(size, body.file_offset());
    }
    if (body.producer()) return body.producer_length();
    return body.memory().size();
  }

  // Such a body's bytes, and those of the chunked framing it is sent in.
  struct body_count {
    std::uint64_t bytes = 0;
    std::uint64_t framing = 0;
  };

  // `produce`, counted into `count`: a coroutine of its own, whose frame keeps what it
  // was given, rather than a capturing lambda's.
  static asio::awaitable<std::size_t> count_body(http::body_producer produce,
                                                 std::shared_ptr<body_count> count,
                                                 asio::mutable_buffer room) {
    const std::size_t n = co_await produce(room);
    count->bytes += n;
    // Each chunk's size line and line end, and the last chunk: "0\r\n\r\n".
    count->framing += n != 0 ? fmt::format("{:x}", n).size() + 4 : 5;
    co_return n;
  }

  // -w's times of one request, each phase counted from the request's start and added to
  // the transfer's, as curl adds them over its requests; a phase that happened took a
  // microsecond at least, as in curl. A reused connection adds no lookup or connect.
  static void add_times(transfer_report& report, const http::transfer_info& info,
                        const hop_state& hop, clock::time_point hop_started) {
    const auto took = [](clock::duration d) {
      return std::max<clock::duration>(d, std::chrono::microseconds(1));
    };
    const clock::duration none{};
    const bool made = !info.reused && (hop.connected || !info.attempts.empty());
    if (made) report.time_namelookup += took(info.connect.name_lookup);
    if (made && hop.connected) {
      report.time_connect += took(info.connect.connect);
      if (info.connect.tls_handshake != none)
        report.time_appconnect += took(info.connect.tls_handshake);
    }
    if (hop.head_sent) {
      const auto sent = took(*hop.head_sent - hop_started);
      report.time_pretransfer += sent;
      // When the last byte of a body went is not known: by the response's first byte.
      const bool body = hop.body_length != 0u;
      report.time_posttransfer += body && info.first_byte != none ? took(info.first_byte) : sent;
    }
    if (info.first_byte != none) report.time_starttransfer += took(info.first_byte);
  }

  // The Cookie field of a hop where curl writes it: after the plan's leading fields.
  void add_cookie_field(http::request& wire) const {
    const std::string value = cookies_.field_for(wire.url, wire.method,
                                                 plan_.headers.contains("cookie"),
                                                 auth_.trusted_for(wire.url));
    if (!value.empty()) insert_field(wire.headers, plan_.cookie_at, "Cookie", value);
  }

  // -e ;auto: a redirected request's Referer, the URL it left, in place of -e's or where
  // curl puts it.
  void set_referer(http::request& wire, const std::string& value) const {
    if (wire.headers.contains("referer")) {
      wire.headers.set("Referer", value);
    } else {
      insert_field(wire.headers, plan_.referer_at, "Referer", value);
    }
  }

  // --etag-save: the value of an ETag field of `line`, blanks around it taken off, and a
  // line end, as curl writes it; other lines are not written.
  static bool save_etag(output& file, std::string_view line) {
    constexpr std::string_view name = "etag:";
    if (line.size() < name.size() || !http::iequals(line.substr(0, name.size()), name) ||
        !line.ends_with('\n'))
      return true;
    std::string_view value = line.substr(name.size());
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    while (!value.empty() && blank(value.back())) value.remove_suffix(1);
    if (value.empty()) return true;
    return file.write(value) && file.write("\n");
  }

  // Puts a field at position `at` of `headers` (at the end when there are fewer).
  static void insert_field(http::fields& headers, std::size_t at, std::string_view name,
                           std::string_view value) {
    http::fields with;
    std::size_t i = 0;
    for (const auto& f : headers) {
      if (i++ == at) with.add(name, value);
      with.add(f.name, f.value);
    }
    if (i <= at) with.add(name, value);
    headers = std::move(with);
  }

  // Each connection made counts, as in curl, also one that a failure followed: a proxy
  // that closed one after its 407 was connected to again.
  static int connections_made(const std::vector<opensock::attempt_record<asio::ip::tcp::endpoint>>*
                                  attempts) {
    int made = 0;
    if (attempts)
      for (const auto& attempt : *attempts)
        made += attempt.outcome == opensock::attempt_outcome::connected;
    return made;
  }

  http::transfer_hooks hooks_for(hop_state& hop, output& out, const http::url& u,
                                 transfer_report& report) {
    http::transfer_hooks hooks;
    const std::string& host = u.host;
    const bool include = o_.include || o_.head;
    hooks.on_connection = [this, &hop, &out, host, scheme = u.scheme,
                           &report](const http::connection_info& info) {
      hop.connected = true;
      if (!info.reused) report.num_connects += std::max(connections_made(info.attempts), 1);
      report.scheme = scheme;
      report.proxy_used = info.route && !info.route->proxies.empty();
      if (o_.unix_socket) {
        // curl reports the socket's path (cut to 45 bytes) and the URL's port.
        report.remote_ip = o_.abstract_unix_socket ? std::string() : o_.unix_socket->substr(0, 45);
        report.remote_port = info.remote.port();
      } else {
        report.remote_ip = info.remote.address().to_string();
        report.remote_port = info.remote.port();
      }
      const std::string key = fmt::format("{}:{}", host, info.remote);
      if (!info.reused) connection_ids_[key] = next_connection_id_++;
      report.conn_id = connection_ids_[key];
      if (o_.verbose) {
        show_connection(info, host, connection_ids_[key]);
        if (!info.reused && info.route) show_socks_hops(*info.route);
        if (info.tunnel_answer) show_tunnel(*info.tunnel_answer);
      }
      // curl writes the head of a tunnel's answer with -i and -D, before the response's.
      const bool tunnel_head = info.tunnel_answer && !o_.suppress_connect_headers;
      if (tunnel_head && (o_.include || o_.head) && !out.write(info.tunnel_answer->head))
        hop.write_failed = true;
      if (tunnel_head && heads_ && !heads_->write(info.tunnel_answer->head))
        hop.write_failed = true;
      if (o_.trace_attempts) show_attempts(info);
      if (trace_) {
        trace_->info(info.reused ? fmt::format("Re-using existing connection #{} with host {}",
                                               connection_ids_[key], host)
                                 : fmt::format("Connected to {} ({}) port {} (#{})", host,
                                               info.remote.address(), info.remote.port(),
                                               connection_ids_[key]));
      }
    };
    hooks.on_connect_error = [this, &report](const auto& attempts, std::error_code) {
      report.num_connects += connections_made(&attempts);
      // curl numbers a connection before it is made: one that fails takes a number too.
      report.conn_id = next_connection_id_++;
      if (o_.verbose) show_failed_attempts(attempts);
      if (o_.trace_attempts) show_attempt_list(attempts);
    };
    hooks.on_request_head = [this, &hop, &report](std::string_view head) {
      hop.head_sent = clock::now();
      report.size_request += head.size() + hop.body_length.value_or(0);
      if (o_.verbose) show_request_head(head);
      if (trace_) trace_->data("=> Send header", head);
    };
    hooks.on_header_line = [this, &hop, &out, include, &u, &report](std::string_view line) {
      if (hop.too_large) return;
      const bool was_done = hop.head.final_head_done();
      const auto before = hop.head.at;
      const bool trailers_end = hop.head.read(line);
      note_head_line(report, hop, before, line);
      if (!was_done && hop.head.final_head_done()) {
        decide(hop);
        // Judged once the fields are in, before the head's last line is written, as newer
        // curl judges it: the body of a redirect -L follows is not the file.
        const auto& length = hop.head.content_length;
        if (o_.max_filesize != 0 && !hop.follow &&
            ((length && *length > o_.max_filesize) || hop.head.length_too_large)) {
          hop.too_large = true;
          return;
        }
      }
      if (!was_done) cookies_.header_line(u, line);  // the heads' fields, not trailers
      if (o_.verbose) show_response_line(line);
      if (trace_) trace_->data("<= Recv header", line);
      // curl writes the whole head with -i, even of a response -f then fails.
      if (include && !trailers_end && !out.write(line)) hop.write_failed = true;
      if (heads_ && !trailers_end && !heads_->write(line)) hop.write_failed = true;
      if (hop.etags && !was_done && !save_etag(*hop.etags, line)) hop.write_failed = true;
      // -J: the first file name a head gives, for a file that must not exist yet.
      if (hop.name_from_header && !was_done && !out.renamed()) {
        if (auto name = content_disposition_name(line)) {
          if (!out.rename_new(in_output_dir(std::move(*name))) || !out.create())
            hop.write_failed = true;
        }
      }
    };
    // A redirect -L follows, and a body -C does not want: read, so the connection can be
    // reused, but not written; not even read when the connection closes after it.
    hooks.drop_body = [&hop](int, const http::fields&) { return hop.follow || hop.ignore_body; };
    hooks.on_body = [this, &hop, &out, &report](std::string_view piece) {
      if (hop.failing || hop.write_failed) return false;  // curl stops reading: 22 (or 23)
      if (hop.condition_unmet) {
        hop.not_modified = true;
        return false;
      }
      if (hop.cannot_resume) {
        hop.resume_refused = true;
        return false;
      }
      if (hop.too_large) return false;  // refused by its Content-Length
      // A body of no stated length that grows too large is stopped there, what fits
      // written, as newer curl stops it (curl 7.88 checks Content-Length only).
      if (o_.max_filesize != 0 && hop.body_bytes + piece.size() > o_.max_filesize) {
        hop.too_large = true;
        piece = piece.substr(0, static_cast<std::size_t>(o_.max_filesize - hop.body_bytes));
      }
      hop.body_bytes += piece.size();
      meter_.received(piece.size());
      if (trace_) trace_->data("<= Recv data", piece);
      if (out.write(piece)) {
        report.size_delivered += piece.size();
      } else {
        hop.write_failed = true;
      }
      return !hop.write_failed && !hop.too_large;
    };
    return hooks;
  }

  // -w's record of a response head's line: the fields of a final head (not a 1xx one's,
  // nor trailers), and a request counted again when a final head follows another, as it
  // answers the request sent again with credentials.
  static void note_head_line(transfer_report& report, hop_state& hop, head_reader::where before,
                             std::string_view line) {
    using where = head_reader::where;
    const bool interim = hop.head.status >= 100 && hop.head.status < 200;
    if (hop.head.at == where::head && before != where::head) {  // a status line
      if (hop.answered) ++report.request;
      hop.answered = !interim;
    } else if (hop.head.at == where::head && !interim) {
      record_field(report, line);
    }
  }

  // Once the final head is in: whether -L will follow it, whether -f fails it.
  void decide(hop_state& hop) {
    const int status = hop.head.status;
    hop.follow = o_.location && hop.head.has_location && status >= 300 && status < 400;
    // -f: a 416 to -C on a GET is the file already whole, no failure, as curl takes it.
    hop.failing = o_.fail && status >= 400 &&
                  !(status == 416 && hop.resume != 0 && plan_.method == "GET");
    // -C on a GET, as curl checks the answer: a 416 is no error and its body is not
    // written; a Content-Range from '*' takes the whole body; one from elsewhere, or none,
    // is refused unless the body is as long as the part already there.
    const auto& head = hop.head;
    if (hop.resume != 0 && plan_.method == "GET" && !hop.follow) {
      if (status == 416) {
        hop.ignore_body = true;
      } else if (!head.whole_range && head.range_start != hop.resume) {
        if (head.content_length == hop.resume) {
          hop.ignore_body = true;  // curl: "The entire document is already downloaded"
        } else {
          hop.cannot_resume = true;
        }
      }
    }
    // -z, unless a range was asked for.
    const auto& condition = plan_.time_cond;
    if (condition && !hop.follow && hop.resume == 0 && !o_.range)
      hop.condition_unmet = !condition->met_by(head.last_modified);
    if (!hop.follow) meter_.expect(hop.head.content_length);
  }

  const options& o_;
  const request_plan& plan_;
  cookie_engine& cookies_;
  trace_writer* trace_;  // --trace, or null
  authentication auth_;
  // The session's limits, which a transfer's own --max-time keeps beside its total.
  http::request_timeouts timeouts_;
  http::session<Factory> session_;
  progress_meter meter_;
  std::optional<output> heads_;  // -D
  std::map<std::string, int> connection_ids_;
  int next_connection_id_ = 0;
};

}  // namespace fetch
