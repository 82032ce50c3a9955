// Checks that bytes are UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF) as they arrive in pieces: a character may be split between two pieces, and a
// byte that no character can start or continue with is found where it arrives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace opensock::detail {

class utf8_validator {
 public:
  /// Checks the next `n` bytes; false from the first byte that cannot be UTF-8 on.
  bool feed(const unsigned char* p, std::size_t n) noexcept {
    std::size_t i = 0;
    while (i < n) {
      if (need_ == 0) {
        // ASCII, eight bytes at a time.
        while (i + 8 <= n) {
          std::uint64_t word;
          std::memcpy(&word, p + i, 8);
          if ((word & 0x8080808080808080ull) != 0) break;
          i += 8;
        }
        if (i == n) break;
        const unsigned char b = p[i++];
        if (b < 0x80) continue;
        if (!start(b)) return false;
        continue;
      }
      const unsigned char b = p[i++];
      if (b < lo_ || b > hi_) return false;
      lo_ = 0x80;
      hi_ = 0xbf;
      --need_;
    }
    return true;
  }

  /// Whether the bytes so far end between two characters.
  bool complete() const noexcept { return need_ == 0; }

  void reset() noexcept {
    need_ = 0;
    lo_ = 0x80;
    hi_ = 0xbf;
  }

 private:
  // A lead byte: how many bytes follow, and the range the next one must be in.
  bool start(unsigned char b) noexcept {
    lo_ = 0x80;
    hi_ = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need_ = 1;
    } else if (b == 0xe0) {
      need_ = 2;
      lo_ = 0xa0;
    } else if (b == 0xed) {
      need_ = 2;
      hi_ = 0x9f;  // no surrogates
    } else if (b >= 0xe1 && b <= 0xef) {
      need_ = 2;
    } else if (b == 0xf0) {
      need_ = 3;
      lo_ = 0x90;
    } else if (b >= 0xf1 && b <= 0xf3) {
      need_ = 3;
    } else if (b == 0xf4) {
      need_ = 3;
      hi_ = 0x8f;  // nothing past U+10FFFF
    } else {
      return false;
    }
    return true;
  }

  int need_ = 0;
  unsigned char lo_ = 0x80;
  unsigned char hi_ = 0xbf;
};

}  // namespace opensock::detail
