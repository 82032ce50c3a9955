// Where the nginx that ctest starts for the suite (tests/peers/nginx) listens.
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

}  // namespace opensock::test
