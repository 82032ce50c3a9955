#include <opensock/open_result.hpp>

#include "support/catch.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

using asio::ip::tcp;
using result = opensock::open_result<tcp::socket>;

TEST_CASE("a bare socket is an opened socket for opensock to connect") {
  asio::io_context io;
  tcp::socket socket(io);
  socket.open(tcp::v4());
  const auto handle = socket.native_handle();
  result r = std::move(socket);
  CHECK(r.what() == result::kind::opened);
  REQUIRE(r.has_stream());
  CHECK(!r.error());
  CHECK(r.stream().native_handle() == handle);
  tcp::socket taken = r.take_stream();
  CHECK(taken.native_handle() == handle);
  CHECK(!r.has_stream());
}

TEST_CASE("a stream made in place from its arguments is an opened one") {
  asio::io_context io;
  result r(std::in_place, io.get_executor(), tcp::v4());
  CHECK(r.what() == result::kind::opened);
  REQUIRE(r.has_stream());
  CHECK(!r.error());
  CHECK(r.stream().is_open());
  CHECK(r.stream().local_endpoint().protocol() == tcp::v4());
}

TEST_CASE("connected() marks a stream as already connected") {
  asio::io_context io;
  result r = opensock::connected(tcp::socket(io, tcp::v4()));
  CHECK(r.what() == result::kind::connected);
  CHECK(r.has_stream());
}

TEST_CASE("a refusal carries the factory's reason, by default refused_by_socket_factory") {
  result plain = opensock::refuse();
  CHECK(plain.what() == result::kind::refused);
  CHECK(plain.error() == opensock::error::refused_by_socket_factory);
  CHECK(!plain.has_stream());
  result failed = opensock::refuse(std::make_error_code(std::errc::too_many_files_open));
  CHECK(failed.what() == result::kind::refused);
  CHECK(failed.error() == std::errc::too_many_files_open);
}

TEST_CASE("an abort carries the factory's error, or aborted_by_callback without one") {
  result with_reason = opensock::abort(std::make_error_code(std::errc::permission_denied));
  CHECK(with_reason.what() == result::kind::aborted);
  CHECK(with_reason.error() == std::errc::permission_denied);
  result without = opensock::abort({});
  CHECK(without.error() == opensock::error::aborted_by_callback);
}
