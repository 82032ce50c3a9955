// Definitions for opensock/error.hpp: the one table of opensock's errors (message and
// condition), curl's messages for the conditions, and the conditions of foreign codes.
#pragma once

#include <opensock/error.hpp>

#include <asio/error.hpp>

#include <cerrno>
#include <string>

namespace opensock {
namespace detail {

// libcurl's curl_easy_strerror() texts, so that users who know curl recognise them.
constexpr const char* condition_message(condition c) noexcept {
  switch (c) {
    case condition::unsupported_protocol: return "Unsupported protocol";
    case condition::failed_init: return "Failed initialization";
    case condition::url_malformat: return "URL using bad/illegal format or missing URL";
    case condition::not_built_in:
      return "A requested feature, protocol or option was not found built-in in this libcurl "
             "due to a build-time decision.";
    case condition::couldnt_resolve_proxy: return "Couldn't resolve proxy name";
    case condition::couldnt_resolve_host: return "Couldn't resolve host name";
    case condition::couldnt_connect: return "Couldn't connect to server";
    case condition::weird_server_reply: return "Weird server reply";
    case condition::http2: return "Error in the HTTP2 framing layer";
    case condition::partial_file: return "Transferred a partial file";
    case condition::http_returned_error: return "HTTP response code said error";
    case condition::write_error: return "Failed writing received data to disk/application";
    case condition::upload_failed: return "Upload failed (at start/before it took off)";
    case condition::read_error: return "Failed to open/read local data from file/application";
    case condition::out_of_memory: return "Out of memory";
    case condition::operation_timedout: return "Timeout was reached";
    case condition::ssl_connect_error: return "SSL connect error";
    case condition::aborted_by_callback: return "Operation was aborted by an application callback";
    case condition::bad_function_argument: return "A libcurl function was given a bad argument";
    case condition::interface_failed: return "Failed binding local connection end";
    case condition::too_many_redirects: return "Number of redirects hit maximum amount";
    case condition::got_nothing: return "Server returned nothing (no headers, no data)";
    case condition::send_error: return "Failed sending data to the peer";
    case condition::recv_error: return "Failure when receiving data from the peer";
    case condition::ssl_certproblem: return "Problem with the local SSL certificate";
    case condition::ssl_cipher: return "Couldn't use specified SSL cipher";
    case condition::peer_failed_verification:
      return "SSL peer certificate or SSH remote key was not OK";
    case condition::bad_content_encoding:
      return "Unrecognized or bad HTTP Content or Transfer-Encoding";
    case condition::filesize_exceeded: return "Maximum file size exceeded";
    case condition::send_fail_rewind:
      return "Send failed since rewinding of the data stream failed";
    case condition::ssl_cacert_badfile:
      return "Problem with the SSL CA cert (path? access rights?)";
    case condition::ssl_pinnedpubkeynotmatch:
      return "SSL: public key does not match pinned public key";
    case condition::proxy: return "proxy handshake error";
    case condition::too_large: return "A value or data field grew larger than allowed";
  }
  // curl's own words for CURLE_OK and for a number it does not know.
  return static_cast<int>(c) == 0 ? "No error" : "Unknown error";
}

// What one opensock error says and which condition it falls under. A null message marks
// a value that is no opensock error.
struct error_entry {
  condition cond;
  const char* message;
};

// An error that says no more than its condition: it has curl's message.
constexpr error_entry plain(condition c) noexcept { return {c, condition_message(c)}; }

// The one table of opensock's errors. A switch without a default, so that -Wswitch
// names an error added to the enum but not here.
constexpr error_entry error_entry_of(error e) noexcept {
  switch (e) {
    case error::unsupported_protocol: return plain(condition::unsupported_protocol);
    case error::failed_init: return plain(condition::failed_init);
    case error::url_malformat: return plain(condition::url_malformat);
    case error::not_built_in: return plain(condition::not_built_in);
    case error::couldnt_resolve_proxy: return plain(condition::couldnt_resolve_proxy);
    case error::couldnt_resolve_host: return plain(condition::couldnt_resolve_host);
    case error::couldnt_connect: return plain(condition::couldnt_connect);
    case error::weird_server_reply: return plain(condition::weird_server_reply);
    case error::http2: return plain(condition::http2);
    case error::partial_file: return plain(condition::partial_file);
    case error::http_returned_error: return plain(condition::http_returned_error);
    case error::write_error: return plain(condition::write_error);
    case error::upload_failed: return plain(condition::upload_failed);
    case error::read_error: return plain(condition::read_error);
    case error::out_of_memory: return plain(condition::out_of_memory);
    case error::operation_timedout: return plain(condition::operation_timedout);
    case error::ssl_connect_error: return plain(condition::ssl_connect_error);
    case error::aborted_by_callback: return plain(condition::aborted_by_callback);
    case error::bad_function_argument: return plain(condition::bad_function_argument);
    case error::interface_failed: return plain(condition::interface_failed);
    case error::too_many_redirects: return plain(condition::too_many_redirects);
    case error::got_nothing: return plain(condition::got_nothing);
    case error::send_error: return plain(condition::send_error);
    case error::recv_error: return plain(condition::recv_error);
    case error::ssl_certproblem: return plain(condition::ssl_certproblem);
    case error::ssl_cipher: return plain(condition::ssl_cipher);
    case error::peer_failed_verification: return plain(condition::peer_failed_verification);
    case error::bad_content_encoding: return plain(condition::bad_content_encoding);
    case error::filesize_exceeded: return plain(condition::filesize_exceeded);
    case error::send_fail_rewind: return plain(condition::send_fail_rewind);
    case error::ssl_cacert_badfile: return plain(condition::ssl_cacert_badfile);
    case error::ssl_pinnedpubkeynotmatch: return plain(condition::ssl_pinnedpubkeynotmatch);
    case error::proxy: return plain(condition::proxy);
    case error::too_large: return plain(condition::too_large);
    case error::refused_by_socket_factory:
      return {condition::couldnt_connect,
              "Couldn't connect to server: every address was refused by the socket factory"};
    case error::factory_socket_not_open:
      return {condition::bad_function_argument,
              "The socket factory returned a socket that is not open"};
    case error::factory_stream_not_connectable:
      return {condition::bad_function_argument,
              "The socket factory returned an unconnected stream that only it can connect"};
    case error::factory_endpoint_invalid:
      return {condition::bad_function_argument,
              "The socket factory rewrote the endpoint to an invalid address"};
    case error::host_has_no_address:
      return {condition::couldnt_resolve_host, "Couldn't resolve host name: it has no address"};
    case error::http09_not_allowed:
      return {condition::unsupported_protocol, "Received HTTP/0.9 when not allowed"};
    case error::unsupported_http_version:
      return {condition::unsupported_protocol, "Unsupported HTTP version in response"};
    case error::unsupported_status_code:
      return {condition::unsupported_protocol, "Unsupported response code in HTTP response"};
    case error::malformed_header:
      return {condition::weird_server_reply, "Weird server reply: header without colon"};
    case error::incomplete_header:
      return {condition::weird_server_reply,
              "Weird server reply: the connection closed inside the response header"};
    case error::bad_content_length:
      return {condition::weird_server_reply, "Weird server reply: invalid Content-Length value"};
    case error::invalid_header_byte:
      return {condition::weird_server_reply,
              "Weird server reply: a NUL byte or a lone CR in the response header"};
    case error::folded_framing_field:
      return {condition::weird_server_reply,
              "Weird server reply: Content-Length or Transfer-Encoding on a folded line"};
    case error::unrequested_protocol_switch:
      return {condition::weird_server_reply,
              "Weird server reply: 101 Switching Protocols to a request for no switch"};
    case error::chunked_not_last:
      return {condition::bad_content_encoding,
              "Reject response due to 'chunked' not being the last Transfer-Encoding"};
    case error::transfer_coding_not_decoded:
      return {condition::bad_content_encoding,
              "A transfer coding other than chunked, not decoded without --tr-encoding"};
    case error::malformed_chunk:
      return {condition::recv_error,
              "Illegal or missing hexadecimal sequence in chunked-encoding"};
    case error::response_headers_too_large:
      return {condition::recv_error, "Too large response headers"};
    case error::body_too_large:
      return {condition::filesize_exceeded, "Maximum file size exceeded"};
    case error::invalid_request_field:
      return {condition::bad_function_argument,
              "A request method, target or header holds bytes HTTP does not allow there"};
    case error::unframable_request_body:
      return {condition::bad_function_argument,
              "A request body must be framed by a Content-Length or, in HTTP/1.1, by a "
              "Transfer-Encoding ending in chunked (without Content-Length)"};
    case error::header_line_too_long:
      return {condition::too_large, "A response header line is longer than allowed"};
    case error::tls_not_built:
      return {condition::unsupported_protocol,
              "Protocol \"https\" not supported: opensock was built without TLS (OpenSSL)"};
    case error::proxy_closed: return {condition::proxy, "Connection to proxy closed"};
    case error::proxy_send_failed:
      return {condition::proxy, "Failed to send the handshake to the proxy"};
    case error::proxy_recv_failed:
      return {condition::proxy, "Failed to receive the proxy's answer"};
    case error::proxy_bad_version:
      return {condition::proxy, "The SOCKS proxy answered with the wrong version"};
    case error::proxy_no_auth:
      return {condition::proxy, "No authentication method was acceptable"};
    case error::proxy_user_rejected:
      return {condition::proxy, "User was rejected by the SOCKS5 server"};
    case error::proxy_long_user:
      return {condition::proxy, "Excessive user name length for proxy auth"};
    case error::proxy_long_passwd:
      return {condition::proxy, "Excessive password length for proxy auth"};
    case error::proxy_long_hostname:
      return {condition::proxy, "The host name is too long to be resolved by the proxy"};
    case error::proxy_resolve_host:
      return {condition::proxy, "SOCKS4 can only reach IPv4 addresses"};
    case error::proxy_bad_address_type:
      return {condition::proxy, "SOCKS5 reply has wrong address type"};
    case error::proxy_reply_general_server_failure:
      return {condition::proxy, "Can't complete SOCKS5 connection: general SOCKS server "
                                "failure (1)"};
    case error::proxy_reply_not_allowed:
      return {condition::proxy, "Can't complete SOCKS5 connection: connection not allowed by "
                                "ruleset (2)"};
    case error::proxy_reply_network_unreachable:
      return {condition::proxy, "Can't complete SOCKS5 connection: network unreachable (3)"};
    case error::proxy_reply_host_unreachable:
      return {condition::proxy, "Can't complete SOCKS5 connection: host unreachable (4)"};
    case error::proxy_reply_connection_refused:
      return {condition::proxy, "Can't complete SOCKS5 connection: connection refused (5)"};
    case error::proxy_reply_ttl_expired:
      return {condition::proxy, "Can't complete SOCKS5 connection: TTL expired (6)"};
    case error::proxy_reply_command_not_supported:
      return {condition::proxy, "Can't complete SOCKS5 connection: command not supported (7)"};
    case error::proxy_reply_address_type_not_supported:
      return {condition::proxy, "Can't complete SOCKS5 connection: address type not "
                                "supported (8)"};
    case error::proxy_reply_unassigned:
      return {condition::proxy, "Can't complete SOCKS5 connection: unassigned reply code"};
    case error::proxy_request_failed:
      return {condition::proxy, "Can't complete SOCKS4 connection: request rejected or "
                                "failed (91)"};
    case error::proxy_identd:
      return {condition::proxy, "Can't complete SOCKS4 connection: the SOCKS server cannot "
                                "reach the client's identd (92)"};
    case error::proxy_identd_differ:
      return {condition::proxy, "Can't complete SOCKS4 connection: the client's identd "
                                "reported a different user id (93)"};
    case error::proxy_unknown_fail:
      return {condition::proxy, "Can't complete SOCKS4 connection: unknown reply code"};
    case error::tunnel_failed:
      return {condition::couldnt_connect,
              "CONNECT tunnel failed: the proxy answered with an error"};
    case error::tunnel_aborted: return {condition::recv_error, "Proxy CONNECT aborted"};
    case error::websocket_refused:
      return {condition::http_returned_error, "Refused WebSockets upgrade"};
    case error::websocket_bad_handshake:
      return {condition::weird_server_reply, "The server's WebSocket upgrade is not valid"};
    case error::websocket_closed:
      return {condition::got_nothing, "The peer closed the WebSocket connection"};
    case error::websocket_protocol_error:
      return {condition::recv_error, "The peer broke the WebSocket protocol"};
    case error::websocket_invalid_utf8:
      return {condition::recv_error, "A WebSocket text message that is not UTF-8"};
    case error::websocket_message_too_big:
      return {condition::too_large, "A WebSocket message over the size limit"};
    case error::websocket_bad_compression:
      return {condition::bad_content_encoding, "A WebSocket message that does not inflate"};
    case error::websocket_deflate_not_built:
      return {condition::not_built_in,
              "permessage-deflate: opensock was built without zlib"};
    case error::websocket_url_for_http:
      return {condition::unsupported_protocol,
              "A ws or wss URL is not for an HTTP request: use websocket::async_connect"};
    case error::unknown_content_coding:
      return {condition::bad_content_encoding, "Unrecognized content encoding type"};
    case error::too_many_content_codings:
      return {condition::bad_content_encoding,
              "Reject response due to more than 5 content encodings"};
    case error::corrupt_content_coding:
      return {condition::bad_content_encoding, "Error while decoding the response body"};
    case error::content_coding_ratio_exceeded:
      return {condition::bad_content_encoding,
              "The response body decodes to more than its limit on expansion"};
    case error::decoded_body_too_large:
      return {condition::filesize_exceeded,
              "The response body decodes to more than its limit on size"};
    case error::repeated_location:
      return {condition::weird_server_reply, "Multiple Location headers"};
    case error::not_http_after_interim:
      return {condition::weird_server_reply,
              "Weird server reply: no HTTP status line after an interim response"};
    case error::too_many_response_headers:
      return {condition::too_large, "Too many response headers"};
    case error::chunked_upload_to_http10:
      return {condition::upload_failed, "Chunky upload is not supported by HTTP 1.0"};
    case error::ntlm_message_too_large:
      return {condition::too_large, "NTLM handshake failure: user name too long"};
    case error::version_changed:
      return {condition::weird_server_reply,
              "Weird server reply: another version of HTTP on the same connection"};
    case error::proxy_protocol_send_failed:
      return {condition::send_error, "Failed sending the PROXY protocol header"};
    case error::http09_without_body:
      return {condition::weird_server_reply,
              "Weird server reply: HTTP/0.9 to a request whose answer has no body"};
  }
  // A value opensock never makes came from someone else's code, as any unknown code.
  return {condition::aborted_by_callback, nullptr};
}

inline condition errno_condition(int value) noexcept {
  switch (value) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case ECONNABORTED:
    case EAFNOSUPPORT: return condition::couldnt_connect;
    case ETIMEDOUT: return condition::operation_timedout;
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case ENODEV: return condition::interface_failed;
    case EPIPE: return condition::send_error;
    case ECONNRESET: return condition::recv_error;
    case ECANCELED: return condition::aborted_by_callback;  // Asio's operation_aborted
    case ENOMEM: return condition::out_of_memory;
    default: return condition::aborted_by_callback;
  }
}

// The condition of a failed code whose category does not name one: the one mapping
// behind both condition_category().equivalent() and curl_code().
inline condition foreign_condition(const std::error_code& ec) noexcept {
  const std::error_category& category = ec.category();
  if (category == asio::error::get_netdb_category() ||
      category == asio::error::get_addrinfo_category())
    return condition::couldnt_resolve_host;
  if (category == asio::error::get_misc_category()) {
    // eof, not_found, already_open, fd_set_failure: eof is a peer that went away mid-read.
    return ec == asio::error::eof ? condition::recv_error : condition::bad_function_argument;
  }
  if (category == std::system_category() || category == std::generic_category() ||
      category == asio::error::get_system_category())
    return errno_condition(ec.value());
  return condition::aborted_by_callback;
}

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "opensock"; }

  std::string message(int value) const override {
    const char* text = error_entry_of(static_cast<error>(value)).message;
    return text ? text : "Unknown opensock error " + std::to_string(value);
  }

  // What makes std::error_code(error::refused_by_socket_factory) equal to
  // condition::couldnt_connect.
  std::error_condition default_error_condition(int value) const noexcept override;
};

class condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "opensock.condition"; }

  std::string message(int value) const override {
    return condition_message(static_cast<condition>(value));
  }

  // Foreign codes (ECONNREFUSED, asio::error::host_not_found, ...) and opensock's own
  // compare equal to the condition to_condition() gives them.
  bool equivalent(const std::error_code& code, int value) const noexcept override {
    return static_cast<int>(to_condition(code)) == value;
  }
};

}  // namespace detail

inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

inline const std::error_category& condition_category() noexcept {
  static const detail::condition_category_impl category;
  return category;
}

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

inline std::error_condition detail::error_category_impl::default_error_condition(
    int value) const noexcept {
  return make_error_condition(error_entry_of(static_cast<error>(value)).cond);
}

inline condition to_condition(std::error_code ec) noexcept {
  if (!ec) return condition{};
  // opensock's errors, and those of any category that names its condition the same way.
  const std::error_condition own = ec.default_error_condition();
  if (own.category() == condition_category()) return static_cast<condition>(own.value());
  return detail::foreign_condition(ec);
}

inline int curl_code(std::error_code ec) noexcept { return static_cast<int>(to_condition(ec)); }

}  // namespace opensock
