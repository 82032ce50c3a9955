#include <opensock/tls/handshake.hpp>

#include <opensock/factory/unix_socket.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/nginx.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using opensock::http::session_options;
using opensock::test::make_request;
using opensock::test::nginx_pki;
using opensock::test::nginx_tls_port;
using opensock::test::request;

namespace {

std::string https_url(const std::string& server, const std::string& host = "localhost",
                      const std::string& path = "/echo-method") {
  return "https://" + host + ":" + std::to_string(*nginx_tls_port(server)) + path;
}

session_options trusting_test_ca() {
  session_options o;
  o.tls.ca_file = nginx_pki("ca.pem");
  return o;
}

// curl's exit code for the same URL and CA, to compare with.
int curl_exit(const std::string& url, const std::string& extra = "") {
  const std::string command = "curl -s -o /dev/null --max-time 10 " + extra + " '" + url + "'";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int fetch_exit(asio::io_context& io, const session_options& options, const std::string& url) {
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto ec = request(io, session, make_request("GET", url)).first;
  return ec ? opensock::curl_code(ec) : 0;
}

bool have_nginx() {
  if (nginx_tls_port("good")) return true;
  WARN("the suite's nginx is not running (run through ctest)");
  return false;
}

}  // namespace

TEST_CASE("https to a certificate the test CA signed, by name and by IP address SAN") {
  if (!have_nginx()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                  trusting_test_ca());
  std::string alpn;
  opensock::http::transfer_hooks hooks;
  hooks.on_connection = [&](const opensock::http::connection_info& c) { alpn = c.alpn; };
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto [ec, r] = request(io, session, make_request("GET", https_url("good", host)), hooks);
    REQUIRE(!ec);
    CHECK(r.status == 200);
    CHECK(r.body == "GET /echo-method\n");
    CHECK(alpn == "http/1.1");
  }
  // A second request reuses the pooled TLS connection.
  CHECK(session.idle_connections() == 2);
  auto [ec, again] = request(io, session, make_request("GET", https_url("good", "127.0.0.1", "/files/hello.txt")));
  CHECK(!ec);
  CHECK(again.body == "hello, opensock\n");
  CHECK(session.idle_connections() == 2);
}

TEST_CASE("peers that cannot be verified fail with 60, as curl does") {
  if (!have_nginx()) return;
  asio::io_context io;
  const auto ca = "--cacert " + nginx_pki("ca.pem");
  for (const char* server : {"wrong-host", "expired", "self-signed", "untrusted"}) {
    INFO("server: " << server);
    const auto url = https_url(server);
    CHECK(fetch_exit(io, trusting_test_ca(), url) == 60);
    CHECK(curl_exit(url, ca) == 60);
  }
  // The system's store does not hold the test CA.
  CHECK(fetch_exit(io, session_options{}, https_url("good")) == 60);
  CHECK(curl_exit(https_url("good")) == 60);
}

TEST_CASE("insecure() skips verification, as curl's -k") {
  if (!have_nginx()) return;
  asio::io_context io;
  session_options o;
  o.tls = opensock::tls::options::insecure();
  for (const char* server : {"wrong-host", "expired", "self-signed", "untrusted"}) {
    INFO("server: " << server);
    CHECK(fetch_exit(io, o, https_url(server)) == 0);
    CHECK(curl_exit(https_url(server), "-k") == 0);
  }
}

TEST_CASE("a pinned public key: a PEM or DER file or sha256// hashes, checked with -k too") {
  if (!have_nginx()) return;
  // The good server's key, by the openssl tool, as a PEM file, a DER file and a hash.
  const std::string pem = nginx_pki("good.pub.pem"), der = nginx_pki("good.pub.der");
  const std::string hash_file = nginx_pki("good.pub.sha256");
  const std::string make =
      "openssl pkey -in " + nginx_pki("good.key") + " -pubout -out " + pem + " && " +
      "openssl pkey -pubin -in " + pem + " -outform DER -out " + der + " && " +
      "openssl dgst -sha256 -binary " + der + " | openssl base64 -A > " + hash_file;
  REQUIRE(std::system(make.c_str()) == 0);
  std::string hash;
  if (std::FILE* f = std::fopen(hash_file.c_str(), "r")) {
    char line[128] = {};
    if (std::fgets(line, sizeof line, f)) hash = line;
    std::fclose(f);
  }
  REQUIRE(hash.size() == 44);
  asio::io_context io;
  const auto pinned = [&](const std::string& pin, bool verify) {
    session_options o = verify ? trusting_test_ca() : session_options{};
    if (!verify) o.tls = opensock::tls::options::insecure();
    o.tls.pinned_public_key = pin;
    return fetch_exit(io, o, https_url("good"));
  };
  const auto curl_pinned = [&](const std::string& pin, bool verify) {
    return curl_exit(https_url("good"), (verify ? "--cacert " + nginx_pki("ca.pem") : "-k") +
                                           " --pinnedpubkey '" + pin + "'");
  };
  for (const bool verify : {true, false}) {
    INFO("verified: " << verify);
    const std::string other_hash = "sha256//" + std::string(43, 'A') + "=";
    for (const std::string& pin : {pem, der, "sha256//" + hash, other_hash + ";sha256//" + hash}) {
      INFO("pin: " << pin);
      CHECK(pinned(pin, verify) == 0);
      CHECK(curl_pinned(pin, verify) == 0);
    }
    // Another key, a hash of none, a file that is not there: 90.
    for (const std::string& pin : {nginx_pki("ca.pem"), other_hash, nginx_pki("no-such.pem")}) {
      INFO("pin: " << pin);
      CHECK(pinned(pin, verify) == 90);
      CHECK(curl_pinned(pin, verify) == 90);
    }
  }
}

TEST_CASE("a CA directory, and CA or client files that cannot be loaded") {
  if (!have_nginx()) return;
  asio::io_context io;
  session_options by_path;
  by_path.tls.ca_path = nginx_pki("capath");
  CHECK(fetch_exit(io, by_path, https_url("good")) == 0);
  CHECK(curl_exit(https_url("good"), "--capath " + nginx_pki("capath")) == 0);

  session_options bad_ca;
  bad_ca.tls.ca_file = nginx_pki("no-such-ca.pem");
  CHECK(fetch_exit(io, bad_ca, https_url("good")) == 77);
  CHECK(curl_exit(https_url("good"), "--cacert " + nginx_pki("no-such-ca.pem")) == 77);

  session_options bad_cert = trusting_test_ca();
  bad_cert.tls.certificate = nginx_pki("no-such-client.pem");
  CHECK(fetch_exit(io, bad_cert, https_url("good")) == 58);
  CHECK(curl_exit(https_url("good"), "--cacert " + nginx_pki("ca.pem") + " --cert " +
                                         nginx_pki("no-such-client.pem")) == 58);
}

TEST_CASE("a client certificate for a server that asks for one") {
  if (!have_nginx()) return;
  asio::io_context io;
  session_options without = trusting_test_ca();
  opensock::http::session plain(io.get_executor(), opensock::default_socket_factory{}, without);
  auto [ec1, refused] = request(io, plain, make_request("GET", https_url("client-cert")));
  REQUIRE(!ec1);
  CHECK(refused.status == 400);  // nginx: "No required SSL certificate was sent"

  session_options with = trusting_test_ca();
  with.tls.certificate = nginx_pki("client.pem");
  with.tls.private_key = nginx_pki("client.key");
  opensock::http::session identified(io.get_executor(), opensock::default_socket_factory{}, with);
  auto [ec2, accepted] = request(io, identified, make_request("GET", https_url("client-cert")));
  REQUIRE(!ec2);
  CHECK(accepted.status == 200);
}

TEST_CASE("a minimum version the server does not reach fails the handshake: 35") {
  if (!have_nginx()) return;
  asio::io_context io;
  session_options o = trusting_test_ca();
  CHECK(fetch_exit(io, o, https_url("tls12")) == 0);
  o.tls.min_version = opensock::tls::version::tls1_3;
  CHECK(fetch_exit(io, o, https_url("tls12")) == 35);
  CHECK(curl_exit(https_url("tls12"), "--tlsv1.3 --cacert " + nginx_pki("ca.pem")) == 35);
}

TEST_CASE("a plain-text server behind an https URL fails the handshake: 35") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  // nginx answers the ClientHello with a plain-text 400, which is no TLS record.
  const auto url = "https://127.0.0.1:" + std::to_string(*port) + "/";
  CHECK(fetch_exit(io, session_options{}, url) == 35);
  CHECK(curl_exit(url) == 35);
}

TEST_CASE("with connect-to and resolve overrides the URL's host is still the name checked") {
  if (!have_nginx()) return;
  asio::io_context io;
  const auto port = *nginx_tls_port("good");
  const std::string name = "localhost";
  // The connection goes to 127.0.0.1 by an override; the certificate must name localhost.
  session_options o = trusting_test_ca();
  o.names.connect_to.push_back(
      opensock::connect_to_rule::parse("localhost:" + std::to_string(port) + ":127.0.0.1:" + std::to_string(port)).value());
  CHECK(fetch_exit(io, o, "https://localhost:" + std::to_string(port) + "/echo-method") == 0);
  // Steered to a server whose certificate names another host, verification fails.
  session_options steered = trusting_test_ca();
  steered.names.connect_to.push_back(
      opensock::connect_to_rule::parse("localhost:" + std::to_string(port) + ":127.0.0.1:" +
                                       std::to_string(*nginx_tls_port("wrong-host")))
          .value());
  CHECK(fetch_exit(io, steered, "https://localhost:" + std::to_string(port) + "/") == 60);
}

TEST_CASE("connections made under other TLS settings are not reused") {
  if (!have_nginx()) return;
  asio::io_context io;
  int opened = 0;
  auto counting = [&](opensock::open_context<asio::ip::tcp>& context) {
    ++opened;
    return opensock::default_socket_factory{}(context);
  };
  opensock::http::session session(io.get_executor(), counting, trusting_test_ca());
  const auto url = https_url("good", "127.0.0.1");
  REQUIRE(!request(io, session, make_request("GET", url)).first);
  REQUIRE(!request(io, session, make_request("GET", url)).first);
  CHECK(opened == 1);
  session.options().tls.alpn = {"http/1.1", "x-test"};
  REQUIRE(!request(io, session, make_request("GET", url)).first);
  CHECK(opened == 2);
}

TEST_CASE("ALPN against openssl s_server: http/1.1 chosen, or no protocol in common: 35") {
  const auto http11 = opensock::test::openssl_server_port("alpn-http11");
  const auto h2_only = opensock::test::openssl_server_port("alpn-h2");
  const auto tls12 = opensock::test::openssl_server_port("tls12");
  if (!http11 || !h2_only || !tls12) {
    WARN("the suite's openssl s_server peers are not running (run through ctest)");
    return;
  }
  asio::io_context io;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{},
                                  trusting_test_ca());
  std::string alpn;
  opensock::http::transfer_hooks hooks;
  hooks.on_connection = [&](const opensock::http::connection_info& c) { alpn = c.alpn; };
  auto [ec, r] = request(io, session,
                         make_request("GET", "https://127.0.0.1:" + std::to_string(*http11) + "/"), hooks);
  REQUIRE(!ec);
  CHECK(r.status == 200);
  CHECK(alpn == "http/1.1");

  const auto ca = "--http1.1 --cacert " + nginx_pki("ca.pem");
  const auto no_common = "https://127.0.0.1:" + std::to_string(*h2_only) + "/";
  CHECK(fetch_exit(io, trusting_test_ca(), no_common) == 35);
  CHECK(curl_exit(no_common, ca) == 35);

  session_options newest = trusting_test_ca();
  newest.tls.min_version = opensock::tls::version::tls1_3;
  const auto old_server = "https://127.0.0.1:" + std::to_string(*tls12) + "/";
  CHECK(fetch_exit(io, newest, old_server) == 35);
  CHECK(curl_exit(old_server, "--tlsv1.3 " + ca) == 35);
  CHECK(fetch_exit(io, trusting_test_ca(), old_server) == 0);
}

TEST_CASE("TLS over a Unix socket the factory opened, the URL's host verified") {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  if (!dir || !nginx_tls_port("good")) {
    WARN("the suite's nginx is not running (run through ctest)");
    return;
  }
  asio::io_context io;
  opensock::http::session session(io.get_executor(),
                                  opensock::unix_socket(std::string(dir) + "/tls.sock"),
                                  trusting_test_ca());
  auto [ec, r] = request(io, session, make_request("GET", "https://localhost/echo-method"));
  REQUIRE(!ec);
  CHECK(r.body == "unix GET\n");
  // A name the certificate does not hold fails, whatever the socket.
  CHECK(request(io, session, make_request("GET", "https://wrong-host.test/echo-method")).first ==
        opensock::error::peer_failed_verification);
}

TEST_CASE("TLS over a socket the factory connected itself") {
  if (!have_nginx()) return;
  asio::io_context io;
  const auto port = *nginx_tls_port("good");
  int connected_by_factory = 0;
  // The factory connects to the good server itself, whatever address it was given.
  auto own_connect = [&](opensock::open_context<asio::ip::tcp>& context)
      -> opensock::open_result<asio::ip::tcp::socket> {
    asio::ip::tcp::socket socket(context.executor);
    socket.connect({asio::ip::address_v4::loopback(), port});
    ++connected_by_factory;
    return opensock::connected(std::move(socket));
  };
  opensock::http::session session(io.get_executor(), own_connect, trusting_test_ca());
  auto [ec, r] = request(io, session, make_request("GET", https_url("good", "127.0.0.1")));
  REQUIRE(!ec);
  CHECK(r.body == "GET /echo-method\n");
  CHECK(connected_by_factory == 1);
}
