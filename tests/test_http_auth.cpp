#include <opensock/detail/base64.hpp>
#include <opensock/detail/ntlm.hpp>
#include <opensock/http/auth.hpp>
#include <opensock/netrc.hpp>

#include "support/catch.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pwd.h>
#include <unistd.h>

#if defined(OPENSOCK_DIGEST_SERVER)
#include <opensock/http/session.hpp>

#include "support/http_request.hpp"
#include "support/proxy_peers.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <istream>
#endif

using namespace opensock::http;
using opensock::find_netrc;
using opensock::netrc_entry;

namespace {

// RFC 7616 §3.9.1: the challenge's parts, and what the client chose.
constexpr std::string_view rfc_realm = "http-auth@example.org";
constexpr std::string_view rfc_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view rfc_opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
constexpr std::string_view rfc_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view rfc_uri = "/dir/index.html";

std::string rfc_challenge(std::string_view algorithm, std::string_view qop = "auth, auth-int",
                          std::string_view nonce = rfc_nonce) {
  std::string out = "Digest realm=\"";
  out.append(rfc_realm).append("\"");
  if (!qop.empty()) out.append(", qop=\"").append(qop).append("\"");
  if (!algorithm.empty()) out.append(", algorithm=").append(algorithm);
  out.append(", nonce=\"").append(nonce).append("\", opaque=\"").append(rfc_opaque).append("\"");
  return out;
}

const credentials mufasa("Mufasa", "Circle of Life", auth_scheme::digest);

// The Authorization value for the RFC's request, as curl writes it.
std::string rfc_answer(std::string_view algorithm, std::string_view response,
                       std::string_view qop = "auth", std::string_view nc = "00000001",
                       std::string_view nonce = rfc_nonce) {
  std::string out = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", nonce=\"";
  out.append(nonce).append("\", uri=\"/dir/index.html\", ");
  if (!qop.empty()) {
    out.append("cnonce=\"").append(rfc_cnonce).append("\", nc=").append(nc);
    out.append(", qop=").append(qop).append(", ");
  }
  out.append("response=\"").append(response).append("\", opaque=\"").append(rfc_opaque);
  out.append("\"");
  if (!algorithm.empty()) out.append(", algorithm=").append(algorithm);
  return out;
}

std::optional<std::string> answer_to(authenticator& a, std::string_view challenge,
                                     const credentials& creds = mufasa,
                                     std::string_view method = "GET") {
  return a.answer(parse_challenges(challenge), method, rfc_uri, creds);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Basic and credentials

TEST_CASE("Basic encodes user and password as RFC 7617 shows") {
  CHECK(basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  // RFC 7617 §2.1: UTF-8 bytes go out as they are.
  CHECK(basic_authorization("test", "123\xC2\xA3") == "Basic dGVzdDoxMjPCow==");
  CHECK(basic_authorization("", "") == "Basic Og==");
  CHECK(basic_authorization("a:b", "c") == "Basic YTpiOmM=");
}

TEST_CASE("base64 reads back what it writes and nothing that is not strict RFC 4648") {
  using opensock::detail::base64;
  using opensock::detail::base64_decoded;
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (std::size_t n = 1; n <= all.size(); n += 37)
    CHECK(base64_decoded(base64(all.substr(0, n))) == all.substr(0, n));
  CHECK(base64_decoded("QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == "Aladdin:open sesame");
  for (const char* bad : {"", "QQ", "QQ=", "Q===", "QQ==QQ==", "QQ=A", "Q!==", "QWxh\nZA=="}) {
    CAPTURE(bad);
    CHECK(!base64_decoded(bad));
  }
}

TEST_CASE("from_userinfo decodes percent escapes and splits at the first colon") {
  std::error_code ec;
  auto c = credentials::from_userinfo("us%40er:pa%3Ass:word", ec);
  CHECK_FALSE(ec);
  CHECK(c.user == "us@er");
  CHECK(c.password == "pa:ss:word");
  CHECK(c.schemes == auth_scheme::basic);

  c = credentials::from_userinfo("J%C3%A4s%C3%B8n", ec);
  CHECK_FALSE(ec);
  CHECK(c.user == "J\xC3\xA4s\xC3\xB8n");
  CHECK(c.password.empty());

  c = credentials::from_userinfo(":secret", ec);
  CHECK_FALSE(ec);
  CHECK(c.user.empty());
  CHECK(c.password == "secret");
  CHECK(c.has_user());

  // A user, empty, with an empty password: curl sends Basic Og== for `-u :` and ":@".
  c = credentials::from_userinfo(":", ec);
  CHECK_FALSE(ec);
  CHECK(c.user.empty());
  CHECK(c.password.empty());
  CHECK(c.has_user());
  CHECK_FALSE(credentials::bearer("tok").has_user());
  CHECK_FALSE(credentials("", "", "tok", auth_schemes::any).has_user());
  CHECK(credentials("u", "", "tok", auth_schemes::any).has_user());
}

TEST_CASE("from_userinfo refuses bad escapes and NUL bytes") {
  for (const std::string_view bad :
       {"us%4", "us%zzer", "%", "user:pa%", "user:%g1", "us%00er", "user:pass%00", "user:%00"}) {
    INFO(bad);
    std::error_code ec;
    const auto c = credentials::from_userinfo(bad, ec);
    CHECK(ec == opensock::error::url_malformat);
    CHECK(c.user.empty());
    CHECK(c.password.empty());
  }
}

TEST_CASE("auth_schemes is a bit set as CURLOPT_HTTPAUTH") {
  CHECK(auth_schemes::any.contains(auth_scheme::basic));
  CHECK(auth_schemes::any.contains(auth_scheme::digest));
  CHECK_FALSE(auth_schemes::any.contains(auth_scheme::bearer));
  CHECK_FALSE(auth_schemes::anysafe.contains(auth_scheme::basic));
  CHECK(auth_schemes::none.empty());
  CHECK_FALSE(auth_schemes::any.contains(auth_scheme::none));
  CHECK((auth_schemes::any - auth_scheme::basic) == auth_schemes::anysafe);
  CHECK((auth_scheme::basic | auth_scheme::bearer).bits() == 5u);
  CHECK((auth_schemes::any & auth_scheme::digest) == auth_scheme::digest);
}

// ---------------------------------------------------------------------------------------
// parse_challenges

TEST_CASE("challenges are read as RFC 9110 section 11 writes them") {
  // RFC 9110 §11.6.1's example: two challenges in one value.
  const auto c = parse_challenges(
      "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "Newauth");
  REQUIRE(c[0].params.size() == 3);
  CHECK(c[0].params[0].name == "realm");
  CHECK(c[0].params[0].value == "apps");
  CHECK(c[0].params[1].name == "type");
  CHECK(c[0].params[1].value == "1");
  CHECK(c[0].param("TITLE") == "Login to \"apps\"");
  CHECK(c[1].is("basic"));
  CHECK(c[1].param("realm") == "simple");
  CHECK_FALSE(c[1].param("charset"));
  // A param repeated: the last one counts, as curl takes it.
  const auto repeated = opensock::http::parse_challenges("Digest nonce=1, nonce=2");
  REQUIRE(repeated.size() == 1);
  CHECK(repeated[0].param("nonce") == "2");
  CHECK(c[1].token68.empty());
}

TEST_CASE("a token68 challenge keeps its padding") {
  auto c = parse_challenges("Negotiate YIIBhwYGKwYBBQUCoIIBezCC+/==, Basic realm=x");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "Negotiate");
  CHECK(c[0].token68 == "YIIBhwYGKwYBBQUCoIIBezCC+/==");
  CHECK(c[0].params.empty());
  CHECK(c[1].param("realm") == "x");

  c = parse_challenges("Bearer abc123  ");
  REQUIRE(c.size() == 1);
  CHECK(c[0].token68 == "abc123");

  // A lone "name=" is a token68 as the grammar has it.
  c = parse_challenges("Foo bar=");
  REQUIRE(c.size() == 1);
  CHECK(c[0].token68 == "bar=");
}

TEST_CASE("schemes alone and empty elements") {
  auto c = parse_challenges("Basic");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "Basic");
  CHECK(c[0].params.empty());

  c = parse_challenges(" , ,Basic,, Digest nonce=n ,  ");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "Basic");
  CHECK(c[1].param("nonce") == "n");

  CHECK(parse_challenges("").empty());
  CHECK(parse_challenges(" \t, ,").empty());
}

TEST_CASE("a comma inside quotes does not separate and escapes are undone") {
  const auto c = parse_challenges(
      "Digest realm=\"a, b\", nonce=\"x\\\\y\\\"z\", qop=\"auth,auth-int\", Basic");
  REQUIRE(c.size() == 2);
  CHECK(c[0].param("realm") == "a, b");
  CHECK(c[0].param("nonce") == "x\\y\"z");
  CHECK(c[0].param("qop") == "auth,auth-int");
  CHECK(c[1].scheme == "Basic");
}

TEST_CASE("unquoted values may hold slashes and equals signs") {
  const auto c = parse_challenges("Digest nonce=ab/cd+ef==, realm = r:1 , algorithm=MD5");
  REQUIRE(c.size() == 1);
  CHECK(c[0].param("nonce") == "ab/cd+ef==");
  CHECK(c[0].param("realm") == "r:1");
  CHECK(c[0].param("algorithm") == "MD5");
}

TEST_CASE("an unterminated quoted-string ends the value") {
  auto c = parse_challenges("Basic realm=\"x\", Digest realm=\"open, nonce=n");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "Basic");

  c = parse_challenges("Digest realm=\"a\\");
  CHECK(c.empty());

  // While skipping a broken element, too.
  c = parse_challenges("Basic realm=x y \"unterminated, Digest nonce=n");
  CHECK(c.empty());
}

TEST_CASE("a challenge that does not parse is skipped to the next comma") {
  auto c = parse_challenges("@@@, Basic realm=\"a\"");
  REQUIRE(c.size() == 1);
  CHECK(c[0].param("realm") == "a");

  c = parse_challenges("Basic realm=\"a\" junk, Digest nonce=\"n\"");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "Digest");

  c = parse_challenges("Basic =x, Digest nonce=\"n, m\" y \"q,r\", Bearer");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "Bearer");

  c = parse_challenges("Basic;realm=x, Bearer realm=\"=\" , Foo a=\"\"");
  REQUIRE(c.size() == 2);
  CHECK(c[0].param("realm") == "=");
  CHECK(c[1].param("a") == "");
}

TEST_CASE("parse_challenges keeps at most max_auth_challenges and max_auth_params") {
  std::string many;
  for (int i = 0; i < 40; ++i)
    many.append("S").append(std::to_string(i)).append(" a=").append(std::to_string(i)).append(", ");
  auto c = parse_challenges(many);
  REQUIRE(c.size() == max_auth_challenges);
  CHECK(c.back().scheme == "S31");

  std::string params = "Digest ";
  for (int i = 0; i < 40; ++i) params.append("p").append(std::to_string(i)).append("=v, ");
  params += "nonce=last";
  c = parse_challenges(params);
  REQUIRE(c.size() == 1);
  CHECK(c[0].params.size() == max_auth_params);
  CHECK(c[0].params.back().name == "p31");
  CHECK_FALSE(c[0].param("nonce"));

  // The limit is per value: a second field adds its own.
  std::vector<auth_challenge> out;
  parse_challenges(many, out);
  parse_challenges("Basic", out);
  CHECK(out.size() == max_auth_challenges + 1);
}

TEST_CASE("the challenges of every field of that name are read in order") {
  const fields headers({"WWW-Authenticate", "Basic realm=\"a\""},
                       {"Proxy-Authenticate", "Basic realm=\"proxy\""},
                       {"www-authenticate", "Digest nonce=n, Bearer"});
  auto c = parse_challenges(headers);
  REQUIRE(c.size() == 3);
  CHECK(c[0].is("Basic"));
  CHECK(c[1].is("Digest"));
  CHECK(c[2].is("Bearer"));
  c = parse_challenges(headers, "Proxy-Authenticate");
  REQUIRE(c.size() == 1);
  CHECK(c[0].param("realm") == "proxy");
}

// ---------------------------------------------------------------------------------------
// authenticator: what goes first, and which scheme is picked

TEST_CASE("first_authorization sends Basic or a lone Bearer and waits for the rest") {
  authenticator a;
  CHECK(a.challenge_field() == "WWW-Authenticate");
  CHECK(a.authorization_field() == "Authorization");
  CHECK(a.first_authorization(credentials("Aladdin", "open sesame")) ==
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(a.picked() == auth_scheme::basic);
  // Once per run.
  CHECK_FALSE(a.first_authorization(credentials("Aladdin", "open sesame")));

  authenticator b;
  CHECK(b.first_authorization(credentials::bearer("tok.en-1")) == "Bearer tok.en-1");
  CHECK(b.picked() == auth_scheme::bearer);

  authenticator empty;
  CHECK(empty.first_authorization(credentials("", "")) == "Basic Og==");

  for (const auto& creds :
       {credentials("u", "p", auth_scheme::digest), credentials("u", "p", auth_schemes::any),
        credentials("", "", "tok", auth_scheme::basic), credentials::bearer(""),
        credentials("u", "p", "tok", auth_scheme::bearer | auth_scheme::basic)}) {
    authenticator waits;
    CHECK_FALSE(waits.first_authorization(creds));
    CHECK(waits.picked() == auth_scheme::none);
    CHECK_FALSE(waits.refused());
    CHECK_FALSE(waits.next_authorization("GET", "/"));
  }
}

TEST_CASE("a Bearer token that would end the header line is not sent") {
  authenticator a;
  CHECK_FALSE(a.first_authorization(credentials::bearer("tok\r\nX-Evil: 1")));
  CHECK(a.refused());
}

TEST_CASE("anyauth picks Digest over Basic whatever the order") {
  for (const std::string_view offered : {"Basic realm=\"r\", Digest realm=\"r\", nonce=\"n\"",
                                         "Digest realm=\"r\", nonce=\"n\", Basic realm=\"r\""}) {
    authenticator a(auth_hop::origin, "cn");
    const auto v =
        a.answer(parse_challenges(offered), "GET", "/", credentials("u", "p", auth_schemes::any));
    REQUIRE(v);
    CHECK(v->starts_with("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\""));
    CHECK(a.picked() == auth_scheme::digest);
  }
  // anysafe never falls back to Basic.
  authenticator safe;
  CHECK_FALSE(safe.answer(parse_challenges("Basic realm=r"), "GET", "/",
                          credentials("u", "p", auth_schemes::anysafe)));
  CHECK(safe.refused());
  // --anyauth with a server that offers Basic alone.
  authenticator basic;
  CHECK(basic.answer(parse_challenges("Basic realm=r"), "GET", "/",
                     credentials("Aladdin", "open sesame", auth_schemes::any)) ==
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("Bearer is picked only with a token and only when allowed") {
  const auto offered = parse_challenges("Basic realm=r, Bearer realm=r, Digest nonce=n");
  authenticator with_token;
  CHECK(with_token.answer(offered, "GET", "/",
                          credentials("u", "p", "tok", auth_schemes::any | auth_scheme::bearer)) ==
        "Bearer tok");
  CHECK(with_token.picked() == auth_scheme::bearer);

  authenticator without_token(auth_hop::origin, "cn");
  const auto v = without_token.answer(
      offered, "GET", "/", credentials("u", "p", "", auth_schemes::any | auth_scheme::bearer));
  REQUIRE(v);
  CHECK(v->starts_with("Digest "));

  // A token, but Bearer is not among the allowed schemes.
  authenticator not_allowed;
  CHECK(not_allowed.answer(parse_challenges("Bearer, Basic"), "GET", "/",
                           credentials("u", "p", "tok", auth_scheme::basic)) ==
        basic_authorization("u", "p"));

  // A token and nothing else, to a server that wants Basic.
  authenticator only_token;
  CHECK_FALSE(
      only_token.answer(parse_challenges("Basic realm=r"), "GET", "/", credentials::bearer("tok")));
  CHECK(only_token.refused());
}

TEST_CASE("a proxy hop never sends Bearer") {
  authenticator p(auth_hop::proxy);
  CHECK(p.challenge_field() == "Proxy-Authenticate");
  CHECK(p.authorization_field() == "Proxy-Authorization");
  CHECK_FALSE(p.first_authorization(credentials::bearer("tok")));

  const auto creds = credentials("u", "p", "tok", auth_scheme::bearer | auth_scheme::basic);
  const fields headers({"WWW-Authenticate", "Bearer"},
                       {"Proxy-Authenticate", "Bearer realm=proxy, Basic realm=proxy"});
  CHECK(p.answer(headers, "GET", "/", creds) == basic_authorization("u", "p"));

  authenticator bearer_only(auth_hop::proxy);
  CHECK_FALSE(bearer_only.answer(fields({"Proxy-Authenticate", "Bearer"}), "GET", "/", creds));
  CHECK(bearer_only.refused());
}

TEST_CASE("the challenges of the other hop are not answered") {
  authenticator origin;
  CHECK_FALSE(origin.answer(fields({"Proxy-Authenticate", "Basic realm=r"}), "GET", "/",
                            credentials("u", "p")));
  CHECK(origin.refused());
}

TEST_CASE("a token alone answers no Basic or Digest; an empty user does") {
  authenticator a;
  CHECK_FALSE(a.answer(parse_challenges("Digest nonce=n, Basic"), "GET", "/",
                       credentials("", "", "tok", auth_schemes::any)));
  CHECK(a.refused());

  authenticator b;
  CHECK(b.answer(parse_challenges("Basic"), "GET", "/", credentials("", "", auth_schemes::any)) ==
        "Basic Og==");
  authenticator d;
  REQUIRE(d.answer(parse_challenges("Digest nonce=n, Basic"), "GET", "/",
                   credentials("", "", auth_schemes::any)));
  CHECK(d.picked() == auth_scheme::digest);
}

TEST_CASE("Basic sent first and refused gives up") {
  authenticator a;
  const credentials creds("u", "wrong");
  REQUIRE(a.first_authorization(creds));
  CHECK_FALSE(a.answer(parse_challenges("Basic realm=r"), "GET", "/", creds));
  CHECK(a.refused());
  CHECK_FALSE(a.next_authorization("GET", "/"));
}

TEST_CASE("Basic is sent again on the following requests") {
  authenticator a;
  const credentials creds("u", "p", auth_schemes::any);
  CHECK(a.answer(parse_challenges("Basic realm=r"), "GET", "/a", creds) ==
        basic_authorization("u", "p"));
  CHECK(a.next_authorization("POST", "/b") == basic_authorization("u", "p"));
}

// ---------------------------------------------------------------------------------------
// Digest, byte for byte

TEST_CASE("Digest MD5 answers RFC 7616 section 3.9.1 byte for byte") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("MD5")) ==
        rfc_answer("MD5", "8ca523f5e9506fed4657c9700eebdbec"));
  CHECK(a.picked() == auth_scheme::digest);
}

TEST_CASE("Digest SHA-256 answers RFC 7616 section 3.9.1 byte for byte") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("SHA-256")) ==
        rfc_answer("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
}

TEST_CASE("of the RFC's two challenges the first one is answered") {
  // The RFC's 401 offers SHA-256 first, then MD5.
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  const fields headers({"WWW-Authenticate", rfc_challenge("SHA-256")},
                       {"WWW-Authenticate", rfc_challenge("MD5")});
  CHECK(a.answer(headers, "GET", rfc_uri, mufasa) ==
        rfc_answer("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
}

TEST_CASE("Digest SHA-512-256 with the RFC's request") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("SHA-512-256")) ==
        rfc_answer("SHA-512-256",
                   "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0"));
}

TEST_CASE("Digest userhash answers RFC 7616 section 3.9.2") {
  // The RFC's printed username and response are wrong (its errata): these are what its
  // inputs give, H("Jäsøn Doe:api@example.org") and the response over them.
  authenticator a(auth_hop::origin, "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v");
  const auto v = a.answer(
      parse_challenges("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                       "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                       "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", "
                       "charset=UTF-8, userhash=true"),
      "GET", "/doe.json",
      credentials("J\xC3\xA4s\xC3\xB8n Doe", "Secret, or not?", auth_scheme::digest));
  CHECK(v ==
        "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", "
        "realm=\"api@example.org\", nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
        "uri=\"/doe.json\", cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", "
        "nc=00000001, qop=auth, "
        "response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", "
        "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", algorithm=SHA-512-256, "
        "userhash=true");
}

TEST_CASE("Digest -sess hashes the nonce and cnonce into HA1") {
  authenticator md5(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(md5, rfc_challenge("MD5-sess")) ==
        rfc_answer("MD5-sess", "e783283f46242139c486a698fec7211d"));
  authenticator sha(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(sha, rfc_challenge("SHA-256-sess")) ==
        rfc_answer("SHA-256-sess",
                   "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"));
  authenticator sha512(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(sha512, rfc_challenge("SHA-512-256-sess")) ==
        rfc_answer("SHA-512-256-sess",
                   "3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e"));
}

TEST_CASE("Digest -sess without a qop cannot be answered") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK_FALSE(answer_to(a, rfc_challenge("MD5-sess", "")));
  CHECK(a.refused());
}

TEST_CASE("Digest auth-int alone hashes an empty body") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("MD5", "auth-int")) ==
        rfc_answer("MD5", "8804a53d3640a40a4f73cea12c5ba451", "auth-int"));
  authenticator sha(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(sha, rfc_challenge("SHA-256", "auth-int")) ==
        rfc_answer("SHA-256", "8bdf6f15638e260831e905028de5450562816d093c9bfc5c13d3a46adcdde940",
                   "auth-int"));
}

TEST_CASE("Digest without a qop answers in RFC 2069 form") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("MD5", "")) ==
        rfc_answer("MD5", "7b2cc3b30e75b4777ea31027084363fd", ""));
  // A qop this client does not speak is as none.
  authenticator b(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(b, rfc_challenge("MD5", "auth-conf, x")) ==
        rfc_answer("MD5", "7b2cc3b30e75b4777ea31027084363fd", ""));
  // The nonce is not counted: the following request answers the same.
  CHECK(b.next_authorization("GET", rfc_uri) ==
        rfc_answer("MD5", "7b2cc3b30e75b4777ea31027084363fd", ""));
}

TEST_CASE("Digest without an algorithm is MD5 and echoes none") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("")) == rfc_answer("", "8ca523f5e9506fed4657c9700eebdbec"));
  // The algorithm is echoed as the server wrote it.
  authenticator b(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(b, rfc_challenge("md5")) ==
        rfc_answer("md5", "8ca523f5e9506fed4657c9700eebdbec"));
}

TEST_CASE("Digest uses the method of the request") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK(answer_to(a, rfc_challenge("MD5"), mufasa, "POST") ==
        rfc_answer("MD5", "6f31d8ff6361bb27783b6ac62b999535"));
}

TEST_CASE("next_authorization counts nc up on the same nonce") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(a, rfc_challenge("MD5")));
  CHECK(a.next_authorization("GET", rfc_uri) ==
        rfc_answer("MD5", "4b5d595ecf2db9df612ea5b45cd97101", "auth", "00000002"));
  const auto third = a.next_authorization("GET", rfc_uri);
  REQUIRE(third);
  CHECK(third->find("nc=00000003") != std::string::npos);

  authenticator sha(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(sha, rfc_challenge("SHA-256")));
  CHECK(sha.next_authorization("GET", rfc_uri) ==
        rfc_answer("SHA-256", "8c8db27f49ff1c202f9fb49fa9d2e9eabf078dcc93db40dfd6527010091d1c8e",
                   "auth", "00000002"));
}

TEST_CASE("a stale nonce is answered once with the new nonce") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(a, rfc_challenge("MD5")));
  const auto stale = rfc_challenge("MD5", "auth", "newnonce") + ", stale=TRUE";
  CHECK(answer_to(a, stale) ==
        rfc_answer("MD5", "a27a328cb6c8a65d2dffb582c5fe99d7", "auth", "00000001", "newnonce"));
  CHECK_FALSE(a.refused());
  // A second stale refusal of the same request: given up.
  CHECK_FALSE(answer_to(a, stale));
  CHECK(a.refused());
  CHECK_FALSE(a.next_authorization("GET", rfc_uri));
}

TEST_CASE("a stale nonce on a following request is answered again") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(a, rfc_challenge("MD5")));
  REQUIRE(a.next_authorization("GET", rfc_uri));
  const auto stale = rfc_challenge("MD5", "auth", "newnonce") + ", stale=true";
  CHECK(answer_to(a, stale) ==
        rfc_answer("MD5", "a27a328cb6c8a65d2dffb582c5fe99d7", "auth", "00000001", "newnonce"));
  REQUIRE(a.next_authorization("GET", rfc_uri));
  CHECK(answer_to(a, rfc_challenge("MD5", "auth", "third") + ", stale=true"));
  CHECK_FALSE(a.refused());
}

TEST_CASE("a Digest answer refused without stale gives up") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(a, rfc_challenge("MD5")));
  CHECK_FALSE(answer_to(a, rfc_challenge("MD5", "auth", "other")));
  CHECK(a.refused());
  CHECK_FALSE(answer_to(a, rfc_challenge("MD5")));
  CHECK_FALSE(a.next_authorization("GET", rfc_uri));

  // stale=false is no reason to try again either.
  authenticator b(auth_hop::origin, std::string(rfc_cnonce));
  REQUIRE(answer_to(b, rfc_challenge("MD5")));
  CHECK_FALSE(answer_to(b, rfc_challenge("MD5") + ", stale=false"));
}

TEST_CASE("an unknown Digest algorithm is passed over for a later usable challenge") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  const fields headers({"WWW-Authenticate", rfc_challenge("SHA-1", "auth", "unused")},
                       {"WWW-Authenticate", rfc_challenge("MD5")});
  CHECK(a.answer(headers, "GET", rfc_uri, mufasa) ==
        rfc_answer("MD5", "8ca523f5e9506fed4657c9700eebdbec"));

  authenticator only_unknown(auth_hop::origin, std::string(rfc_cnonce));
  CHECK_FALSE(answer_to(only_unknown, rfc_challenge("SHA-1")));
  CHECK(only_unknown.refused());

  // Nor is an unusable Digest challenge a reason to fall back to Basic.
  authenticator no_basic(auth_hop::origin, std::string(rfc_cnonce));
  CHECK_FALSE(no_basic.answer(parse_challenges(rfc_challenge("SHA-1") + ", Basic realm=r"), "GET",
                              "/", credentials("u", "p", auth_schemes::any)));
}

TEST_CASE("a Digest challenge without a nonce cannot be answered") {
  authenticator a(auth_hop::origin, std::string(rfc_cnonce));
  CHECK_FALSE(answer_to(a, "Digest realm=\"r\", qop=\"auth\""));
  CHECK(a.refused());
}

TEST_CASE("Digest quotes what the user and the server gave") {
  // '"' and '\\' escaped; CR, LF, DEL and bytes above 0x7e as %XX: nothing can end the line.
  auth_challenge c;
  c.scheme = "Digest";
  c.params = {auth_param("realm", "r\r\nX: \x7f\xC3\xA4"), auth_param("nonce", "n\"1"),
              auth_param("qop", "auth")};
  authenticator a(auth_hop::origin, "cn");
  const auto v = a.answer(std::vector<auth_challenge>{c}, "GET", "/q\"",
                          credentials("a\"b\\c", "pw", auth_scheme::digest));
  CHECK(v ==
        "Digest username=\"a\\\"b\\\\c\", realm=\"r%0D%0AX: %7F%C3%A4\", nonce=\"n\\\"1\", "
        "uri=\"/q\\\"\", cnonce=\"cn\", nc=00000001, qop=auth, "
        "response=\"7ee876163a37973271de6d49737d0be6\"");
}

TEST_CASE("a random cnonce is 12 bytes in base64 and new for each authenticator") {
  authenticator a, b;
  const auto va = answer_to(a, rfc_challenge("MD5"));
  const auto vb = answer_to(b, rfc_challenge("MD5"));
  REQUIRE(va);
  REQUIRE(vb);
  const auto cnonce = [](const std::string& v) {
    const auto at = v.find("cnonce=\"") + 8;
    return v.substr(at, v.find('"', at) - at);
  };
  CHECK(cnonce(*va).size() == 16);
  CHECK(cnonce(*va) != cnonce(*vb));
}

// ---------------------------------------------------------------------------------------
// NTLM, with MS-NLMP §4.2's values: user "User", domain "Domain", password "Password",
// the server's challenge 0123456789abcdef, the client's aaaaaaaaaaaaaaaa.

namespace {

namespace ntlm = opensock::detail::ntlm;

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
  return out;
}

std::uint32_t le32(std::string_view m, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= std::uint32_t(static_cast<unsigned char>(m[at + i])) << (8 * i);
  return v;
}

// The bytes of the security buffer at `at` of an NTLM message.
std::string_view ntlm_field(std::string_view m, std::size_t at) {
  const std::size_t length = le32(m, at) & 0xffff;
  return m.substr(le32(m, at + 4), length);
}

// A type-2 message with `flags`, MS-NLMP's server challenge and `target_info`.
std::string ntlm_type2(std::uint32_t flags, std::string_view target_info = {}) {
  std::string m("NTLMSSP\0\x02\0\0\0\0\0\0\0\x30\0\0\0", 20);
  for (int i = 0; i < 4; ++i) m += static_cast<char>(flags >> (8 * i));
  m += unhex("0123456789abcdef");
  m.append(8, '\0');
  const auto n = target_info.size();
  m += std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n),
                   static_cast<char>(n >> 8), 0x30, 0, 0, 0};
  return m.append(target_info);
}

std::string ntlm_header(std::string_view message) {
  return "NTLM " + opensock::detail::base64(message);
}

}  // namespace

TEST_CASE("NTLM's negotiate message carries curl's flags and nothing more") {
  CHECK(opensock::detail::base64(ntlm::negotiate_message()) ==
        "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=");
}

TEST_CASE("NTLMv1 answers MS-NLMP section 4.2.2 byte for byte") {
  const auto challenge = ntlm::read_challenge(ntlm_type2(0x00008201));
  REQUIRE(challenge);
  std::error_code ec = opensock::error::failed_init;
  const auto m = ntlm::answer(*challenge, "Domain\\User", "Password", ec);
  REQUIRE(m);
  CHECK(!ec);
  CHECK(m->substr(0, 12) == std::string_view("NTLMSSP\0\x03\0\0\0", 12));
  CHECK(hex(ntlm_field(*m, 12)) == "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13");
  CHECK(hex(ntlm_field(*m, 20)) == "67c43011f30298a2ad35ece64f16331c44bdbed927841f94");
  // The challenge asked for Unicode: the names are UTF-16LE, the host curl's own.
  CHECK(ntlm_field(*m, 28) == std::string_view("D\0o\0m\0a\0i\0n\0", 12));
  CHECK(ntlm_field(*m, 36) == std::string_view("U\0s\0e\0r\0", 8));
  CHECK(ntlm_field(*m, 44).size() == 22);
  CHECK(le32(*m, 60) == 0x00008201);
  // Without Unicode, the names as they are; a slash names the domain too.
  const auto oem = ntlm::answer(*ntlm::read_challenge(ntlm_type2(0x00008200)), "Domain/User",
                                "Password", ec);
  REQUIRE(oem);
  CHECK(ntlm_field(*oem, 28) == "Domain");
  CHECK(ntlm_field(*oem, 36) == "User");
  CHECK(ntlm_field(*oem, 44) == "WORKSTATION");
}

TEST_CASE("NTLMv2 answers MS-NLMP section 4.2.4 when the NTLM2 key is offered") {
  const std::string target_info("\x02\0\x0c\0D\0o\0m\0a\0i\0n\0\0\0\0\0", 20);
  const auto challenge = ntlm::read_challenge(ntlm_type2(0x00888201, target_info));
  REQUIRE(challenge);
  CHECK(challenge->target_info == target_info);
  ntlm::answer_inputs inputs;
  inputs.client_nonce.emplace();
  inputs.client_nonce->fill(0xaa);
  inputs.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  std::error_code ec;
  const auto m = ntlm::answer(*challenge, "Domain\\User", "Password", ec, inputs);
  REQUIRE(m);
  CHECK(hex(ntlm_field(*m, 12)) == "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
  // The NT response: the proof, then the blob with the time, the client's nonce and the
  // target information; the proof is HMAC-MD5 under MS-NLMP's NTOWFv2.
  const auto nt = ntlm_field(*m, 20);
  REQUIRE(nt.size() == 16 + 28 + target_info.size() + 4);
  const auto blob = nt.substr(16);
  CHECK(hex(blob.substr(0, 8)) == "0101000000000000");
  const std::uint64_t filetime = (1700000000ull + 11644473600ull) * 10000000ull;
  CHECK(le32(blob, 8) == static_cast<std::uint32_t>(filetime));
  CHECK(le32(blob, 12) == static_cast<std::uint32_t>(filetime >> 32));
  CHECK(hex(blob.substr(16, 8)) == "aaaaaaaaaaaaaaaa");
  CHECK(blob.substr(28, target_info.size()) == target_info);
  const std::string key = unhex("0c868a403bfd7a93a3001ef22ef02e3f");
  const std::string signed_part = unhex("0123456789abcdef") + std::string(blob);
  unsigned char proof[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), proof,
       &size);
  CHECK(nt.substr(0, 16) == std::string_view(reinterpret_cast<const char*>(proof), size));
}

TEST_CASE("a type-2 message that is not one, or points outside itself, is not read") {
  CHECK_FALSE(ntlm::read_challenge(""));
  CHECK_FALSE(ntlm::read_challenge(ntlm_type2(0x00008201).substr(0, 31)));
  std::string wrong_type = ntlm_type2(0x00008201);
  wrong_type[8] = 3;
  CHECK_FALSE(ntlm::read_challenge(wrong_type));
  std::string wrong_signature = ntlm_type2(0x00008201);
  wrong_signature[0] = 'X';
  CHECK_FALSE(ntlm::read_challenge(wrong_signature));
  // Target information past the end, or inside the header.
  std::string past_end = ntlm_type2(0x00800201, "abcd");
  past_end[40] = 5;
  CHECK_FALSE(ntlm::read_challenge(past_end));
  std::string in_header = ntlm_type2(0x00800201, "abcd");
  in_header[44] = 40;
  CHECK_FALSE(ntlm::read_challenge(in_header));
  // Without the flag, the target information is not read at all.
  const auto ignored = ntlm::read_challenge(past_end.replace(22, 1, 1, '\0'));
  REQUIRE(ignored);
  CHECK(ignored->target_info.empty());
}

TEST_CASE("an authenticator runs NTLM's handshake and gives up on a second refusal") {
  const credentials creds("Domain\\User", "Password", auth_scheme::ntlm);
  authenticator a;
  const auto first = a.first_authorization(creds);
  REQUIRE(first);
  CHECK(*first == ntlm_header(ntlm::negotiate_message()));
  CHECK(a.picked() == auth_scheme::ntlm);
  CHECK(a.probes_first(creds));  // a body waits for the challenge
  CHECK(a.binds_connection());
  CHECK_FALSE(a.authenticates_connection());
  const auto answer =
      a.answer(parse_challenges(ntlm_header(ntlm_type2(0x00008201))), "GET", "/", creds);
  REQUIRE(answer);
  CHECK(answer->starts_with("NTLM TlRMTVNTUAADAAAA"));
  CHECK_FALSE(a.probes_first(creds));
  CHECK(a.authenticates_connection());
  CHECK_FALSE(a.answer(parse_challenges("NTLM"), "GET", "/", creds));
  CHECK(a.refused());
  CHECK_FALSE(a.error());

  // A challenge that does not decode ends it.
  authenticator b;
  REQUIRE(b.first_authorization(creds));
  CHECK_FALSE(b.answer(parse_challenges("NTLM bm90IE5UTE0="), "GET", "/", creds));
  CHECK(b.refused());
}

TEST_CASE("anyauth picks NTLM over Basic and under Digest") {
  const credentials creds("u", "p", auth_schemes::any);
  authenticator a;
  CHECK_FALSE(a.first_authorization(creds));
  const auto negotiate =
      a.answer(parse_challenges("Basic realm=\"r\", NTLM"), "GET", "/", creds);
  REQUIRE(negotiate);
  CHECK(*negotiate == ntlm_header(ntlm::negotiate_message()));
  REQUIRE(a.answer(parse_challenges(ntlm_header(ntlm_type2(0x00008201))), "GET", "/", creds));
  authenticator b;
  const auto digest = b.answer(parse_challenges("NTLM, " + rfc_challenge("MD5")), "GET", "/",
                               creds);
  REQUIRE(digest);
  CHECK(digest->starts_with("Digest "));
  // anysafe has NTLM.
  authenticator c;
  CHECK(c.answer(parse_challenges("NTLM"), "GET", "/",
                 credentials("u", "p", auth_schemes::anysafe)));
}

TEST_CASE("an NTLM answer whose names do not fit is curl's 100") {
  const credentials creds(std::string(1100, 'A'), "p", auth_scheme::ntlm);
  authenticator a;
  REQUIRE(a.first_authorization(creds));
  CHECK_FALSE(a.answer(parse_challenges(ntlm_header(ntlm_type2(0x00008201))), "GET", "/", creds));
  CHECK(a.refused());
  CHECK(a.error() == opensock::error::ntlm_message_too_large);
  CHECK(opensock::curl_code(a.error()) == 100);
}

// ---------------------------------------------------------------------------------------
// netrc

TEST_CASE("netrc: the first matching machine gives its login and password") {
  const std::string_view text =
      "machine example.com login alice password secret\n"
      "machine other.test login bob password pw2\n"
      "machine example.com login carol password later\n"
      "default login anon password guest\n";
  CHECK(find_netrc(text, "example.com") == netrc_entry("alice", "secret"));
  CHECK(find_netrc(text, "EXAMPLE.Com") == netrc_entry("alice", "secret"));
  CHECK(find_netrc(text, "other.test") == netrc_entry("bob", "pw2"));
  CHECK(find_netrc(text, "unknown.test") == netrc_entry("anon", "guest"));
  CHECK(find_netrc(text, "example.co") == netrc_entry("anon", "guest"));
  // A login asked for passes over the entries of other logins.
  CHECK(find_netrc(text, "example.com", "carol") == netrc_entry("carol", "later"));
  CHECK(find_netrc(text, "example.com", "anon") == netrc_entry("anon", "guest"));
  CHECK_FALSE(find_netrc(text, "example.com", "dave"));
  CHECK_FALSE(find_netrc(text, "example.com", "ALICE"));
  // Without a default, an unknown host finds nothing.
  CHECK_FALSE(find_netrc("machine a login b password c", "z"));
  CHECK_FALSE(find_netrc("", "z"));
}

TEST_CASE("netrc: an entry counts only with something to give") {
  // Without a login asked for: a login alone, or a password alone, is enough.
  CHECK(find_netrc("machine h login only\n", "h") == netrc_entry("only", ""));
  CHECK(find_netrc("machine h password only\n", "h") == netrc_entry("", "only"));
  CHECK_FALSE(find_netrc("machine h\nmachine i login x password y\n", "h"));
  CHECK(find_netrc("machine h\ndefault login d password e\n", "h") == netrc_entry("d", "e"));
  // With a login asked for: that login counts only with a password, and an entry
  // without a login gives its password to the login asked for.
  CHECK_FALSE(find_netrc("machine h login me\n", "h", "me"));
  CHECK(find_netrc("machine h login me\nmachine h login me password two\n", "h", "me") ==
        netrc_entry("me", "two"));
  CHECK(find_netrc("machine h password pw\n", "h", "me") == netrc_entry("me", "pw"));
  CHECK(find_netrc("machine h login other password x\nmachine h password pw\n", "h", "me") ==
        netrc_entry("me", "pw"));
}

TEST_CASE("netrc: keywords may share lines or spread over many") {
  CHECK(find_netrc("machine\nh\n\n  login\tu\n password\n\n p\n", "h") == netrc_entry("u", "p"));
  CHECK(find_netrc("MACHINE h LOGIN u PASSWORD p", "h") == netrc_entry("u", "p"));
  // The order of login and password, and account, do not matter.
  CHECK(find_netrc("machine h password p account acct login u", "h") == netrc_entry("u", "p"));
  // Words of no meaning are passed over.
  CHECK(find_netrc("machine h port 21 login u password p", "h") == netrc_entry("u", "p"));
  // A keyword's value may look like a keyword.
  CHECK(find_netrc("machine h login password password login", "h") ==
        netrc_entry("password", "login"));
  CHECK(find_netrc("machine default login u password p", "default") == netrc_entry("u", "p"));
  // CRLF line ends.
  CHECK(find_netrc("machine h\r\nlogin u\r\npassword p\r\n", "h") == netrc_entry("u", "p"));
}

TEST_CASE("netrc: a default before a machine takes every host") {
  const std::string_view text = "default login d password e\nmachine h login u password p\n";
  CHECK(find_netrc(text, "h") == netrc_entry("d", "e"));
  CHECK(find_netrc(text, "h", "u") == netrc_entry("u", "p"));
}

TEST_CASE("netrc: macdef skips to the next empty line") {
  const std::string_view text =
      "macdef init\n"
      "machine h login evil password evil\n"
      "cd /pub\n"
      "\n"
      "machine h login u password p\n";
  CHECK(find_netrc(text, "h") == netrc_entry("u", "p"));
  // A macdef ends the entry before it.
  CHECK(find_netrc("machine h login u password p macdef x\nmachine h login v\n\n", "h") ==
        netrc_entry("u", "p"));
  // A macro to the end of the file.
  CHECK_FALSE(find_netrc("macdef x\nmachine h login u password p\n", "h"));
  // A line of blanks is empty, once blanks are dropped.
  CHECK(find_netrc("macdef x\nbody\n \t\nmachine h login u password p\n", "h") ==
        netrc_entry("u", "p"));
}

TEST_CASE("netrc: quoted tokens take blanks and escapes") {
  CHECK(find_netrc("machine h login \"a b\" password \"p\\\"q\\\\r\\n\\t\\r\\x\"", "h") ==
        netrc_entry("a b", "p\"q\\r\n\t\rx"));
  CHECK(find_netrc("machine \"h\" login \"\" password \"#not a comment\"", "h") ==
        netrc_entry("", "#not a comment"));
  // A quote inside an unquoted token is part of it.
  CHECK(find_netrc("machine h login a\"b password p", "h") == netrc_entry("a\"b", "p"));
}

TEST_CASE("netrc: comment lines are left out") {
  const std::string_view text =
      "# machine h login evil password evil\n"
      "   \t# machine h login evil2 password evil2\n"
      "machine h\n"
      "# login evil3\n"
      "login u password p\n";
  CHECK(find_netrc(text, "h") == netrc_entry("u", "p"));
  // A '#' later on a line is no comment: its words are passed over.
  CHECK(find_netrc("machine h login u # note\npassword p", "h") == netrc_entry("u", "p"));
}

TEST_CASE("netrc: text that does not parse is a read error") {
  for (const std::string_view bad :
       {"machine h login \"unterminated", "machine h password \"a\\", "machine \"h"}) {
    INFO(bad);
    std::error_code ec;
    CHECK_FALSE(find_netrc(bad, "h", "", ec));
    CHECK(ec == opensock::error::read_error);
    CHECK_FALSE(find_netrc(bad, "h"));
  }
  // An entry matched before the error is not given.
  std::error_code ec;
  CHECK_FALSE(find_netrc("machine h login u password \"p", "h", "", ec));
  CHECK(ec == opensock::error::read_error);
  // A good text clears the code.
  CHECK(find_netrc("machine h login u", "h", "", ec));
  CHECK_FALSE(ec);
}

TEST_CASE("netrc: tokens lines and files over the limits do not parse") {
  std::error_code ec;
  const std::string longest(opensock::netrc_max_token - 1, 'x');
  const std::string too_long(opensock::netrc_max_token, 'x');
  CHECK(find_netrc("machine h login " + longest, "h", "", ec) == netrc_entry(longest, ""));
  CHECK_FALSE(ec);
  CHECK_FALSE(find_netrc("machine h login " + too_long, "h", "", ec));
  CHECK(ec == opensock::error::read_error);
  CHECK(find_netrc("machine h login \"" + longest + "\"", "h", "", ec) == netrc_entry(longest, ""));
  CHECK_FALSE(ec);
  CHECK_FALSE(find_netrc("machine h login \"" + too_long + "\"", "h", "", ec));
  CHECK(ec == opensock::error::read_error);
  // Any token, not only a value.
  CHECK_FALSE(find_netrc("machine h login u " + too_long, "h", "", ec));
  CHECK(ec == opensock::error::read_error);

  const std::string long_line(opensock::netrc_max_line, ' ');
  CHECK_FALSE(find_netrc("machine h login u\n" + long_line + "\n", "h", "", ec));
  CHECK(ec == opensock::error::read_error);

  // The file's limit counts what comment lines leave.
  std::string comments;
  while (comments.size() < 2 * opensock::netrc_max_file) comments += "# " + longest + "\n";
  CHECK(find_netrc(comments + "machine h login u", "h", "", ec) == netrc_entry("u", ""));
  CHECK_FALSE(ec);
  std::string entries;
  while (entries.size() < opensock::netrc_max_file) entries += "machine x login " + longest + "\n";
  CHECK_FALSE(find_netrc(entries + "machine h login u", "h", "", ec));
  CHECK(ec == opensock::error::read_error);
}

TEST_CASE("netrc: bytes from a NUL to the line's end are dropped") {
  using namespace std::string_literals;
  CHECK(find_netrc("machine h login u\0 password evil\npassword p"s, "h") == netrc_entry("u", "p"));
}

namespace {

// A directory of its own under the temporary one, removed with its files at the end.
class scratch_dir {
 public:
  scratch_dir()
      : path_(std::filesystem::temp_directory_path() /
              ("opensock-test-auth-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// An environment variable set or unset for a scope, as it was after.
class env_override {
 public:
  env_override(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~env_override() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  env_override(const env_override&) = delete;
  env_override& operator=(const env_override&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("netrc files: found read and refused") {
  scratch_dir dir;
  const auto file = dir.write("netrc", "machine h login u password p\n");
  std::error_code ec;
  CHECK(opensock::find_netrc_file(file, "h", "", ec) == netrc_entry("u", "p"));
  CHECK_FALSE(ec);
  CHECK_FALSE(opensock::find_netrc_file(file, "other", "", ec));
  CHECK_FALSE(ec);

  CHECK_FALSE(opensock::find_netrc_file(dir.path() / "missing", "h", "", ec));
  CHECK(ec == opensock::error::read_error);
  CHECK_FALSE(opensock::find_netrc_file(dir.path(), "h", "", ec));
  CHECK(ec == opensock::error::read_error);

  const auto bad = dir.write("bad", "machine h login \"u\n");
  CHECK_FALSE(opensock::find_netrc_file(bad, "h", "", ec));
  CHECK(ec == opensock::error::read_error);

  // A file too large to be read, whatever it holds.
  std::string huge;
  while (huge.size() <= 17 * opensock::netrc_max_file) huge += "# comment line\n";
  const auto large = dir.write("large", huge + "machine h login u password p\n");
  CHECK_FALSE(opensock::find_netrc_file(large, "h", "", ec));
  CHECK(ec == opensock::error::read_error);
}

TEST_CASE("netrc files: the default path comes from NETRC then HOME") {
  scratch_dir dir;
  const auto file = dir.write("my-netrc", "machine h login from-netrc password p\n");
  dir.write(".netrc", "machine h login from-home password p\n");
  {
    env_override netrc("NETRC", file.c_str());
    env_override home("HOME", dir.path().c_str());
    CHECK(opensock::default_netrc_path() == file);
    std::error_code ec;
    CHECK(opensock::find_default_netrc("h", "", ec) == netrc_entry("from-netrc", "p"));
    CHECK_FALSE(ec);
  }
  {
    env_override netrc("NETRC", "");
    env_override home("HOME", dir.path().c_str());
    CHECK(opensock::default_netrc_path() == dir.path() / ".netrc");
    std::error_code ec;
    CHECK(opensock::find_default_netrc("h", "", ec) == netrc_entry("from-home", "p"));
  }
  {
    env_override netrc("NETRC", nullptr);
    env_override home("HOME", (dir.path() / "nowhere").c_str());
    std::error_code ec;
    CHECK_FALSE(opensock::find_default_netrc("h", "", ec));
    CHECK(ec == opensock::error::read_error);
  }
  {
    // Without HOME, the effective user's home directory.
    env_override netrc("NETRC", nullptr);
    env_override home("HOME", nullptr);
    const passwd* pw = ::getpwuid(::geteuid());
    if (pw && pw->pw_dir && *pw->pw_dir)
      CHECK(opensock::default_netrc_path() == std::filesystem::path(pw->pw_dir) / ".netrc");
    else
      CHECK_FALSE(opensock::default_netrc_path());
  }
}

// ---------------------------------------------------------------------------------------
// Against tests/peers/digest-server, which recomputes every answer; tests/CMakeLists.txt
// names it with OPENSOCK_DIGEST_SERVER.

#if defined(OPENSOCK_DIGEST_SERVER)
namespace {

struct reply {
  int status = 0;
  fields headers;
  std::string body;
};

// One kept-alive HTTP/1.1 connection, written and read a whole message at a time: the
// server answers with Content-Length, so nothing more of HTTP is needed here.
class http_connection {
 public:
  explicit http_connection(std::uint16_t port) {
    socket_.connect({asio::ip::address_v4::loopback(), port});
  }

  reply request(std::string_view method, std::string_view target,
                const std::optional<std::string>& authorization) {
    std::string message;
    message.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    message += "Host: 127.0.0.1\r\n";
    if (authorization) message.append("Authorization: ").append(*authorization).append("\r\n");
    message += "Content-Length: 0\r\n\r\n";
    asio::write(socket_, asio::buffer(message));
    ++requests_;

    asio::read_until(socket_, buffer_, "\r\n\r\n");
    std::istream in(&buffer_);
    std::string line;
    std::getline(in, line);
    reply r;
    r.status = std::stoi(line.substr(9, 3));
    std::size_t length = 0;
    while (std::getline(in, line) && line != "\r") {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.add(line.substr(0, colon), value);
      if (iequals(line.substr(0, colon), "Content-Length")) length = std::stoul(value);
    }
    if (buffer_.size() < length)
      asio::read(socket_, buffer_, asio::transfer_exactly(length - buffer_.size()));
    r.body.resize(length);
    in.read(r.body.data(), static_cast<std::streamsize>(length));
    return r;
  }

  int requests() const { return requests_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  asio::streambuf buffer_;
  int requests_ = 0;
};

// A request as a client runs it: what goes first (the first request of the run) or again
// (a following one), then the answers to 401s until the authenticator gives up.
reply run(http_connection& c, authenticator& a, const credentials& creds, std::string_view target,
          bool first = true) {
  auto authorization = first ? a.first_authorization(creds) : a.next_authorization("GET", target);
  while (true) {
    auto r = c.request("GET", target, authorization);
    if (r.status != 401) return r;
    authorization = a.answer(r.headers, "GET", target, creds);
    if (!authorization) return r;
  }
}

std::optional<opensock::test::proxy_peer> start_digest_server() {
  const std::filesystem::path script = OPENSOCK_DIGEST_SERVER;
  if (!std::filesystem::exists(script)) {
    WARN(script << " is not found: test not run");
    return std::nullopt;
  }
  const auto port = opensock::test::proxy_peer::free_port();
  return opensock::test::proxy_peer::start_or_warn(
      "/usr/bin/python3", {"python3", script.string(), "--port", std::to_string(port)}, port);
}

const credentials server_user("opensock", "Circle of Life", auth_schemes::any);

}  // namespace

TEST_CASE("digest-server: every Digest variant is accepted and nc counts on") {
  auto server = start_digest_server();
  if (!server) return;
  http_connection c(server->port());
  const std::pair<std::string_view, std::string_view> paths[] = {
      {"/md5/", "algorithm=MD5 qop=auth "},
      {"/sha256/", "algorithm=SHA-256 qop=auth "},
      {"/sha512-256/", "algorithm=SHA-512-256 qop=auth "},
      {"/md5-sess/", "algorithm=MD5-sess qop=auth "},
      {"/sha256-sess/", "algorithm=SHA-256-sess qop=auth "},
      {"/auth-int/", "algorithm=MD5 qop=auth-int "},
      {"/no-qop/", "algorithm=MD5 qop=- "},
      {"/userhash/", "algorithm=SHA-256 qop=auth "},
      {"/unknown-first/", "algorithm=MD5 qop=auth "},
      {"/anyauth/", "algorithm=MD5 qop=auth "},
  };
  for (const auto& [path, expected] : paths) {
    INFO(path);
    authenticator a;
    const int before = c.requests();
    auto r = run(c, a, server_user, std::string(path) + "a");
    CHECK(r.status == 200);
    CHECK(r.body.starts_with("user=opensock scheme=Digest "));
    CHECK(r.body.find(expected) != std::string::npos);
    CHECK(c.requests() - before == 2);
    CHECK(a.picked() == auth_scheme::digest);

    // The run's next request goes with the nonce again: no 401 first.
    r = run(c, a, server_user, std::string(path) + "b", false);
    CHECK(r.status == 200);
    CHECK(c.requests() - before == 3);
    if (path != "/no-qop/") CHECK(r.body.find("nc=00000002") != std::string::npos);
  }
}

TEST_CASE("digest-server: a stale nonce is answered with the new one") {
  auto server = start_digest_server();
  if (!server) return;
  http_connection c(server->port());
  authenticator a;
  const auto r = run(c, a, server_user, "/stale/");
  CHECK(r.status == 200);
  CHECK(r.body.find("nc=00000001") != std::string::npos);
  CHECK(c.requests() == 3);
  CHECK_FALSE(a.refused());
}

TEST_CASE("digest-server: Basic and Bearer") {
  auto server = start_digest_server();
  if (!server) return;
  http_connection c(server->port());
  authenticator basic;
  auto r = run(c, basic, credentials("opensock", "Circle of Life"), "/basic/");
  CHECK(r.status == 200);
  CHECK(r.body == "user=opensock scheme=Basic\n");
  CHECK(c.requests() == 1);

  authenticator any;
  r = run(c, any, server_user, "/basic/");
  CHECK(r.status == 200);
  CHECK(any.picked() == auth_scheme::basic);

  authenticator bearer;
  r = run(c, bearer, credentials::bearer("opensock-token"), "/bearer/");
  CHECK(r.status == 200);
  CHECK(r.body == "user=(token) scheme=Bearer\n");
}

TEST_CASE("digest-server: wrong credentials are refused once and given up") {
  auto server = start_digest_server();
  if (!server) return;
  http_connection c(server->port());
  for (const std::string_view path : {"/md5/", "/sha256-sess/", "/no-qop/", "/stale/"}) {
    INFO(path);
    authenticator a;
    const int before = c.requests();
    const auto r = run(c, a, credentials("opensock", "wrong", auth_scheme::digest), path);
    CHECK(r.status == 401);
    CHECK(a.refused());
    CHECK(c.requests() - before == 2);
  }
  authenticator basic;
  CHECK(run(c, basic, credentials("opensock", "wrong"), "/basic/").status == 401);
  CHECK(basic.refused());
  authenticator bearer;
  CHECK(run(c, bearer, credentials::bearer("wrong"), "/bearer/").status == 401);
  CHECK(bearer.refused());
}

// ---------------------------------------------------------------------------------------
// A session's requests with credentials, against the same server.

namespace {

struct counted_request {
  std::error_code ec;
  response r;
  int heads = 0;  // requests written
  std::string first_head;
  std::string last_head;
  std::string streamed;  // what a function sink was given
};

counted_request run_request(asio::io_context& io, session<>& s, request req,
                            bool to_sink = false) {
  counted_request out;
  transfer_hooks hooks;
  hooks.on_request_head = [&out](std::string_view head) {
    if (++out.heads == 1) out.first_head = std::string(head);
    out.last_head = std::string(head);
  };
  if (to_sink)
    hooks.on_body = [&out](std::string_view piece) {
      out.streamed += piece;
      return true;
    };
  std::tie(out.ec, out.r) = opensock::test::request(io, s, std::move(req), std::move(hooks));
  return out;
}

request with_credentials(const std::string& url, credentials creds) {
  auto req = opensock::test::make_request("GET", url);
  req.credentials = std::move(creds);
  return req;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

TEST_CASE("a session answers a 401 with the scheme its credentials allow") {
  auto server = start_digest_server();
  if (!server) return;
  asio::io_context io;
  session<> s(io.get_executor());
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());
  const credentials digest("opensock", "Circle of Life", auth_scheme::digest);

  SECTION("Digest: the 401 is read and dropped and the request sent again") {
    for (const bool to_sink : {false, true}) {
      auto got = run_request(io, s, with_credentials(base + "/md5/", digest), to_sink);
      REQUIRE(!got.ec);
      CHECK(got.r.status == 200);
      CHECK(got.heads == 2);
      CHECK(got.last_head.find("Authorization: Digest username=\"opensock\"") !=
            std::string::npos);
      const std::string& body = to_sink ? got.streamed : got.r.body;
      CHECK(starts_with(body, "user=opensock scheme=Digest algorithm=MD5 qop=auth"));
      CHECK((to_sink ? got.r.body : got.streamed).empty());
    }
  }
  SECTION("every Digest algorithm, and a stale nonce") {
    for (const std::string path : {"/sha256/", "/md5-sess/", "/sha256-sess/", "/no-qop/",
                                   "/userhash/", "/sha512-256/"}) {
      CAPTURE(path);
      auto got = run_request(io, s, with_credentials(base + path, digest));
      CHECK(got.r.status == 200);
      CHECK(got.heads == 2);
    }
    auto got = run_request(io, s, with_credentials(base + "/stale/", digest));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 3);
  }
  SECTION("Digest alone: a body goes first as a probe without it, then with the answer") {
    auto req = with_credentials(base + "/md5/", digest);
    req.method = "POST";
    req.body = std::string("a body");
    req.headers.add("Content-Length", "6");
    req.headers.add("Expect", "100-continue");
    auto got = run_request(io, s, std::move(req));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 2);
    CHECK(got.first_head.find("Content-Length: 0\r\n") != std::string::npos);
    CHECK(got.first_head.find("Expect") == std::string::npos);
    CHECK(got.first_head.find("Authorization") == std::string::npos);
    CHECK(got.last_head.find("Content-Length: 6\r\nExpect: 100-continue\r\n") !=
          std::string::npos);
    // A body with Basic allowed too goes whole at once.
    req = with_credentials(base + "/anyauth/",
                           credentials("opensock", "Circle of Life", auth_schemes::any));
    req.method = "POST";
    req.body = std::string("a body");
    got = run_request(io, s, std::move(req));
    CHECK(got.r.status == 200);
    CHECK(got.first_head.find("Content-Length: 6\r\n") != std::string::npos);
  }
  SECTION("a probe the server answers with success goes again whole without credentials") {
    for (const bool to_sink : {false, true}) {
      auto req = with_credentials(base + "/open/", digest);
      req.method = "PUT";
      // A producer cannot be rewound: a probe leaves it unread.
      req.body = request_body::producer(
          [sent = false](asio::mutable_buffer into) mutable -> asio::awaitable<std::size_t> {
            if (std::exchange(sent, true)) co_return 0;
            co_return asio::buffer_copy(into, asio::buffer("streamed", 8));
          },
          8);
      auto got = run_request(io, s, std::move(req), to_sink);
      REQUIRE(!got.ec);
      CHECK(got.r.status == 200);
      CHECK(got.heads == 2);
      CHECK(got.first_head.find("Content-Length: 0\r\n") != std::string::npos);
      CHECK(got.last_head.find("Content-Length: 8\r\n") != std::string::npos);
      CHECK(got.last_head.find("Authorization") == std::string::npos);
      // The probe's answer is dropped: the body is the second request's.
      CHECK(starts_with(to_sink ? got.streamed : got.r.body, "open body=8 request="));
    }
  }
  SECTION("anyauth picks Digest over Basic") {
    auto got = run_request(io, s,
                           with_credentials(base + "/anyauth/",
                                            credentials("opensock", "Circle of Life",
                                                        auth_schemes::any)));
    CHECK(got.r.status == 200);
    CHECK(starts_with(got.r.body, "user=opensock scheme=Digest"));
  }
  SECTION("Basic and Bearer go with the first request") {
    auto got = run_request(io, s,
                           with_credentials(base + "/basic/",
                                            credentials("opensock", "Circle of Life")));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 1);
    CHECK(starts_with(got.r.body, "user=opensock scheme=Basic"));
    got = run_request(io, s, with_credentials(base + "/bearer/",
                                              credentials::bearer("opensock-token")));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 1);
  }
  SECTION("the URL's userinfo is Basic, percent-decoded") {
    auto got = run_request(
        io, s,
        opensock::test::make_request(
            "GET", "http://opensock:Circle%20of%20Life@127.0.0.1:" +
                       std::to_string(server->port()) + "/basic/"));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 1);
    CHECK(got.last_head.find("opensock:") == std::string::npos);
    // An '@' alone is an empty user with an empty password, as curl takes it.
    got = run_request(io, s,
                      opensock::test::make_request(
                          "GET", "http://@127.0.0.1:" + std::to_string(server->port()) +
                                     "/basic/"));
    CHECK(got.last_head.find("Authorization: Basic Og==\r\n") != std::string::npos);
    // Given credentials win over the URL's.
    auto req = opensock::test::make_request(
        "GET", "http://nobody:nothing@127.0.0.1:" + std::to_string(server->port()) + "/basic/");
    req.credentials = credentials("opensock", "Circle of Life");
    CHECK(run_request(io, s, std::move(req)).r.status == 200);
    // An escape that does not decode is curl's 3, before anything is sent.
    got = run_request(io, s,
                      opensock::test::make_request(
                          "GET", "http://opensock:bad%zz@127.0.0.1:" +
                                     std::to_string(server->port()) + "/basic/"));
    CHECK(got.ec == opensock::error::url_malformat);
    CHECK(got.heads == 0);
  }
  SECTION("wrong credentials: the second 401 is the response, body and all") {
    auto got = run_request(io, s,
                           with_credentials(base + "/md5/",
                                            credentials("opensock", "wrong", auth_scheme::digest)),
                           true);
    REQUIRE(!got.ec);
    CHECK(got.r.status == 401);
    CHECK(got.heads == 2);
    CHECK(!got.streamed.empty());
    // Without credentials: the 401 as it came.
    got = run_request(io, s, opensock::test::make_request("GET", base + "/md5/"));
    CHECK(got.r.status == 401);
    CHECK(got.heads == 1);
    CHECK(got.last_head.find("Authorization") == std::string::npos);
  }
  SECTION("a caller's own Authorization field is sent instead") {
    auto req = with_credentials(base + "/bearer/", credentials("opensock", "Circle of Life"));
    req.headers.add("Authorization", "Bearer opensock-token");
    auto got = run_request(io, s, std::move(req));
    CHECK(got.r.status == 200);
    CHECK(got.last_head.find("Basic") == std::string::npos);
  }
}

TEST_CASE("a session runs NTLM's handshake on one connection, which it then authenticates") {
  auto server = start_digest_server();
  if (!server) return;
  asio::io_context io;
  session<> s(io.get_executor());
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());
  const credentials ntlm("opensock", "Circle of Life", auth_scheme::ntlm);

  SECTION("the negotiate message, the challenge, the answer; then nothing on the connection") {
    auto got = run_request(io, s, with_credentials(base + "/ntlm/a", ntlm));
    REQUIRE(!got.ec);
    CHECK(got.r.status == 200);
    CHECK(got.r.body == "user=opensock scheme=NTLM\n");
    CHECK(got.heads == 2);
    CHECK(got.first_head.find("Authorization: NTLM TlRMTVNTUAAB") != std::string::npos);
    CHECK(got.last_head.find("Authorization: NTLM TlRMTVNTUAAD") != std::string::npos);
    const auto connection = got.r.info.connection_id;
    // The connection is authenticated: the next request with these credentials goes on
    // it without them.
    got = run_request(io, s, with_credentials(base + "/ntlm/b", ntlm));
    CHECK(got.r.status == 200);
    CHECK(got.r.body == "user=opensock scheme=NTLM connection\n");
    CHECK(got.heads == 1);
    CHECK(got.last_head.find("Authorization") == std::string::npos);
    CHECK(got.r.info.connection_id == connection);
    // A request without them, or with others, does not take it.
    got = run_request(io, s, opensock::test::make_request("GET", base + "/ntlm/c"));
    CHECK(got.r.status == 401);
    CHECK(got.r.info.connection_id != connection);
    got = run_request(io, s,
                      with_credentials(base + "/ntlm/d",
                                       credentials("opensock", "wrong", auth_scheme::ntlm)));
    CHECK(got.r.status == 401);
    CHECK(got.heads == 2);
    CHECK(got.r.info.connection_id != connection);
  }
  SECTION("a body waits for the challenge: the negotiate message goes as a probe") {
    auto req = with_credentials(base + "/ntlm/", ntlm);
    req.method = "POST";
    req.body = std::string("a body");
    req.headers.add("Content-Type", "multipart/form-data; boundary=x");
    auto got = run_request(io, s, std::move(req));
    CHECK(got.r.status == 200);
    CHECK(got.heads == 2);
    CHECK(got.first_head.find("Content-Length: 0\r\n") != std::string::npos);
    CHECK(got.first_head.find("Content-Type") == std::string::npos);
    CHECK(got.last_head.find("Content-Length: 6\r\n") != std::string::npos);
    CHECK(got.last_head.find("Content-Type: multipart/form-data") != std::string::npos);
  }
  SECTION("anyauth picks NTLM over Basic") {
    auto got = run_request(io, s,
                           with_credentials(base + "/ntlm-basic/",
                                            credentials("opensock", "Circle of Life",
                                                        auth_schemes::any)));
    CHECK(got.r.status == 200);
    CHECK(got.r.body == "user=opensock scheme=NTLM\n");
    CHECK(got.heads == 3);
  }
  SECTION("names too long for an answer end the request with curl's 100") {
    auto got = run_request(
        io, s,
        with_credentials(base + "/ntlm/", credentials(std::string(1100, 'A'), "p",
                                                      auth_scheme::ntlm)));
    CHECK(got.ec == opensock::error::ntlm_message_too_large);
    CHECK(got.heads == 1);
  }
}

TEST_CASE("credentials go to another origin on a redirect only when trusted") {
  auto server = start_digest_server();
  if (!server) return;
  asio::io_context io;
  opensock::test::scripted_http_server redirector(io);
  const std::string elsewhere = "http://127.0.0.1:" + std::to_string(server->port()) + "/basic/";
  redirector.routes["/away"] = opensock::test::scripted_http_server::redirect(302, elsewhere);
  redirector.routes["/here"] = opensock::test::scripted_http_server::redirect(302, "/there");
  redirector.routes["/there"] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  const credentials basic("opensock", "Circle of Life");
  session_options options;
  options.follow_redirects = true;
  {
    session<> s(io.get_executor(), opensock::default_socket_factory(), options);
    auto got = run_request(io, s, with_credentials(redirector.url("/away"), basic));
    CHECK(got.r.status == 401);
    CHECK(got.last_head.find("Authorization") == std::string::npos);
    REQUIRE(redirector.heads.size() == 1);
    CHECK(redirector.heads[0].find("Authorization: Basic ") != std::string::npos);
    // The same origin keeps them.
    got = run_request(io, s, with_credentials(redirector.url("/here"), basic));
    CHECK(got.r.status == 200);
    REQUIRE(redirector.heads.size() == 3);
    CHECK(redirector.heads[2].find("Authorization: Basic ") != std::string::npos);
  }
  options.location_trusted = true;
  session<> trusting(io.get_executor(), opensock::default_socket_factory(), options);
  auto got = run_request(io, trusting, with_credentials(redirector.url("/away"), basic));
  CHECK(got.r.status == 200);
  CHECK(got.last_head.find("Authorization: Basic ") != std::string::npos);
}
#endif
