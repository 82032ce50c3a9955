#include <opensock/factory/bind.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

#include <unistd.h>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

TEST_CASE("a socket bound to 127.0.0.2 is seen by the server as coming from 127.0.0.2") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::bind_local(make_address("127.0.0.2")));
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  opensock::test::settle(io);
  REQUIRE(server.peers().size() == 1);
  CHECK(server.peers()[0].address() == make_address("127.0.0.2"));
}

TEST_CASE("a source address of one family refuses attempts of the other") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::bind_local(make_address("127.0.0.3")));
  REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  REQUIRE(session.attempts().size() == 2);
  CHECK(session.attempts()[0].endpoint.address().is_v6());
  CHECK(session.attempts()[0].error == opensock::error::interface_failed);
  opensock::test::settle(io);
  CHECK(server.peers().at(0).address() == make_address("127.0.0.3"));

  opensock::connect_only_session v6_only(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::bind_local(make_address("::1")));
  const auto ec = run_connect(io, v6_only, {"127.0.0.1", server.port()});
  CHECK(ec == opensock::error::interface_failed);
  CHECK(opensock::curl_code(ec) == 45);
}

TEST_CASE("a local port range takes the first free port") {
  asio::io_context io;
  loopback_listener server(io);
  // Find two adjacent free ports, then occupy the first.
  tcp::acceptor probe(io, {make_address("127.0.0.1"), 0});
  const std::uint16_t busy = probe.local_endpoint().port();
  const auto range = opensock::port_range{busy, static_cast<std::uint16_t>(busy + 5)};
  opensock::connect_only_session session(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::bind_local(make_address("127.0.0.1"), range));
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  const auto local = session.lowest_layer().local_endpoint().port();
  CHECK(local > busy);
  CHECK(local <= busy + 5);
}

TEST_CASE("no free port in the range: interface_failed, curl's 45") {
  asio::io_context io;
  loopback_listener server(io);
  tcp::acceptor taken(io, {make_address("127.0.0.1"), 0});
  const std::uint16_t port = taken.local_endpoint().port();
  opensock::connect_only_session session(
      io.get_executor(), opensock::default_socket_factory{} |
                             opensock::bind_local(make_address("127.0.0.1"), {port, port}));
  CHECK(run_connect(io, session, {"127.0.0.1", server.port()}) == opensock::error::interface_failed);
}

TEST_CASE("binding to a device: lo works, a missing one is interface_failed") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session missing(
      io.get_executor(), opensock::default_socket_factory{} | opensock::bind_device("nosuchdev0"));
  CHECK(run_connect(io, missing, {"127.0.0.1", server.port()}) == opensock::error::interface_failed);
  if (::geteuid() != 0) {
    WARN("not root: SO_BINDTODEVICE on lo not tried");
    return;
  }
  opensock::connect_only_session on_lo(
      io.get_executor(), opensock::default_socket_factory{} | opensock::bind_device("lo"));
  CHECK(!run_connect(io, on_lo, {"127.0.0.1", server.port()}));
}

TEST_CASE("a route's local end: bound by the connector, with the factory's layer's rules") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(io.get_executor());
  opensock::route from_two(opensock::origin("localhost", server.port()));
  from_two.local = opensock::local_binding(make_address("127.0.0.2"));
  // localhost is ::1 first: that attempt is refused, not the connect.
  REQUIRE(!run_connect(io, session, from_two));
  REQUIRE(session.attempts().size() == 2);
  CHECK(session.attempts()[0].endpoint.address().is_v6());
  CHECK(session.attempts()[0].outcome == opensock::attempt_outcome::refused);
  CHECK(session.attempts()[0].error == opensock::error::interface_failed);
  opensock::test::settle(io);
  REQUIRE(server.peers().size() == 1);
  CHECK(server.peers()[0].address() == make_address("127.0.0.2"));

  opensock::connect_only_session missing_device(io.get_executor());
  opensock::route on_missing(opensock::origin("127.0.0.1", server.port()));
  on_missing.local.device = "nosuchdev0";
  const auto ec = run_connect(io, missing_device, on_missing);
  CHECK(ec == opensock::error::interface_failed);
  CHECK(opensock::curl_code(ec) == 45);
  CHECK(missing_device.attempts().at(0).outcome == opensock::attempt_outcome::aborted);
}

TEST_CASE("a route's local end leaves a socket the factory connected itself as it is") {
  asio::io_context io;
  loopback_listener server(io);
  auto connects_itself = [&](opensock::open_context<tcp>& context)
      -> opensock::open_result<tcp::socket> {
    tcp::socket socket(context.executor);
    socket.connect(context.endpoint);
    return opensock::connected(std::move(socket));
  };
  opensock::connect_only_session session(io.get_executor(), connects_itself);
  opensock::route r(opensock::origin("127.0.0.1", server.port()));
  r.local = opensock::local_binding(make_address("127.0.0.2"));
  REQUIRE(!run_connect(io, session, r));
  opensock::test::settle(io);
  REQUIRE(server.peers().size() == 1);
  CHECK(server.peers()[0].address() == make_address("127.0.0.1"));
}
