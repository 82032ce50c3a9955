// Linked with opensock::separate, which adds OPENSOCK_SEPARATE_COMPILATION: the session over
// the default factory is only declared here and compiled in the library (src/separate.cpp,
// which includes <opensock/impl/src.hpp>). ctest also checks, with nm, that this file's
// object holds none of its coroutines.
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/nginx.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <string>

TEST_CASE("a session compiled in another file gets a file from nginx, and follows a redirect") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);
  auto done = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<opensock::http::response> {
        co_return co_await session.get(base + "/redirect");
      },
      asio::use_future);
  io.run();
  const auto response = done.get();
  CHECK(response.status == 200);
  CHECK(response.body == "hello, opensock\n");
  CHECK(response.redirects == 1);
  CHECK(response.effective_url.path == "/files/hello.txt");
}
