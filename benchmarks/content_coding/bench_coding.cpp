// A 1 MiB gzip body decoded COUNT times, by content_decoder ("opensock") or by a plain
// zlib inflate loop ("zlib", the floor) over the same bytes, each output checked. Two
// scenarios: "whole", the body given at once and decoded into one preallocated buffer;
// "pieces", the body given 16 KiB at a time, as a connection reads it, and decoded into a
// 16 KiB buffer that is reused, as a streaming sink does.
//
//   bench_coding opensock|zlib whole|pieces COUNT
#include <opensock/http/content_coding.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t body_size = 1 << 20;
constexpr std::size_t piece = 16 * 1024;

// Text-like lines with numbers from a fixed generator: compresses about as a JSON or HTML
// body does.
std::string make_body() {
  std::string s;
  std::uint32_t x = 12345;
  while (s.size() < body_size) {
    x = x * 1103515245u + 12345u;
    s += "{\"id\": " + std::to_string(x % 100000) + ", \"name\": \"item-" +
         std::to_string((x >> 8) % 977) + "\", \"price\": " + std::to_string((x >> 4) % 9999) +
         "}\n";
  }
  s.resize(body_size);
  return s;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Writes into `out`: all of it at once, or the same 16 KiB over and over (`wrap`). With
// `expected`, checks each piece against it as it comes (the first body only, so that the
// check is not counted in the cost of a body).
struct buffer_target {
  std::span<char> room() { return wrap ? out.first(piece) : out.subspan(used); }
  bool commit(std::size_t n) {
    if (wrap && expected != nullptr && std::memcmp(out.data(), expected + used, n) != 0) bad = true;
    used += n;
    return true;
  }
  std::span<char> out;
  bool wrap = false;
  const char* expected = nullptr;
  std::size_t used = 0;
  bool bad = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_coding opensock|zlib whole|pieces COUNT\n");
    return 2;
  }
  const std::string_view who = argv[1], scenario = argv[2];
  const long count = std::atol(argv[3]);
  const bool pieces = scenario == "pieces";
  const std::string body = make_body();
  const std::string coded = gzip(body);
  std::vector<char> out(body_size + 1);

  opensock::http::content_decoder decoder;
  z_stream z{};
  if (who == "zlib" && inflateInit2(&z, 15 + 32) != Z_OK) return 1;
  for (long i = 0; i < count; ++i) {
    const bool check = i == 0;
    std::size_t produced = 0;
    bool bad = false;
    if (who == "opensock") {
      buffer_target target;
      target.out = out;
      target.wrap = pieces;
      target.expected = check ? body.data() : nullptr;
      if (decoder.start("gzip")) return 1;
      const std::string_view input = coded;
      const std::size_t step = pieces ? piece : input.size();
      for (std::size_t at = 0; at < input.size(); at += step)
        if (decoder.decode(input.substr(at, step), target)) return 1;
      if (decoder.finish()) return 1;
      produced = decoder.decoded_bytes();
      bad = target.bad;
    } else {
      inflateReset(&z);
      const std::size_t step = pieces ? piece : coded.size();
      int rc = Z_OK;
      for (std::size_t at = 0; at < coded.size(); at += step) {
        const std::size_t n = std::min(step, coded.size() - at);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(coded.data() + at));
        z.avail_in = static_cast<uInt>(n);
        do {
          char* room = pieces ? out.data() : out.data() + produced;
          const std::size_t size = pieces ? piece : out.size() - produced;
          z.next_out = reinterpret_cast<Bytef*>(room);
          z.avail_out = static_cast<uInt>(size);
          rc = inflate(&z, Z_NO_FLUSH);
          if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return 1;
          const std::size_t made = size - z.avail_out;
          if (pieces && check && std::memcmp(room, body.data() + produced, made) != 0) bad = true;
          produced += made;
        } while (z.avail_out == 0);
      }
      if (rc != Z_STREAM_END) return 1;
    }
    if (check && !pieces && std::memcmp(out.data(), body.data(), body_size) != 0) bad = true;
    if (produced != body_size || bad) {
      std::fprintf(stderr, "bench_coding: %s decoded the wrong bytes\n", argv[1]);
      return 1;
    }
  }
  if (who == "zlib") inflateEnd(&z);
  std::printf("decoder=%s scenario=%s bodies=%ld coded=%zu decoded=%zu\n", argv[1], argv[2], count,
              coded.size(), body_size);
  return 0;
}
