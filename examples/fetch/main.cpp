// opensock-fetch: a curl-compatible HTTP/1.1 client on opensock, for trying the library
// from a shell and for comparing it with curl byte for byte.
//   opensock-fetch [curl's options] URL...
// This file wires the parts together: the command line (command_line.hpp), the request
// it describes (request_plan.hpp), the socket factory its flags compose (factory.hpp)
// and the transfers over one session (transfer.hpp).
#include "auth.hpp"
#include "command_line.hpp"
#include "cookies.hpp"
#include "factory.hpp"
#include "form.hpp"
#include "request_plan.hpp"
#include "trace.hpp"
#include "transfer.hpp"
#include "url_glob.hpp"
#include "version.hpp"

#include <opensock/connector/name_overrides.hpp>
#include <opensock/http/session.hpp>
#include <opensock/version.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

int usage_failure(const fetch::usage_error& error) {
  for (std::string_view rest = error.message; !rest.empty();) {
    const auto end = rest.find('\n');
    fmt::print(stderr, "opensock-fetch: {}\n", rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  fmt::print(stderr, "opensock-fetch: try 'opensock-fetch --help' for more information\n");
  return error.exit_code;
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(seconds));
}

// -4/-6, --resolve, --connect-to and --connect-timeout as the session's options. An
// unreadable --resolve or --connect-to entry is curl's 49 (curl fails a --connect-to
// entry only when it matches the URL, and skips it otherwise).
std::optional<opensock::http::session_options> session_options_for(const fetch::options& o) {
  opensock::http::session_options so;
  so.names.version = o.ip;
  for (const auto& text : o.resolve) {
    if (!text.empty() && text.front() == '-') continue;  // curl's "remove this entry"
    auto entry = opensock::resolve_override::parse(text);
    if (!entry) {
      fetch::report_error(o, 49, fmt::format("Couldn't parse CURLOPT_RESOLVE entry '{}'", text));
      return std::nullopt;
    }
    so.names.overrides.push_back(std::move(*entry));
  }
  for (const auto& text : o.connect_to) {
    auto rule = opensock::connect_to_rule::parse(text);
    if (!rule) {
      fetch::report_error(o, 49, fmt::format("Couldn't parse --connect-to entry '{}'", text));
      return std::nullopt;
    }
    so.names.connect_to.push_back(std::move(*rule));
  }
  if (o.connect_timeout && *o.connect_timeout > 0) {
    so.connect.connect_timeout = to_ms(*o.connect_timeout);
    so.timeouts.connect = to_ms(*o.connect_timeout);
  }
  if (o.expect100_timeout) so.timeouts.expect_continue = to_ms(*o.expect100_timeout);
  so.follow_redirects = false;  // the fetcher follows them itself (see transfer.hpp)
  // --compressed and --tr-encoding; curl sets no limit on how much a body expands.
  so.decompress = o.compressed && !o.raw;
  so.decode_transfer_codings = o.tr_encoding;
  // --raw: bodies as they came, transfer codings and content codings undecoded.
  so.keep_transfer_codings = o.raw;
  so.ignore_content_length = o.ignore_content_length;
  so.allow_http09 = o.http09;
  if (o.haproxy_clientip) {
    so.proxy_header.emplace(asio::ip::make_address(*o.haproxy_clientip));
  } else if (o.haproxy_protocol) {
    so.proxy_header.emplace();
  }
  so.decoding.max_ratio = 0;
  // The fetcher decides which hop gets credentials (auth.hpp); said here too for the
  // session's own use.
  so.location_trusted = o.location_trusted;
  if (o.insecure) so.tls = opensock::tls::options::insecure();
  if (o.cacert) so.tls.ca_file = *o.cacert;
  if (o.capath) so.tls.ca_path = *o.capath;
  if (o.cert) so.tls.certificate = *o.cert;
  if (o.key) so.tls.private_key = *o.key;
  if (o.tls_min) so.tls.min_version = *o.tls_min;
  so.tls.pinned_public_key = o.pinned_public_key;
  return so;
}

// --preproxy, then -x (or --socks5, --proxy1.0 and the others), as the session's
// proxies; the environment's, as curl reads it, without -x (an empty one names none and
// keeps the environment's from use, as in curl); -U giving the proxy its credentials,
// -x's or the environment's; --noproxy in place of NO_PROXY; the User-Agent on CONNECT,
// as curl sends it (for -A '', curl 7.88 sends an empty one; none goes here), unless a
// --proxy-header names one; --proxy-header's fields on CONNECT and after a forwarded
// request's own. 0, or the exit code of a proxy that cannot be used.
int add_proxies(const fetch::options& o, opensock::http::session_options& so) {
  for (const auto* text : {&o.preproxy, &o.proxy}) {
    if (!*text || (*text)->empty()) continue;
    std::error_code ec;
    auto parsed = opensock::proxy::parse(**text, ec);
    if (!parsed) {
      const int code = opensock::curl_code(ec);
      fetch::report_error(o, code,
                          code == 7 ? fmt::format("Unsupported proxy scheme for '{}'", **text)
                                    : fmt::format("Unsupported proxy syntax in '{}'", **text));
      return code;
    }
    // What is left out fails the way a curl built without it fails (4).
    if (parsed->kind == opensock::proxy_kind::https && !OPENSOCK_HAS_TLS) {
      fetch::report_error(o, 4, "HTTPS proxies are not built in to this opensock-fetch");
      return 4;
    }
    if (text == &o.proxy && o.proxy_1_0 && parsed->kind == opensock::proxy_kind::http)
      parsed->kind = opensock::proxy_kind::http_1_0;
    so.proxies.push_back(std::move(*parsed));
  }
  so.proxy_tunnel = o.proxytunnel;
  // NO_PROXY holds for -x too.
  auto environment = opensock::proxy_environment::read();
  if (o.noproxy) {
    so.no_proxy.emplace(*o.noproxy);
  } else if (o.proxy) {
    so.no_proxy = environment.no_proxy;
  }
  if (!o.proxy) so.environment_proxies = std::move(environment);
  const auto credit = [&](opensock::proxy& p) {
    const auto colon = o.proxy_user->find(':');
    p.user = o.proxy_user->substr(0, colon);
    p.password = colon == std::string::npos ? "" : o.proxy_user->substr(colon + 1);
  };
  if (o.proxy_user) {
    if (o.proxy && !o.proxy->empty()) credit(so.proxies.back());
    if (so.environment_proxies) so.environment_proxies->for_each_proxy(credit);
  }
  // What every proxy gets, the environment's too: the User-Agent, the schemes its
  // credentials go with and the TLS flags.
  const std::string agent = fetch::agent_of(o);
  const auto proxy_fields = fetch::detail::header_edits(o.proxy_headers);
  bool own_agent = true;  // a --proxy-header User-Agent replaces -A's on CONNECT
  for (const auto& f : proxy_fields)
    own_agent = own_agent && !opensock::http::iequals(f.name, "User-Agent");
  const auto dress = [&](opensock::proxy& p) {
    if (!agent.empty() && own_agent) p.connect_headers.add("User-Agent", agent);
    for (const auto& f : proxy_fields) {
      if (!f.value) continue;
      p.connect_headers.add(f.name, *f.value);
      p.forward_headers.add(f.name, *f.value);
    }
    if (o.proxy_anyauth) {
      p.auth = opensock::http::auth_schemes::any;
    } else if (o.proxy_ntlm) {
      p.auth = opensock::http::auth_scheme::ntlm;
    } else if (o.proxy_digest) {
      p.auth = opensock::http::auth_scheme::digest;
    }
    if (p.kind != opensock::proxy_kind::https) return;
    if (o.proxy_insecure) p.tls.verify = false;
    if (o.proxy_cacert) p.tls.ca_file = *o.proxy_cacert;
    if (o.proxy_capath) p.tls.ca_path = *o.proxy_capath;
    if (o.proxy_cert) p.tls.certificate = *o.proxy_cert;
    if (o.proxy_key) p.tls.private_key = *o.proxy_key;
    p.tls.pinned_public_key = o.proxy_pinned_public_key;
  };
  for (auto& p : so.proxies) dress(p);
  if (so.environment_proxies) so.environment_proxies->for_each_proxy(dress);
  return 0;
}

template <class Factory>
int run(const fetch::options& o, const fetch::request_plan& plan, Factory factory,
        opensock::http::session_options so, fetch::trace_writer* trace) {
  asio::io_context io;
  fetch::cookie_engine cookies(o);
  fetch::fetcher<Factory> fetcher(io.get_executor(), std::move(factory), o, plan, std::move(so),
                                  cookies, trace);
  int code = 0;
  asio::co_spawn(io, fetcher.run(), [&](std::exception_ptr failure, int result) {
    // The session's timeout timer may still be set for a deadline that no longer
    // matters; the program is done.
    io.stop();
    code = result;
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      fetch::report_error(o, 2, e.what());
      code = 2;
    }
  });
  io.run();
  return code;
}

// One group of the command line: its plan, session and factory, and its transfers.
int run_group(fetch::options& o, fetch::trace_writer* trace) {
  // No crypto engine is built in, so none can be found (curl's 53).
  if (o.engine) {
    fetch::report_error(o, 53, fmt::format("SSL Engine '{}' not found", *o.engine));
    return 53;
  }
  // --remote-name-all: -O for the URLs no -o or -O was given for.
  if (o.remote_name_all)
    while (o.outputs.size() < o.urls.size()) o.outputs.push_back({true, {}, false});
  // The URLs' globs, unless -g: a malformed one is curl's 3 (an -o name with a glob
  // name no glob has, 43), shown with its place.
  if (!o.globoff) {
    if (const auto failed = fetch::expand_globs(o)) {
      const auto& [text, why] = *failed;
      fetch::report_error(o, why.code,
                          why.position ? fmt::format("{} in position {}:\n{}\n{:>{}}", why.message,
                                                     why.position, text, "^", why.position)
                                       : why.message);
      return why.code;
    }
  }
  fetch::ask_password(o);
  // -F's body: its parts read (a file that cannot be read is curl's 26), its warnings
  // shown with the plan's.
  std::vector<std::string> form_warnings;
  std::optional<fetch::form> form;
  if (!o.forms.empty()) {
    std::string why;
    int code = 0;
    auto made = fetch::form::make(o.forms, o.form_escape, form_warnings, why, code);
    if (!made) {
      if (!o.silent)
        for (const auto& warning : form_warnings) fmt::print(stderr, "Warning: {}\n", warning);
      if (code != 2) {
        fetch::report_error(o, code, why);
        return code;
      }
      return usage_failure({(why.empty() ? "" : why + "\n") + "option -F: is badly used here"});
    }
    form = std::move(made);
  }
  std::optional<fetch::usage_error> error;
  fetch::request_plan plan = fetch::make_request_plan(o, std::move(form), error);
  if (error) return usage_failure(*error);
  plan.warnings.insert(plan.warnings.begin(), form_warnings.begin(), form_warnings.end());
  if (!o.silent)
    for (const auto& warning : plan.warnings) fmt::print(stderr, "Warning: {}\n", warning);

  auto so = session_options_for(o);
  if (!so) return 49;
  if (const int code = add_proxies(o, *so)) return code;
  if (o.unix_socket) return run(o, plan, fetch::make_unix_factory(o), std::move(*so), trace);
  fetch::factory_error factory_error;
  auto local = fetch::local_binding_for(o, factory_error);
  if (local) so->local = std::move(*local);
  auto factory = local ? fetch::make_tcp_factory(o, factory_error) : std::nullopt;
  if (!factory) {
    if (factory_error.code == 2) return usage_failure({factory_error.message});
    fetch::report_error(o, factory_error.code, factory_error.message);
    return factory_error.code;
  }
  return run(o, plan, std::move(*factory), std::move(*so), trace);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<fetch::usage_error> error;
  std::vector<std::string> warnings;
  std::vector<fetch::options> groups = fetch::parse_command_line(argc, argv, error, warnings);
  // The global flags are the same in every group.
  const fetch::options& global = groups.front();
  if (!global.silent)
    for (const auto& warning : warnings) fmt::print(stderr, "Warning: {}\n", warning);
  if (error) return usage_failure(*error);
  if (global.help) {
    fmt::print("{}", fetch::usage_text);
    return 0;
  }
  if (global.version) {
    fmt::print("{}", fetch::version_text());
    return 0;
  }
  for (const auto& o : groups) {
    if (o.engine == "list") {
      fmt::print("Build-time engines:\n  <none>\n");
      return 0;
    }
  }
  for (const auto& o : groups)
    if (o.urls.empty()) return usage_failure({"no URL specified!"});
  // --stderr: the messages from here on go there ("-": stdout), -w's %{stderr} still to
  // the process's stderr; a file that cannot be made leaves them where they were, as in
  // curl.
  if (global.stderr_path) {
    const std::string& path = *global.stderr_path;
    std::FILE* file = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    const int kept = file ? ::dup(STDERR_FILENO) : -1;
    if (std::FILE* real = kept >= 0 ? ::fdopen(kept, "w") : nullptr) {
      std::fflush(stderr);
      fetch::write_out_stderr() = real;
      ::dup2(::fileno(file), STDERR_FILENO);
    }
    if (file && file != stdout) std::fclose(file);
  }
  // The exit code is the last transfer's, as in curl.
  int code = 0;
  // --trace: one file for every group, as curl writes one.
  std::optional<fetch::trace_writer> trace;
  if (global.trace) trace.emplace(*global.trace, global.trace_ascii, global.trace_time);
  for (auto& o : groups) code = run_group(o, trace ? &*trace : nullptr);
  return code;
}
