// What a WebSocket client asks for in its upgrade (handshake_options) and how its
// stream behaves afterwards (stream_options).
#pragma once

#include <opensock/http/fields.hpp>
#include <opensock/http/timeouts.hpp>
#include <opensock/websocket/frame.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opensock::websocket {

// Constructors rather than aggregates: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await, and these are often made in the statement that
// awaits the connect.

/// permessage-deflate (RFC 7692) as the client offers it. The server's answer may lower
/// the window sizes and ask for no context takeover; what it settles is the stream's
/// negotiated().
struct deflate_options {
  deflate_options() {}
  /// Whether to offer the extension at all (off by default). A build without zlib fails
  /// a handshake that offers it with websocket_deflate_not_built.
  bool enabled = false;
  /// The client's LZ77 window for what it sends, 8 to 15 bits: the server may ask for
  /// less. With 8, which zlib's raw deflate cannot make, messages are sent uncompressed.
  int client_max_window_bits = 15;
  /// The window the server may use for what it sends; below 15 it is asked of it.
  int server_max_window_bits = 15;
  /// Ask for each message to be compressed on its own, on either side: less memory, less
  /// compression.
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
  /// zlib's compression level (0 to 9) and memory level (1 to 9) for what is sent.
  int level = 6;
  int mem_level = 8;
};

struct handshake_options {
  handshake_options() {}
  /// Offered in Sec-WebSocket-Protocol, in this order; the server picks one or none.
  std::vector<std::string> subprotocols;
  /// More header fields for the upgrade request (Origin, Authorization, cookies, …),
  /// sent after the ones the handshake needs. Upgrade, Connection and the
  /// Sec-WebSocket-* fields are the handshake's own and may not be set here.
  http::fields headers;
  deflate_options deflate;
  /// Time limits of the connect and the handshake; unset, the session's.
  std::optional<http::request_timeouts> timeouts;
};

/// How a stream treats what it receives.
struct stream_options {
  stream_options() {}
  /// A message larger than this (after inflation, when compressed) fails the read with
  /// websocket_message_too_big and closes the connection with 1009.
  std::size_t max_message_size = 16 * 1024 * 1024;
  /// Answer each ping with a pong carrying its payload (RFC 6455 §5.5.2).
  bool auto_pong = true;
  /// Called, when set, with each ping, pong and close frame received and its payload
  /// (a close frame's as it came: code and reason), before the stream acts on it.
  std::function<void(opcode, std::string_view)> on_control;
  /// Send a ping when nothing was received for this long while a read waits (Beast's
  /// keep_alive_pings); zero: never.
  std::chrono::milliseconds idle_ping{0};
  /// Fail a waiting read with operation_timedout when nothing was received for this
  /// long; zero: no limit.
  std::chrono::milliseconds idle_timeout{0};
};

}  // namespace opensock::websocket
