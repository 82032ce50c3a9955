// libFuzzer target for HTTP authentication and .netrc reading. The first byte chooses:
// 0, the rest is a WWW-Authenticate value (or several, one a line) that an authenticator
// answers, refused and answered again, and the same bytes read as an NTLM challenge
// message; 1, the rest is a Proxy-Authenticate value for a proxy hop; 2, a .netrc looked
// up for a host and a login; 3, a URL's userinfo. No input may crash, and no
// Authorization value may hold a byte that ends a header line.
#include <opensock/detail/ntlm.hpp>
#include <opensock/http/auth.hpp>
#include <opensock/netrc.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace opensock::http;

void check_header_value(const std::optional<std::string>& value) {
  if (!value) return;
  for (const char c : *value)
    if (c == '\r' || c == '\n' || c == '\0') std::abort();
}

void check_challenges(const std::vector<auth_challenge>& challenges, std::size_t values) {
  if (challenges.size() > values * max_auth_challenges) std::abort();
  for (const auto& c : challenges) {
    if (c.scheme.empty() || c.params.size() > max_auth_params) std::abort();
    if (!c.token68.empty() && !c.params.empty()) std::abort();
  }
}

void authenticate(std::string_view text, auth_hop hop, std::uint8_t choice) {
  fields headers;
  std::size_t values = 0;
  const std::string_view field =
      hop == auth_hop::origin ? "WWW-Authenticate" : "Proxy-Authenticate";
  while (!text.empty()) {
    const auto newline = text.find('\n');
    headers.add(field, text.substr(0, newline));
    ++values;
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  const auto challenges = parse_challenges(headers, field);
  check_challenges(challenges, values);

  // Credentials whose bytes need quoting, and every scheme allowed (or only some).
  const credentials creds(
      "us\"er\\\r\n", "p\x7f\xff:w", choice & 1 ? "tok" : "",
      choice & 2 ? auth_schemes::any | auth_scheme::bearer : auth_schemes::anysafe);
  authenticator a(hop, choice & 4 ? "fixed-cnonce" : "");
  check_header_value(a.first_authorization(creds));
  check_header_value(a.answer(headers, "GET", "/p\"a\th", creds));
  // The same challenges as a refusal of that answer (a stale one answered once), then the
  // run's next request.
  check_header_value(a.answer(challenges, "POST", "/", creds));
  check_header_value(a.next_authorization("GET", "/next"));
  check_header_value(a.answer(challenges, "GET", "/", creds));

  // The same bytes as an NTLM challenge message: its offsets never lead outside it, and
  // an answer stays within its limit.
  namespace ntlm = opensock::detail::ntlm;
  if (const auto challenge = ntlm::read_challenge(text)) {
    if (challenge->target_info.size() > text.size()) std::abort();
    std::error_code ec;
    const auto answer = ntlm::answer(*challenge, "DOM\\user", "pw", ec);
    if (answer && (ec || answer->size() >= ntlm::max_message_size)) std::abort();
  }
}

void netrc(std::string_view text) {
  for (const std::string_view login : {"", "user"}) {
    std::error_code ec;
    const auto entry = opensock::find_netrc(text, "example.com", login, ec);
    if (entry && ec) std::abort();
    if (entry && (entry->login.size() >= opensock::netrc_max_token ||
                  entry->password.size() >= opensock::netrc_max_token))
      std::abort();
    if (entry && !login.empty() && entry->login != login) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: authenticate(text, auth_hop::origin, static_cast<std::uint8_t>(data[0] >> 2)); break;
    case 1: authenticate(text, auth_hop::proxy, static_cast<std::uint8_t>(data[0] >> 2)); break;
    case 2: netrc(text); break;
    default: {
      std::error_code ec;
      const auto c = credentials::from_userinfo(text, ec);
      if (ec) break;
      if (c.user.find('\0') != std::string::npos || c.password.find('\0') != std::string::npos)
        std::abort();
      check_header_value(basic_authorization(c.user, c.password));
      break;
    }
  }
  return 0;
}
