#include <opensock/connector/happy_eyeballs.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"
#include "support/unanswered_port.hpp"

#include <opensock/connect_only.hpp>
#include <opensock/factory/bind.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <vector>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::attempt_outcome;
using opensock::open_context;
using opensock::open_result;
using opensock::test::closed_port;
using opensock::test::loopback_listener;
using opensock::test::run;
using opensock::test::unanswered_port;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// Opens through the default factory and counts opens and closes, so that a test can
// prove every socket was closed.
struct counting_factory {
  int opened = 0;
  int closed = 0;
  open_result<tcp::socket> operator()(open_context<tcp>& context) {
    auto answer = opensock::default_socket_factory{}(context);
    if (answer.has_stream()) ++opened;
    return answer;
  }
  void close(tcp::socket& socket) {
    ++closed;
    socket.close();
  }
};

open_context<tcp> prototype(asio::io_context& io) {
  open_context<tcp> context;
  context.host = "race.test";
  context.port = 80;
  context.executor = io.get_executor();
  return context;
}

template <class Factory>
auto race(asio::io_context& io, Factory& factory, const std::vector<tcp::endpoint>& endpoints,
          opensock::happy_eyeballs_options options = {}) {
  return run(io, opensock::connect_endpoints(factory, std::span<const tcp::endpoint>(endpoints),
                                             prototype(io), options));
}

tcp::endpoint v4(std::uint16_t port, const char* address = "127.0.0.1") {
  return {make_address(address), port};
}

}  // namespace

TEST_CASE("families are interleaved, IPv6 first, order within a family kept") {
  const std::vector<tcp::endpoint> resolved = {v4(1, "127.0.0.1"), v4(1, "127.0.0.2"),
                                               v4(1, "::1"), v4(1, "::2"), v4(1, "127.0.0.3")};
  const auto ordered = opensock::interleave_families(std::span<const tcp::endpoint>(resolved));
  std::vector<std::string> text;
  for (const auto& e : ordered) text.push_back(e.address().to_string());
  CHECK(text == std::vector<std::string>{"::1", "127.0.0.1", "::2", "127.0.0.2", "127.0.0.3"});
}

TEST_CASE("one address, nothing to race: one attempt, started with the connect") {
  asio::io_context io;
  loopback_listener server(io);
  counting_factory factory;
  auto result = race(io, factory, {server.endpoint()});
  REQUIRE(!result.error);
  CHECK(result.endpoint == server.endpoint());
  REQUIRE(result.attempts.size() == 1);
  CHECK(result.attempts[0].number == 1);
  CHECK(result.attempts[0].endpoint == server.endpoint());
  CHECK(result.attempts[0].outcome == attempt_outcome::connected);
  CHECK(result.attempts[0].started == clock_type::duration::zero());
  CHECK(result.attempts[0].took < 1s);
  CHECK(factory.opened == 1);
  CHECK(factory.closed == 0);

  // A coroutine factory, the same.
  auto awaited = [&](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
    co_return factory(context);
  };
  auto second = race(io, awaited, {server.endpoint()});
  REQUIRE(!second.error);
  REQUIRE(second.attempts.size() == 1);
  CHECK(second.attempts[0].outcome == attempt_outcome::connected);
  CHECK(factory.opened == 2);

  // Refused: the factory's refusal is the error, as for any number of addresses.
  auto refusing = [](open_context<tcp>&) { return open_result<tcp::socket>(opensock::refuse()); };
  auto refused = race(io, refusing, {server.endpoint()});
  CHECK(refused.error == opensock::error::refused_by_socket_factory);
  REQUIRE(refused.attempts.size() == 1);
  CHECK(refused.attempts[0].outcome == attempt_outcome::refused);
}

TEST_CASE("the last address, once the others have failed, is tried like the rest") {
  asio::io_context io;
  loopback_listener server(io);
  closed_port refused(io);
  counting_factory factory;
  auto result =
      race(io, factory, {v4(refused.port()), v4(refused.port()), server.endpoint()}, {10s, 6});
  REQUIRE(!result.error);
  REQUIRE(result.attempts.size() == 3);
  CHECK(result.attempts[2].number == 3);
  CHECK(result.attempts[2].outcome == attempt_outcome::connected);
  CHECK(result.attempts[2].started >= result.attempts[1].started);
  CHECK(result.attempts[2].started < 1s);
  CHECK(factory.opened == 3);
  CHECK(factory.closed == 2);
}

TEST_CASE("a silent first address: the next attempt starts after the delay and wins") {
  asio::io_context io;
  loopback_listener server(io);
  unanswered_port silent(make_address("127.0.0.2"));
  counting_factory factory;
  const auto started = clock_type::now();
  auto result = race(io, factory, {silent.endpoint(), server.endpoint()});
  const auto took = clock_type::now() - started;
  REQUIRE(!result.error);
  CHECK(result.endpoint == server.endpoint());
  CHECK(took >= 190ms);
  CHECK(took < 2s);
  REQUIRE(result.attempts.size() == 2);
  CHECK(result.attempts[0].outcome == attempt_outcome::aborted);  // cancelled: lost the race
  CHECK(result.attempts[1].outcome == attempt_outcome::connected);
  CHECK(result.attempts[1].started >= 190ms);
  CHECK(factory.opened == 2);
  CHECK(factory.closed == 1);  // the loser, through the factory
}

TEST_CASE("the delay is configurable") {
  asio::io_context io;
  loopback_listener server(io);
  unanswered_port silent(make_address("127.0.0.2"));
  counting_factory factory;
  auto result = race(io, factory, {silent.endpoint(), server.endpoint()}, {50ms, 6});
  REQUIRE(!result.error);
  CHECK(result.attempts.at(1).started >= 45ms);
  CHECK(result.attempts.at(1).started < 190ms);
}

TEST_CASE("a failed attempt starts the next one at once") {
  asio::io_context io;
  loopback_listener server(io);
  closed_port refused(io);
  counting_factory factory;
  auto result = race(io, factory, {v4(refused.port()), server.endpoint()}, {10s, 6});
  REQUIRE(!result.error);
  CHECK(result.attempts.at(1).started < 1s);
  CHECK(result.attempts.at(0).outcome == attempt_outcome::failed);
  CHECK(factory.closed == 1);
}

TEST_CASE("a coroutine factory that delays one family: the other family wins") {
  asio::io_context io;
  loopback_listener server(io);
  int pending_while_called = 0;
  int running = 0;
  auto slow_v6 = [&](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
    pending_while_called += running;
    ++running;
    if (context.endpoint.address().is_v6()) {
      asio::steady_timer stall(context.executor, 10s);
      std::error_code ec;
      co_await stall.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      --running;
      co_return opensock::abort(ec ? ec : std::make_error_code(std::errc::timed_out));
    }
    --running;
    co_return opensock::default_socket_factory{}(context);
  };
  const auto started = clock_type::now();
  auto result = race(io, slow_v6, {v4(server.port(), "::1"), server.endpoint()});
  REQUIRE(!result.error);
  CHECK(result.endpoint.address().is_v4());
  CHECK(pending_while_called == 1);  // the factory ran while the IPv6 attempt was pending
  CHECK(clock_type::now() - started < 2s);
  CHECK(result.attempts.at(0).error == asio::error::operation_aborted);
}

TEST_CASE("no more attempts in flight than allowed") {
  asio::io_context io;
  loopback_listener server(io);
  unanswered_port a(make_address("127.0.0.2"));
  unanswered_port b(make_address("127.0.0.3"), a.port());
  counting_factory factory;
  opensock::connect_options options;
  options.happy_eyeballs = {20ms, 2};
  options.connect_timeout = 400ms;
  opensock::route bounded(opensock::origin("bounded.test", a.port()));
  bounded.addresses = {make_address("127.0.0.2"), make_address("127.0.0.3"),
                       make_address("127.0.0.1")};
  // Two silent addresses fill the two places; the third, 127.0.0.1, is never tried.
  opensock::connect_only_session session(io.get_executor(), std::ref(factory), options);
  const auto ec = opensock::test::run_connect(io, session, bounded);
  CHECK(ec == opensock::error::operation_timedout);
  CHECK(session.attempts().size() == 2);  // the third never started
  CHECK(factory.opened == factory.closed);
}

TEST_CASE("all attempts at once: the first connected wins, the others are closed") {
  asio::io_context io;
  loopback_listener first(io), second(io, make_address("127.0.0.2"));
  counting_factory factory;
  auto result = race(io, factory, {first.endpoint(), second.endpoint()}, {0ms, 6});
  REQUIRE(!result.error);
  CHECK(result.attempts.size() == 2);
  CHECK(factory.opened == 2);
  CHECK(factory.closed == 1);
}

TEST_CASE("an abort stops the race and closes what is running") {
  asio::io_context io;
  unanswered_port silent(make_address("127.0.0.2"));
  counting_factory counter;
  auto factory = [&](open_context<tcp>& context) -> open_result<tcp::socket> {
    if (context.attempt == 2) return opensock::abort(std::make_error_code(std::errc::permission_denied));
    return counter(context);
  };
  auto result = race(io, factory, {silent.endpoint(), v4(1)}, {20ms, 6});
  CHECK(result.error == std::errc::permission_denied);
  CHECK(counter.opened == 1);
  CHECK(result.attempts.at(0).outcome == attempt_outcome::aborted);
}

TEST_CASE("cancelled twice while attempts drain: the race waits for them all") {
  asio::io_context io;
  counting_factory counter;
  // A factory that ignores cancellation for a while, as a slow helper process might.
  auto stubborn = [&](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
    asio::steady_timer busy(context.executor, 300ms);
    std::error_code ignored;
    co_await busy.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return counter(context);
  };
  // Two addresses, so that the attempts run apart from the race's own coroutine.
  const std::vector<tcp::endpoint> endpoints = {v4(1, "127.0.0.2"), v4(1, "127.0.0.3")};
  std::optional<std::error_code> result;
  bool done = false;
  asio::cancellation_signal cancel;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // An ordinary coroutine: it throws on cancellation by default.
        auto r = co_await opensock::connect_endpoints(
            stubborn, std::span<const tcp::endpoint>(endpoints), prototype(io));
        result = r.error;
      },
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr) {
        done = true;
        io.stop();
      }));
  asio::steady_timer first(io, 50ms), second(io, 100ms);
  first.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  second.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  io.run_for(5s);
  REQUIRE(done);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(counter.opened == 1);  // the attempt ran to its end before the race returned
}

TEST_CASE("a local port held by one attempt refuses the next, which does not end the race") {
  asio::io_context io;
  loopback_listener server(io);
  unanswered_port silent(make_address("127.0.0.2"), server.port());
  tcp::acceptor probe(io, {make_address("127.0.0.1"), 0});
  const std::uint16_t port = probe.local_endpoint().port();
  probe.close();  // free again: the first attempt takes it, the second finds it held
  opensock::connect_options options;
  options.happy_eyeballs = {20ms, 6};
  options.connect_timeout = 300ms;
  opensock::route held(opensock::origin("held.test", server.port()));
  held.addresses = {make_address("127.0.0.2"), make_address("127.0.0.1")};
  held.local = opensock::local_binding(make_address("127.0.0.1"), {port, port});
  opensock::connect_only_session session(io.get_executor(), opensock::default_socket_factory{},
                                         options);
  // Not aborted at the second attempt: the race runs on to the deadline.
  CHECK(opensock::test::run_connect(io, session, held) == opensock::error::operation_timedout);
  REQUIRE(session.attempts().size() == 2);
  CHECK(session.attempts()[1].outcome == attempt_outcome::refused);
  CHECK(session.attempts()[1].error == opensock::error::interface_failed);
}
