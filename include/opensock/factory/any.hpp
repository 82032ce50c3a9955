// One socket-factory type for any callable that opens TCP sockets: the callable behind a
// std::function, so that a program can choose its factory at run time and keep one
// session type. The call through the std::function is made once per connection attempt,
// never per request.
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/ip/tcp.hpp>

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace opensock {

/// A socket factory holding any copyable callable `f` that answers at once, as
///     Answer f(opensock::open_context<asio::ip::tcp>& context)
/// with Answer a socket, connected(socket), refuse(), abort(reason) or an
/// open_result<asio::ip::tcp::socket>; made from it implicitly, as a lambda converts to a
/// std::function. A coroutine factory, one with a close step of its own or one that
/// guards origins behind proxies keeps its own type: the session then uses what it
/// declares, which this type would hide.
class any_socket_factory {
 public:
  using socket_type = asio::ip::tcp::socket;
  using answer_type = open_result<socket_type>;
  using context_type = open_context<asio::ip::tcp>;

  /// What default_socket_factory does.
  any_socket_factory() : open_(default_socket_factory()) {}

  template <class Factory>
    requires(!std::same_as<std::remove_cvref_t<Factory>, any_socket_factory>) &&
            std::invocable<Factory&, context_type&> &&
            std::convertible_to<std::invoke_result_t<Factory&, context_type&>, answer_type> &&
            // Last: asked first, it would be asked of every type that holds an
            // any_socket_factory, and through this constructor of that type again.
            std::copy_constructible<Factory>
  any_socket_factory(Factory factory) : open_(std::move(factory)) {}

  answer_type operator()(context_type& context) { return open_(context); }

 private:
  std::function<answer_type(context_type&)> open_;
};

}  // namespace opensock
