// A minimal GET with Boost.Beast and C++20 coroutines: prints the status and the body's
// size.
//   minimal_beast HOST PORT PATH
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>

namespace net = boost::asio;
namespace http = boost::beast::http;

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_beast HOST PORT PATH\n"), 2;
  net::io_context io;
  int status = 1;
  net::co_spawn(io, [&]() -> net::awaitable<void> {
    net::ip::tcp::socket socket(io);
    co_await socket.async_connect({net::ip::make_address(argv[1]),
                                   static_cast<unsigned short>(std::atoi(argv[2]))},
                                  net::use_awaitable);
    http::request<http::empty_body> request(http::verb::get, argv[3], 11);
    request.set(http::field::host, argv[1]);
    co_await http::async_write(socket, request, net::use_awaitable);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(socket, buffer, response, net::use_awaitable);
    std::printf("%u\n%zu body bytes\n", response.result_int(), response.body().size());
    status = 0;
  }, net::detached);
  io.run();
  return status;
}
