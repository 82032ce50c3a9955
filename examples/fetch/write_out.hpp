// curl's -w/--write-out: a format written after each transfer, with %{variable}
// substitutions, "%%" for a percent sign and the escapes \n, \r and \t. Read the way
// curl 7.88 reads it: any other backslash pair and any other "%x" are written as they
// are, an unknown variable is reported on stderr and left out, "%{" without "}" is
// written as it is.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace fetch {

/// What one transfer leaves for --write-out to report.
struct transfer_report {
  int http_code = 0;
  int http_connect = 0;  // what an HTTP proxy answered CONNECT
  int http_version = 0;  // 10, 11; 0 before any response
  int num_redirects = 0;
  int num_connects = 0;
  long num_retries = 0;  // --retry's attempts before the one described
  std::string url_effective;
  std::string method;
  std::string content_type;
  std::string redirect_url;
  std::uint64_t size_download = 0;
  std::uint64_t size_header = 0;
  std::uint64_t size_upload = 0;
  std::size_t num_headers = 0;
  std::string remote_ip;  // empty while nothing was connected, as curl's
  unsigned remote_port = 0;
  std::string local_ip;  // this end of the last connection used
  unsigned local_port = 0;
  double time_total = 0;
  int exitcode = 0;
  std::string errormsg;
};

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

// Writes the variable `name`; false if curl has no such variable (or we do not have it).
// `stop` is set by %{onerror} on a transfer that succeeded.
inline bool write_variable(std::string_view name, const transfer_report& r, std::FILE*& stream,
                           bool& stop) {
  auto text = [&](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stream); };
  if (name == "http_code" || name == "response_code") {
    fmt::print(stream, "{:03}", r.http_code);
  } else if (name == "http_connect") {
    fmt::print(stream, "{:03}", r.http_connect);
  } else if (name == "http_version") {
    text(r.http_version == 10   ? "1.0"
         : r.http_version == 11 ? "1.1"
         : r.http_version == 20 ? "2"
                                : "0");
  } else if (name == "num_redirects") {
    fmt::print(stream, "{}", r.num_redirects);
  } else if (name == "num_connects") {
    fmt::print(stream, "{}", r.num_connects);
  } else if (name == "num_retries") {
    fmt::print(stream, "{}", r.num_retries);
  } else if (name == "num_headers") {
    fmt::print(stream, "{}", r.num_headers);
  } else if (name == "url_effective") {
    text(r.url_effective);
  } else if (name == "method") {
    text(r.method);
  } else if (name == "scheme") {
    text(r.http_code != 0 || !r.remote_ip.empty() ? "HTTP" : "");
  } else if (name == "content_type") {
    text(r.content_type);
  } else if (name == "redirect_url") {
    text(r.redirect_url);
  } else if (name == "size_download") {
    fmt::print(stream, "{}", r.size_download);
  } else if (name == "size_header") {
    fmt::print(stream, "{}", r.size_header);
  } else if (name == "size_upload") {
    fmt::print(stream, "{}", r.size_upload);
  } else if (name == "remote_ip") {
    text(r.remote_ip);
  } else if (name == "remote_port") {
    fmt::print(stream, "{}", r.remote_port);
  } else if (name == "local_ip") {
    text(r.local_ip);
  } else if (name == "local_port") {
    fmt::print(stream, "{}", r.local_port);
  } else if (name == "time_total") {
    fmt::print(stream, "{:.6f}", r.time_total);
  } else if (name == "exitcode") {
    fmt::print(stream, "{}", r.exitcode);
  } else if (name == "errormsg") {
    text(r.errormsg);
  } else if (name == "onerror") {
    stop = r.exitcode == 0;
  } else if (name == "stdout") {
    stream = stdout;
  } else if (name == "stderr") {
    stream = write_out_stderr();
  } else {
    return false;
  }
  return true;
}

}  // namespace detail

/// Writes `format` for the transfer `r`, to stdout unless %{stderr} switches it.
inline void write_out(std::string_view format, const transfer_report& r) {
  std::FILE* stream = stdout;
  bool stop = false;
  for (std::size_t i = 0; i < format.size() && !stop;) {
    const char c = format[i];
    const bool has_next = i + 1 < format.size();
    if (c == '%' && has_next) {
      if (format[i + 1] == '%') {
        std::fputc('%', stream);
        i += 2;
        continue;
      }
      if (format[i + 1] != '{') {
        std::fputc('%', stream);
        std::fputc(format[i + 1], stream);
        i += 2;
        continue;
      }
      const auto close = format.find('}', i);
      if (close == std::string_view::npos) {
        std::fputs("%{", stream);
        i += 2;
        continue;
      }
      const std::string_view name = format.substr(i + 2, close - i - 2);
      if (!detail::write_variable(name, r, stream, stop))
        fmt::print(stderr, "opensock-fetch: unknown --write-out variable: '{}'\n", name);
      i = close + 1;
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
  std::fflush(stdout);
}

}  // namespace fetch
