// A factory that reaches the server over a Unix domain stream socket instead of TCP
// (curl's --unix-socket and --abstract-unix-socket). The host and port still name the
// origin (for the Host header, say); no name is resolved and one attempt is made.
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace opensock {

class unix_socket_factory {
 public:
  using socket_type = asio::local::stream_protocol::socket;

  /// Tells the connector not to resolve the host: this factory needs no address.
  static constexpr bool skips_resolution = true;

  explicit unix_socket_factory(asio::local::stream_protocol::endpoint endpoint)
      : endpoint_(std::move(endpoint)) {}

  asio::awaitable<open_result<socket_type>> operator()(open_context<asio::ip::tcp>& context) {
    socket_type socket(context.executor);
    std::error_code ec;
    socket.open(asio::local::stream_protocol(), ec);
    if (!ec) {
      co_await socket.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec == asio::error::operation_aborted) co_return abort(ec);
    if (ec) co_return refuse(ec);
    co_return connected(std::move(socket));
  }

  const asio::local::stream_protocol::endpoint& endpoint() const noexcept { return endpoint_; }

 private:
  asio::local::stream_protocol::endpoint endpoint_;
};

/// A socket at a path in the file system.
inline unix_socket_factory unix_socket(const std::string& path) {
  return unix_socket_factory(asio::local::stream_protocol::endpoint(path));
}

/// A socket in Linux's abstract namespace: `name` without the leading NUL byte.
inline unix_socket_factory abstract_unix_socket(const std::string& name) {
  return unix_socket_factory(asio::local::stream_protocol::endpoint(std::string(1, '\0') + name));
}

}  // namespace opensock
