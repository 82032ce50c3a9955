// A socket factory of one type for the tests whose coroutine factory only has to behave
// differently: the test's lambda behind a std::function, as opensock::any_socket_factory
// holds factories that answer at once. A session is compiled once for each factory type,
// so a test file whose sessions all take these compiles one session, not one per lambda.
// The lambdas themselves as factories are tested where that is the point
// (test_socket_factory, the README's examples).
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <utility>

namespace opensock::test {

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
