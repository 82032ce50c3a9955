// Reads a socket factory's return type: which stream it yields, whether it must be
// awaited, and whether opensock may have to connect the stream itself.
#pragma once

#include <opensock/open_result.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/use_awaitable.hpp>

#include <concepts>
#include <system_error>
#include <type_traits>

namespace opensock::detail {

// An Asio async stream, held by value: it has an executor and reads and writes
// asynchronously. Awaitables and open_result are not streams, which keeps the
// specialisations below apart.
template <class T>
concept stream_like = std::is_object_v<T> && std::move_constructible<T> &&
                      requires(T& t, asio::mutable_buffer in, asio::const_buffer out) {
                        t.get_executor();
                        t.async_read_some(in, asio::use_awaitable);
                        t.async_write_some(out, asio::use_awaitable);
                      };

template <class Stream, class Endpoint>
concept connectable_to = requires(Stream& s, const Endpoint& e) {
  s.async_connect(e, asio::use_awaitable);
};

template <class Answer, class Endpoint>
struct factory_answer {
  static constexpr bool valid = false;
};

// A bare stream is always an opened, unconnected socket: it must be connectable.
template <stream_like Stream, class Endpoint>
struct factory_answer<Stream, Endpoint> {
  using stream_type = Stream;
  static constexpr bool valid = connectable_to<Stream, Endpoint>;
  static constexpr bool is_awaitable = false;
};

template <class Stream, class Endpoint>
struct factory_answer<already_connected<Stream>, Endpoint> {
  using stream_type = Stream;
  static constexpr bool valid = stream_like<Stream>;
  static constexpr bool is_awaitable = false;
};

template <class Stream, class Endpoint>
struct factory_answer<open_result<Stream>, Endpoint> {
  using stream_type = Stream;
  static constexpr bool valid = stream_like<Stream>;
  static constexpr bool is_awaitable = false;
};

// A coroutine factory: one level of asio::awaitable on the default executor type, which
// is what opensock's own coroutines await.
template <class Answer, class Endpoint>
struct factory_answer<asio::awaitable<Answer, asio::any_io_executor>, Endpoint>
    : factory_answer<Answer, Endpoint> {
  static constexpr bool valid =
      factory_answer<Answer, Endpoint>::valid && !factory_answer<Answer, Endpoint>::is_awaitable;
  static constexpr bool is_awaitable = true;
};

template <class Stream>
void close_lowest_layer(Stream& stream) noexcept {
  std::error_code ignored;
  if constexpr (requires { stream.close(ignored); }) {
    stream.close(ignored);
  } else if constexpr (requires { stream.lowest_layer().close(ignored); }) {
    stream.lowest_layer().close(ignored);
  }
  // Anything else closes in its destructor.
}

}  // namespace opensock::detail
