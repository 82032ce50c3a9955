#include <opensock/error.hpp>

#include "support/catch.hpp"

#include <asio/error.hpp>

#include <cerrno>
#include <future>
#include <string>

using opensock::curl_code;
using opensock::error;

TEST_CASE("opensock errors carry libcurl's CURLcode numbers") {
  CHECK(static_cast<int>(error::unsupported_protocol) == 1);
  CHECK(static_cast<int>(error::url_malformat) == 3);
  CHECK(static_cast<int>(error::couldnt_resolve_proxy) == 5);
  CHECK(static_cast<int>(error::couldnt_resolve_host) == 6);
  CHECK(static_cast<int>(error::couldnt_connect) == 7);
  CHECK(static_cast<int>(error::weird_server_reply) == 8);
  CHECK(static_cast<int>(error::partial_file) == 18);
  CHECK(static_cast<int>(error::http_returned_error) == 22);
  CHECK(static_cast<int>(error::operation_timedout) == 28);
  CHECK(static_cast<int>(error::ssl_connect_error) == 35);
  CHECK(static_cast<int>(error::aborted_by_callback) == 42);
  CHECK(static_cast<int>(error::interface_failed) == 45);
  CHECK(static_cast<int>(error::too_many_redirects) == 47);
  CHECK(static_cast<int>(error::got_nothing) == 52);
  CHECK(static_cast<int>(error::send_error) == 55);
  CHECK(static_cast<int>(error::recv_error) == 56);
  CHECK(static_cast<int>(error::ssl_certproblem) == 58);
  CHECK(static_cast<int>(error::peer_failed_verification) == 60);
  CHECK(static_cast<int>(error::bad_content_encoding) == 61);
  CHECK(static_cast<int>(error::ssl_cacert_badfile) == 77);
  CHECK(static_cast<int>(error::proxy) == 97);
  CHECK(static_cast<int>(error::too_large) == 100);
}

TEST_CASE("an opensock error converts to a std::error_code of the opensock category") {
  const std::error_code ec = error::couldnt_connect;
  CHECK(ec.category().name() == std::string("opensock"));
  CHECK(ec.value() == 7);
  CHECK(ec.message() == "Couldn't connect to server");
  CHECK(ec == error::couldnt_connect);
  CHECK(ec != error::couldnt_resolve_host);
  CHECK(std::error_code(error::couldnt_resolve_host).message() == "Couldn't resolve host name");
  CHECK(std::error_code(error::operation_timedout).message() == "Timeout was reached");
  CHECK(std::error_code(error::got_nothing).message() ==
        "Server returned nothing (no headers, no data)");
}

TEST_CASE("every error has a message of its own") {
  for (int value = 1; value < 1100; ++value) {
    const std::string message = std::error_code(value, opensock::error_category()).message();
    const bool known = message.rfind("Unknown opensock error", 0) != 0;
    if (!known) continue;
    CAPTURE(value, message);
    CHECK(!message.empty());
    CHECK(curl_code(std::error_code(value, opensock::error_category())) > 0);
  }
  CHECK(std::error_code(999, opensock::error_category()).message() == "Unknown opensock error 999");
}

TEST_CASE("refined errors keep the curl number they refine, with a sharper message") {
  const std::error_code refused = error::refused_by_socket_factory;
  CHECK(refused != error::couldnt_connect);
  CHECK(curl_code(refused) == 7);
  CHECK(refused.message().find("refused by the socket factory") != std::string::npos);
  CHECK(curl_code(error::factory_socket_not_open) == 43);
  CHECK(curl_code(error::factory_stream_not_connectable) == 43);
  CHECK(curl_code(error::factory_endpoint_invalid) == 43);
  CHECK(curl_code(error::host_has_no_address) == 6);
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
  CHECK(curl_code(std::make_error_code(std::errc::connection_refused)) == 7);
  CHECK(curl_code(std::make_error_code(std::errc::not_enough_memory)) == 27);
}

TEST_CASE("an error code curl_code does not know came from a callback: 42") {
  CHECK(curl_code(std::make_error_code(std::future_errc::broken_promise)) == 42);
  CHECK(curl_code(std::make_error_code(std::errc::permission_denied)) == 42);
}
