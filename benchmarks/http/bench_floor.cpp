// The floor: hand-written Asio with nothing a general client needs beyond this
// benchmark. The request is built once; a response is read into one buffer per
// connection until the end of its head, its status and Content-Length are taken from
// it, and the rest of the body is read into a second buffer. C coroutines on one
// io_context, each with its own connection.
#include "common.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <exception>
#include <string_view>

namespace {

using asio::ip::tcp;

bool iequals_prefix(std::string_view text, std::string_view lower) {
  if (text.size() < lower.size()) return false;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    char ch = text[i];
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (ch != lower[i]) return false;
  }
  return true;
}

// The Content-Length of a head (without its final blank line), or -1.
long content_length(std::string_view head) {
  for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    const std::string_view line = head.substr(at + 2);
    if (!iequals_prefix(line, "content-length:")) continue;
    long value = -1;
    for (std::size_t i = 15; i < line.size() && line[i] != '\r'; ++i) {
      if (line[i] == ' ' || line[i] == '\t') continue;
      if (line[i] < '0' || line[i] > '9') return -1;
      value = (value < 0 ? 0 : value * 10) + (line[i] - '0');
    }
    return value;
  }
  return -1;
}

asio::awaitable<void> worker(tcp::endpoint server, const std::string& request,
                             const bench::options& o, bench::workload& work) {
  tcp::socket socket(co_await asio::this_coro::executor);
  std::string buffer(64 * 1024, '\0');
  std::string body;
  std::size_t have = 0;  // bytes in `buffer` not yet consumed (a next response's)
  while (work.take()) {
    try {
      if (!socket.is_open()) {
        socket.open(server.protocol());
        socket.set_option(tcp::no_delay(true));
        co_await socket.async_connect(server, asio::use_awaitable);
        have = 0;
      }
      co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
      std::size_t end = std::string_view::npos;
      for (std::size_t searched = 0;;) {
        end = std::string_view(buffer.data(), have).find("\r\n\r\n", searched);
        if (end != std::string_view::npos) break;
        searched = have < 3 ? 0 : have - 3;
        if (have == buffer.size()) throw std::runtime_error("head too large");
        have += co_await socket.async_read_some(
            asio::buffer(buffer.data() + have, buffer.size() - have), asio::use_awaitable);
      }
      const std::string_view head(buffer.data(), end);
      const int status = head.size() >= 12 && head.substr(0, 5) == "HTTP/"
                             ? (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0')
                             : 0;
      const long length = content_length(head);
      if (length < 0) throw std::runtime_error("no Content-Length");
      const std::size_t body_at = end + 4;
      const std::size_t in_buffer = have - body_at;
      const auto wanted = static_cast<std::size_t>(length);
      if (in_buffer >= wanted) {
        // The whole body came with the head: what follows it is kept.
        have = in_buffer - wanted;
        std::memmove(buffer.data(), buffer.data() + body_at + wanted, have);
        work.check(status, wanted);
      } else {
        body.resize(wanted);
        std::memcpy(body.data(), buffer.data() + body_at, in_buffer);
        co_await asio::async_read(socket, asio::buffer(body.data() + in_buffer, wanted - in_buffer),
                                  asio::use_awaitable);
        have = 0;
        work.check(status, body.size());
      }
      if (!o.keepalive) socket.close();
    } catch (const std::exception& e) {
      work.fail(e.what());
      std::error_code ignored;
      socket.close(ignored);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv, "bench_floor");
  bench::workload work(o);
  const tcp::endpoint server(asio::ip::make_address(o.host), o.port);
  const std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                              std::to_string(o.port) + "\r\n\r\n";
  asio::io_context io(1);
  const bench::stopwatch clock;
  for (int i = 0; i < o.concurrency; ++i)
    asio::co_spawn(io, worker(server, request, o, work), asio::detached);
  io.run();
  return bench::finish("floor", o, work, clock);
}
