// libFuzzer target for the WebSocket client's reading of what a server sends: frames,
// control frames, UTF-8 checks and, when the first byte settles permessage-deflate, the
// inflater. The rest is all the server ever sends before it closes. Every read must end
// (no hang), each message read must be within the size limit and, for text, UTF-8; and
// reading the same bytes piece by piece into a 1- to 16-byte buffer must give the same
// messages and the same final error as reading them whole.
#include <opensock/websocket/stream.hpp>

#include <opensock/detail/utf8_validator.hpp>

#include <opensock/test/stream.hpp>

#include <asio/io_context.hpp>
#include <asio/write.hpp>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using ws_stream = opensock::websocket::stream<opensock::test::stream>;

struct outcome {
  std::vector<std::string> messages;
  std::error_code error;
  bool operator==(const outcome&) const = default;
};

// Reads messages until an error; `piece` 0 reads each whole, else in pieces of that size.
outcome read_all(const std::string& sent, bool deflate, std::size_t limit, std::size_t piece) {
  asio::io_context io;
  auto pair = opensock::test::stream::make_pair(io.get_executor());
  opensock::websocket::stream_options options;
  options.max_message_size = limit;
  opensock::websocket::handshake_result settled;
  if (deflate) settled.deflate.emplace();
  ws_stream ws(std::move(pair.first), options, settled);
  auto& server = pair.second;
  asio::async_write(server, asio::buffer(sent), [&](std::error_code, std::size_t) {
    std::error_code ignored;
    server.close(ignored);
  });
  outcome out;
  std::string current;
  std::vector<char> buffer(piece == 0 ? 1 : piece);
  std::function<void()> next;
  bool ended = false;
  auto done = [&](std::error_code ec, std::size_t n, bool whole) {
    if (!whole) current.append(buffer.data(), n);
    if (ec) {
      out.error = ec;
      ended = true;
      return;
    }
    if (ws.is_message_done()) {
      if (current.size() > limit) std::abort();
      if (ws.got_text()) {
        opensock::detail::utf8_validator v;
        if (!v.feed(reinterpret_cast<const unsigned char*>(current.data()), current.size()) ||
            !v.complete())
          std::abort();
      }
      out.messages.push_back(std::move(current));
      current.clear();
    }
    next();
  };
  next = [&]() {
    if (piece == 0) {
      ws.async_read(current, [&](std::error_code ec, std::size_t n) { done(ec, n, true); });
    } else {
      ws.async_read_some(asio::buffer(buffer),
                         [&](std::error_code ec, std::size_t n) { done(ec, n, false); });
    }
  };
  next();
  io.run();
  if (!ended) std::abort();  // a read never ended
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool deflate = (data[0] & 1) != 0;
  const std::size_t limit = (data[0] & 2) != 0 ? 64 : 1 << 20;
  const std::size_t piece = 1 + ((data[0] >> 2) & 15);
  const std::string sent(reinterpret_cast<const char*>(data) + 1, size - 1);
  const outcome whole = read_all(sent, deflate, limit, 0);
  const outcome pieces = read_all(sent, deflate, limit, piece);
  if (!(whole == pieces)) std::abort();
  return 0;
}
