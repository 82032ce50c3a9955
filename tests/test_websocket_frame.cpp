// Frames as they go on the wire, the UTF-8 check of text split anywhere, the handshake's
// key and accept value (RFC 6455's own example), and permessage-deflate's negotiation and
// codec.
#include <opensock/websocket/frame.hpp>

#include <opensock/detail/utf8_validator.hpp>
#include <opensock/websocket/handshake.hpp>
#include <opensock/websocket/permessage_deflate.hpp>

#include "support/catch.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace opensock;
using namespace opensock::websocket;

namespace {

std::vector<unsigned char> bytes(std::string_view s) {
  return std::vector<unsigned char>(s.begin(), s.end());
}

std::error_code parse(std::string_view wire, frame_header& h, std::size_t& size) {
  std::error_code ec;
  const auto b = bytes(wire);
  size = parse_frame_header(b, h, ec);
  return ec;
}

}  // namespace

TEST_CASE("a frame header is written in its shortest form and read back") {
  for (std::uint64_t length : {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 40}) {
    for (bool masked : {false, true}) {
      frame_header h;
      h.fin = length % 2 == 0;
      h.rsv1 = masked;
      h.op = opcode::binary;
      h.masked = masked;
      h.length = length;
      h.mask = {1, 2, 3, 4};
      unsigned char out[max_frame_header];
      const std::size_t n = write_frame_header(h, out);
      const std::size_t expected = (length < 126 ? 2 : length <= 0xffff ? 4 : 10) + (masked ? 4 : 0);
      CHECK(n == expected);
      frame_header back;
      std::error_code ec;
      // Every prefix is incomplete, the whole is read.
      for (std::size_t k = 0; k < n; ++k)
        CHECK(parse_frame_header(std::span<const unsigned char>(out, k), back, ec) == 0);
      REQUIRE(parse_frame_header(std::span<const unsigned char>(out, n), back, ec) == n);
      CHECK_FALSE(ec);
      CHECK(back.fin == h.fin);
      CHECK(back.rsv1 == h.rsv1);
      CHECK(back.op == opcode::binary);
      CHECK(back.masked == masked);
      CHECK(back.length == length);
      if (masked) CHECK(back.mask == h.mask);
    }
  }
}

TEST_CASE("headers no frame may have are protocol errors") {
  frame_header h;
  std::size_t n = 0;
  CHECK(parse(std::string("\x83\x00", 2), h, n) == error::websocket_protocol_error);  // opcode 3
  CHECK(parse(std::string("\x8b\x00", 2), h, n) == error::websocket_protocol_error);  // opcode B
  CHECK(parse(std::string("\x09\x00", 2), h, n) == error::websocket_protocol_error);  // ping, no FIN
  CHECK(parse(std::string("\x89\x7e\x00\x7e", 4), h, n) ==
        error::websocket_protocol_error);  // ping of 126 bytes
  // 16- and 64-bit lengths that fit a shorter form, and a 64-bit one with its top bit set.
  CHECK(parse(std::string("\x82\x7e\x00\x7d", 4), h, n) == error::websocket_protocol_error);
  CHECK(parse(std::string("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10), h, n) ==
        error::websocket_protocol_error);
  CHECK(parse(std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10), h, n) ==
        error::websocket_protocol_error);
  CHECK_FALSE(parse(std::string("\x82\x7e\x00\x7e", 4), h, n));
  CHECK(n == 4);
}

TEST_CASE("masking is the same whichever offset a payload is masked from") {
  std::string payload(1000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  const std::array<unsigned char, 4> mask{0x12, 0x34, 0x56, 0x78};
  std::string whole = payload;
  apply_mask(reinterpret_cast<unsigned char*>(whole.data()), whole.size(), mask, 0);
  for (std::size_t i = 0; i < payload.size(); ++i)
    REQUIRE(static_cast<unsigned char>(whole[i]) ==
            (static_cast<unsigned char>(payload[i]) ^ mask[i % 4]));
  for (std::size_t split : {1u, 3u, 8u, 13u, 999u}) {
    std::string pieces = payload;
    auto* p = reinterpret_cast<unsigned char*>(pieces.data());
    apply_mask(p, split, mask, 0);
    apply_mask(p + split, pieces.size() - split, mask, split);
    CHECK(pieces == whole);
  }
}

TEST_CASE("UTF-8 is checked wherever a message is split") {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"plain ascii text, long enough for the eight-byte path", true},
      {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true},  // κόσμε
      {"\xf0\x9f\x98\x80 \xe2\x82\xac \xf4\x8f\xbf\xbf", true},
      {"\xc0\xaf", false},                    // overlong '/'
      {"\xe0\x80\xaf", false},                // overlong, three bytes
      {"\xed\xa0\x80", false},                // a surrogate
      {"\xf4\x90\x80\x80", false},            // past U+10FFFF
      {"\xf8\x88\x80\x80\x80", false},        // five bytes
      {"abc\x80", false},                     // a lone continuation byte
      {"\xe2\x82", false},                    // cut short
      {std::string("nul \0 is text", 13), true},
  };
  for (const auto& [text, valid] : cases) {
    for (std::size_t split = 0; split <= text.size(); ++split) {
      opensock::detail::utf8_validator v;
      const auto* p = reinterpret_cast<const unsigned char*>(text.data());
      const bool ok = v.feed(p, split) && v.feed(p + split, text.size() - split) && v.complete();
      INFO(text << " split at " << split);
      CHECK(ok == valid);
    }
  }
}

TEST_CASE("the accept value is RFC 6455's for its sample key and keys are fresh") {
  CHECK(accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    const std::string key = make_key();
    CHECK(key.size() == 24);  // 16 bytes in base64
    keys.insert(key);
  }
  CHECK(keys.size() == 100);
}

TEST_CASE("the upgrade request carries the handshake's fields and refuses to let the caller's replace them") {
  http::request req;
  handshake_options o;
  o.subprotocols = {"chat.v2", "chat.v1"};
  o.headers.add("Origin", "http://localhost");
  std::error_code ec;
  const auto u = http::url::parse("ws://localhost:8080/chat?room=1", ec);
  REQUIRE_FALSE(ec);
  REQUIRE_FALSE(make_upgrade_request(u, o, "a2V5", req));
  CHECK(req.method == "GET");
  CHECK(req.headers.get("Upgrade") == "websocket");
  CHECK(req.headers.get("Connection") == "Upgrade");
  CHECK(req.headers.get("Sec-WebSocket-Version") == "13");
  CHECK(req.headers.get("Sec-WebSocket-Key") == "a2V5");
  CHECK(req.headers.get("Sec-WebSocket-Protocol") == "chat.v2, chat.v1");
  CHECK(req.headers.get("Origin") == "http://localhost");
  CHECK_FALSE(req.headers.contains("Sec-WebSocket-Extensions"));

  handshake_options bad;
  bad.headers.add("sec-websocket-key", "mine");
  CHECK(make_upgrade_request(u, bad, "a2V5", req) == error::bad_function_argument);
  handshake_options bad_protocol;
  bad_protocol.subprotocols = {"two words"};
  CHECK(make_upgrade_request(u, bad_protocol, "a2V5", req) == error::bad_function_argument);
}

TEST_CASE("a 101 is checked against the key and the subprotocols and extensions offered") {
  handshake_options o;
  o.subprotocols = {"chat.v1"};
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  auto answer = [&](http::fields extra) {
    http::response r;
    r.status = 101;
    r.headers.add("Upgrade", "websocket");
    r.headers.add("Connection", "Upgrade");
    r.headers.add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    for (const auto& f : extra) r.headers.add(f.name, f.value);
    return r;
  };
  handshake_result settled;
  CHECK_FALSE(check_upgrade_response(answer({}), key, o, settled));
  CHECK(settled.subprotocol.empty());
  CHECK_FALSE(check_upgrade_response(answer({{"Sec-WebSocket-Protocol", "chat.v1"}}), key, o,
                                     settled));
  CHECK(settled.subprotocol == "chat.v1");
  CHECK(check_upgrade_response(answer({{"Sec-WebSocket-Protocol", "chat.v9"}}), key, o,
                               settled) == error::websocket_bad_handshake);
  CHECK(check_upgrade_response(answer({{"Sec-WebSocket-Extensions", "permessage-deflate"}}), key,
                               o, settled) == error::websocket_bad_handshake);
  CHECK(check_upgrade_response(answer({}), "b3RoZXIga2V5IGhlcmUhIQ==", o, settled) ==
        error::websocket_bad_handshake);
  http::response no_upgrade = answer({});
  no_upgrade.headers.erase("Upgrade");
  CHECK(check_upgrade_response(no_upgrade, key, o, settled) == error::websocket_bad_handshake);
  http::response refused;
  refused.status = 403;
  CHECK(check_upgrade_response(refused, key, o, settled) == error::websocket_refused);
  CHECK(std::error_code(error::websocket_refused) == condition::http_returned_error);
}

TEST_CASE("permessage-deflate's answer is held to the offer") {
  deflate_options offer;
  offer.enabled = true;
  offer.server_max_window_bits = 12;
  CHECK(deflate_offer(offer) ==
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits");
  std::error_code ec;
  auto settled = settle_deflate({"permessage-deflate; server_max_window_bits=10; "
                                 "client_max_window_bits=9; server_no_context_takeover"},
                                &offer, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(settled);
  CHECK(settled->server_max_window_bits == 10);
  CHECK(settled->client_max_window_bits == 9);
  CHECK(settled->server_no_context_takeover);
  CHECK_FALSE(settled->client_no_context_takeover);

  CHECK_FALSE(settle_deflate({}, &offer, ec));
  CHECK_FALSE(ec);
  for (const char* bad :
       {"permessage-deflate; server_max_window_bits=13", "permessage-deflate; unknown=1",
        "permessage-deflate; server_max_window_bits=7", "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "x-webkit-deflate-frame", "permessage-deflate, permessage-deflate"}) {
    INFO(bad);
    ec = {};
    CHECK_FALSE(settle_deflate({bad}, &offer, ec));
    CHECK(ec == error::websocket_bad_handshake);
  }
  ec = {};
  CHECK_FALSE(settle_deflate({"permessage-deflate"}, nullptr, ec));
  CHECK(ec == error::websocket_bad_handshake);
}

#if OPENSOCK_HAS_ZLIB
TEST_CASE("a compressed message inflates back whatever pieces it is read in") {
  deflate_params p;
  deflater out(p);
  inflater in(p);
  for (int round = 0; round < 3; ++round) {
    std::string message;
    for (int i = 0; i < 2000; ++i) message += "message " + std::to_string(i % 37) + " ";
    std::vector<unsigned char> wire;
    out.compress(std::span<const unsigned char>(
                     reinterpret_cast<const unsigned char*>(message.data()), 1000),
                 false, wire);
    out.compress(std::span<const unsigned char>(
                     reinterpret_cast<const unsigned char*>(message.data()) + 1000,
                     message.size() - 1000),
                 true, wire);
    CHECK(wire.size() < message.size() / 4);
    wire.insert(wire.end(), inflater::tail().begin(), inflater::tail().end());
    std::string back(message.size() + 10, '\0');
    std::size_t made = 0;
    std::size_t at = 0;
    std::error_code ec;
    while (at < wire.size()) {
      // Seven bytes in, at most 100 out, at a time.
      const auto got = in.inflate_some(
          std::span<const unsigned char>(wire.data() + at, std::min<std::size_t>(7, wire.size() - at)),
          std::span<unsigned char>(reinterpret_cast<unsigned char*>(back.data()) + made,
                                   std::min<std::size_t>(100, back.size() - made)),
          ec);
      REQUIRE_FALSE(ec);
      at += got.consumed;
      made += got.produced;
    }
    for (;;) {
      const auto got = in.inflate_some({},
                                       std::span<unsigned char>(
                                           reinterpret_cast<unsigned char*>(back.data()) + made,
                                           back.size() - made),
                                       ec);
      made += got.produced;
      if (got.produced == 0) break;
    }
    back.resize(made);
    CHECK(back == message);
    in.message_done();
  }
  std::error_code ec;
  const std::vector<unsigned char> garbage = bytes("\xff\xff\xff\xff not deflate");
  std::array<unsigned char, 64> sink;
  in.inflate_some(garbage, sink, ec);
  CHECK(ec == error::websocket_bad_compression);
}
#endif

#if !OPENSOCK_HAS_ZLIB
TEST_CASE("without zlib an offer of permessage-deflate fails before anything is sent") {
  static_assert(!deflate_built);
  handshake_options o;
  o.deflate.enabled = true;
  std::error_code ec;
  const auto u = http::url::parse("ws://localhost/", ec);
  http::request req;
  CHECK(make_upgrade_request(u, o, "a2V5", req) == error::websocket_deflate_not_built);
  CHECK(std::error_code(error::websocket_deflate_not_built) == condition::not_built_in);
  // Not offered, the handshake is what it is with zlib.
  o.deflate.enabled = false;
  CHECK_FALSE(make_upgrade_request(u, o, "a2V5", req));
  CHECK_FALSE(req.headers.contains("Sec-WebSocket-Extensions"));
}
#endif
