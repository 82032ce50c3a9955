#include <opensock/socket_factory.hpp>

#include "support/catch.hpp"

#include <opensock/test/stream.hpp>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <sys/socket.h>

#include <type_traits>

using asio::ip::tcp;
using opensock::factory_stream_t;
using opensock::open_context;
using opensock::socket_factory;
using local_stream = asio::local::stream_protocol;
using test_stream = opensock::test::stream;

namespace {

struct functor_factory {
  int calls = 0;
  tcp::socket operator()(open_context<tcp>& context) {
    ++calls;
    return tcp::socket(context.executor, context.endpoint.protocol());
  }
};

struct counting_close_factory {
  int closes = 0;
  opensock::open_result<tcp::socket> operator()(open_context<tcp>& context) {
    return opensock::default_socket_factory{}(context);
  }
  void close(tcp::socket& socket) {
    ++closes;
    socket.close();
  }
};

}  // namespace

TEST_CASE("the concept accepts every documented answer") {
  auto bare = [](open_context<tcp>& c) { return tcp::socket(c.executor); };
  auto result = [](open_context<tcp>& c) -> opensock::open_result<tcp::socket> {
    return tcp::socket(c.executor);
  };
  auto already = [](open_context<tcp>& c) { return opensock::connected(tcp::socket(c.executor)); };
  auto coroutine = [](open_context<tcp>& c) -> asio::awaitable<tcp::socket> {
    co_return tcp::socket(c.executor);
  };
  auto const_context = [](const open_context<tcp>& c) { return tcp::socket(c.executor); };
  auto generic = [](auto& c) { return opensock::connected(test_stream::make_pair(c.executor).first); };

  STATIC_REQUIRE(socket_factory<decltype(bare), tcp>);
  STATIC_REQUIRE(socket_factory<decltype(result), tcp>);
  STATIC_REQUIRE(socket_factory<decltype(already), tcp>);
  STATIC_REQUIRE(socket_factory<decltype(coroutine), tcp>);
  STATIC_REQUIRE(socket_factory<decltype(const_context), tcp>);
  STATIC_REQUIRE(socket_factory<decltype(generic), tcp>);
  STATIC_REQUIRE(socket_factory<functor_factory, tcp>);
  STATIC_REQUIRE(socket_factory<opensock::default_socket_factory, tcp>);
  STATIC_REQUIRE(socket_factory<opensock::default_socket_factory, local_stream>);

  STATIC_REQUIRE(!opensock::is_coroutine_factory_v<decltype(bare), tcp>);
  STATIC_REQUIRE(opensock::is_coroutine_factory_v<decltype(coroutine), tcp>);
}

TEST_CASE("the concept rejects callables of the wrong shape") {
  auto takes_endpoint = [](tcp::endpoint&) { return 0; };
  auto returns_fd = [](open_context<tcp>&) { return 3; };
  auto returns_refusal_only = [](open_context<tcp>&) { return opensock::refuse(); };
  auto bare_memory_stream = [](open_context<tcp>& c) {
    return test_stream::make_pair(c.executor).first;  // cannot be connected by opensock
  };
  STATIC_REQUIRE(!socket_factory<decltype(takes_endpoint), tcp>);
  STATIC_REQUIRE(!socket_factory<decltype(returns_fd), tcp>);
  STATIC_REQUIRE(!socket_factory<decltype(returns_refusal_only), tcp>);
  STATIC_REQUIRE(!socket_factory<decltype(bare_memory_stream), tcp>);
  STATIC_REQUIRE(!socket_factory<int, tcp>);
}

TEST_CASE("the stream type is deduced from what the factory returns") {
  auto unix_socket = [](open_context<tcp>& c) {
    return opensock::connected(local_stream::socket(c.executor));
  };
  auto memory = [](open_context<tcp>& c) -> asio::awaitable<opensock::open_result<test_stream>> {
    co_return opensock::connected(test_stream::make_pair(c.executor).first);
  };
  STATIC_REQUIRE(std::is_same_v<factory_stream_t<opensock::default_socket_factory, tcp>, tcp::socket>);
  STATIC_REQUIRE(std::is_same_v<factory_stream_t<opensock::default_socket_factory, local_stream>,
                                local_stream::socket>);
  STATIC_REQUIRE(std::is_same_v<factory_stream_t<decltype(unix_socket), tcp>, local_stream::socket>);
  STATIC_REQUIRE(std::is_same_v<factory_stream_t<decltype(memory), tcp>, test_stream>);
  STATIC_REQUIRE(std::is_same_v<factory_stream_t<functor_factory, tcp>, tcp::socket>);
}

TEST_CASE("the default factory opens a socket of the endpoint's family, unconnected") {
  asio::io_context io;
  opensock::default_socket_factory factory;
  for (auto address : {asio::ip::make_address("127.0.0.1"), asio::ip::make_address("::1")}) {
    open_context<tcp> context;
    context.endpoint = tcp::endpoint(address, 80);
    context.executor = io.get_executor();
    auto answer = factory(context);
    REQUIRE(answer.what() == opensock::open_result<tcp::socket>::kind::opened);
    tcp::socket& socket = answer.stream();
    REQUIRE(socket.is_open());
    int family = 0, type = 0, protocol = 0;
    socklen_t length = sizeof(int);
    ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_DOMAIN, &family, &length);
    ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_TYPE, &type, &length);
    ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PROTOCOL, &protocol, &length);
    CHECK(family == (address.is_v6() ? AF_INET6 : AF_INET));
    CHECK(type == SOCK_STREAM);
    CHECK(protocol == IPPROTO_TCP);
    std::error_code ec;
    socket.remote_endpoint(ec);
    CHECK(ec == asio::error::not_connected);
  }
}

TEST_CASE("the default factory opens Unix stream sockets too") {
  asio::io_context io;
  open_context<local_stream> context;
  context.endpoint = local_stream::endpoint("/nonexistent/opensock.sock");
  context.executor = io.get_executor();
  auto answer = opensock::default_socket_factory{}(context);
  REQUIRE(answer.has_stream());
  CHECK(answer.stream().is_open());
}

TEST_CASE("close_stream uses the factory's close when it has one") {
  asio::io_context io;
  counting_close_factory with_close;
  tcp::socket a(io, tcp::v4());
  opensock::close_stream(with_close, a);
  CHECK(with_close.closes == 1);
  CHECK(!a.is_open());

  functor_factory without_close;
  tcp::socket b(io, tcp::v4());
  opensock::close_stream(without_close, b);
  CHECK(!b.is_open());

  auto [left, right] = test_stream::make_pair(io.get_executor());
  opensock::close_stream(without_close, left);
  CHECK(!left.is_open());
}
