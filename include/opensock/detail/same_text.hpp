// Equality of strings. same_text(): a size check in place, then a compare of the bytes that
// calls no library function. std::string's == is the same size check and a memcmp, but
// g++ often leaves it a call, and memcmp is a call into libc in any case; on the
// per-request path (pool lookups, a reused response's URL and reason phrase) the calls
// cost more than the compare of the short strings found there.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace opensock::detail {

template <class Word>
Word load_word(const char* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// `n` bytes at `a` and `b`, n > 0. Kept out of line: one small function for every
// caller rather than its body in each.
[[gnu::noinline]] inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  using word = std::uint64_t;
  // Eight bytes at a time, the last word overlapping the one before.
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load_word<word>(a + i) != load_word<word>(b + i)) return false;
    return load_word<word>(a + n - 8) == load_word<word>(b + n - 8);
  }
  if (n >= 4) {
    using half = std::uint32_t;
    return load_word<half>(a) == load_word<half>(b) &&
           load_word<half>(a + n - 4) == load_word<half>(b + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

inline bool same_text(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || same_bytes(a.data(), b.data(), a.size()));
}

// Equality of two strings with ASCII letters compared regardless of case (host names,
// schemes).
inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

}  // namespace opensock::detail
