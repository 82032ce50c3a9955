// A minimal GET by hand on Asio: prints the status line and the body's size.
//   minimal_floor HOST PORT PATH
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_floor HOST PORT PATH\n"), 2;
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    asio::ip::tcp::socket socket(io);
    co_await socket.async_connect({asio::ip::make_address(argv[1]),
                                   static_cast<unsigned short>(std::atoi(argv[2]))},
                                  asio::use_awaitable);
    const std::string request = std::string("GET ") + argv[3] + " HTTP/1.1\r\nHost: " + argv[1] +
                                "\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    std::string response;
    std::error_code ec;
    co_await asio::async_read(socket, asio::dynamic_buffer(response),
                              asio::redirect_error(asio::use_awaitable, ec));
    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos) co_return;
    std::printf("%s\n%zu body bytes\n", response.substr(0, response.find("\r\n")).c_str(),
                response.size() - head_end - 4);
    status = 0;
  }, asio::detached);
  io.run();
  return status;
}
