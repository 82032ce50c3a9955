#include <opensock/factory/c_callback.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using asio::ip::tcp;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

namespace {

// The state a C program would keep behind its void* pointers.
struct c_state {
  int opened = 0;
  int closed = 0;
  int sockopt_calls = 0;
  int sockopt_answer = OPENSOCK_C_SOCKOPT_OK;
  unsigned short redirect_port = 0;  // host order; 0 keeps the address
  int refuse_family = -1;
  int preconnected_fd = -1;
  std::vector<int> families;
};

extern "C" int c_open(void* clientp, opensock_c_socktype purpose, opensock_c_sockaddr* address) {
  auto* state = static_cast<c_state*>(clientp);
  if (purpose != c_socktype_ipcxn) return -1;
  state->families.push_back(address->family);
  if (address->family == state->refuse_family) return -1;
  if (state->preconnected_fd >= 0) return state->preconnected_fd;
  if (state->redirect_port != 0) {
    auto* in = reinterpret_cast<sockaddr_in*>(&address->addr);
    in->sin_port = htons(state->redirect_port);
  }
  const int fd = ::socket(address->family, address->socktype, address->protocol);
  if (fd >= 0) ++state->opened;
  return fd;
}

extern "C" int c_sockopt(void* clientp, int, opensock_c_socktype) {
  auto* state = static_cast<c_state*>(clientp);
  ++state->sockopt_calls;
  return state->sockopt_answer;
}

extern "C" int c_close(void* clientp, int fd) {
  ++static_cast<c_state*>(clientp)->closed;
  return ::close(fd);
}

std::error_code connect(asio::io_context& io, opensock::c_socket_factory factory,
                        opensock::origin target) {
  opensock::connect_only_session session(io.get_executor(), factory);
  return run_connect(io, session, std::move(target));
}

}  // namespace

TEST_CASE("a curl-style open callback provides the socket, opensock connects it") {
  asio::io_context io;
  loopback_listener server(io);
  c_state state;
  auto factory = opensock::c_socket_factory(c_open, &state).with_close(c_close, &state);
  CHECK(!connect(io, factory, {"127.0.0.1", server.port()}));
  CHECK(state.opened == 1);
  CHECK(state.closed == 1);  // the session closed its connection through the callback
  opensock::test::settle(io);
  CHECK(server.peers().size() == 1);
}

TEST_CASE("the callback may rewrite the address, the connect follows it") {
  asio::io_context io;
  loopback_listener server(io);
  opensock::test::closed_port nothing(io);
  c_state state;
  state.redirect_port = server.port();
  opensock::connect_only_session session(io.get_executor(),
                                         opensock::c_socket_factory(c_open, &state));
  REQUIRE(!run_connect(io, session, {"127.0.0.1", nothing.port()}));
  CHECK(session.remote_endpoint().port() == server.port());
}

TEST_CASE("CURL_SOCKET_BAD refuses the address and the next one is tried") {
  asio::io_context io;
  loopback_listener server(io);
  c_state state;
  state.refuse_family = AF_INET6;
  CHECK(!connect(io, opensock::c_socket_factory(c_open, &state), {"localhost", server.port()}));
  CHECK(state.families == std::vector<int>{AF_INET6, AF_INET});

  c_state refuse_all;
  refuse_all.refuse_family = AF_INET;
  CHECK(connect(io, opensock::c_socket_factory(c_open, &refuse_all),
                {"127.0.0.1", server.port()}) == opensock::error::refused_by_socket_factory);
}

TEST_CASE("the sockopt callback's ALREADY_CONNECTED skips the connect: the seed example") {
  asio::io_context io;
  loopback_listener server(io);
  c_state state;
  tcp::socket established(io);
  established.connect(server.endpoint());
  state.preconnected_fd = established.release();
  state.sockopt_answer = OPENSOCK_C_SOCKOPT_ALREADY_CONNECTED;

  opensock::connect_only_session session(
      io.get_executor(),
      opensock::c_socket_factory(c_open, &state).with_sockopt(c_sockopt, &state));
  // libcurl's example URL is http://99.99.99.99:9999; ours stays on loopback.
  REQUIRE(!run_connect(io, session, {"127.99.99.99", 9999}));
  CHECK(session.lowest_layer().native_handle() == state.preconnected_fd);
  CHECK(state.sockopt_calls == 1);
  opensock::test::settle(io);
  CHECK(server.peers().size() == 1);
}

TEST_CASE("a sockopt error aborts with aborted_by_callback, curl's 42") {
  asio::io_context io;
  loopback_listener server(io);
  c_state state;
  state.sockopt_answer = OPENSOCK_C_SOCKOPT_ERROR;
  auto factory =
      opensock::c_socket_factory(c_open, &state).with_sockopt(c_sockopt, &state).with_close(c_close, &state);
  const auto ec = connect(io, factory, {"localhost", server.port()});
  CHECK(ec == opensock::error::aborted_by_callback);
  CHECK(state.sockopt_calls == 1);  // aborted: the second address is not tried
  CHECK(state.closed == state.opened);
}

TEST_CASE("a rewritten address of a bad family or length aborts, closing the fd") {
  asio::io_context io;
  struct bad_state { int closed = 0; } state;
  auto bad_open = [](void* clientp, opensock_c_socktype, opensock_c_sockaddr* address) -> int {
    (void)clientp;
    address->addr.ss_family = AF_UNIX;
    return ::socket(AF_INET, SOCK_STREAM, 0);
  };
  auto count_close = [](void* clientp, int fd) -> int {
    ++static_cast<bad_state*>(clientp)->closed;
    return ::close(fd);
  };
  auto factory = opensock::c_socket_factory(bad_open, nullptr).with_close(count_close, &state);
  CHECK(connect(io, factory, {"127.0.0.1", 1}) == opensock::error::factory_endpoint_invalid);
  CHECK(state.closed == 1);
}
