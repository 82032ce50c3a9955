// A transport layer for bytes a stage read past its own message: the first bytes of a
// CONNECT tunnel that came in the same read as the proxy's answer. They are served to
// the next reads before anything from the stream below; writes pass straight through.
#pragma once

#include <opensock/detail/io_handler.hpp>
#include <opensock/transport.hpp>

#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

namespace opensock::detail {

template <class Stream>
class read_ahead_layer final : public transport_layer<Stream> {
 public:
  using below_type = typename transport_layer<Stream>::below;

  read_ahead_layer(below_type below, std::string bytes)
      : below_(std::move(below)), bytes_(std::move(bytes)) {}

  void async_read_some(asio::mutable_buffer buffer, io_handler handler) override {
    if (served_ == bytes_.size()) {
      below_.async_read_some(buffer, std::move(handler));
      return;
    }
    const std::size_t n =
        asio::buffer_copy(buffer, asio::buffer(bytes_.data() + served_, bytes_.size() - served_));
    served_ += n;
    if (served_ == bytes_.size()) {
      std::string().swap(bytes_);
      served_ = 0;
    }
    // Completed through the handler's executor, never inside the call that started it.
    auto executor = handler.get_executor();
    asio::post(executor, [h = std::move(handler), n]() mutable { h(std::error_code(), n); });
  }

  void async_write_some(asio::const_buffer buffer, io_handler handler) override {
    below_.async_write_some(buffer, std::move(handler));
  }

 private:
  below_type& stream_below() noexcept override { return below_; }

  below_type below_;
  std::string bytes_;
  std::size_t served_ = 0;
};

}  // namespace opensock::detail
