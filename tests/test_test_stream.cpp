#include <opensock/test/stream.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using opensock::test::fault;
using opensock::test::stream;

namespace {

struct read_outcome {
  read_outcome(std::error_code e, std::string b) : error(e), bytes(std::move(b)) {}
  std::error_code error;
  std::string bytes;
};

// One read_some into a buffer of `capacity` bytes.
read_outcome read_some(asio::io_context& io, stream& s, std::size_t capacity = 64) {
  return opensock::test::run(io, [&]() -> asio::awaitable<read_outcome> {
    std::string buffer(capacity, '\0');
    std::error_code ec;
    const std::size_t n = co_await s.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    buffer.resize(n);
    co_return read_outcome(ec, buffer);
  }());
}

// One write_some; gives its error and how many bytes it took.
std::pair<std::error_code, std::size_t> write_some(asio::io_context& io, stream& s,
                                                   std::string bytes) {
  return opensock::test::run(io, [&]() -> asio::awaitable<std::pair<std::error_code, std::size_t>> {
    std::error_code ec;
    const std::size_t n = co_await s.async_write_some(
        asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
    co_return std::pair(ec, n);
  }());
}

}  // namespace

TEST_CASE("what one end writes the other reads and receives") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  CHECK(write_some(io, a, "hello") == std::pair(std::error_code(), std::size_t{5}));
  CHECK(b.received() == "hello");
  const auto got = read_some(io, b);
  CHECK(!got.error);
  CHECK(got.bytes == "hello");
  CHECK(b.received() == "hello");  // read or not, it stays in the record
  CHECK(a.received().empty());
}

TEST_CASE("a read waits for bytes and never completes inside its call") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  bool done = false;
  std::string buffer(8, '\0');
  std::size_t got = 0;
  b.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t n) {
    CHECK(!ec);
    got = n;
    done = true;
  });
  CHECK(!done);
  opensock::test::settle(io);
  CHECK(!done);
  a.send("late");
  opensock::test::settle(io);
  CHECK(done);
  CHECK(buffer.substr(0, got) == "late");
}

TEST_CASE("sent pieces arrive in pieces and no larger than the read size") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  a.send("HTTP/1.1 ");
  a.send("200 OK\r\n");
  CHECK(read_some(io, b).bytes == "HTTP/1.1 ");
  b.read_size(4);
  CHECK(read_some(io, b).bytes == "200 ");
  CHECK(read_some(io, b).bytes == "OK\r\n");
  CHECK(read_some(io, b, 0).bytes.empty());  // an empty buffer reads nothing at once
}

TEST_CASE("writes take no more than the write size") {
  asio::io_context io;
  // Named members rather than structured bindings: clang 14 cannot capture those.
  auto pair = stream::make_pair(io.get_executor());
  stream& a = pair.first;
  stream& b = pair.second;
  a.write_size(3);
  CHECK(write_some(io, a, "abcdef").second == 3);
  CHECK(b.received() == "abc");
  std::string all(6, '\0');
  a.write_size(stream::unlimited);
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(a, asio::buffer(std::string("def")), asio::use_awaitable);
    co_await asio::async_read(b, asio::buffer(all), asio::use_awaitable);
  }());
  CHECK(all == "abcdef");
}

TEST_CASE("a close is eof after what was sent and breaks the other end's writes") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  a.send("last words");
  a.close();
  CHECK(!a.is_open());
  CHECK(b.is_open());
  CHECK(b.closed_by_peer());
  CHECK(read_some(io, b).bytes == "last words");
  CHECK(read_some(io, b).error == asio::error::eof);
  CHECK(write_some(io, b, "x").first == asio::error::broken_pipe);
  CHECK(write_some(io, a, "x").first == asio::error::bad_descriptor);
  CHECK(read_some(io, a).error == asio::error::bad_descriptor);
}

TEST_CASE("a reset is connection_reset after what was sent, both ways") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  a.send("HTTP/1.1 200 OK\r\n");
  a.reset();
  CHECK(read_some(io, b).bytes == "HTTP/1.1 200 OK\r\n");
  CHECK(read_some(io, b).error == asio::error::connection_reset);
  CHECK(write_some(io, b, "x").first == asio::error::connection_reset);
}

TEST_CASE("destroying an open end closes it") {
  asio::io_context io;
  auto pair = stream::make_pair(io.get_executor());
  stream b = std::move(pair.second);
  { stream a = std::move(pair.first); }
  CHECK(b.closed_by_peer());
  CHECK(read_some(io, b).error == asio::error::eof);
  stream c = std::move(b);  // the moved-from end closes nothing
  CHECK(c.is_open());
}

TEST_CASE("a pending read ends with operation_aborted on cancel and on close") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  std::vector<std::error_code> outcomes;
  char byte;
  b.async_read_some(asio::buffer(&byte, 1),
                    [&](std::error_code ec, std::size_t) { outcomes.push_back(ec); });
  std::error_code ec;
  b.cancel(ec);
  opensock::test::settle(io);
  b.async_read_some(asio::buffer(&byte, 1),
                    [&](std::error_code e, std::size_t) { outcomes.push_back(e); });
  opensock::test::settle(io);
  b.close(ec);
  opensock::test::settle(io);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0] == asio::error::operation_aborted);
  CHECK(outcomes[1] == asio::error::operation_aborted);
  CHECK(a.closed_by_peer());
}

TEST_CASE("a read ends with operation_aborted when its handler's slot is cancelled") {
  // As a socket's read: opensock's deadlines and a caller's cancellation work this way.
  asio::io_context io;
  auto ends = stream::make_pair(io.get_executor());  // named: clang 14 cannot capture a binding
  stream& a = ends.first;
  stream& b = ends.second;
  asio::cancellation_signal signal;
  std::vector<std::error_code> outcomes;
  char byte;
  const auto read = [&] {
    b.async_read_some(asio::buffer(&byte, 1),
                      asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e,
                                                                      std::size_t) {
                        outcomes.push_back(e);
                      }));
  };
  read();
  opensock::test::settle(io);  // waiting for bytes
  signal.emit(asio::cancellation_type::terminal);
  opensock::test::settle(io);
  read();
  signal.emit(asio::cancellation_type::terminal);  // before it has looked for bytes
  opensock::test::settle(io);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0] == asio::error::operation_aborted);
  CHECK(outcomes[1] == asio::error::operation_aborted);
  a.send("x");  // the stream goes on
  const auto got = read_some(io, b);
  CHECK(!got.error);
  CHECK(got.bytes == "x");
}

TEST_CASE("receive_at_most takes bytes up to the mark, then fails the writes") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  b.receive_at_most(5, asio::error::broken_pipe);
  CHECK(write_some(io, a, "abc") == std::pair(std::error_code(), std::size_t{3}));
  CHECK(write_some(io, a, "defg") == std::pair(std::error_code(), std::size_t{2}));
  CHECK(write_some(io, a, "g").first == asio::error::broken_pipe);
  CHECK(b.received() == "abcde");
}

TEST_CASE("a fault counts reads and writes and fails the chosen one") {
  asio::io_context io;
  auto [a, b] = stream::make_pair(io.get_executor());
  auto f = std::make_shared<fault>(3, asio::error::timed_out);
  a.fail_with(f);
  b.send("12");
  CHECK(write_some(io, a, "x").first == std::error_code());
  CHECK(read_some(io, a, 1).bytes == "1");
  CHECK(!f->fired());
  CHECK(read_some(io, a, 1).error == asio::error::timed_out);
  CHECK(f->fired());
  CHECK(read_some(io, a, 1).bytes == "2");  // only the one fails
  CHECK(f->operations() == 4);

  fault counting;
  CHECK(!counting.count());
  CHECK(!counting.fired());
  CHECK(counting.operations() == 1);
}
