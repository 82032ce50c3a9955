// Equality of two strings as a size check and, only for equal sizes, a memcmp, in place.
// std::string's operator== does the same, but g++ often leaves it an out-of-line call;
// on the per-request path (pool lookups, reused responses) that call costs more than the
// compare.
#pragma once

#include <cstring>
#include <string_view>

namespace opensock::detail {

inline bool same_text(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace opensock::detail
