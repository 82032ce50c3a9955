// One HTTP/1.1 request and its response over any connected Asio stream: the protocol
// step that sessions repeat on pooled connections, and that a connect-only user can run
// on a stream of their own.
#pragma once

#include <opensock/detail/same_text.hpp>
#include <opensock/detail/send_now.hpp>
#include <opensock/error.hpp>
#include <opensock/http/content_coding.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/serializer.hpp>
#include <opensock/http/transfer_hooks.hpp>

#include <asio/associated_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace opensock::http {

namespace detail {

// Bytes a connection reads into. Not a std::string: growing one zeroes the new room,
// and a new connection's first read would pay for zeroing all of it.
class byte_buffer {
 public:
  char* data() noexcept { return bytes_.get(); }
  const char* data() const noexcept { return bytes_.get(); }
  std::size_t size() const noexcept { return size_; }

  /// At least `size` bytes, the first `keep` of them kept; the rest is uninitialised.
  void grow(std::size_t size, std::size_t keep) {
    if (size <= size_) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(size);
    if (keep != 0) std::memcpy(bigger.get(), bytes_.get(), keep);
    bytes_ = std::move(bigger);
    size_ = size;
  }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0;
};

}  // namespace detail

/// What a session decides from a response's head before its body comes: whether the
/// body is dropped rather than kept or given to the request's sink. A dropped body is
/// read, to keep the connection for the next request, unless the connection closes
/// after it: then the response ends with its head, as curl ends a redirect it follows.
class response_head_check {
 public:
  virtual bool drop_body(int status, const fields& headers) = 0;

 protected:
  ~response_head_check() = default;
};

/// What a connection keeps between exchanges, so that nothing is allocated again for
/// the next request on it: the parser, the bytes read past the last response (which
/// belong to the next one), and the buffers requests are written from.
struct connection_state {
  response_parser parser;
  /// Bytes read and not yet parsed are read_buffer's first `read_used`; the rest is
  /// room for the next read.
  detail::byte_buffer read_buffer;
  std::size_t read_used = 0;
  std::string write_buffer;
  std::string body_buffer;
  /// Body pieces of one parse, kept while a coroutine sink takes them.
  std::vector<std::string_view> pieces;
  /// Whether another request may follow on this connection.
  bool reusable = false;
  /// Bytes read on this connection so far (what a low-speed limit watches).
  /// A session's watchdog reads it from whichever thread its timer runs on.
  std::atomic<std::uint64_t> bytes_received = 0;
  /// Set, with the stream cancelled, when a time limit ended the request: the exchange
  /// stops before its next read or write, even if the cancel found none in progress.
  /// A session's watchdog sets it from whichever thread its timer runs on.
  std::atomic<bool> interrupted = false;
  /// When the first byte of the last response arrived; unset until it has.
  std::optional<std::chrono::steady_clock::time_point> first_byte_at;
  /// Set when the connection goes to an HTTP proxy that forwards its requests (no
  /// tunnel): they are written to it as forwarding says.
  std::optional<forwarding> forward;
  /// Fields added to the next request sent on the connection (a session's credentials
  /// and cookies), or null.
  const added_fields* added = nullptr;
  /// Asked once a final response head is in whether its body is dropped (a 401 the
  /// session answers by sending the request again, a redirect it follows), or null: see
  /// response_head_check.
  response_head_check* head_check = nullptr;
  /// Set: the content codings of the responses read from now on are decoded within these
  /// limits (curl's --compressed) unless `decode_content_codings` is false, and their
  /// transfer codings too when `decode_transfer_codings` (curl's --tr-encoding); unset,
  /// bodies come as sent.
  const decoding_limits* decoding = nullptr;
  bool decode_content_codings = true;
  bool decode_transfer_codings = false;
  /// The decoder, kept from one response to the next, and its output on the way to a body
  /// sink.
  content_decoder decoder;
  std::string decoded;
  std::string coding_names;
  /// How long a request that asks "Expect: 100-continue" waits for the 100 before it
  /// sends its body anyway (curl's --expect100-timeout); 0 sends it at once.
  std::chrono::milliseconds expect_continue_timeout = std::chrono::seconds(1);
  /// Set when the last request asked "Expect: 100-continue" and its final response came
  /// before its body went: the body was not sent (RFC 9110 §10.1.1), and the connection
  /// is not reused.
  bool body_withheld = false;

  const forwarding* forwarded() const noexcept { return forward ? &*forward : nullptr; }
};

namespace detail {

inline std::error_code send_error_of(std::error_code ec) {
  return ec == asio::error::operation_aborted ? ec : std::error_code(error::send_error);
}

inline std::error_code recv_error_of(std::error_code ec) {
  return ec == asio::error::operation_aborted ? ec : std::error_code(error::recv_error);
}

inline constexpr std::size_t read_size = 16 * 1024;
inline constexpr std::size_t direct_read_size = 1024 * 1024;
inline constexpr std::size_t body_chunk_size = 64 * 1024;

inline const transfer_hooks& no_transfer_hooks() {
  static const transfer_hooks none;
  return none;
}

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_handle = std::unique_ptr<std::FILE, file_closer>;

template <class AsyncStream, class Buffers>
asio::awaitable<std::error_code> send(AsyncStream& stream, const Buffers& buffers,
                                      connection_state& state) {
  if (state.interrupted) co_return asio::error::operation_aborted;
  std::error_code ec;
  co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec ? send_error_of(ec) : ec;
}

// A request that asks "Expect: 100-continue" (RFC 9110 §10.1.1) sends its head, then
// holds its body here while its response is read: the body goes when a 100 comes or
// when nothing has come for the time allowed, and stays unsent when a final response
// comes first. The exchange then waits on the same timer for the body's send to end.
// The reads and the body's send each have a cancellation signal of their own: the
// exchange stops the one when the other makes it pointless.
struct continue_gate {
  explicit continue_gate(asio::any_io_executor executor) : timer(std::move(executor)) {}

  enum class stage { waiting, open, withheld };

  // The body goes, unless the final response came first; whether it goes.
  bool open() {
    if (at == stage::waiting) {
      at = stage::open;
      timer.cancel();
    }
    return at == stage::open;
  }

  void withhold() {
    if (at == stage::waiting) {
      at = stage::withheld;
      timer.cancel();
    }
  }

  // What the response read so far says: a 100 lets the body go (also when the final
  // response came with it: the server reads the body it asked for), a final head that
  // came without one keeps it.
  void saw(const response_parser& parser) {
    if (at != stage::waiting) return;
    for (const auto& interim : parser.interim())
      if (interim.status == 100) return void(open());
    if (parser.header_done()) withhold();
  }

  // The rest of the body is not sent: the write under way is cancelled, and the next
  // piece not started (the signal reaches only the operation under way).
  void stop_body(asio::cancellation_type type = asio::cancellation_type::terminal) {
    withhold();
    body_stopped = true;
    stop_sending.emit(type);
  }

  // The caller's cancellation: nothing more is sent or read.
  void cancel(asio::cancellation_type type) {
    stop_body(type);
    stop_reading.emit(type);
  }

  void body_ended(std::error_code ec) {
    body_done = true;
    body_result = ec;
    // A body that could not be made or framed: the server would wait for it forever.
    if (body_failed()) stop_reading.emit(asio::cancellation_type::terminal);
    timer.cancel();  // the exchange may be waiting for this
  }

  // Whether the body failed on this side, unasked (a peer that stops reading is not
  // that: its response tells what happened).
  bool body_failed() const noexcept {
    return body_done && !body_stopped && body_result && body_result != error::send_error &&
           body_result != asio::error::operation_aborted;
  }

  asio::steady_timer timer;
  stage at = stage::waiting;
  bool body_stopped = false;
  bool body_done = false;
  std::error_code body_result;
  asio::cancellation_signal stop_reading;
  asio::cancellation_signal stop_sending;
};

// Whether a request holds its body for a 100: it asks for one, has a body, and speaks
// HTTP/1.1 (HTTP/1.0 has no 1xx responses).
inline bool expects_continue(const request& req, const connection_state& state) {
  if (req.body.empty() || req.version == 10 || state.expect_continue_timeout.count() <= 0)
    return false;
  const auto expect = req.headers.get("expect");
  return expect && iequals(trim_ows(*expect), "100-continue");
}

// Whether a request's body is sent by send_body() rather than with its head in one
// write: a file, a producer, or a body the caller's Transfer-Encoding asks to chunk.
inline bool sent_in_pieces(const request& req) noexcept {
  return req.body.file_path() || req.body.producer() ||
         framing_by_caller(req) == caller_framing::chunked;
}

// The head, then the body in pieces of at most body_chunk_size: as they are under a
// known length (which a producer must meet exactly, and a file must still hold), each
// as a chunk when the length is not known or the caller's Transfer-Encoding says so.
// With a gate, the body waits at it after the head is sent.
template <class AsyncStream>
asio::awaitable<std::error_code> send_body(AsyncStream& stream, const request& req,
                                           connection_state& state, const transfer_hooks& hooks,
                                           continue_gate* gate = nullptr) {
  // Stopped by the gate's signal, a send returns operation_aborted rather than throwing.
  if (gate) co_await asio::this_coro::throw_if_cancelled(false);
  const request_body& body = req.body;
  const body_producer* produce = body.producer();
  std::optional<std::uint64_t> length = body.producer_length();
  file_handle file;
  if (const auto* path = body.file_path()) {
    file.reset(std::fopen(path->c_str(), "rb"));
    std::error_code size_error;
    const auto size = std::filesystem::file_size(*path, size_error);
    const std::uint64_t offset = body.file_offset();
    if (!file || size_error || offset > size) co_return error::read_error;
    if (offset > 0 && ::fseeko(file.get(), static_cast<off_t>(offset), SEEK_SET) != 0)
      co_return error::read_error;
    length = size - offset;
  } else if (!produce) {
    length = body.memory().size();
  }
  const caller_framing by_caller = framing_by_caller(req);
  const bool chunked = by_caller == caller_framing::chunked ||
                       (by_caller == caller_framing::none && !length);
  if (auto ec = serialize_head(req, chunked ? std::nullopt : length, {}, state.forwarded(),
                               state.write_buffer, state.added))
    co_return ec;
  if (hooks.on_request_head) hooks.on_request_head(state.write_buffer);
  if (auto ec = co_await send(stream, asio::buffer(state.write_buffer), state)) co_return ec;
  if (gate) {
    gate->timer.expires_after(state.expect_continue_timeout);
    std::error_code waited;
    co_await gate->timer.async_wait(asio::redirect_error(asio::use_awaitable, waited));
    if (!gate->open()) co_return std::error_code{};
  }
  if (file || produce) state.body_buffer.resize(body_chunk_size);
  std::uint64_t sent = 0;
  for (;;) {
    asio::const_buffer piece;
    if (produce) {
      std::size_t n = 0;
      try {
        n = co_await (*produce)(asio::buffer(state.body_buffer));
      } catch (const std::exception&) {
        co_return error::aborted_by_callback;
      }
      piece = asio::buffer(state.body_buffer.data(), std::min(n, state.body_buffer.size()));
    } else {
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(*length - sent, body_chunk_size));
      if (file) {
        piece = asio::buffer(state.body_buffer.data(),
                             std::fread(state.body_buffer.data(), 1, want, file.get()));
      } else {
        piece = asio::buffer(body.memory().substr(static_cast<std::size_t>(sent), want));
      }
    }
    const std::size_t n = piece.size();
    // A producer that gives less or more than it said, or a file that shrank since its
    // size was taken.
    if (length && (n == 0 ? sent != *length : sent + n > *length)) co_return error::read_error;
    if (n == 0) break;
    if (gate && gate->body_stopped) co_return asio::error::operation_aborted;
    sent += n;
    if (!chunked) {
      if (auto ec = co_await send(stream, piece, state)) co_return ec;
      continue;
    }
    state.write_buffer.clear();
    append_chunk_header(n, state.write_buffer);
    const std::array<asio::const_buffer, 3> chunk{asio::buffer(state.write_buffer), piece,
                                                  asio::buffer(chunk_end)};
    if (auto ec = co_await send(stream, chunk, state)) co_return ec;
  }
  if (chunked) co_return co_await send(stream, asio::buffer(last_chunk), state);
  co_return std::error_code{};
}

// The head of a request whose body is in memory, in state.write_buffer; what is then
// written is request_buffers(). `host_line` as serialize_head() takes it.
inline std::error_code write_memory_head(const request& req, connection_state& state,
                                         const transfer_hooks& hooks,
                                         std::string_view host_line = {}) {
  state.write_buffer.clear();
  if (auto ec = serialize_head(req, req.body.memory().size(), host_line, state.forwarded(),
                               state.write_buffer, state.added))
    return ec;
  if (hooks.on_request_head) hooks.on_request_head(state.write_buffer);
  return {};
}

// The head and body of such a request, without their first `sent` bytes.
inline std::array<asio::const_buffer, 2> request_buffers(const request& req,
                                                         const connection_state& state,
                                                         std::size_t sent = 0) {
  std::array<asio::const_buffer, 2> buffers{asio::buffer(state.write_buffer),
                                            asio::buffer(req.body.memory())};
  const std::size_t from_head = std::min(sent, buffers[0].size());
  buffers[0] += from_head;
  buffers[1] += sent - from_head;
  return buffers;
}

// Reads one response into `out` from the bytes a connection receives: every step of an
// exchange that does not wait. A loop of reads drives it:
//
//   for (reader.parse(); reader.wants_more(); reader.parse()) {
//     n = co_await stream.async_read_some(reader.read_buffer(), ...);
//     if (!reader.got(n, ec)) break;
//   }
//   ec = reader.result();
//
// With a coroutine sink, the loop gives it pieces() between parse() and wants_more(),
// calling refuse_body() when it refuses one.
class response_reader {
 public:
  response_reader(const request& req, response& out, connection_state& state,
                  const transfer_hooks& hooks)
      : out_(out), state_(state), hooks_(hooks) {
    state.reusable = false;
    state.first_byte_at.reset();
    state.parser.start(opensock::detail::same_text(req.method, "HEAD"));
    // The body is written over what a reused response held, and cut to its length at
    // the end: growing a string zeroes the new bytes, and a body of the same length as
    // the last then costs no zeroing at all.
    if (hooks.on_body) out.body.clear();
  }

  /// Parses the bytes read and not yet parsed. Pieces for a coroutine sink are kept in
  /// pieces(), as views into the read buffer, until wants_more().
  void parse() {
    state_.pieces.clear();
    if (state_.read_used == 0) return;  // as before the first read: no step takes no bytes
    decoded_used_ = 0;
    used_ = state_.parser.parse(
        std::string_view(state_.read_buffer.data(), state_.read_used),
        [this](std::string_view piece) { take_body(piece); },
        [this](std::string_view line) {
          if (hooks_.on_header_line) hooks_.on_header_line(line);
        });
    // What this parse decoded for a coroutine sink, as one piece: the decoded buffer
    // cannot move under it now.
    if (decoded_used_ != 0) state_.pieces.emplace_back(state_.decoded.data(), decoded_used_);
  }

  /// Body pieces a coroutine sink is to be given, in order, before wants_more().
  const std::vector<std::string_view>& pieces() const noexcept { return state_.pieces; }

  /// Whether the sink has refused a piece (it gets no more), and the refusal of a
  /// coroutine sink, which the loop awaits.
  bool sink_refused() const noexcept { return sink_refused_; }
  void refuse_body() noexcept { sink_refused_ = true; }

  /// Drops what parse() consumed, then says whether the response needs more bytes; if
  /// not, result() says how it ended.
  bool wants_more() {
    auto& buffer = state_.read_buffer;
    if (used_ != 0) {
      state_.read_used -= used_;
      if (state_.read_used != 0)
        std::memmove(buffer.data(), buffer.data() + used_, state_.read_used);
      used_ = 0;
    }
    auto& parser = state_.parser;
    if (sink_refused_) return finish(error::write_error);
    if (decode_error_) return finish(decode_error_);
    if (!decided_ && parser.header_done() && !parser.done()) decide_body();
    // A transfer coding not decoded would hand the body over as it was coded, unless
    // that was asked for: refused once the head names it, whatever the body then held.
    if (parser.header_done() && parser.transfer_coded() && !dropping_ &&
        !decodes_transfer_codings() && !parser.keeps_transfer_codings()) [[unlikely]]
      return finish(error::transfer_coding_not_decoded);
    if (parser.error()) return finish(parser.error());
    // A body dropped on a connection that closes after it is not waited for: it may
    // run to a close the server never sends.
    if (dropping_ && !parser.keep_alive()) return finish({});
    if (parser.done()) return finish({});
    if (state_.interrupted) return finish(asio::error::operation_aborted);
    return true;
  }

  /// Where the next read goes: straight into the response for the rest of a body of
  /// known length, once nothing is buffered, else the read buffer.
  asio::mutable_buffer read_buffer() {
    const auto& parser = state_.parser;
    direct_ = !hooks_.on_body && !decoding_ && !dropping_ && state_.read_used == 0 &&
              parser.direct_body_room() > read_size;
    if (direct_) {
      const auto room = static_cast<std::size_t>(
          std::min<std::uint64_t>(parser.direct_body_room(), direct_read_size));
      if (out_.body.size() < body_size_ + room) out_.body.resize(body_size_ + room);
      return asio::buffer(out_.body.data() + body_size_, room);
    }
    auto& buffer = state_.read_buffer;
    const std::size_t kept = state_.read_used;
    if (buffer.size() < kept + read_size)
      buffer.grow(std::max(kept + read_size, 2 * buffer.size()), kept);
    return asio::buffer(buffer.data() + kept, read_size);
  }

  /// Takes the outcome of a read into read_buffer(). Whether to parse again; if not,
  /// result() says how the response ended.
  bool got(std::size_t n, std::error_code ec) {
    auto& parser = state_.parser;
    if (n != 0 && !state_.first_byte_at) state_.first_byte_at = std::chrono::steady_clock::now();
    state_.bytes_received.store(state_.bytes_received.load(std::memory_order_relaxed) + n,
                                std::memory_order_relaxed);  // one writer: no locked add
    if (direct_) {
      body_size_ += n;
      parser.body_read_directly(n);
      if (ec == asio::error::eof) {
        parser.finish_at_eof();
        return finish(parser.error());
      }
      if (ec) return finish(recv_error_of(ec));
      if (parser.error()) return finish(parser.error());
      if (parser.done()) return finish({});
      return true;
    }
    state_.read_used += n;
    if (ec == asio::error::eof) {
      parser.finish_at_eof();
      return finish(parser.error());
    }
    if (ec) return finish(recv_error_of(ec));
    return true;
  }

  /// How the response ended: on success its head is in `out`, and state.reusable says
  /// whether the connection can carry another request.
  std::error_code result() const noexcept { return result_; }

 private:
  // Transfer codings are decoded when asked for, unless the parser keeps them.
  bool decodes_transfer_codings() const noexcept {
    return state_.decode_transfer_codings && !state_.parser.keeps_transfer_codings();
  }

  // Whether this response's body is to be dropped or decoded, and the decoder set up for
  // it if so: decided once, when its head is in.
  void decide_body() {
    decided_ = true;
    const int status = state_.parser.status();
    const fields& headers = state_.parser.headers();
    if ((state_.head_check && state_.head_check->drop_body(status, headers)) ||
        (hooks_.drop_body && hooks_.drop_body(status, headers))) {
      dropping_ = true;
      return;
    }
    if (!state_.decoding) return;
    auto& names = state_.coding_names;
    names.clear();
    if (state_.decode_content_codings) {
      for (const auto& f : headers) {
        if (!detail::iequals_lower(f.name, "content-encoding")) continue;
        if (!names.empty()) names += ", ";
        names += f.value;
      }
    }
    // The transfer codings were applied after the content codings, wherever their field
    // stands; chunked is the parser's.
    for (const auto& f : headers) {
      if (!decodes_transfer_codings() || !detail::iequals_lower(f.name, "transfer-encoding"))
        continue;
      for (std::string_view list = f.value; !list.empty();) {
        const auto comma = list.find(',');
        const std::string_view coding = detail::trim_ows(list.substr(0, comma));
        list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
        if (coding.empty() || detail::iequals_lower(coding, "chunked")) continue;
        if (!names.empty()) names += ", ";
        names += coding;
      }
    }
    if (names.empty()) return;
    // A coding that cannot be decoded fails the response when body bytes come, not
    // before: an empty body needs no decoding (curl does the same).
    start_error_ = state_.decoder.start(names, *state_.decoding);
    decoding_ = start_error_ || state_.decoder.active();
  }

  // The response's body, as decoded, goes where an undecoded one would: into the
  // response, to a function sink in pieces of body_chunk_size, or to a coroutine sink
  // as one piece per parse. The decoder writes into each place itself.
  struct into_response {
    response_reader& r;
    std::span<char> room() {
      std::string& body = r.out_.body;
      if (body.size() - r.body_size_ < min_room)
        body.resize(std::max(r.body_size_ + min_room, 2 * body.size()));
      return {body.data() + r.body_size_, body.size() - r.body_size_};
    }
    bool commit(std::size_t n) {
      r.body_size_ += n;
      return true;
    }
  };
  struct into_sink {
    response_reader& r;
    std::span<char> room() {
      std::string& decoded = r.state_.decoded;
      if (decoded.size() < body_chunk_size) decoded.resize(body_chunk_size);
      return {decoded.data(), decoded.size()};
    }
    bool commit(std::size_t n) {
      try {
        return r.hooks_.on_body.write(std::string_view(r.state_.decoded.data(), n));
      } catch (...) {
        return false;  // a sink that throws refuses the piece
      }
    }
  };
  struct for_coroutine_sink {
    response_reader& r;
    std::span<char> room() {
      std::string& decoded = r.state_.decoded;
      if (decoded.size() - r.decoded_used_ < min_room)
        decoded.resize(std::max(r.decoded_used_ + min_room, 2 * decoded.size()));
      return {decoded.data() + r.decoded_used_, decoded.size() - r.decoded_used_};
    }
    bool commit(std::size_t n) {
      r.decoded_used_ += n;
      return true;
    }
  };
  static constexpr std::size_t min_room = 16 * 1024;

  void decode(std::string_view piece) {
    if (decode_error_ || sink_refused_) return;
    if (start_error_) {
      decode_error_ = start_error_;
      return;
    }
    decoder_fed_ = true;
    const body_sink& sink = hooks_.on_body;
    auto& decoder = state_.decoder;
    if (!sink) {
      into_response target{*this};
      decode_error_ = decoder.decode(piece, target);
    } else if (sink.is_coroutine()) {
      for_coroutine_sink target{*this};
      decode_error_ = decoder.decode(piece, target);
    } else {
      into_sink target{*this};
      decode_error_ = decoder.decode(piece, target);
      sink_refused_ = decoder.stopped();
    }
  }

  void take_body(std::string_view piece) {
    if (!decided_) decide_body();
    if (dropping_) return;
    if (decoding_) return decode(piece);
    const body_sink& sink = hooks_.on_body;
    if (!sink) {
      const std::size_t end = body_size_ + piece.size();
      if (out_.body.size() < end) out_.body.resize(end);
      std::memcpy(out_.body.data() + body_size_, piece.data(), piece.size());
      body_size_ += piece.size();
    } else if (sink.is_coroutine()) {
      state_.pieces.push_back(piece);  // awaited by the loop, before the buffer moves
    } else if (!sink_refused_) {
      try {
        sink_refused_ = !sink.write(piece);
      } catch (...) {
        sink_refused_ = true;  // a sink that throws refuses the piece
      }
    }
  }

  // Always false: the response needs nothing more.
  bool finish(std::error_code ec) {
    // A coded body that ended inside its coding is cut short: no silent truncation.
    if (!ec && decoder_fed_) ec = state_.decoder.finish();
    result_ = ec;
    if (!hooks_.on_body && out_.body.size() != body_size_) out_.body.resize(body_size_);
    // The head, once it came, whatever ended the body after it (a sink that refused it,
    // a time limit, a close): the caller can tell what the response was.
    auto& parser = state_.parser;
    if (!ec || parser.header_done()) {
      out_.status = parser.status();
      out_.version = parser.version();
      parser.take_head(out_.reason, out_.headers, out_.trailers, out_.interim);
    }
    if (!ec) state_.reusable = parser.keep_alive() && state_.read_used == 0;
    return false;
  }

  response& out_;
  connection_state& state_;
  const transfer_hooks& hooks_;
  std::size_t used_ = 0;
  // Whether the last read_buffer() was the response's body, from body_size_ on.
  bool direct_ = false;
  // Bytes of the body so far; out.body may be longer until finish().
  std::size_t body_size_ = 0;
  bool sink_refused_ = false;
  // Whether the body is dropped, or decoded, whether that was decided, whether the
  // decoder was given any byte, and what stopped it.
  bool dropping_ = false;
  bool decoding_ = false;
  bool decided_ = false;
  bool decoder_fed_ = false;
  std::error_code start_error_;
  std::error_code decode_error_;
  // Bytes decoded for a coroutine sink by the present parse().
  std::size_t decoded_used_ = 0;
  std::error_code result_;
};

}  // namespace detail

namespace detail {

// exchange() as a composed operation: its steps run in the handlers of the stream's own
// operations, with no coroutine frame of its own, so that a request awaited in a
// coroutine costs that coroutine's frame and Asio's for the awaited operation, which
// Asio recycles. The steps that are coroutines themselves (a body from a file or a
// producer, a coroutine sink) are spawned, and continue it when they end.
template <class AsyncStream>
class exchange_op {
 public:
  exchange_op(AsyncStream& stream, const request& req, response& out, connection_state& state,
              const transfer_hooks& hooks)
      : stream_(stream), req_(req), out_(out), state_(state), hooks_(hooks) {}

  // The start, and the end of each read or write.
  template <class Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
    try {
      switch (step_) {
        case step::start:
          return start(self);
        case step::sent_rest:
          if (ec) return complete(self, send_error_of(ec));
          return read_response(self);
        case step::reading:
          if (!reader_->got(n, ec)) return complete(self, reader_->result());
          return read_response(self);
        case step::delivering:
          return self.complete(result_);
        case step::joining:
          return end_expecting(self, result_);
        case step::sent_body:
        case step::sinking:
          break;  // these steps end through the overloads below
      }
    } catch (...) {
      return complete(self, error::aborted_by_callback);
    }
  }

  // The end of a body sent in pieces.
  template <class Self>
  void operator()(Self& self, std::exception_ptr failed, std::error_code ec) {
    if (failed) return complete(self, error::aborted_by_callback);
    if (ec) return complete(self, ec);
    try {
      read_response(self);
    } catch (...) {
      complete(self, error::aborted_by_callback);
    }
  }

  // The end of a coroutine sink's write: a sink that throws refuses the piece.
  template <class Self>
  void operator()(Self& self, std::exception_ptr failed, bool taken) {
    if (failed || !taken) reader_->refuse_body();
    try {
      give_pieces(self);
    } catch (...) {
      complete(self, error::aborted_by_callback);
    }
  }

 private:
  enum class step { start, sent_rest, sent_body, reading, sinking, delivering, joining };

  template <class Self>
  void start(Self& self) {
    state_.reusable = false;
    state_.body_withheld = false;
    if (expects_continue(req_, state_)) [[unlikely]]
      return start_expecting(self);
    if (sent_in_pieces(req_))
      return send_streamed(self, send_body(stream_, req_, state_, hooks_));
    if (auto ec = write_memory_head(req_, state_, hooks_)) return complete(self, ec);
    if (state_.interrupted) return complete(self, asio::error::operation_aborted);
    // Most requests go whole in one send that does not wait, where the stream is a
    // socket; the rest, if any, by a write that does.
    std::error_code ec;
    const std::size_t sent =
        opensock::detail::send_now(stream_, request_buffers(req_, state_), ec);
    if (ec) return complete(self, send_error_of(ec));
    if (sent < state_.write_buffer.size() + req_.body.memory().size()) {
      step_ = step::sent_rest;
      waited_ = true;
      return asio::async_write(stream_, request_buffers(req_, state_, sent), std::move(self));
    }
    read_response(self);
  }

  // A request whose body goes in pieces: sent by `sending`, a coroutine that continues
  // this operation when it ends.
  template <class Self>
  void send_streamed(Self& self, asio::awaitable<std::error_code> sending) {
    state_.write_buffer.clear();
    step_ = step::sent_body;
    waited_ = true;
    asio::co_spawn(stream_.get_executor(), std::move(sending), std::move(self));
  }

  // A request that asks "Expect: 100-continue": send_body() sends it, spawned, holding
  // the body at a continue_gate, while the response is read here.
  template <class Self>
  void start_expecting(Self& self) {
    const auto executor = asio::get_associated_executor(self, stream_.get_executor());
    gate_ = std::make_shared<continue_gate>(executor);
    // The caller's cancellation reaches the reads and the send through the gate's signals.
    if (auto slot = self.get_cancellation_state().slot(); slot.is_connected())
      slot.assign([gate = gate_](asio::cancellation_type type) { gate->cancel(type); });
    state_.write_buffer.clear();
    waited_ = true;
    asio::co_spawn(executor, send_body(stream_, req_, state_, hooks_, gate_.get()),
                   asio::bind_cancellation_slot(
                       gate_->stop_sending.slot(),
                       [gate = gate_](std::exception_ptr failed, std::error_code ec) {
                         gate->body_ended(failed ? error::aborted_by_callback : ec);
                       }));
    read_response(self);
  }

  // The response has ended: the body's send, if still going, is waited for, or stopped
  // when the response refused the request or failed (curl stops sending there too).
  template <class Self>
  void end_expecting(Self& self, std::error_code ec) {
    auto& gate = *gate_;
    if (!gate.body_done) {
      result_ = ec;
      gate.withhold();
      if (ec || out_.status >= 300) gate.stop_body();
      gate.timer.expires_at(std::chrono::steady_clock::time_point::max());
      step_ = step::joining;
      return gate.timer.async_wait(
          asio::bind_cancellation_slot(asio::cancellation_slot(), std::move(self)));
    }
    if (gate.body_failed()) ec = gate.body_result;
    state_.body_withheld = gate.at == continue_gate::stage::withheld;
    if (state_.body_withheld || gate.body_result) state_.reusable = false;
    self.complete(ec);
  }

  // Parses what has been read, then gives a coroutine sink its pieces, then reads more
  // or ends.
  template <class Self>
  void read_response(Self& self) {
    if (!reader_) reader_.emplace(req_, out_, state_, hooks_);
    reader_->parse();
    if (gate_) gate_->saw(state_.parser);
    piece_ = 0;
    give_pieces(self);
  }

  template <class Self>
  void give_pieces(Self& self) {
    const auto& pieces = reader_->pieces();
    if (piece_ < pieces.size() && !reader_->sink_refused()) {
      step_ = step::sinking;
      waited_ = true;
      const std::string_view piece = pieces[piece_++];
      if (gate_)
        return asio::co_spawn(stream_.get_executor(), hooks_.on_body.async_write(piece),
                              asio::bind_cancellation_slot(gate_->stop_reading.slot(),
                                                           std::move(self)));
      return asio::co_spawn(stream_.get_executor(), hooks_.on_body.async_write(piece),
                            std::move(self));
    }
    if (!reader_->wants_more() || (gate_ && gate_->body_failed()))
      return complete(self, reader_->result());
    step_ = step::reading;
    waited_ = true;
    if (gate_)
      return stream_.async_read_some(
          reader_->read_buffer(),
          asio::bind_cancellation_slot(gate_->stop_reading.slot(), std::move(self)));
    stream_.async_read_some(reader_->read_buffer(), std::move(self));
  }

  // An operation never completes inside the call that starts it: an exchange that ends
  // before it has waited for anything delivers its outcome from a posted handler.
  template <class Self>
  void complete(Self& self, std::error_code ec) {
    if (gate_) return end_expecting(self, ec);
    if (waited_) return self.complete(ec);
    result_ = ec;
    step_ = step::delivering;
    waited_ = true;
    asio::post(stream_.get_executor(), std::move(self));
  }

  AsyncStream& stream_;
  const request& req_;
  response& out_;
  connection_state& state_;
  const transfer_hooks& hooks_;
  std::optional<response_reader> reader_;
  std::shared_ptr<continue_gate> gate_;  // set for a request that expects a 100
  std::size_t piece_ = 0;
  step step_ = step::start;
  bool waited_ = false;
  std::error_code result_;
};

}  // namespace detail

/// Sends `req` on `stream` and reads the response into `out`, calling `hooks` on the way
/// (a body sink set there takes the body instead of `out.body`), as an Asio
/// asynchronous operation on `stream`'s executor: completes `token` with
/// void(std::error_code). Errors carry curl's numbers: what the serializer refuses (43,
/// nothing sent), a body file or producer that fails (26, 42), a failed write (55), a
/// failed read (56), a sink that refuses bytes or throws (23), a hook that throws (42),
/// and the parser's (1, 8, 18, 52, 56, 63). A request with a body and "Expect:
/// 100-continue" has its body wait for the 100 (at most `state.expect_continue_timeout`)
/// while the response is read; `state.body_withheld` then says whether a final response
/// came first and the body stayed unsent. Afterwards `state.reusable` says whether the
/// connection can carry another request. Per-operation cancellation (terminal), or
/// `state.interrupted`, ends it with operation_aborted; the connection is then not
/// reusable. `stream`, `req`, `out`, `state` and `hooks` must outlive it.
template <class AsyncStream, class CompletionToken>
auto async_exchange(AsyncStream& stream, const request& req, response& out,
                    connection_state& state, const transfer_hooks& hooks, CompletionToken&& token) {
  // No I/O object for async_compose() to keep work on: each step that waits is an
  // operation of the stream (or a coroutine spawned on its executor), which keeps work
  // on that executor itself, and tracking it again costs a copy of the executor per step.
  return asio::async_compose<CompletionToken, void(std::error_code)>(
      detail::exchange_op<AsyncStream>(stream, req, out, state, hooks), token);
}

/// async_exchange() in a coroutine: `co_await exchange(stream, req, out, state)` gives
/// the error code rather than throwing it.
template <class AsyncStream>
asio::awaitable<std::error_code> exchange(AsyncStream& stream, const request& req, response& out,
                                          connection_state& state,
                                          const transfer_hooks& hooks = detail::no_transfer_hooks()) {
  std::error_code ec;
  co_await async_exchange(stream, req, out, state, hooks,
                          asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

}  // namespace opensock::http
