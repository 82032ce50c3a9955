#include <opensock/format.hpp>

#include "support/catch.hpp"

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <string>

TEST_CASE("opensock errors format with their message and curl number") {
  CHECK(fmt::format("{}", std::error_code(opensock::error::couldnt_connect)) ==
        "Couldn't connect to server (curl error 7)");
  CHECK(fmt::format("{}", opensock::error::refused_by_socket_factory) ==
        "Couldn't connect to server: every address was refused by the socket factory "
        "(curl error 7)");
}

TEST_CASE("conditions format with curl's message and number") {
  CHECK(fmt::format("{}", opensock::condition::couldnt_connect) ==
        "Couldn't connect to server (curl error 7)");
  CHECK(fmt::format("{}", std::error_condition(opensock::condition::operation_timedout)) ==
        "Timeout was reached (curl error 28)");
  CHECK(fmt::format("[{:<45}]", opensock::condition::couldnt_connect) ==
        "[Couldn't connect to server (curl error 7)    ]");
  const std::error_condition other = std::errc::connection_refused;
  CHECK(fmt::format("{}", other) ==
        fmt::format("{} [generic:{}]", other.message(), other.value()));
}

TEST_CASE("other error codes format with category and value") {
  const std::error_code refused = asio::error::connection_refused;
  CHECK(fmt::format("{}", refused) ==
        fmt::format("{} [{}:{}]", refused.message(), refused.category().name(), refused.value()));
}

TEST_CASE("formatted errors take width and alignment") {
  const std::string text = fmt::format("[{:>60}]", opensock::error::couldnt_connect);
  CHECK(text.size() == 62);
  CHECK(text.find("] ") == std::string::npos);
  CHECK(text.substr(1, 3) == "   ");
}

TEST_CASE("IP endpoints format as address:port, IPv6 in brackets") {
  using asio::ip::make_address;
  using asio::ip::tcp;
  CHECK(fmt::format("{}", tcp::endpoint(make_address("127.0.0.1"), 80)) == "127.0.0.1:80");
  CHECK(fmt::format("{}", tcp::endpoint(make_address("::1"), 8080)) == "[::1]:8080");
  CHECK(fmt::format("{}", tcp::endpoint(make_address("::ffff:10.0.0.1"), 1)) ==
        "[::ffff:10.0.0.1]:1");
  CHECK(fmt::format("{:>16}", tcp::endpoint(make_address("10.1.2.3"), 5)) == "      10.1.2.3:5");
  CHECK(fmt::format("{}", make_address("fe80::1")) == "fe80::1");
  CHECK(fmt::format("{}", asio::ip::address_v4::loopback()) == "127.0.0.1");
}

TEST_CASE("Unix endpoints format as their path, abstract names with '@'") {
  using endpoint = asio::local::stream_protocol::endpoint;
  CHECK(fmt::format("{}", endpoint("/run/app.sock")) == "/run/app.sock");
  CHECK(fmt::format("{}", endpoint(std::string("\0opensock", 9))) == "@opensock");
}

TEST_CASE("purposes format as words") {
  CHECK(fmt::format("{}/{}", opensock::purpose::origin, opensock::purpose::proxy) ==
        "origin/proxy");
}
