// The test stream factory under a session, and each protocol's exchange walked over
// its failure points: a run fails the first operation (an open, a read or a write),
// the next run the second, and so on until a run ends without failing any. Each run
// must end in a clear error with curl's meaning, close every connection, never hang,
// and send nothing twice; a reply cut at each of its bytes the same.
#include <opensock/test/stream_factory.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/run.hpp"
#include "support/session_request.hpp"

#include <opensock/error.hpp>
#include <opensock/http/session.hpp>
#include <opensock/proxy.hpp>
#include <opensock/tls/options.hpp>
#if OPENSOCK_HAS_TLS
#include <opensock/websocket/connect.hpp>

#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using opensock::test::fault;
using opensock::test::stream;
using opensock::test::stream_factory;
using session_type = opensock::http::session<stream_factory>;

namespace {

const std::string reply_hello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const std::string reply_chunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";

// A factory whose peers send `pieces`, every connection alike, before any request.
stream_factory answering(std::vector<std::string> pieces, std::shared_ptr<fault> f = nullptr) {
  return stream_factory(
      [pieces = std::move(pieces)](stream& peer) {
        for (const auto& piece : pieces) peer.send(piece);
      },
      std::move(f));
}

opensock::http::request get(const std::string& url) {
  return opensock::test::make_request("GET", url);
}

opensock::http::request post(const std::string& url, std::string body) {
  auto req = opensock::test::make_request("POST", url);
  req.body = opensock::http::request_body(std::move(body));
  return req;
}

std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != text.npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Runs `requests` in turn through one session over `factory`; after the session is
// gone, every connection it opened must be closed. The factory's record of streams must
// go before `io`, as any Asio I/O object.
std::vector<std::pair<std::error_code, opensock::http::response>> perform(
    asio::io_context& io, stream_factory factory, std::vector<opensock::http::request> requests,
    opensock::http::session_options options = {}) {
  std::vector<std::pair<std::error_code, opensock::http::response>> results;
  {
    session_type session(io.get_executor(), factory, std::move(options));
    for (auto& req : requests) results.push_back(opensock::test::request(io, session, req));
  }
  io.restart();
  io.run_for(std::chrono::seconds(1));
  CHECK(factory.open_connections() == 0);
  return results;
}

// What a run with an injected failure may end in: the failure is a connect's (7), a
// send's (55), a receive's (56) or a proxy handshake's (97).
bool clear_failure(std::error_code ec) {
  static const std::set<int> expected = {7, 55, 56, 97};
  return expected.count(opensock::curl_code(ec)) == 1;
}

// Runs `one_run(fault)` with the fault at the first operation, the second, … until a run
// ends without it firing; returns how many operations the run without a failure made.
template <class Run>
std::size_t walk_failure_point(Run one_run) {
  for (std::size_t nth = 1; nth < 1000; ++nth) {
    INFO("failing operation " << nth);
    auto f = std::make_shared<fault>(nth, asio::error::connection_reset);
    one_run(f);
    if (!f->fired()) return f->operations();
  }
  FAIL("every run failed");
  return 0;
}

}  // namespace

TEST_CASE("a session's connections are the factory's streams") {
  asio::io_context io;
  stream_factory factory = answering({reply_hello, reply_chunked});
  const auto results =
      perform(io, factory, {get("http://127.0.0.1:8080/a"), get("http://127.0.0.1:8080/b")});
  REQUIRE(results.size() == 2);
  for (const auto& [ec, out] : results) {
    CHECK(!ec);
    CHECK(out.body == "hello");
  }
  // Both on one connection, kept alive between them.
  REQUIRE(factory.peers().size() == 1);
  const std::string& sent = factory.peers()[0].received();
  CHECK(sent.starts_with("GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
  CHECK(occurrences(sent, "GET /b HTTP/1.1\r\n") == 1);
}

TEST_CASE("a reply read a byte at a time reads as the whole") {
  for (const auto& reply : {reply_hello, reply_chunked}) {
    asio::io_context io;
    stream_factory factory = answering({reply});
    factory.read_size(1);
    const auto results = perform(io, factory, {get("http://127.0.0.1:8080/")});
    CHECK(!results[0].first);
    CHECK(results[0].second.body == "hello");
  }
}

TEST_CASE("a GET fails cleanly at each of its operations") {
  for (const auto& reply : {reply_hello, reply_chunked}) {
    const std::size_t operations = walk_failure_point([&](std::shared_ptr<fault> f) {
      asio::io_context io;
      const auto results = perform(io, answering({reply}, f), {get("http://127.0.0.1:8080/")});
      const auto& [ec, out] = results[0];
      if (f->fired()) {
        CHECK(clear_failure(ec));
      } else {
        CHECK(!ec);
        CHECK(out.body == "hello");
      }
    });
    CHECK(operations >= 3);  // an open, a write, a read
  }
}

TEST_CASE("kept-alive requests fail cleanly at each operation and a POST is sent once") {
  // Each peer answers two requests: the GET opens the connection and the POST reuses
  // it. Wherever the failure comes, nothing is sent twice on a connection and the POST
  // is never sent twice at all.
  walk_failure_point([&](std::shared_ptr<fault> f) {
    asio::io_context io;
    stream_factory factory = answering({reply_hello, reply_chunked}, f);
    const auto results =
        perform(io, factory,
                {get("http://127.0.0.1:8080/first"), post("http://127.0.0.1:8080/form", "a=1")});
    for (const auto& [ec, out] : results) {
      if (ec) {
        CHECK(f->fired());
        CHECK(clear_failure(ec));
      } else {
        CHECK(out.body == "hello");
      }
    }
    std::size_t posts = 0;
    for (const auto& peer : factory.peers()) {
      CHECK(occurrences(peer.received(), "GET /first ") <= 1);
      posts += occurrences(peer.received(), "POST /form ");
    }
    CHECK(posts <= 1);
  });
}

namespace {

// A peer that reads the request's head, sends `prefix` and closes or resets.
asio::awaitable<void> cut_reply(stream& peer, std::string prefix, bool reset) {
  std::string request;
  std::error_code ec;
  co_await asio::async_read_until(peer, asio::dynamic_buffer(request), "\r\n\r\n",
                                  asio::redirect_error(asio::use_awaitable, ec));
  peer.send(prefix);
  if (reset) {
    peer.reset();
  } else {
    peer.close();
  }
}

}  // namespace

TEST_CASE("a reply cut or reset at each byte ends in curl's error") {
  for (const auto& reply : {reply_hello, reply_chunked}) {
    for (const bool reset : {false, true}) {
      for (std::size_t cut = 0; cut < reply.size(); ++cut) {
        INFO("the reply " << (reset ? "reset" : "closed") << " after " << cut << " bytes");
        asio::io_context io;
        stream_factory factory([&](stream& peer) {
          asio::co_spawn(io, cut_reply(peer, reply.substr(0, cut), reset), asio::detached);
        });
        const auto results = perform(io, factory, {get("http://127.0.0.1:8080/")});
        const int code = opensock::curl_code(results[0].first);
        if (reset) {
          CHECK(code == 56);
        } else if (cut < reply.find("\r\n") + 2) {
          CHECK(code == 52);  // no status line came whole: curl's empty reply
        } else {
          // A head cut short is 8 (a known difference: curl takes what came as the head),
          // a body cut short 18.
          CHECK(code == (cut < reply.find("\r\n\r\n") + 4 ? 8 : 18));
        }
      }
    }
  }
}

TEST_CASE("a request whose body the peer stops taking fails as a send error") {
  asio::io_context io;
  stream_factory factory([](stream& peer) { peer.receive_at_most(40); });
  const auto results =
      perform(io, factory, {post("http://127.0.0.1:8080/upload", std::string(1000, 'x'))});
  CHECK(opensock::curl_code(results[0].first) == 55);
  CHECK(factory.peers()[0].received().size() == 40);
}

TEST_CASE("the hop handshakes fail cleanly at each of their operations") {
  struct hop {
    std::string name;
    opensock::proxy via;
    std::vector<std::string> answers;  // the proxy's, then the origin's reply
  };
  opensock::proxy tunnel(opensock::proxy_kind::http, "127.0.0.1", 3128);
  const std::vector<hop> hops = {
      {"SOCKS5",
       opensock::proxy(opensock::proxy_kind::socks5, "127.0.0.1", 1080),
       {std::string("\x05\x00", 2), std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90", 10),
        reply_hello}},
      {"SOCKS4",
       opensock::proxy(opensock::proxy_kind::socks4, "127.0.0.1", 1080),
       {std::string("\x00\x5a\x1f\x90\x7f\x00\x00\x01", 8), reply_hello}},
      {"an HTTP tunnel", tunnel, {"HTTP/1.1 200 Connection established\r\n\r\n", reply_hello}},
  };
  for (const auto& h : hops) {
    INFO("through " << h.name);
    opensock::http::session_options options;
    options.proxies = {h.via};
    options.proxy_tunnel = true;
    const std::size_t operations = walk_failure_point([&](std::shared_ptr<fault> f) {
      asio::io_context io;
      stream_factory factory = answering(h.answers, f);
      const auto results = perform(io, factory, {get("http://127.0.0.1:8080/")}, options);
      const auto& [ec, out] = results[0];
      if (f->fired()) {
        CHECK(clear_failure(ec));
      } else {
        CHECK(!ec);
        CHECK(out.body == "hello");
      }
      for (const auto& peer : factory.peers()) CHECK(occurrences(peer.received(), "GET /") <= 1);
    });
    CHECK(operations >= 5);  // an open, the handshake's write and read, the request's
  }
}

#if OPENSOCK_HAS_TLS
namespace {

// A TLS server's context with a self-signed certificate made for the run.
asio::ssl::context server_context() {
  asio::ssl::context context(asio::ssl::context::tls_server);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  REQUIRE((key && certificate));
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  REQUIRE(X509_sign(certificate, key, EVP_sha256()) > 0);
  REQUIRE(SSL_CTX_use_certificate(context.native_handle(), certificate) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(context.native_handle(), key) == 1);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return context;
}

// Reads what the client sends, and drops it, until the client closes or fails.
template <class AsyncStream>
asio::awaitable<void> read_until_closed(AsyncStream& s) {
  char discard[256];
  std::error_code ec;
  while (!ec) {
    co_await s.async_read_some(asio::buffer(discard),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
}

// An HTTPS server on `peer`: the handshake, one request answered, then reads until the
// client closes.
asio::awaitable<void> tls_peer(stream& peer, asio::ssl::context& context) {
  asio::ssl::stream<stream&> tls(peer, context);
  std::error_code ec;
  co_await tls.async_handshake(asio::ssl::stream_base::server,
                               asio::redirect_error(asio::use_awaitable, ec));
  std::string request;
  if (!ec) {
    co_await asio::async_read_until(tls, asio::dynamic_buffer(request), "\r\n\r\n",
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) {
    co_await asio::async_write(tls, asio::buffer(reply_hello),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) co_await read_until_closed(tls);
  peer.close();
}

}  // namespace

TEST_CASE("an HTTPS GET fails cleanly at each of its operations") {
  asio::ssl::context context = server_context();
  opensock::http::session_options options;
  options.tls.verify = false;  // the certificate is the run's own
  const std::size_t operations = walk_failure_point([&](std::shared_ptr<fault> f) {
    asio::io_context io;
    stream_factory factory(
        [&](stream& peer) { asio::co_spawn(io, tls_peer(peer, context), asio::detached); }, f);
    const auto results = perform(io, factory, {get("https://127.0.0.1:8443/")}, options);
    const auto& [ec, out] = results[0];
    if (f->fired()) {
      INFO(ec.message());
      CHECK((clear_failure(ec) || opensock::curl_code(ec) == 35));  // 35: the handshake's
    } else {
      CHECK(!ec);
      CHECK(out.body == "hello");
    }
  });
  CHECK(operations >= 5);  // an open, the handshake's writes and reads, the request's
}

namespace {

// A WebSocket server on `peer`: answers the upgrade, sends "hello" and a close, and
// reads what the client sends until it closes.
asio::awaitable<void> websocket_peer(stream& peer) {
  std::string request;
  std::error_code ec;
  auto buffer = asio::dynamic_buffer(request);
  const std::size_t head = co_await asio::async_read_until(
      peer, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  const std::string_view name = "Sec-WebSocket-Key: ";
  const auto at = request.find(name);
  if (at == request.npos || at > head) co_return;
  const auto end = request.find("\r\n", at);
  const std::string key = request.substr(at + name.size(), end - at - name.size());
  peer.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: " + opensock::websocket::accept_for(key) + "\r\n\r\n");
  peer.send("\x81\x05hello");
  peer.send(std::string("\x88\x02\x03\xe8", 4));
  co_await read_until_closed(peer);
  peer.close();
}

}  // namespace

TEST_CASE("a WebSocket connection fails cleanly at each of its operations") {
  using ws = opensock::websocket::connect_result<
      opensock::websocket::session_stream<stream_factory>>;
  const std::size_t operations = walk_failure_point([&](std::shared_ptr<fault> f) {
    asio::io_context io;
    stream_factory factory(
        [&](stream& peer) { asio::co_spawn(io, websocket_peer(peer), asio::detached); }, f);
    std::error_code connected = opensock::error::failed_init;
    std::error_code read_error = opensock::error::failed_init;
    std::error_code write_error = opensock::error::failed_init;
    std::string message;
    {
      session_type session(io.get_executor(), factory);
      ws out;
      const opensock::websocket::handshake_options handshake;
      const opensock::websocket::stream_options behaviour;
      opensock::test::run(io, [&]() -> asio::awaitable<void> {
        connected = co_await opensock::websocket::connect(session, "ws://127.0.0.1:8080/chat",
                                                          handshake, behaviour, out);
        if (connected) co_return;
        auto& s = *out.stream;
        read_error = std::error_code();
        co_await s.async_read(message, asio::redirect_error(asio::use_awaitable, read_error));
        write_error = std::error_code();
        co_await s.async_write(asio::buffer(std::string("hi")),
                               asio::redirect_error(asio::use_awaitable, write_error));
      }());
    }
    io.restart();
    io.run_for(std::chrono::seconds(1));
    CHECK(factory.open_connections() == 0);
    if (!f->fired()) {
      CHECK(!connected);
      CHECK(!read_error);
      CHECK(message == "hello");
      CHECK(!write_error);
    } else if (connected) {
      CHECK(clear_failure(connected));
    } else {
      CHECK((read_error || write_error));
      const auto failed = read_error ? read_error : write_error;
      INFO(failed.message());
      CHECK((opensock::curl_code(failed) == 55 || opensock::curl_code(failed) == 56));
    }
    for (const auto& peer : factory.peers()) CHECK(occurrences(peer.received(), "GET /chat") <= 1);
  });
  CHECK(operations >= 5);
}
#endif  // OPENSOCK_HAS_TLS
