// A minimal GET with opensock's HTTP session: prints the status and the body's size.
//   minimal_opensock HOST PORT PATH
#include <opensock/http/session.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_opensock HOST PORT PATH\n"), 2;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  int status = 1;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const auto response = co_await session.get(std::string("http://") + argv[1] + ":" + argv[2] + argv[3]);
    std::printf("%d %s\n%zu body bytes\n", response.status, response.reason.c_str(),
                response.body.size());
    status = 0;
  }, asio::detached);
  io.run();
  return status;
}
