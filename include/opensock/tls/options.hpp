// How TLS connections are made: verified against the system's CA store by default, as
// curl does; every relaxation is explicit.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// Defined to 1 by the CMake target when OpenSSL was found (link OpenSSL's ssl and crypto
// and define it yourself without CMake).
#ifndef OPENSOCK_HAS_TLS
#define OPENSOCK_HAS_TLS 0
#endif

namespace opensock::tls {

/// Whether this build speaks TLS; without it, https fails with tls_not_built (1).
inline constexpr bool built = OPENSOCK_HAS_TLS != 0;

enum class version {
  tls1_2,  ///< curl's --tlsv1.2: TLS 1.2 or later
  tls1_3,  ///< curl's --tlsv1.3: TLS 1.3 only
};

// A constructor sets the ALPN list rather than a braced default member initialiser, and
// makes this no aggregate: g++ 12 rejects such an initialiser ("array used as
// initializer") and corrupts a brace-initialised aggregate temporary wherever the
// temporary lives across a co_await, as in co_await tls::handshake(…, tls::options{}, …).
struct options {
  options() : alpn{"http/1.1"} {}

  /// Check the peer's certificate chain and that it names the host (a DNS name, or an
  /// IP address SAN for an IP literal). Off only through insecure() (curl's -k).
  bool verify = true;
  /// Trusted CAs: a PEM file (curl's --cacert) and a hashed directory (--capath). With
  /// neither, the system's store.
  std::optional<std::filesystem::path> ca_file;
  std::optional<std::filesystem::path> ca_path;
  /// A client certificate and its key, PEM (curl's --cert and --key; the key defaults to
  /// the certificate's file).
  std::optional<std::filesystem::path> certificate;
  std::optional<std::filesystem::path> private_key;
  version min_version = version::tls1_2;
  /// The peer's public key pinned (curl's --pinnedpubkey): "sha256//BASE64" hashes of its
  /// SubjectPublicKeyInfo, several separated by ';', or the path of a PEM or DER public
  /// key file. Checked after the handshake, verified or not (-k too); a key that
  /// matches none, or a file that cannot be read, is ssl_pinnedpubkeynotmatch (90).
  std::optional<std::string> pinned_public_key;
  /// Protocols offered by ALPN, most wanted first; "http/1.1" by default.
  std::vector<std::string> alpn;

  /// Verification off, as curl's -k: the connection is encrypted but the peer unproven.
  static options insecure() {
    options o;
    o.verify = false;
    return o;
  }

  friend bool operator==(const options&, const options&) = default;
};

}  // namespace opensock::tls
