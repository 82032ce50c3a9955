#include <opensock/connect_only.hpp>

#include <opensock/factory/any.hpp>
#include <opensock/test/stream.hpp>

#include "support/catch.hpp"
#include "support/counting_factory.hpp"
#include "support/coroutine_function_factory.hpp"
#include "support/loopback_listener.hpp"
#include "support/nginx.hpp"
#include "support/run.hpp"
#include "support/unanswered_port.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/version.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102400
#include <asio/deferred.hpp>
#else
#include <asio/experimental/deferred.hpp>
#endif

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::connect_only_session;
using opensock::open_context;
using opensock::open_result;
using opensock::test::coroutine_function_factory;
using opensock::test::counting_factory;
using opensock::any_socket_factory;
using opensock::test::loopback_listener;
using test_stream = opensock::test::stream;
using opensock::test::run;
using opensock::test::run_connect;
using namespace std::chrono_literals;

namespace {

bool ipv6_loopback_works(asio::io_context& io) {
  std::error_code ec;
  tcp::acceptor probe(io);
  probe.open(tcp::v6(), ec);
  if (!ec) probe.bind({make_address("::1"), 0}, ec);
  return !ec;
}

}  // namespace

TEST_CASE("the default factory connects, and the stream carries the caller's protocol") {
  asio::io_context io;
  loopback_listener server(io);
  connect_only_session session(io.get_executor());
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  REQUIRE(session.is_connected());
  CHECK(session.remote_endpoint() == server.endpoint());

  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(session.stream(), asio::buffer("ping\n", 5), asio::use_awaitable);
    auto& peer = server.connections().at(0);
    char received[5];
    co_await asio::async_read(peer, asio::buffer(received), asio::use_awaitable);
    CHECK(std::string(received, 5) == "ping\n");
  }());
}

TEST_CASE("localhost tries ::1 first, then 127.0.0.1") {
  asio::io_context io;
  loopback_listener server(io);  // 127.0.0.1 only
  std::vector<tcp::endpoint> offered;
  connect_only_session session(io.get_executor(), any_socket_factory([&](open_context<tcp>& context) {
    offered.push_back(context.endpoint);
    return opensock::default_socket_factory{}(context);
  }));
  REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  REQUIRE(offered.size() == 2);
  CHECK(offered[0].address() == make_address("::1"));
  CHECK(offered[1].address() == make_address("127.0.0.1"));
  CHECK(session.remote_endpoint() == server.endpoint());
}

TEST_CASE("IPv6 loopback connects on the first attempt") {
  asio::io_context io;
  if (!ipv6_loopback_works(io)) {
    WARN("no IPv6 loopback on this machine: test not run");
    return;
  }
  loopback_listener server(io, make_address("::1"));
  connect_only_session session(io.get_executor());
  REQUIRE(!run_connect(io, session, {"[::1]", server.port()}));
  CHECK(session.remote_endpoint() == server.endpoint());
}

TEST_CASE("the factory sees host, port, scheme, purpose, attempt and executor") {
  asio::io_context io;
  loopback_listener server(io);
  open_context<tcp> seen;
  std::string host, scheme;
  connect_only_session session(io.get_executor(), any_socket_factory([&](open_context<tcp>& context) {
    seen = context;
    host = context.host;
    scheme = context.scheme;
    return opensock::default_socket_factory{}(context);
  }));
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port(), "tcp"}));
  CHECK(host == "127.0.0.1");
  CHECK(scheme == "tcp");
  CHECK(seen.port == server.port());
  CHECK(seen.purpose == opensock::purpose::origin);
  CHECK(seen.attempt == 1);
  CHECK(seen.executor == asio::any_io_executor(io.get_executor()));
}

TEST_CASE("the seed's example: a socket connected beforehand is handed over") {
  asio::io_context io;
  loopback_listener server(io);
  tcp::socket established(io);
  established.connect(server.endpoint());
  const auto handle = established.native_handle();

  connect_only_session session(io.get_executor(), any_socket_factory([&](open_context<tcp>&) {
    return opensock::connected(std::move(established));
  }));
  // The session believes it reaches 127.99.99.99:9999, where nothing listens.
  REQUIRE(!run_connect(io, session, {"127.99.99.99", 9999}));
  CHECK(session.lowest_layer().native_handle() == handle);
  opensock::test::settle(io);
  CHECK(server.peers().size() == 1);
}

TEST_CASE("a coroutine factory connects a Unix stream socket itself") {
  asio::io_context io;
  using unix_socket = asio::local::stream_protocol;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("opensock-test-" + std::to_string(::getpid()) + ".sock")).string();
  std::filesystem::remove(path);
  unix_socket::acceptor acceptor(io, unix_socket::endpoint(path));
  unix_socket::socket accepted(io);
  acceptor.async_accept(accepted, [](std::error_code) {});

  connect_only_session session(
      io.get_executor(),
      [&](open_context<tcp>& context) -> asio::awaitable<open_result<unix_socket::socket>> {
        unix_socket::socket socket(context.executor);
        co_await socket.async_connect(unix_socket::endpoint(path), asio::use_awaitable);
        co_return opensock::connected(std::move(socket));
      });
  REQUIRE(!run_connect(io, session, {"localhost", 80}));
  static_assert(std::is_same_v<decltype(session)::lowest_layer_type, unix_socket::socket>);

  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(accepted, asio::buffer("hello", 5), asio::use_awaitable);
    char received[5];
    co_await asio::async_read(session.stream(), asio::buffer(received), asio::use_awaitable);
    CHECK(std::string(received, 5) == "hello");
  }());
  std::filesystem::remove(path);
}

TEST_CASE("any Asio async stream can be the session's stream") {
  asio::io_context io;
  std::optional<test_stream> peer;
  connect_only_session session(io.get_executor(), [&](open_context<tcp>& context) {
    auto [ours, theirs] = test_stream::make_pair(context.executor);
    peer.emplace(std::move(theirs));
    return opensock::connected(std::move(ours));
  });
  REQUIRE(!run_connect(io, session, {"127.0.0.1", 1}));
  run(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(session.stream(), asio::buffer("abc", 3), asio::use_awaitable);
    char received[3];
    co_await asio::async_read(*peer, asio::buffer(received), asio::use_awaitable);
    CHECK(std::string(received, 3) == "abc");
  }());
}

TEST_CASE("a name that does not resolve fails with 6 before the factory is asked") {
  asio::io_context io;
  int calls = 0;
  connect_only_session session(io.get_executor(), any_socket_factory([&](open_context<tcp>& context) {
    ++calls;
    return opensock::default_socket_factory{}(context);
  }));
  auto ec = run_connect(io, session, {std::string(64, 'x') + ".invalid", 80});
  CHECK(ec == opensock::error::couldnt_resolve_host);
  CHECK(calls == 0);
  CHECK(!session.is_connected());
}

TEST_CASE("nothing listening: couldnt_connect, and every socket opened is closed") {
  asio::io_context io;
  opensock::test::closed_port nothing(io);
  int opened = 0, closed = 0;
  connect_only_session session(io.get_executor(), counting_factory{&opened, &closed});
  auto ec = run_connect(io, session, {"localhost", nothing.port()});
  CHECK(ec == opensock::error::couldnt_connect);
  CHECK(opened == 2);
  CHECK(closed == 2);
}

TEST_CASE("closing, reconnecting and destroying the session close through the factory") {
  asio::io_context io;
  loopback_listener server(io);
  int opened = 0, closed = 0;
  {
    connect_only_session session(io.get_executor(), counting_factory{&opened, &closed});
    REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
    REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
    CHECK(closed == 1);  // the first connection, replaced by the second
    session.close();
    CHECK(closed == 2);
    CHECK(!session.is_connected());
    REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  }
  CHECK(opened == 3);
  CHECK(closed == 3);
}

TEST_CASE("a released stream is the caller's: the factory does not close it") {
  asio::io_context io;
  loopback_listener server(io);
  int opened = 0, closed = 0;
  std::optional<opensock::transport<tcp::socket>> kept;
  {
    connect_only_session session(io.get_executor(), counting_factory{&opened, &closed});
    REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
    kept.emplace(session.release());
    CHECK(!session.is_connected());
  }
  CHECK(closed == 0);
  CHECK(kept->lowest_layer().is_open());
}

TEST_CASE("an abort from the factory ends the connect with the factory's error") {
  asio::io_context io;
  const auto blocked = std::make_error_code(std::errc::permission_denied);
  connect_only_session session(
      io.get_executor(), any_socket_factory([&](open_context<tcp>&) -> open_result<tcp::socket> {
        return opensock::abort(blocked);
      }));
  CHECK(run_connect(io, session, {"localhost", 80}) == blocked);
}

TEST_CASE("async_connect works with callbacks, futures and deferred") {
  asio::io_context io;
  loopback_listener server(io);
  connect_only_session session(io.get_executor());

  std::optional<std::error_code> from_callback;
  session.async_connect({"127.0.0.1", server.port()},
                        [&](std::error_code ec) {
                          from_callback = ec;
                          io.stop();
                        });
  io.run_for(5s);
  REQUIRE(from_callback);
  CHECK(!*from_callback);

#if ASIO_VERSION >= 102400
  auto op = session.async_connect({"127.0.0.1", server.port()}, asio::deferred);
#else
  auto op = session.async_connect({"127.0.0.1", server.port()}, asio::experimental::deferred);
#endif
  std::optional<std::error_code> from_deferred;
  std::move(op)([&](std::error_code ec) {
    from_deferred = ec;
    io.stop();
  });
  io.restart();
  io.run_for(5s);
  REQUIRE(from_deferred);
  CHECK(!*from_deferred);

  io.restart();
  auto future = session.async_connect({"127.0.0.1", server.port()}, asio::use_future);
  std::thread runner([&] { io.run_for(5s); });
  const auto status = future.wait_for(5s);
  io.stop();
  runner.join();
  REQUIRE(status == std::future_status::ready);
  CHECK_NOTHROW(future.get());
  CHECK(session.is_connected());
}

TEST_CASE("a failing connect reported through a future throws its system_error") {
  asio::io_context io;
  connect_only_session session(io.get_executor(), any_socket_factory([](open_context<tcp>&) {
    return opensock::open_result<tcp::socket>(opensock::refuse());
  }));
  auto future = session.async_connect({"127.0.0.1", 1}, asio::use_future);
  io.run_for(5s);  // no listener: the context runs out of work once the connect is done
  try {
    future.get();
    FAIL("the connect should have failed");
  } catch (const std::system_error& e) {
    CHECK(e.code() == opensock::error::refused_by_socket_factory);
  }
}

TEST_CASE("terminal cancellation ends the connect at once and leaks no socket") {
  asio::io_context io;
  int opened = 0, closed = 0;
  auto slow_factory = [&](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
    auto answer = counting_factory{&opened, &closed}(context);
    asio::steady_timer never(context.executor, 1h);  // a factory waiting on something slow
    std::error_code ec;
    co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++closed;
      answer.stream().close();
      co_return opensock::abort(ec);
    }
    co_return answer;
  };
  connect_only_session session(io.get_executor(), coroutine_function_factory(slow_factory));
  asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  session.async_connect({"localhost", 80},
                        asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
                          result = ec;
                          io.stop();
                        }));
  asio::steady_timer soon(io, 20ms);
  soon.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  const auto started = std::chrono::steady_clock::now();
  io.run_for(5s);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(opensock::curl_code(*result) == 42);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(opened == 1);  // the walk stopped: ::1 was tried, 127.0.0.1 never
  CHECK(closed == opened);
  CHECK(!session.is_connected());
}

TEST_CASE("cancelling the awaiting coroutine cancels the connect") {
  asio::io_context io;
  bool factory_saw_cancel = false;
  connect_only_session session(
      io.get_executor(),
      coroutine_function_factory(
          [&](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
            asio::steady_timer never(context.executor, 1h);
            std::error_code ec;
            co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            factory_saw_cancel = ec == asio::error::operation_aborted;
            co_return opensock::abort(ec);
          }));
  asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await session.async_connect({"127.0.0.1", 80},
                                       asio::redirect_error(asio::use_awaitable, ec));
        result = ec;
      },
      asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
  asio::steady_timer soon(io, 20ms);
  soon.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  io.run_for(5s);
  CHECK(factory_saw_cancel);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
}

TEST_CASE("a connect timeout ends in operation_timedout, curl's 28, and leaks nothing") {
  asio::io_context io;
  opensock::test::unanswered_port silent(make_address("127.0.0.2"));
  int opened = 0, closed = 0;
  opensock::connect_options options;
  options.connect_timeout = 150ms;
  connect_only_session session(io.get_executor(), counting_factory{&opened, &closed}, options);
  const auto started = std::chrono::steady_clock::now();
  const auto ec = run_connect(io, session, {"127.0.0.2", silent.port()});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(ec == opensock::error::operation_timedout);
  CHECK(opensock::curl_code(ec) == 28);
  CHECK(took >= 150ms);
  CHECK(took < 1s);  // no hang past the deadline
  CHECK(opened == 1);
  CHECK(closed == opened);
  CHECK(!session.is_connected());
}

TEST_CASE("a connect under the default 300 s limit leaves nothing pending once it is done") {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});  // the kernel accepts
  connect_only_session session(io.get_executor());
  std::optional<std::error_code> result;
  session.async_connect({"127.0.0.1", acceptor.local_endpoint().port()},
                        [&](std::error_code ec) { result = ec; });
  const auto started = std::chrono::steady_clock::now();
  io.run_for(3s);  // returns early once nothing is pending: no timer of the limit is left
  REQUIRE(result);
  CHECK(!*result);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("the total timeout bounds the connect too, whichever is shorter") {
  asio::io_context io;
  opensock::test::unanswered_port silent(make_address("127.0.0.2"));
  opensock::connect_options options;
  options.connect_timeout = 10s;
  options.total_timeout = 100ms;
  connect_only_session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto started = std::chrono::steady_clock::now();
  CHECK(run_connect(io, session, {"127.0.0.2", silent.port()}) == opensock::error::operation_timedout);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("cancelling a race of silent addresses closes every socket it opened") {
  asio::io_context io;
  opensock::test::unanswered_port a(make_address("127.0.0.2"));
  opensock::test::unanswered_port b(make_address("127.0.0.3"), a.port());
  int opened = 0, closed = 0;
  opensock::connect_options options;
  options.happy_eyeballs.attempt_delay = 10ms;
  opensock::route silent(opensock::origin("silent.test", a.port()));
  silent.addresses = {make_address("127.0.0.2"), make_address("127.0.0.3")};
  connect_only_session session(io.get_executor(), counting_factory{&opened, &closed}, options);
  asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  session.async_connect(silent,
                        asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
                          result = ec;
                          io.stop();
                        }));
  asio::steady_timer soon(io, 100ms);
  soon.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  io.run_for(5s);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(opened == 2);
  CHECK(closed == 2);
}

TEST_CASE("a second connect while one runs fails with in_progress") {
  asio::io_context io;
  opensock::test::unanswered_port silent(make_address("127.0.0.2"));
  opensock::connect_options options;
  options.connect_timeout = 200ms;
  connect_only_session session(io.get_executor(), opensock::default_socket_factory{}, options);
  std::vector<std::error_code> results;
  auto record = [&](std::error_code ec) {
    results.push_back(ec);
    if (results.size() == 2) io.stop();
  };
  session.async_connect({"127.0.0.2", silent.port()}, record);
  session.async_connect({"127.0.0.1", 1}, record);
  io.run_for(5s);
  REQUIRE(results.size() == 2);
  CHECK(results[0] == asio::error::in_progress);
  CHECK(results[1] == opensock::error::operation_timedout);
}

TEST_CASE("the attempts of the last connect can be read back, with outcome and time") {
  asio::io_context io;
  loopback_listener server(io);
  connect_only_session session(io.get_executor());
  REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  const auto& attempts = session.attempts();
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0].number == 1);
  CHECK(attempts[0].endpoint.address() == make_address("::1"));
  CHECK(attempts[0].outcome == opensock::attempt_outcome::failed);
  CHECK(attempts[0].error == asio::error::connection_refused);
  CHECK(attempts[1].number == 2);
  CHECK(attempts[1].outcome == opensock::attempt_outcome::connected);
  CHECK(attempts[1].started >= attempts[0].started);
  CHECK(attempts[1].took < 1s);
}

TEST_CASE("each connect records its attempts in storage the session keeps") {
  asio::io_context io;
  loopback_listener server(io);
  connect_only_session session(io.get_executor());
  REQUIRE(!run_connect(io, session, {"localhost", server.port()}));
  REQUIRE(session.attempts().size() == 2);
  const auto* storage = session.attempts().data();
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  REQUIRE(session.attempts().size() == 1);
  CHECK(session.attempts()[0].outcome == opensock::attempt_outcome::connected);
  CHECK(session.attempts()[0].endpoint == server.endpoint());
  CHECK(session.attempts().data() == storage);  // no allocation for the records
}

TEST_CASE("a deadline watched from another thread ends the connect on the connect's strand") {
  // Two threads: the watchdog's timer may fire on either, while the connect runs on a
  // strand of its own; the cancellation must reach it there.
  asio::io_context io(2);
  opensock::test::unanswered_port silent(make_address("127.0.0.2"));
  int opened = 0, closed = 0;
  counting_factory factory{&opened, &closed};
  opensock::detail::request_watchdog watchdog(io.get_executor());
  const opensock::route target(opensock::origin("127.0.0.2", silent.port(), "tcp"));
  const opensock::connect_options options;
  opensock::route_connection<tcp::socket> made;
  std::vector<opensock::attempt_record<tcp::endpoint>> attempts;
  bool done = false;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(
      asio::make_strand(io),
      [&]() -> asio::awaitable<void> {
        co_await opensock::detail::connect_within(factory, target, options, nullptr, &watchdog,
                                                  started + 150ms, made, attempts);
        watchdog.disarm();
        done = true;
      },
      asio::detached);
  std::thread other([&] { io.run_for(5s); });
  io.run_for(5s);
  other.join();
  REQUIRE(done);
  CHECK(made.error == opensock::error::operation_timedout);
  CHECK(!made.stream);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].outcome == opensock::attempt_outcome::aborted);
  CHECK(opened == 1);
  CHECK(closed == opened);
}

TEST_CASE("Happy Eyeballs on real sockets: silent ::1, answering 127.0.0.1") {
  asio::io_context io;
  if (!ipv6_loopback_works(io)) {
    WARN("no IPv6 loopback on this machine: test not run");
    return;
  }
  loopback_listener server(io);
  std::optional<opensock::test::unanswered_port> silent;
  try {
    silent.emplace(make_address("::1"), server.port());
  } catch (const std::exception&) {
    WARN("port taken on ::1: test not run");
    return;
  }
  opensock::route dual(opensock::origin("dual.test", server.port()));
  dual.addresses = {make_address("127.0.0.1"), make_address("::1")};
  connect_only_session session(io.get_executor(), opensock::default_socket_factory{});
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(!run_connect(io, session, dual));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(session.remote_endpoint() == server.endpoint());
  REQUIRE(session.attempts().size() == 2);
  CHECK(session.attempts()[0].endpoint.address() == make_address("::1"));  // IPv6 first
  CHECK(took >= 190ms);
  CHECK(took < 2s);
}

TEST_CASE("connect-only over TLS: the stream is the TLS layer over the factory's socket") {
  const auto port = opensock::test::nginx_tls_port("good");
  if (!port) {
    WARN("the suite's nginx is not running (run through ctest)");
    return;
  }
  asio::io_context io;
  int opened = 0, closed = 0;
  connect_only_session session(io.get_executor(), counting_factory{&opened, &closed});
  opensock::tls::options tls;
  tls.ca_file = opensock::test::nginx_pki("ca.pem");
  // A "tcp" origin: TLS because the route asks for it (curl's CONNECT_ONLY over https).
  const opensock::route to(opensock::origin("127.0.0.1", *port), true, tls);
  std::error_code ec;
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    co_await session.async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
  }());
  REQUIRE(!ec);
  CHECK(session.stream().layers() == 1);
  CHECK(session.alpn() == "http/1.1");
  std::string reply;
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    const std::string ask = "GET /echo-method HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(session.stream(), asio::buffer(ask), asio::use_awaitable);
    std::error_code read_ec;
    co_await asio::async_read(session.stream(), asio::dynamic_buffer(reply),
                              asio::redirect_error(asio::use_awaitable, read_ec));
  }());
  CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(reply.find("GET /echo-method") != std::string::npos);
  session.close();
  CHECK(opened == 1);
  CHECK(closed == 1);

  // A peer the CA does not vouch for: 60, and the socket closed through the factory.
  tls.ca_file.reset();
  opensock::test::run(io, [&]() -> asio::awaitable<void> {
    co_await session.async_connect(opensock::route(opensock::origin("127.0.0.1", *port), true, tls),
                                   asio::redirect_error(asio::use_awaitable, ec));
  }());
  CHECK(ec == opensock::error::peer_failed_verification);
  CHECK(!session.is_connected());
  CHECK(opened == 2);
  CHECK(closed == 2);
}

TEST_CASE("the connector's stages as operations: async_connect_origin, async_connect_route") {
  asio::io_context io;
  loopback_listener server(io);
  int opened = 0, closed = 0;
  counting_factory factory{&opened, &closed};
  const opensock::origin target("127.0.0.1", server.port());
  const opensock::connect_options options;
  std::error_code origin_ec = opensock::error::failed_init;
  bool origin_connected = false;
  opensock::async_connect_origin(io.get_executor(), factory, target, options,
                                 [&](std::error_code ec, auto result) {
                                   origin_ec = ec;
                                   origin_connected = result.stream && result.stream->is_open();
                                 });
  const opensock::route plain(target);
  std::error_code route_ec = opensock::error::failed_init;
  std::size_t layers = 1;
  opensock::async_connect_route(io.get_executor(), factory, plain, options,
                                [&](std::error_code ec, auto made) {
                                  route_ec = ec;
                                  if (made.stream) layers = made.stream->layers();
                                });
  opensock::test::settle(io, std::chrono::milliseconds(200));
  CHECK(!origin_ec);
  CHECK(origin_connected);
  CHECK(!route_ec);
  CHECK(layers == 0);
  CHECK(opened == 2);
}
