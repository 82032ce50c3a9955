// Definitions for opensock/http/auth.hpp.
#pragma once

#include <opensock/detail/base64.hpp>
#include <opensock/detail/ntlm.hpp>
#include <opensock/detail/percent_decoded.hpp>
#include <opensock/http/auth.hpp>

#if OPENSOCK_HAS_TLS
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>

namespace opensock::http {
namespace detail {

// The tchar of RFC 9110 §5.6.2: what a scheme and a param's name are made of.
constexpr bool is_auth_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

constexpr bool is_token68_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// A param's value written without quotes. Servers write nonces and opaques with '/',
// '=' or ':' unquoted, which a token does not allow; curl reads such a value up to the
// next comma, and so does this, but for white space, quotes and control bytes.
constexpr bool is_unquoted_value_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != ',' && c != '"';
}

// One field value read once from the left; `i` never passes `text.size()`.
class challenge_reader {
 public:
  explicit challenge_reader(std::string_view text) noexcept : text_(text) {}

  void read(std::vector<auth_challenge>& out) {
    std::size_t added = 0;
    while (added < max_auth_challenges) {
      skip_separators();
      if (at_end()) return;
      auth_challenge challenge;
      const auto outcome = read_challenge(challenge);
      if (outcome == result::fatal) return;
      if (outcome == result::skip) {
        if (!skip_past_element()) return;
        continue;
      }
      out.push_back(std::move(challenge));
      ++added;
    }
  }

 private:
  enum class result { ok, skip, fatal };

  bool at_end() const noexcept { return i_ >= text_.size(); }
  char peek() const noexcept { return text_[i_]; }
  void skip_ows() noexcept {
    while (!at_end() && is_ows(peek())) ++i_;
  }
  void skip_separators() noexcept {
    while (!at_end() && (is_ows(peek()) || peek() == ',')) ++i_;
  }
  std::string_view token() noexcept {
    const std::size_t start = i_;
    while (!at_end() && is_auth_tchar(peek())) ++i_;
    return text_.substr(start, i_ - start);
  }

  // Past the next comma outside a quoted-string, to resume after an element that does
  // not parse; false at an unterminated quoted-string, after which nothing can be trusted.
  bool skip_past_element() noexcept {
    bool quoted = false;
    while (!at_end()) {
      const char c = peek();
      if (quoted) {
        if (c == '\\') {
          i_ = std::min(i_ + 2, text_.size());
          continue;
        }
        if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        ++i_;
        return true;
      }
      ++i_;
    }
    return !quoted;
  }

  result read_challenge(auth_challenge& challenge) {
    const auto scheme = token();
    if (scheme.empty()) return result::skip;
    challenge.scheme = scheme;
    if (at_end() || peek() == ',') return result::ok;
    if (!is_ows(peek())) return result::skip;
    skip_ows();
    if (at_end() || peek() == ',') return result::ok;

    // token68: its characters, any '=' padding, then the end of the element.
    std::size_t t = i_;
    while (t < text_.size() && is_token68_char(text_[t])) ++t;
    std::size_t e = t;
    while (e < text_.size() && text_[e] == '=') ++e;
    std::size_t after = e;
    while (after < text_.size() && is_ows(text_[after])) ++after;
    if (t > i_ && (after == text_.size() || text_[after] == ',')) {
      challenge.token68 = text_.substr(i_, e - i_);
      i_ = after;
      return result::ok;
    }
    return read_params(challenge);
  }

  result read_params(auth_challenge& challenge) {
    while (true) {
      const auto name = token();
      if (name.empty()) return result::skip;
      skip_ows();
      if (at_end() || peek() != '=') return result::skip;
      ++i_;
      skip_ows();
      std::string value;
      if (!at_end() && peek() == '"') {
        if (!quoted_string(value)) return result::fatal;
      } else {
        const std::size_t start = i_;
        while (!at_end() && is_unquoted_value_char(peek())) ++i_;
        if (i_ == start) return result::skip;
        value = text_.substr(start, i_ - start);
      }
      if (challenge.params.size() < max_auth_params)
        challenge.params.emplace_back(std::string(name), std::move(value));
      skip_ows();
      if (at_end()) return result::ok;
      if (peek() != ',') return result::skip;
      // A comma ends the param; what follows is another param when it is `token =`, and
      // otherwise the next challenge (or nothing).
      skip_separators();
      const std::size_t next = i_;
      token();
      skip_ows();
      const bool another_param = i_ > next && !at_end() && peek() == '=';
      i_ = next;
      if (!another_param) return result::ok;
    }
  }

  // A quoted-string at `i_`, unescaped into `value`; false when it does not end.
  bool quoted_string(std::string& value) {
    ++i_;
    while (!at_end()) {
      char c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        if (++i_ == text_.size()) return false;
        c = peek();
      }
      value += c;
      ++i_;
    }
    return false;
  }

  std::string_view text_;
  std::size_t i_ = 0;
};

enum digest_hash : int { digest_md5, digest_sha256, digest_sha512_256 };

// Whether Digest can be answered: its hashes come from libcrypto.
inline constexpr bool digest_supported = OPENSOCK_HAS_TLS;

// Lower-case hex of `data`'s hash; empty when OpenSSL cannot make it (MD5 in a FIPS
// provider, say), which makes the challenge unanswerable rather than the program fail.
inline std::string digest_hex(int hash, std::string_view data) {
#if !OPENSOCK_HAS_TLS
  (void)hash;
  (void)data;
  return {};
#else
  const EVP_MD* md = hash == digest_md5      ? EVP_md5()
                     : hash == digest_sha256 ? EVP_sha256()
                                             : EVP_sha512_256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) != 1)
    return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
#endif
}

// A value for a quoted-string of the Authorization header, as curl writes it: '"' and
// '\\' escaped, control bytes and bytes from 0x7f up as %XX, so nothing the user or the
// server gave can end the header line.
inline std::string digest_quoted(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u > 0x7e) {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

// 12 random bytes in base64, as curl's cnonce; empty when the generator fails.
inline std::string random_cnonce() {
#if !OPENSOCK_HAS_TLS
  return {};
#else
  std::array<unsigned char, 12> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  return opensock::detail::base64(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
#endif
}

// A token a header may carry as it is: no control byte could end the line.
inline bool is_header_safe(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

}  // namespace detail

inline credentials credentials::from_userinfo(std::string_view userinfo, std::error_code& ec) {
  ec = {};
  const auto colon = userinfo.find(':');
  auto user = opensock::detail::percent_decoded(userinfo.substr(0, colon));
  auto password = opensock::detail::percent_decoded(
      colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1));
  if (!user || !password || user->find('\0') != std::string::npos ||
      password->find('\0') != std::string::npos) {
    ec = error::url_malformat;
    return {};
  }
  return credentials(std::move(*user), std::move(*password));
}

inline std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string pair;
  pair.reserve(user.size() + 1 + password.size());
  pair.append(user).append(1, ':').append(password);
  return "Basic " + opensock::detail::base64(pair);
}

inline void parse_challenges(std::string_view field_value, std::vector<auth_challenge>& out) {
  detail::challenge_reader(field_value).read(out);
}

inline std::vector<auth_challenge> parse_challenges(const fields& headers,
                                                    std::string_view field_name) {
  std::vector<auth_challenge> out;
  for (const auto& f : headers)
    if (iequals(f.name, field_name)) parse_challenges(f.value, out);
  return out;
}

inline std::optional<std::string> authenticator::first_authorization(const credentials& creds) {
  if (refused_ || sent_) return std::nullopt;
  creds_ = creds;
  auth_schemes allowed = creds.schemes;
  if (hop_ == auth_hop::proxy) allowed = allowed - auth_scheme::bearer;
  // Only a single scheme is sent unasked, as curl sends its "want" when it is one bit.
  if (allowed == auth_scheme::bearer && !creds.bearer_token.empty())
    picked_ = auth_scheme::bearer;
  else if (allowed == auth_scheme::basic && creds.has_user())
    picked_ = auth_scheme::basic;
  else if (allowed == auth_scheme::ntlm && creds.has_user() && opensock::detail::ntlm::supported)
    picked_ = auth_scheme::ntlm;
  else
    return std::nullopt;
  return make_authorization({}, {});
}

namespace detail {

// What a Digest challenge asks for, when this client can answer it: a nonce, an
// algorithm it knows, and a qop for the -sess algorithms (RFC 7616 §3.3), as curl's
// Curl_auth_decode_digest_http_message() requires.
struct digest_challenge {
  std::string nonce, realm, algorithm, qop;
  std::optional<std::string> opaque;
  int hash = digest_md5;
  bool sess = false, userhash = false, stale = false;
};

inline std::optional<digest_challenge> read_digest_challenge(const auth_challenge& c) {
  if (!c.is("Digest")) return std::nullopt;
  const auto nonce = c.param("nonce");
  if (!nonce) return std::nullopt;
  digest_challenge d;
  d.nonce = *nonce;
  d.realm = c.param("realm").value_or("");
  if (const auto opaque = c.param("opaque")) d.opaque = std::string(*opaque);
  if (const auto algorithm = c.param("algorithm")) {
    struct known {
      std::string_view name;
      int hash;
      bool sess;
    };
    static constexpr known algorithms[] = {
        {"MD5", digest_md5, false},           {"MD5-sess", digest_md5, true},
        {"SHA-256", digest_sha256, false},    {"SHA-256-sess", digest_sha256, true},
        {"SHA-512-256", digest_sha512_256, false}, {"SHA-512-256-sess", digest_sha512_256, true},
    };
    bool found = false;
    for (const auto& a : algorithms) {
      if (!iequals(*algorithm, a.name)) continue;
      d.hash = a.hash;
      d.sess = a.sess;
      found = true;
    }
    if (!found) return std::nullopt;
    d.algorithm = *algorithm;
  }
  if (const auto qop = c.param("qop")) {
    // auth when offered; auth-int (with the hash of an empty body, as curl) when only it
    // is; anything else is not a qop this client speaks, and RFC 2069's form is used.
    bool auth = false, auth_int = false;
    std::string_view list = *qop;
    while (!list.empty()) {
      const auto comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && is_ows(item.front())) item.remove_prefix(1);
      while (!item.empty() && is_ows(item.back())) item.remove_suffix(1);
      auth = auth || iequals(item, "auth");
      auth_int = auth_int || iequals(item, "auth-int");
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    if (auth) d.qop = "auth";
    else if (auth_int) d.qop = "auth-int";
  }
  if (d.sess && d.qop.empty()) return std::nullopt;
  const auto flag = [&c](std::string_view name) {
    const auto v = c.param(name);
    return v && iequals(*v, "true");
  };
  d.stale = flag("stale");
  d.userhash = flag("userhash");
  return d;
}

}  // namespace detail

inline std::optional<std::string> authenticator::answer(const fields& response_headers,
                                                        std::string_view method,
                                                        std::string_view request_target,
                                                        const credentials& creds) {
  return answer(parse_challenges(response_headers, challenge_field()), method, request_target,
                creds);
}

inline std::optional<std::string> authenticator::answer(
    const std::vector<auth_challenge>& challenges, std::string_view method,
    std::string_view request_target, const credentials& creds) {
  if (refused_) return std::nullopt;
  // The first Digest challenge this client can answer: RFC 7616 §3.7 lets a server offer
  // several, in its order of preference. curl takes the first Digest challenge whatever
  // it holds; one with an algorithm it lacks then ends the run where this tries the next.
  const auto usable_digest = [&]() -> std::optional<detail::digest_challenge> {
    for (const auto& c : challenges)
      if (auto d = detail::read_digest_challenge(c)) return d;
    return std::nullopt;
  };
  const auto adopt = [&](detail::digest_challenge&& d) {
    digest_.nonce = std::move(d.nonce);
    digest_.realm = std::move(d.realm);
    digest_.opaque = d.opaque ? std::move(*d.opaque) : std::string();
    digest_.has_opaque = d.opaque.has_value();
    digest_.algorithm = std::move(d.algorithm);
    digest_.qop = std::move(d.qop);
    digest_.hash = d.hash;
    digest_.sess = d.sess;
    digest_.userhash = d.userhash;
    digest_.stale = d.stale;
    digest_.nc = 1;
    digest_.cnonce = fixed_cnonce_.empty() ? detail::random_cnonce() : fixed_cnonce_;
  };

  if (sent_) {
    // NTLM's negotiate message is answered with a challenge, which is answered in turn.
    if (picked_ == auth_scheme::ntlm && ntlm_stage_ == ntlm_stage::negotiated)
      return make_ntlm_answer(challenges);
    // Refused after an answer: the credentials are wrong, unless a Digest nonce merely
    // expired (stale=true), which is answered with the new nonce once per request.
    if (picked_ != auth_scheme::digest || stale_answers_ > 0) return end();
    auto d = usable_digest();
    if (!d || !d->stale) return end();
    adopt(std::move(*d));
    ++stale_answers_;
    return make_authorization(method, request_target);
  }

  creds_ = creds;
  auth_schemes offered;
  for (const auto& c : challenges) {
    if (c.is("Basic")) offered |= auth_scheme::basic;
    else if (c.is("Digest")) offered |= auth_scheme::digest;
    else if (c.is("Bearer")) offered |= auth_scheme::bearer;
    else if (c.is("NTLM")) offered |= auth_scheme::ntlm;
  }
  auth_schemes usable = offered & creds.schemes;
  if (hop_ == auth_hop::proxy) usable = usable - auth_scheme::bearer;
  if (!detail::digest_supported) usable = usable - auth_scheme::digest;
  if (!opensock::detail::ntlm::supported) usable = usable - auth_scheme::ntlm;

  if (usable.contains(auth_scheme::bearer) && !creds.bearer_token.empty()) {
    picked_ = auth_scheme::bearer;
  } else if (usable.contains(auth_scheme::digest) && creds.has_user()) {
    auto d = usable_digest();
    if (!d) return end();
    adopt(std::move(*d));
    picked_ = auth_scheme::digest;
  } else if (usable.contains(auth_scheme::ntlm) && creds.has_user()) {
    picked_ = auth_scheme::ntlm;
  } else if (usable.contains(auth_scheme::basic) && creds.has_user()) {
    picked_ = auth_scheme::basic;
  } else {
    return end();
  }
  return make_authorization(method, request_target);
}

inline std::optional<std::string> authenticator::next_authorization(
    std::string_view method, std::string_view request_target) {
  if (refused_ || !sent_) return std::nullopt;
  stale_answers_ = 0;
  return make_authorization(method, request_target);
}

inline std::optional<std::string> authenticator::make_authorization(
    std::string_view method, std::string_view request_target) {
  std::optional<std::string> value;
  switch (picked_) {
    case auth_scheme::basic:
      value = basic_authorization(creds_.user, creds_.password);
      break;
    case auth_scheme::bearer:
      // A token is sent as it is: one with a line break would end the header.
      if (detail::is_header_safe(creds_.bearer_token)) value = "Bearer " + creds_.bearer_token;
      break;
    case auth_scheme::digest:
      value = make_digest(method, request_target);
      break;
    case auth_scheme::ntlm:
      // Each request of the run starts the handshake again, as curl's do.
      value = "NTLM " + opensock::detail::base64(opensock::detail::ntlm::negotiate_message());
      ntlm_stage_ = ntlm_stage::negotiated;
      break;
    case auth_scheme::none:
      break;
  }
  if (!value) return end();
  sent_ = true;
  return value;
}

// The answer to the first NTLM challenge that carries a message; a challenge without
// one, or one that does not read, ends the run (curl: "NTLM handshake failure").
inline std::optional<std::string> authenticator::make_ntlm_answer(
    const std::vector<auth_challenge>& challenges) {
  namespace ntlm = opensock::detail::ntlm;
  for (const auto& c : challenges) {
    if (!c.is("NTLM") || c.token68.empty()) continue;
    const auto message = opensock::detail::base64_decoded(c.token68);
    const auto challenge = message ? ntlm::read_challenge(*message) : std::nullopt;
    if (!challenge) break;
    std::error_code ec;
    const auto answer = ntlm::answer(*challenge, creds_.user, creds_.password, ec);
    if (!answer) {
      error_ = ec;
      break;
    }
    ntlm_stage_ = ntlm_stage::answered;
    return "NTLM " + opensock::detail::base64(*answer);
  }
  return end();
}

// RFC 7616 §3.4, written as curl's auth_create_digest_http_message() writes it: the same
// fields in the same order, the same ones quoted, algorithm echoed as the server wrote it.
inline std::optional<std::string> authenticator::make_digest(std::string_view method,
                                                             std::string_view uri) {
  using detail::digest_hex;
  const digest_state& d = digest_;
  if (d.cnonce.empty()) return std::nullopt;
  const auto join = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    bool first = true;
    for (const auto part : parts) {
      if (!first) out += ':';
      out.append(part);
      first = false;
    }
    return out;
  };
  std::string ha1 = digest_hex(d.hash, join({creds_.user, d.realm, creds_.password}));
  if (d.sess) ha1 = digest_hex(d.hash, join({ha1, d.nonce, d.cnonce}));
  std::string a2 = join({method, uri});
  if (d.qop == "auth-int") a2 += ":" + digest_hex(d.hash, {});
  const std::string ha2 = digest_hex(d.hash, a2);
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", static_cast<unsigned>(d.nc));
  const std::string response =
      d.qop.empty() ? digest_hex(d.hash, join({ha1, d.nonce, ha2}))
                    : digest_hex(d.hash, join({ha1, d.nonce, nc, d.cnonce, d.qop, ha2}));
  const std::string user_hash =
      d.userhash ? digest_hex(d.hash, join({creds_.user, d.realm})) : std::string();
  if (ha1.empty() || ha2.empty() || response.empty() || (d.userhash && user_hash.empty()))
    return std::nullopt;

  using detail::digest_quoted;
  std::string out = "Digest username=\"";
  out += digest_quoted(d.userhash ? user_hash : creds_.user);
  out += "\", realm=\"";
  out += digest_quoted(d.realm);
  out += "\", nonce=\"";
  out += digest_quoted(d.nonce);
  out += "\", uri=\"";
  out += digest_quoted(uri);
  if (!d.qop.empty()) {
    out += "\", cnonce=\"";
    out += digest_quoted(d.cnonce);
    out += "\", nc=";
    out += nc;
    out += ", qop=";
    out += d.qop;
    out += ", response=\"";
    ++digest_.nc;  // the next request of the run counts on
  } else {
    out += "\", response=\"";
  }
  out += response;
  out += '"';
  if (d.has_opaque) {
    out += ", opaque=\"";
    out += digest_quoted(d.opaque);
    out += '"';
  }
  if (!d.algorithm.empty()) {
    out += ", algorithm=";
    out += d.algorithm;
  }
  if (d.userhash) out += ", userhash=true";
  return out;
}

}  // namespace opensock::http
