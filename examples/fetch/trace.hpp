// --trace, --trace-ascii and --trace-time: a transfer written out in the form of curl's
// traces ("== Info:" lines, then "=> Send header", "<= Recv header" and "<= Recv data"
// blocks, each byte in hex (--trace) or as text (--trace-ascii), after the time of day
// with --trace-time). What is written is what opensock-fetch sees of a transfer: the
// connections, the request heads, each response header line and the body as the session
// hands it over (decoded, where curl shows the bytes received; the request body is not
// shown).
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace fetch {

class trace_writer {
 public:
  /// To `path` ("-": stdout, "%": stderr); `ascii`: --trace-ascii rather than --trace.
  trace_writer(const std::string& path, bool ascii, bool with_time)
      : ascii_(ascii), with_time_(with_time) {
    if (path == "-") {
      file_ = stdout;
    } else if (path == "%") {
      file_ = stderr;
    } else {
      file_ = std::fopen(path.c_str(), "w");
      owned_ = file_ != nullptr;
    }
  }
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;
  ~trace_writer() {
    if (owned_) std::fclose(file_);
  }

  /// "== Info: " and `text`, a line of its own.
  void info(std::string_view text) {
    if (!file_) return;
    fmt::print(file_, "{}== Info: {}\n", time_of_day(), text);
  }

  /// A block of `bytes` under `label` ("=> Send header", "<= Recv data", ...).
  void data(std::string_view label, std::string_view bytes) {
    if (!file_) return;
    fmt::print(file_, "{}{}, {} bytes (0x{:x})\n", time_of_day(), label, bytes.size(),
               bytes.size());
    const std::size_t width = ascii_ ? 0x40 : 0x10;
    std::size_t at = 0;
    while (at < bytes.size()) {
      std::string line = fmt::format("{:04x}: ", at);
      std::string_view row = bytes.substr(at, width);
      // As text, a line ends at CR LF too, which is left out.
      std::size_t next = at + row.size();
      if (ascii_) {
        if (const auto crlf = row.find("\r\n"); crlf != std::string_view::npos) {
          row = row.substr(0, crlf);
          next = at + crlf + 2;
        } else if (row.size() == width && bytes.substr(at + width, 2) == "\r\n") {
          next += 2;  // a CR LF right after a full line starts no empty one
        }
      } else {
        for (std::size_t i = 0; i < width; ++i)
          line += i < row.size() ? fmt::format("{:02x} ", static_cast<unsigned char>(row[i]))
                                 : std::string("   ");
      }
      for (const char c : row)
        line += static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x80
                    ? c
                    : '.';
      fmt::print(file_, "{}\n", line);
      at = next;
    }
  }

 private:
  std::string time_of_day() const {
    if (!with_time_) return {};
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            now.time_since_epoch()).count() % 1000000;
    return fmt::format("{:02}:{:02}:{:02}.{:06} ", local.tm_hour, local.tm_min, local.tm_sec,
                       micros);
  }

  std::FILE* file_ = nullptr;
  bool owned_ = false;
  bool ascii_;
  bool with_time_;
};

}  // namespace fetch
