// The caller's own protocol over a connect-only session: opensock resolves and connects
// (through a factory that sets TCP_NODELAY), then this program speaks HTTP/1.0 by hand.
//
//   line_protocol HOST PORT   (a web server; the program sends HEAD / and prints the reply)
#include <opensock/connect_only.hpp>
#include <opensock/format.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <fmt/core.h>

#include <charconv>
#include <string>

using asio::ip::tcp;

asio::awaitable<int> head(std::string host, std::uint16_t port) {
  opensock::connect_only_session session(
      co_await asio::this_coro::executor,
      [](opensock::open_context<tcp>& context) -> opensock::open_result<tcp::socket> {
        auto answer = opensock::default_socket_factory{}(context);
        if (answer.has_stream()) answer.stream().set_option(tcp::no_delay(true));
        return answer;
      });

  std::error_code ec;
  co_await session.async_connect({host, port}, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "connect to {}:{} failed: {}\n", host, port, ec);
    co_return opensock::curl_code(ec);
  }

  const std::string request = "HEAD / HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  co_await asio::async_write(session.stream(), asio::buffer(request), asio::use_awaitable);
  std::string reply;
  auto buffer = asio::dynamic_buffer(reply);
  const std::size_t header_end = co_await asio::async_read_until(
      session.stream(), buffer, "\r\n\r\n", asio::use_awaitable);
  fmt::print("{} answered:\n{}", session.remote_endpoint(), reply.substr(0, header_end));
  co_return 0;
}

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  if (argc != 3 || std::from_chars(argv[2], argv[2] + std::char_traits<char>::length(argv[2]), port).ec != std::errc()) {
    fmt::print(stderr, "usage: line_protocol HOST PORT\n");
    return 2;
  }
  asio::io_context io;
  auto status = asio::co_spawn(io, head(argv[1], port), asio::use_future);
  io.run();
  return status.get();
}
