// content_decoder against bodies made by the real tools (gzip, brotli and zstd run on files
// in a temporary directory) and by zlib's own deflate: round trips, every split, stacks of
// codings, corrupt and truncated bodies, decompression bombs and reuse of one decoder.
#include <opensock/http/content_coding.hpp>
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/nginx.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#if OPENSOCK_HAS_ZLIB
#include <zlib.h>
#endif

using opensock::error;
using opensock::http::content_decoder;
using opensock::http::decoding_limits;

namespace {

// A directory of its own under the system's temporary directory, removed at exit.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "opensock-coding-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

scratch_dir& scratch() {
  static scratch_dir dir;
  return dir;
}

void write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `data` through a shell command that reads the file "in" and writes the file "out".
std::string run_tool(const std::string& command, std::string_view data) {
  const auto in = scratch().path() / "in";
  const auto out = scratch().path() / "out";
  write_file(in, data);
  std::filesystem::remove(out);
  const std::string line = "cd '" + scratch().path().string() + "' && " + command;
  if (std::system(line.c_str()) != 0) throw std::runtime_error("failed: " + command);
  return read_file(out);
}

std::string gzip(std::string_view data) {
  return run_tool("gzip -c -n < in > out", data);
}
std::string brotli(std::string_view data) {
  return run_tool("brotli -c < in > out", data);
}
// From standard input: the frame does not say the content size.
std::string zstd(std::string_view data, const std::string& options = "") {
  return run_tool("zstd -q -c " + options + " < in > out", data);
}

#if OPENSOCK_HAS_ZLIB
// zlib's own deflate: `window_bits` 15 for the zlib-wrapped form, -15 for raw deflate.
std::string zlib_deflate(std::string_view data, int window_bits, int level = 6) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// `zeros` zero bytes gzipped at level 9 (a bomb), made without holding them all.
std::string gzip_zeros(std::size_t zeros) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  const std::string block(1 << 20, '\0');
  std::string out;
  char buffer[1 << 14];
  std::size_t left = zeros;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const std::size_t n = std::min(left, block.size());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    z.avail_in = static_cast<uInt>(n);
    left -= n;
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof buffer;
      rc = deflate(&z, flush);
      out.append(buffer, sizeof buffer - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}
#endif

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(random() & 0xff);
  return s;
}

std::string repetitive_bytes(std::size_t n) {
  const std::string_view line = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
  std::string s;
  s.reserve(n);
  while (s.size() < n) s.append(line.substr(0, std::min(line.size(), n - s.size())));
  return s;
}

const std::string text =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it "
    "was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness.\n";

std::vector<std::string> sample_inputs() {
  return {"", "x", text, random_bytes(1 << 20, 7), repetitive_bytes(1 << 20)};
}

// Appends what is decoded to a string, through a room of `room_size` bytes at a time; with
// `refuse_after`, commit() answers false once that many commits were made.
struct string_target {
  explicit string_target(std::size_t room_size = 4096) : buffer(room_size) {}
  std::span<char> room() { return buffer; }
  bool commit(std::size_t n) {
    REQUIRE(n <= buffer.size());
    REQUIRE(n > 0);
    out.append(buffer.data(), n);
    ++commits;
    return commits != refuse_after;
  }
  std::vector<char> buffer;
  std::string out;
  std::size_t commits = 0;
  std::size_t refuse_after = 0;
};

// Counts decoded bytes and keeps none: for bodies too large to hold.
struct counting_target {
  std::span<char> room() { return buffer; }
  bool commit(std::size_t n) {
    bytes += n;
    return true;
  }
  std::vector<char> buffer = std::vector<char>(64 * 1024);
  std::uint64_t bytes = 0;
};

struct decoded {
  std::error_code decode_error;
  std::error_code finish_error;
  std::string out;
};

// Decodes `body` given in pieces that end at `cuts` (ascending), then finishes.
decoded decode_in_pieces(std::string_view codings, std::string_view body,
                         const std::vector<std::size_t>& cuts, std::size_t room_size = 4096) {
  content_decoder decoder;
  decoded result;
  REQUIRE_FALSE(decoder.start(codings));
  string_target target(room_size);
  std::size_t from = 0;
  auto give = [&](std::size_t to) {
    if (result.decode_error) return;
    result.decode_error = decoder.decode(body.substr(from, to - from), target);
    from = to;
  };
  for (std::size_t cut : cuts) give(cut);
  give(body.size());
  if (!result.decode_error) result.finish_error = decoder.finish();
  result.out = std::move(target.out);
  return result;
}

decoded decode_whole(std::string_view codings, std::string_view body,
                     std::size_t room_size = 4096) {
  return decode_in_pieces(codings, body, {}, room_size);
}

// Every split of `body` into two pieces, then one byte at a time: each gives `expected`.
void check_every_split(std::string_view codings, std::string_view body, std::string_view expected) {
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    INFO("split at " << cut << " of " << body.size());
    const auto r = decode_in_pieces(codings, body, {cut});
    REQUIRE_FALSE(r.decode_error);
    REQUIRE_FALSE(r.finish_error);
    REQUIRE(r.out == expected);
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  const auto r = decode_in_pieces(codings, body, every);
  REQUIRE_FALSE(r.decode_error);
  REQUIRE_FALSE(r.finish_error);
  REQUIRE(r.out == expected);
}

void check_round_trip(std::string_view codings, std::string_view body, std::string_view expected) {
  INFO(codings << ": " << expected.size() << " bytes coded as " << body.size());
  const auto r = decode_whole(codings, body);
  REQUIRE_FALSE(r.decode_error);
  REQUIRE_FALSE(r.finish_error);
  REQUIRE(r.out.size() == expected.size());
  REQUIRE(r.out == expected);
}

// A coded form of `data` for each coding this build decodes.
struct coded_sample {
  std::string codings;
  std::string body;
};

std::vector<coded_sample> coded_forms(std::string_view data) {
  std::vector<coded_sample> forms;
#if OPENSOCK_HAS_ZLIB
  forms.push_back({"gzip", gzip(data)});
  forms.push_back({"deflate", zlib_deflate(data, 15)});
  forms.push_back({"deflate", zlib_deflate(data, -15)});
#endif
#if OPENSOCK_HAS_BROTLI
  forms.push_back({"br", brotli(data)});
#endif
#if OPENSOCK_HAS_ZSTD
  forms.push_back({"zstd", zstd(data)});
#endif
  return forms;
}

}  // namespace

TEST_CASE("accept_encoding lists exactly the codings built in") {
  std::string expected;
  auto add = [&](std::string_view name) {
    if (!expected.empty()) expected += ", ";
    expected += name;
  };
  if (OPENSOCK_HAS_ZLIB) {
    add("deflate");
    add("gzip");
  }
  if (OPENSOCK_HAS_BROTLI) add("br");
  if (OPENSOCK_HAS_ZSTD) add("zstd");
  CHECK(opensock::http::accept_encoding() == expected);
  CHECK(opensock::http::decodes("gzip") == bool(OPENSOCK_HAS_ZLIB));
  CHECK(opensock::http::decodes("X-GZIP") == bool(OPENSOCK_HAS_ZLIB));
  CHECK(opensock::http::decodes("Deflate") == bool(OPENSOCK_HAS_ZLIB));
  CHECK(opensock::http::decodes("BR") == bool(OPENSOCK_HAS_BROTLI));
  CHECK(opensock::http::decodes("zStd") == bool(OPENSOCK_HAS_ZSTD));
  CHECK(opensock::http::decodes("identity"));
  CHECK(opensock::http::decodes("IDENTITY"));
  CHECK_FALSE(opensock::http::decodes("compress"));
  CHECK_FALSE(opensock::http::decodes("gzip2"));
  CHECK_FALSE(opensock::http::decodes(""));
  // The build this suite runs in has all three (scripts/bootstrap installs them).
  CHECK(opensock::http::accept_encoding() == "deflate, gzip, br, zstd");
}

TEST_CASE("each coding decodes what the real tools made") {
  for (const auto& data : sample_inputs())
    for (const auto& form : coded_forms(data)) check_round_trip(form.codings, form.body, data);
}

TEST_CASE("each coding decodes every split of a small body") {
  for (const auto& form : coded_forms(text)) {
    INFO(form.codings);
    check_every_split(form.codings, form.body, text);
  }
}

TEST_CASE("a target with room for one byte at a time gets every byte") {
  const std::string data = text + repetitive_bytes(5000);
  for (const auto& form : coded_forms(data)) {
    INFO(form.codings);
    const auto r = decode_whole(form.codings, form.body, 1);
    REQUIRE_FALSE(r.decode_error);
    REQUIRE_FALSE(r.finish_error);
    REQUIRE(r.out == data);
  }
}

#if OPENSOCK_HAS_ZLIB && OPENSOCK_HAS_BROTLI && OPENSOCK_HAS_ZSTD
TEST_CASE("stacked codings decode from the last listed") {
  const std::string data = text + random_bytes(3000, 3) + repetitive_bytes(200000);
  // Content-Encoding lists the codings in the order they were applied.
  check_round_trip("br, gzip", gzip(brotli(data)), data);
  check_round_trip("gzip, gzip", gzip(gzip(data)), data);
  check_round_trip("deflate, zstd", zstd(zlib_deflate(data, 15)), data);
  check_round_trip("zstd,br , deflate", zlib_deflate(brotli(zstd(data)), -15), data);
  check_round_trip("gzip, identity, gzip", gzip(gzip(data)), data);
  // The wrong order does not decode.
  CHECK(decode_whole("gzip, br", gzip(brotli(data))).decode_error == error::corrupt_content_coding);
  // Small: every split, and one byte of room at a time.
  const std::string small = gzip(brotli(text));
  check_every_split("br, gzip", small, text);
  const auto one = decode_whole("br, gzip", small, 1);
  CHECK_FALSE(one.decode_error);
  CHECK(one.out == text);
  check_every_split("deflate, zstd", zstd(zlib_deflate(text, -15)), text);
}
#endif

#if OPENSOCK_HAS_ZLIB
TEST_CASE("names are case-insensitive x-gzip is gzip and identity is skipped") {
  const std::string body = gzip(text);
  check_round_trip("x-gzip", body, text);
  check_round_trip("GZIP", body, text);
  check_round_trip("  X-Gzip\t", body, text);
  check_round_trip("identity, gzip", body, text);
  check_round_trip("gzip, Identity, , none", body, text);
  check_round_trip("DEFLATE", zlib_deflate(text, 15), text);

  content_decoder decoder;
  CHECK_FALSE(decoder.active());
  REQUIRE_FALSE(decoder.start("identity"));
  CHECK_FALSE(decoder.active());
  string_target target;
  CHECK_FALSE(decoder.decode(body, target));
  CHECK(target.out == body);  // passed through as it is
  CHECK_FALSE(decoder.finish());
  REQUIRE_FALSE(decoder.start("gzip"));
  CHECK(decoder.active());
}

TEST_CASE("concatenated gzip members decode as one body") {
  const std::string a = text, b = repetitive_bytes(70000), c = "";
  const std::string body = gzip(a) + gzip(b) + gzip(c) + gzip("tail");
  check_round_trip("gzip", body, a + b + "tail");
  const std::string small = gzip("first ") + gzip("second");
  check_every_split("gzip", small, "first second");
  // Bytes after a member that are no member (even zeros) are not let through.
  CHECK(decode_whole("gzip", gzip(text) + "garbage!").decode_error ==
        error::corrupt_content_coding);
  CHECK(decode_whole("gzip", gzip(text) + std::string(8, '\0')).decode_error ==
        error::corrupt_content_coding);
  // A second member cut short.
  const auto cut = decode_whole("gzip", gzip(text) + gzip(text).substr(0, 15));
  CHECK_FALSE(cut.decode_error);
  CHECK(cut.finish_error == error::corrupt_content_coding);
}

TEST_CASE("deflate takes the zlib-wrapped form and raw deflate as curl does") {
  const std::string data = text + random_bytes(100, 9);
  check_round_trip("deflate", zlib_deflate(data, 15), data);
  check_round_trip("deflate", zlib_deflate(data, -15), data);
  check_every_split("deflate", zlib_deflate(text, -15), text);
  check_every_split("deflate", zlib_deflate(text, 15), text);
  check_every_split("deflate", zlib_deflate("a", -15), "a");
  // curl lets up to four bytes follow a raw stream (a checksum some servers add), no more.
  const std::string raw = zlib_deflate(data, -15);
  check_round_trip("deflate", raw + "1234", data);
  CHECK(decode_whole("deflate", raw + "12345").decode_error == error::corrupt_content_coding);
  // Nothing may follow a zlib-wrapped stream.
  CHECK(decode_whole("deflate", zlib_deflate(data, 15) + "1").decode_error ==
        error::corrupt_content_coding);
  // A gzip body is not deflate.
  CHECK(decode_whole("deflate", gzip(data)).decode_error == error::corrupt_content_coding);
}
#endif

TEST_CASE("an unknown coding and more than five are refused") {
  content_decoder decoder;
  CHECK(decoder.start("compress") == error::unknown_content_coding);
  CHECK_FALSE(decoder.active());
  string_target target;
  CHECK(decoder.decode("abc", target) == error::unknown_content_coding);
  CHECK(decoder.start("gzip, foo") == error::unknown_content_coding);
  CHECK(decoder.start("gzip;q=1") == error::unknown_content_coding);
  CHECK(decoder.start("identity, identity, identity, identity, identity, identity") ==
        error::too_many_content_codings);
  CHECK(decoder.start("gzip,gzip,gzip,gzip,gzip,gzip") == error::too_many_content_codings);
  CHECK(decoder.start("identity, identity, identity, identity, identity") == std::error_code());
  CHECK(opensock::curl_code(make_error_code(error::too_many_content_codings)) == 61);
  CHECK(opensock::curl_code(make_error_code(error::unknown_content_coding)) == 61);
#if !OPENSOCK_HAS_BROTLI
  CHECK(decoder.start("br") == error::unknown_content_coding);
#endif
#if !OPENSOCK_HAS_ZSTD
  CHECK(decoder.start("zstd") == error::unknown_content_coding);
#endif
#if OPENSOCK_HAS_ZLIB
  // Five stacked codings are within the limit.
  const std::string body = gzip(gzip(gzip(gzip(gzip(text)))));
  check_round_trip("gzip, gzip, gzip, gzip, gzip", body, text);
#endif
}

TEST_CASE("corrupt and truncated bodies fail and an empty body does not") {
  const std::string data = text + random_bytes(2000, 5);
  for (const auto& form : coded_forms(data)) {
    INFO(form.codings << " (" << form.body.size() << " bytes)");
    // Cut short: each piece decodes, the end of the body is the error.
    for (std::size_t keep : {std::size_t(1), form.body.size() / 2, form.body.size() - 1}) {
      const auto r = decode_whole(form.codings, form.body.substr(0, keep));
      const std::error_code ec = r.decode_error ? r.decode_error : r.finish_error;
      CHECK(ec == error::corrupt_content_coding);
    }
    // Not coded at all.
    CHECK(decode_whole(form.codings, repetitive_bytes(3000)).decode_error ==
          error::corrupt_content_coding);
    // No byte at all.
    const auto empty = decode_whole(form.codings, "");
    CHECK_FALSE(empty.decode_error);
    CHECK_FALSE(empty.finish_error);
    CHECK(empty.out.empty());
  }
#if OPENSOCK_HAS_ZLIB
  // The CRC-32 in the gzip trailer, and the length after it.
  for (std::size_t from_end : {std::size_t(8), std::size_t(1)}) {
    std::string body = gzip(data);
    body[body.size() - from_end] = static_cast<char>(body[body.size() - from_end] ^ 0x01);
    const auto r = decode_whole("gzip", body);
    CHECK(r.decode_error == error::corrupt_content_coding);
    CHECK(opensock::curl_code(r.decode_error) == 61);
    // What came before the trailer was delivered.
    CHECK(r.out == data);
  }
  // The Adler-32 of the zlib-wrapped form.
  std::string wrapped = zlib_deflate(data, 15);
  wrapped.back() = static_cast<char>(wrapped.back() ^ 0x40);
  CHECK(decode_whole("deflate", wrapped).decode_error == error::corrupt_content_coding);
#endif
#if OPENSOCK_HAS_ZSTD
  // A frame whose window is over 2^27 bytes.
  const std::string wide = zstd(random_bytes(4096, 1), "--long=28");
  CHECK(decode_whole("zstd", wide).decode_error == error::corrupt_content_coding);
  check_round_trip("zstd", zstd(random_bytes(4096, 1), "--long=27"), random_bytes(4096, 1));
  // Frames one after another.
  check_round_trip("zstd", zstd("one ") + zstd("two"), "one two");
  CHECK(decode_whole("zstd", zstd("one") + "x").decode_error == error::corrupt_content_coding);
  CHECK(decode_whole("zstd", zstd("one") + zstd("two").substr(0, 3)).finish_error ==
        error::corrupt_content_coding);
  // A skippable frame (magic 0x184D2A5A, three bytes of content) between two frames.
  const std::string skippable("\x5a\x2a\x4d\x18\x03\x00\x00\x00"
                              "abc",
                              11);
  check_every_split("zstd", zstd("one ") + skippable + zstd("two"), "one two");
  // Two frames in the format of libzstd 0.6 (magic 0xFD2FB526): `zstd -d` still reads it,
  // but it is not RFC 8878's, and is refused however the body is split.
  const std::string legacy("\x26\xb5\x2f\xfd\x04\xd5\xb8\x66\x26\xb5\x2f\xfd\x04\xd5\xb8\x01",
                           16);
  for (const std::string& body : {legacy, zstd("one") + legacy}) {
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      INFO("split at " << cut);
      CHECK(decode_in_pieces("zstd", body, {cut}).decode_error == error::corrupt_content_coding);
    }
  }
#endif
#if OPENSOCK_HAS_BROTLI
  CHECK(decode_whole("br", brotli("one") + "x").decode_error == error::corrupt_content_coding);
#endif
}

TEST_CASE("after an error every call returns it") {
  content_decoder decoder;
  if (!opensock::http::decodes("gzip")) return;
  REQUIRE_FALSE(decoder.start("gzip"));
  string_target target;
  CHECK(decoder.decode("not gzip at all", target) == error::corrupt_content_coding);
  CHECK(decoder.decode("more", target) == error::corrupt_content_coding);
  CHECK(decoder.finish() == error::corrupt_content_coding);
}

#if OPENSOCK_HAS_ZLIB
TEST_CASE("a bomb is stopped by the ratio limit before it is decoded") {
  const std::uint64_t zeros = 64ull << 20;
  const std::string bomb = gzip_zeros(zeros);
  REQUIRE(bomb.size() * 1000 < zeros);
  content_decoder decoder;
  REQUIRE_FALSE(decoder.start("gzip"));
  counting_target target;
  std::error_code ec;
  // Given as a connection reads it, 16 KiB at a time.
  for (std::size_t at = 0; at < bomb.size() && !ec; at += 16384)
    ec = decoder.decode(std::string_view(bomb).substr(at, 16384), target);
  CHECK(ec == error::content_coding_ratio_exceeded);
  CHECK(opensock::curl_code(ec) == 61);
  CHECK(decoder.decoded_bytes() == target.bytes);
  CHECK(decoder.decoded_bytes() <= 1000 * decoder.encoded_bytes());
  CHECK(decoder.decoded_bytes() > 1024 * 1024);
  CHECK(decoder.decoded_bytes() < zeros / 2);
  CHECK(decoder.finish() == error::content_coding_ratio_exceeded);

  // Within its allowance a body may expand as much as it likes.
  decoding_limits generous;
  generous.ratio_allowance = zeros;
  REQUIRE_FALSE(decoder.start("gzip", generous));
  counting_target all;
  CHECK_FALSE(decoder.decode(bomb, all));
  CHECK_FALSE(decoder.finish());
  CHECK(all.bytes == zeros);
}

TEST_CASE("a bomb is stopped by the size limit with the ratio off") {
  const std::uint64_t zeros = 64ull << 20;
  const std::string bomb = gzip_zeros(zeros);
  decoding_limits limits;
  limits.max_ratio = 0;
  limits.max_decoded_size = 5'000'000;
  content_decoder decoder;
  REQUIRE_FALSE(decoder.start("gzip", limits));
  counting_target target;
  CHECK(decoder.decode(bomb, target) == error::decoded_body_too_large);
  CHECK(opensock::curl_code(make_error_code(error::decoded_body_too_large)) == 63);
  // Exactly the limit reached the target.
  CHECK(decoder.decoded_bytes() == 5'000'000);
  CHECK(target.bytes == 5'000'000);
  // A body of exactly the limit is not over it.
  limits.max_decoded_size = zeros;
  REQUIRE_FALSE(decoder.start("gzip", limits));
  counting_target all;
  CHECK_FALSE(decoder.decode(bomb, all));
  CHECK_FALSE(decoder.finish());
  CHECK(all.bytes == zeros);
  // The limit holds for a body without a coding too.
  limits.max_decoded_size = 10;
  REQUIRE_FALSE(decoder.start("identity", limits));
  string_target plain;
  CHECK(decoder.decode(text, plain) == error::decoded_body_too_large);
  CHECK(plain.out == text.substr(0, 10));
}

TEST_CASE("a target that refuses stops decoding") {
  const std::string data = repetitive_bytes(100000);
  const std::string body = gzip(data);
  content_decoder decoder;
  REQUIRE_FALSE(decoder.start("gzip"));
  string_target target(1000);
  target.refuse_after = 3;
  CHECK_FALSE(decoder.decode(body, target));
  CHECK(decoder.stopped());
  CHECK(target.commits == 3);
  CHECK(decoder.decoded_bytes() == 3000);
  CHECK(target.out == data.substr(0, 3000));
  // Nothing more is decoded.
  CHECK_FALSE(decoder.decode(body, target));
  CHECK(target.commits == 3);
  CHECK_FALSE(decoder.finish());
  // In a stack of codings too.
  REQUIRE_FALSE(decoder.start("gzip, gzip"));
  CHECK_FALSE(decoder.stopped());
  string_target second(1000);
  second.refuse_after = 1;
  CHECK_FALSE(decoder.decode(gzip(body), second));
  CHECK(decoder.stopped());
  CHECK(second.out == data.substr(0, 1000));
}

TEST_CASE("a decoder is reused after a finished and after a failed body") {
  content_decoder decoder;
  const std::string one = text, two = repetitive_bytes(50000);
  auto decode_body = [&](std::string_view codings, std::string_view body) {
    decoded r;
    REQUIRE_FALSE(decoder.start(codings));
    string_target target;
    r.decode_error = decoder.decode(body, target);
    if (!r.decode_error) r.finish_error = decoder.finish();
    r.out = target.out;
    CHECK(decoder.encoded_bytes() == body.size());
    if (!r.decode_error) CHECK(decoder.decoded_bytes() == r.out.size());
    return r;
  };
  auto check_ok = [&](std::string_view codings, std::string_view body, std::string_view want) {
    const auto r = decode_body(codings, body);
    CHECK_FALSE(r.decode_error);
    CHECK_FALSE(r.finish_error);
    CHECK(r.out == want);
  };
  check_ok("gzip", gzip(one), one);
  check_ok("gzip", gzip(two), two);
  CHECK(decode_body("gzip", "broken body").decode_error == error::corrupt_content_coding);
  check_ok("gzip", gzip(one), one);
  // Cut short, then a whole one.
  CHECK(decode_body("deflate", zlib_deflate(two, 15).substr(0, 100)).finish_error ==
        error::corrupt_content_coding);
  check_ok("deflate", zlib_deflate(two, 15), two);
  check_ok("deflate", zlib_deflate(two, -15), two);
  check_ok("deflate", zlib_deflate(one, 15), one);
#if OPENSOCK_HAS_BROTLI && OPENSOCK_HAS_ZSTD
  CHECK(decode_body("br", brotli(two).substr(0, 30)).finish_error == error::corrupt_content_coding);
  check_ok("br", brotli(one), one);
  CHECK(decode_body("zstd", "\x28\xb5\x2f\xfd garbage").decode_error ==
        error::corrupt_content_coding);
  check_ok("zstd", zstd(two), two);
  CHECK(decode_body("zstd", zstd(two).substr(0, 40)).finish_error == error::corrupt_content_coding);
  check_ok("zstd", zstd(one), one);
  check_ok("br, gzip", gzip(brotli(two)), two);
  check_ok("gzip, br", brotli(gzip(one)), one);
  check_ok("zstd", zstd(two), two);
#endif
  // Moved, the decoder goes on working.
  content_decoder moved(std::move(decoder));
  REQUIRE_FALSE(moved.start("gzip"));
  string_target target;
  CHECK_FALSE(moved.decode(gzip(one), target));
  CHECK_FALSE(moved.finish());
  CHECK(target.out == one);
}
#endif

#if OPENSOCK_HAS_ZLIB
// The decoder in a session's response path (curl's --compressed and --tr-encoding),
// against nginx's gzip module and bodies coded by the real tools that nginx serves.

namespace session_decoding {

using opensock::test::make_request;
using opensock::test::scripted_http_server;
using opensock::test::request;

std::string nginx_url(const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(*opensock::test::nginx_port()) + path;
}

std::string nginx_file(const std::string& relative) {
  std::ifstream in(std::string(std::getenv("OPENSOCK_NGINX_DIR")) + "/www/" + relative,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

opensock::http::session_options decompressing() {
  opensock::http::session_options o;
  o.decompress = true;
  return o;
}

// `text` gzipped by zlib, as a server would send it.
std::string gzipped(std::string_view text) { return zlib_deflate(text, 31, 9); }

// `n` in hex, as a chunk's size is written.
std::string hex(std::size_t n) {
  char digits[16];
  return std::string(digits, std::to_chars(digits, digits + 16, n, 16).ptr);
}

std::string reply_with(std::string_view fields, std::string_view body) {
  return "HTTP/1.1 200 OK\r\n" + std::string(fields) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace session_decoding

TEST_CASE("a session decodes what nginx serves coded by gzip brotli and zstd") {
  using namespace session_decoding;
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  decompressing());
  const std::string text = nginx_file("coded/text");
  REQUIRE(text.size() > 100000);
  std::vector<std::string> codings{"gzip", "deflate", "gzip-br"};
  if (opensock::http::decodes("br")) codings.push_back("br");
  if (opensock::http::decodes("zstd")) codings.push_back("zstd");
  for (const auto& coding : codings) {
    CAPTURE(coding);
    auto [ec, r] = request(io, session, make_request("GET", nginx_url("/coded/" + coding + "/text")));
    REQUIRE(!ec);
    CHECK(r.status == 200);
    CHECK(r.body == text);
    // The head as received: Content-Length is the coded body's.
    CHECK(r.headers.get("content-length") ==
          std::to_string(nginx_file("coded/" + coding + "/text").size()));
    CHECK(r.headers.contains("content-encoding"));
  }
}

TEST_CASE("a session asks nginx's gzip module for gzip and decodes it into every place") {
  using namespace session_decoding;
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  decompressing());
  const std::string text = nginx_file("files/1MiB.txt");
  std::string head;
  opensock::http::transfer_hooks hooks;
  hooks.on_request_head = [&](std::string_view h) { head = h; };
  auto [ec, r] = request(io, session, make_request("GET", nginx_url("/gzip/1MiB.txt")), hooks);
  REQUIRE(!ec);
  CHECK(head.find("\r\nAccept-Encoding: " + std::string(opensock::http::accept_encoding()) +
                  "\r\n") != std::string::npos);
  CHECK(r.headers.get("content-encoding") == "gzip");
  CHECK(r.body == text);

  SECTION("a function sink") {
    std::string received;
    hooks.on_body = [&](std::string_view piece) { received += piece; };
    auto [ec2, r2] = request(io, session, make_request("GET", nginx_url("/gzip/1MiB.txt")), hooks);
    REQUIRE(!ec2);
    CHECK(r2.body.empty());
    CHECK(received == text);
    CHECK(r2.info.reused);  // the decoder is kept with the connection, and starts again
  }
  SECTION("a coroutine sink") {
    std::string received;
    hooks.on_body = [&](std::string_view piece) -> asio::awaitable<void> {
      received += piece;
      co_return;
    };
    auto [ec2, r2] = request(io, session, make_request("GET", nginx_url("/gzip/1MiB.txt")), hooks);
    REQUIRE(!ec2);
    CHECK(received == text);
  }
  SECTION("a sink that refuses a decoded piece stops the transfer") {
    hooks.on_body = [&](std::string_view) { return false; };
    auto [ec2, r2] = request(io, session, make_request("GET", nginx_url("/gzip/1MiB.txt")), hooks);
    CHECK(ec2 == opensock::error::write_error);
  }
}

TEST_CASE("without decompress a session neither asks for codings nor decodes them") {
  using namespace session_decoding;
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  std::string head;
  opensock::http::transfer_hooks hooks;
  hooks.on_request_head = [&](std::string_view h) { head = h; };
  auto [ec, r] = request(io, session, make_request("GET", nginx_url("/coded/gzip/text")), hooks);
  REQUIRE(!ec);
  CHECK(head.find("Accept-Encoding") == std::string::npos);
  CHECK(r.body == nginx_file("coded/gzip/text"));
}

TEST_CASE("a caller's Accept-Encoding is sent instead of the session's and is decoded") {
  using namespace session_decoding;
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  decompressing());
  std::string head;
  opensock::http::transfer_hooks hooks;
  hooks.on_request_head = [&](std::string_view h) { head = h; };
  auto req = make_request("GET", nginx_url("/gzip/hello.txt"));
  req.headers.add("Accept-Encoding", "gzip");
  auto [ec, r] = request(io, session, req, hooks);
  REQUIRE(!ec);
  CHECK(head.find("Accept-Encoding: gzip\r\n") != std::string::npos);
  CHECK(head.find("Accept-Encoding: deflate") == std::string::npos);
  CHECK(r.body == "hello, opensock\n");
}

TEST_CASE("decoding leaves HEAD 204 and 304 responses alone") {
  using namespace session_decoding;
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/head"] = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n";
  server.routes["/204"] = "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n";
  server.routes["/empty"] = reply_with("Content-Encoding: compress\r\n", "");
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  decompressing());
  auto [ec1, r1] = request(io, session, make_request("HEAD", server.url("/head")));
  CHECK(!ec1);
  CHECK(r1.body.empty());
  auto [ec2, r2] = request(io, session, make_request("GET", server.url("/204")));
  CHECK(!ec2);
  CHECK(r2.status == 204);
  // A coding opensock does not know, on an empty body: nothing to decode, no error (curl).
  auto [ec3, r3] = request(io, session, make_request("GET", server.url("/empty")));
  CHECK(!ec3);
}

TEST_CASE("a coded body that does not decode fails with curl's 61") {
  using namespace session_decoding;
  asio::io_context io;
  scripted_http_server server(io);
  const std::string coded = gzipped("a body that is cut short, or spoilt, on its way");
  server.routes["/garbage"] = reply_with("Content-Encoding: gzip\r\n", "not gzip at all");
  server.routes["/truncated"] =
      reply_with("Content-Encoding: gzip\r\n", coded.substr(0, coded.size() - 6));
  std::string spoilt = coded;
  spoilt[spoilt.size() - 6] ^= 1;  // the CRC-32 in the trailer
  server.routes["/bad-crc"] = reply_with("Content-Encoding: gzip\r\n", spoilt);
  server.routes["/unknown"] = reply_with("Content-Encoding: compress\r\n", coded);
  server.routes["/six"] =
      reply_with("Content-Encoding: identity, gzip, gzip, gzip, gzip, gzip, gzip\r\n", coded);
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  decompressing());
  const std::pair<const char*, opensock::error> cases[] = {
      {"/garbage", opensock::error::corrupt_content_coding},
      {"/truncated", opensock::error::corrupt_content_coding},
      {"/bad-crc", opensock::error::corrupt_content_coding},
      {"/unknown", opensock::error::unknown_content_coding},
      {"/six", opensock::error::too_many_content_codings},
  };
  for (const auto& [path, expected] : cases) {
    CAPTURE(path);
    auto [ec, r] = request(io, session, make_request("GET", server.url(path)));
    CHECK(ec == expected);
    CHECK(ec == opensock::condition::bad_content_encoding);
  }
  // The same bodies as sent, without decompress.
  opensock::http::session plain(io.get_executor());
  auto [ec, r] = request(io, plain, make_request("GET", server.url("/garbage")));
  CHECK(!ec);
  CHECK(r.body == "not gzip at all");
}

TEST_CASE("a decompression bomb is stopped by the session's decoding limits") {
  using namespace session_decoding;
  asio::io_context io;
  scripted_http_server server(io);
  const std::string bomb = gzipped(std::string(32 << 20, '\0'));
  REQUIRE(bomb.size() < 64 * 1024);
  server.routes["/bomb"] = reply_with("Content-Encoding: gzip\r\n", bomb);
  // One layer of deflate expands at most about 1030 times: past the default ratio only
  // when stacked.
  const std::string stacked = gzipped(bomb);
  REQUIRE(stacked.size() < 1024);
  server.routes["/stacked"] = reply_with("Content-Encoding: gzip, gzip\r\n", stacked);
  auto options = decompressing();
  SECTION("by the default ratio") {
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                    options);
    auto [ec, r] = request(io, session, make_request("GET", server.url("/stacked")));
    CHECK(ec == opensock::error::content_coding_ratio_exceeded);
    CHECK(ec == opensock::condition::bad_content_encoding);
    CHECK(r.body.size() <= options.decoding.ratio_allowance);
  }
  SECTION("by a lower ratio") {
    options.decoding.max_ratio = 100;
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                    options);
    auto [ec, r] = request(io, session, make_request("GET", server.url("/bomb")));
    CHECK(ec == opensock::error::content_coding_ratio_exceeded);
    CHECK(r.body.size() <= 100 * bomb.size());
  }
  SECTION("by its size") {
    options.decoding.max_ratio = 0;
    options.decoding.max_decoded_size = 1 << 20;
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                    options);
    auto [ec, r] = request(io, session, make_request("GET", server.url("/bomb")));
    CHECK(ec == opensock::error::decoded_body_too_large);
    CHECK(ec == opensock::condition::filesize_exceeded);
  }
  SECTION("not at all without limits") {
    options.decoding.max_ratio = 0;
    opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                    options);
    auto [ec, r] = request(io, session, make_request("GET", server.url("/bomb")));
    CHECK(!ec);
    CHECK(r.body.size() == (32u << 20));
  }
}

TEST_CASE("a transfer coding is asked for with TE and decoded under chunked") {
  using namespace session_decoding;
  asio::io_context io;
  scripted_http_server server(io);
  const std::string text = "a body coded for its transfer, then chunked\n";
  const std::string coded = gzipped(text);
  const std::string split = coded.substr(0, 10);
  const std::string rest = coded.substr(10);
  server.routes["/te"] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
                         hex(split.size()) + "\r\n" + split + "\r\n" + hex(rest.size()) +
                         "\r\n" + rest + "\r\n0\r\n\r\n";
  opensock::http::session_options options;
  options.decode_transfer_codings = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory(),
                                  options);
  auto [ec, r] = request(io, session, make_request("GET", server.url("/te")));
  REQUIRE(!ec);
  CHECK(r.body == text);
  REQUIRE(server.heads.size() == 1);
  CHECK(server.heads[0].find("\r\nTE: gzip\r\nConnection: TE\r\n") != std::string::npos);
  CHECK(server.heads[0].find("Accept-Encoding") == std::string::npos);
  // The caller's first Connection field is merged with TE where curl writes it; a second
  // stays where the caller put it.
  auto own = make_request("GET", server.url("/te"));
  own.headers.add("Connection", "this");
  own.headers.add("X-Between", "1");
  own.headers.add("Connection", "that");
  REQUIRE(!request(io, session, own).first);
  auto empty = make_request("GET", server.url("/te"));
  empty.headers.add("Connection", "");
  REQUIRE(!request(io, session, empty).first);
  REQUIRE(server.heads.size() == 3);
  CHECK(server.heads[1].find("\r\nTE: gzip\r\nConnection: this, TE\r\nX-Between: 1\r\n"
                             "Connection: that\r\n\r\n") != std::string::npos);
  CHECK(server.heads[2].find("\r\nTE: gzip\r\nConnection: TE\r\n\r\n") != std::string::npos);
  // Without it, the response fails rather than hand the coded bytes over as the body.
  opensock::http::session plain(io.get_executor());
  auto [ec2, r2] = request(io, plain, make_request("GET", server.url("/te")));
  CHECK(ec2 == opensock::error::transfer_coding_not_decoded);
  CHECK(opensock::curl_code(ec2) == 61);
}

TEST_CASE("a transfer coding over a content coding: the transfer coding is decoded first") {
  using namespace session_decoding;
  asio::io_context io;
  scripted_http_server server(io);
  const std::string text = "coded for its content, then for its transfer\n";
  const std::string content_coded = zlib_deflate(text, 15, 9);  // deflate, zlib-wrapped
  const std::string coded = gzipped(content_coded);
  // Transfer-Encoding before Content-Encoding, as a server may write them.
  server.routes["/both"] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Encoding: deflate\r\n\r\n" +
      hex(coded.size()) + "\r\n" + coded + "\r\n0\r\n\r\n";
  opensock::http::session_options options;
  options.decode_transfer_codings = true;
  options.decompress = true;
  opensock::http::session both(io.get_executor(), opensock::default_socket_factory(), options);
  auto [ec, r] = request(io, both, make_request("GET", server.url("/both")));
  REQUIRE(!ec);
  CHECK(r.body == text);
  // TE, then Accept-Encoding, then the Connection field naming TE, as newer curl writes them.
  REQUIRE(server.heads.size() == 1);
  const auto te = server.heads[0].find("\r\nTE: gzip\r\n");
  const auto accept = server.heads[0].find("\r\nAccept-Encoding: ");
  const auto connection = server.heads[0].find("\r\nConnection: TE\r\n");
  REQUIRE(te != std::string::npos);
  CHECK(te < accept);
  CHECK(accept < connection);
  CHECK(connection != std::string::npos);
  // The transfer coding alone: the content coding is left as it came.
  options.decompress = false;
  opensock::http::session transfer_only(io.get_executor(), opensock::default_socket_factory(),
                                        options);
  auto [ec2, r2] = request(io, transfer_only, make_request("GET", server.url("/both")));
  REQUIRE(!ec2);
  CHECK(r2.body == content_coded);
}
#endif  // OPENSOCK_HAS_ZLIB

TEST_CASE("a transfer coding not asked for is refused by the head, whatever body follows") {
  using namespace session_decoding;
  asio::io_context io;
  // Not chunked at all, and coded first: 61 for the coding, as curl, not 56 for the chunks.
  scripted_http_server server(io,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                              "Content-Length: 19\r\n\r\nstuff server sends\n");
  opensock::http::session session(io.get_executor());
  auto [ec, r] = request(io, session, make_request("GET", server.url("/")));
  CHECK(ec == opensock::error::transfer_coding_not_decoded);
  CHECK(r.status == 200);
}

TEST_CASE("transfer codings kept: nginx's chunked gzip body as it came, both codings in it") {
  using namespace session_decoding;
  if (!opensock::test::nginx_port_or_warn()) return;
  asio::io_context io;
  // Asked for gzip by hand, as curl's --raw --compressed asks: nothing decodes it.
  auto get = make_request("GET", nginx_url("/gzip/1MiB.txt"));
  get.headers.add("Accept-Encoding", "gzip");
  opensock::http::session plain(io.get_executor());
  auto [ec, decoded] = request(io, plain, get);
  REQUIRE(!ec);
  REQUIRE(decoded.headers.get("transfer-encoding") == "chunked");

  opensock::http::session_options options;
  options.keep_transfer_codings = true;
  opensock::http::session raw(io.get_executor(), opensock::default_socket_factory(), options);
  auto [ec2, kept] = request(io, raw, get);
  REQUIRE(!ec2);
  // The chunks read back by hand are the gzip body the other session took out of them.
  std::string dechunked;
  std::string_view rest = kept.body;
  for (;;) {
    const auto line_end = rest.find("\r\n");
    REQUIRE(line_end != std::string_view::npos);
    const auto size = std::stoul(std::string(rest.substr(0, line_end)), nullptr, 16);
    rest.remove_prefix(line_end + 2);
    if (size == 0) break;
    dechunked += rest.substr(0, size);
    REQUIRE(rest.substr(size, 2) == "\r\n");
    rest.remove_prefix(size + 2);
  }
  CHECK(rest == "\r\n");  // no trailers: the empty line that ends the body
  CHECK(dechunked == decoded.body);
  CHECK(decoded.body.size() < nginx_file("files/1MiB.txt").size());
  // The connection carries the next request: the end was found all the same.
  auto [ec3, again] = request(io, raw, get);
  REQUIRE(!ec3);
  CHECK(again.info.reused);
  CHECK(again.body.ends_with("\r\n0\r\n\r\n"));
}
