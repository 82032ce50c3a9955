// Definitions for opensock/error.hpp: the category's messages and the mapping of
// foreign error codes to curl numbers.
#pragma once

#include <opensock/error.hpp>

#include <asio/error.hpp>

#include <string>

namespace opensock {
namespace detail {

// libcurl's curl_easy_strerror() texts, so that users who know curl recognise them.
inline const char* curl_message(error e) noexcept {
  switch (e) {
    case error::unsupported_protocol: return "Unsupported protocol";
    case error::failed_init: return "Failed initialization";
    case error::url_malformat: return "URL using bad/illegal format or missing URL";
    case error::not_built_in:
      return "A requested feature, protocol or option was not found built-in in this libcurl "
             "due to a build-time decision.";
    case error::couldnt_resolve_proxy: return "Couldn't resolve proxy name";
    case error::couldnt_resolve_host: return "Couldn't resolve host name";
    case error::couldnt_connect: return "Couldn't connect to server";
    case error::weird_server_reply: return "Weird server reply";
    case error::http2: return "Error in the HTTP2 framing layer";
    case error::partial_file: return "Transferred a partial file";
    case error::http_returned_error: return "HTTP response code said error";
    case error::write_error: return "Failed writing received data to disk/application";
    case error::read_error: return "Failed to open/read local data from file/application";
    case error::out_of_memory: return "Out of memory";
    case error::operation_timedout: return "Timeout was reached";
    case error::ssl_connect_error: return "SSL connect error";
    case error::aborted_by_callback: return "Operation was aborted by an application callback";
    case error::bad_function_argument: return "A libcurl function was given a bad argument";
    case error::interface_failed: return "Failed binding local connection end";
    case error::too_many_redirects: return "Number of redirects hit maximum amount";
    case error::got_nothing: return "Server returned nothing (no headers, no data)";
    case error::send_error: return "Failed sending data to the peer";
    case error::recv_error: return "Failure when receiving data from the peer";
    case error::ssl_certproblem: return "Problem with the local SSL certificate";
    case error::ssl_cipher: return "Couldn't use specified SSL cipher";
    case error::peer_failed_verification:
      return "SSL peer certificate or SSH remote key was not OK";
    case error::bad_content_encoding:
      return "Unrecognized or bad HTTP Content or Transfer-Encoding";
    case error::filesize_exceeded: return "Maximum file size exceeded";
    case error::send_fail_rewind: return "Send failed since rewinding of the data stream failed";
    case error::ssl_cacert_badfile: return "Problem with the SSL CA cert (path? access rights?)";
    case error::proxy: return "proxy handshake error";
    case error::too_large: return "A value or data field grew larger than allowed";
    case error::refused_by_socket_factory:
      return "Couldn't connect to server: every address was refused by the socket factory";
    case error::factory_socket_not_open:
      return "The socket factory returned a socket that is not open";
    case error::factory_stream_not_connectable:
      return "The socket factory returned an unconnected stream that only it can connect";
    case error::factory_endpoint_invalid:
      return "The socket factory rewrote the endpoint to an invalid address";
    case error::host_has_no_address: return "Couldn't resolve host name: it has no address";
    case error::http09_not_allowed: return "Received HTTP/0.9 when not allowed";
    case error::unsupported_http_version: return "Unsupported HTTP version in response";
    case error::unsupported_status_code: return "Unsupported response code in HTTP response";
    case error::malformed_header: return "Weird server reply: header without colon";
    case error::incomplete_header:
      return "Weird server reply: the connection closed inside the response header";
    case error::bad_content_length: return "Weird server reply: invalid Content-Length value";
    case error::malformed_chunk:
      return "Illegal or missing hexadecimal sequence in chunked-encoding";
    case error::response_headers_too_large: return "Too large response headers";
    case error::header_line_too_long: return "A response header line is longer than allowed";
    case error::tls_not_built:
      return "Protocol \"https\" not supported: opensock was built without TLS (OpenSSL)";
    case error::body_too_large: return "Maximum file size exceeded";
    case error::invalid_request_field:
      return "A request method, target or header holds bytes HTTP does not allow there";
  }
  return nullptr;
}

inline int refined_curl_code(error e) noexcept {
  switch (e) {
    case error::refused_by_socket_factory: return 7;
    case error::factory_socket_not_open:
    case error::factory_stream_not_connectable:
    case error::factory_endpoint_invalid: return 43;
    case error::host_has_no_address: return 6;
    case error::http09_not_allowed:
    case error::unsupported_http_version:
    case error::unsupported_status_code: return 1;
    case error::malformed_header:
    case error::incomplete_header:
    case error::bad_content_length: return 8;
    case error::malformed_chunk:
    case error::response_headers_too_large: return 56;
    case error::body_too_large: return 63;
    case error::invalid_request_field: return 43;
    case error::header_line_too_long: return 27;
    case error::tls_not_built: return 1;
    default: return static_cast<int>(e);
  }
}

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "opensock"; }

  std::string message(int value) const override {
    const char* text = curl_message(static_cast<error>(value));
    return text ? text : "Unknown opensock error " + std::to_string(value);
  }
};

inline int errno_curl_code(int value) noexcept {
  switch (value) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case ECONNABORTED:
    case EAFNOSUPPORT:
      return 7;
    case ETIMEDOUT: return 28;
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case ENODEV: return 45;
    case EPIPE: return 55;
    case ECONNRESET: return 56;
    case ECANCELED: return 42;
    case ENOMEM: return 27;
    default: return 42;
  }
}

}  // namespace detail

inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

inline int curl_code(std::error_code ec) noexcept {
  if (!ec) return 0;
  const std::error_category& category = ec.category();
  if (category == error_category()) return detail::refined_curl_code(static_cast<error>(ec.value()));
  if (category == asio::error::get_netdb_category()) return 6;
  if (category == asio::error::get_addrinfo_category()) return 6;
  if (category == asio::error::get_misc_category()) {
    // eof, not_found, already_open, fd_set_failure: a peer that went away mid-read.
    return ec == asio::error::eof ? 56 : 43;
  }
  if (category == std::system_category() || category == std::generic_category() ||
      category == asio::error::get_system_category())
    return detail::errno_curl_code(ec.value());
  return 42;
}

}  // namespace opensock
