// The opening handshake of RFC 6455 §4 from the client's side: the upgrade request with a
// fresh Sec-WebSocket-Key, and the server's 101 checked against it (Sec-WebSocket-Accept,
// Upgrade, Connection, the subprotocol and extensions offered). SHA-1 and the random key
// come from OpenSSL's libcrypto, which the WebSocket client needs.
#pragma once

#include <opensock/detail/base64.hpp>
#include <opensock/error.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/tls/options.hpp>
#include <opensock/websocket/options.hpp>
#include <opensock/websocket/permessage_deflate.hpp>

#if !OPENSOCK_HAS_TLS
#error "opensock's WebSocket client needs OpenSSL's libcrypto (SHA-1, random keys): build with it"
#endif

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::websocket {

/// What the handshake settled: the subprotocol the server chose (empty: none) and
/// permessage-deflate's parameters when the server accepted it.
struct handshake_result {
  std::string subprotocol;
  std::optional<deflate_params> deflate;
};

namespace detail {

/// Fills `out` from OpenSSL's cryptographically secure generator.
inline void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
}

inline bool is_handshake_field(std::string_view name) noexcept {
  return http::iequals(name, "Upgrade") || http::iequals(name, "Connection") ||
         (name.size() > 14 && http::iequals(name.substr(0, 14), "Sec-WebSocket-"));
}

}  // namespace detail

/// A new Sec-WebSocket-Key: 16 random bytes, base64.
inline std::string make_key() {
  std::array<unsigned char, 16> nonce;
  detail::random_bytes(nonce.data(), nonce.size());
  return opensock::detail::base64(
      std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
}

/// The Sec-WebSocket-Accept a server answers `key` with.
inline std::string accept_for(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(key.size() + guid.size());
  input.append(key).append(guid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("OpenSSL's SHA-1 failed");
  return opensock::detail::base64(std::string_view(reinterpret_cast<const char*>(digest), size));
}

/// Makes `out` the upgrade request for `to` (a ws or wss URL), with `key`. Fields of the
/// handshake's own among `o.headers`, or permessage-deflate offered where zlib is not
/// built in, fail with bad_function_argument or websocket_deflate_not_built.
inline std::error_code make_upgrade_request(const http::url& to, const handshake_options& o,
                                            std::string_view key, http::request& out) {
  if (o.deflate.enabled && !deflate_built) return error::websocket_deflate_not_built;
  if (o.deflate.enabled && (!detail::valid_window_bits(o.deflate.client_max_window_bits) ||
                            !detail::valid_window_bits(o.deflate.server_max_window_bits) ||
                            o.deflate.level < 0 || o.deflate.level > 9 ||
                            o.deflate.mem_level < 1 || o.deflate.mem_level > 9))
    return error::bad_function_argument;
  for (const auto& f : o.headers)
    if (detail::is_handshake_field(f.name)) return error::bad_function_argument;
  out.method = "GET";
  out.url = to;
  out.headers = http::fields();
  out.headers.add("Upgrade", "websocket");
  out.headers.add("Connection", "Upgrade");
  out.headers.add("Sec-WebSocket-Version", "13");
  out.headers.add("Sec-WebSocket-Key", key);
  if (!o.subprotocols.empty()) {
    std::string list;
    for (const auto& p : o.subprotocols) {
      if (p.empty() || p.find_first_of(", \t") != std::string::npos)
        return error::bad_function_argument;
      if (!list.empty()) list += ", ";
      list += p;
    }
    out.headers.add("Sec-WebSocket-Protocol", list);
  }
  if (o.deflate.enabled) out.headers.add("Sec-WebSocket-Extensions", deflate_offer(o.deflate));
  for (const auto& f : o.headers) out.headers.add(f.name, f.value);
  out.timeouts = o.timeouts;
  return {};
}

/// Checks the server's answer `r` to an upgrade made with `key` and `o`: a status other
/// than 101 is websocket_refused; a 101 that is not a valid WebSocket answer is
/// websocket_bad_handshake. Fills `settled` when it is valid.
inline std::error_code check_upgrade_response(const http::response& r, std::string_view key,
                                              const handshake_options& o,
                                              handshake_result& settled) {
  if (r.status != 101) return error::websocket_refused;
  const auto upgrade = r.headers.get("Upgrade");
  const auto connection = r.headers.get("Connection");
  const auto accept = r.headers.get("Sec-WebSocket-Accept");
  if (!upgrade || !http::has_token(*upgrade, "websocket") || !connection ||
      !http::has_token(*connection, "upgrade") || !accept || *accept != accept_for(key) ||
      r.headers.count("Sec-WebSocket-Accept") != 1)
    return error::websocket_bad_handshake;
  settled.subprotocol.clear();
  const auto chosen = r.headers.get_all("Sec-WebSocket-Protocol");
  if (chosen.size() > 1) return error::websocket_bad_handshake;
  if (chosen.size() == 1) {
    bool offered = false;
    for (const auto& p : o.subprotocols) offered = offered || p == chosen.front();
    if (!offered) return error::websocket_bad_handshake;
    settled.subprotocol = chosen.front();
  }
  std::error_code ec;
  settled.deflate = settle_deflate(r.headers.get_all("Sec-WebSocket-Extensions"),
                                   o.deflate.enabled ? &o.deflate : nullptr, ec);
  return ec;
}

}  // namespace opensock::websocket
