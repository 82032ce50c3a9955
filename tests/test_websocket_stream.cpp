// websocket::stream over a TCP connection whose other end the test scripts byte by byte:
// what real servers do not do on demand (frames that break RFC 6455, a close in the middle
// of a message, a reset, silence), and what the client must put on the wire (masks,
// fragments, pongs, close codes).
#include <opensock/websocket/stream.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

using namespace opensock;
using namespace opensock::websocket;
using asio::ip::tcp;
using ws_stream = websocket::stream<tcp::socket>;

namespace {

constexpr auto awaitable = asio::use_awaitable;

// A connected pair on loopback: the client's end for the stream, the server's for the
// script.
struct connected_pair {
  explicit connected_pair(asio::io_context& io) : client(io), server(io) {
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  tcp::socket client;
  tcp::socket server;
};

// A frame as a server sends it: unmasked unless asked.
std::string server_frame(opcode op, std::string_view payload, bool fin = true,
                         unsigned char rsv = 0, bool masked = false) {
  frame_header h;
  h.fin = fin;
  h.rsv1 = (rsv & 4) != 0;
  h.rsv2 = (rsv & 2) != 0;
  h.rsv3 = (rsv & 1) != 0;
  h.op = op;
  h.masked = masked;
  h.mask = {9, 8, 7, 6};
  h.length = payload.size();
  unsigned char head[max_frame_header];
  const std::size_t n = write_frame_header(h, head);
  std::string out(reinterpret_cast<const char*>(head), n);
  std::string body(payload);
  if (masked) apply_mask(reinterpret_cast<unsigned char*>(body.data()), body.size(), h.mask, 0);
  return out + body;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  return p.append(reason);
}

struct client_frame {
  frame_header header;
  std::string payload;  // unmasked
};

// Reads one frame the client sent, which must be masked.
asio::awaitable<client_frame> read_client_frame(tcp::socket& s) {
  client_frame f;
  std::array<unsigned char, max_frame_header> head{};
  co_await asio::async_read(s, asio::buffer(head.data(), 2), awaitable);
  std::size_t have = 2;
  std::error_code ec;
  for (;;) {
    const std::size_t n = parse_frame_header(std::span<const unsigned char>(head.data(), have),
                                             f.header, ec);
    REQUIRE_FALSE(ec);
    if (n != 0) break;
    co_await asio::async_read(s, asio::buffer(head.data() + have, 1), awaitable);
    ++have;
  }
  REQUIRE(f.header.masked);
  f.payload.resize(static_cast<std::size_t>(f.header.length));
  co_await asio::async_read(s, asio::buffer(f.payload), awaitable);
  apply_mask(reinterpret_cast<unsigned char*>(f.payload.data()), f.payload.size(), f.header.mask,
             0);
  co_return f;
}

asio::awaitable<void> send(tcp::socket& s, std::string bytes) {
  co_await asio::async_write(s, asio::buffer(bytes), awaitable);
}

// What a read of the stream ended with, and the close frame the server got for it.
struct violation_outcome {
  std::error_code read_error;
  std::uint16_t close_code = 0;
};

// Sends `bytes` to a client reading a message and returns how the client's read ended
// and the code of the close frame it sent.
violation_outcome after(std::string bytes, stream_options options = stream_options()) {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client), std::move(options));
  violation_outcome out;
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, bytes);
    std::string message;
    co_await ws.async_read(message, asio::redirect_error(awaitable, out.read_error));
    const client_frame f = co_await read_client_frame(pair.server);
    REQUIRE(f.header.op == opcode::close);
    REQUIRE(f.payload.size() >= 2);
    out.close_code = static_cast<std::uint16_t>(
        (static_cast<unsigned char>(f.payload[0]) << 8) | static_cast<unsigned char>(f.payload[1]));
  }());
  CHECK_FALSE(ws.is_open());
  return out;
}

}  // namespace

TEST_CASE("messages go out masked with a new mask each frame") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    const std::string text = "hello, hello, hello";
    co_await ws.async_write(asio::buffer(text), awaitable);
    co_await ws.async_write(asio::buffer(text), awaitable);
    const client_frame a = co_await read_client_frame(pair.server);
    const client_frame b = co_await read_client_frame(pair.server);
    CHECK(a.header.op == opcode::text);
    CHECK(a.header.fin);
    CHECK(a.payload == text);
    CHECK(b.payload == text);
    CHECK(a.header.mask != b.header.mask);
    ws.binary(true);
    const std::vector<unsigned char> data(70000, 0xab);
    const std::size_t n = co_await ws.async_write(asio::buffer(data), awaitable);
    CHECK(n == data.size());
    const client_frame c = co_await read_client_frame(pair.server);
    CHECK(c.header.op == opcode::binary);
    CHECK(c.payload == std::string(70000, '\xab'));
  }());
}

TEST_CASE("a message is sent in pieces and one in pieces is read whole with a ping between") {
  asio::io_context io;
  connected_pair pair(io);
  std::vector<std::string> pings;
  stream_options options;
  options.on_control = [&](opcode op, std::string_view payload) {
    if (op == opcode::ping) pings.emplace_back(payload);
  };
  ws_stream ws(std::move(pair.client), options);
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await ws.async_write_some(false, asio::buffer(std::string_view("ab")), awaitable);
    co_await ws.async_write_some(false, asio::buffer(std::string_view("cd")), awaitable);
    co_await ws.async_write_some(true, asio::buffer(std::string_view("ef")), awaitable);
    const client_frame a = co_await read_client_frame(pair.server);
    const client_frame b = co_await read_client_frame(pair.server);
    const client_frame c = co_await read_client_frame(pair.server);
    CHECK((a.header.op == opcode::text && !a.header.fin && a.payload == "ab"));
    CHECK((b.header.op == opcode::continuation && !b.header.fin && b.payload == "cd"));
    CHECK((c.header.op == opcode::continuation && c.header.fin && c.payload == "ef"));

    co_await send(pair.server, server_frame(opcode::binary, "12", false) +
                                   server_frame(opcode::ping, "are you there") +
                                   server_frame(opcode::continuation, "34", false) +
                                   server_frame(opcode::continuation, "", false) +
                                   server_frame(opcode::continuation, "56"));
    std::vector<unsigned char> message;
    const std::size_t n = co_await ws.async_read(message, awaitable);
    CHECK(n == 6);
    CHECK(std::string(message.begin(), message.end()) == "123456");
    CHECK(ws.got_binary());
    CHECK(ws.is_message_done());
    CHECK(pings == std::vector<std::string>{"are you there"});
    const client_frame pong = co_await read_client_frame(pair.server);
    CHECK(pong.header.op == opcode::pong);
    CHECK(pong.payload == "are you there");
  }());
}

TEST_CASE("without auto_pong a ping is only shown and the caller answers") {
  asio::io_context io;
  connected_pair pair(io);
  stream_options options;
  options.auto_pong = false;
  std::string seen;
  options.on_control = [&](opcode op, std::string_view payload) {
    if (op == opcode::ping) seen = payload;
  };
  ws_stream ws(std::move(pair.client), options);
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::ping, "mine") +
                                   server_frame(opcode::text, "after"));
    std::string message;
    co_await ws.async_read(message, awaitable);
    CHECK(message == "after");
    CHECK(seen == "mine");
    co_await ws.async_pong("answered", awaitable);
    co_await ws.async_ping("ping too", awaitable);
    const client_frame pong = co_await read_client_frame(pair.server);
    CHECK(pong.header.op == opcode::pong);
    CHECK(pong.payload == "answered");  // nothing went before it
    const client_frame ping = co_await read_client_frame(pair.server);
    CHECK(ping.header.op == opcode::ping);
    CHECK(ping.payload == "ping too");
    std::error_code ec;
    co_await ws.async_ping(std::string(126, 'x'), asio::redirect_error(awaitable, ec));
    CHECK(ec == error::bad_function_argument);
  }());
}

TEST_CASE("a message is read piece by piece into a small buffer") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::text, "abc", false) +
                                   server_frame(opcode::continuation, "defgh"));
    std::string got;
    std::array<char, 2> piece;
    do {
      const std::size_t n = co_await ws.async_read_some(asio::buffer(piece), awaitable);
      got.append(piece.data(), n);
    } while (!ws.is_message_done());
    CHECK(got == "abcdefgh");
    CHECK(ws.got_text());
  }());
}

TEST_CASE("a text message split inside a character is read whole") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::text, "price: \xe2\x82", false) +
                                   server_frame(opcode::continuation, "\xac"));
    std::string message;
    co_await ws.async_read(message, awaitable);
    CHECK(message == "price: \xe2\x82\xac");
  }());
}

TEST_CASE("a close from the server is echoed and ends the read with its code and reason") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::close, close_payload(4000, "bye")));
    std::string message;
    std::error_code ec;
    co_await ws.async_read(message, asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_closed);
    CHECK(ec == condition::got_nothing);
    CHECK(ws.reason().code == 4000);
    CHECK(ws.reason().reason == "bye");
    const client_frame echo = co_await read_client_frame(pair.server);
    CHECK(echo.header.op == opcode::close);
    CHECK(echo.payload == close_payload(4000));
    CHECK_FALSE(ws.is_open());
    co_await ws.async_write(asio::buffer(std::string_view("late")),
                            asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_closed);
  }());
}

TEST_CASE("a close from the client waits for the server's and drops what comes before it") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    auto server = [&]() -> asio::awaitable<void> {
      const client_frame f = co_await read_client_frame(pair.server);
      CHECK(f.header.op == opcode::close);
      CHECK(f.payload == close_payload(1000, "done"));
      co_await send(pair.server, server_frame(opcode::text, "still coming") +
                                     server_frame(opcode::close, close_payload(1000)));
    };
    asio::co_spawn(io, server(), asio::detached);
    co_await ws.async_close(close_reason(close_code::normal, "done"), awaitable);
    CHECK(ws.reason().code == 1000);
    CHECK_FALSE(ws.is_open());
  }());
}

TEST_CASE("a close code or reason RFC 6455 does not let a client send is refused") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    for (const close_reason& bad :
         {close_reason(1005), close_reason(1006), close_reason(1015), close_reason(999),
          close_reason(0, "no code"), close_reason(1000, std::string(124, 'r')),
          close_reason(1000, "\xe2\x82")}) {
      std::error_code ec;
      co_await ws.async_close(bad, asio::redirect_error(awaitable, ec));
      CHECK(ec == error::bad_function_argument);
      CHECK(ws.is_open());
    }
  }());
}

TEST_CASE("frames that break the protocol close with 1002") {
  CHECK(after(server_frame(opcode::text, "x", true, 0, true)).close_code == 1002);  // masked
  CHECK(after(server_frame(opcode::text, "x", true, 4)).close_code == 1002);  // RSV1, no deflate
  CHECK(after(server_frame(opcode::text, "x", true, 2)).close_code == 1002);  // RSV2
  CHECK(after(server_frame(opcode::text, "x", true, 1)).close_code == 1002);  // RSV3
  CHECK(after(server_frame(opcode::ping, "x", false)).close_code == 1002);  // fragmented control
  CHECK(after(server_frame(opcode::ping, std::string(126, 'p'))).close_code == 1002);
  CHECK(after(server_frame(static_cast<opcode>(3), "x")).close_code == 1002);
  CHECK(after(server_frame(opcode::continuation, "x")).close_code == 1002);
  CHECK(after(server_frame(opcode::text, "a", false) + server_frame(opcode::text, "b"))
            .close_code == 1002);
  CHECK(after(std::string("\x82\x7e\x00\x05hello", 9)).close_code == 1002);  // not shortest
  CHECK(after(server_frame(opcode::close, "x")).close_code == 1002);  // a one-byte close
  CHECK(after(server_frame(opcode::close, close_payload(1005))).close_code == 1002);
  const auto outcome = after(server_frame(opcode::text, "x", true, 0, true));
  CHECK(outcome.read_error == error::websocket_protocol_error);
  CHECK(outcome.read_error == condition::recv_error);
}

TEST_CASE("text that is not UTF-8 closes with 1007 wherever it breaks") {
  // Invalid across the frames: the first is a valid start, the second cannot go on.
  const auto split = after(server_frame(opcode::text, "ok \xe2\x82", false) +
                           server_frame(opcode::continuation, "("));
  CHECK(split.close_code == 1007);
  CHECK(split.read_error == error::websocket_invalid_utf8);
  CHECK(after(server_frame(opcode::text, "cut \xe2\x82")).close_code == 1007);
  CHECK(after(server_frame(opcode::close, close_payload(1000, "\xff"))).close_code == 1007);
  // Binary is not text.
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::binary, "\xff\xfe"));
    std::string message;
    co_await ws.async_read(message, awaitable);
    CHECK(message == "\xff\xfe");
  }());
}

TEST_CASE("a message over the size limit closes with 1009 before it is read") {
  stream_options small;
  small.max_message_size = 10;
  const auto one = after(server_frame(opcode::binary, std::string(11, 'x')), small);
  CHECK(one.close_code == 1009);
  CHECK(one.read_error == error::websocket_message_too_big);
  CHECK(one.read_error == condition::too_large);
  // Ten bytes in two frames fit; eleven in three do not.
  CHECK(after(server_frame(opcode::binary, "12345", false) +
                  server_frame(opcode::continuation, "123456"),
              small)
            .close_code == 1009);
  // A length of 2^62 is refused from the header alone.
  CHECK(after(std::string("\x82\x7f\x40\x00\x00\x00\x00\x00\x00\x00", 10), small).close_code ==
        1009);
}

TEST_CASE("a close in the middle of a message ends the read as closed") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await send(pair.server, server_frame(opcode::text, "half", false) +
                                   server_frame(opcode::close, close_payload(1001, "going")));
    std::string message;
    std::error_code ec;
    co_await ws.async_read(message, asio::redirect_error(awaitable, ec));
    CHECK(ec == error::websocket_closed);
    CHECK(ws.reason().code == 1001);
  }());
}

TEST_CASE("a reset or a close without a close frame ends the read with the transport's error") {
  for (bool reset : {true, false}) {
    asio::io_context io;
    connected_pair pair(io);
    ws_stream ws(std::move(pair.client));
    test::run(io, [&]() -> asio::awaitable<void> {
      co_await send(pair.server, server_frame(opcode::text, "part", false));
      if (reset) pair.server.set_option(asio::socket_base::linger(true, 0));
      pair.server.close();
      std::string message;
      std::error_code ec;
      co_await ws.async_read(message, asio::redirect_error(awaitable, ec));
      const std::error_code expected = reset ? std::error_code(asio::error::connection_reset)
                                            : std::error_code(asio::error::eof);
      CHECK(ec == expected);
      CHECK_FALSE(ws.is_open());
    }());
  }
}

TEST_CASE("a read and a write are in flight together") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    std::string message;
    bool read_done = false;
    ws.async_read(message, [&](std::error_code ec, std::size_t) {
      CHECK_FALSE(ec);
      read_done = true;
    });
    co_await ws.async_write(asio::buffer(std::string_view("out")), awaitable);
    const client_frame f = co_await read_client_frame(pair.server);
    CHECK(f.payload == "out");
    CHECK_FALSE(read_done);
    co_await send(pair.server, server_frame(opcode::ping, "1") + server_frame(opcode::text, "in"));
    const client_frame pong = co_await read_client_frame(pair.server);
    CHECK(pong.header.op == opcode::pong);
    asio::steady_timer wait(io, std::chrono::milliseconds(20));
    while (!read_done) co_await wait.async_wait(awaitable);
    CHECK(message == "in");
  }());
}

TEST_CASE("a cancelled read leaves the stream usable") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    asio::cancellation_signal cancel;
    std::string message;
    std::error_code first;
    bool done = false;
    ws.async_read(message, asio::bind_cancellation_slot(cancel.slot(),
                                                        [&](std::error_code ec, std::size_t) {
                                                          first = ec;
                                                          done = true;
                                                        }));
    asio::steady_timer wait(io, std::chrono::milliseconds(20));
    co_await wait.async_wait(awaitable);
    cancel.emit(asio::cancellation_type::terminal);
    while (!done) {
      wait.expires_after(std::chrono::milliseconds(5));
      co_await wait.async_wait(awaitable);
    }
    CHECK(first == asio::error::operation_aborted);
    CHECK(ws.is_open());
    co_await send(pair.server, server_frame(opcode::text, "after"));
    message.clear();
    co_await ws.async_read(message, awaitable);
    CHECK(message == "after");
  }());
}

TEST_CASE("idle pings go out while a read waits and the idle limit ends it with 28") {
  asio::io_context io;
  connected_pair pair(io);
  stream_options options;
  options.idle_ping = std::chrono::milliseconds(50);
  options.idle_timeout = std::chrono::milliseconds(400);
  ws_stream ws(std::move(pair.client), options);
  test::run(io, [&]() -> asio::awaitable<void> {
    std::string message;
    std::error_code read_error;
    bool done = false;
    ws.async_read(message, [&](std::error_code ec, std::size_t) {
      read_error = ec;
      done = true;
    });
    const client_frame ping = co_await read_client_frame(pair.server);
    CHECK(ping.header.op == opcode::ping);
    asio::steady_timer wait(io, std::chrono::milliseconds(20));
    while (!done) {
      wait.expires_after(std::chrono::milliseconds(20));
      co_await wait.async_wait(awaitable);
    }
    CHECK(read_error == error::operation_timedout);
    CHECK_FALSE(ws.is_open());
  }());
}

TEST_CASE("a large message goes both ways intact") {
  asio::io_context io;
  connected_pair pair(io);
  ws_stream ws(std::move(pair.client));
  test::run(io, [&]() -> asio::awaitable<void> {
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
    ws.binary(true);
    auto server = [&]() -> asio::awaitable<void> {
      const client_frame f = co_await read_client_frame(pair.server);
      CHECK(f.payload == big);
      co_await send(pair.server, server_frame(opcode::binary, f.payload));
    };
    asio::co_spawn(io, server(), asio::detached);
    co_await ws.async_write(asio::buffer(big), awaitable);
    std::string back;
    co_await ws.async_read(back, awaitable);
    CHECK(back == big);
  }());
}

namespace {

// A socket that counts the bytes each read put where: into the memory of `target`, or
// elsewhere (the stream's own read buffer).
struct read_watching_socket {
  using executor_type = tcp::socket::executor_type;
  tcp::socket socket;
  const std::vector<unsigned char>* target = nullptr;
  std::size_t into_target = 0;
  std::size_t elsewhere = 0;

  executor_type get_executor() { return socket.get_executor(); }
  tcp::socket& lowest_layer() { return socket; }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return socket.async_write_some(b, std::forward<Token>(token));
  }
  template <class Token>
  auto async_read_some(asio::mutable_buffer b, Token&& token) {
    return socket.async_read_some(
        b, [this, b, handler = std::forward<Token>(token)](std::error_code ec,
                                                           std::size_t n) mutable {
          const auto* p = static_cast<const unsigned char*>(b.data());
          const bool inside = target && p >= target->data() && p < target->data() + target->size();
          (inside ? into_target : elsewhere) += n;
          std::move(handler)(ec, n);
        });
  }
};

}  // namespace

TEST_CASE("a large message is read from the socket straight into the caller's container") {
  asio::io_context io;
  connected_pair pair(io);
  websocket::stream<read_watching_socket> ws(read_watching_socket{std::move(pair.client)});
  std::vector<unsigned char> message;
  message.reserve(1 << 20);
  ws.next_layer().target = &message;
  test::run(io, [&]() -> asio::awaitable<void> {
    auto server = [&]() -> asio::awaitable<void> {
      co_await send(pair.server, server_frame(opcode::binary, std::string(1 << 20, 'm')));
    };
    asio::co_spawn(io, server(), asio::detached);
    const std::size_t n = co_await ws.async_read(message, awaitable);
    CHECK(n == 1u << 20);
    // Through the stream's own 16 KiB buffer go the header and what came with it, and a
    // tail under half of it (read with the next frame's header); the rest is never copied.
    CHECK(ws.next_layer().into_target + ws.next_layer().elsewhere == (1u << 20) + 10);
    CHECK(ws.next_layer().elsewhere <= 24 * 1024 + 10);
    CHECK(ws.next_layer().into_target >= (1u << 20) - 24 * 1024);
  }());
}
