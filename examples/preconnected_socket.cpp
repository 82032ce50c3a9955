// libcurl's CURLOPT_OPENSOCKETFUNCTION example in opensock: a socket connected by the
// program itself is handed to the session, which skips its own connect.
//
//   preconnected_socket HOST PORT   (any TCP server)
#include <opensock/connect_only.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <string>

using asio::ip::tcp;

asio::awaitable<int> run(std::string host, std::string port) {
  auto executor = co_await asio::this_coro::executor;

  // The connection made outside opensock, as a program might receive it from elsewhere.
  tcp::socket established(executor);
  tcp::resolver resolver(executor);
  co_await asio::async_connect(established, co_await resolver.async_resolve(host, port, asio::use_awaitable),
                               asio::use_awaitable);

  opensock::connect_only_session session(executor, [&](opensock::open_context<tcp>& context) {
    fmt::print("factory: asked for {}, handing over the socket connected to {}\n",
               context.endpoint, established.remote_endpoint());
    return opensock::connected(std::move(established));
  });

  // The session believes it connects here; nothing listens there, and nothing is sent.
  std::error_code ec;
  co_await session.async_connect({"127.99.99.99", 9999},
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "connect failed: {}\n", ec);
    co_return opensock::curl_code(ec);
  }

  fmt::print("session connected: local {} -> remote {}\n", session.lowest_layer().local_endpoint(),
             session.lowest_layer().remote_endpoint());
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: preconnected_socket HOST PORT\n");
    return 2;
  }
  asio::io_context io;
  auto status = asio::co_spawn(io, run(argv[1], argv[2]), asio::use_future);
  io.run();
  return status.get();
}
