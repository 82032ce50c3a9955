// Socket factories of one type each for the tests whose factory only has to behave
// differently: the test's lambda behind a std::function. A session is compiled once for
// each factory type, so a test file whose sessions all take these compiles one session,
// not one per lambda. The lambdas themselves as factories are tested where that is the
// point (test_socket_factory, the README's examples).
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <utility>

namespace opensock::test {

/// A factory that answers at once.
struct function_factory {
  using function =
      std::function<open_result<asio::ip::tcp::socket>(open_context<asio::ip::tcp>&)>;

  explicit function_factory(function f) : open(std::move(f)) {}

  open_result<asio::ip::tcp::socket> operator()(open_context<asio::ip::tcp>& context) {
    return open(context);
  }

  function open;
};

/// A factory that answers from a coroutine of its own.
struct coroutine_function_factory {
  using function = std::function<asio::awaitable<open_result<asio::ip::tcp::socket>>(
      open_context<asio::ip::tcp>&)>;

  explicit coroutine_function_factory(function f) : open(std::move(f)) {}

  asio::awaitable<open_result<asio::ip::tcp::socket>> operator()(
      open_context<asio::ip::tcp>& context) {
    return open(context);
  }

  function open;
};

}  // namespace opensock::test
