// An in-memory, connected pair of Asio streams for tests, usable wherever a socket
// factory's stream is: what one end writes the other reads. Each end can be scripted
// from the test (bytes sent in pieces, a close or a reset after them, a cap on what it
// accepts) and made to fail: a shared `fault` counts operations and fails a chosen one.
//
//     auto [client, server] = opensock::test::stream::make_pair(io.get_executor());
//     server.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
//     server.send("hi");    // a second piece: a read never returns both
//     server.close();       // the client reads both pieces, then eof
//     ...                   // server.received() is what the client wrote
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace opensock::test {

/// Counts the operations of the streams and factories that share it (each read, write
/// and open) and fails the `nth`, counted from 1, with `error`. Walking `nth` from 1
/// until a run ends with the fault not fired tries a failure at every operation of an
/// exchange. Used from one thread, as the streams that share it are.
class fault {
 public:
  /// Counts and never fails.
  fault() noexcept {}
  explicit fault(std::size_t nth, std::error_code error = asio::error::connection_reset) noexcept
      : nth_(nth), error_(error) {}

  /// Counts one operation: the error it fails with, or none.
  std::error_code count() noexcept { return ++count_ == nth_ ? error_ : std::error_code(); }
  /// The operations counted so far.
  std::size_t operations() const noexcept { return count_; }
  /// Whether the chosen operation came.
  bool fired() const noexcept { return nth_ != 0 && count_ >= nth_; }

 private:
  std::size_t nth_ = 0;
  std::size_t count_ = 0;
  std::error_code error_;
};

/// One end of a connected in-memory stream pair: an Asio AsyncStream. Its operations
/// never complete inside the call that starts them, and end with operation_aborted on a
/// terminal cancellation through their handler's slot, as a socket's do. Destroying an
/// open end closes it.
class stream {
  // One direction: what one end wrote and the other has not read yet.
  struct pipe {
    explicit pipe(const asio::any_io_executor& executor) : wake(executor) {}
    std::deque<std::string> pieces;  // a write or a send() each; a read takes from one
    std::string log;                 // every byte put in, for the test to look at
    std::error_code end;             // set by the writer's close: what the reader gets last
    std::error_code refused;         // set by the reader's close: what writes get
    std::size_t accepted = 0;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    std::error_code past_limit;      // what writes get once `limit` bytes are in
    std::uint64_t aborts = 0;        // bumped to end the reader's wait: cancel(), close()
    asio::steady_timer wake;         // a waiting reader sleeps on it
  };

 public:
  using executor_type = asio::any_io_executor;
  static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

  /// Two connected ends on `executor`.
  static std::pair<stream, stream> make_pair(const executor_type& executor) {
    auto a_to_b = std::make_shared<pipe>(executor);
    auto b_to_a = std::make_shared<pipe>(executor);
    return {stream(executor, b_to_a, a_to_b), stream(executor, a_to_b, b_to_a)};
  }

  stream(stream&& other) noexcept = default;
  stream& operator=(stream&& other) noexcept {
    if (this != &other) {
      end(asio::error::eof, asio::error::broken_pipe);
      executor_ = std::move(other.executor_);
      in_ = std::move(other.in_);
      out_ = std::move(other.out_);
      read_size_ = other.read_size_;
      write_size_ = other.write_size_;
      fault_ = std::move(other.fault_);
    }
    return *this;
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { end(asio::error::eof, asio::error::broken_pipe); }

  executor_type get_executor() const noexcept { return executor_; }
  /// The end itself, as a socket is its own lowest layer (what asio::ssl::stream asks).
  using lowest_layer_type = stream;
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  const lowest_layer_type& lowest_layer() const noexcept { return *this; }
  /// Whether this end is open: neither closed nor reset by its owner.
  bool is_open() const noexcept { return out_ && !out_->end; }

  /// Closes this end: the other reads what was sent, then eof; its writes fail with
  /// broken_pipe; this end's pending read ends with operation_aborted.
  void close(std::error_code& ec) {
    ec.clear();
    end(asio::error::eof, asio::error::broken_pipe);
  }
  void close() { end(asio::error::eof, asio::error::broken_pipe); }
  /// Resets the connection from this end: the other reads what was sent, then
  /// connection_reset, and its writes fail with connection_reset.
  void reset() { end(asio::error::connection_reset, asio::error::connection_reset); }
  /// Ends this end's pending read with operation_aborted (writes complete at once).
  void cancel(std::error_code& ec) {
    ec.clear();
    if (!in_) return;
    ++in_->aborts;
    in_->wake.cancel();
  }

  /// Sends `piece` to the other end at once, as one piece: no read there returns bytes
  /// of it together with bytes of another. Nothing once this end is closed.
  void send(std::string_view piece) {
    if (!is_open() || piece.empty()) return;
    out_->pieces.emplace_back(piece);
    out_->log.append(piece);
    out_->wake.cancel();
  }
  /// Everything the other end wrote to this one, read or not.
  const std::string& received() const noexcept { return in_->log; }
  /// Whether the other end closed or reset the connection.
  bool closed_by_peer() const noexcept { return in_ && in_->end; }

  /// This end's reads return at most `bytes` bytes each.
  void read_size(std::size_t bytes) noexcept { read_size_ = std::max<std::size_t>(bytes, 1); }
  /// This end's writes take at most `bytes` bytes each.
  void write_size(std::size_t bytes) noexcept { write_size_ = std::max<std::size_t>(bytes, 1); }
  /// This end takes `bytes` bytes from the other in all; the other's writes past them
  /// fail with `error` (a write across the mark takes the bytes up to it).
  void receive_at_most(std::size_t bytes,
                       std::error_code error = asio::error::connection_reset) noexcept {
    in_->limit = bytes;
    in_->past_limit = error;
  }
  /// This end's reads and writes count on `f`, and the one it chooses fails.
  void fail_with(std::shared_ptr<fault> f) noexcept { fault_ = std::move(f); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        [in = in_, buffers, max = read_size_, failure = start_operation(),
         aborts = in_ ? in_->aborts : 0,
         started = false](auto& self, std::error_code = {}) mutable {
          if (!started) {  // never complete inside the initiating call
            started = true;
            return asio::post(std::move(self));
          }
          // Cancelled through the handler's slot, as a socket's read is: while posted, or
          // while waiting for bytes (the wait ends, and with it the read).
          if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
            return self.complete(asio::error::operation_aborted, 0);
          if (failure) return self.complete(failure, 0);
          if (in->aborts != aborts) return self.complete(asio::error::operation_aborted, 0);
          if (asio::buffer_size(buffers) == 0) return self.complete({}, 0);
          if (!in->pieces.empty()) {
            std::string& piece = in->pieces.front();
            const std::size_t n = asio::buffer_copy(buffers, asio::buffer(piece), max);
            piece.erase(0, n);
            if (piece.empty()) in->pieces.pop_front();
            return self.complete({}, n);
          }
          if (in->end) return self.complete(in->end, 0);
          in->wake.expires_at(asio::steady_timer::time_point::max());
          in->wake.async_wait(std::move(self));
        },
        token, executor_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        [out = out_, buffers, max = write_size_, failure = start_operation(),
         started = false](auto& self) mutable {
          if (!started) {
            started = true;
            return asio::post(std::move(self));
          }
          if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
            return self.complete(asio::error::operation_aborted, 0);
          if (failure) return self.complete(failure, 0);
          if (out->end) return self.complete(asio::error::bad_descriptor, 0);  // closed since
          if (out->refused) return self.complete(out->refused, 0);
          const std::size_t wanted = asio::buffer_size(buffers);
          const std::size_t n = std::min({wanted, max, out->limit - out->accepted});
          if (n == 0 && wanted != 0) return self.complete(out->past_limit, 0);
          if (n != 0) {
            std::string piece(n, '\0');
            asio::buffer_copy(asio::buffer(piece), buffers, n);
            out->log.append(piece);
            out->pieces.push_back(std::move(piece));
            out->accepted += n;
            out->wake.cancel();
          }
          self.complete({}, n);
        },
        token, executor_);
  }

 private:
  stream(executor_type executor, std::shared_ptr<pipe> in, std::shared_ptr<pipe> out)
      : executor_(std::move(executor)), in_(std::move(in)), out_(std::move(out)) {}

  // An operation's outcome decided when it starts: on a closed end it fails, else it
  // counts on the fault.
  std::error_code start_operation() {
    if (!is_open()) return asio::error::bad_descriptor;
    return fault_ ? fault_->count() : std::error_code();
  }

  // Ends this end: the other end's reads get `last` after what was sent, its writes
  // get `refused`, and this end's pending read is aborted.
  void end(std::error_code last, std::error_code refused) {
    if (!is_open()) return;
    out_->end = last;
    out_->wake.cancel();
    in_->refused = refused;
    ++in_->aborts;
    in_->wake.cancel();
  }

  executor_type executor_;
  std::shared_ptr<pipe> in_;
  std::shared_ptr<pipe> out_;
  std::size_t read_size_ = unlimited;
  std::size_t write_size_ = unlimited;
  std::shared_ptr<fault> fault_;
};

}  // namespace opensock::test
