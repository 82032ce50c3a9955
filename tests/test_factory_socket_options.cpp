#include <opensock/factory/socket_options.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using asio::ip::tcp;
using opensock::test::loopback_listener;
using opensock::test::run_connect;
using namespace std::chrono_literals;

namespace {

int get_int(const tcp::socket& socket, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  ::getsockopt(const_cast<tcp::socket&>(socket).native_handle(), level, name, &value, &length);
  return value;
}

template <class Factory>
auto connected_session(asio::io_context& io, loopback_listener& server, Factory factory,
                       opensock::connect_options options = {}) {
  auto session = std::make_unique<opensock::connect_only_session<Factory>>(
      io.get_executor(), std::move(factory), std::move(options));
  REQUIRE(!run_connect(io, *session, {"127.0.0.1", server.port()}));
  return session;
}

}  // namespace

TEST_CASE("sessions set TCP_NODELAY by default, as curl does, and can leave it off") {
  asio::io_context io;
  loopback_listener server(io);
  auto on = connected_session(io, server, opensock::default_socket_factory{});
  CHECK(get_int(on->lowest_layer(), IPPROTO_TCP, TCP_NODELAY) != 0);
  opensock::connect_options options;
  options.tcp_nodelay = false;
  auto off = connected_session(io, server, opensock::default_socket_factory{}, options);
  CHECK(get_int(off->lowest_layer(), IPPROTO_TCP, TCP_NODELAY) == 0);
}

TEST_CASE("set_option sets any Asio option on each socket") {
  asio::io_context io;
  loopback_listener server(io);
  auto session = connected_session(
      io, server,
      opensock::default_socket_factory{} |
          opensock::set_option(asio::socket_base::send_buffer_size(64 * 1024),
                               asio::socket_base::reuse_address(true)));
  CHECK(get_int(session->lowest_layer(), SOL_SOCKET, SO_SNDBUF) >= 64 * 1024);
  CHECK(get_int(session->lowest_layer(), SOL_SOCKET, SO_REUSEADDR) == 1);
}

TEST_CASE("keep_alive sets SO_KEEPALIVE and Linux's probe timing") {
  asio::io_context io;
  loopback_listener server(io);
  auto session = connected_session(io, server,
                                   opensock::default_socket_factory{} |
                                       opensock::keep_alive(30s, 5s, 4));
  CHECK(get_int(session->lowest_layer(), SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(get_int(session->lowest_layer(), IPPROTO_TCP, TCP_KEEPIDLE) == 30);
  CHECK(get_int(session->lowest_layer(), IPPROTO_TCP, TCP_KEEPINTVL) == 5);
  CHECK(get_int(session->lowest_layer(), IPPROTO_TCP, TCP_KEEPCNT) == 4);
}

TEST_CASE("type_of_service sets IP_TOS") {
  asio::io_context io;
  loopback_listener server(io);
  auto session = connected_session(io, server,
                                   opensock::default_socket_factory{} | opensock::type_of_service(0x10));
  CHECK(get_int(session->lowest_layer(), IPPROTO_IP, IP_TOS) == 0x10);
}

TEST_CASE("mark sets SO_MARK, or aborts with the kernel's refusal") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(io.get_executor(),
                                         opensock::default_socket_factory{} | opensock::mark(42));
  const auto ec = run_connect(io, session, {"127.0.0.1", server.port()});
  if (::geteuid() == 0) {
    REQUIRE(!ec);
    CHECK(get_int(session.lowest_layer(), SOL_SOCKET, SO_MARK) == 42);
  } else {
    CHECK(ec == asio::error::no_permission);  // without CAP_NET_ADMIN
  }
}

TEST_CASE("an option the socket refuses aborts the connect with its error") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::connect_only_session session(
      io.get_executor(),
      opensock::default_socket_factory{} | opensock::set_option(opensock::int_option{SOL_SOCKET, -1, 1}));
  const auto ec = run_connect(io, session, {"localhost", server.port()});
  CHECK(ec.category() != opensock::error_category());
  CHECK(session.attempts().size() == 1);  // aborted: 127.0.0.1 is not tried
}
