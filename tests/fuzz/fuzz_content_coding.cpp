// libFuzzer target for content_decoder: the first byte picks the codings (its low four
// bits) and the room the target offers (its high four), the rest is the coded body. The
// body is decoded whole into a large room, then again split at a point taken from the
// input and given in pieces of 1 to 13 bytes into the small room: both must end with the
// same error, and without one with the same bytes; the decoded size stays within its
// limit, and the target never gets more than the room it offered.
#include <opensock/http/content_coding.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Stacks of codings included: the last listed is decoded first.
constexpr std::string_view codings[] = {
    "gzip",
    "deflate",
    "br",
    "zstd",
    "br, gzip",
    "gzip, gzip",
    "deflate, zstd",
    "identity",
    "x-gzip",
    "zstd, br",
    "gzip, deflate",
    "br, br",
    "deflate, deflate",
    "zstd, zstd",
    "gzip, zstd, br",
    "deflate, gzip, br, zstd",
};

constexpr std::uint64_t max_decoded = 4 << 20;

struct target {
  std::span<char> room() { return buffer; }
  bool commit(std::size_t n) {
    if (n == 0 || n > buffer.size()) std::abort();
    out.append(buffer.data(), n);
    return true;
  }
  std::vector<char> buffer;
  std::string out;
};

struct outcome {
  std::error_code error;
  std::string out;
};

outcome decode(std::string_view name, std::string_view body, std::size_t room, std::size_t cut,
               bool pieces) {
  opensock::http::decoding_limits limits;
  limits.max_ratio = 0;  // the ratio's bound depends on how the body was split
  limits.max_decoded_size = max_decoded;
  opensock::http::content_decoder decoder;
  outcome result;
  if (auto ec = decoder.start(name, limits)) {
    if (ec != opensock::error::unknown_content_coding) std::abort();
    result.error = ec;
    return result;
  }
  target t;
  t.buffer.resize(room);
  if (!pieces) {
    result.error = decoder.decode(body, t);
  } else {
    result.error = decoder.decode(body.substr(0, cut), t);
    std::size_t at = cut, piece = 1;
    while (!result.error && at < body.size()) {
      result.error = decoder.decode(body.substr(at, piece), t);
      at += piece;
      piece = piece % 13 + 1;
    }
  }
  if (!result.error) result.error = decoder.finish();
  if (decoder.decoded_bytes() != t.out.size() || t.out.size() > max_decoded) std::abort();
  if (decoder.encoded_bytes() > body.size()) std::abort();
  result.out = std::move(t.out);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view name = codings[data[0] & 15];
  constexpr std::size_t rooms[] = {1,    2,    3,     7,     16, 100, 255, 256,
                                   1000, 4096, 16384, 65536, 5,  11,  64,  333};
  const std::size_t room = rooms[data[0] >> 4];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut =
      body.empty() ? 0 : (static_cast<unsigned char>(body.back()) * 131u) % (body.size() + 1);
  const outcome whole = decode(name, body, 1 << 16, 0, false);
  const outcome split = decode(name, body, room, cut, true);
  if (whole.error != split.error) std::abort();
  if (!whole.error && whole.out != split.out) std::abort();
  return 0;
}
