// The errors opensock reports (opensock::error, one std::error_code category) and the
// conditions they fall under (opensock::condition, libcurl's CURLcode numbers).
#pragma once

#include <system_error>

namespace opensock {

/// The error codes opensock returns, each with a message of its own. Compare a code
/// with a condition to ask what kind of failure it is (`ec == condition::couldnt_connect`)
/// and call curl_code() for its curl number: an error's value is only its identity (the
/// values are kept stable, but they are not curl numbers).
enum class error : int {
  unsupported_protocol = 1,
  failed_init = 2,
  url_malformat = 3,
  not_built_in = 4,
  couldnt_resolve_proxy = 5,
  couldnt_resolve_host = 6,
  couldnt_connect = 7,
  weird_server_reply = 8,
  http2 = 16,
  partial_file = 18,
  http_returned_error = 22,
  write_error = 23,
  upload_failed = 25,
  read_error = 26,
  out_of_memory = 27,
  operation_timedout = 28,
  ssl_connect_error = 35,
  aborted_by_callback = 42,
  bad_function_argument = 43,
  interface_failed = 45,
  too_many_redirects = 47,
  got_nothing = 52,
  send_error = 55,
  recv_error = 56,
  ssl_certproblem = 58,
  ssl_cipher = 59,
  peer_failed_verification = 60,
  bad_content_encoding = 61,
  filesize_exceeded = 63,
  send_fail_rewind = 65,
  ssl_cacert_badfile = 77,
  ssl_pinnedpubkeynotmatch = 90,
  proxy = 97,
  too_large = 100,

  // The errors below say more than curl's message for their condition.

  /// couldnt_connect: every resolved address was refused by the socket factory.
  refused_by_socket_factory = 1000,
  /// bad_function_argument: the factory returned a socket that is not open.
  factory_socket_not_open,
  /// bad_function_argument: the factory returned an unconnected stream of a type
  /// opensock cannot connect (only the factory can connect it).
  factory_stream_not_connectable,
  /// bad_function_argument: the factory rewrote the endpoint to one that is not valid.
  factory_endpoint_invalid,
  /// couldnt_resolve_host: the name resolved to no address at all.
  host_has_no_address,
  /// unsupported_protocol: the reply does not start with "HTTP/" (curl refuses HTTP/0.9).
  http09_not_allowed,
  /// unsupported_protocol: an HTTP version other than 1.0, 1.1 or 2 in the status line.
  unsupported_http_version,
  /// unsupported_protocol: a status code that is not three digits from 100 to 999.
  unsupported_status_code,
  /// weird_server_reply: a header line that is not `name: value`.
  malformed_header,
  /// weird_server_reply: the connection closed inside the status line or headers.
  incomplete_header,
  /// weird_server_reply: Content-Length values that disagree or are not numbers.
  bad_content_length,
  /// weird_server_reply: a NUL byte, or a CR not followed by LF, in the status line or a
  /// header line.
  invalid_header_byte,
  /// weird_server_reply: Content-Length or Transfer-Encoding continued on a folded line
  /// (obs-fold), where a proxy and a client could disagree on the framing.
  folded_framing_field,
  /// weird_server_reply: a 101 (Switching Protocols) to a request that was not sent to
  /// switch (session::handed_over() sends those).
  unrequested_protocol_switch,
  /// bad_content_encoding: Transfer-Encoding names a coding after chunked.
  chunked_not_last,
  /// bad_content_encoding: a body in a transfer coding other than chunked, which is
  /// decoded only when asked for (session_options::decode_transfer_codings, curl's
  /// --tr-encoding).
  transfer_coding_not_decoded,
  /// recv_error: a chunk size or chunk delimiter that is not valid chunked coding.
  malformed_chunk,
  /// recv_error: the header section over the parser's limit on its size (curl fails over
  /// 300 KiB of headers with this code).
  response_headers_too_large,
  /// filesize_exceeded: a body over the caller's size limit.
  body_too_large,
  /// bad_function_argument: a request method, target, header name or value holding
  /// CR, LF, NUL or other bytes HTTP/1.1 does not allow there; nothing was sent.
  invalid_request_field,
  /// bad_function_argument: a Transfer-Encoding field the caller set whose last coding
  /// is not chunked, or that comes with a Content-Length, or a body of unknown length
  /// (or chunked) in an HTTP/1.0 request: a server could not tell where the request's
  /// body ends; nothing was sent.
  unframable_request_body,
  /// too_large: one header line over the parser's line limit (curl past 100 KiB; curl
  /// 7.88 said 27, "Avoided giant realloc for header").
  header_line_too_long,
  /// unsupported_protocol: an https URL where opensock was built without OpenSSL.
  tls_not_built,

  // A proxy's handshake failed: each is `proxy` (97), and one of the meanings curl
  // reports as CURLINFO_PROXY_ERROR (CURLPX_*).
  /// proxy: the proxy closed the connection during the handshake (CURLPX_CLOSED).
  proxy_closed,
  /// proxy: the handshake could not be sent (CURLPX_SEND_CONNECT).
  proxy_send_failed,
  /// proxy: the proxy's answer could not be received (CURLPX_RECV_CONNECT).
  proxy_recv_failed,
  /// proxy: the SOCKS proxy answered in another version (CURLPX_BAD_VERSION).
  proxy_bad_version,
  /// proxy: the SOCKS5 proxy takes none of the authentication methods offered
  /// (CURLPX_NO_AUTH).
  proxy_no_auth,
  /// proxy: the SOCKS5 proxy rejected the user name and password (CURLPX_USER_REJECTED).
  proxy_user_rejected,
  /// proxy: a SOCKS user name over 255 bytes (CURLPX_LONG_USER).
  proxy_long_user,
  /// proxy: a SOCKS5 password over 255 bytes (CURLPX_LONG_PASSWD).
  proxy_long_passwd,
  /// proxy: a host name over 255 bytes for the proxy to resolve (CURLPX_LONG_HOSTNAME).
  proxy_long_hostname,
  /// proxy: a SOCKS4 proxy asked for an address that is not IPv4 (CURLPX_RESOLVE_HOST).
  proxy_resolve_host,
  /// proxy: a SOCKS5 reply with an address type that does not exist
  /// (CURLPX_BAD_ADDRESS_TYPE).
  proxy_bad_address_type,
  /// proxy: SOCKS5 reply 1, general SOCKS server failure (CURLPX_REPLY_GENERAL_SERVER_FAILURE).
  proxy_reply_general_server_failure,
  /// proxy: SOCKS5 reply 2, connection not allowed by ruleset (CURLPX_REPLY_NOT_ALLOWED).
  proxy_reply_not_allowed,
  /// proxy: SOCKS5 reply 3, network unreachable (CURLPX_REPLY_NETWORK_UNREACHABLE).
  proxy_reply_network_unreachable,
  /// proxy: SOCKS5 reply 4, host unreachable (CURLPX_REPLY_HOST_UNREACHABLE).
  proxy_reply_host_unreachable,
  /// proxy: SOCKS5 reply 5, connection refused (CURLPX_REPLY_CONNECTION_REFUSED).
  proxy_reply_connection_refused,
  /// proxy: SOCKS5 reply 6, TTL expired (CURLPX_REPLY_TTL_EXPIRED).
  proxy_reply_ttl_expired,
  /// proxy: SOCKS5 reply 7, command not supported (CURLPX_REPLY_COMMAND_NOT_SUPPORTED).
  proxy_reply_command_not_supported,
  /// proxy: SOCKS5 reply 8, address type not supported
  /// (CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED).
  proxy_reply_address_type_not_supported,
  /// proxy: a SOCKS5 reply code RFC 1928 does not assign (CURLPX_REPLY_UNASSIGNED).
  proxy_reply_unassigned,
  /// proxy: SOCKS4 reply 91, request rejected or failed (CURLPX_REQUEST_FAILED).
  proxy_request_failed,
  /// proxy: SOCKS4 reply 92, the proxy cannot reach the client's identd (CURLPX_IDENTD).
  proxy_identd,
  /// proxy: SOCKS4 reply 93, identd reported another user id (CURLPX_IDENTD_DIFFER).
  proxy_identd_differ,
  /// proxy: a SOCKS4 reply code that does not exist (CURLPX_UNKNOWN_FAIL).
  proxy_unknown_fail,
  /// couldnt_connect: an HTTP proxy answered CONNECT with a status other than 2xx (newer
  /// curl's 7; curl 7.88 said 56).
  tunnel_failed,
  /// recv_error: an HTTP proxy closed the connection before its answer to CONNECT ended.
  tunnel_aborted,
  // A WebSocket connection failed: its close code (RFC 6455 §7.4) is the one sent to the
  // peer, where there is one.
  /// http_returned_error: the server answered the upgrade with a status other than 101
  /// (curl: "Refused WebSockets upgrade"); the response is kept.
  websocket_refused,
  /// weird_server_reply: a 101 without a valid Sec-WebSocket-Accept, Upgrade or
  /// Connection, or with a subprotocol or extension the client did not offer.
  websocket_bad_handshake,
  /// got_nothing: the peer closed the WebSocket connection with a close frame; its code
  /// and reason are the stream's close_reason().
  websocket_closed,
  /// recv_error: a frame that breaks RFC 6455 (close code 1002).
  websocket_protocol_error,
  /// recv_error: a text message or a close reason that is not UTF-8 (close code 1007).
  websocket_invalid_utf8,
  /// too_large: a message over the stream's limit on its size (close code 1009).
  websocket_message_too_big,
  /// bad_content_encoding: a compressed message that does not inflate (close code 1007).
  websocket_bad_compression,
  /// not_built_in: permessage-deflate asked for where opensock was built without zlib.
  websocket_deflate_not_built,
  /// unsupported_protocol: a ws or wss URL in a plain HTTP request; WebSocket connections
  /// are made by websocket::async_connect().
  websocket_url_for_http,
  // A response's content or transfer coding could not be decoded.
  /// bad_content_encoding: a coding opensock does not know, or was built without.
  unknown_content_coding,
  /// bad_content_encoding: more codings stacked on one body than the limit (curl: 5).
  too_many_content_codings,
  /// bad_content_encoding: encoded data that does not decode, a bad checksum or
  /// trailer, or a body that ends inside the encoded stream.
  corrupt_content_coding,
  /// bad_content_encoding: a body that decodes to more than its limit on the ratio of
  /// decoded to encoded bytes (a decompression bomb).
  content_coding_ratio_exceeded,
  /// filesize_exceeded: a body that decodes to more than its limit on decoded bytes.
  decoded_body_too_large,
  /// weird_server_reply: a response with more than one Location field (curl: "Multiple
  /// Location headers"): a client and a proxy could each follow another.
  repeated_location,
  /// weird_server_reply: bytes that are not an HTTP status line after an interim (1xx)
  /// response, where the final response's must come.
  not_http_after_interim,
  /// weird_server_reply: an HTTP/0.9 response (allowed) to a HEAD or CONNECT request,
  /// whose answer has no body to be.
  http09_without_body,
  /// too_large: more header fields in a response than the parser's limit on their number
  /// (newer curl's 100; curl 7.88 counts none).
  too_many_response_headers,
  /// send_error: the PROXY protocol line a route opens with could not be sent.
  proxy_protocol_send_failed,
  /// weird_server_reply: a response in another version of HTTP than the one before it on
  /// the same connection (curl: "Version mismatch"), HTTP/0.9 among them.
  version_changed,
  /// too_large: an NTLM answer whose user, domain and host names do not fit in the
  /// 1024 bytes curl allows its messages.
  ntlm_message_too_large,
  /// upload_failed: a request body of unknown length (sent chunked) to a server that
  /// answered in HTTP/1.0, which has no chunked coding (curl: "Chunky upload is not
  /// supported by HTTP 1.0").
  chunked_upload_to_http10,
};

/// What kind of failure an error code is, in libcurl's terms: each value is the CURLcode
/// number of that name, and its message is curl_easy_strerror()'s. Every opensock error
/// and the system and Asio errors opensock passes on compare equal to one of them.
enum class condition : int {
  unsupported_protocol = 1,
  failed_init = 2,
  url_malformat = 3,
  not_built_in = 4,
  couldnt_resolve_proxy = 5,
  couldnt_resolve_host = 6,
  couldnt_connect = 7,
  weird_server_reply = 8,
  http2 = 16,
  partial_file = 18,
  http_returned_error = 22,
  write_error = 23,
  upload_failed = 25,
  read_error = 26,
  out_of_memory = 27,
  operation_timedout = 28,
  ssl_connect_error = 35,
  aborted_by_callback = 42,
  bad_function_argument = 43,
  interface_failed = 45,
  too_many_redirects = 47,
  got_nothing = 52,
  send_error = 55,
  recv_error = 56,
  ssl_certproblem = 58,
  ssl_cipher = 59,
  peer_failed_verification = 60,
  bad_content_encoding = 61,
  filesize_exceeded = 63,
  send_fail_rewind = 65,
  ssl_cacert_badfile = 77,
  ssl_pinnedpubkeynotmatch = 90,
  proxy = 97,
  too_large = 100,
};

/// The category of opensock::error; its name is "opensock".
const std::error_category& error_category() noexcept;

/// The category of opensock::condition; its name is "opensock.condition".
const std::error_category& condition_category() noexcept;

std::error_code make_error_code(error e) noexcept;

std::error_condition make_error_condition(condition c) noexcept;

/// The condition `ec` compares equal to: condition{} (0, curl's CURLE_OK) for success,
/// an opensock error's own condition, the nearest curl meaning for system and Asio
/// errors (ECONNREFUSED is couldnt_connect, ETIMEDOUT operation_timedout, a failed name
/// lookup couldnt_resolve_host, a cancelled operation aborted_by_callback). Any other
/// code can only have come from a user callback such as a factory's abort, so it is
/// aborted_by_callback.
condition to_condition(std::error_code ec) noexcept;

/// The libcurl CURLcode number for `ec`: 0 for success, else the value of
/// to_condition(ec) (ECONNREFUSED is 7, an unknown code 42).
int curl_code(std::error_code ec) noexcept;

}  // namespace opensock

template <>
struct std::is_error_code_enum<opensock::error> : std::true_type {};

template <>
struct std::is_error_condition_enum<opensock::condition> : std::true_type {};

#include <opensock/impl/error.hpp>
