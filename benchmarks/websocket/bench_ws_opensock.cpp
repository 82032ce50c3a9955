// opensock's WebSocket client: one connection made by websocket::async_connect through a
// session, then COUNT binary messages of SIZE bytes, each written and its echo read back
// into the same buffer, checked.
//
//   bench_ws_opensock PORT COUNT SIZE
#include <opensock/websocket/connect.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

asio::awaitable<void> echo(opensock::http::session<>& session, int port, long count,
                           std::size_t size, int& status) {
  opensock::websocket::stream_options behaviour;
  behaviour.max_message_size = 64 * 1024 * 1024;
  auto connection = co_await opensock::websocket::async_connect(
      session, "ws://127.0.0.1:" + std::to_string(port) + "/",
      opensock::websocket::handshake_options(), behaviour, asio::use_awaitable);
  auto& ws = *connection.stream;
  ws.binary(true);
  std::vector<unsigned char> message(size);
  for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<unsigned char>(i % 251);
  std::vector<unsigned char> back;
  back.reserve(size);
  for (long i = 0; i < count; ++i) {
    co_await ws.async_write(asio::buffer(message), asio::use_awaitable);
    back.clear();
    co_await ws.async_read(back, asio::use_awaitable);
    if (back != message) {
      std::fprintf(stderr, "bench_ws_opensock: echo %ld differs\n", i);
      co_return;
    }
  }
  co_await ws.async_close(opensock::websocket::close_code::normal, asio::use_awaitable);
  status = 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_ws_opensock PORT COUNT SIZE\n");
    return 2;
  }
  asio::io_context io;
  opensock::http::session<> session(io.get_executor());
  int status = 1;
  asio::co_spawn(io, echo(session, std::atoi(argv[1]), std::atol(argv[2]),
                          static_cast<std::size_t>(std::atol(argv[3])), status),
                 [](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     std::fprintf(stderr, "bench_ws_opensock: %s\n", x.what());
                   }
                 });
  io.run();
  return status;
}
