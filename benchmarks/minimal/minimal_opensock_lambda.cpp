// A minimal GET whose socket factory is a lambda (loopback addresses only), given to the
// session as it is: prints the status and the body's size. Built header-only it compiles
// the session of TCP sockets and any_socket_factory's connect, through which the session
// calls the lambda; built with OPENSOCK_SEPARATE_COMPILATION it links the ones
// opensock::separate compiled, and compiles only what holds the lambda.
//   minimal_opensock_lambda HOST PORT PATH
#include <opensock/http/session.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_opensock_lambda HOST PORT PATH\n"), 2;
  using socket_answer = opensock::open_result<asio::ip::tcp::socket>;
  asio::io_context io;
  opensock::http::session session(
      io.get_executor(), [](opensock::open_context<asio::ip::tcp>& context) -> socket_answer {
        if (!context.endpoint.address().is_loopback()) return opensock::refuse();
        return opensock::default_socket_factory{}(context);
      });
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
