// TLS as a layer of a transport: an SSL stream over the transport's top, pushed and
// shaken hands with by secure(). Over the factory's stream it is TLS to the origin;
// over a TLS layer to a proxy, TLS inside TLS.
#pragma once

#include <opensock/tls/handshake.hpp>
#include <opensock/transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace opensock::tls {

template <class Stream>
class layer final : public transport_layer<Stream> {
 public:
  using below_type = typename transport_layer<Stream>::below;

  /// Over `below`, with `context`, which the layer keeps while it lives.
  layer(below_type below, std::shared_ptr<asio::ssl::context> context)
      : context_(std::move(context)), stream_(std::move(below), *context_) {}

  asio::ssl::stream<below_type>& stream() noexcept { return stream_; }

  void async_read_some(asio::mutable_buffer buffer,
                       opensock::detail::io_handler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void async_write_some(asio::const_buffer buffer,
                        opensock::detail::io_handler handler) override {
    stream_.async_write_some(buffer, std::move(handler));
  }

 private:
  below_type& stream_below() noexcept override { return stream_.next_layer(); }

  std::shared_ptr<asio::ssl::context> context_;
  asio::ssl::stream<below_type> stream_;
};

/// Pushes a TLS layer over `t`'s top and runs the client handshake on it for `host`,
/// as handshake_on() does; `alpn` gets the protocol the server chose. The layer stays
/// when the handshake fails, for the caller to close the transport.
template <class Stream>
asio::awaitable<std::error_code> secure(transport<Stream>& t,
                                        std::shared_ptr<asio::ssl::context> context,
                                        const std::string& host, const options& o,
                                        std::string& alpn, asio::cancellation_state stop = {}) {
  auto& pushed = t.push(std::make_unique<layer<Stream>>(t.top(), std::move(context)));
  co_return co_await handshake_on(pushed.stream(), host, o, alpn, std::move(stop));
}

}  // namespace opensock::tls
