// The authentication schemes opensock speaks (Basic, Digest, Bearer, NTLM) and sets of them, as
// curl's CURLOPT_HTTPAUTH and CURLOPT_PROXYAUTH bitmasks: which a request's or a proxy's
// credentials may be sent with.
#pragma once

namespace opensock::http {

/// An authentication scheme; `none` says that none was picked.
enum class auth_scheme : unsigned { none = 0, basic = 1, digest = 2, bearer = 4, ntlm = 8 };

/// A set of schemes, as curl's CURLOPT_HTTPAUTH bitmask.
class auth_schemes {
 public:
  constexpr auth_schemes() noexcept = default;
  constexpr auth_schemes(auth_scheme s) noexcept : bits_(static_cast<unsigned>(s)) {}

  constexpr bool contains(auth_scheme s) const noexcept {
    return s != auth_scheme::none && (bits_ & static_cast<unsigned>(s)) != 0;
  }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr unsigned bits() const noexcept { return bits_; }

  friend constexpr auth_schemes operator|(auth_schemes a, auth_schemes b) noexcept {
    return from_bits(a.bits_ | b.bits_);
  }
  friend constexpr auth_schemes operator&(auth_schemes a, auth_schemes b) noexcept {
    return from_bits(a.bits_ & b.bits_);
  }
  /// The schemes of `a` but those of `b`.
  friend constexpr auth_schemes operator-(auth_schemes a, auth_schemes b) noexcept {
    return from_bits(a.bits_ & ~b.bits_);
  }
  constexpr auth_schemes& operator|=(auth_schemes b) noexcept { return *this = *this | b; }
  friend constexpr bool operator==(auth_schemes, auth_schemes) noexcept = default;

  /// No scheme (CURLAUTH_NONE).
  static const auth_schemes none;
  /// Basic, Digest and NTLM, the safest one the server offers picked (CURLAUTH_ANY,
  /// --anyauth).
  static const auth_schemes any;
  /// Any but Basic, which sends the password readable (CURLAUTH_ANYSAFE).
  static const auth_schemes anysafe;

 private:
  static constexpr auth_schemes from_bits(unsigned bits) noexcept {
    auth_schemes s;
    s.bits_ = bits & 15u;
    return s;
  }
  unsigned bits_ = 0;
};

inline constexpr auth_schemes auth_schemes::none{};
inline constexpr auth_schemes auth_schemes::any =
    auth_schemes(auth_scheme::basic) | auth_scheme::digest | auth_scheme::ntlm;
inline constexpr auth_schemes auth_schemes::anysafe =
    auth_schemes(auth_scheme::digest) | auth_scheme::ntlm;

constexpr auth_schemes operator|(auth_scheme a, auth_scheme b) noexcept {
  return auth_schemes(a) | auth_schemes(b);
}

}  // namespace opensock::http
