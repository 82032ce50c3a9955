// The WebSocket frame (RFC 6455 §5.2): its opcodes, the close codes of §7.4, and the
// header as it goes on the wire, read by frame_reader and written by write_frame_header.
#pragma once

#include <opensock/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <system_error>

namespace opensock::websocket {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

/// Whether `op` is a control frame's opcode (close, ping, pong).
constexpr bool is_control(opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

/// Close status codes (RFC 6455 §7.4.1).
enum class close_code : std::uint16_t {
  none = 0,  ///< a close frame without a code (1005 to the application)
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,
  abnormal = 1006,
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
};

/// Whether a close frame may carry `code` (RFC 6455 §7.4, and the registry's 1012 to
/// 1014): 1000–1003, 1007–1014, and 3000–4999 for libraries and applications.
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/// A close frame's content: the code and the reason, as sent or received.
struct close_reason {
  close_reason() = default;
  close_reason(close_code code, std::string reason = {})
      : code(static_cast<std::uint16_t>(code)), reason(std::move(reason)) {}
  close_reason(std::uint16_t code, std::string reason = {})
      : code(code), reason(std::move(reason)) {}

  /// 0 when the frame had no code.
  std::uint16_t code = 0;
  std::string reason;
};

/// The close code that goes with an error of the WebSocket protocol, or 0.
inline std::uint16_t close_code_for(std::error_code ec) noexcept {
  if (ec == error::websocket_protocol_error) return 1002;
  if (ec == error::websocket_invalid_utf8 || ec == error::websocket_bad_compression)
    return 1007;
  if (ec == error::websocket_message_too_big) return 1009;
  return 0;
}

struct frame_header {
  bool fin = true;
  bool rsv1 = false;  ///< permessage-deflate: the message is compressed
  bool rsv2 = false;
  bool rsv3 = false;
  opcode op = opcode::text;
  bool masked = false;
  std::uint64_t length = 0;
  std::array<unsigned char, 4> mask{};
};

/// The longest header: 2 bytes, 8 of extended length, 4 of mask.
inline constexpr std::size_t max_frame_header = 14;

/// Writes `h` into `out` (at least max_frame_header bytes) in its shortest form and
/// returns its size.
inline std::size_t write_frame_header(const frame_header& h, unsigned char* out) noexcept {
  out[0] = static_cast<unsigned char>((h.fin ? 0x80 : 0) | (h.rsv1 ? 0x40 : 0) |
                                      (h.rsv2 ? 0x20 : 0) | (h.rsv3 ? 0x10 : 0) |
                                      static_cast<unsigned char>(h.op));
  const unsigned char mask_bit = h.masked ? 0x80 : 0;
  std::size_t n;
  if (h.length < 126) {
    out[1] = static_cast<unsigned char>(mask_bit | h.length);
    n = 2;
  } else if (h.length <= 0xffff) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<unsigned char>(h.length >> 8);
    out[3] = static_cast<unsigned char>(h.length);
    n = 4;
  } else {
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(h.length >> (56 - 8 * i));
    n = 10;
  }
  if (h.masked) {
    std::memcpy(out + n, h.mask.data(), 4);
    n += 4;
  }
  return n;
}

/// Reads a header from the start of `in`. Returns its size, or 0 when `in` holds only
/// part of it. A header that no frame may have (a reserved opcode, a length with its
/// top bit set or not in its shortest form, a control frame fragmented or over 125
/// bytes) sets `ec` to websocket_protocol_error.
inline std::size_t parse_frame_header(std::span<const unsigned char> in, frame_header& h,
                                      std::error_code& ec) noexcept {
  if (in.size() < 2) return 0;
  const unsigned char b0 = in[0];
  const unsigned char b1 = in[1];
  h.fin = (b0 & 0x80) != 0;
  h.rsv1 = (b0 & 0x40) != 0;
  h.rsv2 = (b0 & 0x20) != 0;
  h.rsv3 = (b0 & 0x10) != 0;
  h.op = static_cast<opcode>(b0 & 0x0f);
  h.masked = (b1 & 0x80) != 0;
  switch (h.op) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong: break;
    default: ec = error::websocket_protocol_error; return 0;
  }
  std::size_t n = 2;
  const unsigned len7 = b1 & 0x7f;
  if (len7 < 126) {
    h.length = len7;
  } else if (len7 == 126) {
    if (in.size() < 4) return 0;
    h.length = (std::uint64_t(in[2]) << 8) | in[3];
    n = 4;
    if (h.length < 126) {
      ec = error::websocket_protocol_error;
      return 0;
    }
  } else {
    if (in.size() < 10) return 0;
    h.length = 0;
    for (int i = 0; i < 8; ++i) h.length = (h.length << 8) | in[2 + i];
    n = 10;
    if ((h.length >> 63) != 0 || h.length <= 0xffff) {
      ec = error::websocket_protocol_error;
      return 0;
    }
  }
  if (is_control(h.op) && (!h.fin || h.length > 125)) {
    ec = error::websocket_protocol_error;
    return 0;
  }
  if (h.masked) {
    if (in.size() < n + 4) return 0;
    std::memcpy(h.mask.data(), in.data() + n, 4);
    n += 4;
  }
  return n;
}

/// Copies `size` bytes from `from` to `to` (which may be the same place), XORed with
/// `mask` as a payload is masked from `offset` bytes into it: one pass over the bytes.
inline void copy_masked(unsigned char* to, const unsigned char* from, std::size_t size,
                        std::array<unsigned char, 4> mask, std::size_t offset) noexcept {
  // Word at a time, the mask rotated to where the payload stands.
  std::array<unsigned char, 8> rotated;
  for (std::size_t k = 0; k < 8; ++k) rotated[k] = mask[(offset + k) & 3];
  std::uint64_t word_mask;
  std::memcpy(&word_mask, rotated.data(), 8);
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, from + i, 32);
    for (auto& x : w) x ^= word_mask;
    std::memcpy(to + i, w, 32);
  }
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, from + i, 8);
    w ^= word_mask;
    std::memcpy(to + i, &w, 8);
  }
  for (; i < size; ++i) to[i] = from[i] ^ rotated[i & 7];
}

/// XORs `data` with `mask`, starting at `offset` bytes into the masked payload.
inline void apply_mask(unsigned char* data, std::size_t size, std::array<unsigned char, 4> mask,
                       std::size_t offset) noexcept {
  copy_masked(data, data, size, mask, offset);
}

}  // namespace opensock::websocket
