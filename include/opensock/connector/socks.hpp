// The SOCKS handshake, a stage over a stream connected to a SOCKS proxy: SOCKS4 and
// SOCKS4a, and SOCKS5 (RFC 1928) with no authentication or a user name and password
// (RFC 1929). Once it succeeds the stream carries the connection the proxy made to the
// target. Every failure of the proxy is `proxy` (97), with curl's CURLINFO_PROXY_ERROR
// meaning as the error (the reply code among them).
#pragma once

#include <opensock/detail/async_spawn.hpp>
#include <opensock/error.hpp>
#include <opensock/proxy.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace opensock {
namespace detail {

// A SOCKS message being written: bytes appended to fixed room large enough for the
// longest (SOCKS5 authentication: 3 + 255 + 255 bytes).
struct socks_message {
  std::array<unsigned char, 520> bytes;
  std::size_t size = 0;

  void put(unsigned char b) noexcept { bytes[size++] = b; }
  void put(std::string_view text) noexcept {
    for (char c : text) put(static_cast<unsigned char>(c));
  }
  void put_port(std::uint16_t port) noexcept {
    put(static_cast<unsigned char>(port >> 8));
    put(static_cast<unsigned char>(port & 0xff));
  }
  template <std::size_t N>
  void put(const std::array<unsigned char, N>& address) noexcept {
    for (auto b : address) put(b);
  }
};

inline std::error_code socks5_reply_error(unsigned char reply) noexcept {
  switch (reply) {
    case 1: return error::proxy_reply_general_server_failure;
    case 2: return error::proxy_reply_not_allowed;
    case 3: return error::proxy_reply_network_unreachable;
    case 4: return error::proxy_reply_host_unreachable;
    case 5: return error::proxy_reply_connection_refused;
    case 6: return error::proxy_reply_ttl_expired;
    case 7: return error::proxy_reply_command_not_supported;
    case 8: return error::proxy_reply_address_type_not_supported;
    default: return error::proxy_reply_unassigned;
  }
}

inline std::error_code socks4_reply_error(unsigned char reply) noexcept {
  switch (reply) {
    case 91: return error::proxy_request_failed;
    case 92: return error::proxy_identd;
    case 93: return error::proxy_identd_differ;
    default: return error::proxy_unknown_fail;
  }
}

// What a failed write or read of the handshake means: cancellation stays itself, a
// proxy that closed mid-answer is proxy_closed, anything else a failed send or receive.
inline std::error_code socks_send_error(std::error_code ec) noexcept {
  return ec == asio::error::operation_aborted ? ec : make_error_code(error::proxy_send_failed);
}
inline std::error_code socks_receive_error(std::error_code ec) noexcept {
  if (ec == asio::error::operation_aborted) return ec;
  return ec == asio::error::eof ? make_error_code(error::proxy_closed)
                                : make_error_code(error::proxy_recv_failed);
}

// The SOCKS4 request for `host` (an IPv4 literal, or for SOCKS4a a name) and `port`.
inline std::error_code socks4_request(const proxy& via, std::string_view host,
                                      std::uint16_t port, socks_message& out) {
  if (via.user.size() > 255) return error::proxy_long_user;
  std::error_code not_literal;
  const auto address = asio::ip::make_address(std::string(host), not_literal);
  const bool by_name = static_cast<bool>(not_literal);
  if ((by_name && via.kind != proxy_kind::socks4a) || (!by_name && !address.is_v4()))
    return error::proxy_resolve_host;
  if (by_name && host.size() > 255) return error::proxy_long_hostname;
  out.put(4);
  out.put(1);  // CONNECT
  out.put_port(port);
  // SOCKS4a: an address of 0.0.0.x, x not 0, says that the name follows the user id.
  out.put(by_name ? std::array<unsigned char, 4>{0, 0, 0, 1} : address.to_v4().to_bytes());
  out.put(via.user);
  out.put(0);
  if (by_name) {
    out.put(host);
    out.put(0);
  }
  return {};
}

// The SOCKS5 CONNECT request for `host` (an IP literal, or a name) and `port`.
inline std::error_code socks5_request(std::string_view host, std::uint16_t port,
                                      socks_message& out) {
  std::error_code not_literal;
  const auto address = asio::ip::make_address(std::string(host), not_literal);
  if (not_literal && host.size() > 255) return error::proxy_long_hostname;
  out.put(5);
  out.put(1);  // CONNECT
  out.put(0);
  if (not_literal) {
    out.put(3);
    out.put(static_cast<unsigned char>(host.size()));
    out.put(host);
  } else if (address.is_v4()) {
    out.put(1);
    out.put(address.to_v4().to_bytes());
  } else {
    out.put(4);
    out.put(address.to_v6().to_bytes());
  }
  out.put_port(port);
  return {};
}

}  // namespace detail

namespace detail {

// One round of a SOCKS handshake: `message` sent, unless it is empty, and exactly
// `answer`'s size read back.
template <class Stream>
asio::awaitable<std::error_code> socks_round(Stream& stream, const socks_message& message,
                                             asio::mutable_buffer answer,
                                             const asio::cancellation_state& stop) {
  std::error_code ec;
  const auto token = [&] {
    return asio::bind_cancellation_slot(stop.slot(), asio::redirect_error(asio::use_awaitable, ec));
  };
  if (message.size != 0) {
    co_await asio::async_write(stream, asio::buffer(message.bytes, message.size), token());
    if (ec) co_return socks_send_error(ec);
  }
  co_await asio::async_read(stream, answer, token());
  if (ec) co_return socks_receive_error(ec);
  co_return std::error_code{};
}

}  // namespace detail

/// Asks the SOCKS proxy `via`, at the other end of `stream`, to connect to `host` and
/// `port`. `host` is an IP literal, sent as an address, or a name, sent for the proxy to
/// resolve: SOCKS4 takes an IPv4 address only, SOCKS4a and SOCKS5 a name too (SOCKS5h
/// and SOCKS4a are given names by the connector, SOCKS5 and SOCKS4 addresses). SOCKS5
/// offers a user name and password when `via` has a user. Exactly the proxy's answer is
/// read, none of what follows it. Terminal cancellation by `stop`, by default the
/// coroutine's own, ends it with operation_aborted. On failure the caller closes the
/// stream.
template <class Stream>
asio::awaitable<std::error_code> socks_handshake(Stream& stream, const proxy& via,
                                                 std::string_view host, std::uint16_t port,
                                                 asio::cancellation_state stop = {}) {
  if (!stop.slot().is_connected()) stop = co_await asio::this_coro::cancellation_state;
  std::error_code ec;
  detail::socks_message message;
  std::array<unsigned char, 262> answer;

  if (via.kind == proxy_kind::socks4 || via.kind == proxy_kind::socks4a) {
    if ((ec = detail::socks4_request(via, host, port, message))) co_return ec;
    if ((ec = co_await detail::socks_round(stream, message, asio::buffer(answer, 8), stop)))
      co_return ec;
    if (answer[0] != 0) co_return error::proxy_bad_version;
    if (answer[1] != 90) co_return detail::socks4_reply_error(answer[1]);
    co_return std::error_code{};
  }
  if (!is_socks(via.kind)) co_return error::bad_function_argument;

  // SOCKS5: the methods offered (none, and a user name and password when there is one),
  // then the proxy's choice.
  const bool with_user = !via.user.empty();
  if (with_user && via.user.size() > 255) co_return error::proxy_long_user;
  if (with_user && via.password.size() > 255) co_return error::proxy_long_passwd;
  message.put(5);
  message.put(with_user ? 2 : 1);
  message.put(0);
  if (with_user) message.put(2);
  if ((ec = co_await detail::socks_round(stream, message, asio::buffer(answer, 2), stop)))
    co_return ec;
  if (answer[0] != 5) co_return error::proxy_bad_version;
  const unsigned char method = answer[1];
  if (method != 0 && !(with_user && method == 2)) co_return error::proxy_no_auth;

  if (method == 2) {  // RFC 1929
    message.size = 0;
    message.put(1);
    message.put(static_cast<unsigned char>(via.user.size()));
    message.put(via.user);
    message.put(static_cast<unsigned char>(via.password.size()));
    message.put(via.password);
    if ((ec = co_await detail::socks_round(stream, message, asio::buffer(answer, 2), stop)))
      co_return ec;
    if (answer[0] != 1 || answer[1] != 0) co_return error::proxy_user_rejected;
  }

  // The request, and the reply: version, code, a reserved byte, and the address the
  // proxy bound, whose size its type and, for a name, its first byte say.
  message.size = 0;
  if ((ec = detail::socks5_request(host, port, message))) co_return ec;
  if ((ec = co_await detail::socks_round(stream, message, asio::buffer(answer, 5), stop)))
    co_return ec;
  if (answer[0] != 5) co_return error::proxy_bad_version;
  if (answer[1] != 0) co_return detail::socks5_reply_error(answer[1]);
  std::size_t rest = 0;
  switch (answer[3]) {
    case 1: rest = 4 - 1 + 2; break;
    case 3: rest = std::size_t(answer[4]) + 2; break;
    case 4: rest = 16 - 1 + 2; break;
    default: co_return error::proxy_bad_address_type;
  }
  message.size = 0;
  co_return co_await detail::socks_round(stream, message, asio::buffer(answer, rest), stop);
}

namespace detail {

// socks_handshake() owning the name it asks for.
template <class Stream>
asio::awaitable<std::error_code> socks_handshake_owning(Stream& stream, const proxy& via,
                                                        std::string host, std::uint16_t port) {
  co_return co_await socks_handshake(stream, via, host, port);
}

}  // namespace detail

/// socks_handshake() as an Asio asynchronous operation on `stream`'s executor: completes
/// `token` with void(std::error_code), and per-operation cancellation (terminal) ends it
/// with operation_aborted. `stream` and `via` must outlive it.
template <class Stream, class CompletionToken>
auto async_socks_handshake(Stream& stream, const proxy& via, std::string host,
                           std::uint16_t port, CompletionToken&& token) {
  return detail::async_spawn(
      stream.get_executor(),
      [&stream, &via, host = std::move(host), port]() mutable {
        return detail::socks_handshake_owning(stream, via, std::move(host), port);
      },
      std::forward<CompletionToken>(token));
}

}  // namespace opensock
