// Where the nginx that ctest starts for the suite (tests/peers/nginx) listens, and its
// test certificates.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace opensock::test {

/// The port of the suite's nginx, or nullopt when the test runs without it.
inline std::optional<std::uint16_t> nginx_port() {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  if (!dir) return std::nullopt;
  std::ifstream file(std::string(dir) + "/port");
  unsigned port = 0;
  if (!(file >> port) || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

/// The port of the suite's nginx https server for a test certificate ("good",
/// "wrong-host", "expired", "self-signed", "untrusted", "tls12", "client-cert").
inline std::optional<std::uint16_t> nginx_tls_port(const std::string& name) {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  if (!dir) return std::nullopt;
  std::ifstream file(std::string(dir) + "/tls-" + name + ".port");
  unsigned port = 0;
  if (!(file >> port) || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

/// A file of the suite's test PKI (tests/peers/tls-certificates), e.g. "ca.pem".
inline std::string nginx_pki(const std::string& file) {
  const char* dir = std::getenv("OPENSOCK_NGINX_DIR");
  return std::string(dir ? dir : "") + "/pki/" + file;
}

}  // namespace opensock::test
