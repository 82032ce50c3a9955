// Boost.Beast's WebSocket client, the same work as bench_ws_opensock: one connection, then
// COUNT binary messages of SIZE bytes, each written and its echo read back, checked. C++20
// coroutines on Boost.Asio; the echo is read into a flat_buffer kept across messages.
//
//   bench_ws_beast PORT COUNT SIZE
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using net::ip::tcp;

net::awaitable<void> echo(int port, long count, std::size_t size, int& status) {
  websocket::stream<tcp::socket> ws(co_await net::this_coro::executor);
  const tcp::endpoint server(net::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(port));
  co_await ws.next_layer().async_connect(server, net::use_awaitable);
  ws.next_layer().set_option(tcp::no_delay(true));
  ws.read_message_max(64 * 1024 * 1024);
  co_await ws.async_handshake("127.0.0.1:" + std::to_string(port), "/", net::use_awaitable);
  ws.binary(true);
  std::vector<unsigned char> message(size);
  for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<unsigned char>(i % 251);
  boost::beast::flat_buffer back;
  for (long i = 0; i < count; ++i) {
    co_await ws.async_write(net::buffer(message), net::use_awaitable);
    back.consume(back.size());
    co_await ws.async_read(back, net::use_awaitable);
    if (back.size() != size || std::memcmp(back.data().data(), message.data(), size) != 0) {
      std::fprintf(stderr, "bench_ws_beast: echo %ld differs\n", i);
      co_return;
    }
  }
  co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
  status = 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_ws_beast PORT COUNT SIZE\n");
    return 2;
  }
  net::io_context io;
  int status = 1;
  net::co_spawn(io, echo(std::atoi(argv[1]), std::atol(argv[2]),
                         static_cast<std::size_t>(std::atol(argv[3])), status),
                [](std::exception_ptr e) {
                  if (!e) return;
                  try {
                    std::rethrow_exception(e);
                  } catch (const std::exception& x) {
                    std::fprintf(stderr, "bench_ws_beast: %s\n", x.what());
                  }
                });
  io.run();
  return status;
}
