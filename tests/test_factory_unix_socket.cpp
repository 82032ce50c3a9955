#include <opensock/factory/unix_socket.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <filesystem>
#include <string>
#include <unistd.h>

using opensock::test::run;
using opensock::test::run_connect;
using unix_stream = asio::local::stream_protocol;

namespace {

// Accepts one connection on `endpoint` and echoes one 4-byte message.
asio::awaitable<void> echo_once(unix_stream::acceptor& acceptor) {
  auto peer = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4];
  co_await asio::async_read(peer, asio::buffer(data), asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer(data), asio::use_awaitable);
}

template <class Session>
void check_echo(asio::io_context& io, Session& session) {
  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(session.stream(), asio::buffer("ping", 4), asio::use_awaitable);
    char data[4];
    co_await asio::async_read(session.stream(), asio::buffer(data), asio::use_awaitable);
    CHECK(std::string(data, 4) == "ping");
  }());
}

std::string unique_name(const char* what) {
  return std::string("opensock-") + what + "-" + std::to_string(::getpid());
}

}  // namespace

TEST_CASE("a Unix socket path: no name is resolved, one attempt, the stream is local") {
  asio::io_context io;
  const auto path = (std::filesystem::temp_directory_path() / unique_name("path")).string();
  std::filesystem::remove(path);
  unix_stream::acceptor acceptor(io, unix_stream::endpoint(path));
  asio::co_spawn(io, echo_once(acceptor), asio::detached);

  opensock::connect_only_session session(io.get_executor(), opensock::unix_socket(path));
  static_assert(std::is_same_v<decltype(session)::lowest_layer_type, unix_stream::socket>);
  // A name that could not resolve: with a Unix socket it is never looked up.
  REQUIRE(!run_connect(io, session, {std::string(64, 'u') + ".invalid", 80}));
  CHECK(session.attempts().size() == 1);
  check_echo(io, session);
  std::filesystem::remove(path);
}

TEST_CASE("a Linux abstract socket name") {
  asio::io_context io;
  const std::string name = unique_name("abstract");
  unix_stream::acceptor acceptor(io, unix_stream::endpoint(std::string(1, '\0') + name));
  asio::co_spawn(io, echo_once(acceptor), asio::detached);
  opensock::connect_only_session session(io.get_executor(), opensock::abstract_unix_socket(name));
  REQUIRE(!run_connect(io, session, {"localhost", 80}));
  check_echo(io, session);
}

TEST_CASE("a Unix socket nobody listens on fails to connect") {
  asio::io_context io;
  opensock::connect_only_session session(io.get_executor(),
                                         opensock::unix_socket("/nonexistent/opensock.sock"));
  CHECK(run_connect(io, session, {"localhost", 80}) == opensock::error::couldnt_connect);
}
