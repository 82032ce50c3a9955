// Boost.Beast: C++20 coroutines on Boost.Asio, C of them on one io_context, each with its
// own connection. The request is built once; each response is read into a
// http::response<string_body> through a flat_buffer reserved at 64 KiB, the most Beast
// reads at once (left at its default, the buffer starts empty and reads 512 bytes).
#include "common.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <exception>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using net::ip::tcp;

net::awaitable<void> worker(tcp::endpoint server, const http::request<http::empty_body>& request,
                            const bench::options& o, bench::workload& work) {
  tcp::socket socket(co_await net::this_coro::executor);
  boost::beast::flat_buffer buffer;
  buffer.reserve(64 * 1024);
  while (work.take()) {
    try {
      if (!socket.is_open()) {
        socket.open(server.protocol());
        socket.set_option(tcp::no_delay(true));
        co_await socket.async_connect(server, net::use_awaitable);
        buffer.clear();
      }
      co_await http::async_write(socket, request, net::use_awaitable);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      co_await http::async_read(socket, buffer, parser, net::use_awaitable);
      const auto& response = parser.get();
      work.check(static_cast<int>(response.result_int()), response.body().size());
      if (!o.keepalive || !response.keep_alive()) socket.close();
    } catch (const std::exception& e) {
      work.fail(e.what());
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv, "bench_beast");
  bench::workload work(o);
  const tcp::endpoint server(net::ip::make_address(o.host), o.port);
  http::request<http::empty_body> request(http::verb::get, o.path, 11);
  request.set(http::field::host, o.host + ":" + std::to_string(o.port));
  net::io_context io(1);
  const bench::stopwatch clock;
  for (int i = 0; i < o.concurrency; ++i)
    net::co_spawn(io, worker(server, request, o, work), net::detached);
  io.run();
  return bench::finish("beast", o, work, clock);
}
