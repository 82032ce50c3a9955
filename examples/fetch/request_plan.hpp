// What the command line asks to send, built once and used for every URL: the method
// curl would use internally (GET, POST for -d, HEAD for -I) and the one -X puts on the
// request line, the header fields in curl's order (User-Agent, Accept, the -H headers,
// then Content-Length and Content-Type for data), and the body.
#pragma once

#include "command_line.hpp"
#include "form.hpp"
#include "percent_encoding.hpp"
#include "time_condition.hpp"

#include <opensock/http/content_coding.hpp>
#include <opensock/http/fields.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {

inline constexpr std::string_view user_agent = "opensock-fetch/0.1";

// The User-Agent sent, to the origin and on CONNECT: -A's, opensock-fetch's without it;
// empty, none.
inline std::string agent_of(const options& o) {
  return o.user_agent ? *o.user_agent : std::string(user_agent);
}

struct request_plan {
  /// curl's internal method: decides what a redirect does to the request.
  std::string method = "GET";
  /// -X: the request line's method on every request, redirects included (as curl).
  std::optional<std::string> custom_method;
  opensock::http::fields headers;
  /// How many of `headers` come before the Cookie field (-b, the cookie engine): curl
  /// writes it after its own leading fields (User-Agent, Accept), before the -H ones.
  std::size_t cookie_at = 0;
  /// Where -e;auto puts the Referer of a redirected request: after Accept.
  std::size_t referer_at = 0;
  /// Where fields the transfer adds go: after the -H ones, before the body's framing.
  std::size_t added_at = 0;
  /// Whether the Range field is opensock-fetch's (-r's, or none), not a -H one: -C
  /// replaces it or puts its own first.
  bool own_range = true;
  /// The body of -d/--data-binary/--data-raw/--data-urlencode/--json, when any was given
  /// (possibly empty).
  std::optional<std::string> body;
  /// -F's multipart/form-data body, when any -F was given.
  std::shared_ptr<const fetch::form> form;
  /// -z's condition, checked against each response's Last-Modified too.
  std::optional<fetch::time_condition> time_cond;
  /// With -G, that data instead, for the query of every URL; then --url-query's parts.
  std::optional<std::string> query;
  std::optional<std::string> url_query;
  /// Warnings to show (unless -s): data files that could not be read.
  std::vector<std::string> warnings;
  /// For -T: whether opensock-fetch writes the framing field (Content-Length, or
  /// Transfer-Encoding for stdin) itself, after the -H fields; a -H field of the name
  /// replaces or removes it.
  bool upload_framing = true;
  /// Whether opensock-fetch may add "Expect: 100-continue": no -H Expect field, and not
  /// HTTP/1.0, which has no 100 (Continue).
  bool may_expect = true;

  /// Whether a body of `size` (nullopt: unknown, sent chunked) goes with "Expect:
  /// 100-continue", as newer curl asks for it: over 1 MiB, or of unknown length (curl
  /// 7.88 asked for every -T file). The body is sent at once all the same, which RFC
  /// 9110 §10.1.1 allows; curl waits up to a second for the 100 first.
  bool asks_to_continue(std::optional<std::uint64_t> size) const {
    return may_expect && (!size || *size > 1024 * 1024);
  }
};

namespace detail {

inline std::string read_all(const std::string& path, bool& ok) {
  if (path == "-") {
    ok = true;
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  return ok ? std::string(std::istreambuf_iterator<char>(in), {}) : std::string();
}

// curl's -d @file: the file's CR, LF and NUL bytes left out, wherever they are, as newer
// curl reads it (curl 7.88 cut each line at its first CR, and at a NUL).
inline std::string strip_like_curl(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  for (const char c : content)
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  return out;
}

// One --data-urlencode value as curl reads it, at its first '=' or '@': "content" and
// "=content" send the content encoded, "name=content" the name as it is, '=' and the
// content encoded; "@file" and "name@file" the same with the file's bytes, all of them,
// and nothing at all when the file cannot be read.
inline std::string url_encoded_part(const std::string& value, bool& read) {
  const auto at = value.find_first_of("=@");
  read = true;
  if (at == std::string::npos) return percent_encoded(value, space_as::plus);
  const std::string name = value.substr(0, at);
  std::string content = value.substr(at + 1);
  if (value[at] == '@') content = read_all(content, read);
  if (!read) return {};
  return (name.empty() ? std::string() : name + "=") +
         percent_encoded(content, space_as::plus);
}

// A -H value as curl reads it: "Name: value" sends it, "Name:" (nothing but blanks
// after the colon) removes opensock-fetch's own field of that name and sends nothing,
// "Name;" (nothing after the semicolon) sends "Name:" with an empty value, anything
// else is ignored.
struct header_edit {
  std::string name;
  std::optional<std::string> value;  // nullopt: remove
};

inline std::optional<header_edit> read_header(std::string_view text) {
  auto is_blank = [](std::string_view s) {
    return s.find_first_not_of(" \t") == std::string_view::npos;
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    const auto semicolon = text.find(';');
    if (semicolon == std::string_view::npos || semicolon == 0 || semicolon + 1 != text.size())
      return std::nullopt;
    return header_edit{std::string(text.substr(0, semicolon)), std::string()};
  }
  if (colon == 0) return std::nullopt;
  std::string_view value = text.substr(colon + 1);
  if (is_blank(value)) return header_edit{std::string(text.substr(0, colon)), std::nullopt};
  // curl sends the line as written; the serializer writes "Name: value", so one space
  // after the colon belongs to the separator and the rest to the value.
  if (value.front() == ' ') value.remove_prefix(1);
  return header_edit{std::string(text.substr(0, colon)), std::string(value)};
}

// -H's (or --proxy-header's) values as edits; "@file" gives one header per line of the
// file.
inline std::vector<header_edit> header_edits(const std::vector<std::string>& values) {
  std::vector<std::string> lines;
  for (const auto& h : values) {
    if (h.empty() || h.front() != '@') {
      lines.push_back(h);
      continue;
    }
    bool ok = false;
    const std::string content = read_all(h.substr(1), ok);
    std::size_t start = 0;
    while (ok && start < content.size()) {
      auto end = content.find('\n', start);
      if (end == std::string::npos) end = content.size();
      std::string line = content.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) lines.push_back(std::move(line));
      start = end + 1;
    }
  }
  std::vector<header_edit> edits;
  for (const auto& line : lines)
    if (auto edit = read_header(line)) edits.push_back(std::move(*edit));
  return edits;
}

}  // namespace detail

/// The request the options describe, with -F's `form` (none without -F). `error` is set
/// for combinations curl refuses.
inline request_plan make_request_plan(const options& o, std::optional<form> form,
                                      std::optional<usage_error>& error) {
  request_plan plan;
  if (form && (o.head || !o.upload_files.empty() || (!o.data.empty() && !o.get))) {
    error = usage_error{std::string("You can only select one HTTP request method! You asked "
                                    "for both ") +
                        (o.head                     ? "HEAD (-I, --head)"
                         : !o.upload_files.empty() ? "PUT (-T, --upload-file)"
                                                    : "POST (-d, --data)") +
                        " and multipart formpost (-F, --form)."};
    return plan;
  }
  if (!o.data.empty() && !o.get && o.head) {
    error = usage_error{
        "You can only select one HTTP request method! You asked for both POST "
        "(-d, --data) and HEAD (-I, --head)."};
    return plan;
  }
  if (o.fail && o.fail_with_body) {
    error = usage_error{"You must select either --fail or --fail-with-body, not both."};
    return plan;
  }
  if (!o.upload_files.empty() && ((!o.data.empty() && !o.get) || o.head)) {
    error = usage_error{std::string("You can only select one HTTP request method! You asked "
                                    "for both PUT (-T, --upload-file) and ") +
                        (o.head ? "HEAD (-I, --head)." : "POST (-d, --data).")};
    return plan;
  }
  bool json = false;
  if (!o.data.empty()) {
    std::string body;
    for (const auto& part : o.data) {
      std::string piece = part.text;
      if (part.how == data_part::kind::urlencode) {
        bool ok = false;
        piece = detail::url_encoded_part(part.text, ok);
        if (!ok)
          plan.warnings.push_back("Couldn't read data from file \"" + part.text +
                                  "\", this makes an empty POST.");
      } else if (part.how != data_part::kind::raw && !piece.empty() && piece.front() == '@') {
        bool ok = false;
        const std::string path = piece.substr(1);
        piece = detail::read_all(path, ok);
        if (!ok)
          plan.warnings.push_back("Couldn't read data from file \"" + path +
                                  "\", this makes an empty POST.");
        if (part.how == data_part::kind::ascii) piece = detail::strip_like_curl(piece);
      }
      // curl joins every later piece with '&', but --json's, which it appends as they are.
      json = json || part.how == data_part::kind::json;
      if (&part != &o.data.front() && part.how != data_part::kind::json) body += '&';
      body += piece;
    }
    if (o.get) {
      plan.query = with_upper_case_escapes(std::move(body));
    } else {
      plan.body = std::move(body);
      plan.method = "POST";
    }
  }
  for (const auto& part : o.url_queries) {
    std::string piece;
    if (!part.empty() && part.front() == '+') {
      piece = part.substr(1);
    } else {
      bool ok = false;
      piece = detail::url_encoded_part(part, ok);
    }
    piece = with_upper_case_escapes(std::move(piece));
    plan.url_query = plan.url_query ? *plan.url_query + "&" + piece : piece;
  }
  if (form) plan.method = "POST";
  if (o.head) plan.method = "HEAD";
  plan.custom_method = o.method;

  std::vector<detail::header_edit> edits = detail::header_edits(o.headers);
  auto named = [&](std::string_view name) {
    for (const auto& e : edits)
      if (opensock::http::iequals(e.name, name)) return true;
    return false;
  };
  // --json's fields go after the -H ones, as curl adds them, unless -H names them.
  if (json && !o.get) {
    if (!named("Content-Type")) edits.push_back({"Content-Type", "application/json"});
    if (!named("Accept")) edits.push_back({"Accept", "application/json"});
  }

  // A Transfer-Encoding of the caller's frames the body in Content-Length's place.
  const bool own_length = !named("Content-Length") && !named("Transfer-Encoding");
  const bool own_type = !named("Content-Type");
  // -A: the User-Agent in its place, none when empty.
  const std::string agent = agent_of(o);
  // curl's order: Range, User-Agent, Accept, Referer, then the cookies and -H's fields.
  plan.own_range = !named("Range");
  if (o.range && plan.own_range) plan.headers.add("Range", "bytes=" + *o.range);
  if (!named("User-Agent") && !agent.empty()) plan.headers.add("User-Agent", agent);
  if (!named("Accept")) plan.headers.add("Accept", "*/*");
  // --compressed under --raw asks for the codings without decoding them: the session,
  // which decodes what it asks for, is not asked.
  if (o.raw && o.compressed && !named("Accept-Encoding") &&
      !opensock::http::accept_encoding().empty())
    plan.headers.add("Accept-Encoding", std::string(opensock::http::accept_encoding()));
  plan.referer_at = plan.headers.size();
  if (o.referer && !o.referer->empty() && !named("Referer"))
    plan.headers.add("Referer", *o.referer);
  plan.cookie_at = plan.headers.size();
  // -z's field follows the Cookie one, before the -H ones, as curl writes it.
  if (o.time_cond) {
    plan.time_cond = read_time_condition(*o.time_cond, plan.warnings);
    const auto& condition = plan.time_cond;
    if (condition && !named(condition->field()))
      plan.headers.add(condition->field(), http_date(condition->time));
  }
  // A -H Content-Type names a form's type in multipart/form-data's place, written with
  // the boundary where curl writes it rather than among the -H fields.
  std::string form_type = "multipart/form-data";
  for (auto& e : edits) {
    if (!e.value) continue;
    if (form && opensock::http::iequals(e.name, "Content-Type")) {
      form_type = std::move(*e.value);
      continue;
    }
    plan.headers.add(std::move(e.name), std::move(*e.value));
  }
  plan.added_at = plan.headers.size();
  plan.upload_framing = own_length;
  plan.may_expect = !named("Expect") && !o.http_1_0;
  if (plan.body) {
    // Written here rather than by the serializer, to come where curl puts it.
    if (own_length) plan.headers.add("Content-Length", std::to_string(plan.body->size()));
    if (own_type) plan.headers.add("Content-Type", "application/x-www-form-urlencoded");
  }
  if (plan.body && plan.asks_to_continue(plan.body->size()))
    plan.headers.add("Expect", "100-continue");
  if (form) {
    form->frame(form_type);
    if (own_length) plan.headers.add("Content-Length", std::to_string(form->size()));
    plan.headers.add("Content-Type", form_type + "; boundary=" + form->boundary());
    if (plan.asks_to_continue(form->size())) plan.headers.add("Expect", "100-continue");
    plan.form = std::make_shared<const fetch::form>(std::move(*form));
  }
  return plan;
}

}  // namespace fetch
