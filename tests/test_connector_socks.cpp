#include <opensock/connector/socks.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/proxy_peers.hpp"
#include "support/run.hpp"
#include "support/scripted_proxy.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using asio::ip::tcp;
using opensock::proxy;
using opensock::proxy_kind;
using opensock::test::run;
using opensock::test::scripted_proxy;
using bytes = std::vector<unsigned char>;
using namespace std::chrono_literals;

namespace {

asio::awaitable<bytes> receive(tcp::socket& s, std::size_t n) {
  bytes got(n);
  co_await asio::async_read(s, asio::buffer(got), asio::use_awaitable);
  co_return got;
}

asio::awaitable<void> send(tcp::socket& s, const bytes& b) {
  co_await asio::async_write(s, asio::buffer(b), asio::use_awaitable);
}

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }

bytes join(std::initializer_list<bytes> parts) {
  bytes all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// Connects to `port` on 127.0.0.1 and runs the handshake through `via` to `host`:`port`.
std::error_code handshake(asio::io_context& io, std::uint16_t proxy_port, const proxy& via,
                          const std::string& host, std::uint16_t target_port,
                          tcp::socket* keep = nullptr) {
  tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), proxy_port});
  auto ec = run(io, opensock::socks_handshake(socket, via, host, target_port));
  if (keep) *keep = std::move(socket);
  return ec;
}

const bytes socks5_ok_ipv4 = {5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90};

}  // namespace

TEST_CASE("SOCKS5 without authentication: an IPv4 target, and the stream carries the tunnel") {
  asio::io_context io;
  bytes request;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    const bytes got = co_await receive(s, 3);
    CHECK(got == bytes{5, 1, 0});
    const bytes method_none{5, 0};
    co_await send(s, method_none);
    request = co_await receive(s, 10);
    // The reply and the tunnel's first bytes in one write: the handshake must read the
    // reply alone.
    const bytes reply = join({socks5_ok_ipv4, text("hello")});
    co_await send(s, reply);
  });
  tcp::socket socket(io);
  REQUIRE(!handshake(io, peer.port(), proxy(proxy_kind::socks5, "127.0.0.1"), "192.0.2.7", 443,
                     &socket));
  CHECK(request == bytes{5, 1, 0, 1, 192, 0, 2, 7, 0x01, 0xbb});
  char tunnel[5];
  asio::read(socket, asio::buffer(tunnel));
  CHECK(std::string(tunnel, 5) == "hello");
}

TEST_CASE("SOCKS5 sends a name for the proxy to resolve, and an IPv6 literal as an address") {
  asio::io_context io;
  bytes by_name, by_address;
  scripted_proxy named(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 3);
    const bytes method_none{5, 0};
    co_await send(s, method_none);
    by_name = co_await receive(s, 4 + 1 + 12 + 2);
    co_await send(s, socks5_ok_ipv4);
  });
  scripted_proxy literal(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 3);
    const bytes method_none{5, 0};
    co_await send(s, method_none);
    by_address = co_await receive(s, 4 + 16 + 2);
    // A reply binding an IPv6 address: 22 bytes, all read.
    const bytes reply = join({{5, 0, 0, 4}, bytes(16, 0), {0, 80}});
    co_await send(s, reply);
  });
  CHECK(!handshake(io, named.port(), proxy(proxy_kind::socks5h, "127.0.0.1"), "example.test",
                   80));
  CHECK(by_name == join({{5, 1, 0, 3, 12}, text("example.test"), {0, 80}}));
  CHECK(!handshake(io, literal.port(), proxy(proxy_kind::socks5, "127.0.0.1"), "2001:db8::1",
                   8080));
  CHECK(by_address == join({{5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8}, bytes(11, 0), {1},
                            {0x1f, 0x90}}));
}

TEST_CASE("SOCKS5 with a user name and password (RFC 1929)") {
  asio::io_context io;
  proxy via(proxy_kind::socks5, "127.0.0.1");
  via.user = "alice";
  via.password = "s3cret";
  bytes auth;
  scripted_proxy accepting(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    const bytes got = co_await receive(s, 4);
    CHECK(got == bytes{5, 2, 0, 2});
    const bytes method_user{5, 2};
    co_await send(s, method_user);
    auth = co_await receive(s, 3 + 5 + 6);
    const bytes auth_ok{1, 0};
    co_await send(s, auth_ok);
    co_await receive(s, 10);
    co_await send(s, socks5_ok_ipv4);
  });
  CHECK(!handshake(io, accepting.port(), via, "10.1.2.3", 80));
  CHECK(auth == join({{1, 5}, text("alice"), {6}, text("s3cret")}));

  scripted_proxy rejecting(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 4);
    const bytes method_user{5, 2};
    co_await send(s, method_user);
    co_await receive(s, 14);
    const bytes auth_rejected{1, 1};
    co_await send(s, auth_rejected);
  });
  const auto ec = handshake(io, rejecting.port(), via, "10.1.2.3", 80);
  CHECK(ec == opensock::error::proxy_user_rejected);
  CHECK(opensock::curl_code(ec) == 97);
}

TEST_CASE("SOCKS5 failures are 97, each with its meaning") {
  struct reply_case {
    unsigned char code;
    opensock::error expected;
  };
  const reply_case cases[] = {
      {1, opensock::error::proxy_reply_general_server_failure},
      {2, opensock::error::proxy_reply_not_allowed},
      {3, opensock::error::proxy_reply_network_unreachable},
      {4, opensock::error::proxy_reply_host_unreachable},
      {5, opensock::error::proxy_reply_connection_refused},
      {6, opensock::error::proxy_reply_ttl_expired},
      {7, opensock::error::proxy_reply_command_not_supported},
      {8, opensock::error::proxy_reply_address_type_not_supported},
      {9, opensock::error::proxy_reply_unassigned},
      {255, opensock::error::proxy_reply_unassigned},
  };
  for (const auto& c : cases) {
    asio::io_context io;
    scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
      co_await receive(s, 3);
      const bytes method_none{5, 0};
      co_await send(s, method_none);
      co_await receive(s, 10);
      const bytes reply{5, c.code, 0, 1, 0, 0, 0, 0, 0, 0};
      co_await send(s, reply);
    });
    const auto ec = handshake(io, peer.port(), proxy(proxy_kind::socks5, "127.0.0.1"),
                              "10.0.0.1", 80);
    CAPTURE(int(c.code));
    CHECK(ec == c.expected);
    CHECK(ec == opensock::condition::proxy);
  }

  // What the proxy may get wrong on the way.
  using script = scripted_proxy::script;
  struct broken_case {
    const char* what;
    script s;
    opensock::error expected;
  };
  const broken_case broken[] = {
      {"no acceptable method",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes no_method{5, 0xff};
         co_await send(s, no_method);
       },
       opensock::error::proxy_no_auth},
      {"a method that was not offered",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes method_user{5, 2};
         co_await send(s, method_user);
       },
       opensock::error::proxy_no_auth},
      {"a SOCKS4 answer to a SOCKS5 greeting",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes socks4_answer{4, 0};
         co_await send(s, socks4_answer);
       },
       opensock::error::proxy_bad_version},
      {"a reply of another version",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes method_none{5, 0};
         co_await send(s, method_none);
         co_await receive(s, 10);
         const bytes reply{1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
         co_await send(s, reply);
       },
       opensock::error::proxy_bad_version},
      {"an address type that does not exist",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes method_none{5, 0};
         co_await send(s, method_none);
         co_await receive(s, 10);
         const bytes reply{5, 0, 0, 2, 0, 0, 0, 0, 0, 0};
         co_await send(s, reply);
       },
       opensock::error::proxy_bad_address_type},
      {"closed before choosing a method",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         s.close();
       },
       opensock::error::proxy_closed},
      {"closed inside the reply",
       [](tcp::socket& s) -> asio::awaitable<void> {
         co_await receive(s, 3);
         const bytes method_none{5, 0};
         co_await send(s, method_none);
         co_await receive(s, 10);
         const bytes reply{5, 0, 0, 1, 10};
         co_await send(s, reply);
         s.close();
       },
       opensock::error::proxy_closed},
  };
  for (const auto& b : broken) {
    asio::io_context io;
    scripted_proxy peer(io, b.s);
    CAPTURE(b.what);
    const auto ec = handshake(io, peer.port(), proxy(proxy_kind::socks5, "127.0.0.1"),
                              "10.0.0.1", 80);
    CHECK(ec == b.expected);
    CHECK(opensock::curl_code(ec) == 97);
  }
}

TEST_CASE("SOCKS5 refuses what does not fit its messages before sending anything") {
  asio::io_context io;
  bool contacted = false;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 1);
    contacted = true;
  });
  proxy long_user(proxy_kind::socks5, "127.0.0.1");
  long_user.user = std::string(256, 'u');
  CHECK(handshake(io, peer.port(), long_user, "10.0.0.1", 80) ==
        opensock::error::proxy_long_user);
  proxy long_password(proxy_kind::socks5, "127.0.0.1");
  long_password.user = "u";
  long_password.password = std::string(256, 'p');
  CHECK(handshake(io, peer.port(), long_password, "10.0.0.1", 80) ==
        opensock::error::proxy_long_passwd);
  CHECK(!contacted);
}

TEST_CASE("SOCKS5 refuses a name over 255 bytes for the proxy to resolve") {
  asio::io_context io;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 3);
    const bytes method_none{5, 0};
    co_await send(s, method_none);
  });
  CHECK(handshake(io, peer.port(), proxy(proxy_kind::socks5h, "127.0.0.1"),
                  std::string(256, 'n'), 80) == opensock::error::proxy_long_hostname);
}

TEST_CASE("SOCKS4: an IPv4 address with the user id; SOCKS4a: a name after it") {
  asio::io_context io;
  bytes plain, named;
  scripted_proxy four(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    plain = co_await receive(s, 8 + 4);
    const bytes reply = join({{0, 90, 0, 0, 0, 0, 0, 0}, text("tunnel")});
    co_await send(s, reply);
  });
  proxy via(proxy_kind::socks4, "127.0.0.1");
  via.user = "bob";
  tcp::socket socket(io);
  REQUIRE(!handshake(io, four.port(), via, "192.0.2.1", 8080, &socket));
  CHECK(plain == join({{4, 1, 0x1f, 0x90, 192, 0, 2, 1}, text("bob"), {0}}));
  char tunnel[6];
  asio::read(socket, asio::buffer(tunnel));
  CHECK(std::string(tunnel, 6) == "tunnel");

  scripted_proxy four_a(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    named = co_await receive(s, 8 + 1 + 10);
    const bytes reply{0, 90, 0, 0, 0, 0, 0, 0};
    co_await send(s, reply);
  });
  CHECK(!handshake(io, four_a.port(), proxy(proxy_kind::socks4a, "127.0.0.1"), "host.test",
                   80));
  CHECK(named == join({{4, 1, 0, 80, 0, 0, 0, 1, 0}, text("host.test"), {0}}));
}

TEST_CASE("SOCKS4 failures are 97, each with its meaning") {
  const std::pair<unsigned char, opensock::error> cases[] = {
      {91, opensock::error::proxy_request_failed},
      {92, opensock::error::proxy_identd},
      {93, opensock::error::proxy_identd_differ},
      {94, opensock::error::proxy_unknown_fail},
  };
  for (const auto& [code, expected] : cases) {
    asio::io_context io;
    scripted_proxy peer(io, [&, code = code](tcp::socket& s) -> asio::awaitable<void> {
      co_await receive(s, 9);
      const bytes reply{0, code, 0, 0, 0, 0, 0, 0};
      co_await send(s, reply);
    });
    const auto ec =
        handshake(io, peer.port(), proxy(proxy_kind::socks4, "127.0.0.1"), "10.0.0.1", 80);
    CAPTURE(int(code));
    CHECK(ec == expected);
    CHECK(opensock::curl_code(ec) == 97);
  }
  asio::io_context io;
  scripted_proxy wrong_version(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 9);
    const bytes reply{4, 90, 0, 0, 0, 0, 0, 0};
    co_await send(s, reply);
  });
  CHECK(handshake(io, wrong_version.port(), proxy(proxy_kind::socks4, "127.0.0.1"), "10.0.0.1",
                  80) == opensock::error::proxy_bad_version);
}

TEST_CASE("SOCKS4 reaches IPv4 addresses only: a name or an IPv6 address is refused unsent") {
  asio::io_context io;
  bool contacted = false;
  scripted_proxy peer(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 1);
    contacted = true;
  });
  const proxy via(proxy_kind::socks4, "127.0.0.1");
  CHECK(handshake(io, peer.port(), via, "host.test", 80) == opensock::error::proxy_resolve_host);
  CHECK(handshake(io, peer.port(), via, "::1", 80) == opensock::error::proxy_resolve_host);
  CHECK(!contacted);
}

TEST_CASE("the handshake is an Asio operation: a callback, and cancellation while it waits") {
  asio::io_context io;
  scripted_proxy silent(io, [&](tcp::socket& s) -> asio::awaitable<void> {
    co_await receive(s, 3);
    asio::steady_timer never(s.get_executor(), 1h);
    std::error_code ignored;
    co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  });
  tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), silent.port()});
  const proxy via(proxy_kind::socks5h, "127.0.0.1");
  asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  opensock::async_socks_handshake(socket, via, "example.test", 443,
                                  asio::bind_cancellation_slot(cancel.slot(),
                                                               [&](std::error_code ec) {
                                                                 result = ec;
                                                                 io.stop();
                                                               }));
  asio::steady_timer soon(io, 20ms);
  soon.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  io.run_for(5s);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
}

TEST_CASE("through microsocks: a tunnel to a loopback server, and its answers") {
  auto open = opensock::test::start_microsocks();
  auto guarded = opensock::test::start_microsocks("carol", "pa55");
  if (!open || !guarded) return;
  asio::io_context io;
  opensock::test::loopback_listener server(io);

  tcp::socket socket(io);
  REQUIRE(!handshake(io, open->port(), proxy(proxy_kind::socks5, "127.0.0.1"), "127.0.0.1",
                     server.port(), &socket));
  asio::write(socket, asio::buffer("ping", 4));
  run(io, [&]() -> asio::awaitable<void> {
    while (server.connections().empty()) {
      asio::steady_timer tick(io, 5ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    char got[4];
    co_await asio::async_read(server.connections().at(0), asio::buffer(got), asio::use_awaitable);
    CHECK(std::string(got, 4) == "ping");
  }());

  // The proxy resolves a name it is given (SOCKS5h).
  CHECK(!handshake(io, open->port(), proxy(proxy_kind::socks5h, "127.0.0.1"), "localhost",
                   server.port()));

  // Nothing listens there: the proxy says so.
  asio::ip::tcp::acceptor closed(io, {asio::ip::address_v4::loopback(), 0});
  const auto refused_port = closed.local_endpoint().port();
  closed.close();
  const auto refused = handshake(io, open->port(), proxy(proxy_kind::socks5, "127.0.0.1"),
                                 "127.0.0.1", refused_port);
  CHECK(refused == opensock::error::proxy_reply_connection_refused);

  proxy via(proxy_kind::socks5, "127.0.0.1");
  via.user = "carol";
  via.password = "pa55";
  CHECK(!handshake(io, guarded->port(), via, "127.0.0.1", server.port()));
  via.password = "wrong";
  CHECK(handshake(io, guarded->port(), via, "127.0.0.1", server.port()) ==
        opensock::error::proxy_user_rejected);
  CHECK(handshake(io, guarded->port(), proxy(proxy_kind::socks5, "127.0.0.1"), "127.0.0.1",
                  server.port()) == opensock::error::proxy_no_auth);
}
