#include <opensock/connector/connect.hpp>

#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/test/stream.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>

#include <fmt/format.h>

#include <vector>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::attempt_outcome;
using opensock::open_context;
using opensock::open_result;
using opensock::test::closed_port;
using opensock::test::loopback_listener;
using test_stream = opensock::test::stream;
using opensock::test::run;

namespace {

// Records what it was asked and lets each test decide its answer.
template <class Decide>
struct recording_factory {
  Decide decide;
  std::vector<tcp::endpoint> offered{};
  std::vector<unsigned> attempts{};
  int opened = 0;
  int closed = 0;

  open_result<tcp::socket> operator()(open_context<tcp>& context) {
    offered.push_back(context.endpoint);
    attempts.push_back(context.attempt);
    open_result<tcp::socket> answer = decide(context);
    if (answer.has_stream()) ++opened;
    return answer;
  }
  void close(tcp::socket& socket) {
    ++closed;
    socket.close();
  }
};

template <class Decide>
recording_factory<Decide> recording(Decide decide) {
  return {std::move(decide)};
}

open_result<tcp::socket> open_default(open_context<tcp>& context) {
  return opensock::default_socket_factory{}(context);
}

open_context<tcp> prototype(asio::io_context& io) {
  open_context<tcp> context;
  context.host = "service.test";
  context.port = 80;
  context.scheme = "tcp";
  context.executor = io.get_executor();
  return context;
}

template <class Factory>
auto connect(asio::io_context& io, Factory& factory, const std::vector<tcp::endpoint>& endpoints) {
  return run(io, opensock::connect_in_order(factory, std::span<const tcp::endpoint>(endpoints),
                                            prototype(io)));
}

tcp::endpoint loopback(std::uint16_t port, const char* address = "127.0.0.1") {
  return {make_address(address), port};
}

// A TCP socket that counts its moves in `moves`.
struct counted_socket {
  counted_socket(const asio::any_io_executor& executor, int& moves)
      : socket(executor), moves(&moves) {}
  counted_socket(counted_socket&& other) noexcept
      : socket(std::move(other.socket)), moves(other.moves) {
    ++*moves;
  }
  auto get_executor() { return socket.get_executor(); }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket.async_write_some(buffers, std::forward<Token>(token));
  }
  template <class Token>
  auto async_connect(const tcp::endpoint& to, Token&& token) {
    return socket.async_connect(to, std::forward<Token>(token));
  }
  bool is_open() const { return socket.is_open(); }
  void close(std::error_code& ec) { socket.close(ec); }

  tcp::socket socket;
  int* moves;
};

}  // namespace

TEST_CASE("an opened socket is connected to the endpoint") {
  asio::io_context io;
  loopback_listener server(io);
  auto factory = recording(open_default);
  auto result = connect(io, factory, {server.endpoint()});
  REQUIRE(!result.error);
  REQUIRE(result.stream);
  CHECK(result.stream->remote_endpoint() == server.endpoint());
  CHECK(result.endpoint == server.endpoint());
  CHECK(factory.attempts == std::vector<unsigned>{1});
  opensock::test::settle(io);
  CHECK(server.peers().size() == 1);
  CHECK(server.peers()[0] == result.stream->local_endpoint());
}

TEST_CASE("the connect goes to the endpoint as the factory rewrote it") {
  asio::io_context io;
  loopback_listener server(io);
  closed_port nothing(io);
  auto factory = recording([&](open_context<tcp>& context) {
    context.endpoint.port(server.port());
    return open_default(context);
  });
  auto result = connect(io, factory, {loopback(nothing.port())});
  REQUIRE(!result.error);
  CHECK(factory.offered[0].port() == nothing.port());
  CHECK(result.endpoint == server.endpoint());
  CHECK(result.stream->remote_endpoint() == server.endpoint());
}

TEST_CASE("a refused address is skipped and the next one tried") {
  asio::io_context io;
  loopback_listener server(io);
  closed_port nothing(io);
  auto factory = recording([&](open_context<tcp>& context) -> open_result<tcp::socket> {
    if (context.endpoint.port() == nothing.port()) return opensock::refuse();
    return open_default(context);
  });
  auto result = connect(io, factory, {loopback(nothing.port()), server.endpoint()});
  REQUIRE(!result.error);
  CHECK(factory.attempts == std::vector<unsigned>{1, 2});
  CHECK(factory.opened == 1);
  CHECK(result.endpoint == server.endpoint());
}

TEST_CASE("every address refused: couldnt_connect saying the factory refused") {
  asio::io_context io;
  loopback_listener server(io);
  auto factory = recording([](open_context<tcp>&) -> open_result<tcp::socket> {
    return opensock::refuse();
  });
  auto result = connect(io, factory, {server.endpoint(), loopback(server.port(), "::1")});
  CHECK(result.error == opensock::error::refused_by_socket_factory);
  CHECK(opensock::curl_code(result.error) == 7);
  CHECK(result.error.message().find("refused by the socket factory") != std::string::npos);
  CHECK(factory.offered.size() == 2);
  CHECK(!result.stream);
  opensock::test::settle(io);
  CHECK(server.peers().empty());
}

TEST_CASE("failed connects are closed through the factory and end in couldnt_connect") {
  asio::io_context io;
  closed_port first(io), second(io);
  auto factory = recording(open_default);
  auto result = connect(io, factory, {loopback(first.port()), loopback(second.port())});
  CHECK(result.error == opensock::error::couldnt_connect);
  CHECK(factory.opened == 2);
  CHECK(factory.closed == 2);
}

TEST_CASE("a refusal with a reason of its own counts as a failed attempt") {
  asio::io_context io;
  auto factory = recording([](open_context<tcp>&) -> open_result<tcp::socket> {
    return opensock::refuse(std::make_error_code(std::errc::too_many_files_open));
  });
  auto result = connect(io, factory, {loopback(1)});
  CHECK(result.error == opensock::error::couldnt_connect);
}

TEST_CASE("an abort stops at once with the factory's own error") {
  asio::io_context io;
  loopback_listener server(io);
  const auto denied = std::make_error_code(std::errc::permission_denied);
  auto factory = recording([&](open_context<tcp>&) -> open_result<tcp::socket> {
    return opensock::abort(denied);
  });
  auto result = connect(io, factory, {server.endpoint(), server.endpoint()});
  CHECK(result.error == denied);
  CHECK(factory.offered.size() == 1);
}

TEST_CASE("an already connected socket is used as it is, the endpoint never contacted") {
  asio::io_context io;
  loopback_listener server(io);
  tcp::socket mine(io);
  mine.connect(server.endpoint());
  const auto mine_local = mine.local_endpoint();
  auto factory = recording([&](open_context<tcp>&) -> open_result<tcp::socket> {
    return opensock::connected(std::move(mine));
  });
  // Nothing listens on 127.99.99.99:9; a connect there would be refused.
  auto result = connect(io, factory, {loopback(9, "127.99.99.99")});
  REQUIRE(!result.error);
  CHECK(result.stream->local_endpoint() == mine_local);
  opensock::test::settle(io);
  CHECK(server.peers().size() == 1);
}

TEST_CASE("a socket that is not open is a factory bug: stop with bad_function_argument") {
  asio::io_context io;
  loopback_listener server(io);
  auto factory = recording([](open_context<tcp>& context) -> open_result<tcp::socket> {
    return tcp::socket(context.executor);  // never opened
  });
  auto result = connect(io, factory, {server.endpoint(), server.endpoint()});
  CHECK(result.error == opensock::error::factory_socket_not_open);
  CHECK(opensock::curl_code(result.error) == 43);
  CHECK(factory.offered.size() == 1);
}

TEST_CASE("an unconnected stream opensock cannot connect stops with bad_function_argument") {
  asio::io_context io;
  auto factory = [](open_context<tcp>& context) -> open_result<test_stream> {
    return test_stream::make_pair(context.executor).first;  // opened, not connected
  };
  auto result = connect(io, factory, {loopback(1), loopback(2)});
  CHECK(result.error == opensock::error::factory_stream_not_connectable);
}

TEST_CASE("the stream type follows the factory: Unix sockets and memory streams") {
  asio::io_context io;
  auto unix_factory = [](open_context<tcp>& context) {
    asio::local::stream_protocol::socket ours(context.executor), theirs(context.executor);
    asio::local::connect_pair(ours, theirs);
    return opensock::connected(std::move(ours));
  };
  auto over_unix = connect(io, unix_factory, {loopback(1)});
  REQUIRE(!over_unix.error);
  CHECK(over_unix.stream->is_open());

  auto memory_factory = [](open_context<tcp>& context) {
    return opensock::connected(test_stream::make_pair(context.executor).first);
  };
  auto in_memory = connect(io, memory_factory, {loopback(1)});
  REQUIRE(!in_memory.error);
  CHECK(in_memory.stream->is_open());
}

TEST_CASE("a stream the factory makes in place is moved once: into the attempt's result") {
  asio::io_context io;
  loopback_listener server(io);
  int moves = 0;
  auto factory = [&moves](open_context<tcp>& context) {
    open_result<counted_socket> answer(std::in_place, context.executor, moves);
    answer.stream().socket.open(tcp::v4());
    return answer;
  };
  opensock::detail::attempt_steps<decltype(factory), counted_socket, tcp::endpoint> steps(factory);
  auto context = prototype(io);
  context.endpoint = server.endpoint();
  const asio::cancellation_state never;
  run(io, [&]() -> asio::awaitable<void> {
    if (steps.opened_now(context, never)) co_await steps.connect(context.endpoint, never);
  }());
  const auto tried = std::move(steps).result();
  CHECK(tried.outcome == attempt_outcome::connected);
  REQUIRE(tried.stream);
  CHECK(tried.stream->socket.remote_endpoint() == server.endpoint());
  CHECK(moves == 1);
}

TEST_CASE("no endpoints at all: host_has_no_address, curl's 6") {
  asio::io_context io;
  auto factory = recording(open_default);
  auto result = connect(io, factory, {});
  CHECK(result.error == opensock::error::host_has_no_address);
  CHECK(opensock::curl_code(result.error) == 6);
  CHECK(factory.offered.empty());
}

TEST_CASE("each attempt sees the prototype's host, port, scheme and purpose") {
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> seen;
  auto factory = [&](open_context<tcp>& context) {
    seen.push_back(fmt::format("{} {}:{} {} #{}", context.scheme, context.host, context.port,
                               context.purpose == opensock::purpose::origin ? "origin" : "proxy",
                               context.attempt));
    return open_default(context);
  };
  closed_port nothing(io);
  auto result = connect(io, factory, {loopback(nothing.port()), server.endpoint()});
  REQUIRE(!result.error);
  CHECK(seen == std::vector<std::string>{"tcp service.test:80 origin #1",
                                         "tcp service.test:80 origin #2"});
}
