// -V/--version: opensock-fetch's own first line in curl's shape (the program, the
// platform, the library and the libraries it was built with, each as name/version), then
// the Protocols and Features lines curl writes, listing what this build has.
#pragma once

#include <opensock/http/content_coding.hpp>
#include <opensock/detail/ntlm.hpp>
#include <opensock/http/cookie.hpp>
#include <opensock/tls/options.hpp>
#include <opensock/version.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#if OPENSOCK_HAS_TLS
#include <openssl/crypto.h>
#endif
#if OPENSOCK_HAS_ZLIB
#include <zlib.h>
#endif
#if OPENSOCK_HAS_BROTLI
#include <brotli/decode.h>
#endif
#if OPENSOCK_HAS_ZSTD
#include <zstd.h>
#endif
#if OPENSOCK_HAS_PSL
#include <libpsl.h>
#endif
#if OPENSOCK_HAS_IDN
#include <idn2.h>
#endif

namespace fetch {

inline std::string version_text() {
  std::string first = "opensock-fetch " OPENSOCK_VERSION_STRING;
  utsname system{};
  if (::uname(&system) == 0)
    first += std::string(" (") + system.machine + "-" + system.sysname + ")";
  first += " libopensock/" OPENSOCK_VERSION_STRING;
  std::string protocols = "http";
  std::vector<std::string> features = {"AsynchDNS", "IPv6", "Largefile", "threadsafe",
                                       "UnixSockets"};
#if OPENSOCK_HAS_TLS
  // "OpenSSL 3.0.11 19 Sep 2023": the name and the number, as curl writes them.
  const std::string openssl = OpenSSL_version(OPENSSL_VERSION);
  const auto number_end = openssl.find(' ', openssl.find(' ') + 1);
  std::string named = openssl.substr(0, number_end);
  if (const auto space = named.find(' '); space != std::string::npos) named[space] = '/';
  first += " " + named;
  protocols += " https";
  features.insert(features.end(), {"HTTPS-proxy", "SSL"});
#endif
  if (opensock::detail::ntlm::supported) features.push_back("NTLM");
#if OPENSOCK_HAS_ZLIB
  first += std::string(" zlib/") + zlibVersion();
  features.push_back("libz");
#endif
#if OPENSOCK_HAS_BROTLI
  const auto brotli = BrotliDecoderVersion();  // major << 24 | minor << 12 | patch
  first += " brotli/" + std::to_string(brotli >> 24) + "." +
           std::to_string((brotli >> 12) & 0xfff) + "." + std::to_string(brotli & 0xfff);
  features.push_back("brotli");
#endif
#if OPENSOCK_HAS_ZSTD
  first += std::string(" zstd/") + ZSTD_versionString();
  features.push_back("zstd");
#endif
#if OPENSOCK_HAS_IDN
  first += std::string(" libidn2/") + idn2_check_version(nullptr);
  features.push_back("IDN");
#endif
#if OPENSOCK_HAS_PSL
  first += std::string(" libpsl/") + psl_get_version();
  features.push_back("PSL");
#endif
  // In curl's order: alphabetical, whatever the case.
  const auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::sort(features.begin(), features.end(),
            [&](const std::string& a, const std::string& b) { return lower(a) < lower(b); });
  std::string text = first + "\nProtocols: " + protocols + "\nFeatures:";
  for (const auto& feature : features) text += " " + feature;
  return text + "\n";
}

}  // namespace fetch
