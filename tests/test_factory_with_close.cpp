#include <opensock/factory/with_close.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

#include <fcntl.h>
#include <unistd.h>

using asio::ip::tcp;
using opensock::open_context;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

TEST_CASE("with_close gives a lambda factory its own close step") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::test::closed_port nothing(io);
  int closes = 0;
  auto factory = opensock::with_close(
      [](open_context<tcp>& context) { return opensock::default_socket_factory{}(context); },
      [&](tcp::socket& socket) {
        ++closes;
        socket.close();
      });
  STATIC_REQUIRE(opensock::socket_factory<decltype(factory), tcp>);

  opensock::connect_only_session session(io.get_executor(), factory);
  CHECK(run_connect(io, session, {"127.0.0.1", nothing.port()}) ==
        opensock::error::couldnt_connect);
  CHECK(closes == 1);  // the failed attempt
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  session.close();
  CHECK(closes == 2);
}

TEST_CASE("a close step may keep a socket it does not own open") {
  asio::io_context io;
  loopback_listener server(io);
  tcp::socket established(io);
  established.connect(server.endpoint());
  const int handle = established.native_handle();
  int kept = -1;
  {
    auto factory = opensock::with_close(
        [&](open_context<tcp>& context) {
          return opensock::connected(tcp::socket(context.executor, tcp::v4(), established.release()));
        },
        [&](tcp::socket& socket) { kept = socket.release(); });
    opensock::connect_only_session session(io.get_executor(), factory);
    REQUIRE(!run_connect(io, session, {"127.0.0.1", 1}));
  }
  REQUIRE(kept == handle);
  CHECK(::fcntl(kept, F_GETFD) != -1);  // still open after the session is gone
  ::close(kept);
}
