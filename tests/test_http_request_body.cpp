#include <opensock/http/request_body.hpp>

#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/nginx.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

using opensock::http::request_body;
using opensock::test::make_request;
using opensock::test::request;
using opensock::test::scripted_http_server;
using namespace std::chrono_literals;

namespace {

const std::string ok_reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return bytes;
}

struct temp_file {
  explicit temp_file(const std::string& content)
      : path(std::filesystem::temp_directory_path() /
             ("opensock-body-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))) {
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::filesystem::remove(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path;
};

// A producer that hands out `content` in pieces of at most `piece` bytes, awaiting a
// timer before each so the session really waits on it.
opensock::http::body_producer producer_of(std::string content, std::size_t piece) {
  auto offset = std::make_shared<std::size_t>(0);
  return [content = std::move(content), piece, offset](asio::mutable_buffer into) -> asio::awaitable<std::size_t> {
    asio::steady_timer pause(co_await asio::this_coro::executor, 1ms);
    co_await pause.async_wait(asio::use_awaitable);
    const std::size_t n = std::min({piece, into.size(), content.size() - *offset});
    std::memcpy(into.data(), content.data() + *offset, n);
    *offset += n;
    co_return n;
  };
}

}  // namespace

TEST_CASE("a body from a file goes with its size as Content-Length") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  const std::string content = pattern(200 * 1024 + 17);
  temp_file file(content);
  auto req = make_request("POST", server.url("/upload"));
  req.body = request_body::file(file.path);
  auto [ec, r] = request(io, session, req);
  REQUIRE(!ec);
  CHECK(r.body == "ok");
  REQUIRE(server.log.size() == 1);
  CHECK(server.log[0] == "POST /upload body=" + content + " auth=no");
  CHECK(server.heads[0].find("Content-Length: " + std::to_string(content.size()) + "\r\n") !=
        std::string::npos);
}

TEST_CASE("a body file from an offset: the rest of it, with its length") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  const std::string content = pattern(100 * 1024 + 9);
  temp_file file(content);
  auto req = make_request("PUT", server.url("/rest"));
  req.body = request_body::file(file.path, 70 * 1024);
  REQUIRE(!request(io, session, req).first);
  CHECK(server.log[0] == "PUT /rest body=" + content.substr(70 * 1024) + " auth=no");
  CHECK(server.heads[0].find("Content-Length: " + std::to_string(content.size() - 70 * 1024)) !=
        std::string::npos);
  auto past = make_request("PUT", server.url("/past"));
  past.body = request_body::file(file.path, content.size() + 1);
  CHECK(request(io, session, past).first == opensock::error::read_error);
  CHECK(server.log.size() == 1);
}

TEST_CASE("a body file that cannot be read fails with read_error, curl's 26") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  auto req = make_request("PUT", server.url());
  req.body = request_body::file("/nonexistent/opensock/body");
  CHECK(request(io, session, req).first == opensock::error::read_error);
  CHECK(server.log.empty());
}

TEST_CASE("a producer of unknown length is sent chunked") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  const std::string content = pattern(150 * 1024);
  auto req = make_request("POST", server.url("/stream"));
  req.body = request_body::producer(producer_of(content, 10'000));
  auto [ec, r] = request(io, session, req);
  REQUIRE(!ec);
  REQUIRE(server.log.size() == 1);
  CHECK(server.log[0] == "POST /stream body=" + content + " auth=no");
  CHECK(server.heads[0].find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(server.heads[0].find("Content-Length") == std::string::npos);
  // The connection stays usable: the body's framing ended where the server expected.
  REQUIRE(!request(io, session, make_request("GET", server.url())).first);
  CHECK(server.connections == 1);
}

TEST_CASE("a producer of declared length must give exactly that many bytes") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  auto exact = make_request("POST", server.url());
  exact.body = request_body::producer(producer_of("0123456789", 3), 10);
  REQUIRE(!request(io, session, exact).first);
  CHECK(server.heads[0].find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(server.log[0] == "POST / body=0123456789 auth=no");

  auto short_body = make_request("POST", server.url());
  short_body.body = request_body::producer(producer_of("0123", 3), 10);
  CHECK(request(io, session, short_body).first == opensock::error::read_error);
  auto long_body = make_request("POST", server.url());
  long_body.body = request_body::producer(producer_of("0123456789ab", 5), 10);
  CHECK(request(io, session, long_body).first == opensock::error::read_error);
}

TEST_CASE("a producer that throws aborts the request: aborted_by_callback, curl's 42") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  auto req = make_request("POST", server.url());
  req.body = request_body::producer([](asio::mutable_buffer) -> asio::awaitable<std::size_t> {
    throw std::runtime_error("the source went away");
    co_return 0;
  });
  CHECK(request(io, session, req).first == opensock::error::aborted_by_callback);
}

TEST_CASE("a produced body cannot be sent again: a 307 fails with send_fail_rewind, curl's 65") {
  asio::io_context io;
  scripted_http_server server(io);
  server.routes["/307"] = scripted_http_server::redirect(307, "/done");
  server.routes["/303"] = scripted_http_server::redirect(303, "/done");
  server.routes["/done"] = ok_reply;
  opensock::http::session_options options;
  options.follow_redirects = true;
  opensock::http::session session(io.get_executor(), opensock::default_socket_factory{}, options);
  auto keeps_body = make_request("POST", server.url("/307"));
  keeps_body.body = request_body::producer(producer_of("x=1", 8));
  CHECK(request(io, session, keeps_body).first == opensock::error::send_fail_rewind);
  // A 303 drops the body, so nothing needs sending twice.
  auto drops_body = make_request("POST", server.url("/303"));
  drops_body.body = request_body::producer(producer_of("x=1", 8));
  auto [ec, r] = request(io, session, drops_body);
  CHECK(!ec);
  CHECK(r.body == "ok");
  CHECK(server.log == std::vector<std::string>{"POST /307 body=x=1 auth=no",
                                               "POST /303 body=x=1 auth=no",
                                               "GET /done body= auth=no"});
}

TEST_CASE("a caller's Transfer-Encoding chunked has any body sent as chunks") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  const std::string content = pattern(100 * 1024 + 3);
  temp_file file(content);
  auto from_memory = make_request("POST", server.url("/memory"));
  from_memory.body = content;
  auto from_file = make_request("PUT", server.url("/file"));
  from_file.body = request_body::file(file.path);
  auto sized = make_request("POST", server.url("/sized"));
  sized.body = request_body::producer(producer_of(content, 30'000), content.size());
  auto empty = make_request("POST", server.url("/empty"));
  for (auto* req : {&from_memory, &from_file, &sized, &empty}) {
    req->headers.add("Transfer-Encoding", "gzip, chunked");
    REQUIRE(!request(io, session, *req).first);
  }
  REQUIRE(server.heads.size() == 4);
  for (const auto& head : server.heads) {
    CHECK(head.find("Transfer-Encoding: gzip, chunked\r\n") != std::string::npos);
    CHECK(head.find("Content-Length") == std::string::npos);
  }
  CHECK(server.log == std::vector<std::string>{"POST /memory body=" + content + " auth=no",
                                               "PUT /file body=" + content + " auth=no",
                                               "POST /sized body=" + content + " auth=no",
                                               "POST /empty body= auth=no"});
  // Every body ended where the server expected it: one connection served them all.
  CHECK(server.connections == 1);
}

TEST_CASE("a body framing no server could read is refused before a byte is sent") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  opensock::http::session session(io.get_executor());
  const auto refused = [&](std::initializer_list<std::pair<const char*, const char*>> fields) {
    auto req = make_request("POST", server.url());
    req.body = "data";
    for (const auto& [name, value] : fields) req.headers.add(name, value);
    const auto ec = request(io, session, req).first;
    CHECK(opensock::curl_code(ec) == 43);
    return ec == opensock::error::unframable_request_body;
  };
  CHECK(refused({{"Transfer-Encoding", "gzip"}}));
  CHECK(refused({{"Transfer-Encoding", "chunked, gzip"}}));
  CHECK(refused({{"Transfer-Encoding", ""}}));
  CHECK(refused({{"Transfer-Encoding", "chunked"}, {"Content-Length", "4"}}));
  // HTTP/1.0 has no chunks: a body of unknown length cannot be sent in it.
  auto old = make_request("POST", server.url());
  old.version = 10;
  old.body = request_body::producer(producer_of("data", 2));
  CHECK(request(io, session, old).first == opensock::error::unframable_request_body);
  CHECK(server.log.empty());
  // A caller's own Content-Length frames the body as it is.
  auto sized = make_request("POST", server.url("/sized"));
  sized.body = "data";
  sized.headers.add("Content-Length", "4");
  REQUIRE(!request(io, session, sized).first);
  CHECK(server.log == std::vector<std::string>{"POST /sized body=data auth=no"});
}

TEST_CASE("nginx reads file, chunked and sized bodies whole, and one the caller chunks") {
  const auto port = opensock::test::nginx_port_or_warn();
  if (!port) return;
  asio::io_context io;
  opensock::http::session session(io.get_executor());
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/body-length";
  const std::string content = pattern(300 * 1024 + 5);
  temp_file file(content);
  auto from_file = make_request("POST", url);
  from_file.body = request_body::file(file.path);
  auto chunked = make_request("PUT", url);
  chunked.body = request_body::producer(producer_of(content, 4096));
  auto sized = make_request("POST", url);
  sized.body = request_body::producer(producer_of(content, 50'000), content.size());
  auto chunked_by_caller = make_request("PUT", url);
  chunked_by_caller.body = content;
  chunked_by_caller.headers.add("Transfer-Encoding", "chunked");
  for (auto* req : {&from_file, &chunked, &sized, &chunked_by_caller}) {
    auto [ec, r] = request(io, session, *req);
    REQUIRE(!ec);
    CHECK(r.status == 200);
    CHECK(r.body == req->method + " " + std::to_string(content.size()) + "\n");
  }
}

TEST_CASE("a 417 to Expect 100-continue: the request again without it, its body not sent twice") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);
  server.expectation_reply = "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n";
  opensock::http::session session(io.get_executor());
  const std::string content = pattern(64 * 1024 + 5);
  // A producer: it cannot be rewound, so only a body that was never sent can go again.
  auto req = make_request("PUT", server.url("/upload"));
  req.headers.add("Expect", "100-continue");
  req.body = request_body::producer(producer_of(content, 1000), content.size());
  opensock::http::request_timeouts limits;
  limits.expect_continue = std::chrono::hours(1);  // only a response ends the wait
  req.timeouts = limits;
  auto [ec, r] = request(io, session, req);
  REQUIRE(!ec);
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
  REQUIRE(server.log.size() == 2);
  CHECK(server.log[0] == "refused expectation");
  CHECK(server.log[1] == "PUT /upload body=" + content + " auth=no");
  CHECK(server.heads[1].find("Expect:") == std::string::npos);
  // The refused request's connection, its body unsent, is not used again.
  CHECK(server.connections == 2);
}

TEST_CASE("a request that waits for the 100 still ends at its time limit") {
  asio::io_context io;
  scripted_http_server server(io, ok_reply);  // reads the body before it answers
  opensock::http::session session(io.get_executor());
  auto req = make_request("POST", server.url("/upload"));
  req.headers.add("Expect", "100-continue");
  req.body = "payload";
  opensock::http::request_timeouts limits;
  limits.expect_continue = std::chrono::hours(1);
  limits.total = std::chrono::milliseconds(200);
  req.timeouts = limits;
  CHECK(request(io, session, req).first == opensock::error::operation_timedout);
  CHECK(server.log.empty());
}
