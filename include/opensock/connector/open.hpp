// The connector's open stage: one call of the socket factory, synchronous or awaited,
// with its answer brought to the one form the connect stage reads.
#pragma once

#include <opensock/detail/error_from_exception.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>

#include <exception>

namespace opensock {
/// Calls a synchronous `factory` for `context` and returns its answer as an open_result.
/// A factory that throws aborts the connect with the exception's error_code (a
/// system_error's code, out_of_memory for bad_alloc, aborted_by_callback otherwise).
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol> && (!is_coroutine_factory_v<Factory, Protocol>)
open_result<factory_stream_t<Factory, Protocol>> open_socket_now(
    Factory& factory, open_context<Protocol>& context) noexcept {
  try {
    return factory(context);
  } catch (...) {
    return abort(detail::error_from_exception(std::current_exception()));
  }
}

/// Calls `factory` for `context`, awaiting it if it is a coroutine, and returns its
/// answer as an open_result; exceptions are handled as open_socket_now() does.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
asio::awaitable<open_result<factory_stream_t<Factory, Protocol>>> open_socket(
    Factory& factory, open_context<Protocol>& context) {
  if constexpr (is_coroutine_factory_v<Factory, Protocol>) {
    std::exception_ptr thrown;
    try {
      co_return co_await factory(context);
    } catch (...) {
      thrown = std::current_exception();
    }
    co_return abort(detail::error_from_exception(thrown));
  } else {
    co_return open_socket_now(factory, context);
  }
}

}  // namespace opensock
