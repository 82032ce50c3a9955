// Runs one of opensock's coroutines as an ordinary Asio asynchronous operation, so that
// callbacks, use_awaitable, deferred, use_future and per-operation cancellation all work
// and the operation completes with an error_code, never an exception.
#pragma once

#include <opensock/detail/error_from_exception.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>

#include <exception>
#include <system_error>
#include <type_traits>
#include <utility>

namespace opensock::detail {

// co_spawn completes with (exception_ptr, Result); the caller's handler wants
// (error_code) or (error_code, T) for a Result of std::pair<error_code, T>. This adapter
// converts, and passes on the handler's associated executor, cancellation slot and
// allocator so co_spawn sees them as the handler's own.
template <class Handler, class Executor, class Result = std::error_code>
class spawn_completion {
 public:
  using executor_type = asio::associated_executor_t<Handler, Executor>;
  using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;
  using allocator_type = asio::associated_allocator_t<Handler>;

  spawn_completion(Handler handler, Executor executor)
      : handler_(std::move(handler)), executor_(std::move(executor)) {}

  executor_type get_executor() const noexcept {
    return asio::get_associated_executor(handler_, executor_);
  }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return asio::get_associated_cancellation_slot(handler_);
  }
  allocator_type get_allocator() const noexcept {
    return asio::get_associated_allocator(handler_);
  }

  void operator()(std::exception_ptr thrown, Result result) {
    if constexpr (std::is_same_v<Result, std::error_code>) {
      if (thrown) result = error_from_exception(thrown);
      std::move(handler_)(result);
    } else {
      if (thrown) result.first = error_from_exception(thrown);
      std::move(handler_)(result.first, std::move(result.second));
    }
  }

 private:
  Handler handler_;
  Executor executor_;
};

/// Starts the awaitable that `make()` returns on `executor` when the operation is
/// initiated, and completes `token` with its error_code.
template <class Token, class Executor, class MakeAwaitable>
auto async_spawn(Executor executor, MakeAwaitable make, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code)>(
      [executor](auto handler, MakeAwaitable make) {
        using handler_type = decltype(handler);
        asio::co_spawn(executor, make(),
                       spawn_completion<handler_type, Executor>(std::move(handler), executor));
      },
      token, std::move(make));
}

/// As async_spawn, for an awaitable of std::pair<std::error_code, T>: completes `token`
/// with void(std::error_code, T).
template <class T, class Token, class Executor, class MakeAwaitable>
auto async_spawn_value(Executor executor, MakeAwaitable make, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code, T)>(
      [executor](auto handler, MakeAwaitable make) {
        using handler_type = decltype(handler);
        using result_type = std::pair<std::error_code, T>;
        asio::co_spawn(executor, make(),
                       spawn_completion<handler_type, Executor, result_type>(std::move(handler),
                                                                             executor));
      },
      token, std::move(make));
}

// A stage's coroutine, whose result carries its error, as async_spawn_value() wants it.
// `make` is a parameter, so that it lives in this coroutine's frame while its awaitable
// runs (a coroutine lambda's captures would not).
template <class Result, class MakeAwaitable>
asio::awaitable<std::pair<std::error_code, Result>> run_stage(MakeAwaitable make) {
  Result result = co_await make();
  const std::error_code ec = result.error;
  co_return std::pair<std::error_code, Result>(ec, std::move(result));
}

/// A stage's coroutine as an Asio operation: `make()` gives an awaitable of a result
/// with an `error` member, and `token` completes with void(std::error_code, Result).
template <class Result, class Token, class Executor, class MakeAwaitable>
auto async_stage(Executor executor, MakeAwaitable make, Token&& token) {
  return async_spawn_value<Result>(
      std::move(executor),
      [make = std::move(make)]() mutable { return run_stage<Result>(std::move(make)); },
      std::forward<Token>(token));
}

}  // namespace opensock::detail
