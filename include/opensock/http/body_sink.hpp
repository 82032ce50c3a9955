// Where a response body goes when the caller does not want it whole in the response:
// a function or a coroutine that takes each piece as it arrives (curl's write callback).
// Returning false, or a coroutine returning false, stops the transfer with write_error
// (23), as a curl write callback that takes fewer bytes than it was given does; so does
// a sink that throws.
#pragma once

#include <asio/awaitable.hpp>

#include <concepts>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace opensock::http {

namespace detail {

template <class T>
struct is_awaitable : std::false_type {};
template <class T, class E>
struct is_awaitable<asio::awaitable<T, E>> : std::true_type {};

template <class F>
using sink_result_t = std::invoke_result_t<F&, std::string_view>;

}  // namespace detail

/// What a body sink may be: called with std::string_view, returning void or bool, or
/// asio::awaitable<void> or asio::awaitable<bool>.
template <class F>
concept body_sink_function =
    std::invocable<F&, std::string_view> &&
    (std::same_as<detail::sink_result_t<F>, void> ||
     std::convertible_to<detail::sink_result_t<F>, bool> ||
     std::same_as<detail::sink_result_t<F>, asio::awaitable<void>> ||
     std::same_as<detail::sink_result_t<F>, asio::awaitable<bool>>);

class body_sink {
 public:
  /// No sink: the body is collected in the response.
  body_sink() = default;

  template <body_sink_function F>
    requires(!std::same_as<std::remove_cvref_t<F>, body_sink>)
  body_sink(F f) {
    using R = detail::sink_result_t<F>;
    if constexpr (std::same_as<R, asio::awaitable<bool>>) {
      async_ = std::move(f);
    } else if constexpr (std::same_as<R, asio::awaitable<void>>) {
      async_ = [f = std::move(f)](std::string_view piece) mutable -> asio::awaitable<bool> {
        co_await f(piece);
        co_return true;
      };
    } else if constexpr (std::same_as<R, void>) {
      sync_ = [f = std::move(f)](std::string_view piece) mutable {
        f(piece);
        return true;
      };
    } else {
      sync_ = [f = std::move(f)](std::string_view piece) mutable {
        return static_cast<bool>(f(piece));
      };
    }
  }

  explicit operator bool() const noexcept { return sync_ || async_; }
  /// Whether pieces must be awaited (a coroutine sink) rather than called.
  bool is_coroutine() const noexcept { return static_cast<bool>(async_); }

  /// Gives a piece to a function sink; false stops the transfer.
  bool write(std::string_view piece) const { return sync_(piece); }
  /// Gives a piece to a coroutine sink; false stops the transfer.
  asio::awaitable<bool> async_write(std::string_view piece) const { return async_(piece); }

 private:
  std::function<bool(std::string_view)> sync_;
  std::function<asio::awaitable<bool>(std::string_view)> async_;
};

}  // namespace opensock::http
