// Where a request's body comes from: none at all, bytes in memory, a file read as it is
// sent, or a producer coroutine. A body of known length goes with Content-Length, a
// producer's of unknown length with chunked coding, and no body with neither (as curl's
// `-X POST` without data); an empty body in memory is "Content-Length: 0" on methods
// that carry one (POST, PUT, PATCH), as curl's `-d ''`. A caller's own Content-Length
// frames any body as it is, and a caller's Transfer-Encoding ending in chunked has any
// body (none too) sent as chunks, as curl does with `-H 'Transfer-Encoding: chunked'`.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace opensock::http {

/// Fills the buffer with the next body bytes and returns how many it wrote; 0 ends the
/// body. An exception from it aborts the request with aborted_by_callback (42).
using body_producer = std::function<asio::awaitable<std::size_t>(asio::mutable_buffer)>;

class request_body {
 public:
  /// No body.
  request_body() = default;
  request_body(std::string bytes) : source_(std::move(bytes)) {}
  request_body(std::string_view bytes) : source_(std::string(bytes)) {}
  request_body(const char* bytes) : source_(std::string(bytes)) {}

  /// The file's bytes from `offset` on (a resumed upload), read as they are sent; their
  /// number when sent is the Content-Length. A file that cannot be opened, is shorter
  /// than `offset`, or ends early fails the request with read_error (26).
  static request_body file(std::filesystem::path path, std::uint64_t offset = 0) {
    request_body body;
    body.source_ = file_source{std::move(path), offset};
    return body;
  }

  /// The producer's bytes: with Content-Length when `length` is given (a producer that
  /// ends early or gives more fails the request with read_error, 26), chunked otherwise.
  /// A producer cannot be rewound, so a request that would send its body a second time
  /// (a retry, a 307 or 308 redirect) fails with send_fail_rewind (65).
  static request_body producer(body_producer produce,
                               std::optional<std::uint64_t> length = std::nullopt) {
    request_body body;
    body.source_ = producer_source{std::move(produce), length};
    return body;
  }

  /// No body at all (not even an empty one).
  bool none() const noexcept { return std::holds_alternative<std::monostate>(source_); }
  /// The bytes held in memory; empty for no body, a file or a producer.
  std::string_view memory() const noexcept {
    const auto* b = bytes();
    return b ? std::string_view(*b) : std::string_view();
  }

  /// The bytes, when the body is held in memory; nullptr otherwise.
  const std::string* bytes() const noexcept { return std::get_if<std::string>(&source_); }
  std::string* bytes() noexcept { return std::get_if<std::string>(&source_); }
  const std::filesystem::path* file_path() const noexcept {
    const auto* f = std::get_if<file_source>(&source_);
    return f ? &f->path : nullptr;
  }
  /// Where a file's bytes start; 0 for any other body.
  std::uint64_t file_offset() const noexcept {
    const auto* f = std::get_if<file_source>(&source_);
    return f ? f->offset : 0;
  }
  const body_producer* producer() const noexcept {
    const auto* p = std::get_if<producer_source>(&source_);
    return p ? &p->produce : nullptr;
  }
  /// The producer's declared length, if any.
  std::optional<std::uint64_t> producer_length() const noexcept {
    const auto* p = std::get_if<producer_source>(&source_);
    return p ? p->length : std::nullopt;
  }

  /// No bytes to send: no body, or an empty one in memory.
  bool empty() const noexcept { return none() || (bytes() && bytes()->empty()); }
  /// Whether the body can be sent again (for a retry or a redirect that keeps it).
  bool replayable() const noexcept { return !producer(); }

  /// Leaves no body.
  void clear() noexcept { source_ = std::monostate(); }

  /// Whether the body is these bytes in memory (no body compares equal to "").
  friend bool operator==(const request_body& a, std::string_view b) noexcept {
    return (a.none() || a.bytes()) && a.memory() == b;
  }

 private:
  struct file_source {
    std::filesystem::path path;
    std::uint64_t offset = 0;
  };
  struct producer_source {
    body_producer produce;
    std::optional<std::uint64_t> length;
  };
  std::variant<std::monostate, std::string, file_source, producer_source> source_;
};

}  // namespace opensock::http
