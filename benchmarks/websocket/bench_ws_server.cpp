// The WebSocket clients' peer: Boost.Beast's synchronous echo server on 127.0.0.1, one
// thread per connection, no compression. It prints its port and serves until killed.
//
//   bench_ws_server [PORT]
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using net::ip::tcp;

int main(int argc, char** argv) {
  net::io_context io;
  const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
  tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), port});
  std::printf("%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket(io);
    acceptor.accept(socket);
    socket.set_option(tcp::no_delay(true));
    std::thread([s = std::move(socket)]() mutable {
      try {
        websocket::stream<tcp::socket> ws(std::move(s));
        ws.read_message_max(64 * 1024 * 1024);
        ws.accept();
        boost::beast::flat_buffer buffer;
        for (;;) {
          ws.read(buffer);
          ws.binary(ws.got_binary());
          ws.write(buffer.data());
          buffer.consume(buffer.size());
        }
      } catch (const std::exception&) {
        // The client went: its thread ends.
      }
    }).detach();
  }
}
