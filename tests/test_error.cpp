#include <opensock/error.hpp>

#include "support/catch.hpp"

#include <asio/error.hpp>

#include <algorithm>
#include <cerrno>
#include <future>
#include <string>
#include <vector>

using opensock::condition;
using opensock::curl_code;
using opensock::error;
using opensock::to_condition;

namespace {

// Every opensock error: the values the enum names, found through their messages.
std::vector<std::error_code> every_error() {
  std::vector<std::error_code> errors;
  for (int value = -10; value < 1200; ++value) {
    const std::error_code ec(value, opensock::error_category());
    if (ec.message().rfind("Unknown opensock error", 0) != 0) errors.push_back(ec);
  }
  return errors;
}

// libcurl's CURLcode numbers of the conditions.
const std::vector<int> curl_numbers = {1,  2,  3,  4,  5,  6,  7,  8,  16, 18, 22, 23,
                                       25, 26, 27, 28, 35, 42, 43, 45, 47, 52, 55, 56,
                                       58, 59, 60, 61, 63, 65, 77, 90, 97, 100};

}  // namespace

TEST_CASE("conditions are libcurl's CURLcode numbers") {
  CHECK(static_cast<int>(condition::unsupported_protocol) == 1);
  CHECK(static_cast<int>(condition::failed_init) == 2);
  CHECK(static_cast<int>(condition::url_malformat) == 3);
  CHECK(static_cast<int>(condition::not_built_in) == 4);
  CHECK(static_cast<int>(condition::couldnt_resolve_proxy) == 5);
  CHECK(static_cast<int>(condition::couldnt_resolve_host) == 6);
  CHECK(static_cast<int>(condition::couldnt_connect) == 7);
  CHECK(static_cast<int>(condition::weird_server_reply) == 8);
  CHECK(static_cast<int>(condition::http2) == 16);
  CHECK(static_cast<int>(condition::partial_file) == 18);
  CHECK(static_cast<int>(condition::http_returned_error) == 22);
  CHECK(static_cast<int>(condition::write_error) == 23);
  CHECK(static_cast<int>(condition::read_error) == 26);
  CHECK(static_cast<int>(condition::out_of_memory) == 27);
  CHECK(static_cast<int>(condition::operation_timedout) == 28);
  CHECK(static_cast<int>(condition::ssl_connect_error) == 35);
  CHECK(static_cast<int>(condition::aborted_by_callback) == 42);
  CHECK(static_cast<int>(condition::bad_function_argument) == 43);
  CHECK(static_cast<int>(condition::interface_failed) == 45);
  CHECK(static_cast<int>(condition::too_many_redirects) == 47);
  CHECK(static_cast<int>(condition::got_nothing) == 52);
  CHECK(static_cast<int>(condition::send_error) == 55);
  CHECK(static_cast<int>(condition::recv_error) == 56);
  CHECK(static_cast<int>(condition::ssl_certproblem) == 58);
  CHECK(static_cast<int>(condition::ssl_cipher) == 59);
  CHECK(static_cast<int>(condition::peer_failed_verification) == 60);
  CHECK(static_cast<int>(condition::bad_content_encoding) == 61);
  CHECK(static_cast<int>(condition::filesize_exceeded) == 63);
  CHECK(static_cast<int>(condition::send_fail_rewind) == 65);
  CHECK(static_cast<int>(condition::ssl_cacert_badfile) == 77);
  CHECK(static_cast<int>(condition::ssl_pinnedpubkeynotmatch) == 90);
  CHECK(static_cast<int>(condition::proxy) == 97);
  CHECK(static_cast<int>(condition::too_large) == 100);
}

TEST_CASE("a condition converts to a std::error_condition with curl's message") {
  const std::error_condition refused = condition::couldnt_connect;
  CHECK(refused.category() == opensock::condition_category());
  CHECK(refused.category().name() == std::string("opensock.condition"));
  CHECK(refused.value() == 7);
  CHECK(refused.message() == "Couldn't connect to server");
  CHECK(std::error_condition(condition::couldnt_resolve_host).message() ==
        "Couldn't resolve host name");
  CHECK(std::error_condition(condition::operation_timedout).message() == "Timeout was reached");
  CHECK(std::error_condition(condition::aborted_by_callback).message() ==
        "Operation was aborted by an application callback");
  CHECK(std::error_condition(condition::filesize_exceeded).message() ==
        "Maximum file size exceeded");
  CHECK(std::error_condition(0, opensock::condition_category()).message() == "No error");
  CHECK(std::error_condition(999, opensock::condition_category()).message() == "Unknown error");
  for (int number : curl_numbers) {
    CAPTURE(number);
    CHECK(std::error_condition(number, opensock::condition_category()).message() !=
          "Unknown error");
  }
}

TEST_CASE("an opensock error converts to a std::error_code of the opensock category") {
  const std::error_code ec = error::couldnt_connect;
  CHECK(ec.category().name() == std::string("opensock"));
  CHECK(ec.message() == "Couldn't connect to server");
  CHECK(ec == error::couldnt_connect);
  CHECK(ec != error::couldnt_resolve_host);
  CHECK(ec != error::refused_by_socket_factory);
  CHECK(std::error_code(error::couldnt_resolve_host).message() == "Couldn't resolve host name");
  CHECK(std::error_code(error::operation_timedout).message() == "Timeout was reached");
  CHECK(std::error_code(error::got_nothing).message() ==
        "Server returned nothing (no headers, no data)");
}

TEST_CASE("ECONNREFUSED is couldnt_connect, from the system and from Asio") {
  const std::error_code system_refused(ECONNREFUSED, std::system_category());
  const std::error_code asio_refused = asio::error::connection_refused;
  CHECK(system_refused == condition::couldnt_connect);
  CHECK(asio_refused == condition::couldnt_connect);
  CHECK(std::make_error_code(std::errc::connection_refused) == condition::couldnt_connect);
  CHECK(system_refused != condition::couldnt_resolve_host);
  CHECK(system_refused != condition::aborted_by_callback);
  CHECK(to_condition(system_refused) == condition::couldnt_connect);
  CHECK(curl_code(system_refused) == 7);
  // The code itself is not an opensock error: only the conditions agree.
  CHECK(system_refused != error::couldnt_connect);
}

TEST_CASE("every opensock error compares equal to exactly one condition, and curl_code is its "
          "number") {
  const std::vector<std::error_code> errors = every_error();
  CHECK(errors.size() == 105);
  for (const std::error_code& ec : errors) {
    CAPTURE(ec.value(), ec.message());
    int matches = 0;
    int matched = 0;
    for (int number = 0; number < 1100; ++number) {
      if (ec == std::error_condition(number, opensock::condition_category())) {
        ++matches;
        matched = number;
      }
    }
    CHECK(matches == 1);
    CHECK(curl_code(ec) == matched);
    CHECK(static_cast<int>(to_condition(ec)) == matched);
    CHECK(ec.default_error_condition() == std::error_condition(to_condition(ec)));
    CHECK(std::find(curl_numbers.begin(), curl_numbers.end(), matched) != curl_numbers.end());
  }
}

TEST_CASE("the errors named after a condition have its number and its message") {
  const auto same = [](error e, condition c, int number) {
    const std::error_code ec = e;
    CAPTURE(ec.message(), number);
    CHECK(ec == c);
    CHECK(curl_code(ec) == number);
    CHECK(ec.message() == std::error_condition(c).message());
  };
  same(error::unsupported_protocol, condition::unsupported_protocol, 1);
  same(error::url_malformat, condition::url_malformat, 3);
  same(error::couldnt_resolve_proxy, condition::couldnt_resolve_proxy, 5);
  same(error::couldnt_resolve_host, condition::couldnt_resolve_host, 6);
  same(error::couldnt_connect, condition::couldnt_connect, 7);
  same(error::weird_server_reply, condition::weird_server_reply, 8);
  same(error::partial_file, condition::partial_file, 18);
  same(error::http_returned_error, condition::http_returned_error, 22);
  same(error::operation_timedout, condition::operation_timedout, 28);
  same(error::ssl_connect_error, condition::ssl_connect_error, 35);
  same(error::aborted_by_callback, condition::aborted_by_callback, 42);
  same(error::interface_failed, condition::interface_failed, 45);
  same(error::too_many_redirects, condition::too_many_redirects, 47);
  same(error::got_nothing, condition::got_nothing, 52);
  same(error::send_error, condition::send_error, 55);
  same(error::recv_error, condition::recv_error, 56);
  same(error::ssl_certproblem, condition::ssl_certproblem, 58);
  same(error::peer_failed_verification, condition::peer_failed_verification, 60);
  same(error::bad_content_encoding, condition::bad_content_encoding, 61);
  same(error::ssl_cacert_badfile, condition::ssl_cacert_badfile, 77);
  same(error::ssl_pinnedpubkeynotmatch, condition::ssl_pinnedpubkeynotmatch, 90);
  same(error::proxy, condition::proxy, 97);
  same(error::too_large, condition::too_large, 100);
}

TEST_CASE("refined errors fall under their condition, with a sharper message") {
  const std::error_code refused = error::refused_by_socket_factory;
  CHECK(refused != error::couldnt_connect);
  CHECK(refused == condition::couldnt_connect);
  CHECK(curl_code(refused) == 7);
  CHECK(refused.message().find("refused by the socket factory") != std::string::npos);
  CHECK(refused.message() != std::error_condition(condition::couldnt_connect).message());

  const auto refines = [](error e, condition c, int number) {
    const std::error_code ec = e;
    CAPTURE(ec.message(), number);
    CHECK(ec == c);
    CHECK(curl_code(ec) == number);
    CHECK(to_condition(ec) == c);
  };
  refines(error::refused_by_socket_factory, condition::couldnt_connect, 7);
  refines(error::factory_socket_not_open, condition::bad_function_argument, 43);
  refines(error::factory_stream_not_connectable, condition::bad_function_argument, 43);
  refines(error::factory_endpoint_invalid, condition::bad_function_argument, 43);
  refines(error::host_has_no_address, condition::couldnt_resolve_host, 6);
  refines(error::http09_not_allowed, condition::unsupported_protocol, 1);
  refines(error::unsupported_http_version, condition::unsupported_protocol, 1);
  refines(error::unsupported_status_code, condition::unsupported_protocol, 1);
  refines(error::malformed_header, condition::weird_server_reply, 8);
  refines(error::incomplete_header, condition::weird_server_reply, 8);
  refines(error::invalid_header_byte, condition::weird_server_reply, 8);
  refines(error::folded_framing_field, condition::weird_server_reply, 8);
  refines(error::unrequested_protocol_switch, condition::weird_server_reply, 8);
  refines(error::chunked_not_last, condition::bad_content_encoding, 61);
  refines(error::transfer_coding_not_decoded, condition::bad_content_encoding, 61);
  refines(error::bad_content_length, condition::weird_server_reply, 8);
  refines(error::malformed_chunk, condition::recv_error, 56);
  refines(error::response_headers_too_large, condition::recv_error, 56);
  refines(error::too_many_response_headers, condition::too_large, 100);
  refines(error::proxy_protocol_send_failed, condition::send_error, 55);
  refines(error::version_changed, condition::weird_server_reply, 8);
  refines(error::ntlm_message_too_large, condition::too_large, 100);
  refines(error::chunked_upload_to_http10, condition::upload_failed, 25);
  refines(error::body_too_large, condition::filesize_exceeded, 63);
  refines(error::invalid_request_field, condition::bad_function_argument, 43);
  refines(error::unframable_request_body, condition::bad_function_argument, 43);
  refines(error::header_line_too_long, condition::too_large, 100);
  refines(error::tls_not_built, condition::unsupported_protocol, 1);
  // A proxy's handshake, each of curl's CURLINFO_PROXY_ERROR meanings.
  for (int e = static_cast<int>(error::proxy_closed);
       e <= static_cast<int>(error::proxy_unknown_fail); ++e)
    refines(static_cast<error>(e), condition::proxy, 97);
  refines(error::tunnel_failed, condition::couldnt_connect, 7);
  refines(error::tunnel_aborted, condition::recv_error, 56);
  // WebSocket.
  refines(error::websocket_refused, condition::http_returned_error, 22);
  refines(error::websocket_bad_handshake, condition::weird_server_reply, 8);
  refines(error::websocket_closed, condition::got_nothing, 52);
  refines(error::websocket_protocol_error, condition::recv_error, 56);
  refines(error::websocket_invalid_utf8, condition::recv_error, 56);
  refines(error::websocket_message_too_big, condition::too_large, 100);
  refines(error::websocket_bad_compression, condition::bad_content_encoding, 61);
  refines(error::websocket_deflate_not_built, condition::not_built_in, 4);
  refines(error::websocket_url_for_http, condition::unsupported_protocol, 1);
  refines(error::unknown_content_coding, condition::bad_content_encoding, 61);
  refines(error::too_many_content_codings, condition::bad_content_encoding, 61);
  refines(error::corrupt_content_coding, condition::bad_content_encoding, 61);
  refines(error::content_coding_ratio_exceeded, condition::bad_content_encoding, 61);
  refines(error::decoded_body_too_large, condition::filesize_exceeded, 63);
  refines(error::repeated_location, condition::weird_server_reply, 8);
  refines(error::not_http_after_interim, condition::weird_server_reply, 8);
  refines(error::http09_without_body, condition::weird_server_reply, 8);
}

TEST_CASE("curl_code maps system and Asio errors to curl's meaning") {
  CHECK(curl_code({}) == 0);
  CHECK(curl_code(error::couldnt_connect) == 7);
  CHECK(curl_code(asio::error::connection_refused) == 7);
  CHECK(curl_code(asio::error::network_unreachable) == 7);
  CHECK(curl_code(asio::error::host_unreachable) == 7);
  CHECK(curl_code(asio::error::timed_out) == 28);
  CHECK(curl_code(asio::error::connection_reset) == 56);
  CHECK(curl_code(asio::error::broken_pipe) == 55);
  CHECK(curl_code(asio::error::address_in_use) == 45);
  CHECK(curl_code(asio::error::operation_aborted) == 42);
  CHECK(curl_code(asio::error::host_not_found) == 6);
  CHECK(curl_code(asio::error::host_not_found_try_again) == 6);
  CHECK(curl_code(asio::error::eof) == 56);
  CHECK(curl_code(asio::error::not_found) == 43);
  CHECK(curl_code(std::make_error_code(std::errc::connection_refused)) == 7);
  CHECK(curl_code(std::make_error_code(std::errc::not_enough_memory)) == 27);
  CHECK(curl_code(std::error_code(EADDRNOTAVAIL, std::system_category())) == 45);
}

TEST_CASE("system and Asio errors compare equal to the condition curl_code names") {
  const std::error_code timed_out = asio::error::timed_out;
  CHECK(timed_out == condition::operation_timedout);
  CHECK(std::error_code(asio::error::host_not_found) == condition::couldnt_resolve_host);
  CHECK(std::error_code(asio::error::eof) == condition::recv_error);
  CHECK(std::error_code(asio::error::eof) != condition::got_nothing);
  CHECK(std::error_code(asio::error::broken_pipe) == condition::send_error);
  CHECK(std::error_code(asio::error::address_in_use) == condition::interface_failed);
  CHECK(std::error_code(asio::error::operation_aborted) == condition::aborted_by_callback);
  CHECK(std::make_error_code(std::errc::not_enough_memory) == condition::out_of_memory);
  const std::vector<std::error_code> foreign = {
      asio::error::connection_refused, asio::error::timed_out,  asio::error::host_not_found,
      asio::error::eof,                asio::error::broken_pipe, asio::error::connection_reset,
      asio::error::operation_aborted,  asio::error::not_found};
  for (const std::error_code& ec : foreign) {
    CAPTURE(ec.message());
    int matches = 0;
    for (int number : curl_numbers)
      if (ec == std::error_condition(number, opensock::condition_category())) {
        ++matches;
        CHECK(curl_code(ec) == number);
      }
    CHECK(matches == 1);
  }
}

TEST_CASE("a code opensock does not know came from a callback: aborted_by_callback, 42") {
  const std::error_code broken = std::make_error_code(std::future_errc::broken_promise);
  CHECK(curl_code(broken) == 42);
  CHECK(to_condition(broken) == condition::aborted_by_callback);
  CHECK(broken == condition::aborted_by_callback);
  for (int number : curl_numbers) {
    if (number == 42) continue;
    CAPTURE(number);
    CHECK(broken != std::error_condition(number, opensock::condition_category()));
  }
  CHECK(curl_code(std::make_error_code(std::errc::permission_denied)) == 42);
  CHECK(std::make_error_code(std::errc::permission_denied) == condition::aborted_by_callback);
  // A value of opensock's category that names no error is just as unknown.
  CHECK(curl_code(std::error_code(999, opensock::error_category())) == 42);
  CHECK(std::error_code(999, opensock::error_category()).message() ==
        "Unknown opensock error 999");
}

TEST_CASE("success compares equal to no condition") {
  const std::error_code ok;
  CHECK(to_condition(ok) == condition{});
  CHECK(curl_code(ok) == 0);
  for (int number : curl_numbers)
    CHECK(ok != std::error_condition(number, opensock::condition_category()));
}

namespace {

// A user's category that names an opensock condition for its codes, as opensock's does.
class user_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "user"; }
  std::string message(int) const override { return "the user's proxy said no"; }
  std::error_condition default_error_condition(int) const noexcept override {
    return condition::proxy;
  }
};

}  // namespace

TEST_CASE("a category whose default condition is an opensock condition keeps it") {
  static const user_category category;
  const std::error_code ec(1, category);
  CHECK(ec == condition::proxy);
  CHECK(to_condition(ec) == condition::proxy);
  CHECK(curl_code(ec) == 97);
  CHECK(ec != condition::aborted_by_callback);
}
