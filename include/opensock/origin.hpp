// Where a connection goes, as the caller names it: scheme, host and port. The connector
// turns it into addresses; the factory sees it next to the address it is asked to open.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace opensock {

// Deliberately not an aggregate: g++ 12 corrupts a brace-initialised aggregate temporary
// that lives across a co_await, as in co_await session.async_connect({"host", 80}, …).
struct origin {
  origin() = default;
  origin(std::string host, std::uint16_t port, std::string scheme = "tcp")
      : host(std::move(host)), port(port), scheme(std::move(scheme)) {}

  /// A host name, an IPv4 address, or an IPv6 address with or without brackets.
  std::string host;
  std::uint16_t port = 0;
  /// "tcp" for a connect-only session; the URL's scheme for a protocol session.
  std::string scheme = "tcp";

  friend bool operator==(const origin&, const origin&) = default;
};

}  // namespace opensock
