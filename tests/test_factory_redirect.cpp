#include <opensock/factory/redirect.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>
#include <opensock/factory/address_filter.hpp>

#include <asio/io_context.hpp>

using asio::ip::make_address;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

TEST_CASE("redirect_to sends every attempt to another address, keeping the port") {
  asio::io_context io;
  loopback_listener server(io, make_address("127.0.0.4"));
  std::string seen_host;
  auto remember = [&](opensock::open_context<asio::ip::tcp>& context) {
    seen_host = context.host;
    return opensock::default_socket_factory{}(context);
  };
  opensock::connect_only_session session(io.get_executor(),
                                         remember | opensock::redirect_to(make_address("127.0.0.4")));
  REQUIRE(!run_connect(io, session, {"127.0.0.9", server.port()}));
  CHECK(session.remote_endpoint() == server.endpoint());
  CHECK(seen_host == "127.0.0.9");  // the name asked for is unchanged
  CHECK(session.attempts().at(0).endpoint == server.endpoint());
}

TEST_CASE("redirect_to with a port replaces the whole endpoint") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(
      io.get_executor(), opensock::default_socket_factory{} |
                             opensock::redirect_to(make_address("127.0.0.1"), server.port()));
  REQUIRE(!run_connect(io, session, {"127.0.0.1", 1}));
  CHECK(session.remote_endpoint() == server.endpoint());
}

TEST_CASE("the order of layers decides which address a filter judges") {
  asio::io_context io;
  loopback_listener server(io);
  const auto to_server = opensock::redirect_to(make_address("127.0.0.1"), server.port());
  // Filter outermost: it judges the address asked for (127.0.0.8) and lets it pass.
  opensock::connect_only_session judged_before(
      io.get_executor(),
      opensock::default_socket_factory{} | to_server | opensock::deny({"127.0.0.1"}));
  CHECK(!run_connect(io, judged_before, {"127.0.0.8", 1}));
  // Filter inside the redirect: it judges the redirected address and refuses it.
  opensock::connect_only_session judged_after(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::deny({"127.0.0.1"}) | to_server);
  CHECK(run_connect(io, judged_after, {"127.0.0.8", 1}) == opensock::error::refused_by_socket_factory);
}
