// Speaks HTTP over a Unix domain socket (curl's --unix-socket): the host and port name
// the origin for the Host header; the bytes go to the socket file, no name is resolved.
//
//   unix_socket SOCKET-PATH [HOST]   (a web server listening on SOCKET-PATH)
#include <opensock/connect_only.hpp>
#include <opensock/factory/unix_socket.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <fmt/core.h>

#include <string>

asio::awaitable<int> head_over_unix(std::string path, std::string host) {
  opensock::connect_only_session session(co_await asio::this_coro::executor,
                                         opensock::unix_socket(path));
  std::error_code ec;
  co_await session.async_connect({host, 80}, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "connect to {} failed: {}\n", path, ec);
    co_return opensock::curl_code(ec);
  }
  const std::string request = "HEAD / HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  co_await asio::async_write(session.stream(), asio::buffer(request), asio::use_awaitable);
  std::string reply;
  auto buffer = asio::dynamic_buffer(reply);
  const std::size_t line_end =
      co_await asio::async_read_until(session.stream(), buffer, "\r\n", asio::use_awaitable);
  fmt::print("{} answered: {}\n", session.lowest_layer().remote_endpoint(), reply.substr(0, line_end - 2));
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fmt::print(stderr, "usage: unix_socket SOCKET-PATH [HOST]\n");
    return 2;
  }
  asio::io_context io;
  auto status = asio::co_spawn(io, head_over_unix(argv[1], argc == 3 ? argv[2] : "localhost"),
                               asio::use_future);
  io.run();
  return status.get();
}
