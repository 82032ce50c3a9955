#include <opensock/factory/address_filter.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

TEST_CASE("deny refuses the listed networks, the next address is tried") {
  asio::io_context io;
  loopback_listener server(io);  // 127.0.0.1
  opensock::connect_only_session session(
      io.get_executor(), opensock::default_socket_factory{} | opensock::deny({"::1/128"}));
  REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  REQUIRE(session.attempts().size() == 2);
  CHECK(session.attempts()[0].outcome == opensock::attempt_outcome::refused);
  CHECK(session.attempts()[0].error == opensock::error::refused_by_socket_factory);
  CHECK(session.attempts()[1].outcome == opensock::attempt_outcome::connected);
}

TEST_CASE("deny matches IPv4 networks in IPv4-mapped and -compatible IPv6") {
  const auto filter = opensock::deny({"127.0.0.0/8"});
  opensock::open_context<tcp> context;
  for (const char* address : {"127.0.0.1", "::ffff:127.0.0.5", "::127.0.0.9"}) {
    CAPTURE(address);
    context.endpoint = tcp::endpoint(make_address(address), 80);
    CHECK(std::holds_alternative<opensock::refusal>(filter.before(context)));
  }
  context.endpoint = tcp::endpoint(make_address("::1"), 80);
  CHECK(std::holds_alternative<std::monostate>(filter.before(context)));
}

TEST_CASE("allow refuses everything outside the listed networks") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session allowed(
      io.get_executor(), opensock::default_socket_factory{} | opensock::allow({"127.0.0.0/8"}));
  REQUIRE(!run_connect(io, allowed, {"localhost", server.port()}));
  CHECK(allowed.attempts().size() == 2);  // ::1 refused, 127.0.0.1 connected

  opensock::connect_only_session refused(
      io.get_executor(), opensock::default_socket_factory{} | opensock::allow({"10.0.0.0/8"}));
  CHECK(run_connect(io, refused, {"127.0.0.1", server.port()}) ==
        opensock::error::refused_by_socket_factory);
}

TEST_CASE("filters stack: allow a network, deny a host inside it") {
  asio::io_context io;
  loopback_listener server(io);
  auto factory = opensock::default_socket_factory{} | opensock::allow({"127.0.0.0/8"}) |
                 opensock::deny({"127.0.0.1"});
  opensock::connect_only_session session(io.get_executor(), factory);
  CHECK(run_connect(io, session, {"127.0.0.1", server.port()}) ==
        opensock::error::refused_by_socket_factory);
}

TEST_CASE("a string that is not a network throws at construction") {
  CHECK_THROWS_AS(opensock::deny({"10.0.0.0/8", "ten"}), std::system_error);
  CHECK_THROWS_AS(opensock::allow({"::/200"}), std::system_error);
}
