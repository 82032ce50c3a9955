// A socket factory that answers with TCP sockets, seen by the connector through a
// reference of one type: the connector's path (connect_within() and the attempts under
// it) is compiled once per factory type, and every factory called through a
// tcp_factory_ref shares one, compiled once in a program, or in opensock::separate.
// What the factory's own type would tell the connector at compile time (a close step,
// whether it guards origins) it asks through function pointers instead, once per
// connection attempt, never per request.
#pragma once

#include <opensock/connector/open.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include <type_traits>

namespace opensock::detail {

template <bool Coroutine>
class tcp_factory_ref;

template <class Factory>
inline constexpr bool is_tcp_factory_ref_v = false;
template <bool Coroutine>
inline constexpr bool is_tcp_factory_ref_v<tcp_factory_ref<Coroutine>> = true;

// Whether the connector may call `Factory` through a tcp_factory_ref: it answers with a
// TCP socket, at once or from a coroutine, and leaves the name's resolution to the
// connector (skipping it is decided at compile time, in the connector's own path).
template <class Factory>
inline constexpr bool connects_by_reference_v = [] {
  if constexpr (!socket_factory<Factory, asio::ip::tcp> || is_tcp_factory_ref_v<Factory>) {
    return false;
  } else {
    return std::is_same_v<factory_stream_t<Factory, asio::ip::tcp>, asio::ip::tcp::socket> &&
           !skips_resolution_v<Factory>;
  }
}();

// `Factory`, which connects_by_reference_v allows, by reference: it must outlive the
// reference and stay where it is. A coroutine factory's reference is one too.
template <bool Coroutine>
class tcp_factory_ref {
 public:
  using socket_type = asio::ip::tcp::socket;
  using context_type = open_context<asio::ip::tcp>;
  using answer_type = std::conditional_t<Coroutine, asio::awaitable<open_result<socket_type>>,
                                         open_result<socket_type>>;

  template <class Factory>
    requires connects_by_reference_v<Factory> &&
             (is_coroutine_factory_v<Factory, asio::ip::tcp> == Coroutine)
  explicit tcp_factory_ref(Factory& factory) noexcept
      : factory_(&factory), open_(&open_with<Factory>), close_(&close_with<Factory>) {
    if constexpr (guards_origins_v<Factory>) {
      guards_ = &guards_with<Factory>;
      refuses_ = &refuses_with<Factory>;
    }
  }

  answer_type operator()(context_type& context) const { return open_(factory_, context); }

  // Closes through the factory's close step, or closes the socket, as close_stream() does.
  void close(socket_type& socket) const noexcept { close_(factory_, socket); }

  // Whether the factory guards origins now, and whether it refuses `address` for one.
  bool guards_origins() const { return guards_ && guards_(factory_); }
  bool refuses_origin(const asio::ip::address& address) const {
    return refuses_(factory_, address);
  }

 private:
  // Exceptions handled as the connector handles a factory's own: the answer an abort.
  template <class Factory>
  static answer_type open_with(void* factory, context_type& context) {
    if constexpr (Coroutine) {
      return open_socket(*static_cast<Factory*>(factory), context);
    } else {
      return open_socket_now(*static_cast<Factory*>(factory), context);
    }
  }
  template <class Factory>
  static void close_with(void* factory, socket_type& socket) noexcept {
    close_stream(*static_cast<Factory*>(factory), socket);
  }
  template <class Factory>
  static bool guards_with(const void* factory) {
    return opensock::guards_origins(*static_cast<const Factory*>(factory));
  }
  template <class Factory>
  static bool refuses_with(const void* factory, const asio::ip::address& address) {
    return opensock::refuses_origin(*static_cast<const Factory*>(factory), address);
  }

  void* factory_;
  answer_type (*open_)(void*, context_type&);
  void (*close_)(void*, socket_type&) noexcept;
  bool (*guards_)(const void*) = nullptr;
  bool (*refuses_)(const void*, const asio::ip::address&) = nullptr;
};

// The reference for `Factory`.
template <class Factory>
using tcp_factory_ref_for = tcp_factory_ref<is_coroutine_factory_v<Factory, asio::ip::tcp>>;

}  // namespace opensock::detail
