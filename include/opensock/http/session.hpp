// An HTTP/1.1 client session over a socket factory: each request goes over a connection
// the connector made for its route (connect_route(): the factory asked once per
// attempt, TLS for https), kept alive afterwards in a pool keyed by route. A pooled
// connection reused is not opened again, so the factory is not asked (curl's rule for
// its open-socket callback too). A session may be shared by any number of coroutines,
// callbacks and threads.
#pragma once

#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_route.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/detail/async_spawn.hpp>
#include <opensock/detail/peer_closed.hpp>
#include <opensock/detail/request_watchdog.hpp>
#include <opensock/error.hpp>
#include <opensock/factory/any.hpp>
#include <opensock/http/auth.hpp>
#include <opensock/http/cookie_jar.hpp>
#include <opensock/http/exchange.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/timeouts.hpp>
#include <opensock/http/transfer_hooks.hpp>
#include <opensock/local_binding.hpp>
#include <opensock/no_proxy.hpp>
#include <opensock/proxy.hpp>
#include <opensock/proxy_protocol.hpp>
#include <opensock/proxy_environment.hpp>
#include <opensock/route.hpp>
#include <opensock/socket_factory.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/tls/options.hpp>
#include <opensock/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace opensock::http {

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await, and a session's options are often made in
// the statement that awaits its first request.
struct session_options {
  session_options() {}

  /// How new connections are made: Happy Eyeballs, connect timeout, TCP_NODELAY.
  connect_options connect;
  /// Where they go: curl's -4/-6, --connect-to and --resolve, applied to each origin to
  /// make its route.
  resolve_options names;
  /// The local end of their sockets (curl's --interface, --local-port).
  local_binding local;
  /// The PROXY protocol line they open with (curl's --haproxy-protocol and
  /// --haproxy-clientip), for a server behind a load balancer; unset, none.
  std::optional<proxy_protocol_header> proxy_header;
  /// The proxies they pass, nearest first (curl's --preproxy, then --proxy); a request's
  /// own replace them.
  std::vector<proxy> proxies;
  /// Ask an HTTP proxy for a tunnel to http origins too (curl's --proxytunnel), rather
  /// than have it forward their requests.
  bool proxy_tunnel = false;
  /// The environment's proxies (proxy_environment::read()), taken as curl takes them:
  /// the one `<scheme>_proxy` or ALL_PROXY names when `proxies` is empty, and NO_PROXY's
  /// hosts unless `no_proxy` is set. None by default.
  std::optional<proxy_environment> environment_proxies;
  /// The hosts reached without `proxies` (curl's --noproxy); it replaces NO_PROXY.
  std::optional<no_proxy_list> no_proxy;
  /// The response parser's limits (header sizes, body size).
  parser_limits limits;
  /// Read a response that does not begin with "HTTP/" as HTTP/0.9 (curl's --http0.9):
  /// its bytes the body, until the close. Off by default, as in curl: such bytes are
  /// more often an error page of another protocol than an HTTP/0.9 server.
  bool allow_http09 = false;
  /// Idle connections kept per route, and in all.
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
  /// Ask for compressed responses and decode them (curl's --compressed): Accept-Encoding
  /// names the codings this build decodes (http::accept_encoding()) unless a request
  /// has its own, and each response's Content-Encoding is decoded within `decoding`.
  /// Headers stay as received, Content-Length among them. Off by default, as in curl.
  bool decompress = false;
  /// Ask for a gzip transfer coding too ("TE: gzip", curl's --tr-encoding) and decode
  /// the transfer codings of responses within `decoding`.
  bool decode_transfer_codings = false;
  /// Hand bodies over as they came, transfer codings kept (curl's --raw, with
  /// `decompress` off): chunked framing, trailers and codings not decoded, in the body.
  bool keep_transfer_codings = false;
  /// Pass over Content-Length (curl's --ignore-content-length): bodies not chunked run to
  /// the close, for servers that state wrong lengths; no connection is reused after one.
  bool ignore_content_length = false;
  /// Bounds on what decoding makes of a body (decompression bombs): by default an
  /// expansion of 1000 times past the first MiB, and no size limit.
  decoding_limits decoding;
  /// The cookies of the session's requests (curl's cookie engine): each request, redirect
  /// hops included, carries those for its URL, and every response's Set-Cookie fields
  /// are stored. A jar is safe to share between sessions and threads. Unset: none.
  std::shared_ptr<cookie_jar> cookies;
  /// Send a request's credentials to the origins it is redirected to as well (curl's
  /// --location-trusted); by default they go only to the origin they were given for.
  bool location_trusted = false;
  /// Follow 301, 302, 303, 307 and 308 responses (curl's -L); off by default, as in curl.
  bool follow_redirects = false;
  /// Redirects followed at most (libcurl's default); one more is too_many_redirects (47).
  int max_redirects = 30;
  /// The redirects after which a POST stays a POST (keep_post_after_301, ..._302,
  /// ..._303 of http/redirect.hpp; curl's CURLOPT_POSTREDIR); none by default.
  unsigned keep_post = 0;
};

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
  } else {
    close_stream(factory, stream);
    return true;
  }
}

// The local end of a TCP stream; unspecified for any other.
template <class Stream>
asio::ip::tcp::endpoint local_tcp_endpoint(const Stream& stream) {
  std::error_code ignored;
  if constexpr (requires { asio::ip::tcp::endpoint(stream.local_endpoint(ignored)); }) {
    return stream.local_endpoint(ignored);
  } else {
    return {};
  }
}

}  // namespace detail

/// A connection a session gave up to its caller (handed_over()): its stream, with the
/// bytes already read past the response that came on it.
template <class Stream>
struct handed_over_connection {
  handed_over_connection(transport<Stream>&& stream, std::string buffered,
                         asio::ip::tcp::endpoint remote)
      : stream(std::move(stream)), buffered(std::move(buffered)), remote(remote) {}

  transport<Stream> stream;
  /// Read from the connection after the response's head and body: the start of what
  /// the peer sent next (the first frames of the protocol a 101 switched to).
  std::string buffered;
  asio::ip::tcp::endpoint remote;
};

/// The HTTP session of every socket factory whose stream is `Stream`: its requests, its
/// pool and its limits. A session<Factory> is one, with its factory, which it asks only
/// for what a connection needs (to open one, to close one, to interrupt one at a time
/// limit); so the session's code is the same for every factory of one stream type,
/// compiled once for them all, and a function that takes a `basic_session<Stream>&`
/// serves a session over any of them.
///
/// Its requests, from any number of coroutines, callbacks or threads at once, share its
/// pool, its TLS context and its timer; what they share is serialised inside. Each
/// request runs on the executor of whoever awaits it: with an io_context run by several
/// threads, that is a strand, as for any Asio coroutine that uses timers
/// (async_request() makes one for its own). The session must outlive its requests;
/// io_context::run() returns once they are done, idle connections and time limits set
/// or not.
template <class Stream>
class basic_session {
 public:
  using executor_type = asio::any_io_executor;
  using stream_type = Stream;
  using transport_type = transport<stream_type>;

  basic_session(const basic_session&) = delete;
  basic_session& operator=(const basic_session&) = delete;
  virtual ~basic_session() = default;

  /// Sends `req` and reads its response. Completes with void(std::error_code, response).
  /// A request that finds its pooled connection closed by the server before any byte of
  /// a response came is sent once more on a new connection when it is idempotent and
  /// its body can be sent again, as curl does. Runs on a strand of the session's
  /// executor; per-operation cancellation (terminal) ends it with operation_aborted.
  template <class CompletionToken>
  auto async_request(http::request req, CompletionToken&& token) {
    return async_request(std::move(req), transfer_hooks{}, std::forward<CompletionToken>(token));
  }

  /// As above, calling `hooks` on the way; a body sink there takes the body.
  template <class CompletionToken>
  auto async_request(http::request req, transfer_hooks hooks, CompletionToken&& token) {
    return opensock::detail::async_spawn_value<response>(
        asio::make_strand(executor_),
        [this, req = std::move(req), hooks = std::move(hooks)]() mutable {
          return spawned_request(std::move(req), std::move(hooks));
        },
        std::forward<CompletionToken>(token));
  }

  /// async_request() of a GET, HEAD, DELETE, POST or PUT of `url`; a URL that does not
  /// parse completes with url_malformat (3).
  template <class CompletionToken>
  auto async_get(std::string_view url, CompletionToken&& token) {
    return async_method("GET", url, {}, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_head(std::string_view url, CompletionToken&& token) {
    return async_method("HEAD", url, {}, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_delete(std::string_view url, CompletionToken&& token) {
    return async_method("DELETE", url, {}, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_post(std::string_view url, request_body body, CompletionToken&& token) {
    return async_method("POST", url, std::move(body), std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_put(std::string_view url, request_body body, CompletionToken&& token) {
    return async_method("PUT", url, std::move(body), std::forward<CompletionToken>(token));
  }

  /// `co_await session.request(req)`: the response, or a std::system_error with the
  /// error code. It runs in the caller's coroutine, without a spawn. `req` and `hooks`
  /// are used where they are, as Asio uses the buffers of an operation, so they must
  /// outlive it: a `co_await` on the call sees to that. Give an rvalue to hand the
  /// request over instead.
  asio::awaitable<response> request(const http::request& req,
                                    const transfer_hooks& hooks = detail::no_transfer_hooks());

  /// As above, owning the request and the hooks.
  asio::awaitable<response> request(http::request&& req, transfer_hooks hooks = {});

  /// `co_await session.request(req, out)`: the response goes into `out`, whose storage
  /// is reused, and the error code is returned, not thrown; after an error `out` holds
  /// what came of the response before it. `req`, `out` and `hooks` must outlive the
  /// operation.
  asio::awaitable<std::error_code> request(const http::request& req, response& out,
                                           const transfer_hooks& hooks =
                                               detail::no_transfer_hooks());

  /// `co_await session.handed_over(req, out, taken)`: sends `req` as request() does,
  /// calling `hooks` on the way, and, when its response is a 101 (Switching Protocols),
  /// gives its connection up into `taken`, with the bytes read past the response, for the
  /// caller's protocol; any other response leaves `taken` empty and its connection with
  /// the session.
  asio::awaitable<std::error_code> handed_over(
      const http::request& req, response& out,
      std::optional<handed_over_connection<stream_type>>& taken,
      const transfer_hooks& hooks = detail::no_transfer_hooks());

  asio::awaitable<response> get(std::string_view url, fields headers = {}) {
    return method_request("GET", url, std::move(headers), {});
  }
  asio::awaitable<response> head(std::string_view url, fields headers = {}) {
    return method_request("HEAD", url, std::move(headers), {});
  }
  asio::awaitable<response> delete_(std::string_view url, fields headers = {}) {
    return method_request("DELETE", url, std::move(headers), {});
  }
  asio::awaitable<response> post(std::string_view url, request_body body, fields headers = {}) {
    return method_request("POST", url, std::move(headers), std::move(body));
  }
  asio::awaitable<response> put(std::string_view url, request_body body, fields headers = {}) {
    return method_request("PUT", url, std::move(headers), std::move(body));
  }

  /// Idle connections in the pool.
  std::size_t idle_connections() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->idle.size();
  }

  /// Closes every idle connection through the factory.
  void close_idle() {
    std::lock_guard lock(shared_->mutex);
    for (auto& c : shared_->idle) close(*c);
    shared_->idle.clear();
  }

  session_options& options() noexcept { return options_; }
  executor_type get_executor() const noexcept { return executor_; }

 protected:
  using clock = std::chrono::steady_clock;

  basic_session(executor_type executor, session_options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        watchdog_(executor_),
        shared_(std::make_shared<shared_state>(this)) {}

  // What only the factory does, for one connection at a time (never per request):
  // connect_within() of `r` through it, a stream closed through it, and a stream's
  // operations stopped at a time limit (detail::interrupt_stream(): whether it closed it).
  virtual asio::awaitable<void> connect_through_factory(
      const opensock::route& r, const connect_options& options, tls::context_cache* contexts,
      opensock::detail::request_watchdog* watchdog, clock::time_point deadline,
      route_connection<Stream>& made, opensock::detail::tcp_attempts& attempts) = 0;
  virtual void close_through_factory(Stream& stream) noexcept = 0;
  virtual bool interrupt_through_factory(Stream& stream) noexcept = 0;
  virtual bool factory_guards_origins() const noexcept = 0;

  // Closes the idle connections and detaches the background handlers from the session:
  // what a session<Factory>'s destructor does first, while its factory is still there.
  void shut_down() noexcept;

 private:
  using result = std::pair<std::error_code, response>;
  using watch = opensock::detail::request_watchdog::watch;

  // One connection: its route, its layered stream, and what HTTP/1.1 keeps on it
  // between requests. Shared with the wait an idle connection keeps on its socket.
  struct connection {
    explicit connection(const parser_limits& limits) { state.parser = response_parser(limits); }
    // Set by each connect (kept when the route is the same); shared with responses.
    std::shared_ptr<const opensock::route> route;
    std::optional<transport_type> stream;
    connection_state state;
    asio::ip::tcp::endpoint remote;
    asio::ip::tcp::endpoint local;
    std::string alpn;
    std::uint64_t id = 0;
    clock::time_point idle_since{};
    bool closed = true;
    // The last response on it was HTTP/1.0: the next request goes in HTTP/1.0 too.
    bool answered_http10 = false;
    // Whom NTLM authenticated it for, at the origin and at a forwarding proxy
    // (request_auth::identity); empty: nobody. NTLM authenticates a connection, not a
    // request: its requests with the same credentials go without them, and a request
    // with others, or none, takes another connection, as in curl.
    std::string ntlm_origin;
    std::string ntlm_proxy;
    // While idle: whether a read wait is pending on its socket (the peer's close ends
    // it), and the count of waits started, which tells a wait's outcome from an older
    // one's. `dead`: a wait saw the peer close it, or send what no request asked for.
    // `fresh`: pooled in the scheduler's present turn, before housekeeping() has run:
    // idle for no time at all, it needs no wait yet.
    bool watched = false;
    bool fresh = false;
    bool dead = false;
    std::uint64_t waits = 0;
    // A connect in progress keeps here, not in perform()'s frame: the route it is for
    // (made `route` once connected, unless that is the same) and what the connector made.
    opensock::route target;
    opensock::route_connection<stream_type> made;
    // What the session adds to the request sent on it now; kept, with its storage, for
    // the next.
    added_fields added;
  };
  using connection_ptr = std::shared_ptr<connection>;

  // What the session's requests and its background handlers share, under `mutex`. It
  // outlives the session while a handler holds it; `owner` is null from then on.
  struct shared_state {
    explicit shared_state(basic_session* s) : owner(s) {}
    std::mutex mutex;
    basic_session* owner;
    std::vector<connection_ptr> idle;
    std::vector<connection_ptr> spare;
    // Outside the mutex: each request changes in_flight twice, and the session runs
    // housekeeping() when it falls to zero. Sequentially consistent, with
    // housekeeping_posted: an ending request and housekeeping() each write one and
    // then read the other, so that one of them sees the session fall quiet.
    std::atomic<std::size_t> in_flight{0};
    std::atomic<bool> housekeeping_posted{false};
    std::atomic<std::uint64_t> next_id{1};
  };

  // One request across its redirects and retries: its limits, and the connection it is
  // using. Its watch is registered with the watchdog only while a response is awaited
  // on a connection, the one wait a limit must interrupt (a new connection is made
  // within the request's deadline by connect_within()): two turns of the watchdog's
  // lock per exchange.
  struct request_run {
    request_run(basic_session& owner, const transfer_hooks& hooks, const request_timeouts& limits)
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
    }
    request_run(const request_run&) = delete;
    request_run& operator=(const request_run&) = delete;
    ~request_run() { watch_connection(nullptr); }

    // The connection the request awaits a response on now, or nullptr once it has it.
    void watch_connection(connection* c) {
      if (!watching) return;
      auto& dog = owner->watchdog_;
      if (c) {
        // Not in the watchdog's list yet: nothing else reads these.
        current = c;
        watched.progress = &c->state.bytes_received;
        dog.add(watched);
      } else if (current) {
        dog.remove(watched);
        current = nullptr;
        expired_before = expired_before || watched.expired;
      }
    }

    // Whether a limit has passed (read between exchanges, when the watchdog is not
    // watching).
    bool expired() const { return expired_before || clock::now() >= deadline; }

    // A limit that passed is the request's error, whatever the interrupted stream said.
    void finish(std::error_code& ec) const {
      if (expired_before) ec = error::operation_timedout;
    }

    // Called by the watchdog, under its lock, from the thread its timer runs on: the
    // stream is cancelled, which Asio's reactor allows from any thread.
    static void expire(void* context) {
      auto* run = static_cast<request_run*>(context);
      connection* c = run->current;
      c->state.interrupted = true;
      if (run->owner->interrupt_through_factory(c->stream->lowest_layer()))
        c->closed = true;
    }

    basic_session* owner;
    const transfer_hooks* hooks;
    request_timeouts timeouts;
    clock::time_point started = clock::now();
    clock::time_point deadline;
    bool watching = false;
    bool expired_before = false;
    watch watched;
    connection* current = nullptr;
  };

  template <class CompletionToken>
  auto async_method(const char* method, std::string_view text, request_body body,
                    CompletionToken&& token) {
    std::error_code ec;
    url parsed = url::parse(text, ec);
    return opensock::detail::async_spawn_value<response>(
        asio::make_strand(executor_),
        [this, method, ec, parsed = std::move(parsed), body = std::move(body)]() mutable {
          return spawned_method(method, ec, std::move(parsed), std::move(body));
        },
        std::forward<CompletionToken>(token));
  }

  void close(connection& c) noexcept {
    if (!c.closed) close_through_factory(c.stream->lowest_layer());
    c.closed = true;
  }

  static clock::time_point deadline_after(clock::time_point start,
                                          std::optional<std::chrono::milliseconds> limit) {
    if (!limit) return clock::time_point::max();
    if (*limit >= std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock::time_point::max() - start))
      return clock::time_point::max();
    return start + *limit;
  }

  // The proxies a request to `to` passes: its own, else the session's unless the host is
  // one to reach without them, else the environment's. `ec` set when the environment's
  // does not parse.
  std::span<const proxy> proxies_for(const http::request& req, std::error_code& ec) const;

  // The pool. Each of these takes shared_->mutex.
  // `ntlm_identity`: the request's credentials (request_auth::identity), which alone may
  // take a connection NTLM authenticated for them.
  connection_ptr take_idle(const url& to, std::span<const proxy> via, bool forward,
                           clock::time_point now, std::string_view ntlm_identity);
  // Whether an HTTP proxy last forwards http requests now: unless tunnels are asked for,
  // or the factory guards origins (a proxy that forwards resolves the name itself).
  bool forwards() const {
    return !options_.proxy_tunnel && !factory_guards_origins();
  }
  void release(connection_ptr c);
  void retire(connection_ptr c);
  connection_ptr spare_connection();
  // The count of requests in flight, which takes no lock.
  void request_started();
  void request_ended(bool may_post);

  // Under shared_->mutex: the pool's limits kept, a wait for the peer's close started.
  void put_idle(connection_ptr c);
  void retire_locked(connection_ptr c);
  void watch_idle(const connection_ptr& c);
  static void stop_watching(connection& c) {
    c.watched = false;
    ++c.waits;  // the outcome of the wait, whatever it is, is now an older wait's
    if constexpr (requires(stream_type& s, std::error_code& ec) { s.cancel(ec); }) {
      std::error_code ignored;
      c.stream->lowest_layer().cancel(ignored);
    }
  }
  static void idle_wait_done(const std::shared_ptr<shared_state>& shared, const connection_ptr& c,
                             std::uint64_t wait, std::error_code ec);
  void post_housekeeping();
  static void housekeeping(const std::shared_ptr<shared_state>& shared);

  // What async_request() and async_get() … spawn: perform() owning what it was given.
  asio::awaitable<result> spawned_request(http::request req, transfer_hooks hooks);
  asio::awaitable<result> spawned_method(const char* method, std::error_code parse_error,
                                         url to, request_body body);
  static asio::awaitable<result> failed_request(std::error_code ec);

  // What a form that returns the response keeps for its caller: the response, and the
  // request and hooks when they were handed over. On the heap, not in a coroutine's
  // frame: Asio recycles frames of up to about 1 KiB, and a response would fill much of it.
  struct owned_call {
    std::optional<http::request> req;
    std::optional<transfer_hooks> hooks;
    response out;

    const transfer_hooks& hooks_or_none() const {
      return hooks ? *hooks : detail::no_transfer_hooks();
    }
  };

  // One request, its redirects and its retries: the one path every request takes, in
  // one coroutine frame, the response left in `out`. `first_url`, when given, is the
  // first request's URL, which then becomes the response's effective URL without a
  // copy. `taken`: where a 101's connection goes.
  asio::awaitable<std::error_code> perform(
      const http::request& first, const transfer_hooks& hooks, response& out,
      url* first_url = nullptr,
      std::optional<handed_over_connection<stream_type>>* taken = nullptr);

  // The forms that return the response: perform() into `owned`, whose response this
  // frame then returns. `Result` is response, thrown as std::system_error on error, or
  // result. Two frames a request, each small enough for Asio to recycle, where a
  // response held in perform()'s would make its frame too large to be.
  template <class Result>
  asio::awaitable<Result> returned(const http::request& req, const transfer_hooks& hooks,
                                   std::unique_ptr<owned_call> owned);
  // returned() of the request and hooks in `owned`.
  template <class Result>
  asio::awaitable<Result> returned_owned(std::unique_ptr<owned_call> owned) {
    owned_call& call = *owned;
    return returned<Result>(*call.req, call.hooks_or_none(), std::move(owned));
  }

  // get(), head() and the others: the request made where perform() keeps it. A URL that
  // does not parse throws std::system_error with url_malformat (3).
  asio::awaitable<response> method_request(const char* method, std::string_view url,
                                           fields headers, request_body body);

  // A new connection for `to` through `via`, forwarded by an HTTP proxy last as
  // `forward` says, made by the connector in perform()'s own frame: aim() sets the route
  // of a spare connection `c` and returns it, connected() takes what the connector made
  // of it, begun at `started`.
  const opensock::route& aim(connection& c, const url& to, std::span<const proxy> via,
                             bool forward);
  std::error_code connected(connection& c, request_run& run, transfer_info& info,
                            clock::time_point started);

  // The body of a redirect the session follows is dropped, as curl drops it: it is not
  // the response the caller gets.
  struct redirect_check final : response_head_check {
    bool drop_body(int status, const fields& headers) override {
      return redirect_location(status, headers).has_value();
    }
  };

  // The credentials of one request for the origin (a 401 answered) or for the HTTP proxy
  // that forwards it (a 407), and the state of their authentication across its hops.
  // Made only for a request that has credentials.
  struct request_auth final : response_head_check {
    request_auth(http::credentials given, opensock::origin for_origin,
                 auth_hop hop = auth_hop::origin)
        : creds(std::move(given)),
          origin(std::move(for_origin)),
          refusal(hop == auth_hop::origin ? 401 : 407),
          answerer(hop) {
      if (!creds.schemes.contains(auth_scheme::ntlm)) return;
      identity.append(origin.scheme).append("://").append(origin.host);
      identity.append(":").append(std::to_string(origin.port));
      identity.append(1, '\0').append(creds.user).append(1, '\0').append(creds.password);
    }

    // The value for the hop `req` is about to make on a connection NTLM authenticated
    // for `authenticated` (empty: for nobody): the answer to the last refusal, the value
    // sent unasked, or the next of the scheme picked; none on a connection NTLM
    // authenticated for these credentials. The hop is a probe, sent without its body,
    // when the one scheme allowed waits for a challenge (curl's "authneg": a body would
    // only be sent to be refused). The hop is armed to answer a refusal when it is a
    // probe or its body can be sent again; its head check is then put before
    // `head_check`.
    std::optional<std::string> for_hop(const http::request& req, std::string& authenticated,
                                       response_head_check*& head_check) {
      method = req.method;
      target = req.url.target();
      answered = false;
      std::optional<std::string> value;
      if (answer) {
        value = std::exchange(answer, std::nullopt);
      } else if (probe_passed) {
        // The server wants no credentials: none are sent again.
      } else if (creds.schemes.contains(auth_scheme::ntlm) && authenticated == identity) {
        // Authenticated already.
      } else if (answerer.picked() == auth_scheme::none) {
        value = answerer.first_authorization(creds);
      } else {
        value = answerer.next_authorization(req.method, target);
      }
      if (value) {
        if (answerer.authenticates_connection()) {
          authenticated = identity;
        } else {
          authenticated.clear();
        }
      }
      probing = !probe_passed && !req.body.none() && answerer.probes_first(creds);
      armed = (probing || req.body.replayable()) && !answerer.refused();
      if (armed) {
        otherwise = head_check;
        head_check = this;
      }
      return value;
    }

    // Whether `r` is a refusal of the hop in flight that these credentials answer, or a
    // success of a probe (the server wants no credentials): the same request then goes
    // again, with the answer, or whole and without credentials, as curl sends it.
    // answerer.error() says when the refusal ends the request in an error.
    bool answers(const response& r) {
      if (!armed) return false;
      if (probing && r.status < 300) return probe_passed = true;
      if (r.status != refusal) return false;
      if (!answered) answer = answerer.answer(r.headers, method, target, creds);
      return answer.has_value();
    }

    // A refusal of the hop in flight is answered from its head, so that its body is
    // dropped when the request is sent again, as is the body of a probe's success; any
    // other response is `otherwise`'s.
    bool drop_body(int status, const fields& headers) override {
      if (armed && probing && status < 300) return true;
      if (!armed || status != refusal || answered)
        return otherwise && otherwise->drop_body(status, headers);
      answered = true;
      answer = answerer.answer(headers, method, target, creds);
      return answer.has_value() || answerer.error();
    }

    http::credentials creds;
    // Where they go: the origin, or the proxy.
    opensock::origin origin;
    int refusal;  // 401 or 407
    response_head_check* otherwise = nullptr;
    authenticator answerer;
    // The hop in flight: its method and request target (Digest's uri), whether a refusal
    // of it is answered, and whether it was answered already.
    std::string method;
    std::string target;
    bool armed = false;
    bool answered = false;
    bool probing = false;
    // A probe succeeded: the request goes whole from now on.
    bool probe_passed = false;
    // Whom they name, where, for a connection NTLM authenticates: the origin, the user
    // and the password; empty when NTLM is not allowed.
    std::string identity;
    // The value for the next hop, answering a refusal.
    std::optional<std::string> answer;

    // Whether the next hop must go on the connection this one came back on (NTLM).
    bool holds_connection() const noexcept {
      return answer.has_value() && answerer.binds_connection();
    }
  };

  // The request a hop sends in place of `r`: as a probe, no body, Content-Length: 0 in
  // place of the caller's framing (or after the caller's fields), no Expect and no
  // multipart Content-Type; in HTTP/1.0 to a server that answered in it; without Expect
  // after a 417. As curl sends them.
  static std::unique_ptr<http::request> adjusted(const http::request& r, bool probe,
                                                 bool http10, bool no_expect);

  // Before a request goes on `c`: the fields the session adds to it (credentials for the
  // origin and for a proxy that forwards it, cookies, the codings it asks for), and how
  // its response is read. `proxy_auth` is made for a forwarding proxy whose credentials
  // wait for its 407, and made again when the proxy is another.
  void prepare_hop(connection& c, const http::request& req, request_auth* auth,
                   std::unique_ptr<request_auth>& proxy_auth);

  // After a response: whether to follow it elsewhere, with `redirected` the request
  // that goes there. If not, `out` gets its effective URL, and `ec` the error that
  // stopped the redirects, if one did.
  bool follow_redirect(const http::request& first, url* first_url, int redirects,
                       std::unique_ptr<http::request>& redirected, response& out,
                       std::error_code& ec);

  executor_type executor_;
  session_options options_;
  redirect_check redirect_check_;
  opensock::detail::request_watchdog watchdog_;
  tls::context_cache tls_contexts_;
  std::shared_ptr<shared_state> shared_;
  static constexpr std::size_t max_spare_connections = 8;
};

namespace detail {

// The stream of a session over `Factory`, the factory checked first, so that a callable
// of the wrong shape fails with check_socket_factory()'s message.
template <class Factory, bool = opensock::detail::check_socket_factory<Factory, asio::ip::tcp>()>
struct session_stream {
  using type = factory_stream_t<Factory, asio::ip::tcp>;
};

}  // namespace detail

/// A session over `Factory`: the basic_session of its stream, with the factory. A factory
/// that answers with a TCP socket is called through a reference of one type
/// (detail::connecting_factory), so that its connect is the one compiled for them all.
template <class Factory = default_socket_factory>
class session final : public basic_session<typename detail::session_stream<Factory>::type> {
  using base = basic_session<typename detail::session_stream<Factory>::type>;

 public:
  using factory_type = Factory;
  using typename base::stream_type;

  explicit session(asio::any_io_executor executor)
      : session(std::move(executor), Factory(), session_options()) {}
  session(asio::any_io_executor executor, Factory factory)
      : session(std::move(executor), std::move(factory), session_options()) {}
  session(asio::any_io_executor executor, Factory factory, session_options options)
      : base(std::move(executor), std::move(options)), factory_(std::move(factory)) {
    // Instantiated from here, where the session is made, rather than from the virtual
    // table at the end of the file: g++ would otherwise take the connect's frames, which
    // hold a lambda factory's type, for classes of a header (-Wsubobject-linkage).
    static_cast<void>(&session::connect_through_factory);
  }

  ~session() override { this->shut_down(); }

  Factory& factory() noexcept { return factory_; }

 private:
  asio::awaitable<void> connect_through_factory(
      const opensock::route& r, const connect_options& options, tls::context_cache* contexts,
      opensock::detail::request_watchdog* watchdog, typename base::clock::time_point deadline,
      route_connection<stream_type>& made, opensock::detail::tcp_attempts& attempts) override {
    return connecting_.connect_within(r, options, contexts, watchdog, deadline, made, attempts);
  }
  void close_through_factory(stream_type& stream) noexcept override {
    close_stream(factory_, stream);
  }
  bool interrupt_through_factory(stream_type& stream) noexcept override {
    return detail::interrupt_stream(factory_, stream);
  }
  bool factory_guards_origins() const noexcept override {
    return opensock::guards_origins(factory_);
  }

  Factory factory_;
  opensock::detail::connecting_factory<Factory> connecting_{factory_};
};

}  // namespace opensock::http

#include <opensock/http/impl/session.hpp>

#ifdef OPENSOCK_SEPARATE_COMPILATION
// Compiled once, where <opensock/impl/src.hpp> is included: the session of TCP sockets,
// which every factory answering with one shares (their connect is declared so in
// connect_route.hpp).
namespace opensock::http {
extern template class basic_session<asio::ip::tcp::socket>;
extern template class session<default_socket_factory>;
extern template class session<any_socket_factory>;
}  // namespace opensock::http
#endif
