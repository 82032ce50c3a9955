// TLS as a stage over whatever stream the factory produced (a fresh socket, one it
// connected itself, a Unix socket): the handshake that turns it into an
// asio::ssl::stream, with SNI (not for IP literals), ALPN and the host name or IP
// address checked against the certificate, and a pinned public key. Failures carry
// curl's numbers: 60 for a peer that is not verified, 90 for a key not pinned, 35 for
// any other failed handshake.
#pragma once

#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/base64.hpp>
#include <opensock/error.hpp>
#include <opensock/tls/options.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock::tls {

template <class Stream>
struct handshake_result {
  std::error_code error;
  std::optional<asio::ssl::stream<Stream>> stream;
  /// The protocol the server chose by ALPN; empty if none.
  std::string alpn;
};

namespace detail {

// ALPN's wire form: each protocol name after its length byte.
inline std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

// The DER of the SubjectPublicKeyInfo of the peer's certificate; empty without one.
inline std::string peer_public_key(SSL* ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509* certificate = SSL_get1_peer_certificate(ssl);
#else
  X509* certificate = SSL_get_peer_certificate(ssl);
#endif
  if (!certificate) return {};
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
  X509_free(certificate);
  if (size <= 0) return {};
  std::string key(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return key;
}

// A pinned key file's DER: the base64 between PEM's PUBLIC KEY lines decoded, or the file
// as it is. nullopt when it cannot be read, or its PEM cannot be decoded.
inline std::optional<std::string> pinned_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr std::string_view begin = "-----BEGIN PUBLIC KEY-----";
  constexpr std::string_view end = "-----END PUBLIC KEY-----";
  const auto from = bytes.find(begin);
  if (from == std::string::npos) return bytes;
  const auto to = bytes.find(end, from);
  if (to == std::string::npos) return std::nullopt;
  std::string base64;
  for (std::size_t i = from + begin.size(); i < to; ++i)
    if (bytes[i] != '\r' && bytes[i] != '\n') base64 += bytes[i];
  return opensock::detail::base64_decoded(base64);
}

// Whether the peer's public key is one `pin` names (options::pinned_public_key).
inline bool pinned_key_matches(SSL* ssl, const std::string& pin) {
  const std::string key = peer_public_key(ssl);
  if (key.empty()) return false;
  constexpr std::string_view hash_prefix = "sha256//";
  if (!pin.starts_with(hash_prefix)) {
    const auto pinned = pinned_key_file(pin);
    return pinned && *pinned == key;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned digest_size = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1)
    return false;
  const std::string hash = opensock::detail::base64(
      std::string_view(reinterpret_cast<const char*>(digest), digest_size));
  for (std::string_view rest = pin; !rest.empty();) {
    const auto semicolon = rest.find(';');
    const std::string_view entry = rest.substr(0, semicolon);
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
    if (entry.starts_with(hash_prefix) && entry.substr(hash_prefix.size()) == hash) return true;
  }
  return false;
}

}  // namespace detail

/// Runs the client handshake on `stream`, an SSL stream over a connected stream, for
/// `host` (the URL's host: with --connect-to or --resolve it is still the name checked
/// and sent by SNI); `alpn` gets the protocol the server chose. Terminal cancellation
/// by `stop`, by default the coroutine's own, ends it with operation_aborted. What
/// fails is left for the caller to close.
template <class Next>
asio::awaitable<std::error_code> handshake_on(asio::ssl::stream<Next>& stream,
                                              const std::string& host, const options& o,
                                              std::string& alpn,
                                              asio::cancellation_state stop = {}) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  SSL* ssl = stream.native_handle();
  std::error_code parse_error;
  const auto literal = asio::ip::make_address(host, parse_error);
  const bool is_ip = !parse_error;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (o.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, literal.to_string().c_str())
                          : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (set != 1) co_return error::peer_failed_verification;
  }
  const std::string wire = detail::alpn_wire(o.alpn);
  if (!wire.empty())
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));

  if (stop.cancelled() != asio::cancellation_type::none) co_return asio::error::operation_aborted;
  std::error_code ec;
  co_await stream.async_handshake(
      asio::ssl::stream_base::client,
      asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec)));
  if (ec) {
    if (ec == asio::error::operation_aborted) co_return ec;
    if (o.verify && SSL_get_verify_result(ssl) != X509_V_OK) co_return error::peer_failed_verification;
    co_return error::ssl_connect_error;
  }
  if (o.pinned_public_key && !detail::pinned_key_matches(ssl, *o.pinned_public_key))
    co_return error::ssl_pinnedpubkeynotmatch;
  const unsigned char* chosen = nullptr;
  unsigned chosen_size = 0;
  SSL_get0_alpn_selected(ssl, &chosen, &chosen_size);
  if (chosen) alpn.assign(reinterpret_cast<const char*>(chosen), chosen_size);
  co_return std::error_code{};
}

/// Runs the client handshake over `stream`, which becomes the next layer of the
/// result's SSL stream, as handshake_on() does.
template <class Stream>
asio::awaitable<handshake_result<Stream>> handshake(Stream stream, asio::ssl::context& context,
                                                    std::string host, const options& o,
                                                    asio::cancellation_state stop = {}) {
  handshake_result<Stream> result;
  result.stream.emplace(std::move(stream), context);
  result.error = co_await handshake_on(*result.stream, host, o, result.alpn, std::move(stop));
  co_return result;  // on error, the caller closes the stream's next layer
}

/// handshake() as an Asio asynchronous operation on `stream`'s executor: completes
/// `token` with void(std::error_code, handshake_result<Stream>), and per-operation
/// cancellation (terminal) ends it with operation_aborted. `context` and `o` must
/// outlive it.
template <class Stream, class CompletionToken>
auto async_handshake(Stream stream, asio::ssl::context& context, std::string host,
                     const options& o, CompletionToken&& token) {
  auto executor = stream.get_executor();
  return opensock::detail::async_stage<handshake_result<Stream>>(
      std::move(executor),
      [stream = std::move(stream), &context, host = std::move(host), &o]() mutable {
        return handshake(std::move(stream), context, std::move(host), o);
      },
      std::forward<CompletionToken>(token));
}

}  // namespace opensock::tls
