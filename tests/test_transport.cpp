#include <opensock/transport.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <opensock/route.hpp>
#include <opensock/test/stream.hpp>

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using opensock::transport;
using test_stream = opensock::test::stream;

namespace {

// A layer that flips the low bit of every byte each way: enough to tell whether bytes
// went through it, and it keeps the sizes of reads and writes.
class flip_layer final : public opensock::transport_layer<test_stream> {
 public:
  explicit flip_layer(below below) : below_(std::move(below)) {}

  void async_read_some(asio::mutable_buffer buffer, opensock::detail::io_handler handler) override {
    below_.async_read_some(buffer, [buffer, handler = std::move(handler)](
                                       std::error_code ec, std::size_t n) mutable {
      flip(static_cast<char*>(buffer.data()), n);
      std::move(handler)(ec, n);
    });
  }
  void async_write_some(asio::const_buffer buffer, opensock::detail::io_handler handler) override {
    flipped_.assign(static_cast<const char*>(buffer.data()), buffer.size());
    flip(flipped_.data(), flipped_.size());
    below_.async_write_some(asio::buffer(flipped_), std::move(handler));
  }

  static void flip(char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ 1);
  }

 private:
  below& stream_below() noexcept override { return below_; }
  below below_;
  std::string flipped_;
};

std::string read_exactly(asio::io_context& io, auto& stream, std::size_t n) {
  std::string got(n, '\0');
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_read(stream, asio::buffer(got), asio::use_awaitable);
  }());
  return got;
}

void write_all(asio::io_context& io, auto& stream, std::string bytes) {
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
  }());
}

}  // namespace

TEST_CASE("a transport with no layer reads and writes its stream") {
  asio::io_context io;
  auto [ours, theirs] = test_stream::make_pair(io.get_executor());
  transport<test_stream> t(std::move(ours));
  CHECK(t.layers() == 0);
  write_all(io, t, "hello");
  CHECK(read_exactly(io, theirs, 5) == "hello");
  write_all(io, theirs, "back");
  CHECK(read_exactly(io, t, 4) == "back");
}

TEST_CASE("layers stack: bytes pass through each, and the transport may move") {
  asio::io_context io;
  auto [ours, theirs] = test_stream::make_pair(io.get_executor());
  std::optional<transport<test_stream>> t;
  t.emplace(std::move(ours));
  t->push(std::make_unique<flip_layer>(t->top()));
  write_all(io, *t, "abc");
  CHECK(read_exactly(io, theirs, 3) == "`cb");  // one flip: a^1 = `, b^1 = c, c^1 = b
  // A second layer over the first: the flips cancel out.
  t->push(std::make_unique<flip_layer>(t->top()));
  CHECK(t->layers() == 2);
  write_all(io, *t, "xyz");
  CHECK(read_exactly(io, theirs, 3) == "xyz");
  // Moved, the layers follow the transport to its new place.
  transport<test_stream> moved(std::move(*t));
  t.reset();
  write_all(io, theirs, "pq");
  CHECK(read_exactly(io, moved, 2) == "pq");
  moved.pop_all();
  write_all(io, moved, "a");
  CHECK(read_exactly(io, theirs, 1) == "a");
}

TEST_CASE("a transport's operations take any completion token") {
  asio::io_context io;
  auto [ours, theirs] = test_stream::make_pair(io.get_executor());
  transport<test_stream> t(std::move(ours));
  t.push(std::make_unique<flip_layer>(t.top()));
  std::size_t written = 0;
  t.async_write_some(asio::buffer("ab", 2), [&](std::error_code ec, std::size_t n) {
    CHECK(!ec);
    written = n;
  });
  io.run();
  CHECK(written == 2);
  io.restart();
  std::error_code write_ec;
  asio::async_write(theirs, asio::buffer("a", 1), [&](std::error_code ec, std::size_t) { write_ec = ec; });
  char got = 0;
  std::size_t read = 0;
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    read = co_await t.async_read_some(asio::buffer(&got, 1), asio::use_awaitable);
  }());
  CHECK(!write_ec);
  CHECK(read == 1);
  CHECK(got == '`');
}

TEST_CASE("a route serves requests to its origin under its TLS settings") {
  const opensock::route plain(opensock::origin("example.test", 80, "http"));
  CHECK(!plain.secure);
  CHECK(plain.serves("http", "example.test", 80, {}, false, opensock::tls::options()));
  CHECK(!plain.serves("http", "example.test", 81, {}, false, opensock::tls::options()));
  CHECK(!plain.serves("https", "example.test", 80, {}, false, opensock::tls::options()));
  CHECK(!plain.serves("http", "other.test", 80, {}, false, opensock::tls::options()));
  // TLS settings do not matter without TLS.
  CHECK(plain.serves("http", "example.test", 80, {}, false, opensock::tls::options::insecure()));

  const opensock::route secured(opensock::origin("example.test", 443, "https"));
  CHECK(secured.secure);
  CHECK(secured.serves("https", "example.test", 443, {}, false, opensock::tls::options()));
  CHECK(!secured.serves("https", "example.test", 443, {}, false, opensock::tls::options::insecure()));
  CHECK(secured == opensock::route(opensock::origin("example.test", 443, "https")));
  CHECK(!(secured == opensock::route(opensock::origin("example.test", 443, "https"),
                                     opensock::tls::options::insecure())));
  // TLS whatever the scheme says: a connect-only route to a TLS service.
  CHECK(opensock::route(opensock::origin("example.test", 993), true).secure);
}

TEST_CASE("a route serves requests through its own proxies, any http origin when forwarded") {
  using opensock::proxy;
  using opensock::proxy_kind;
  const std::vector<proxy> http_proxy{proxy(proxy_kind::http, "127.0.0.1", 3128)};
  const std::vector<proxy> socks{proxy(proxy_kind::socks5h, "127.0.0.1", 1080)};
  const opensock::tls::options tls;

  opensock::route forwarded(opensock::origin("a.test", 80, "http"));
  forwarded.proxies = http_proxy;
  CHECK(!forwarded.forwarded());  // forwarding is asked for, as a session asks
  forwarded.forward = true;
  CHECK(forwarded.forwarded());
  CHECK(forwarded.serves("http", "a.test", 80, http_proxy, true, tls));
  CHECK(forwarded.serves("http", "b.test", 8080, http_proxy, true, tls));
  CHECK(!forwarded.serves("https", "a.test", 80, http_proxy, true, tls));
  CHECK(!forwarded.serves("http", "a.test", 80, {}, false, tls));
  CHECK(!forwarded.serves("http", "a.test", 80, socks, true, tls));
  // Nor a request the session wants tunnelled (under -p, or a guard).
  CHECK(!forwarded.serves("http", "a.test", 80, http_proxy, false, tls));

  // A tunnel reaches one origin: through an HTTP proxy for TLS, ws or --proxytunnel,
  // and through any SOCKS proxy.
  opensock::route tunnelled = forwarded;
  tunnelled.forward = false;
  CHECK(!tunnelled.forwarded());
  CHECK(!(tunnelled == forwarded));
  CHECK(tunnelled.serves("http", "a.test", 80, http_proxy, false, tls));
  CHECK(!tunnelled.serves("http", "b.test", 80, http_proxy, false, tls));
  opensock::route secured(opensock::origin("a.test", 443, "https"));
  secured.proxies = http_proxy;
  secured.forward = true;
  CHECK(!secured.forwarded());
  opensock::route websocket(opensock::origin("a.test", 80, "ws"));
  websocket.proxies = http_proxy;
  websocket.forward = true;
  CHECK(!websocket.forwarded());
  opensock::route through_socks(opensock::origin("a.test", 80, "http"));
  through_socks.proxies = socks;
  through_socks.forward = true;
  CHECK(!through_socks.forwarded());
  CHECK(!through_socks.serves("http", "b.test", 80, socks, true, tls));
  CHECK(through_socks.serves("http", "a.test", 80, socks, true, tls));

  // A SOCKS proxy before the HTTP one: the last proxy decides.
  opensock::route chained = forwarded;
  chained.proxies.insert(chained.proxies.begin(), socks.front());
  CHECK(chained.forwarded());
  CHECK(!chained.serves("http", "b.test", 80, http_proxy, true, tls));
  CHECK(chained.serves("http", "b.test", 80, chained.proxies, true, tls));
}

TEST_CASE("a route holds TLS settings only when given them: the defaults otherwise") {
  const opensock::route plain(opensock::origin("example.test", 80, "http"));
  CHECK(!plain.tls);
  const opensock::route secured(opensock::origin("example.test", 443, "https"));
  CHECK(!secured.tls);
  CHECK(secured.tls_settings() == opensock::tls::options());
  const opensock::route relaxed(opensock::origin("example.test", 443, "https"),
                                opensock::tls::options::insecure());
  REQUIRE(relaxed.tls);
  CHECK(!relaxed.tls_settings().verify);
  CHECK(secured ==
        opensock::route(opensock::origin("example.test", 443, "https"), opensock::tls::options()));
}
