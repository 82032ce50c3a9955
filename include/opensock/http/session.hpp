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
#include <opensock/detail/request_watchdog.hpp>
#include <opensock/detail/same_text.hpp>
#include <opensock/detail/send_now.hpp>
#include <opensock/error.hpp>
#include <opensock/http/exchange.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/timeouts.hpp>
#include <opensock/http/transfer_hooks.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>
#include <opensock/tls/options.hpp>

#if OPENSOCK_HAS_TLS
#include <opensock/tls/context.hpp>
#include <opensock/tls/handshake.hpp>

#include <asio/ssl/stream.hpp>
#endif

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  /// Time limits of every request that sets none of its own. A connect limit here
  /// replaces `connect.connect_timeout`.
  request_timeouts timeouts;
  /// How https connections are made: verified against the system's CA store unless
  /// these say otherwise. Connections made under other settings are not reused.
  tls::options tls;
  /// Follow 301, 302, 303, 307 and 308 responses (curl's -L); off by default, as in curl.
  bool follow_redirects = false;
  /// Redirects followed at most (libcurl's default); one more is too_many_redirects (47).
  int max_redirects = 30;
};

/// Whether connections for `scheme` run TLS: https and wss.
inline bool is_tls_scheme(std::string_view scheme) noexcept {
  return scheme == "https" || scheme == "wss";
}

/// Whether a request may be sent again after a connection failed under it (RFC 9110
/// §9.2.2): GET, HEAD, PUT, DELETE, OPTIONS, TRACE.
inline bool is_idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

namespace detail {

// Stops what a stream is doing: cancels its operations when it can, else closes it.
// Returns whether it closed it.
template <class Factory, class Stream>
bool interrupt_stream(Factory& factory, Stream& stream) {
  std::error_code ignored;
  if constexpr (requires { stream.cancel(ignored); }) {
    stream.cancel(ignored);
    return false;
  } else if constexpr (requires { stream.lowest_layer().cancel(ignored); }) {
    stream.lowest_layer().cancel(ignored);
    return false;
  } else {
    close_stream(factory, stream);
    return true;
  }
}

}  // namespace detail

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
        options_(std::move(options)),
        watchdog_(executor_) {}

  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() { close_idle(); }

  /// Sends `req` and reads its response. Completes with void(std::error_code, response).
  /// A request that finds its pooled connection closed by the server before any byte of
  /// a response came is sent once more on a new connection when it is idempotent and
  /// its body can be sent again, as curl does. Requests may run concurrently, each on
  /// its own connection. The session must outlive its operations.
  template <class CompletionToken>
  auto async_request(http::request req, CompletionToken&& token) {
    return async_request(std::move(req), transfer_hooks{}, std::forward<CompletionToken>(token));
  }

  /// As above, calling `hooks` on the way; a body sink there takes the body.
  template <class CompletionToken>
  auto async_request(http::request req, transfer_hooks hooks, CompletionToken&& token) {
    return opensock::detail::async_spawn_value<response>(
        executor_,
        [this, req = std::move(req), hooks = std::move(hooks)]() mutable {
          return spawned_request(std::move(req), std::move(hooks));
        },
        std::forward<CompletionToken>(token));
  }

  /// `co_await session.request(req)`: the response, or a std::system_error with the
  /// error code. It runs in the caller's coroutine, without a spawn. `req` and `hooks`
  /// are used where they are, as Asio uses the buffers of an operation, so they must
  /// outlive it: a `co_await` on the call sees to that. Give an rvalue to hand the
  /// request over instead.
  asio::awaitable<response> request(const http::request& req,
                                    const transfer_hooks& hooks = detail::no_transfer_hooks());

  /// As above, owning the request and the hooks.
  asio::awaitable<response> request(http::request&& req, transfer_hooks hooks = {}) {
    return owned_request(std::move(req), std::move(hooks));
  }

  /// `co_await session.request(req, out)`: the response goes into `out`, whose storage
  /// is reused, and the error code is returned, not thrown; after an error `out` holds
  /// what came of the response before it. The cheapest way to send many requests: no
  /// response is moved, and a response of the same shape as the last allocates nothing.
  /// `req`, `out` and `hooks` must outlive the operation.
  asio::awaitable<std::error_code> request(const http::request& req, response& out,
                                           const transfer_hooks& hooks =
                                               detail::no_transfer_hooks()) {
    return perform(req, hooks, out);
  }

  asio::awaitable<response> get(std::string_view url, fields headers = {}) {
    return request(make("GET", url, std::move(headers), {}));
  }
  asio::awaitable<response> head(std::string_view url, fields headers = {}) {
    return request(make("HEAD", url, std::move(headers), {}));
  }
  asio::awaitable<response> delete_(std::string_view url, fields headers = {}) {
    return request(make("DELETE", url, std::move(headers), {}));
  }
  asio::awaitable<response> post(std::string_view url, request_body body, fields headers = {}) {
    return request(make("POST", url, std::move(headers), std::move(body)));
  }
  asio::awaitable<response> put(std::string_view url, request_body body, fields headers = {}) {
    return request(make("PUT", url, std::move(headers), std::move(body)));
  }

  /// Idle connections in the pool.
  std::size_t idle_connections() const noexcept { return idle_.size(); }

  /// Closes every idle connection through the factory.
  void close_idle() noexcept {
    for (auto& c : idle_) close(*c);
    idle_.clear();
  }

  Factory& factory() noexcept { return factory_; }
  session_options& options() noexcept { return options_; }
  executor_type get_executor() const noexcept { return executor_; }

 private:
  using clock = std::chrono::steady_clock;
  using result = std::pair<std::error_code, response>;
  using watch = opensock::detail::request_watchdog::watch;

  struct connection {
    connection(origin o, asio::ip::tcp::endpoint r, const parser_limits& limits)
        : key(std::move(o)), remote(r) {
      state.parser = response_parser(limits);
    }
    // Made ready for a new stream to `host`, `port` and `scheme`, keeping the parser's
    // and buffers' storage, and the key's text when it is the same (a spare connection
    // most often goes back to the origin it came from).
    void renew(std::string_view host, std::uint16_t port, std::string_view scheme,
               asio::ip::tcp::endpoint r, const parser_limits& limits) {
      if (!opensock::detail::same_text(key.host, host)) {
        key.host.assign(host);
        host_line.clear();
        host_address.reset();
      }
      if (key.port != port) host_line.clear();
      key.port = port;
      if (!opensock::detail::same_text(key.scheme, scheme)) {
        key.scheme.assign(scheme);
        host_line.clear();
      }
      remote = r;
      alpn.clear();
      idle_since = {};
      closed = false;
      state.parser.set_limits(limits);
      state.read_used = 0;
      state.reusable = false;
      state.bytes_received = 0;
      state.interrupted = false;
    }
    // The factory's stream, as it is or under TLS.
    std::optional<stream_type> plain;
#if OPENSOCK_HAS_TLS
    std::optional<asio::ssl::stream<stream_type>> tls;
    tls::options tls_settings;
#endif
    stream_type& transport() {
#if OPENSOCK_HAS_TLS
      if (tls) return tls->next_layer();
#endif
      return *plain;
    }
    // Whether a request to `to`, under the session's TLS options, may use it.
    bool serves(const url& to, [[maybe_unused]] const session_options& o) const {
#if OPENSOCK_HAS_TLS
      if (tls && tls_settings != o.tls) return false;
#endif
      return key.port == to.port && opensock::detail::same_text(key.host, to.host) &&
             opensock::detail::same_text(key.scheme, to.scheme);
    }
    connection_state state;
    origin key;
    // The Host field's line of the requests it carries, all to `key`: made from the
    // first one's URL, and kept while the key stays the same.
    std::string host_line;
    // The address key.host spells, if it is an IP literal, kept for the next connect
    // to the same host (origin_plan's `host_address`).
    std::optional<asio::ip::address> host_address;
    asio::ip::tcp::endpoint remote;
    std::string alpn;
    clock::time_point idle_since{};
    bool closed = false;
    // A connect that perform() waits on in its own frame (begin_connect()): what
    // connect() and connect_origin() would hold in theirs. Empty when none is under way.
    std::optional<opensock::detail::deadline_stop> connect_limit;
    std::optional<opensock::detail::origin_plan<Factory>> connecting;
  };

  // One request across its redirects and retries: its limits, and the connection it is
  // using, which the watchdog interrupts when a limit has passed.
  struct request_run {
    request_run(session& owner, const transfer_hooks& hooks, const request_timeouts& limits)
        : owner(&owner), hooks(&hooks), timeouts(limits) {
      if (!timeouts.connect) timeouts.connect = owner.options_.connect.connect_timeout;
      deadline = deadline_after(started, timeouts.total);
      watching = deadline != clock::time_point::max() || timeouts.low_speed_limit > 0;
      if (!watching) return;
      watched.deadline = deadline;
      watched.low_speed_limit = timeouts.low_speed_limit;
      watched.low_speed_time = timeouts.low_speed_time;
      watched.on_expire = &request_run::expire;
      watched.context = this;
      owner.watchdog_.add(watched);
    }
    request_run(const request_run&) = delete;
    request_run& operator=(const request_run&) = delete;
    ~request_run() {
      if (watching) owner->watchdog_.remove(watched);
    }

    // The connection the request is on now, or nullptr between connections.
    void watch_connection(connection* c) noexcept {
      current = c;
      opensock::detail::request_watchdog::follow_progress(
          watched, c ? &c->state.bytes_received : nullptr);
    }

    // A limit that passed is the request's error, whatever the interrupted stream said.
    void finish(std::error_code& ec) {
      if (watching) owner->watchdog_.remove(watched);
      watching = false;
      if (watched.expired) ec = error::operation_timedout;
    }

    static void expire(void* context) {
      auto* run = static_cast<request_run*>(context);
      connection* c = run->current;
      if (!c) return;
      c->state.interrupted = true;
      if constexpr (connect_interruptible) {
        if (c->connecting) {  // a connect in perform()'s frame (begin_connect())
          c->connecting->interrupt();
          return;
        }
      }
      c->closed = c->closed || detail::interrupt_stream(run->owner->factory_, c->transport());
    }

    session* owner;
    const transfer_hooks* hooks;
    request_timeouts timeouts;
    clock::time_point started = clock::now();
    clock::time_point deadline;
    bool watching = false;
    watch watched;
    connection* current = nullptr;
  };

  static http::request make(const char* method, std::string_view text, fields headers,
                            request_body body) {
    std::error_code ec;
    url parsed = url::parse(text, ec);
    if (ec) throw std::system_error(ec);
    return http::request(method, std::move(parsed), std::move(headers), std::move(body));
  }

  void close(connection& c) {
    if (!c.closed) close_stream(factory_, c.transport());
    c.closed = true;
  }

  // An idle connection that serves `to`, closing those idle for too long by `now`.
  std::unique_ptr<connection> take_idle(const url& to, clock::time_point now) {
    std::unique_ptr<connection> found;
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (now - (*it)->idle_since >= options_.idle_timeout) {
        close(**it);
        it = idle_.erase(it);
      } else if (!found && (*it)->serves(to, options_)) {
        found = std::move(*it);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    return found;
  }

  // Back to the pool when another request may follow on it, closed otherwise.
  void release(std::unique_ptr<connection> c) {
    if (c->state.reusable) {
      put_idle(std::move(c));
    } else {
      retire(std::move(c));
    }
  }

  // Closes a connection, keeping its object for a new connection to reuse: the parser's
  // and buffers' storage is then not allocated again.
  void retire(std::unique_ptr<connection> c) {
    close(*c);
    if (spare_.size() >= max_spare_connections) return;
    c->plain.reset();
#if OPENSOCK_HAS_TLS
    c->tls.reset();
#endif
    spare_.push_back(std::move(c));
  }

  std::unique_ptr<connection> new_connection(std::string_view host, std::uint16_t port,
                                             std::string_view scheme,
                                             asio::ip::tcp::endpoint remote) {
    if (spare_.empty()) {
      return std::make_unique<connection>(origin(std::string(host), port, std::string(scheme)),
                                          remote, options_.limits);
    }
    auto c = std::move(spare_.back());
    spare_.pop_back();
    c->renew(host, port, scheme, remote, options_.limits);
    return c;
  }

  void put_idle(std::unique_ptr<connection> c) {
    if (options_.max_idle == 0 || options_.max_idle_per_origin == 0) {
      retire(std::move(c));
      return;
    }
    // Over a limit, the connection idle the longest goes first: one of the same origin
    // for the per-origin limit, any for the overall one.
    auto evict_oldest = [&](const origin* of) {
      for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (of && (*it)->key != *of) continue;
        close(**it);
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

  static clock::time_point deadline_after(clock::time_point start,
                                          std::optional<std::chrono::milliseconds> limit) {
    if (!limit) return clock::time_point::max();
    if (*limit >= std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock::time_point::max() - start))
      return clock::time_point::max();
    return start + *limit;
  }

  // async_request's coroutine, which owns what it was given.
  asio::awaitable<result> spawned_request(http::request req, transfer_hooks hooks);

  // request() for a request handed over: this frame keeps it while it runs.
  asio::awaitable<response> owned_request(http::request req, transfer_hooks hooks);

  // One request, its redirects and its retries, as one coroutine: on a plain
  // connection, kept alive or new (begin_connect()), a request then needs two coroutine
  // frames at a time (this one, and Asio's for the connect, read or write under way),
  // both small enough for Asio to recycle rather than allocate; keep this frame under
  // 1,020 bytes. The response is filled in place.
  // `first_url`: the first request's URL when the caller gives it up, to become the
  // response's effective URL without a copy.
  asio::awaitable<std::error_code> perform(const http::request& first,
                                           const transfer_hooks& hooks, response& out,
                                           url* first_url = nullptr);

  // After a response: whether to follow it elsewhere, with `redirected` the request
  // that goes there. If not, `out` gets its effective URL, and `ec` the error that
  // stopped the redirects, if one did. Apart from perform() so that what it needs stays
  // out of the coroutine's frame.
  bool follow_redirect(const http::request& first, url* first_url, int redirects,
                       std::unique_ptr<http::request>& redirected, response& out,
                       std::error_code& ec);

#if OPENSOCK_HAS_TLS
  // One OpenSSL context for the session's TLS options, made again when they change.
  std::shared_ptr<asio::ssl::context> tls_context(std::error_code& ec) {
    if (!tls_context_ || tls_context_options_ != options_.tls) {
      tls_context_ = tls::make_context(options_.tls, ec);
      tls_context_options_ = options_.tls;
    }
    return tls_context_;
  }
#endif

  // A new connection to `key` into `into`: opened through the factory, connected, and
  // for https secured, within the connect limit and what is left of the total. What it
  // opened and could not finish is closed through the factory before it returns.
  // `held_to`: the deadline a caller already holds it to, in a coroutine of its own.
  asio::awaitable<std::error_code> connect(
      const origin& key, request_run& run, std::unique_ptr<connection>& into,
      std::optional<clock::time_point> held_to = std::nullopt);

  // Whether a connect may be taken in perform()'s frame: the factory answers at once
  // and its stream is connected with one wait.
  static constexpr bool connects_in_place =
      !is_coroutine_factory_v<Factory, Protocol> &&
      opensock::detail::origin_plan<Factory>::connectable;
  enum class connect_step { elsewhere, wait, ended };
  // Whether the request's watch can interrupt a connect in perform()'s frame, as it
  // interrupts a connection's stream: then a connect limited by the request's own
  // deadline needs no stop of its own.
  static constexpr bool connect_interruptible =
      connects_in_place && opensock::detail::origin_plan<Factory>::interruptible;

  // connect()'s steps before its one wait, for perform() to take in its own frame when
  // that is the only wait: a name that needs no lookup and gives one address, no TLS,
  // and a caller that cannot cancel the request (`cancellable` false); `executor` is
  // the caller's. Then `into` is the connection, its connect held in it: `wait` asks
  // for co_await connect_wait() and then end_connect(), `ended` for end_connect()
  // alone. `elsewhere`: connect() it is.
  connect_step begin_connect(const url& to, request_run& run, bool cancellable,
                             const asio::any_io_executor& executor,
                             std::unique_ptr<connection>& into)
    requires connects_in_place
  {
    if (cancellable || is_tls_scheme(to.scheme)) return connect_step::elsewhere;
    auto conn = new_connection(to.host, to.port, to.scheme, {});
    auto& plan = conn->connecting.emplace(factory_, conn->key, options_.connect,
                                          purpose::origin, executor, &conn->host_address);
    // The attempt's record is made for the hooks alone.
    if (!run.hooks->on_connection && !run.hooks->on_connect_error) plan.skip_records();
    if (!plan.one_wait()) {
      conn->connecting.reset();
      conn->closed = true;  // nothing was opened
      retire(std::move(conn));
      return connect_step::elsewhere;
    }
    // The connect's own limit counted from now is no earlier than counted from the
    // request's start: when that is after the request's deadline, no clock is read.
    auto deadline = deadline_after(run.started, run.timeouts.connect);
    deadline = deadline < run.deadline
                   ? std::min(run.deadline, deadline_after(clock::now(), run.timeouts.connect))
                   : run.deadline;
    if constexpr (connect_interruptible) run.watch_connection(conn.get());
    if (deadline == clock::time_point::max() ||
        (connect_interruptible && deadline == run.deadline)) {
      // No limit, or the request's own, whose watch interrupts the connect.
      conn->connect_limit.reset();  // one left from an earlier connect
    } else {
      limit_connect(conn->connect_limit, deadline, executor);
    }
    const bool wait = plan.opened_now(
        conn->connect_limit ? conn->connect_limit->stop() : asio::cancellation_state());
    into = std::move(conn);
    return wait ? connect_step::wait : connect_step::ended;
  }

  auto connect_wait(connection& c)
    requires connects_in_place
  {
    return c.connecting->connect(c.connect_limit ? c.connect_limit->stop()
                                                 : asio::cancellation_state());
  }

  std::error_code end_connect(request_run& run, std::unique_ptr<connection>& conn)
    requires connects_in_place
  {
    // The stream goes straight to the connection.
    auto connected = std::move(*conn->connecting).result(conn->plain);
    conn->connecting.reset();
    // Cut short by the connect's limit, or by the request's (request_run::expire()).
    const bool expired =
        (conn->connect_limit && conn->connect_limit->expired()) || run.watched.expired;
    run.watch_connection(nullptr);
    // Kept for the connection object's next connect when it can be.
    if (conn->connect_limit && !conn->connect_limit->stand_by()) conn->connect_limit.reset();
    if (connected.error) {
      conn->closed = true;  // the plan closed what it opened
    } else {
      conn->remote = connected.endpoint;
    }
    return connect_ended(run, conn, connected.error, expired, connected.attempts);
  }

  // A connect's stop at `deadline` into `limit`: the watchdog's, when its timer is set
  // for no later anyway (a request limit set it). Set for the connect alone, that timer
  // would keep the executor busy until the deadline, up to 300 s, after the request
  // ended; else the stop has a timer of its own, cancelled with it.
  // A stop `limit` holds already is on stand-by (deadline_stop::stand_by()), and taken
  // again if the watchdog's is the stop to have.
  void limit_connect(std::optional<opensock::detail::deadline_stop>& limit,
                     clock::time_point deadline, const asio::any_io_executor& executor) {
    if (watchdog_.wakes_at() <= deadline) {
      if (limit) {
        limit->watch_again(watchdog_, deadline);
      } else {
        limit.emplace(watchdog_, deadline);
      }
    } else {
      limit.emplace(executor, deadline);
    }
  }

  // The end of every connect: a connection cut short by the deadline or failed is
  // retired, leaving `conn` empty, and the hooks hear of the outcome.
  std::error_code connect_ended(
      request_run& run, std::unique_ptr<connection>& conn, std::error_code ec, bool expired,
      const std::vector<attempt_record<asio::ip::tcp::endpoint>>& attempts) {
    // Cut short by the deadline: no hook is called (transfer_hooks says so).
    if (expired) {
      if (conn) retire(std::move(conn));
      return error::operation_timedout;
    }
    if (ec) {
      if (conn) retire(std::move(conn));
      if (run.hooks->on_connect_error) run.hooks->on_connect_error(attempts, ec);
      return ec;
    }
    if (run.hooks->on_connection)
      run.hooks->on_connection(connection_info{false, conn->remote, &attempts, conn->alpn});
    return {};
  }

  // The TLS handshake over a new connection's plain stream, which becomes the next
  // layer of its TLS stream. A connection it fails is left for retire() to close.
  asio::awaitable<std::error_code> secure(connection& conn, const std::string& host,
                                          asio::cancellation_state stop);

  executor_type executor_;
  Factory factory_;
  session_options options_;
  opensock::detail::request_watchdog watchdog_;
  std::vector<std::unique_ptr<connection>> idle_;
  static constexpr std::size_t max_spare_connections = 8;
  std::vector<std::unique_ptr<connection>> spare_;
#if OPENSOCK_HAS_TLS
  std::shared_ptr<asio::ssl::context> tls_context_;
  tls::options tls_context_options_;
#endif
};

}  // namespace opensock::http

#include <opensock/http/impl/session.hpp>

#ifdef OPENSOCK_SEPARATE_COMPILATION
// Compiled once, where <opensock/impl/src.hpp> is included.
namespace opensock::http {
extern template class session<default_socket_factory>;
}  // namespace opensock::http
#endif
