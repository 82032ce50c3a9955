// HTTP authentication as curl does it: Basic (RFC 7617), Digest (RFC 7616), Bearer
// (RFC 6750) and NTLM (MS-NLMP) credentials, the challenges of WWW-Authenticate and
// Proxy-Authenticate (RFC 9110 §11), and the scheme curl picks among them for -u,
// --digest, --ntlm and --anyauth. Digest's and NTLM's hashes and random bytes come from
// OpenSSL's libcrypto: a build without it answers neither, and --anyauth picks Basic.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/auth_scheme.hpp>
#include <opensock/http/fields.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock::http {

/// Who a request authenticates with, and how: a user and password for Basic, Digest and
/// NTLM (curl's -u; NTLM reads `DOMAIN\user`), or a token for Bearer (--oauth2-bearer),
/// and the schemes allowed.
struct credentials {
  std::string user;
  std::string password;
  std::string bearer_token;
  /// Basic alone by default, as curl's -u: sent before any challenge.
  auth_schemes schemes = auth_scheme::basic;

  credentials() = default;
  credentials(std::string user_, std::string password_,
              auth_schemes schemes_ = auth_scheme::basic)
      : user(std::move(user_)), password(std::move(password_)), schemes(schemes_) {}
  credentials(std::string user_, std::string password_, std::string bearer_token_,
              auth_schemes schemes_)
      : user(std::move(user_)),
        password(std::move(password_)),
        bearer_token(std::move(bearer_token_)),
        schemes(schemes_) {}

  /// A Bearer token alone, sent before any challenge.
  static credentials bearer(std::string token) {
    return credentials({}, {}, std::move(token), auth_scheme::bearer);
  }

  /// The user and password of a URL's userinfo ("user:password", percent-encoded as
  /// http::url keeps it), decoded, split at the first ':'; Basic allowed. A '%' without
  /// two hex digits, or an escape of a NUL byte, is error::url_malformat (curl's 3).
  static credentials from_userinfo(std::string_view userinfo, std::error_code& ec);

  /// Whether these name a user for Basic and Digest: all but a Bearer token alone. The
  /// user and the password may both be empty, as curl's `-u :` and a URL's `:@` give
  /// them; Basic then sends "Og==", as curl does.
  bool has_user() const noexcept {
    return !user.empty() || !password.empty() || bearer_token.empty();
  }
};

/// "Basic " and the base64 of "user:password" (RFC 7617), bytes as they are: UTF-8 in,
/// UTF-8 out, as curl sends them.
std::string basic_authorization(std::string_view user, std::string_view password);

/// One auth-param of a challenge: the name as written, the value with the quotes and
/// backslash escapes of a quoted-string removed.
struct auth_param {
  std::string name;
  std::string value;

  auth_param() = default;
  auth_param(std::string name_, std::string value_)
      : name(std::move(name_)), value(std::move(value_)) {}
};

/// One challenge (RFC 9110 §11.3): a scheme, then a token68 or auth-params (or neither).
struct auth_challenge {
  std::string scheme;
  std::string token68;
  std::vector<auth_param> params;

  /// Whether the scheme is `name`, without regard to case.
  bool is(std::string_view name) const noexcept { return iequals(scheme, name); }
  /// The value of the param named `name` (without regard to case); of the last one when
  /// a challenge repeats it, as curl takes it.
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    for (auto p = params.rbegin(); p != params.rend(); ++p)
      if (iequals(p->name, name)) return std::string_view(p->value);
    return std::nullopt;
  }
};

/// Limits on what parse_challenges() keeps of one field value: more is ignored, so a
/// hostile server cannot make the client hold an unbounded list.
inline constexpr std::size_t max_auth_challenges = 32;
inline constexpr std::size_t max_auth_params = 32;

/// The challenges of one WWW-Authenticate or Proxy-Authenticate value, in order,
/// appended to `out`: several per value, separated by commas, each with a token68 or a
/// list of auth-params whose values are tokens or quoted-strings (a comma in quotes is
/// not a separator). A challenge that does not parse is skipped up to the next comma
/// outside quotes, and parsing goes on from there; an unterminated quoted-string ends it.
/// Any input is safe: it is read once, bounded by max_auth_challenges per value and
/// max_auth_params per challenge.
void parse_challenges(std::string_view field_value, std::vector<auth_challenge>& out);

inline std::vector<auth_challenge> parse_challenges(std::string_view field_value) {
  std::vector<auth_challenge> out;
  parse_challenges(field_value, out);
  return out;
}

/// The challenges of every field named `field_name` of `headers`, in order.
std::vector<auth_challenge> parse_challenges(const fields& headers,
                                             std::string_view field_name = "WWW-Authenticate");

/// Which hop an authenticator speaks to: the origin (WWW-Authenticate, Authorization) or
/// an HTTP proxy (Proxy-Authenticate, Proxy-Authorization; no Bearer, as in curl).
enum class auth_hop { origin, proxy };

/// The authentication of one request run against one origin (or proxy), as curl's
/// per-transfer state: what to send first, the answer to a 401 (407), and what to send
/// with the run's following requests. Digest's state (nonce, nc, cnonce, ...) and NTLM's
/// handshake live here. It answers one refusal: a second 401 after an answer ends it, but
/// for a Digest challenge with stale=true, which is answered once more with the new
/// nonce, and NTLM's challenge to its negotiate message, answered on the same connection.
class authenticator {
 public:
  authenticator() = default;
  /// With a fixed Digest cnonce rather than 12 random bytes in base64 per challenge, so
  /// a test can check the RFC's examples byte for byte. Empty: random.
  explicit authenticator(auth_hop hop, std::string cnonce = {})
      : hop_(hop), fixed_cnonce_(std::move(cnonce)) {}

  /// "WWW-Authenticate" or "Proxy-Authenticate".
  std::string_view challenge_field() const noexcept {
    return hop_ == auth_hop::origin ? "WWW-Authenticate" : "Proxy-Authenticate";
  }
  /// "Authorization" or "Proxy-Authorization".
  std::string_view authorization_field() const noexcept {
    return hop_ == auth_hop::origin ? "Authorization" : "Proxy-Authorization";
  }

  /// The value to send before any challenge: Bearer when Bearer is the only scheme
  /// allowed and a token is given; Basic when Basic is (curl's -u); NTLM's negotiate
  /// message when NTLM is (--ntlm); nothing for Digest or several schemes (--digest,
  /// --anyauth), which wait for the server's challenge.
  std::optional<std::string> first_authorization(const credentials& creds);

  /// The value to send the request again with after a 401 (407) whose headers are
  /// `response_headers`, for `method` and `request_target` (origin form, as on the
  /// request line: curl's Digest uri). Picks, of the schemes offered and allowed, Bearer
  /// (with a token), then Digest, then NTLM, then Basic (with a user or password), as curl
  /// does. After NTLM's negotiate message, answers the challenge it brings.
  /// nullopt when nothing offered can be used (a Digest challenge that is not usable
  /// ends it, as curl's "Digest authentication problem"), or when this authenticator
  /// already answered and was refused again: the credentials are wrong and it gives up.
  std::optional<std::string> answer(const fields& response_headers, std::string_view method,
                                    std::string_view request_target, const credentials& creds);
  /// The same with the challenges parsed already.
  std::optional<std::string> answer(const std::vector<auth_challenge>& challenges,
                                    std::string_view method, std::string_view request_target,
                                    const credentials& creds);

  /// The value for a following request of the same run to the same origin: the picked
  /// scheme again, Digest with the nonce reused and nc counted up, NTLM's handshake from
  /// its start, as curl does. nullopt before a scheme was picked or after the
  /// authenticator gave up.
  std::optional<std::string> next_authorization(std::string_view method,
                                                std::string_view request_target);

  /// Whether a request with a body goes first without it (Content-Length: 0), as curl's
  /// "authneg": the one scheme allowed needs the server's challenge (Digest) and none was
  /// answered yet, or the value last made is NTLM's negotiate message, so the body would
  /// only be sent to be refused.
  bool probes_first(const credentials& creds) const noexcept {
    if (refused_) return false;
    return (creds.schemes == auth_scheme::digest && picked_ == auth_scheme::none) ||
           (picked_ == auth_scheme::ntlm && ntlm_stage_ == ntlm_stage::negotiated);
  }

  /// Whether the value last made must go on the connection the challenge it answers
  /// came on: NTLM authenticates a connection, not a request.
  bool binds_connection() const noexcept {
    return !refused_ && picked_ == auth_scheme::ntlm && ntlm_stage_ != ntlm_stage::none;
  }

  /// Whether the value last made, NTLM's answer, authenticates the connection it goes on:
  /// the following requests on that connection need none, as curl sends them.
  bool authenticates_connection() const noexcept {
    return !refused_ && picked_ == auth_scheme::ntlm && ntlm_stage_ == ntlm_stage::answered;
  }

  /// Why it gave up, when that is an error rather than a refusal to answer:
  /// ntlm_message_too_large (curl's 100).
  std::error_code error() const noexcept { return error_; }

  /// The scheme picked so far (none before an Authorization value was made).
  auth_scheme picked() const noexcept { return picked_; }
  /// Whether it gave up: refused twice, or a challenge it could not answer.
  bool refused() const noexcept { return refused_; }

 private:
  struct digest_state {
    std::string nonce, realm, opaque, algorithm, qop, cnonce;
    int hash = 0;       // detail::digest_hash
    bool sess = false;  // an algorithm ending in -sess
    bool has_opaque = false;
    bool userhash = false;
    bool stale = false;
    std::uint32_t nc = 1;
  };

  std::optional<std::string> end() {
    refused_ = true;
    return std::nullopt;
  }
  std::optional<std::string> make_authorization(std::string_view method,
                                                std::string_view request_target);
  std::optional<std::string> make_digest(std::string_view method, std::string_view uri);
  std::optional<std::string> make_ntlm_answer(const std::vector<auth_challenge>& challenges);

  // Where NTLM's handshake stands: the negotiate message made, its challenge answered.
  enum class ntlm_stage { none, negotiated, answered };

  auth_hop hop_ = auth_hop::origin;
  std::string fixed_cnonce_;
  credentials creds_;
  auth_scheme picked_ = auth_scheme::none;
  bool sent_ = false;         // an Authorization value was made for this run
  bool refused_ = false;
  int stale_answers_ = 0;     // stale Digest challenges answered since the last request
  digest_state digest_;
  ntlm_stage ntlm_stage_ = ntlm_stage::none;
  std::error_code error_;
};

}  // namespace opensock::http

#include <opensock/http/impl/auth.hpp>
