// libFuzzer target for the response parser on a kept-alive connection: responses parsed
// one after another until one fails or ends the connection, as a session parses them.
// Three readings of the same bytes must give the same responses, each with one parser for
// the connection (which speaks one version of HTTP): its heads read in place, fed all the
// bytes at once; its heads moved out with take_head() into storage that is reused, fed
// in pieces cut where the input says, with body bytes of a known length read past the
// parser as the exchange reads them (direct_body_room()); and fed one byte at a time.
#include <opensock/http/response_parser.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace opensock::http;

// What a response came to, as text where the parser gives structures.
struct outcome {
  std::error_code error;
  int status = 0;
  int version = 0;
  bool keep_alive = false;
  std::string reason;
  std::string head;  // the headers, trailers and interim responses
  std::string body;

  bool operator==(const outcome&) const = default;
};

void append(std::string& to, const fields& from) {
  for (const auto f : from) {
    to.append(f.name);
    to += ':';
    to.append(f.value);
    to += '\n';
  }
}

std::string describe(const fields& headers, const fields& trailers,
                     const std::vector<interim_response>& interim) {
  std::string text;
  for (const auto& i : interim) {
    text += std::to_string(i.status) + '\n';
    append(text, i.headers);
  }
  text += "--\n";
  append(text, headers);
  text += "--\n";
  append(text, trailers);
  return text;
}

// How a reading goes: `cuts` are where pieces end (in order), `reuse` moves each head
// out into one response's storage kept for the whole connection, `direct` reads body
// bytes of a known length past the parser.
struct reading {
  std::vector<std::size_t> cuts;
  bool reuse = false;
  bool direct = false;
};

constexpr std::size_t max_responses = 16;

// The responses `wire` holds, read as `how` says; bit i % 8 of `heads` says whether
// request i was a HEAD.
std::vector<outcome> read_connection(std::string_view wire, std::uint8_t heads,
                                     const reading& how) {
  parser_limits limits;
  limits.max_line = 512;  // small limits, so that the fuzzer reaches them
  limits.max_header_bytes = 2048;
  limits.max_header_count = 16;  // no body limit: fuzz_response_parser reaches it
  response_parser parser(limits);
  std::string reason;
  fields headers;
  fields trailers;
  std::vector<interim_response> interim;

  std::vector<outcome> responses;
  std::string buffer;  // bytes arrived and not yet consumed
  std::size_t from = 0;
  std::size_t next_cut = 0;
  // Where the piece that arrives next ends.
  const auto piece_end = [&] {
    while (next_cut < how.cuts.size() && how.cuts[next_cut] <= from) ++next_cut;
    return next_cut < how.cuts.size() ? std::min(how.cuts[next_cut], wire.size()) : wire.size();
  };

  for (std::size_t i = 0; i < max_responses; ++i) {
    parser.start(((heads >> (i % 8)) & 1) != 0);
    outcome out;
    const auto on_body = [&](std::string_view b) { out.body.append(b); };
    while (!parser.done() && !parser.error()) {
      if (!buffer.empty()) {
        const std::size_t n = parser.parse(buffer, on_body);
        if (n > buffer.size()) std::abort();
        buffer.erase(0, n);
        if (n != 0) continue;
      }
      if (from == wire.size()) {
        parser.finish_at_eof();
        break;
      }
      const std::size_t to = piece_end();
      if (how.direct && buffer.empty() && parser.direct_body_room() != 0) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(to - from, parser.direct_body_room()));
        parser.body_read_directly(n);
        if (!parser.error()) out.body.append(wire.substr(from, n));
        from += n;
        continue;
      }
      buffer.append(wire.substr(from, to - from));
      from = to;
    }
    out.error = parser.error();
    out.status = parser.status();
    out.version = parser.version();
    out.keep_alive = parser.keep_alive();
    if (parser.done() && how.reuse) {
      parser.take_head(reason, headers, trailers, interim);
      out.reason = reason;
      out.head = describe(headers, trailers, interim);
    } else if (parser.done()) {
      out.reason = parser.reason();
      out.head = describe(parser.headers(), parser.trailers(), parser.interim());
    }
    responses.push_back(std::move(out));
    const bool more = parser.done() && parser.keep_alive();
    if (!more || (buffer.empty() && from == wire.size())) break;
  }
  return responses;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first byte says which requests were HEAD, the second where pieces are cut.
  const std::uint8_t heads = data[0];
  const std::size_t step = data[1] % 16 + 1;
  const std::string_view wire(reinterpret_cast<const char*>(data + 2), size - 2);

  reading whole;
  reading pieces;
  pieces.reuse = true;
  pieces.direct = true;
  for (std::size_t at = step; at < wire.size(); at += step + at % 7) pieces.cuts.push_back(at);
  reading bytewise;
  bytewise.reuse = true;
  for (std::size_t at = 1; at < wire.size(); ++at) bytewise.cuts.push_back(at);

  const auto expected = read_connection(wire, heads, whole);
  if (read_connection(wire, heads, pieces) != expected) std::abort();
  if (read_connection(wire, heads, bytewise) != expected) std::abort();
  return 0;
}
