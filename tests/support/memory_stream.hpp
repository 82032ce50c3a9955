// An in-memory, connected pair of Asio async streams: what one side writes the other
// reads. It stands for "any Asio async stream" a factory may hand back.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace opensock::test {

class memory_stream {
  struct pipe {
    explicit pipe(const asio::any_io_executor& executor) : wake(executor) {}
    std::string bytes;
    bool closed = false;
    asio::steady_timer wake;  // a waiting reader sleeps on it; a writer cancels it
  };

 public:
  using executor_type = asio::any_io_executor;

  static std::pair<memory_stream, memory_stream> make_pair(const executor_type& executor) {
    auto a_to_b = std::make_shared<pipe>(executor);
    auto b_to_a = std::make_shared<pipe>(executor);
    return {memory_stream(executor, b_to_a, a_to_b), memory_stream(executor, a_to_b, b_to_a)};
  }

  executor_type get_executor() const noexcept { return executor_; }
  bool is_open() const noexcept { return in_ && !out_->closed; }

  /// Ends both directions: the peer reads eof, writes here fail.
  void close(std::error_code& ec) {
    ec.clear();
    if (!in_) return;
    for (auto* p : {in_.get(), out_.get()}) {
      p->closed = true;
      p->wake.cancel();
    }
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        [in = in_, buffers, started = false](auto& self, std::error_code = {}) mutable {
          if (!started) {  // never complete inside the initiating call
            started = true;
            return asio::post(std::move(self));
          }
          if (asio::buffer_size(buffers) == 0) return self.complete({}, 0);
          if (!in->bytes.empty()) {
            const std::size_t n = asio::buffer_copy(buffers, asio::buffer(in->bytes));
            in->bytes.erase(0, n);
            return self.complete({}, n);
          }
          if (in->closed) return self.complete(asio::error::eof, 0);
          in->wake.expires_at(asio::steady_timer::time_point::max());
          in->wake.async_wait(std::move(self));
        },
        token, executor_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        [out = out_, buffers, started = false](auto& self) mutable {
          if (!started) {
            started = true;
            return asio::post(std::move(self));
          }
          if (out->closed) return self.complete(asio::error::broken_pipe, 0);
          std::size_t n = 0;
          for (auto it = asio::buffer_sequence_begin(buffers);
               it != asio::buffer_sequence_end(buffers); ++it) {
            out->bytes.append(static_cast<const char*>((*it).data()), (*it).size());
            n += (*it).size();
          }
          out->wake.cancel();
          self.complete({}, n);
        },
        token, executor_);
  }

 private:
  memory_stream(executor_type executor, std::shared_ptr<pipe> in, std::shared_ptr<pipe> out)
      : executor_(std::move(executor)), in_(std::move(in)), out_(std::move(out)) {}

  executor_type executor_;
  std::shared_ptr<pipe> in_;
  std::shared_ptr<pipe> out_;
};

}  // namespace opensock::test
