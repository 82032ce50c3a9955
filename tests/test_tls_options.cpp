#include <opensock/tls/options.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <type_traits>
#include <vector>

using opensock::tls::options;

namespace {

// Takes options as tls::handshake() does, by reference, and reads them only after it has
// been suspended.
asio::awaitable<options> read_after_suspension(const options& o) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return o;
}

// Options built where a user builds them, inside the co_await expression: g++ 12 rejects
// a braced default member initialiser there, and corrupts an aggregate temporary.
// g++ 12 at -O2 may inline Asio's frame allocation into this coroutine's ramp and then
// take Asio's own operator delete for a mismatch: a false -Wmismatched-new-delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<std::vector<options>> built_in_co_await() {
  std::vector<options> seen;
  seen.push_back(co_await read_after_suspension(options{}));
  seen.push_back(co_await read_after_suspension({}));
  seen.push_back(co_await read_after_suspension(options::insecure()));
  co_return seen;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

TEST_CASE("by default the peer is verified, TLS 1.2 or later, ALPN http/1.1") {
  const options o;
  CHECK(o.verify);
  CHECK(o.min_version == opensock::tls::version::tls1_2);
  CHECK(o.alpn == std::vector<std::string>{"http/1.1"});
  CHECK(!o.ca_file);
  CHECK(!o.ca_path);
  CHECK(!o.certificate);
  CHECK(!o.private_key);
  CHECK(o == options{});
  // No aggregate: see the comment on the type.
  STATIC_REQUIRE(!std::is_aggregate_v<options>);
}

TEST_CASE("insecure() differs from the default in verification only") {
  options relaxed = options::insecure();
  CHECK(!relaxed.verify);
  CHECK(relaxed.alpn == std::vector<std::string>{"http/1.1"});
  CHECK(relaxed != options{});
  relaxed.verify = true;
  CHECK(relaxed == options{});
}

TEST_CASE("options built inside a co_await expression arrive intact") {
  asio::io_context io;
  const auto seen = opensock::test::run(io, built_in_co_await());
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == options{});
  CHECK(seen[0].alpn == std::vector<std::string>{"http/1.1"});
  CHECK(seen[1] == options{});
  CHECK(seen[2] == options::insecure());
  CHECK(!seen[2].verify);
}
