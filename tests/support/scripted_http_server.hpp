// An HTTP server on 127.0.0.1 whose replies the test scripts: a reply per path, a
// default reply, none at all (it reads the request and holds the connection, or closes
// it: hang_up), and a number of requests after which it closes a connection (or resets
// it), and a reply that refuses "Expect: 100-continue". It records each request as
// "METHOD /path body=BODY auth=yes|no", and keeps each request's head. Request bodies
// may come with Content-Length or chunked (the last coding).
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace opensock::test {

class scripted_http_server {
 public:
  /// Answers paths without a route with `default_reply` ("" never answers), and closes
  /// a connection after `requests_per_connection` requests.
  explicit scripted_http_server(
      asio::io_context& io,
      std::string default_reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
      int requests_per_connection = std::numeric_limits<int>::max())
      : acceptor_(io, {asio::ip::address_v4::loopback(), 0}),
        default_reply_(std::move(default_reply)),
        requests_per_connection_(requests_per_connection) {
    asio::co_spawn(io, serve(), asio::detached);
  }

  /// A reply that closes the connection without sending anything.
  static constexpr std::string_view hang_up = "<hang up>";

  static std::string redirect(int status, const std::string& location) {
    return "HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + location +
           "\r\nContent-Length: 0\r\n\r\n";
  }

  std::string base() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::string url(const std::string& path = "/") const { return base() + path; }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::map<std::string, std::string> routes;
  /// Whether a connection closed after requests_per_connection requests is reset (RST)
  /// rather than closed in order (FIN).
  bool reset_on_close = false;
  /// Sent, with the body left unread, to a request that asks "Expect: 100-continue"
  /// (a 417, say); empty: such a request is read and answered as any other.
  std::string expectation_reply;
  std::vector<std::string> log;
  /// The head of each request, as received.
  std::vector<std::string> heads;
  int connections = 0;

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      std::error_code ec;
      auto peer = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor_.get_executor(), answer(std::move(peer)), asio::detached);
    }
  }

  asio::awaitable<void> answer(asio::ip::tcp::socket peer) {
    std::string in;
    std::error_code ec;
    for (int served = 0; served < requests_per_connection_; ++served) {
      auto buffer = asio::dynamic_buffer(in);
      const auto n = co_await asio::async_read_until(peer, buffer, "\r\n\r\n",
                                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      const std::string head = in.substr(0, n);
      in.erase(0, n);
      heads.push_back(head);
      if (!expectation_reply.empty() &&
          head.find("\r\nExpect: 100-continue\r\n") != std::string::npos) {
        log.push_back("refused expectation");
        co_await asio::async_write(peer, asio::buffer(expectation_reply),
                                   asio::redirect_error(asio::use_awaitable, ec));
        co_return;  // the body, if it comes, is not read
      }
      std::string body;
      if (chunked(head)) {
        body = co_await read_chunked(peer, in, ec);
      } else {
        std::size_t length = 0;
        if (const auto at = head.find("Content-Length: "); at != std::string::npos)
          length = std::stoul(head.substr(at + 16));
        if (in.size() < length)
          co_await asio::async_read(peer, buffer, asio::transfer_exactly(length - in.size()),
                                    asio::redirect_error(asio::use_awaitable, ec));
        body = in.substr(0, length);
        in.erase(0, length);
      }
      if (ec) co_return;
      const auto space = head.find(' ');
      const std::string path = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
      const bool auth = head.find("Authorization:") != std::string::npos;
      log.push_back(head.substr(0, space) + " " + path + " body=" + body +
                    " auth=" + (auth ? "yes" : "no"));
      const auto route = routes.find(path);
      const std::string& reply = route != routes.end() ? route->second : default_reply_;
      if (reply.empty()) {
        held_.push_back(std::move(peer));  // never answers, never closes
        co_return;
      }
      if (reply == hang_up) co_return;  // closes without a byte
      co_await asio::async_write(peer, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    if (reset_on_close) {
      // Closed here: Asio's destructor turns lingering off before it closes.
      peer.set_option(asio::socket_base::linger(true, 0), ec);
      peer.close(ec);
    }
  }

  // Whether the head's Transfer-Encoding ends in chunked ("chunked", "gzip, chunked").
  static bool chunked(const std::string& head) {
    const auto at = head.find("\r\nTransfer-Encoding: ");
    if (at == std::string::npos) return false;
    const std::string value = head.substr(at + 21, head.find("\r\n", at + 2) - at - 21);
    return value.size() >= 7 && value.compare(value.size() - 7, 7, "chunked") == 0;
  }

  // A chunked request body, decoded; trailers are read and dropped.
  static asio::awaitable<std::string> read_chunked(asio::ip::tcp::socket& peer, std::string& in,
                                                   std::error_code& ec) {
    std::string body;
    auto buffer = asio::dynamic_buffer(in);
    for (;;) {
      const auto n = co_await asio::async_read_until(peer, buffer, "\r\n",
                                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return body;
      const std::size_t size = std::stoul(in.substr(0, n), nullptr, 16);
      in.erase(0, n);
      if (size == 0) break;
      if (in.size() < size + 2)
        co_await asio::async_read(peer, buffer, asio::transfer_exactly(size + 2 - in.size()),
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return body;
      body.append(in, 0, size);
      in.erase(0, size + 2);
    }
    const auto n = co_await asio::async_read_until(peer, buffer, "\r\n",
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) in.erase(0, n);
    co_return body;
  }

  asio::ip::tcp::acceptor acceptor_;
  std::string default_reply_;
  int requests_per_connection_;
  std::vector<asio::ip::tcp::socket> held_;
};

}  // namespace opensock::test
