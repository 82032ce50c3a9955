// Linked with opensock::separate, which adds OPENSOCK_SEPARATE_COMPILATION: the session of
// TCP sockets and the connects of the default factory and of any_socket_factory are only
// declared here and compiled in the library (src/separate.cpp, which includes
// <opensock/impl/src.hpp>). ctest also checks, with nm, that this file's object holds none
// of their coroutines, nor any connect: a lambda factory's is any_socket_factory's.
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/coroutine_function_factory.hpp"
#include "support/nginx.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

namespace {

// Gets a file twice from nginx through a session over a lambda factory as `hold` gives it
// to the session (as it is, or in an any_socket_factory): one socket opened, to 127.0.0.1
// (the lambda refuses ::1), the second request on the pooled connection.
template <class Hold>
void get_twice_through_a_lambda(Hold hold) {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  int opened = 0;
  std::vector<std::string> refused;
  auto factory = hold([&](opensock::open_context<asio::ip::tcp>& context)
                          -> opensock::open_result<asio::ip::tcp::socket> {
    if (context.endpoint.address().is_v6()) {
      refused.push_back(context.endpoint.address().to_string());
      return opensock::refuse();
    }
    ++opened;
    return opensock::default_socket_factory{}(context);
  });
  // Either way, the connect is any_socket_factory's, compiled in the library.
  static_assert(std::is_same_v<decltype(factory), opensock::any_socket_factory> ||
                opensock::detail::connects_as_any_factory_v<decltype(factory)>);
  opensock::http::session session(io.get_executor(), std::move(factory));
  const std::string url = "http://localhost:" + std::to_string(*port) + "/files/hello.txt";
  auto done = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<opensock::http::response> {
        auto first = co_await session.get(url);
        CHECK(first.status == 200);
        co_return co_await session.get(url);  // on the pooled connection: no socket opened
      },
      asio::use_future);
  io.run();
  const auto response = done.get();
  CHECK(response.status == 200);
  CHECK(response.body == "hello, opensock\n");
  CHECK(opened == 1);
  for (const auto& address : refused) CHECK(address == "::1");
}

// A factory as a user writes one, with a close step: the connector must call that, which
// any_socket_factory would hide.
struct closing_factory {
  opensock::open_result<asio::ip::tcp::socket> operator()(
      opensock::open_context<asio::ip::tcp>& context) {
    return opensock::default_socket_factory{}(context);
  }
  void close(asio::ip::tcp::socket& socket) { socket.close(); }
};

static_assert(!opensock::detail::connects_as_any_factory_v<closing_factory>);
static_assert(!opensock::detail::connects_as_any_factory_v<
              std::reference_wrapper<closing_factory>>);
static_assert(!opensock::detail::connects_as_any_factory_v<
              opensock::test::coroutine_function_factory>);

}  // namespace

TEST_CASE("a session over a lambda behind any_socket_factory is compiled in another file too") {
  get_twice_through_a_lambda([](auto f) { return opensock::any_socket_factory(std::move(f)); });
}

TEST_CASE("a session over a lambda itself connects as any_socket_factory does") {
  get_twice_through_a_lambda([](auto f) { return f; });
}

TEST_CASE("any_socket_factory made by default opens as the default factory does") {
  asio::io_context io;
  opensock::any_socket_factory factory;
  opensock::open_context<asio::ip::tcp> context;
  context.executor = io.get_executor();
  context.endpoint = {asio::ip::make_address("127.0.0.1"), 1};
  auto answer = factory(context);
  REQUIRE(answer.has_stream());
  CHECK(answer.stream().is_open());
}
