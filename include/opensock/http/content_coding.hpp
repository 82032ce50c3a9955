// Decoders of a response body's content and transfer codings (RFC 9110 §8.4): gzip, deflate,
// br and zstd through zlib, libbrotlidec and libzstd, stacked as the response lists them.
#pragma once

#include <opensock/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

// Each defined to 1 by its CMake target (opensock::zlib, opensock::brotli, opensock::zstd)
// when the library was found; link the library and define it yourself without CMake.
#ifndef OPENSOCK_HAS_ZLIB
#define OPENSOCK_HAS_ZLIB 0
#endif
#ifndef OPENSOCK_HAS_BROTLI
#define OPENSOCK_HAS_BROTLI 0
#endif
#ifndef OPENSOCK_HAS_ZSTD
#define OPENSOCK_HAS_ZSTD 0
#endif

namespace opensock::http {

/// Limits on what a coded body may decode to. Constructor, not an aggregate (g++ 12
/// miscompiles braced aggregate temporaries across co_await).
struct decoding_limits {
  decoding_limits() {}
  /// Decoded bytes at most; unset: no limit. Over it: error::decoded_body_too_large (63).
  std::optional<std::uint64_t> max_decoded_size;
  /// Decoded bytes per encoded byte at most, once more than `ratio_allowance` bytes have
  /// been decoded; 0: no limit. Over it: error::content_coding_ratio_exceeded (61).
  std::uint64_t max_ratio = 1000;
  std::uint64_t ratio_allowance = 1024 * 1024;
};

/// The codings this build decodes, as an Accept-Encoding value in curl's order: "deflate,
/// gzip, br, zstd" with the ones not built in left out (empty without zlib, brotli and
/// zstd).
std::string_view accept_encoding() noexcept;

/// Whether `name` (case-insensitive: gzip, x-gzip, deflate, br, zstd, identity, and none,
/// curl's other name for identity) is one this build decodes.
bool decodes(std::string_view name) noexcept;

namespace detail {
struct coding_chain;
}  // namespace detail

/// Decodes a coded body piece by piece, as it arrives, writing the decoded bytes into the
/// caller's storage. One decoder serves the responses of a connection one after another.
class content_decoder {
 public:
  /// Inactive: decode() passes bytes through unchanged until start() is called.
  content_decoder() noexcept;
  content_decoder(content_decoder&&) noexcept;
  content_decoder& operator=(content_decoder&&) noexcept;
  content_decoder(const content_decoder&) = delete;
  content_decoder& operator=(const content_decoder&) = delete;
  /// Frees the libraries' state.
  ~content_decoder();

  /// Prepares for a body coded with `codings`, the value of Content-Encoding (several
  /// fields already joined with ", ") or of Transfer-Encoding with "chunked" removed:
  /// codings applied in the order listed, so decoded in reverse. "identity" (or "none") is
  /// skipped; "x-gzip" is gzip; "deflate" takes both the zlib-wrapped form (RFC 1950) and
  /// raw deflate (RFC 1951), as curl does. Returns error::unknown_content_coding for a
  /// coding this build does not decode, error::too_many_content_codings for more than 5
  /// (curl's limit, which counts "identity" too). Keeps library state allocated by an
  /// earlier start() where the library allows a reset (inflateReset and the like), so that
  /// a connection decoding one response after another does not allocate again.
  std::error_code start(std::string_view codings, const decoding_limits& limits = {});

  /// Whether start() set up at least one coding (false after "identity" alone, or before
  /// any start).
  bool active() const noexcept { return count_ != 0; }

  /// Decodes the next piece of the coded body, writing what it decodes through `target`:
  /// Target has `std::span<char> room()` (writable bytes, never empty) and `bool
  /// commit(std::size_t n)` (the first n bytes of the last room() were written; false
  /// stops decoding: decode() then returns {} and stopped() is true). Decoded bytes are
  /// written by the library straight into room(): the last coding in the chain writes into
  /// the target, never into a buffer that is copied afterwards. Errors:
  /// error::corrupt_content_coding (61) for data that does not decode, a bad checksum or
  /// trailer; the two limit errors of decoding_limits. After an error every later call
  /// returns the same error. Inactive, the bytes are copied into the target as they are.
  template <class Target>
  std::error_code decode(std::string_view input, Target& target);

  /// The coded body ended: error::corrupt_content_coding if it ended inside a coded stream
  /// (a truncated gzip member, a brotli or zstd frame not finished), unless no byte at all
  /// was given (an empty body with a Content-Encoding is not an error, as in curl).
  std::error_code finish();

  /// Whether the target refused bytes (commit() returned false).
  bool stopped() const noexcept { return stopped_; }
  /// Bytes given to decode() since start().
  std::uint64_t encoded_bytes() const noexcept { return encoded_; }
  /// Bytes committed to the target since start().
  std::uint64_t decoded_bytes() const noexcept { return decoded_; }

 private:
  template <class Target>
  std::error_code run(std::size_t stage, std::span<const char> input, Target& target);
  template <class Target>
  std::error_code deliver(std::span<const char> bytes, Target& target);
  template <class Target>
  std::error_code pass_through(std::span<const char> input, Target& target);
  std::error_code fail(std::error_code ec) noexcept;
  std::size_t bounded_room(std::size_t room) const noexcept;

  std::unique_ptr<detail::coding_chain> chain_;
  decoding_limits limits_;
  std::size_t count_ = 0;
  std::error_code error_;
  bool stopped_ = false;
  std::uint64_t encoded_ = 0;
  std::uint64_t decoded_ = 0;
  // The most bytes the body may decode to with what has been given so far, and the error
  // for going over it.
  std::uint64_t bound_ = 0;
  error bound_error_ = error::decoded_body_too_large;
};

}  // namespace opensock::http

#include <opensock/http/impl/content_coding.hpp>
