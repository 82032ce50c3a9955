// A build without OpenSSL (OPENSOCK_HAS_TLS undefined, as when CMake finds none or
// OPENSOCK_WITH_TLS is OFF): https fails with 1 and says TLS was not built, before any
// byte is sent, and closes what the factory opened.
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/counting_factory.hpp"
#include "support/http_request.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>

#include <string>

static_assert(!opensock::tls::built, "this test is built without TLS");

TEST_CASE("without TLS, https ends in 1: TLS support was not built") {
  asio::io_context io;
  opensock::test::scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(),
                                  opensock::test::counting_factory{&opened, &closed});
  auto url = server.url("/");
  url.replace(0, 4, "https");
  const auto ec = opensock::test::request(io, session, opensock::test::make_request("GET", url)).first;
  CHECK(ec == opensock::error::tls_not_built);
  CHECK(opensock::curl_code(ec) == 1);
  CHECK(ec.message().find("built without TLS") != std::string::npos);
  CHECK(opened == closed);
  CHECK(server.log.empty());
  // http still works.
  CHECK(!opensock::test::request(io, session, opensock::test::make_request("GET", server.url("/"))).first);
}

TEST_CASE("without TLS Basic is sent and Digest is never picked") {
  using namespace opensock::http;
  using opensock::test::make_request;
  using opensock::test::request;
  asio::io_context io;
  opensock::test::scripted_http_server server(io);
  server.routes["/"] =
      "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
      "WWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\n\r\n";
  session<> s(io.get_executor());
  auto req = make_request("GET", server.url("/"));
  req.credentials = credentials("user", "password", auth_schemes::any);
  auto [ec, r] = request(io, s, std::move(req));
  REQUIRE(!ec);
  CHECK(r.status == 401);
  // Asked again with Basic, the one scheme this build can answer with.
  REQUIRE(server.heads.size() == 2);
  CHECK(server.heads[0].find("Authorization") == std::string::npos);
  CHECK(server.heads[1].find("Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n") !=
        std::string::npos);
}
