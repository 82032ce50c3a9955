// permessage-deflate (RFC 7692): the offer a client makes, the server's answer checked
// against it, and the compressor and decompressor of messages, through zlib's raw
// deflate. Without zlib (OPENSOCK_HAS_ZLIB unset) the negotiation is there and the
// codec is not: a handshake that offers the extension fails before it is sent.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/websocket/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// Defined to 1 by the CMake target when zlib was found (link zlib and define it yourself
// without CMake).
#ifndef OPENSOCK_HAS_ZLIB
#define OPENSOCK_HAS_ZLIB 0
#endif

#if OPENSOCK_HAS_ZLIB
#include <zlib.h>
#endif

namespace opensock::websocket {

/// Whether this build compresses messages (zlib found).
inline constexpr bool deflate_built = OPENSOCK_HAS_ZLIB != 0;

/// What client and server settled on.
struct deflate_params {
  int client_max_window_bits = 15;
  int server_max_window_bits = 15;
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
  int level = 6;
  int mem_level = 8;
};

namespace detail {

inline bool valid_window_bits(int bits) noexcept { return bits >= 8 && bits <= 15; }

}  // namespace detail

/// The Sec-WebSocket-Extensions value that offers `o`.
inline std::string deflate_offer(const deflate_options& o) {
  std::string offer = "permessage-deflate";
  if (o.client_no_context_takeover) offer += "; client_no_context_takeover";
  if (o.server_no_context_takeover) offer += "; server_no_context_takeover";
  if (o.server_max_window_bits < 15)
    offer += "; server_max_window_bits=" + std::to_string(o.server_max_window_bits);
  offer += "; client_max_window_bits";
  if (o.client_max_window_bits < 15) offer += "=" + std::to_string(o.client_max_window_bits);
  return offer;
}

/// Checks the server's Sec-WebSocket-Extensions answers (every field of that name) to
/// an offer of `offered` (nullptr: none). Returns the settled parameters, or none when
/// the server did not accept the extension; an extension not offered, a parameter that
/// does not exist, is repeated or out of range, or a window larger than the one asked
/// for sets `ec` to websocket_bad_handshake.
inline std::optional<deflate_params> settle_deflate(const std::vector<std::string_view>& answers,
                                                    const deflate_options* offered,
                                                    std::error_code& ec) {
  std::optional<deflate_params> settled;
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  const auto bits_of = [&](std::string_view value, int& out) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (value.empty() || value.size() > 2) return false;
    int bits = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
    out = bits;
    return detail::valid_window_bits(bits) && !(value.size() == 2 && value[0] == '0');
  };
  for (std::string_view field : answers) {
    while (!field.empty()) {
      // One extension: up to the next comma (no parameter value here holds one).
      const auto comma = field.find(',');
      std::string_view ext = field.substr(0, comma);
      field = comma == std::string_view::npos ? std::string_view() : field.substr(comma + 1);
      ext = trim(ext);
      if (ext.empty()) continue;
      const auto semi = ext.find(';');
      const std::string_view name = trim(ext.substr(0, semi));
      if (!http::iequals(name, "permessage-deflate") || offered == nullptr || settled) {
        ec = error::websocket_bad_handshake;
        return std::nullopt;
      }
      deflate_params p;
      p.server_max_window_bits = offered->server_max_window_bits;
      p.client_max_window_bits = offered->client_max_window_bits;
      p.level = offered->level;
      p.mem_level = offered->mem_level;
      bool seen_client_bits = false, seen_server_bits = false, seen_client_nct = false,
           seen_server_nct = false;
      std::string_view params = semi == std::string_view::npos ? "" : ext.substr(semi + 1);
      while (!params.empty()) {
        const auto next = params.find(';');
        std::string_view param = trim(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        const auto eq = param.find('=');
        const std::string_view key = trim(param.substr(0, eq));
        // A view and a flag rather than an optional view: g++ 12 at -O3 takes the
        // optional's view for uninitialised (-Wmaybe-uninitialized).
        const bool has_value = eq != std::string_view::npos;
        const std::string_view value = has_value ? trim(param.substr(eq + 1)) : std::string_view();
        bool ok = true;
        if (http::iequals(key, "server_no_context_takeover")) {
          ok = !seen_server_nct && !has_value;
          seen_server_nct = true;
          p.server_no_context_takeover = true;
        } else if (http::iequals(key, "client_no_context_takeover")) {
          ok = !seen_client_nct && !has_value;
          seen_client_nct = true;
          p.client_no_context_takeover = true;
        } else if (http::iequals(key, "server_max_window_bits")) {
          int bits = 0;
          ok = !seen_server_bits && has_value && bits_of(value, bits) &&
               bits <= offered->server_max_window_bits;
          seen_server_bits = true;
          p.server_max_window_bits = bits;
        } else if (http::iequals(key, "client_max_window_bits")) {
          int bits = 0;
          ok = !seen_client_bits && has_value && bits_of(value, bits) &&
               bits <= offered->client_max_window_bits;
          seen_client_bits = true;
          p.client_max_window_bits = bits;
        } else {
          ok = false;
        }
        if (!ok) {
          ec = error::websocket_bad_handshake;
          return std::nullopt;
        }
      }
      // Asked for, the server must grant it (RFC 7692 §7.1.1.1).
      if (offered->server_no_context_takeover && !p.server_no_context_takeover) {
        ec = error::websocket_bad_handshake;
        return std::nullopt;
      }
      if (offered->client_no_context_takeover) p.client_no_context_takeover = true;
      settled = p;
    }
  }
  return settled;
}

#if OPENSOCK_HAS_ZLIB

namespace detail {
// The most zlib takes in one call.
inline constexpr std::size_t max_part = 0xffffffffu;
}  // namespace detail

/// Compresses the messages a client sends, each ending in a sync flush whose last four
/// bytes (00 00 ff ff) are left out (RFC 7692 §7.2.1).
class deflater {
 public:
  explicit deflater(const deflate_params& p) : reset_each_(p.client_no_context_takeover) {
    // zlib's raw deflate cannot make an 8-bit window: the stream sends such messages
    // uncompressed (compresses() is false).
    usable_ = p.client_max_window_bits > 8;
    if (!usable_) return;
    if (deflateInit2(&z_, p.level, Z_DEFLATED, -p.client_max_window_bits, p.mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::bad_alloc();
  }
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;
  ~deflater() {
    if (usable_) deflateEnd(&z_);
  }

  bool compresses() const noexcept { return usable_; }

  /// Appends the compressed form of `in`, a piece of a message, to `out`; with `last`,
  /// the message ends there.
  void compress(std::span<const unsigned char> in, bool last, std::vector<unsigned char>& out) {
    // zlib counts in uInt: a piece over 4 GiB goes in parts.
    while (in.size() > detail::max_part) {
      compress(in.first(detail::max_part), false, out);
      in = in.subspan(detail::max_part);
    }
    z_.next_in = const_cast<unsigned char*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    const int flush = last ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    for (;;) {
      const std::size_t used = out.size();
      const std::size_t room = deflateBound(&z_, z_.avail_in) + 16;
      out.resize(used + room);
      z_.next_out = out.data() + used;
      z_.avail_out = static_cast<uInt>(room);
      deflate(&z_, flush);
      out.resize(used + (room - z_.avail_out));
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
    }
    if (last) {
      // A sync flush ends in an empty stored block: 00 00 ff ff.
      if (out.size() >= 4) out.resize(out.size() - 4);
      if (reset_each_) deflateReset(&z_);
    }
  }

 private:
  z_stream z_{};
  bool reset_each_;
  bool usable_ = false;
};

/// Decompresses the messages a client receives, piece by piece, into the caller's
/// buffers.
class inflater {
 public:
  explicit inflater(const deflate_params& p) : reset_each_(p.server_no_context_takeover) {
    // A 15-bit window inflates what any smaller one made.
    if (inflateInit2(&z_, -15) != Z_OK) throw std::bad_alloc();
  }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;
  ~inflater() { inflateEnd(&z_); }

  struct progress {
    std::size_t consumed = 0;
    std::size_t produced = 0;
  };

  /// Inflates from `in` into `out`. Returns what was consumed and produced; a stream
  /// that is not deflate sets `ec` to websocket_bad_compression.
  progress inflate_some(std::span<const unsigned char> in, std::span<unsigned char> out,
                        std::error_code& ec) {
    // zlib counts in uInt: at most 4 GiB either way at a time.
    if (in.size() > detail::max_part) in = in.first(detail::max_part);
    if (out.size() > detail::max_part) out = out.first(detail::max_part);
    z_.next_in = const_cast<unsigned char*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z_, Z_SYNC_FLUSH);
    progress p;
    p.consumed = in.size() - z_.avail_in;
    p.produced = out.size() - z_.avail_out;
    if (rc == Z_STREAM_END) {
      // The server ended its deflate stream inside a message: what follows is a new one.
      inflateReset(&z_);
    } else if ((rc != Z_OK && rc != Z_BUF_ERROR) ||
               (p.consumed == 0 && p.produced == 0 && !in.empty() && !out.empty())) {
      // A stream zlib cannot read, or one it makes no progress on with room on both sides.
      ec = error::websocket_bad_compression;
    }
    return p;
  }

  /// The four bytes a message's compressed form lacks, fed after its last byte.
  static std::span<const unsigned char> tail() noexcept {
    static constexpr unsigned char bytes[4] = {0x00, 0x00, 0xff, 0xff};
    return bytes;
  }

  /// After a message: the server starts the next one afresh when it said so.
  void message_done() {
    if (reset_each_) inflateReset(&z_);
  }

 private:
  z_stream z_{};
  bool reset_each_;
};

#endif

}  // namespace opensock::websocket
