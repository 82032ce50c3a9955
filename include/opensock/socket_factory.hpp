// The socket-factory concept: the callable that opens a connection's socket in place of
// socket(2), the default factory that does just that, and how opensock closes a socket.
#pragma once

#include <opensock/detail/factory_answer.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>

#include <asio/basic_stream_socket.hpp>
#include <asio/ip/address.hpp>

#include <concepts>
#include <system_error>
#include <type_traits>

namespace opensock {

/// A socket factory for `Protocol` is callable as
///     Answer factory(opensock::open_context<Protocol>& context)
/// where Answer is a socket (opened, opensock connects it), open_result<Socket>,
/// already_connected<Socket> (from opensock::connected(socket)), or an
/// asio::awaitable of one of these for a factory that has to wait.
/// A member `close(Socket&)` replaces the way opensock closes the factory's sockets.
template <class Factory, class Protocol>
concept socket_factory =
    std::invocable<Factory&, open_context<Protocol>&> &&
    detail::factory_answer<std::invoke_result_t<Factory&, open_context<Protocol>&>,
                           typename Protocol::endpoint>::valid;

/// The stream type a session over `Factory` uses: what the factory's answer holds.
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
using factory_stream_t =
    typename detail::factory_answer<std::invoke_result_t<Factory&, open_context<Protocol>&>,
                                    typename Protocol::endpoint>::stream_type;

/// Whether calling `Factory` gives an awaitable (the factory is a coroutine).
template <class Factory, class Protocol>
  requires socket_factory<Factory, Protocol>
inline constexpr bool is_coroutine_factory_v =
    detail::factory_answer<std::invoke_result_t<Factory&, open_context<Protocol>&>,
                           typename Protocol::endpoint>::is_awaitable;

/// Whether the connector skips name resolution for `Factory` and makes one attempt: a
/// factory that reaches the peer by its own means (a Unix socket path, say) declares
/// `static constexpr bool skips_resolution = true;`.
template <class Factory>
inline constexpr bool skips_resolution_v = [] {
  if constexpr (requires { Factory::skips_resolution; }) {
    return static_cast<bool>(Factory::skips_resolution);
  } else {
    return false;
  }
}();

/// Whether `Factory` can guard the origins behind proxies: a factory whose sockets are
/// judged by address (an SSRF guard, deny() or allow() among its layers, or a factory
/// of the caller's) declares `bool refuses_origin(const asio::ip::address&) const`, and
/// `bool guards_origins() const` if it guards them only at times. A route through
/// proxies is then not left to the proxy to resolve: the connector resolves the origin,
/// asks the factory about each address, and has the last proxy reach the first address
/// it lets through.
template <class Factory>
inline constexpr bool guards_origins_v =
    requires(const Factory& f, const asio::ip::address& a) {
      { f.refuses_origin(a) } -> std::convertible_to<bool>;
    } || requires(const Factory& f, const asio::ip::address& a) {
      { f.get().refuses_origin(a) } -> std::convertible_to<bool>;  // a std::reference_wrapper
    };

/// Whether `factory` guards origins now.
template <class Factory>
bool guards_origins(const Factory& factory) {
  if constexpr (!guards_origins_v<Factory>) {
    return false;
  } else if constexpr (requires { factory.guards_origins(); }) {
    return factory.guards_origins();
  } else if constexpr (requires { factory.get().guards_origins(); }) {
    return factory.get().guards_origins();
  } else {
    return true;
  }
}

/// Whether `factory`, which guards origins, refuses `address` for the origin.
template <class Factory>
  requires guards_origins_v<Factory>
bool refuses_origin(const Factory& factory, const asio::ip::address& address) {
  if constexpr (requires { factory.refuses_origin(address); }) {
    return factory.refuses_origin(address);
  } else {
    return factory.get().refuses_origin(address);
  }
}

/// What libcurl does without a callback: socket(family, socktype, protocol) for the
/// endpoint's protocol, nothing more. A failed socket() refuses the address with its
/// error, so the next address (of another family, say) is tried.
struct default_socket_factory {
  template <class Protocol>
  open_result<asio::basic_stream_socket<Protocol>> operator()(
      open_context<Protocol>& context) const {
    // Made in place and returned by name: the socket is not moved on its way out.
    open_result<asio::basic_stream_socket<Protocol>> answer(std::in_place, context.executor);
    std::error_code ec;
    answer.stream().open(context.endpoint.protocol(), ec);
    if (ec) answer = refuse(ec);
    return answer;
  }
};

/// Closes `stream`, a socket `factory` opened, the way the factory wants: through its
/// `close(Stream&)` member when it has one, else by closing the stream itself.
template <class Factory, class Stream>
void close_stream(Factory& factory, Stream& stream) noexcept {
  if constexpr (requires { factory.close(stream); }) {
    factory.close(stream);
  } else if constexpr (requires { factory.get().close(stream); }) {
    factory.get().close(stream);  // a std::reference_wrapper to a factory
  } else {
    detail::close_lowest_layer(stream);
  }
}

namespace detail {

// Each session and stage calls this first so that a wrong callable fails with a message
// naming the expected signature rather than deep inside a coroutine.
template <class Factory, class Protocol>
consteval bool check_socket_factory() {
  static_assert(std::invocable<Factory&, open_context<Protocol>&>,
                "opensock: a socket factory must be callable as "
                "`Answer factory(opensock::open_context<Protocol>& context)`");
  if constexpr (std::invocable<Factory&, open_context<Protocol>&>) {
    using answer = factory_answer<std::invoke_result_t<Factory&, open_context<Protocol>&>,
                                  typename Protocol::endpoint>;
    static_assert(answer::valid,
                  "opensock: a socket factory must return a socket, "
                  "opensock::open_result<Socket>, opensock::connected(socket), or an "
                  "asio::awaitable of one of these; a socket it returns bare must be "
                  "connectable to the context's endpoint");
  }
  return true;
}

}  // namespace detail
}  // namespace opensock
