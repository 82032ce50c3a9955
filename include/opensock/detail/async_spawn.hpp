// Runs one of opensock's coroutines as an ordinary Asio asynchronous operation, so that
// callbacks, use_awaitable, deferred, use_future and per-operation cancellation all work
// and the operation completes with an error_code, never an exception.
#pragma once

#include <opensock/detail/error_from_exception.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>

#include <exception>
#include <system_error>
#include <utility>

namespace opensock::detail {

// co_spawn completes with (exception_ptr, error_code); the caller's handler wants
// (error_code). This adapter converts, and passes on the handler's associated executor,
// cancellation slot and allocator so co_spawn sees them as the handler's own.
template <class Handler, class Executor>
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

  void operator()(std::exception_ptr thrown, std::error_code ec) {
    if (thrown) ec = error_from_exception(thrown);
    std::move(handler_)(ec);
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

}  // namespace opensock::detail
