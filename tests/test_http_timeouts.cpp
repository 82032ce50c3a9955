#include <opensock/http/timeouts.hpp>

#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/compiled_sessions.hpp"
#include "support/http_request.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"
#include "support/unanswered_port.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using opensock::http::request_timeouts;
using opensock::test::counting_factory;
using opensock::test::make_request;
using opensock::test::request;
using opensock::test::scripted_http_server;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// A server that sends a response head announcing `size` body bytes, then one byte every
// `interval`: a transfer as slow as the test wants.
class dripping_server {
 public:
  dripping_server(asio::io_context& io, std::size_t size, std::chrono::milliseconds interval)
      : acceptor_(io, {asio::ip::address_v4::loopback(), 0}), size_(size), interval_(interval) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      auto peer = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(acceptor_.get_executor(), drip(std::move(peer)), asio::detached);
    }
  }
  asio::awaitable<void> drip(asio::ip::tcp::socket peer) {
    std::string in;
    std::error_code ec;
    co_await asio::async_read_until(peer, asio::dynamic_buffer(in), "\r\n\r\n",
                                    asio::redirect_error(asio::use_awaitable, ec));
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size_) + "\r\n\r\n";
    co_await asio::async_write(peer, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
    asio::steady_timer pause(peer.get_executor());
    for (std::size_t i = 0; i < size_ && !ec; ++i) {
      pause.expires_after(interval_);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await asio::async_write(peer, asio::buffer("x", 1), asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::ip::tcp::acceptor acceptor_;
  std::size_t size_;
  std::chrono::milliseconds interval_;
};

}  // namespace

TEST_CASE("the total limit covers a body still arriving") {
  asio::io_context io;
  dripping_server slow(io, 100, 50ms);
  int opened = 0, closed = 0;
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed});
  auto req = make_request("GET", slow.url());
  req.timeouts = request_timeouts{};
  req.timeouts->total = 300ms;
  const auto started = clock_type::now();
  CHECK(request(io, session, req).first == opensock::error::operation_timedout);
  const auto took = clock_type::now() - started;
  CHECK(took >= 300ms);
  CHECK(took < 3s);
  CHECK(closed == opened);
}

TEST_CASE("a connect limit: a silent address ends in 28, per request or per session") {
  asio::io_context io;
  opensock::test::unanswered_port silent(asio::ip::address_v4::loopback());
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
  opensock::http::session_options options;
  options.timeouts.connect = 200ms;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  auto started = clock_type::now();
  CHECK(request(io, session, make_request("GET", url)).first == opensock::error::operation_timedout);
  CHECK(clock_type::now() - started < 3s);

  // A request's own limits replace the session's.
  opensock::http::session patient(io.get_executor());
  auto req = make_request("GET", url);
  req.timeouts = request_timeouts{};
  req.timeouts->connect = 150ms;
  started = clock_type::now();
  CHECK(request(io, patient, req).first == opensock::error::operation_timedout);
  CHECK(clock_type::now() - started < 3s);

  // Under a total limit, whose timer is set anyway, the session's watchdog ends it.
  opensock::http::session_options whole;
  whole.timeouts.total = 200ms;
  opensock::http::session bounded(io.get_executor(), opensock::default_socket_factory{}, whole);
  started = clock_type::now();
  CHECK(request(io, bounded, make_request("GET", url)).first == opensock::error::operation_timedout);
  CHECK(clock_type::now() - started < 3s);
}

TEST_CASE("under a total limit new connections follow one another: a passed deadline reaches none of them") {
  asio::io_context io;
  opensock::test::unanswered_port silent(asio::ip::address_v4::loopback());
  scripted_http_server live(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const std::string silent_url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
  opensock::http::session_options options;
  options.timeouts.total = 300ms;
  options.max_idle = 0;  // a new connection per request, on the connection object left
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto fetch = [&](const std::string& url) {
    const auto [ec, res] = request(io, session, make_request("GET", url));
    return ec ? ec.message() : res.body;
  };
  const std::string timed_out = std::error_code(opensock::error::operation_timedout).message();
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    CHECK(fetch(live.url()) == "ok");
    CHECK(fetch(live.url()) == "ok");
    CHECK(fetch(silent_url) == timed_out);
    CHECK(fetch(live.url()) == "ok");
    // Past the deadlines of the connects before: none of them fires now.
    opensock::test::settle(io, 400ms);
    CHECK(fetch(live.url()) == "ok");
  }
  CHECK(live.connections == 8);
}

TEST_CASE("cancelling the awaiting coroutine ends a connect under a limit at once") {
  asio::io_context io;
  opensock::test::unanswered_port silent(asio::ip::address_v4::loopback());
  int opened = 0, closed = 0;
  opensock::http::session_options options;
  options.timeouts.connect = 10s;  // the connect runs under a deadline, far off
  opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed}, options);
  const auto req =
      make_request("GET", "http://127.0.0.1:" + std::to_string(silent.port()) + "/");
  opensock::http::response out;
  asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await session.request(req, out);
        io.stop();
      },
      asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
  asio::steady_timer soon(io, 50ms);
  soon.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  const auto started = clock_type::now();
  io.run_for(5s);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(clock_type::now() - started < 3s);
  CHECK(opened == 1);
  CHECK(closed == opened);
}

// A connect limit alone gives the connect's stop a timer of its own; under a total
// limit, whose timer is set anyway, the session's watchdog cancels the stop. Both must
// end a race on time.
TEST_CASE("a connect or total limit ends a race of silent addresses and closes every socket") {
  for (const bool total : {false, true}) {
    INFO("limit: " << (total ? "total" : "connect"));
    asio::io_context io;
    opensock::test::unanswered_port a(asio::ip::make_address("127.0.0.2"));
    opensock::test::unanswered_port b(asio::ip::make_address("127.0.0.3"), a.port());
    int opened = 0, closed = 0;
    opensock::http::session_options options;
    (total ? options.timeouts.total : options.timeouts.connect) = 200ms;
    options.connect.happy_eyeballs.attempt_delay = 10ms;
    options.names.overrides.push_back(*opensock::resolve_override::parse(
        "silent.test:" + std::to_string(a.port()) + ":127.0.0.2,127.0.0.3"));
    opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed}, options);
    bool connect_error_hook_called = false;
    opensock::http::transfer_hooks hooks;
    hooks.on_connect_error = [&](const auto&, std::error_code) { connect_error_hook_called = true; };
    const auto started = clock_type::now();
    CHECK(request(io, session,
                  make_request("GET", "http://silent.test:" + std::to_string(a.port()) + "/"),
                  hooks)
              .first == opensock::error::operation_timedout);
    const auto took = clock_type::now() - started;
    CHECK(took >= 200ms);
    CHECK(took < 3s);
    CHECK(opened == 2);
    CHECK(closed == opened);
    CHECK(!connect_error_hook_called);  // a time limit cut it short: no hook, as documented
  }
}

TEST_CASE("without a request limit, nothing is left pending once a request is done") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  asio::ip::tcp::socket peer(io);
  std::string received;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        peer = co_await acceptor.async_accept(asio::use_awaitable);
        co_await asio::async_read_until(peer, asio::dynamic_buffer(received), "\r\n\r\n",
                                        asio::use_awaitable);
        const std::string_view reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        co_await asio::async_write(peer, asio::buffer(reply), asio::use_awaitable);
      },
      asio::detached);
  opensock::http::session session(io.get_executor());
  const auto port = std::to_string(acceptor.local_endpoint().port());
  REQUIRE(!request(io, session, make_request("GET", "http://127.0.0.1:" + port + "/")).first);
  // The connect had its default limit (300 s): no timer of it may outlive the request.
  io.restart();
  const auto started = clock_type::now();
  io.run_for(3s);
  CHECK(clock_type::now() - started < 1s);
}

TEST_CASE("a connect limit cuts a coroutine factory's own wait") {
  asio::io_context io;
  bool factory_saw_cancel = false;
  auto waits = [&](opensock::open_context<asio::ip::tcp>& context)
      -> asio::awaitable<opensock::open_result<asio::ip::tcp::socket>> {
    asio::steady_timer never(context.executor, 1h);
    std::error_code ec;
    co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    factory_saw_cancel = ec == asio::error::operation_aborted;
    co_return opensock::abort(ec);
  };
  opensock::http::session_options options;
  options.timeouts.connect = 150ms;
  opensock::http::session session(io.get_executor(), waits, options);
  const auto started = clock_type::now();
  CHECK(request(io, session, make_request("GET", "http://127.0.0.1:9/")).first ==
        opensock::error::operation_timedout);
  CHECK(clock_type::now() - started < 3s);
  CHECK(factory_saw_cancel);
}

#if OPENSOCK_HAS_TLS
TEST_CASE("a connect or total limit covers the TLS handshake: a server that never answers it, 28") {
  for (const bool total : {false, true}) {
    INFO("limit: " << (total ? "total" : "connect"));
    asio::io_context io;
    // Accepts and says nothing: the handshake waits for a ServerHello that never comes.
    asio::ip::tcp::acceptor quiet(io, {asio::ip::address_v4::loopback(), 0});
    std::vector<asio::ip::tcp::socket> accepted;
    std::function<void()> accept_next = [&] {
      quiet.async_accept([&](std::error_code ec, asio::ip::tcp::socket peer) {
        if (ec) return;
        accepted.push_back(std::move(peer));
        accept_next();
      });
    };
    accept_next();
    int opened = 0, closed = 0;
    opensock::http::session_options options;
    (total ? options.timeouts.total : options.timeouts.connect) = 200ms;
    opensock::http::session session(io.get_executor(), counting_factory{&opened, &closed}, options);
    const auto started = clock_type::now();
    CHECK(request(io, session,
                  make_request("GET", "https://127.0.0.1:" +
                                          std::to_string(quiet.local_endpoint().port()) + "/"))
              .first == opensock::error::operation_timedout);
    const auto took = clock_type::now() - started;
    CHECK(took >= 200ms);
    CHECK(took < 3s);
    CHECK(opened == 1);
    CHECK(closed == opened);
  }
}
#endif

TEST_CASE("a transfer slower than the low-speed limit for its time ends in 28") {
  asio::io_context io;
  dripping_server slow(io, 1000, 100ms);  // 10 bytes a second
  opensock::http::session session(io.get_executor());
  auto req = make_request("GET", slow.url());
  req.timeouts = request_timeouts{};
  req.timeouts->low_speed_limit = 100;
  req.timeouts->low_speed_time = 1s;
  const auto started = clock_type::now();
  CHECK(request(io, session, req).first == opensock::error::operation_timedout);
  const auto took = clock_type::now() - started;
  CHECK(took >= 1s);
  CHECK(took < 5s);
}

TEST_CASE("a transfer faster than the low-speed limit is left alone") {
  asio::io_context io;
  dripping_server steady(io, 30, 40ms);  // 25 bytes a second, for 1.2 s
  opensock::http::session session(io.get_executor());
  auto req = make_request("GET", steady.url());
  req.timeouts = request_timeouts{};
  req.timeouts->low_speed_limit = 10;
  req.timeouts->low_speed_time = 1s;
  auto [ec, r] = request(io, session, req);
  CHECK(!ec);
  CHECK(r.body == std::string(30, 'x'));
}

TEST_CASE("kept-alive requests under a total limit are not cut by their predecessors' limits") {
  asio::io_context io;
  scripted_http_server server(io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  opensock::http::session_options options;
  options.timeouts.total = 250ms;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  const auto started = clock_type::now();
  int done = 0;
  // Past the first request's deadline the watchdog fires with requests still running;
  // only a request past its own deadline may end.
  while (clock_type::now() - started < 700ms) {
    auto [ec, r] = request(io, session, make_request("GET", server.url()));
    REQUIRE(!ec);
    ++done;
    asio::steady_timer pause(io, 20ms);
    pause.async_wait([&](std::error_code) { io.stop(); });
    io.restart();
    io.run();
  }
  CHECK(done > 10);
  CHECK(server.connections == 1);
}

TEST_CASE("the watchdog expires each watch at its own deadline") {
  asio::io_context io;
  opensock::detail::request_watchdog watchdog(io.get_executor());
  using watch = opensock::detail::request_watchdog::watch;
  std::vector<int> order;
  auto record = [](void* context) {
    auto* entry = static_cast<std::pair<std::vector<int>*, int>*>(context);
    entry->first->push_back(entry->second);
  };
  std::pair<std::vector<int>*, int> late{&order, 3}, early{&order, 1}, middle{&order, 2}, gone{&order, 4};
  watch w3, w1, w2, w4;
  const auto now = clock_type::now();
  for (auto [w, at, context] : {std::tuple{&w3, 150ms, &late}, std::tuple{&w1, 30ms, &early},
                                std::tuple{&w2, 90ms, &middle}, std::tuple{&w4, 60ms, &gone}}) {
    w->deadline = now + at;
    w->on_expire = record;
    w->context = context;
    watchdog.add(*w);
  }
  watchdog.remove(w4);
  asio::steady_timer stop(io, 400ms);
  stop.async_wait([&](std::error_code) { io.stop(); });
  io.run();
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(w1.expired);
  CHECK(!w4.expired);
  watchdog.remove(w1);
  watchdog.remove(w2);
  watchdog.remove(w3);
}
