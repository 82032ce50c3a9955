// Internationalised host names through libidn2 (IDNA 2008 with UTS #46, as curl converts
// them): a host written in Unicode goes on the wire, and to the resolver, in its ASCII
// form of "xn--" labels. Built without libidn2 (OPENSOCK_HAS_IDN unset), such a host
// cannot be used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#if OPENSOCK_HAS_IDN
#include <idn2.h>
#endif

namespace opensock::detail {

/// Whether this build converts Unicode host names.
inline constexpr bool has_idn =
#if OPENSOCK_HAS_IDN
    true;
#else
    false;
#endif

/// The ASCII form of a UTF-8 host name; nullopt for a name IDNA does not allow, or
/// without libidn2.
inline std::optional<std::string> idn_to_ascii([[maybe_unused]] const std::string& host) {
#if OPENSOCK_HAS_IDN
  const auto* in = reinterpret_cast<const std::uint8_t*>(host.c_str());
  std::uint8_t* out = nullptr;
  // Non-transitional first (German sharp s stays itself), then transitional for the
  // names that refuses, as curl does.
  int rc = idn2_lookup_u8(in, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) rc = idn2_lookup_u8(in, &out, IDN2_TRANSITIONAL);
  if (rc != IDN2_OK) return std::nullopt;
  std::string ascii(reinterpret_cast<const char*>(out));
  idn2_free(out);
  return ascii;
#else
  return std::nullopt;
#endif
}

/// The UTF-8 form of a host name with "xn--" labels, to show it as it was written;
/// nullopt when a label does not decode, or without libidn2.
inline std::optional<std::string> idn_to_unicode([[maybe_unused]] const std::string& host) {
#if OPENSOCK_HAS_IDN
  char* out = nullptr;
  if (idn2_to_unicode_8z8z(host.c_str(), &out, 0) != IDN2_OK) return std::nullopt;
  std::string unicode(out);
  idn2_free(out);
  return unicode;
#else
  return std::nullopt;
#endif
}

}  // namespace opensock::detail
