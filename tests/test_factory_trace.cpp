#include <opensock/factory/trace.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>
#include <opensock/factory/address_filter.hpp>

#include <asio/io_context.hpp>

#include <string>
#include <vector>

using opensock::test::loopback_listener;
using opensock::test::run_connect;

TEST_CASE("trace writes each attempt with its address and answer, and each close") {
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> lines;
  auto factory = opensock::default_socket_factory{} | opensock::deny({"::1"}) |
                 opensock::trace([&](std::string_view line) { lines.emplace_back(line); });
  {
    opensock::connect_only_session session(io.get_executor(), factory);
    REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  }
  REQUIRE(lines.size() == 3);
  const auto port = std::to_string(server.port());
  CHECK(lines[0] == "* attempt 1 to [::1]:" + port + " for localhost:" + port +
                        " (origin): refused: Couldn't connect to server: every address was "
                        "refused by the socket factory (curl error 7)");
  CHECK(lines[1] == "* attempt 2 to 127.0.0.1:" + port + " for localhost:" + port + " (origin): opened");
  CHECK(lines[2].rfind("* closing socket ", 0) == 0);
}
