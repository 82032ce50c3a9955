// Linked with opensock::separate, which adds OPENSOCK_SEPARATE_COMPILATION: the session of
// TCP sockets and the connect of every factory that answers with one are only declared
// here and compiled in the library (src/separate.cpp, which includes
// <opensock/impl/src.hpp>). ctest also checks, with nm, that this file's object holds none
// of their coroutines, nor any connect of its own factories'.
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

using opensock::detail::connects_by_reference_v;

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
  // Either way, the connect is the one compiled in the library.
  static_assert(connects_by_reference_v<decltype(factory)>);
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

// A factory as a user writes one, with a close step, which the connector must call for a
// socket it gives up.
struct closing_factory {
  opensock::open_result<asio::ip::tcp::socket> operator()(
      opensock::open_context<asio::ip::tcp>& context) {
    ++*opened;
    return opensock::default_socket_factory{}(context);
  }
  void close(asio::ip::tcp::socket& socket) {
    ++*closed;
    socket.close();
  }
  int* opened;
  int* closed;
};

// One that reaches its peer by its own means: the connector's own path knows that at
// compile time.
struct unresolving_factory {
  static constexpr bool skips_resolution = true;
  opensock::open_result<asio::ip::tcp::socket> operator()(
      opensock::open_context<asio::ip::tcp>& context) {
    return opensock::default_socket_factory{}(context);
  }
};

static_assert(connects_by_reference_v<opensock::default_socket_factory>);
static_assert(connects_by_reference_v<closing_factory>);
static_assert(connects_by_reference_v<std::reference_wrapper<closing_factory>>);
static_assert(connects_by_reference_v<opensock::test::coroutine_function_factory>);
static_assert(!connects_by_reference_v<unresolving_factory>);
static_assert(!connects_by_reference_v<opensock::detail::tcp_factory_ref<false>>);

}  // namespace

TEST_CASE("a session over a lambda behind any_socket_factory is compiled in another file too") {
  get_twice_through_a_lambda([](auto f) { return opensock::any_socket_factory(std::move(f)); });
}

TEST_CASE("a session over a lambda itself uses the connect compiled in another file") {
  get_twice_through_a_lambda([](auto f) { return f; });
}

TEST_CASE("the connect compiled in another file closes a refused socket through the factory") {
  asio::io_context io;
  // A port nothing listens on: its connect is refused at once.
  asio::ip::tcp::acceptor taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = taken.local_endpoint().port();
  taken.close();
  int opened = 0;
  int closed = 0;
  opensock::http::session session(io.get_executor(), closing_factory{&opened, &closed});
  auto done = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<std::error_code> {
        opensock::http::request req;
        std::error_code ec;
        req.url = opensock::http::url::parse("http://127.0.0.1:" + std::to_string(port) + "/",
                                             ec);
        opensock::http::response out;
        co_return co_await session.request(req, out);
      },
      asio::use_future);
  io.run();
  CHECK(done.get() == opensock::error::couldnt_connect);
  CHECK(opened == 1);
  CHECK(closed == 1);
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
