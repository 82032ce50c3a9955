// Definitions for opensock/http/content_coding.hpp: one stage per coding, each a zlib,
// brotli or zstd decoder, and the loop that runs a chain of them into the caller's target.
#pragma once

#include <opensock/http/content_coding.hpp>
#include <opensock/http/fields.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <new>

#if OPENSOCK_HAS_ZLIB
#include <zlib.h>
#endif
#if OPENSOCK_HAS_BROTLI
#include <brotli/decode.h>
#endif
#if OPENSOCK_HAS_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif

namespace opensock::http {
namespace detail {

// curl's MAX_ENCODE_STACK.
inline constexpr std::size_t max_codings = 5;
// What a stage that is not the last one decodes into before the next stage reads it
// (curl's DECOMPRESS_BUFFER_SIZE).
inline constexpr std::size_t coding_buffer_size = 16 * 1024;

enum class coding : unsigned char { identity, gzip, deflate, br, zstd, unknown };

inline coding coding_named(std::string_view name) noexcept {
  if (http::iequals(name, "identity") || http::iequals(name, "none")) return coding::identity;
#if OPENSOCK_HAS_ZLIB
  if (http::iequals(name, "gzip") || http::iequals(name, "x-gzip")) return coding::gzip;
  if (http::iequals(name, "deflate")) return coding::deflate;
#endif
#if OPENSOCK_HAS_BROTLI
  if (http::iequals(name, "br")) return coding::br;
#endif
#if OPENSOCK_HAS_ZSTD
  if (http::iequals(name, "zstd")) return coding::zstd;
#endif
  return coding::unknown;
}

// The Accept-Encoding value, put together at compile time from what is built in.
struct coding_list {
  char text[32] = {};
  std::size_t size = 0;
  constexpr void add(std::string_view name) {
    if (size != 0) {
      text[size++] = ',';
      text[size++] = ' ';
    }
    for (char c : name) text[size++] = c;
  }
};

inline constexpr coding_list built_codings = [] {
  coding_list list;
  if (OPENSOCK_HAS_ZLIB) {
    list.add("deflate");
    list.add("gzip");
  }
  if (OPENSOCK_HAS_BROTLI) list.add("br");
  if (OPENSOCK_HAS_ZSTD) list.add("zstd");
  return list;
}();

// What one call into a library did: input consumed, output produced, whether it may have
// more output without more input (it filled the output), and an error.
struct coding_step {
  std::size_t consumed = 0;
  std::size_t produced = 0;
  bool more = false;
  std::error_code ec;
};

// One coding of the chain: the decoder of each library this stage has been used with is
// kept, so that a later body with the same coding at this place resets it instead of
// allocating a new one.
class coding_stage {
 public:
  coding_stage() = default;
  coding_stage(const coding_stage&) = delete;
  coding_stage& operator=(const coding_stage&) = delete;
  ~coding_stage() {
#if OPENSOCK_HAS_ZLIB
    if (z_ready_) inflateEnd(&z_);
#endif
#if OPENSOCK_HAS_BROTLI
    if (br_ != nullptr) BrotliDecoderDestroyInstance(br_);
#endif
#if OPENSOCK_HAS_ZSTD
    if (zs_ != nullptr) ZSTD_freeDCtx(zs_);
#endif
  }

  // Prepares for a new coded stream; throws std::bad_alloc when a library cannot set up.
  void start(coding kind);

  // Decodes what it can of `in` into `out` (neither empty) in one library call.
  coding_step step(std::span<const char> in, std::span<char> out);

  // Whether the stream ended where the body did: at the end of a gzip member, a deflate,
  // brotli or zstd stream, or before the first byte.
  bool complete() const noexcept;

 private:
  coding kind_ = coding::identity;
  bool fed_ = false;
#if OPENSOCK_HAS_ZLIB
  coding_step inflate_step(std::span<const char> in, std::span<char> out);
  coding_step inflate_once(std::span<const char> in, std::span<char> out);

  // zlib_wrapped: "deflate" until its first two bytes prove to be a zlib header or not.
  enum class zlib_mode : unsigned char { gzip, zlib_wrapped, raw, ended };
  z_stream z_{};
  bool z_ready_ = false;
  zlib_mode mode_ = zlib_mode::gzip;
  // Bytes after a raw deflate stream that are let through (curl: 4, for servers that put
  // a zlib checksum after a stream without the zlib header).
  std::size_t trailer_left_ = 0;
  // The first bytes of a "deflate" stream, kept until the header is known: given to the
  // raw decoder when they are not a zlib header, even when they came in earlier pieces.
  std::array<char, 2> head_{};
#endif
#if OPENSOCK_HAS_BROTLI
  BrotliDecoderState* br_ = nullptr;
  bool br_used_ = false;
  bool br_done_ = false;
#endif
#if OPENSOCK_HAS_ZSTD
  // Whether `in`, the next bytes of the current frame, keep to a frame's magic number.
  bool zstd_magic_fits(std::span<const char> in) noexcept;

  ZSTD_DCtx* zs_ = nullptr;
  bool zs_boundary_ = true;
  // How many of the current frame's first four bytes (its magic number) were read, and
  // whether they start a skippable frame.
  std::size_t zs_frame_read_ = 0;
  bool zs_skippable_ = false;
#endif
};

inline void coding_stage::start(coding kind) {
  kind_ = kind;
  fed_ = false;
  switch (kind) {
#if OPENSOCK_HAS_ZLIB
    case coding::gzip:
    case coding::deflate: {
      // gzip: MAX_WBITS + 32 reads a gzip or a zlib header, as curl does; deflate starts
      // with the zlib header and falls back to raw deflate (see inflate_step).
      const int bits = kind == coding::gzip ? MAX_WBITS + 32 : MAX_WBITS;
      if (!z_ready_) {
        if (inflateInit2(&z_, bits) != Z_OK) throw std::bad_alloc();
        z_ready_ = true;
      } else if (inflateReset2(&z_, bits) != Z_OK) {
        throw std::bad_alloc();
      }
      mode_ = kind == coding::gzip ? zlib_mode::gzip : zlib_mode::zlib_wrapped;
      trailer_left_ = 0;
      return;
    }
#endif
#if OPENSOCK_HAS_BROTLI
    case coding::br:
      // libbrotlidec has no reset: a decoder that has seen data is made anew.
      if (br_ != nullptr && br_used_) {
        BrotliDecoderDestroyInstance(br_);
        br_ = nullptr;
      }
      if (br_ == nullptr) {
        br_ = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
        if (br_ == nullptr) throw std::bad_alloc();
      }
      br_used_ = false;
      br_done_ = false;
      return;
#endif
#if OPENSOCK_HAS_ZSTD
    case coding::zstd:
      if (zs_ == nullptr) {
        zs_ = ZSTD_createDCtx();
        if (zs_ == nullptr) throw std::bad_alloc();
        // A frame may ask for a window of up to 2^27 bytes, zstd's own default and so what
        // curl accepts; larger ones are refused as corrupt before any memory is taken for
        // them. (RFC 9659 has HTTP encoders stay within 8 MiB.)
        ZSTD_DCtx_setParameter(zs_, ZSTD_d_windowLogMax, 27);
      } else {
        ZSTD_DCtx_reset(zs_, ZSTD_reset_session_only);
      }
      zs_boundary_ = true;
      zs_frame_read_ = 0;
      return;
#endif
    default: return;
  }
}

inline coding_step coding_stage::step(std::span<const char> in,
                                      [[maybe_unused]] std::span<char> out) {
  if (!in.empty()) fed_ = true;
  switch (kind_) {
#if OPENSOCK_HAS_ZLIB
    case coding::gzip:
    case coding::deflate: return inflate_step(in, out);
#endif
#if OPENSOCK_HAS_BROTLI
    case coding::br: {
      coding_step r;
      if (br_done_) {
        // Bytes after the end of the brotli stream: curl refuses them too.
        if (!in.empty()) r.ec = error::corrupt_content_coding;
        return r;
      }
      br_used_ = true;
      std::size_t avail_in = in.size();
      auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
      std::size_t avail_out = out.size();
      auto next_out = reinterpret_cast<std::uint8_t*>(out.data());
      const auto result =
          BrotliDecoderDecompressStream(br_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      r.consumed = in.size() - avail_in;
      r.produced = out.size() - avail_out;
      switch (result) {
        case BROTLI_DECODER_RESULT_SUCCESS: br_done_ = true; break;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: r.more = true; break;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: break;
        default: {
          const int code = BrotliDecoderGetErrorCode(br_);
          // The library's allocation failures are its codes -30 to -21.
          r.ec = code <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
                         code >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
                     ? error::out_of_memory
                     : error::corrupt_content_coding;
        }
      }
      return r;
    }
#endif
#if OPENSOCK_HAS_ZSTD
    case coding::zstd: {
      // Frames one after another decode one after another, as `zstd -d` does; bytes after
      // a frame that are not a frame are corrupt.
      coding_step r;
      if (!zstd_magic_fits(in)) {
        r.ec = error::corrupt_content_coding;
        return r;
      }
      ZSTD_inBuffer zin{in.data(), in.size(), 0};
      ZSTD_outBuffer zout{out.data(), out.size(), 0};
      const std::size_t hint = ZSTD_decompressStream(zs_, &zout, &zin);
      r.consumed = zin.pos;
      r.produced = zout.pos;
      if (ZSTD_isError(hint)) {
        r.ec = ZSTD_getErrorCode(hint) == ZSTD_error_memory_allocation
                   ? error::out_of_memory
                   : error::corrupt_content_coding;
      } else {
        // 0: a frame ended and all of it was written. A call that does nothing says
        // what the next frame's header needs, so only calls that do something count.
        if (zin.pos != 0 || zout.pos != 0) {
          zs_boundary_ = hint == 0;
          // libzstd stops at the end of each frame: the next call starts the next one.
          zs_frame_read_ = zs_boundary_ ? 0 : std::min<std::size_t>(4, zs_frame_read_ + zin.pos);
        }
        r.more = zout.pos == zout.size;
      }
      return r;
    }
#endif
    default: {
      coding_step r;
      r.ec = error::unknown_content_coding;
      return r;
    }
  }
}

#if OPENSOCK_HAS_ZSTD

// RFC 8878 frames only: a Zstandard frame (magic 0xFD2FB528) or a skippable one
// (0x184D2A50 to 0x184D2A5F), little-endian. libzstd also decodes the formats of its 0.x
// versions, with results that depend on how the body was split; those formats were never
// the "zstd" content coding (RFC 8878) and are refused as corrupt.
inline bool coding_stage::zstd_magic_fits(std::span<const char> in) noexcept {
  constexpr unsigned char frame[] = {0x28, 0xB5, 0x2F, 0xFD};
  constexpr unsigned char skippable[] = {0x50, 0x2A, 0x4D, 0x18};
  for (std::size_t at = zs_frame_read_; at < 4 && at - zs_frame_read_ < in.size(); ++at) {
    const auto byte = static_cast<unsigned char>(in[at - zs_frame_read_]);
    if (at == 0) {
      zs_skippable_ = (byte & 0xF0) == skippable[0];
      if (!zs_skippable_ && byte != frame[0]) return false;
    } else if (byte != (zs_skippable_ ? skippable[at] : frame[at])) {
      return false;
    }
  }
  return true;
}

#endif

inline bool coding_stage::complete() const noexcept {
  if (!fed_) return true;
  switch (kind_) {
#if OPENSOCK_HAS_ZLIB
    case coding::gzip:
    case coding::deflate: return mode_ == zlib_mode::ended;
#endif
#if OPENSOCK_HAS_BROTLI
    case coding::br: return br_done_;
#endif
#if OPENSOCK_HAS_ZSTD
    case coding::zstd: return zs_boundary_;
#endif
    default: return true;
  }
}

#if OPENSOCK_HAS_ZLIB

// The most zlib takes in one call (it counts in uInt).
inline constexpr std::size_t max_inflate_part = std::numeric_limits<uInt>::max();

inline coding_step coding_stage::inflate_once(std::span<const char> in, std::span<char> out) {
  in = in.first(std::min(in.size(), max_inflate_part));
  out = out.first(std::min(out.size(), max_inflate_part));
  // zlib reads through a non-const pointer but never writes through it.
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z_.avail_in = static_cast<uInt>(in.size());
  z_.next_out = reinterpret_cast<Bytef*>(out.data());
  z_.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z_, Z_NO_FLUSH);
  coding_step r;
  r.consumed = in.size() - z_.avail_in;
  r.produced = out.size() - z_.avail_out;
  switch (rc) {
    case Z_OK: r.more = z_.avail_out == 0; break;
    case Z_BUF_ERROR: break;  // nothing more to do without more input
    case Z_STREAM_END:
      // A raw stream may be followed by a few bytes curl lets through (trailer_left_).
      trailer_left_ = mode_ == zlib_mode::raw ? 4 : 0;
      mode_ = zlib_mode::ended;
      break;
    case Z_MEM_ERROR: r.ec = error::out_of_memory; break;
    default: r.ec = error::corrupt_content_coding; break;  // data error, need dict
  }
  return r;
}

inline coding_step coding_stage::inflate_step(std::span<const char> in, std::span<char> out) {
  if (mode_ == zlib_mode::ended) {
    coding_step r;
    if (in.empty()) return r;
    if (kind_ == coding::gzip) {
      // Another gzip member follows: decoded as part of the same body, as `gzip -d` and
      // Go's gzip reader do (curl refuses it). Anything else after a member, even zero
      // padding, fails the header check and is corrupt_content_coding, as in curl and Go:
      // bytes whose meaning is unknown are not let pass as the end of a complete body.
      inflateReset(&z_);
      mode_ = zlib_mode::gzip;
    } else if (in.size() <= trailer_left_) {
      trailer_left_ -= in.size();
      r.consumed = in.size();
      return r;
    } else {
      // After a zlib stream, or past the few bytes let through after a raw one.
      r.ec = error::corrupt_content_coding;
      return r;
    }
  }
  if (mode_ != zlib_mode::zlib_wrapped || z_.total_in >= head_.size()) return inflate_once(in, out);

  // The first bytes of a "deflate" body: a zlib header, or else raw deflate from servers
  // that send no header (curl falls back the same way). zlib checks the header once it
  // has its two bytes, so an error with no more than two bytes read is a header error.
  const std::size_t before = z_.total_in;
  coding_step r = inflate_once(in, out);
  if (r.ec == error::corrupt_content_coding && z_.total_in <= head_.size()) {
    if (inflateReset2(&z_, -MAX_WBITS) != Z_OK) {
      r.ec = error::corrupt_content_coding;
      return r;
    }
    mode_ = zlib_mode::raw;
    // The byte a piece before this one gave (at most one: two would have been checked
    // then) goes in first; this piece is then read again from its start, by the caller's
    // next call since nothing of it is consumed now.
    r = before == 0 ? coding_step{} : inflate_once({head_.data(), before}, out);
    r.consumed = 0;
    r.more = !r.ec;
    return r;
  }
  for (std::size_t i = before; i < std::min<std::size_t>(z_.total_in, head_.size()); ++i)
    head_[i] = in[i - before];
  return r;
}

#endif

struct coding_chain {
  std::array<coding_stage, max_codings> stages;
  // Where stage i writes for stage i + 1 to read, allocated the first time a chain is
  // that long and kept.
  std::array<std::unique_ptr<char[]>, max_codings - 1> buffers;
};

inline std::uint64_t saturating_product(std::uint64_t a, std::uint64_t b) noexcept {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
    return std::numeric_limits<std::uint64_t>::max();
  return a * b;
}

}  // namespace detail

inline std::string_view accept_encoding() noexcept {
  return {detail::built_codings.text, detail::built_codings.size};
}

inline bool decodes(std::string_view name) noexcept {
  return detail::coding_named(name) != detail::coding::unknown;
}

inline content_decoder::content_decoder() noexcept = default;
inline content_decoder::content_decoder(content_decoder&&) noexcept = default;
inline content_decoder& content_decoder::operator=(content_decoder&&) noexcept = default;
inline content_decoder::~content_decoder() = default;

inline std::error_code content_decoder::fail(std::error_code ec) noexcept {
  error_ = ec;
  return ec;
}

inline std::error_code content_decoder::start(std::string_view codings,
                                              const decoding_limits& limits) {
  limits_ = limits;
  count_ = 0;
  error_ = {};
  stopped_ = false;
  encoded_ = 0;
  decoded_ = 0;
  // The names as curl reads them: comma-separated, blanks around each, empty ones
  // skipped; every name counts towards the limit, identity too.
  std::array<detail::coding, detail::max_codings> kinds{};
  std::size_t names = 0, kept = 0;
  bool unknown = false;
  while (!codings.empty()) {
    const auto comma = codings.find(',');
    std::string_view name = codings.substr(0, comma);
    codings = comma == std::string_view::npos ? std::string_view() : codings.substr(comma + 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.empty()) continue;
    if (++names > detail::max_codings) return fail(error::too_many_content_codings);
    const auto kind = detail::coding_named(name);
    if (kind == detail::coding::unknown) unknown = true;
    if (kind != detail::coding::identity) kinds[kept++] = kind;
  }
  if (unknown) return fail(error::unknown_content_coding);
  if (kept == 0) return {};
  if (!chain_) chain_ = std::make_unique<detail::coding_chain>();
  // Applied in the order listed: the last one listed is decoded first.
  for (std::size_t i = 0; i < kept; ++i) chain_->stages[i].start(kinds[kept - 1 - i]);
  for (std::size_t i = 0; i + 1 < kept; ++i)
    if (!chain_->buffers[i]) chain_->buffers[i].reset(new char[detail::coding_buffer_size]);
  count_ = kept;
  return {};
}

inline std::size_t content_decoder::bounded_room(std::size_t room) const noexcept {
  // One byte more than the bound allows, so that going over it is seen as soon as the
  // library writes that byte, and not a room's worth later.
  const std::uint64_t left = bound_ - decoded_;
  return left < room ? static_cast<std::size_t>(left) + 1 : room;
}

template <class Target>
std::error_code content_decoder::deliver(std::span<const char> bytes, Target& target) {
  const std::uint64_t left = bound_ - decoded_;
  const bool over = bytes.size() > left;
  const std::size_t n = over ? static_cast<std::size_t>(left) : bytes.size();
  if (n != 0) {
    decoded_ += n;
    if (!target.commit(n)) {
      stopped_ = true;
      return {};
    }
  }
  if (over) return fail(bound_error_);
  return {};
}

template <class Target>
std::error_code content_decoder::pass_through(std::span<const char> input, Target& target) {
  while (!input.empty()) {
    const std::span<char> room = target.room();
    const std::size_t n = std::min(bounded_room(room.size()), input.size());
    std::memcpy(room.data(), input.data(), n);
    input = input.subspan(n);
    if (auto ec = deliver({room.data(), n}, target); ec || stopped_) return ec;
  }
  return {};
}

template <class Target>
std::error_code content_decoder::run(std::size_t stage, std::span<const char> input,
                                     Target& target) {
  detail::coding_stage& decoder = chain_->stages[stage];
  const bool last = stage + 1 == count_;
  for (;;) {
    std::span<char> out;
    if (last) {
      const std::span<char> room = target.room();
      out = room.first(bounded_room(room.size()));
    } else {
      out = {chain_->buffers[stage].get(), detail::coding_buffer_size};
    }
    const detail::coding_step r = decoder.step(input, out);
    input = input.subspan(r.consumed);
    // What was decoded before an error is passed on first.
    if (r.produced != 0) {
      const std::span<const char> produced = out.first(r.produced);
      const auto ec = last ? deliver(produced, target) : run(stage + 1, produced, target);
      if (ec || stopped_) return ec;
    }
    if (r.ec) return fail(r.ec);
    if (!r.more) {
      if (input.empty()) return {};
      // Input left, room to write and nothing done: a stream the library cannot go on with.
      if (r.consumed == 0 && r.produced == 0) return fail(error::corrupt_content_coding);
    }
  }
}

template <class Target>
std::error_code content_decoder::decode(std::string_view input, Target& target) {
  if (error_) return error_;
  if (stopped_ || input.empty()) return {};
  encoded_ += input.size();
  // The bound for what is given so far: the size limit, and the ratio to encoded bytes
  // once past the allowance.
  constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t by_size = limits_.max_decoded_size.value_or(unlimited);
  const std::uint64_t by_ratio =
      limits_.max_ratio == 0 ? unlimited
                             : std::max(limits_.ratio_allowance,
                                        detail::saturating_product(limits_.max_ratio, encoded_));
  bound_ = std::min(by_size, by_ratio);
  bound_error_ =
      by_size <= by_ratio ? error::decoded_body_too_large : error::content_coding_ratio_exceeded;
  if (count_ == 0) return pass_through(input, target);
  return run(0, input, target);
}

inline std::error_code content_decoder::finish() {
  if (error_) return error_;
  if (stopped_) return {};
  for (std::size_t i = 0; i < count_; ++i)
    if (!chain_->stages[i].complete()) return fail(error::corrupt_content_coding);
  return {};
}

}  // namespace opensock::http
