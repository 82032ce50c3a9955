// A WebSocket connection from the client's side (RFC 6455 §5–§7) over any AsyncStream:
// the transport a session handed over after the upgrade (plain, TLS, through proxies, a
// factory's own stream) or any other. Messages go out masked and framed, optionally
// compressed (RFC 7692), whole or in pieces; they come in whole into a container or piece
// by piece, checked as they arrive. Pings are answered, the close handshake is kept, and a
// peer that breaks the protocol is closed with the code that says why.
#pragma once

#include <opensock/detail/io_handler.hpp>
#include <opensock/detail/utf8_validator.hpp>
#include <opensock/error.hpp>
#include <opensock/transport.hpp>
#include <opensock/websocket/frame.hpp>
#include <opensock/websocket/handshake.hpp>
#include <opensock/websocket/options.hpp>
#include <opensock/websocket/permessage_deflate.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock::websocket {

/// Whether `Buffer` is a container a whole message can be appended to: std::string,
/// std::vector<char>, std::vector<unsigned char> and their like.
template <class Buffer>
concept message_container = requires(Buffer& b, std::size_t n) {
  b.resize(n);
  { b.size() } -> std::convertible_to<std::size_t>;
  b.data();
  requires sizeof(*b.data()) == 1;
};

/// One WebSocket connection over `NextLayer`. One read and one write may be in flight at
/// once; answers to pings and the close handshake are written between the frames of the
/// caller's own writes. Like any Asio I/O object it is used from one strand at a time,
/// and it may move only while no operation is in flight. Over a layer that keeps state
/// of its own while it writes (TLS), destroy it only once the peer's close was answered:
/// after async_close() or a read that ended the connection, not inside that read's
/// handler, as the answer may still be in flight.
template <class NextLayer>
class stream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  /// Over `next`, after a handshake that settled `settled`: `buffered` is what was read
  /// from the connection past the server's 101, the start of the first frames.
  explicit stream(NextLayer next, stream_options options = stream_options(),
                  handshake_result settled = handshake_result(), std::string_view buffered = {})
      : next_(std::move(next)),
        options_(std::move(options)),
        settled_(std::move(settled)),
        timer_(next_.get_executor()),
        alive_(std::make_shared<stream*>(this)) {
    rbuf_.resize(std::max(read_buffer_size, buffered.size()));
    if (!buffered.empty()) std::memcpy(rbuf_.data(), buffered.data(), buffered.size());
    rend_ = buffered.size();
#if OPENSOCK_HAS_ZLIB
    if (settled_.deflate) {
      deflater_ = std::make_unique<deflater>(*settled_.deflate);
      inflater_ = std::make_unique<inflater>(*settled_.deflate);
    }
#endif
  }

  stream(stream&& other) noexcept
      : next_(std::move(other.next_)),
        options_(std::move(other.options_)),
        settled_(std::move(other.settled_)),
        timer_(std::move(other.timer_)),
        alive_(std::move(other.alive_)),
        reading_(other.reading_),
        writing_(other.writing_) {
    move_state(other);
  }
  stream& operator=(stream&&) = delete;
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() = default;

  executor_type get_executor() { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  /// What the handshake settled: subprotocol, permessage-deflate.
  const handshake_result& negotiated() const noexcept { return settled_; }
  stream_options& options() noexcept { return options_; }
  const stream_options& options() const noexcept { return options_; }

  /// The kind of the messages written from now on: text (the default) or binary.
  void text(bool on) noexcept { send_text_ = on; }
  void binary(bool on) noexcept { send_text_ = !on; }
  bool text() const noexcept { return send_text_; }

  /// The kind of the message being read, or last read.
  bool got_text() const noexcept { return message_text_; }
  bool got_binary() const noexcept { return !message_text_; }
  /// Whether the last read ended a message.
  bool is_message_done() const noexcept { return !in_message_; }

  /// Whether the connection may still carry messages: no close frame received or sent,
  /// no error.
  bool is_open() const noexcept { return !failed_ && !write_failed_ && !close_sent_; }
  /// The close frame the peer sent; code 0 until one came (or when it had none).
  const close_reason& reason() const noexcept { return received_close_; }

  /// Reads the next piece of the current message, or of the next one, into `buffer`:
  /// void(std::error_code, std::size_t). is_message_done() tells whether it ended the
  /// message. Control frames are dealt with on the way. A close frame from the peer ends
  /// it with websocket_closed (reason() has it); a frame that breaks the protocol with
  /// the error that says how, after a close frame with its code was sent. Cancellation
  /// (terminal) ends it with operation_aborted and leaves the stream usable.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        read_op<into_buffer>{
            this, into_buffer{opensock::detail::first_buffer<asio::mutable_buffer>(buffers)}},
        token, next_);
  }

  /// Reads one whole message and appends it to `message`: void(std::error_code,
  /// std::size_t) with its size.
  template <message_container Container, class Token>
  auto async_read(Container& message, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        read_op<into_container<Container>>{this, into_container<Container>{&message, message.size()}},
        token, next_);
  }

  /// Writes `buffers` as one frame of a message; `fin` ends the message. The first frame
  /// of a message is text or binary as text() says, the next ones continue it:
  /// void(std::error_code, std::size_t) with the size of `buffers`. Cancellation
  /// (terminal) ends it with operation_aborted; a frame cut off leaves the stream
  /// failed.
  template <class ConstBuffers, class Token>
  auto async_write_some(bool fin, const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        write_op<ConstBuffers>(this, buffers, fin, opcode::text), token, next_);
  }

  /// Writes `buffers` as one whole message.
  template <class ConstBuffers, class Token>
  auto async_write(const ConstBuffers& buffers, Token&& token) {
    return async_write_some(true, buffers, std::forward<Token>(token));
  }

  /// Sends a ping (payload at most 125 bytes): void(std::error_code).
  template <class Token>
  auto async_ping(std::string_view payload, Token&& token) {
    return control(opcode::ping, payload, std::forward<Token>(token));
  }

  /// Sends an unsolicited pong (a heartbeat): void(std::error_code).
  template <class Token>
  auto async_pong(std::string_view payload, Token&& token) {
    return control(opcode::pong, payload, std::forward<Token>(token));
  }

  /// Starts the close handshake with `why` (RFC 6455 §7.1.2) and, unless a read is in
  /// flight to see it, reads until the peer's close frame or the end of the connection,
  /// dropping any message still coming: void(std::error_code).
  template <class Token>
  auto async_close(close_reason why, Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(close_op{this, std::move(why)},
                                                             token, next_);
  }

 private:
  static constexpr std::size_t read_buffer_size = 16 * 1024;
  // Uncompressed payload is masked into the write buffer this much at a time.
  static constexpr std::size_t write_chunk = 64 * 1024;

  // Completes `self` from a later turn of the executor when nothing was waited for: an
  // operation never completes inside the call that started it.
  template <class Self, class... Args>
  static void complete_later(Self& self, bool waited, Args... args) {
    if (waited) {
      self.complete(args...);
      return;
    }
    auto ex = self.get_executor();
    asio::post(ex, [self = std::move(self), args...]() mutable { self.complete(args...); });
  }

  // --- reading ---

  // Where a read puts the payload: the caller's buffer, filled once (async_read_some),
  // or a container a whole message is appended to (async_read).
  struct into_buffer {
    asio::mutable_buffer out;
    std::size_t taken = 0;

    asio::mutable_buffer room(stream&) { return out; }
    // Whether the read is over once `n` bytes came.
    bool took(stream&, std::size_t n) {
      taken = n;
      return true;
    }
    std::size_t end() { return taken; }
  };

  template <class Container>
  struct into_container {
    Container* message;
    std::size_t start;
    std::size_t used = 0;  // of the room made after `start`

    // The container grows only when full: by what the current frame still holds when that
    // is known and not compressed, else by as much as it holds, doubling.
    asio::mutable_buffer room(stream& s) {
      s.peek_header();
      std::size_t room = message->size() - start - used;
      if (room == 0) {
        room = std::max<std::size_t>(used, 1024);
        if (s.has_header_ && !s.message_compressed_ && !is_control(s.header_.op) &&
            s.remaining_ > 0)
          room = static_cast<std::size_t>(
              std::min<std::uint64_t>(s.remaining_, s.options_.max_message_size) + 1);
        message->resize(start + used + room);
      }
      return asio::buffer(reinterpret_cast<unsigned char*>(message->data()) + start + used, room);
    }
    bool took(stream& s, std::size_t n) {
      used += n;
      return s.is_message_done();
    }
    std::size_t end() {
      if (message->size() != start + used) message->resize(start + used);
      return used;
    }
  };

  template <class Sink>
  struct read_op {
    stream* s;
    Sink sink;
    asio::mutable_buffer out{};
    bool started = false;
    bool waited = false;
    bool direct = false;  // the last read went straight into `out`

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
      if (!started) {
        started = true;
        if (s->failed_) {
          sink.end();
          return complete_later(self, false, s->failed_, std::size_t(0));
        }
        s->reading_ = true;
        // Idle time is counted while a read waits, not while none was asked for.
        if (!s->timer_armed_) s->received_now();
      } else {
        waited = true;
        if (ec) return finish(self, s->read_failed(ec));
        s->received_now();
        if (direct) {
          direct = false;
          std::error_code bad;
          const std::size_t k = s->delivered(static_cast<unsigned char*>(out.data()), n, bad);
          if (bad) return finish(self, bad);
          if (sink.took(*s, k)) return finish(self, std::error_code());
        } else {
          s->rend_ += n;
        }
      }
      for (;;) {
        out = sink.room(*s);
        std::error_code bad;
        const auto step = s->advance(out, bad);
        if (bad) return finish(self, bad);
        if (step.done) {
          if (sink.took(*s, step.size)) return finish(self, std::error_code());
          continue;
        }
        s->arm_idle_timer();
        if (step.direct) {
          direct = true;
          s->next_.async_read_some(asio::buffer(out.data(), step.size), std::move(self));
        } else {
          s->compact_read_buffer();
          s->next_.async_read_some(
              asio::buffer(s->rbuf_.data() + s->rend_, s->rbuf_.size() - s->rend_),
              std::move(self));
        }
        return;
      }
    }

    template <class Self>
    void finish(Self& self, std::error_code ec) {
      s->reading_ = false;
      if (ec) s->fail(ec);
      const std::size_t n = sink.end();
      complete_later(self, waited, ec, n);
    }
  };

  // What advance() found: a piece of payload to deliver (done, with its size), or a read
  // to start, into the read buffer or, for `direct`, straight into the caller's buffer
  // (`size` bytes).
  struct step {
    bool done = false;
    bool direct = false;
    std::size_t size = 0;
  };

  // Moves through what the read buffer holds: headers, control frames, payload into
  // `out`. Sets `ec` on a frame that breaks the protocol.
  step advance(asio::mutable_buffer out, std::error_code& ec) {
    for (;;) {
      if (!has_header_) {
        if (header_error_) {
          ec = std::exchange(header_error_, std::error_code());
          return {};
        }
        if (!next_header(ec)) {
          if (ec) return {};
          return step{false, false, 0};
        }
      }
      if (is_control(header_.op)) {
        if (rend_ - rpos_ < remaining_) return step{false, false, 0};
        const std::string_view payload(reinterpret_cast<const char*>(rbuf_.data() + rpos_),
                                       static_cast<std::size_t>(remaining_));
        rpos_ += static_cast<std::size_t>(remaining_);
        remaining_ = 0;
        has_header_ = false;
        if (!on_control_frame(header_.op, payload, ec)) return {};
        continue;
      }
      if (out.size() == 0) return step{true, false, 0};
      std::size_t k = 0;
#if OPENSOCK_HAS_ZLIB
      if (message_compressed_) {
        // What was inflated is checked before an error that came after it, so that the
        // first fault is the one reported however the message is read.
        std::error_code bad_stream;
        const inflated got = inflate_into(out, bad_stream);
        k = got.size;
        if (!check_payload(static_cast<unsigned char*>(out.data()), k, ec)) return {};
        if (bad_stream) {
          ec = bad_stream;
          return {};
        }
        if (got.ended) end_message(ec);
        if (ec) return {};
        if (got.needs_input) return step{false, false, 0};
        if (k > 0 || !in_message_) return step{true, false, k};
        continue;
      }
#endif
      const std::size_t avail = rend_ - rpos_;
      if (remaining_ > 0 && avail == 0) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, out.size()));
        // A large payload goes straight to the caller: one copy of each byte fewer.
        if (want >= rbuf_.size() / 2) return step{false, true, want};
        return step{false, false, 0};
      }
      k = static_cast<std::size_t>(
          std::min<std::uint64_t>({avail, remaining_, std::uint64_t(out.size())}));
      std::memcpy(out.data(), rbuf_.data() + rpos_, k);
      rpos_ += k;
      k = delivered(static_cast<unsigned char*>(out.data()), k, ec);
      if (ec) return {};
      if (k > 0 || !in_message_) return step{true, false, k};
    }
  }

  // Reads the next frame's header from the read buffer: false when it is not there whole
  // or is at fault (`ec`).
  bool next_header(std::error_code& ec) {
    const std::size_t n = parse_frame_header(
        std::span<const unsigned char>(rbuf_.data() + rpos_, rend_ - rpos_), header_, ec);
    if (ec || n == 0) return false;
    rpos_ += n;
    return check_header(ec);
  }

  // The next header, read ahead when the read buffer holds it, so that a whole message's
  // size is known before room is made for it; a fault is kept for the read to report.
  void peek_header() {
    if (has_header_ || header_error_) return;
    std::error_code ec;
    if (!next_header(ec) && ec) header_error_ = ec;
  }

  // After `n` payload bytes of an uncompressed frame reached `data`: counts and checks
  // them, and ends the frame and the message where they end. Returns `n`.
  std::size_t delivered(unsigned char* data, std::size_t n, std::error_code& ec) {
    remaining_ -= n;
    if (!check_payload(data, n, ec)) return 0;
    if (remaining_ == 0) {
      has_header_ = false;
      if (header_.fin) end_message(ec);
    }
    return n;
  }

  // Counts `n` bytes of a message's payload (inflated when compressed) against the size
  // limit and, for text, checks they continue its UTF-8.
  // The first byte at fault decides, however the message is cut into reads.
  bool check_payload(const unsigned char* data, std::size_t n, std::error_code& ec) {
    const std::size_t room = options_.max_message_size - message_size_;
    if (message_text_ && !utf8_.feed(data, std::min(n, room))) {
      ec = error::websocket_invalid_utf8;
      return false;
    }
    message_size_ += std::min(n, room);
    if (n > room) {
      ec = error::websocket_message_too_big;
      return false;
    }
    return true;
  }

  void end_message(std::error_code& ec) {
    in_message_ = false;
    if (message_text_ && !utf8_.complete()) ec = error::websocket_invalid_utf8;
  }

#if OPENSOCK_HAS_ZLIB
  struct inflated {
    std::size_t size = 0;
    bool needs_input = false;  // nothing could be made before more is read
    bool ended = false;        // the message ended here
  };

  // Inflates what the read buffer holds of the current compressed frame into `out`, and
  // at the message's end the four bytes its compressed form lacks.
  inflated inflate_into(asio::mutable_buffer out, std::error_code& ec) {
    std::span<unsigned char> to(static_cast<unsigned char*>(out.data()), out.size());
    inflated got;
    for (;;) {
      if (remaining_ > 0) {
        const std::size_t avail = static_cast<std::size_t>(
            std::min<std::uint64_t>(rend_ - rpos_, remaining_));
        if (avail == 0) {
          // What zlib read ahead is decoded before more is read (or found faulty).
          const auto p = inflater_->inflate_some({}, to.subspan(got.size), ec);
          got.size += p.produced;
          got.needs_input = got.size == 0 && !ec;
          return got;
        }
        const auto p = inflater_->inflate_some(
            std::span<const unsigned char>(rbuf_.data() + rpos_, avail), to.subspan(got.size),
            ec);
        rpos_ += p.consumed;
        remaining_ -= p.consumed;
        got.size += p.produced;
        if (ec || got.size == to.size()) return got;
        continue;
      }
      if (!header_.fin) {
        // The frame's last bytes may still be inside zlib: drained before the next frame,
        // so that a fault in them is found here however the message is read.
        const auto p = inflater_->inflate_some({}, to.subspan(got.size), ec);
        got.size += p.produced;
        if (!ec && got.size < to.size()) has_header_ = false;
        return got;
      }
      // The whole message came: its missing tail, then whatever zlib still holds.
      const auto p =
          inflater_->inflate_some(inflater::tail().subspan(tail_fed_), to.subspan(got.size), ec);
      tail_fed_ += p.consumed;
      got.size += p.produced;
      if (ec) return got;
      if (tail_fed_ == 4 && got.size < to.size()) {
        has_header_ = false;
        tail_fed_ = 0;
        inflater_->message_done();
        got.ended = true;
        return got;
      }
      if (got.size == to.size()) return got;
    }
  }
#endif

  // Checks a new frame's header against the state of the connection: unmasked, no
  // reserved bit but RSV1 on the first frame of a compressed message, continuation
  // frames only inside a message, and a size that fits the limit.
  bool check_header(std::error_code& ec) {
    const opcode op = header_.op;
    bool ok = !header_.masked && !header_.rsv2 && !header_.rsv3;
    if (header_.rsv1) ok = ok && settled_.deflate && (op == opcode::text || op == opcode::binary);
    if (op == opcode::continuation) ok = ok && in_message_;
    if (op == opcode::text || op == opcode::binary) ok = ok && !in_message_;
    if (!ok) {
      ec = error::websocket_protocol_error;
      return false;
    }
    has_header_ = true;
    remaining_ = header_.length;
    if (op == opcode::text || op == opcode::binary) {
      in_message_ = true;
      message_text_ = op == opcode::text;
      message_compressed_ = header_.rsv1;
      message_size_ = 0;
      utf8_.reset();
    }
    if (!is_control(op) && !message_compressed_ &&
        header_.length > options_.max_message_size - std::min(message_size_,
                                                               options_.max_message_size)) {
      has_header_ = false;
      ec = error::websocket_message_too_big;
      return false;
    }
    return true;
  }

  // A ping, pong or close frame, whole: answered as RFC 6455 says.
  bool on_control_frame(opcode op, std::string_view payload, std::error_code& ec) {
    if (op == opcode::close) {
      close_reason why;
      if (payload.size() == 1) {
        ec = error::websocket_protocol_error;
        return false;
      }
      if (payload.size() >= 2) {
        why.code = static_cast<std::uint16_t>(
            (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
        if (!is_valid_close_code(why.code)) {
          ec = error::websocket_protocol_error;
          return false;
        }
        opensock::detail::utf8_validator reason_text;
        if (!reason_text.feed(reinterpret_cast<const unsigned char*>(payload.data()) + 2,
                              payload.size() - 2) ||
            !reason_text.complete()) {
          ec = error::websocket_invalid_utf8;
          return false;
        }
        why.reason.assign(payload.substr(2));
      }
      if (options_.on_control) options_.on_control(op, payload);
      received_close_ = std::move(why);
      // Echo the code (RFC 6455 §5.5.1), unless this end spoke first.
      if (!close_sent_) queue_close(received_close_.code);
      ec = error::websocket_closed;
      return false;
    }
    if (options_.on_control) options_.on_control(op, payload);
    if (op == opcode::ping && options_.auto_pong && !close_sent_) {
      // Only the latest ping needs its pong (RFC 6455 §5.5.3).
      pending_pong_.assign(payload);
      has_pending_pong_ = true;
      flush_control();
    }
    return true;
  }

  std::error_code read_failed(std::error_code ec) {
    if (ec == asio::error::operation_aborted && timed_out_) return error::operation_timedout;
    return ec;
  }

  // The connection can carry nothing more after `ec`; a protocol error is told to the
  // peer with its close code.
  void fail(std::error_code ec) {
    if (ec == asio::error::operation_aborted && !timed_out_) return;  // the caller's choice
    if (!failed_) failed_ = ec;
    if (const std::uint16_t code = close_code_for(ec); code != 0 && !close_sent_)
      queue_close(code);
    timer_.cancel();
  }

  // The clock is read only when idle pings or an idle limit are asked for.
  void received_now() {
    if (options_.idle_ping.count() != 0 || options_.idle_timeout.count() != 0)
      last_received_ = std::chrono::steady_clock::now();
  }

  void compact_read_buffer() {
    if (rpos_ == rend_) {
      rpos_ = rend_ = 0;
    } else if (rpos_ > 0 && rbuf_.size() - rend_ < max_frame_header + 125) {
      std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
      rend_ -= rpos_;
      rpos_ = 0;
    }
  }

  // --- writing ---

  // Sending is one frame at a time: a write of the caller's holds `writing_` from its
  // first byte to its last, and control frames the stream sends on its own (pongs, the
  // close echo, idle pings) wait in `pending_*` until it is free.

  template <class ConstBuffers>
  struct write_op {
    write_op(stream* s, const ConstBuffers& buffers, bool fin, opcode op)
        : s(s), buffers(buffers), fin(fin), op(op) {}

    stream* s;
    ConstBuffers buffers;
    bool fin;
    opcode op;  // text for a data frame (text or binary as the stream says), else control
    std::size_t total = 0;
    std::size_t sent = 0;  // of the payload, masked into the write buffer so far
    bool started = false;
    bool waited = false;
    bool parked = false;
    bool compressed = false;
    std::array<unsigned char, 4> mask{};
    asio::const_buffer pending;  // of the write buffer, not yet written

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
      if (started) waited = true;
      if (!started || parked) {
        started = true;
        std::error_code early;
        if (parked && ec) early = ec;
        else if (s->failed_) early = s->failed_;
        else if (s->write_failed_) early = s->write_failed_;
        else if (s->close_sent_) early = closed_error();
        if (early) {
          // A writer resumed from waiting hands the line on: a queued close echo or pong
          // still goes out.
          if (parked) s->release_writer();
          return complete_later(self, waited, early, std::size_t(0));
        }
        parked = false;
        if (s->writing_) {
          parked = true;
          s->parked_writer_.emplace(std::move(self), s->next_.get_executor());
          return;
        }
        s->writing_ = true;
        total = asio::buffer_size(buffers);
        if (is_control(op)) {
          if (op == opcode::close) s->close_sent_ = true;
          return send(self, s->build_control(op, buffers));
        }
        return first_chunk(self);
      }
      if (ec) {
        s->writing_ = false;
        // A frame cut off leaves nothing more to send on this connection.
        if (!s->write_failed_)
          s->write_failed_ = ec == asio::error::operation_aborted ? error::send_error : ec;
        s->release_writer();
        return self.complete(ec, std::size_t(0));
      }
      pending += n;
      if (pending.size() != 0) return s->next_.async_write_some(pending, std::move(self));
      if (!is_control(op) && !compressed && sent < total) return next_chunk(self);
      if (!is_control(op) && fin) s->write_in_message_ = false;
      s->writing_ = false;
      s->release_writer();
      self.complete(std::error_code(), total);
    }

    static std::error_code closed_error() { return error::websocket_closed; }

    template <class Self>
    void send(Self& self, asio::const_buffer bytes) {
      pending = bytes;
      s->next_.async_write_some(pending, std::move(self));
    }

    template <class Self>
    void first_chunk(Self& self) {
      frame_header h;
      h.fin = fin;
      h.masked = true;
      if (!s->write_in_message_) {
        h.op = s->send_text_ ? opcode::text : opcode::binary;
        s->write_in_message_ = true;
#if OPENSOCK_HAS_ZLIB
        s->write_compressed_ = s->deflater_ && s->deflater_->compresses();
#endif
        h.rsv1 = s->write_compressed_;
      } else {
        h.op = opcode::continuation;
      }
      if (!fin) s->write_in_message_ = true;
      s->next_mask(mask);
      h.mask = mask;
#if OPENSOCK_HAS_ZLIB
      if (s->write_compressed_) {
        compressed = true;
        auto& w = s->wbuf_;
        // Compressed first, behind room for the header, then masked where it lies.
        w.resize(max_frame_header);
        for (auto it = asio::buffer_sequence_begin(buffers);
             it != asio::buffer_sequence_end(buffers); ++it) {
          const asio::const_buffer b(*it);
          const bool last_piece = std::next(it) == asio::buffer_sequence_end(buffers);
          s->deflater_->compress(
              std::span<const unsigned char>(static_cast<const unsigned char*>(b.data()),
                                             b.size()),
              fin && last_piece, w);
        }
        if (fin && asio::buffer_sequence_begin(buffers) == asio::buffer_sequence_end(buffers))
          s->deflater_->compress({}, true, w);
        const std::size_t payload = w.size() - max_frame_header;
        h.length = payload;
        unsigned char head[max_frame_header];
        const std::size_t hn = write_frame_header(h, head);
        const std::size_t at = max_frame_header - hn;
        std::memcpy(w.data() + at, head, hn);
        apply_mask(w.data() + max_frame_header, payload, mask, 0);
        return send(self, asio::buffer(w.data() + at, hn + payload));
      }
#endif
      h.length = total;
      const std::size_t chunk = std::min(total, write_chunk);
      unsigned char* to = s->write_space(max_frame_header + chunk);
      const std::size_t hn = write_frame_header(h, to);
      mask_next(to + hn, chunk);
      send(self, asio::buffer(to, hn + chunk));
    }

    template <class Self>
    void next_chunk(Self& self) {
      const std::size_t chunk = std::min(total - sent, write_chunk);
      unsigned char* to = s->write_space(chunk);
      mask_next(to, chunk);
      send(self, asio::buffer(to, chunk));
    }

    // Copies the next `n` payload bytes to `to`, masked.
    void mask_next(unsigned char* to, std::size_t n) {
      std::size_t skip = sent;
      std::size_t copied = 0;
      for (auto it = asio::buffer_sequence_begin(buffers);
           it != asio::buffer_sequence_end(buffers) && copied < n; ++it) {
        asio::const_buffer b(*it);
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        b += skip;
        skip = 0;
        const std::size_t k = std::min(b.size(), n - copied);
        copy_masked(to + copied, static_cast<const unsigned char*>(b.data()), k, mask,
                    sent + copied);
        copied += k;
      }
      sent += n;
    }
  };

  // The write buffer, at least `n` bytes of it: it only grows.
  unsigned char* write_space(std::size_t n) {
    if (wbuf_.size() < n) wbuf_.resize(n);
    return wbuf_.data();
  }

  // A control frame of the caller's (ping, pong, close) into the write buffer.
  // Returns the frame.
  template <class ConstBuffers>
  asio::const_buffer build_control(opcode op, const ConstBuffers& payload) {
    frame_header h;
    h.op = op;
    h.masked = true;
    h.length = std::min<std::size_t>(asio::buffer_size(payload), 125);
    next_mask(h.mask);
    unsigned char* to = write_space(max_frame_header + 125);
    const std::size_t hn = write_frame_header(h, to);
    const std::size_t n = asio::buffer_copy(
        asio::buffer(to + hn, static_cast<std::size_t>(h.length)), payload);
    apply_mask(to + hn, n, h.mask, 0);
    return asio::buffer(to, hn + n);
  }

  template <class Token>
  auto control(opcode op, std::string_view payload, Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(
        control_op{write_op<asio::const_buffer>(this, asio::buffer(payload), true, op)}, token,
        next_);
  }

  // A control frame's write, completing with void(std::error_code).
  struct control_op {
    write_op<asio::const_buffer> inner;
    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
      if (!started) {
        started = true;
        if (inner.buffers.size() > 125) return complete_later(self, false, error::bad_function_argument);
        inner.s->async_write_some_raw(std::move(inner), std::move(self));
        return;
      }
      self.complete(ec);
    }
    bool started = false;
  };

  template <class Op, class Handler>
  void async_write_some_raw(Op op, Handler&& handler) {
    asio::async_compose<Handler, void(std::error_code, std::size_t)>(std::move(op), handler,
                                                                     next_);
  }

  struct close_op {
    stream* s;
    close_reason why;
    int state = 0;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
      switch (state) {
        case 0: {
          state = 1;
          if (s->close_sent_) return complete_later(self, false, std::error_code());
          // RFC 6455 §7.4.1: 1005, 1006, 1015 and the unassigned codes are never sent, nor
          // a reason without a code; a reason is at most 123 bytes of UTF-8.
          opensock::detail::utf8_validator text;
          if ((why.code != 0 && !is_valid_close_code(why.code)) ||
              (why.code == 0 && !why.reason.empty()) || why.reason.size() > 123 ||
              !text.feed(reinterpret_cast<const unsigned char*>(why.reason.data()),
                         why.reason.size()) ||
              !text.complete())
            return complete_later(self, false, std::error_code(error::bad_function_argument));
          std::string payload;
          if (why.code != 0) {
            payload.push_back(static_cast<char>(why.code >> 8));
            payload.push_back(static_cast<char>(why.code & 0xff));
            payload.append(why.reason);
          }
          s->close_payload_ = std::move(payload);
          return s->async_write_some_raw(
              write_op<asio::const_buffer>(s, asio::buffer(s->close_payload_), true,
                                           opcode::close),
              std::move(self));
        }
        case 1:
          if (ec) return self.complete(ec);
          // The peer's close frame is seen by the read in flight, or by this one.
          if (s->reading_ || s->received_close_.code != 0 || s->failed_)
            return self.complete(std::error_code());
          state = 2;
          return s->async_read_some(asio::buffer(s->drain_), std::move(self));
        default:
          if (!ec) return s->async_read_some(asio::buffer(s->drain_), std::move(self));
          if (ec == error::websocket_closed || ec == asio::error::eof)
            return self.complete(std::error_code());
          self.complete(ec);
      }
    }
  };

  // The stream's own control frames: a close (code 0: none) and the latest ping's pong,
  // sent now when no write is under way, else when the current one ends.
  void queue_close(std::uint16_t code) {
    close_sent_ = true;
    has_pending_close_ = true;
    pending_close_code_ = code;
    flush_control();
  }

  void flush_control() {
    // Nothing goes after a frame cut off, which the peer would read as its payload.
    if (writing_ || write_failed_) return;
    frame_header h;
    std::string payload;
    // The close goes first and ends everything; a pong before an idle ping.
    if (has_pending_close_) {
      h.op = opcode::close;
      if (pending_close_code_ != 0) {
        payload.push_back(static_cast<char>(pending_close_code_ >> 8));
        payload.push_back(static_cast<char>(pending_close_code_ & 0xff));
      }
      has_pending_close_ = has_pending_pong_ = has_pending_ping_ = false;
    } else if (has_pending_pong_) {
      h.op = opcode::pong;
      payload = std::move(pending_pong_);
      has_pending_pong_ = false;
    } else if (has_pending_ping_) {
      h.op = opcode::ping;
      has_pending_ping_ = false;
    } else {
      return;
    }
    h.masked = true;
    next_mask(h.mask);
    h.length = payload.size();
    const std::size_t hn = write_frame_header(h, own_frame_.data());
    if (!payload.empty()) std::memcpy(own_frame_.data() + hn, payload.data(), payload.size());
    apply_mask(own_frame_.data() + hn, payload.size(), h.mask, 0);
    writing_ = true;
    // The stream may be gone when it completes: the handler checks first.
    asio::async_write(next_, asio::buffer(own_frame_.data(), hn + payload.size()),
                      [alive = std::weak_ptr<stream*>(alive_)](std::error_code ec, std::size_t) {
                        const auto owner = alive.lock();
                        if (!owner) return;
                        stream& s = **owner;
                        s.writing_ = false;
                        if (ec && !s.write_failed_) s.write_failed_ = ec;
                        s.release_writer();
                      });
  }

  // The write lock was let go: a waiting write of the caller's goes next, then the
  // stream's own frames.
  void release_writer() {
    if (parked_writer_) {
      auto h = std::move(*parked_writer_);
      parked_writer_.reset();
      auto ex = h.get_executor();
      asio::post(ex, [h = std::move(h)]() mutable { h(std::error_code(), 0); });
      return;
    }
    if (!write_failed_ && (!failed_ || has_pending_close_)) flush_control();
  }

  void next_mask(std::array<unsigned char, 4>& mask) {
    if (mask_used_ == mask_pool_.size()) {
      detail::random_bytes(mask_pool_.data(), mask_pool_.size());
      mask_used_ = 0;
    }
    std::memcpy(mask.data(), mask_pool_.data() + mask_used_, 4);
    mask_used_ += 4;
  }

  // --- idle pings and the idle limit ---

  void arm_idle_timer() {
    if (timer_armed_ || (options_.idle_ping.count() == 0 && options_.idle_timeout.count() == 0))
      return;
    if (last_received_ == std::chrono::steady_clock::time_point()) received_now();
    timer_armed_ = true;
    timer_.expires_at(next_idle_check());
    timer_.async_wait([alive = std::weak_ptr<stream*>(alive_)](std::error_code ec) {
      const auto owner = alive.lock();
      if (!owner) return;
      (*owner)->on_idle_timer(ec);
    });
  }

  std::chrono::steady_clock::time_point next_idle_check() const {
    auto at = std::chrono::steady_clock::time_point::max();
    const auto since = std::max(last_received_, last_ping_);
    if (options_.idle_ping.count() > 0) at = std::min(at, since + options_.idle_ping);
    if (options_.idle_timeout.count() > 0)
      at = std::min(at, last_received_ + options_.idle_timeout);
    return at;
  }

  void on_idle_timer(std::error_code ec) {
    timer_armed_ = false;
    if (ec || failed_ || !reading_) return;
    const auto now = std::chrono::steady_clock::now();
    if (options_.idle_timeout.count() > 0 && now >= last_received_ + options_.idle_timeout) {
      timed_out_ = true;
      interrupt_reads();
      return;
    }
    if (options_.idle_ping.count() > 0 &&
        now >= std::max(last_received_, last_ping_) + options_.idle_ping && !close_sent_) {
      last_ping_ = now;
      // Sent as the stream's own frame, now or when the write under way ends.
      has_pending_ping_ = true;
      flush_control();
    }
    arm_idle_timer();
  }

  // Stops the read in flight: the lowest layer's operations are cancelled where it can
  // be, else the next layer's.
  void interrupt_reads() {
    std::error_code ignored;
    if constexpr (requires { next_.lowest_layer().cancel(ignored); }) {
      next_.lowest_layer().cancel(ignored);
    } else if constexpr (requires { next_.cancel(ignored); }) {
      next_.cancel(ignored);
    } else {
      next_.close(ignored);
    }
  }

  void move_state(stream& o) {
    *alive_ = this;
    rbuf_ = std::move(o.rbuf_);
    rpos_ = o.rpos_;
    rend_ = o.rend_;
    has_header_ = o.has_header_;
    header_ = o.header_;
    remaining_ = o.remaining_;
    in_message_ = o.in_message_;
    message_text_ = o.message_text_;
    message_compressed_ = o.message_compressed_;
    message_size_ = o.message_size_;
    utf8_ = o.utf8_;
    tail_fed_ = o.tail_fed_;
    header_error_ = o.header_error_;
    wbuf_ = std::move(o.wbuf_);
    send_text_ = o.send_text_;
    write_in_message_ = o.write_in_message_;
    write_compressed_ = o.write_compressed_;
    mask_pool_ = o.mask_pool_;
    mask_used_ = o.mask_used_;
    failed_ = o.failed_;
    write_failed_ = o.write_failed_;
    close_sent_ = o.close_sent_;
    received_close_ = std::move(o.received_close_);
#if OPENSOCK_HAS_ZLIB
    deflater_ = std::move(o.deflater_);
    inflater_ = std::move(o.inflater_);
#endif
  }

  // Declared first, destroyed last: a write of the stream's own frames still in flight
  // when the stream goes refers to it until the next layer cancels it.
  std::array<unsigned char, max_frame_header + 125> own_frame_{};
  std::vector<unsigned char> wbuf_;

  NextLayer next_;
  stream_options options_;
  handshake_result settled_;
  asio::steady_timer timer_;
  // Points at the stream, for the handlers of what it does on its own.
  std::shared_ptr<stream*> alive_;

  bool reading_ = false;
  bool writing_ = false;

  // Reading: the buffer, the frame being read and the message it belongs to.
  std::vector<unsigned char> rbuf_;
  std::size_t rpos_ = 0;
  std::size_t rend_ = 0;
  bool has_header_ = false;
  frame_header header_;
  std::uint64_t remaining_ = 0;
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  std::size_t message_size_ = 0;
  opensock::detail::utf8_validator utf8_;
  std::size_t tail_fed_ = 0;
  std::error_code header_error_;

  // Writing.
  bool send_text_ = true;
  bool write_in_message_ = false;
  bool write_compressed_ = false;
  std::optional<opensock::detail::io_handler> parked_writer_;
  std::string pending_pong_;
  bool has_pending_pong_ = false;
  bool has_pending_close_ = false;
  bool has_pending_ping_ = false;
  std::uint16_t pending_close_code_ = 0;
  std::string close_payload_;
  // Where async_close() drops what comes before the peer's close: not in the operation,
  // which moves while its read is in flight.
  std::array<unsigned char, 512> drain_{};
  // Masks come from the secure generator 64 at a time.
  std::array<unsigned char, 256> mask_pool_{};
  std::size_t mask_used_ = 256;

  // What ended the connection (a read's error, a protocol error, the peer's close), and
  // what ended sending only: the bytes that came before still reach a read.
  std::error_code failed_;
  std::error_code write_failed_;
  bool close_sent_ = false;
  close_reason received_close_;

  // Idle pings and limit.
  bool timer_armed_ = false;
  bool timed_out_ = false;
  std::chrono::steady_clock::time_point last_received_{};
  std::chrono::steady_clock::time_point last_ping_{};

#if OPENSOCK_HAS_ZLIB
  std::unique_ptr<deflater> deflater_;
  std::unique_ptr<inflater> inflater_;
#endif
};

}  // namespace opensock::websocket
