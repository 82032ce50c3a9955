// An HTTP/1.1 client session over a socket factory: each request goes over a connection
// the factory opened, kept alive afterwards in a per-origin pool. The factory is asked
// for every new connection, with the origin's scheme, host and port in its context; a
// pooled connection reused is not opened again, so the factory is not asked (curl's
// rule for its open-socket callback too).
#pragma once

#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_origin.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/deadline.hpp>
#include <opensock/error.hpp>
#include <opensock/http/exchange.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock::http {

struct session_options {
  /// How new connections are made: names, Happy Eyeballs, connect timeout.
  connect_options connect;
  /// The response parser's limits (header sizes, body size).
  parser_limits limits;
  /// Idle connections kept per origin, and in all.
  std::size_t max_idle_per_origin = 4;
  std::size_t max_idle = 32;
  /// An idle connection older than this is closed rather than reused (curl: 118 s).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(118);
  /// Each request, connect and redirects included, must finish within this (curl's
  /// --max-time); past it the request fails with operation_timedout (28). None by default.
  std::optional<std::chrono::milliseconds> timeout;
  /// Follow 301, 302, 303, 307 and 308 responses (curl's -L); off by default, as in curl.
  bool follow_redirects = false;
  /// Redirects followed at most (libcurl's default); one more is too_many_redirects (47).
  int max_redirects = 30;
};

/// Whether a request may be sent again after a connection failed under it (RFC 9110
/// §9.2.2): GET, HEAD, PUT, DELETE, OPTIONS, TRACE.
inline bool is_idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

template <class Factory = default_socket_factory>
class session {
  using Protocol = asio::ip::tcp;
  static_assert(opensock::detail::check_socket_factory<Factory, Protocol>());

 public:
  using executor_type = asio::any_io_executor;
  using factory_type = Factory;
  using stream_type = factory_stream_t<Factory, Protocol>;

  explicit session(executor_type executor, Factory factory = Factory(), session_options options = {})
      : executor_(std::move(executor)),
        factory_(std::move(factory)),
        options_(std::move(options)) {}

  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() { close_idle(); }

  /// Sends `req` and reads its response whole. Completes with
  /// void(std::error_code, response). A request that finds its pooled connection closed
  /// by the server before any byte of a response came is sent once more on a new
  /// connection when it is idempotent, as curl does. Requests may run concurrently, each
  /// on its own connection. The session must outlive its operations.
  template <class CompletionToken>
  auto async_request(request req, CompletionToken&& token) {
    return opensock::detail::async_spawn_value<response>(
        executor_, [this, req = std::move(req)]() mutable { return run_request(std::move(req)); },
        std::forward<CompletionToken>(token));
  }

  /// Idle connections in the pool.
  std::size_t idle_connections() const noexcept { return idle_.size(); }

  /// Closes every idle connection through the factory.
  void close_idle() noexcept {
    for (auto& c : idle_) close_stream(factory_, c->stream);
    idle_.clear();
  }

  Factory& factory() noexcept { return factory_; }
  session_options& options() noexcept { return options_; }
  executor_type get_executor() const noexcept { return executor_; }

 private:
  using clock = std::chrono::steady_clock;
  using result = std::pair<std::error_code, response>;

  struct connection {
    connection(stream_type s, origin o, const parser_limits& limits)
        : stream(std::move(s)), key(std::move(o)) {
      state.parser = response_parser(limits);
    }
    stream_type stream;
    connection_state state;
    origin key;
    clock::time_point idle_since{};
  };

  std::unique_ptr<connection> take_idle(const origin& key) {
    const auto now = clock::now();
    std::unique_ptr<connection> found;
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (now - (*it)->idle_since >= options_.idle_timeout) {
        close_stream(factory_, (*it)->stream);
        it = idle_.erase(it);
      } else if (!found && (*it)->key == key) {
        found = std::move(*it);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    return found;
  }

  void put_idle(std::unique_ptr<connection> c) {
    if (options_.max_idle == 0 || options_.max_idle_per_origin == 0) {
      close_stream(factory_, c->stream);
      return;
    }
    // Over a limit, the connection idle the longest goes first: one of the same origin
    // for the per-origin limit, any for the overall one.
    auto evict_oldest = [&](const origin* of) {
      for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (of && (*it)->key != *of) continue;
        close_stream(factory_, (*it)->stream);
        idle_.erase(it);
        return;
      }
    };
    std::size_t same_origin = 0;
    for (const auto& idle : idle_) same_origin += idle->key == c->key ? 1 : 0;
    for (; same_origin >= options_.max_idle_per_origin; --same_origin) evict_oldest(&c->key);
    while (idle_.size() >= options_.max_idle) evict_oldest(nullptr);
    c->idle_since = clock::now();
    idle_.push_back(std::move(c));
  }

  asio::awaitable<result> run_request(request req) {
    co_await asio::this_coro::throw_if_cancelled(false);
    if (!options_.timeout) co_return co_await follow(std::move(req));
    const auto deadline = clock::now() + *options_.timeout;
    auto finished = co_await opensock::detail::with_deadline(follow(std::move(req)), deadline);
    if (!finished) co_return result{error::operation_timedout, response{}};
    co_return std::move(*finished);
  }

  // The request, then each redirect when the options say to follow them.
  asio::awaitable<result> follow(request req) {
    co_await asio::this_coro::throw_if_cancelled(false);
    for (int redirects = 0;; ++redirects) {
      auto done = co_await request_stages(req);
      done.second.effective_url = req.url.to_string();
      done.second.redirects = redirects;
      const auto location = done.second.headers.get("location");
      if (done.first || !options_.follow_redirects || !is_redirect(done.second.status) ||
          !location)
        co_return done;
      if (redirects == options_.max_redirects)
        co_return result{error::too_many_redirects, std::move(done.second)};
      std::error_code ec;
      url next = resolve_location(req.url, *location, ec);
      if (ec) co_return result{ec, std::move(done.second)};
      req = redirected_request(req, std::move(next), done.second.status);
    }
  }

  asio::awaitable<result> request_stages(const request& req) {
    co_await asio::this_coro::throw_if_cancelled(false);
    const origin key = req.url.origin();
    std::unique_ptr<connection> conn = take_idle(key);
    bool retried = false;
    for (;;) {
      const bool reused = conn != nullptr;
      if (!conn) {
        auto connected = co_await connect_origin(factory_, key, options_.connect);
        if (connected.error) co_return result{connected.error, response{}};
        conn = std::make_unique<connection>(std::move(*connected.stream), key, options_.limits);
      }
      response out;
      const std::error_code ec = co_await exchange(conn->stream, req, out, conn->state);
      if (!ec) {
        if (conn->state.reusable) {
          put_idle(std::move(conn));
        } else {
          close_stream(factory_, conn->stream);
        }
        co_return result{ec, std::move(out)};
      }
      const bool nothing_came = !conn->state.parser.received_anything();
      close_stream(factory_, conn->stream);
      conn.reset();
      const bool stale = ec == error::got_nothing || ec == error::send_error ||
                         (ec == error::recv_error && nothing_came);
      if (reused && !retried && stale && is_idempotent(req.method)) {
        retried = true;
        continue;
      }
      co_return result{ec, response{}};
    }
  }

  executor_type executor_;
  Factory factory_;
  session_options options_;
  std::vector<std::unique_ptr<connection>> idle_;
};

}  // namespace opensock::http
