// A connection's stream as layers: the socket factory's stream at the bottom, and above
// it, chosen per connection, the layers its route needs (TLS to the origin; later TLS
// to a proxy, and TLS inside that). Each layer is an Asio AsyncStream over the one
// below; the transport reads and writes through its top.
#pragma once

#include <opensock/detail/io_handler.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>

#include <cstddef>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace opensock {

template <class Stream>
class transport;

namespace detail {

// The first buffer of a sequence that is not empty, or an empty one: what a layer's
// read_some or write_some takes (an SSL stream, for one, moves one buffer at a time).
template <class Buffer, class Buffers>
Buffer first_buffer(const Buffers& buffers) {
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    Buffer b(*it);
    if (b.size() != 0) return b;
  }
  return Buffer();
}

}  // namespace detail

/// One layer of a transport<Stream> above its lowest stream. A layer reads and writes
/// through `below()`, the stream under it, which is an AsyncStream itself.
template <class Stream>
class transport_layer {
 public:
  virtual ~transport_layer() = default;
  virtual void async_read_some(asio::mutable_buffer buffer, detail::io_handler handler) = 0;
  virtual void async_write_some(asio::const_buffer buffer, detail::io_handler handler) = 0;

  /// The AsyncStream a layer is built over: the layers of a transport under a depth.
  class below {
   public:
    using executor_type = asio::any_io_executor;
    using lowest_layer_type = Stream;

    below(transport<Stream>& owner, std::size_t depth) : owner_(&owner), depth_(depth) {}

    executor_type get_executor() const { return owner_->get_executor(); }
    Stream& lowest_layer() noexcept { return owner_->lowest_layer(); }
    const Stream& lowest_layer() const noexcept { return owner_->lowest_layer(); }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
      return owner_->async_read_some_at(depth_, buffers, std::forward<Token>(token));
    }
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
      return owner_->async_write_some_at(depth_, buffers, std::forward<Token>(token));
    }

   private:
    friend class transport<Stream>;
    transport<Stream>* owner_;
    std::size_t depth_;
  };

 protected:
  /// The stream this layer is built over: layers hold it in their own stream object
  /// (an asio::ssl::stream<below>, say) and give it back here, so that a transport
  /// that moves can point it at its new place.
  virtual below& stream_below() noexcept = 0;

 private:
  friend class transport<Stream>;
};

/// The stream of one connection: `Stream`, the factory's, with layers pushed over it.
/// Reads and writes go to the top layer, or straight to the stream when there is none.
/// It may move before and after layers are pushed.
template <class Stream>
class transport {
 public:
  using lowest_layer_type = Stream;
  using executor_type = asio::any_io_executor;
  using layer_type = transport_layer<Stream>;
  using below_type = typename layer_type::below;

  explicit transport(Stream&& stream) : stream_(std::move(stream)) {}
  template <class... Args>
    requires std::constructible_from<Stream, Args...>
  explicit transport(std::in_place_t, Args&&... args) : stream_(std::forward<Args>(args)...) {}

  transport(transport&& other) noexcept(std::is_nothrow_move_constructible_v<Stream>)
      : stream_(std::move(other.stream_)), layers_(std::move(other.layers_)) {
    rebind();
  }
  transport& operator=(transport&& other) noexcept(std::is_nothrow_move_assignable_v<Stream>) {
    pop_all();
    stream_ = std::move(other.stream_);
    layers_ = std::move(other.layers_);
    rebind();
    return *this;
  }
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  ~transport() { pop_all(); }

  executor_type get_executor() { return stream_.get_executor(); }

  /// The factory's stream, at the bottom: what is connected, cancelled and closed.
  Stream& lowest_layer() noexcept { return stream_; }
  const Stream& lowest_layer() const noexcept { return stream_; }

  /// Layers above the factory's stream.
  std::size_t layers() const noexcept { return layers_.size(); }

  /// The stream at the top, for a new layer to be built over.
  below_type top() noexcept { return below_type(*this, layers_.size()); }

  /// Puts `layer`, built over top(), at the top.
  template <class Layer>
    requires std::derived_from<Layer, layer_type>
  Layer& push(std::unique_ptr<Layer> layer) {
    Layer& pushed = *layer;
    layers_.push_back(std::move(layer));
    return pushed;
  }

  /// Removes every layer, leaving the factory's stream as it is.
  void pop_all() noexcept {
    while (!layers_.empty()) layers_.pop_back();
  }

  /// Reads through the top layer: void(std::error_code, std::size_t).
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return async_read_some_at(layers_.size(), buffers, std::forward<Token>(token));
  }
  /// Writes through the top layer: void(std::error_code, std::size_t).
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return async_write_some_at(layers_.size(), buffers, std::forward<Token>(token));
  }

 private:
  friend below_type;

  // Through the layer at `depth` (1 is the lowest layer above the stream), or the
  // stream itself for 0.
  template <class Buffers, class Token>
  auto async_read_some_at(std::size_t depth, const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this, depth](auto handler, const Buffers& b) {
          if (depth == 0) {
            stream_.async_read_some(b, std::move(handler));
          } else {
            layers_[depth - 1]->async_read_some(
                detail::first_buffer<asio::mutable_buffer>(b),
                detail::io_handler(std::move(handler), get_executor()));
          }
        },
        token, buffers);
  }
  template <class Buffers, class Token>
  auto async_write_some_at(std::size_t depth, const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this, depth](auto handler, const Buffers& b) {
          if (depth == 0) {
            stream_.async_write_some(b, std::move(handler));
          } else {
            layers_[depth - 1]->async_write_some(
                detail::first_buffer<asio::const_buffer>(b),
                detail::io_handler(std::move(handler), get_executor()));
          }
        },
        token, buffers);
  }

  void rebind() noexcept {
    for (auto& layer : layers_) layer->stream_below().owner_ = this;
  }

  Stream stream_;
  std::vector<std::unique_ptr<layer_type>> layers_;
};

}  // namespace opensock
