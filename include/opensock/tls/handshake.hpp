// TLS as a stage over whatever stream the factory produced (a fresh socket, one it
// connected itself, a Unix socket): the handshake that turns it into an
// asio::ssl::stream, with SNI (not for IP literals), ALPN and the host name or IP
// address checked against the certificate. Failures carry curl's numbers: 60 for a peer
// that is not verified, 35 for any other failed handshake.
#pragma once

#include <opensock/detail/async_spawn.hpp>
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

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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
