// Feeds a response to the parser in pieces, as a connection would, and records what
// came out, so that fuzz targets can compare the results of different splits.
#pragma once

#include <opensock/http/response_parser.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace opensock::fuzz {

struct outcome {
  std::error_code error;
  bool done = false;
  int status = 0;
  std::string body;
  std::size_t consumed = 0;

  bool operator==(const outcome&) const = default;
};

inline outcome parse_in_pieces(std::string_view wire, const std::vector<std::size_t>& cuts) {
  opensock::http::parser_limits limits;
  limits.max_line = 512;  // small limits so that the fuzzer reaches them
  limits.max_header_bytes = 2048;
  limits.max_header_count = 16;
  limits.max_body = 1 << 16;
  opensock::http::response_parser parser(limits);
  parser.start();
  outcome out;
  std::string buffer;
  std::size_t from = 0;
  auto feed_to = [&](std::size_t cut) {
    buffer.append(wire.substr(from, cut - from));
    from = cut;
    const auto n = parser.parse(buffer, [&](std::string_view b) { out.body.append(b); });
    if (n > buffer.size()) __builtin_trap();
    out.consumed += n;
    buffer.erase(0, n);
  };
  for (std::size_t cut : cuts) {
    if (parser.error() || parser.done()) break;
    feed_to(cut);
  }
  if (!parser.error() && !parser.done()) feed_to(wire.size());
  if (!parser.error() && !parser.done()) parser.finish_at_eof();
  out.error = parser.error();
  out.done = parser.done();
  out.status = parser.status();
  return out;
}

}  // namespace opensock::fuzz
