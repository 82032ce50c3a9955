// Where the nginx that ctest starts for the suite (tests/peers/nginx) listens, and its
// test certificates.
#pragma once

#include "catch.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace opensock::test {

/// A port the suite's peers wrote into `relative` under their directory, or nullopt
/// when the test runs without them.
inline std::optional<std::uint16_t> peer_port(const std::string& relative) {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  if (!dir) return std::nullopt;
  std::ifstream file(std::string(dir) + "/" + relative);
  unsigned port = 0;
  if (!(file >> port) || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

/// The port of the suite's nginx, or nullopt when the test runs without it.
inline std::optional<std::uint16_t> nginx_port() { return peer_port("port"); }

/// nginx_port(), with a warning when there is none, for a test to end early: the suite
/// runs it under ctest, and a test run by hand may not have it.
inline std::optional<std::uint16_t> nginx_port_or_warn() {
  auto port = nginx_port();
  if (!port) WARN("the suite's nginx is not running (run through ctest)");
  return port;
}

/// The port of the suite's nginx https server for a test certificate ("good",
/// "wrong-host", "expired", "self-signed", "untrusted", "tls12", "client-cert").
inline std::optional<std::uint16_t> nginx_tls_port(const std::string& name) {
  return peer_port("tls-" + name + ".port");
}

/// The port of an openssl s_server peer started with the suite's nginx
/// (tests/peers/openssl-server): "alpn-h2", "alpn-http11", "tls12".
inline std::optional<std::uint16_t> openssl_server_port(const std::string& name) {
  return peer_port("openssl/" + name + ".port");
}

/// A file of the suite's test PKI (tests/peers/tls-certificates), e.g. "ca.pem".
inline std::string nginx_pki(const std::string& file) {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  return std::string(dir ? dir : "") + "/pki/" + file;
}

}  // namespace opensock::test
