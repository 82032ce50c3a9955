// Definitions of opensock/http/session.hpp's coroutines, out of the class: a member
// defined outside its class template is not inline, so where a program built with
// OPENSOCK_SEPARATE_COMPILATION declares the session of TCP sockets as compiled
// elsewhere (opensock/impl/src.hpp), the compiler does not instantiate them.
#pragma once

#include <opensock/http/session.hpp>

namespace opensock::http {

// The forms of a request, each perform() in the end. Defined here, out of the class, so
// that OPENSOCK_SEPARATE_COMPILATION compiles them once.
template <class Stream>
asio::awaitable<response> basic_session<Stream>::request(const http::request& req,
                                                         const transfer_hooks& hooks) {
  return returned<response>(req, hooks, std::make_unique<owned_call>());
}

template <class Stream>
asio::awaitable<response> basic_session<Stream>::request(http::request&& req,
                                                         transfer_hooks hooks) {
  auto owned = std::make_unique<owned_call>();
  owned->req.emplace(std::move(req));
  owned->hooks.emplace(std::move(hooks));
  return returned_owned<response>(std::move(owned));
}

template <class Stream>
asio::awaitable<std::error_code> basic_session<Stream>::request(const http::request& req,
                                                                response& out,
                                                                const transfer_hooks& hooks) {
  return perform(req, hooks, out);
}

template <class Stream>
asio::awaitable<std::error_code> basic_session<Stream>::handed_over(
    const http::request& req, response& out,
    std::optional<handed_over_connection<stream_type>>& taken, const transfer_hooks& hooks) {
  return perform(req, hooks, out, nullptr, &taken);
}

template <class Stream>
asio::awaitable<typename basic_session<Stream>::result> basic_session<Stream>::spawned_request(
    http::request req, transfer_hooks hooks) {
  auto owned = std::make_unique<owned_call>();
  owned->req.emplace(std::move(req));
  owned->hooks.emplace(std::move(hooks));
  return returned_owned<result>(std::move(owned));
}

template <class Stream>
asio::awaitable<typename basic_session<Stream>::result> basic_session<Stream>::spawned_method(
    const char* method, std::error_code parse_error, url to, request_body body) {
  if (parse_error) return failed_request(parse_error);
  auto owned = std::make_unique<owned_call>();
  owned->req.emplace(method, std::move(to), fields(), std::move(body));
  return returned_owned<result>(std::move(owned));
}

// The URL parsed where the request is kept, not moved there.
template <class Stream>
asio::awaitable<response> basic_session<Stream>::method_request(const char* method,
                                                                std::string_view text,
                                                                fields headers, request_body body) {
  auto owned = std::make_unique<owned_call>();
  http::request& req = owned->req.emplace();
  if (const auto ec = detail::parse_into(text, req.url, url::dot_segments::remove))
    throw std::system_error(ec);
  req.method = method;
  req.headers = std::move(headers);
  req.body = std::move(body);
  return returned_owned<response>(std::move(owned));
}

template <class Stream>
asio::awaitable<typename basic_session<Stream>::result> basic_session<Stream>::failed_request(
    std::error_code ec) {
  co_return result(ec, response());
}

template <class Stream>
template <class Result>
asio::awaitable<Result> basic_session<Stream>::returned(const http::request& req,
                                                        const transfer_hooks& hooks,
                                                        std::unique_ptr<owned_call> owned) {
  url* first_url = owned->req ? &owned->req->url : nullptr;
  const std::error_code ec = co_await perform(req, hooks, owned->out, first_url);
  if constexpr (std::is_same_v<Result, response>) {
    if (ec) throw std::system_error(ec);
    co_return std::move(owned->out);
  } else {
    co_return result(ec, std::move(owned->out));
  }
}

template <class Stream>
asio::awaitable<std::error_code> basic_session<Stream>::perform(
    const http::request& first, const transfer_hooks& hooks, response& out, url* first_url,
    std::optional<handed_over_connection<stream_type>>* taken) {
  // Cancellation ends the request with operation_aborted, not an exception; the
  // caller's own setting is restored for it when this runs in its coroutine.
  const bool caller_throws = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  // Counted in flight until it ends, also when its frame goes without ending (the
  // io_context destroyed under it).
  struct in_flight {
    explicit in_flight(basic_session& s) : owner(s) { owner.request_started(); }
    ~in_flight() {
      if (!ended) owner.request_ended(false);
    }
    basic_session& owner;
    bool ended = false;
  } counted(*this);
  request_run run(*this, hooks, first.timeouts ? *first.timeouts : options_.timeouts);
  // A redirect changes the request: only then is it copied.
  std::unique_ptr<http::request> redirected;
  const http::request* req = &first;
  std::error_code ec;
  transfer_info& info = out.info;
  // Credentials given, or in the URL: held for the request's hops.
  std::unique_ptr<request_auth> auth;
  if (first.credentials) {
    auth = std::make_unique<request_auth>(*first.credentials, first.url.origin());
  } else if (first.url.has_userinfo) [[unlikely]] {
    auto given = credentials::from_userinfo(first.url.userinfo, ec);
    if (!ec) auth = std::make_unique<request_auth>(std::move(given), first.url.origin());
  }
  std::unique_ptr<request_auth> proxy_auth;  // made by the first hop a proxy forwards
  std::unique_ptr<http::request> adjusted_hop;  // a hop not sent as the request is
  bool answered_http10 = false;                 // by a response of this run
  bool expectation_failed = false;              // a 417 to "Expect: 100-continue"
  bool body_withheld = false;                   // by the last exchange, after Expect
  // The connection an answer to a challenge must go on (NTLM authenticates a connection),
  // kept out of the pool for the next hop.
  connection_ptr held;
  for (int redirects = 0, hops = 0;; ++hops) {
    if (ec) [[unlikely]] {  // the URL's userinfo does not decode
      out = response();
      break;
    }
    // The first lookup uses the time the request started: one clock read fewer.
    const auto now = hops == 0 ? run.started : clock::now();
    // ws and wss use HTTP only for their upgrade (websocket::async_connect()).
    if (!taken && (req->url.scheme == "ws" || req->url.scheme == "wss")) [[unlikely]] {
      ec = error::websocket_url_for_http;
      out = response();
      break;
    }
    const std::span<const proxy> via = proxies_for(*req, ec);
    if (ec) [[unlikely]] {
      out = response();
      break;
    }
    const bool forward = forwards();
    connection_ptr conn = held ? std::move(held)
                               : take_idle(req->url, via, forward, now,
                                           auth ? std::string_view(auth->identity) : "");
    // A reused connection the server had closed is replaced once by a new one.
    for (bool retried = false;;) {
      const bool reused = conn != nullptr;
      info.attempts.clear();
      info.connect = {};
      info.tunnel_answer.status = 0;
      info.tunnel_answer.request.clear();
      info.tunnel_answer.head.clear();
      info.first_byte = {};
      if (reused) {
        // A connection to a proxy that forwards requests carries them to any origin; its
        // route says the one it carries now.
        if (conn->route->forwarded() && !(conn->route->origin == req->url.origin())) {
          auto carried = std::make_shared<opensock::route>(*conn->route);
          carried->origin = req->url.origin();
          carried->apply_names(options_.names);
          conn->route = std::move(carried);
        }
        if (hooks.on_connection)
          hooks.on_connection(
              connection_info{true, conn->remote, nullptr, conn->alpn, nullptr, conn->route.get()});
      } else {
        conn = spare_connection();
        const auto started = clock::now();
        co_await connect_through_factory(
            aim(*conn, req->url, via, forward), options_.connect, &tls_contexts_, &watchdog_,
            std::min(run.deadline, deadline_after(started, run.timeouts.connect)), conn->made,
            info.attempts);
        if ((ec = connected(*conn, run, info, started))) [[unlikely]] {
          retire(std::move(conn));
          auto kept = std::move(info);
          out = response();
          info = std::move(kept);
          break;
        }
      }
      info.connection_id = conn->id;
      info.reused = reused;
      if (info.route != conn->route) info.route = conn->route;  // a reused response has it
      info.alpn = conn->alpn;
      out.remote = conn->remote;
      out.local = conn->local;
      prepare_hop(*conn, *req, auth.get(), proxy_auth);
      const bool probing = (auth && auth->probing) || (proxy_auth && proxy_auth->probing);
      // A server that answered in HTTP/1.0, on this connection or before in this run, is
      // spoken to in HTTP/1.0 (curl's rule): it may not know chunked coding, or more.
      const bool in_http10 = req->version != 10 && (answered_http10 || conn->answered_http10);
      if (probing || in_http10 || expectation_failed) [[unlikely]]
        adjusted_hop = adjusted(*req, probing, in_http10, expectation_failed);
      conn->state.expect_continue_timeout = run.timeouts.expect_continue;
      run.watch_connection(conn.get());
      co_await async_exchange(*conn->stream, adjusted_hop ? *adjusted_hop : *req, out,
                              conn->state, hooks, asio::redirect_error(asio::use_awaitable, ec));
      adjusted_hop.reset();
      run.watch_connection(nullptr);
      body_withheld = conn->state.body_withheld;
      // A body of unknown length cannot be framed in the HTTP/1.0 the server spoke.
      if (ec == error::unframable_request_body && in_http10) [[unlikely]]
        ec = error::chunked_upload_to_http10;
      if (conn->state.first_byte_at) info.first_byte = *conn->state.first_byte_at - run.started;
      if (!ec) [[likely]] {
        conn->answered_http10 = out.version == 10;
        answered_http10 = answered_http10 || conn->answered_http10;
        if (taken && out.status == 101) {
          auto& state = conn->state;
          taken->emplace(std::move(*conn->stream),
                         std::string(state.read_buffer.data(), state.read_used), conn->remote);
          conn->stream.reset();
          conn->closed = true;  // the caller's now
          state.read_used = 0;
          retire(std::move(conn));
        } else if (out.status == 101) [[unlikely]] {
          // A switch no request asked for: what follows on the connection is not HTTP.
          ec = error::unrequested_protocol_switch;
          retire(std::move(conn));
        } else if (conn->state.reusable && ((auth && auth->holds_connection()) ||
                                            (proxy_auth && proxy_auth->holds_connection()))) {
          held = std::move(conn);
        } else {
          release(std::move(conn));
        }
        break;
      }
      const bool nothing_came = !conn->state.parser.received_anything();
      retire(std::move(conn));
      const bool stale = ec == error::got_nothing || ec == error::send_error ||
                         (ec == error::recv_error && nothing_came);
      if (!reused || retried || !stale || !is_idempotent(req->method) ||
          !req->body.replayable() || run.expired())
        break;
      retried = true;
    }
    if (!ec && options_.cookies) options_.cookies->store(req->url, out.headers);
    // A 417 to "Expect: 100-continue": the same request again without it, as curl does,
    // when its body was not sent or can be sent again.
    if (!ec && out.status == 417 && !expectation_failed && req->headers.contains("expect") &&
        (body_withheld || req->body.replayable())) [[unlikely]] {
      expectation_failed = true;
      continue;
    }
    // A 401 (a forwarding proxy's 407) the credentials answer: the same request again,
    // with the answer.
    if (!ec && ((auth && auth->answers(out)) || (proxy_auth && proxy_auth->answers(out))))
      continue;
    if (held) release(std::move(held));
    if (!ec) [[likely]] {
      // A refusal the credentials could not answer for a reason that is an error.
      if (auth && auth->answerer.error()) ec = auth->answerer.error();
      if (proxy_auth && proxy_auth->answerer.error()) ec = proxy_auth->answerer.error();
      if (ec) [[unlikely]]
        break;
    }
    out.redirects = redirects;
    if (!follow_redirect(first, first_url, redirects, redirected, out, ec)) break;
    req = redirected.get();
    ++redirects;
  }
  if (held) [[unlikely]]
    retire(std::move(held));
  run.finish(ec);
  info.total = clock::now() - run.started;
  counted.ended = true;
  request_ended(true);
  co_await asio::this_coro::throw_if_cancelled(caller_throws);
  co_return ec;
}

template <class Stream>
std::span<const proxy> basic_session<Stream>::proxies_for(const http::request& req,
                                                          std::error_code& ec) const {
  if (req.proxies) return *req.proxies;
  const auto& environment = options_.environment_proxies;
  if (options_.proxies.empty() && !environment) return {};
  if (options_.no_proxy ? options_.no_proxy->matches(req.url.host)
                        : environment && environment->no_proxy.matches(req.url.host))
    return {};
  if (!options_.proxies.empty()) return options_.proxies;
  return environment->proxies_for(req.url.scheme, ec);
}

template <class Stream>
const opensock::route& basic_session<Stream>::aim(connection& c, const url& to,
                                                  std::span<const proxy> via, bool forward) {
  // Written over what the connection's last connect left, whose strings keep their
  // storage; TLS settings are copied only for a route that uses them.
  opensock::route& target = c.target;
  target.origin.host = to.host;
  target.origin.port = to.port;
  target.origin.scheme = to.scheme;
  target.secure = is_tls_scheme(to.scheme);
  if (target.secure) {
    target.tls = options_.tls;
  } else {
    target.tls.reset();
  }
  target.apply_names(options_.names);
  target.local = options_.local;
  target.proxy_header = options_.proxy_header;
  target.proxies.assign(via.begin(), via.end());
  target.forward = forward;
  auto& made = c.made;
  made.error = {};
  made.stream.reset();
  made.endpoint = {};
  made.alpn.clear();
  made.tunnel_answer.status = 0;
  made.times = {};
  return target;
}

template <class Stream>
std::error_code basic_session<Stream>::connected(connection& c, request_run& run,
                                                 transfer_info& info, clock::time_point started) {
  auto& made = c.made;
  // Counted from the start of the request, as curl counts its phases.
  const auto before = started - run.started;
  info.connect.name_lookup = made.times.name_lookup + before;
  info.connect.connect = made.times.connect + before;
  if (c.target.secure) info.connect.tls_handshake = made.times.tls_handshake + before;
  // What a proxy answered, also when it refused the tunnel.
  info.tunnel_answer.status = made.tunnel_answer.status;
  info.tunnel_answer.request.swap(made.tunnel_answer.request);
  info.tunnel_answer.head.swap(made.tunnel_answer.head);
  if (made.error) {
    // Cut short by a time limit: no hook is called (transfer_hooks says so).
    if (made.error != error::operation_timedout && run.hooks->on_connect_error)
      run.hooks->on_connect_error(info.attempts, made.error);
    return made.error;
  }
  c.id = shared_->next_id++;
  // A route is immutable once made: the one a spare connection had is kept when it is
  // the same, responses sharing it or not.
  if (!c.route || !(*c.route == c.target))
    c.route = std::make_shared<const opensock::route>(std::move(c.target));
  if (c.route->forwarded()) {
    c.state.forward.emplace(c.route->proxies.back());
  } else {
    c.state.forward.reset();
  }
  c.stream.emplace(std::move(*made.stream));
  made.stream.reset();
  c.closed = false;
  c.remote = made.endpoint;
  c.local = detail::local_tcp_endpoint(c.stream->lowest_layer());
  c.alpn = std::move(made.alpn);
  if (run.hooks->on_connection)
    run.hooks->on_connection(connection_info{false, c.remote, &info.attempts, c.alpn,
                                             info.tunnel_answer.status ? &info.tunnel_answer
                                                                       : nullptr,
                                             c.route.get()});
  return {};
}

template <class Stream>
void basic_session<Stream>::shut_down() noexcept {
  std::lock_guard lock(shared_->mutex);
  shared_->owner = nullptr;
  for (auto& c : shared_->idle) close(*c);
  shared_->idle.clear();
  shared_->spare.clear();
}

template <class Stream>
typename basic_session<Stream>::connection_ptr basic_session<Stream>::take_idle(
    const url& to, std::span<const proxy> via, bool forward, clock::time_point now,
    std::string_view ntlm_identity) {
  std::lock_guard lock(shared_->mutex);
  auto& idle = shared_->idle;
  connection_ptr found;
  for (auto it = idle.begin(); it != idle.end();) {
    connection& c = **it;
    bool usable = !c.dead && now - c.idle_since < options_.idle_timeout;
    const bool wanted = usable && !found &&
                        (c.ntlm_origin.empty() || c.ntlm_origin == ntlm_identity) &&
                        c.route->serves(to.scheme, to.host, to.port, via, forward, options_.tls);
    if (wanted) {
      if (c.watched) {
        stop_watching(c);  // its wait has not seen the peer close it
      } else if (!c.fresh) {
        // Idle with no wait on it (the session was quiet): the socket is asked.
        usable = !opensock::detail::peer_closed(c.stream->lowest_layer());
      }
      c.fresh = false;
    }
    if (!usable) {
      retire_locked(std::move(*it));
      it = idle.erase(it);
    } else if (wanted) {
      found = std::move(*it);
      it = idle.erase(it);
    } else {
      ++it;
    }
  }
  return found;
}

template <class Stream>
void basic_session<Stream>::release(connection_ptr c) {
  std::lock_guard lock(shared_->mutex);
  if (c->state.reusable && !c->dead) {
    put_idle(std::move(c));
  } else {
    retire_locked(std::move(c));
  }
}

template <class Stream>
void basic_session<Stream>::retire(connection_ptr c) {
  std::lock_guard lock(shared_->mutex);
  retire_locked(std::move(c));
}

// Closes a connection, keeping its object for a new connection to reuse: the parser's
// and buffers' storage is then not allocated again.
template <class Stream>
void basic_session<Stream>::retire_locked(connection_ptr c) {
  close(*c);
  c->watched = false;
  c->fresh = false;
  ++c->waits;
  c->stream.reset();
  if (shared_->spare.size() < max_spare_connections) shared_->spare.push_back(std::move(c));
}

template <class Stream>
typename basic_session<Stream>::connection_ptr basic_session<Stream>::spare_connection() {
  connection_ptr c;
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->spare.empty()) {
      c = std::move(shared_->spare.back());
      shared_->spare.pop_back();
    }
  }
  if (!c) c = std::make_shared<connection>(options_.limits);
  auto& state = c->state;
  state.parser.set_limits(options_.limits);
  state.parser.allow_http09(options_.allow_http09);
  state.parser.keep_transfer_codings(options_.keep_transfer_codings);
  state.parser.ignore_content_length(options_.ignore_content_length);
  state.parser.start_connection();
  state.read_used = 0;
  state.reusable = false;
  state.bytes_received = 0;
  state.interrupted = false;
  c->alpn.clear();
  c->idle_since = {};
  c->dead = false;
  c->answered_http10 = false;
  c->ntlm_origin.clear();
  c->ntlm_proxy.clear();
  c->watched = false;
  return c;
}

template <class Stream>
void basic_session<Stream>::put_idle(connection_ptr c) {
  auto& idle = shared_->idle;
  if (options_.max_idle == 0 || options_.max_idle_per_origin == 0) {
    retire_locked(std::move(c));
    return;
  }
  // Over a limit, the connection idle the longest goes first: one of the same route
  // for the per-route limit, any for the overall one.
  auto evict_oldest = [&](const opensock::route* of) {
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      if (of && !(*(*it)->route == *of)) continue;
      auto evicted = std::move(*it);
      idle.erase(it);
      retire_locked(std::move(evicted));
      return;
    }
  };
  std::size_t same_route = 0;
  for (const auto& other : idle) same_route += *other->route == *c->route ? 1 : 0;
  for (; same_route >= options_.max_idle_per_origin; --same_route) evict_oldest(c->route.get());
  while (idle.size() >= options_.max_idle) evict_oldest(nullptr);
  c->idle_since = clock::now();
  c->fresh = true;
  idle.push_back(std::move(c));
  post_housekeeping();
}

// An idle connection keeps a read wait on its socket: the peer's close (or bytes no
// request asked for) ends it, and the connection is dropped from the pool, with no
// system call on the way (the reactor already watches the socket). The wait starts once
// the connection has been idle past the scheduler's turn it was pooled in
// (housekeeping()), so that a request that follows at once, the common case, neither
// starts nor cancels one; it is cancelled when the connection is taken, or when the
// session falls quiet.
template <class Stream>
void basic_session<Stream>::watch_idle(const connection_ptr& c) {
  if constexpr (requires(stream_type& s) {
                  s.async_wait(asio::socket_base::wait_read, [](std::error_code) {});
                }) {
    c->watched = true;
    const std::uint64_t wait = ++c->waits;
    c->stream->lowest_layer().async_wait(
        asio::socket_base::wait_read,
        [shared = shared_, c, wait](std::error_code ec) { idle_wait_done(shared, c, wait, ec); });
  }
}

template <class Stream>
void basic_session<Stream>::idle_wait_done(const std::shared_ptr<shared_state>& shared,
                                           const connection_ptr& c, std::uint64_t wait,
                                           std::error_code ec) {
  std::lock_guard lock(shared->mutex);
  // Taken, retired or watched again since: this wait says nothing of it now.
  if (wait != c->waits || !c->watched || !shared->owner) return;
  c->watched = false;
  if (ec == asio::error::operation_aborted) return;
  c->dead = true;
  auto& idle = shared->idle;
  for (auto it = idle.begin(); it != idle.end(); ++it) {
    if (*it != c) continue;
    idle.erase(it);
    shared->owner->retire_locked(c);
    return;
  }
}

template <class Stream>
void basic_session<Stream>::request_started() {
  ++shared_->in_flight;
}

// The last request in flight ended: once the handlers queued now have run, and no
// request has started meanwhile, the session lets go of the executor (housekeeping()).
template <class Stream>
void basic_session<Stream>::request_ended(bool may_post) {
  if (--shared_->in_flight == 0 && may_post) post_housekeeping();
}

// housekeeping() once the handlers queued now have run.
template <class Stream>
void basic_session<Stream>::post_housekeeping() {
  if (shared_->housekeeping_posted.exchange(true)) return;
  asio::post(executor_, [shared = shared_] { housekeeping(shared); });
}

// While requests are in flight, connections pooled since the last run start their wait
// for the peer's close. With none in flight, the idle connections' waits and the
// watchdog's timer, which would keep io_context::run() from returning, are cancelled;
// the next request takes an idle connection by asking its socket whether the peer
// closed it (one system call).
template <class Stream>
void basic_session<Stream>::housekeeping(const std::shared_ptr<shared_state>& shared) {
  // Cleared before in_flight is read: a request that ends after the read posts again.
  shared->housekeeping_posted = false;
  std::lock_guard lock(shared->mutex);
  basic_session* owner = shared->owner;
  if (!owner) return;
  const bool quiet = shared->in_flight == 0;
  for (auto& c : shared->idle) {
    if (quiet && c->watched) stop_watching(*c);
    if (!quiet && c->fresh) owner->watch_idle(c);
    c->fresh = false;
  }
  if (quiet) owner->watchdog_.disarm();
}

template <class Stream>
void basic_session<Stream>::prepare_hop(connection& c, const http::request& req, request_auth* auth,
                                        std::unique_ptr<request_auth>& proxy_auth) {
  auto& state = c.state;
  state.decoding = options_.decompress || options_.decode_transfer_codings
                       ? &options_.decoding
                       : nullptr;
  state.decode_content_codings = options_.decompress;
  state.decode_transfer_codings = options_.decode_transfer_codings;
  state.head_check = options_.follow_redirects ? &redirect_check_ : nullptr;
  added_fields& added = c.added;
  added.clear();
  // Credentials go to the origin they were given for, and elsewhere only when trusted
  // (curl's --location-trusted); a caller's own Authorization field is sent instead.
  if (auth) {
    auth->armed = false;
    if ((options_.location_trusted || req.url.origin() == auth->origin) &&
        !req.headers.contains("authorization")) {
      if (const auto value = auth->for_hop(req, c.ntlm_origin, state.head_check)) {
        added.after_host += "Authorization: ";
        added.after_host += *value;
        added.after_host += "\r\n";
      }
    }
  }
  // A forwarding proxy's credentials that wait for its 407 (proxy::auth): the value of
  // each hop is written where forwarding writes the one sent unasked.
  if (proxy_auth) proxy_auth->armed = false;
  if (state.forward) [[unlikely]] {
    const proxy& via = c.route->proxies.back();
    if (via.answers_challenges()) {
      opensock::origin at(via.host, via.port, std::string(scheme_of(via.kind)));
      if (!proxy_auth || !(proxy_auth->origin == at) || proxy_auth->creds.user != via.user ||
          proxy_auth->creds.password != via.password)
        proxy_auth = std::make_unique<request_auth>(
            credentials(via.user, via.password, via.auth), std::move(at), auth_hop::proxy);
      std::string& line = state.forward->authorization;
      line.clear();
      if (!req.headers.contains("proxy-authorization")) {
        if (const auto value = proxy_auth->for_hop(req, c.ntlm_proxy, state.head_check))
          line.append("Proxy-Authorization: ").append(*value).append("\r\n");
      }
    }
  }
  const bool asks_te =
      options_.decode_transfer_codings && decodes("gzip") && !req.headers.contains("te");
  if (asks_te) added.after_leading += "TE: gzip\r\n";
  if (options_.decompress && !req.headers.contains("accept-encoding") &&
      !accept_encoding().empty()) {
    added.after_leading += "Accept-Encoding: ";
    added.after_leading += accept_encoding();
    added.after_leading += "\r\n";
  }
  if (asks_te) {
    // TE is a hop-by-hop field: Connection must name it (RFC 9110 §10.1.4), with the
    // caller's own first Connection field merged in; after Accept-Encoding, as newer
    // curl writes them.
    added.after_leading += "Connection: ";
    if (const auto own = req.headers.get("connection")) {
      if (!own->empty()) added.after_leading.append(*own).append(", ");
      added.merges_connection = true;
    }
    added.after_leading += "TE\r\n";
  }
  if (const auto& jar = options_.cookies) {
    const std::string cookies = jar->header_for(req.url, request_context(req.method));
    if (!cookies.empty()) {
      added.after_leading += "Cookie: ";
      added.after_leading += cookies;
      added.after_leading += "\r\n";
    }
  }
  state.added = added.empty() ? nullptr : &added;
}

template <class Stream>
std::unique_ptr<http::request> basic_session<Stream>::adjusted(const http::request& r, bool probe,
                                                               bool http10, bool no_expect) {
  // Member by member: a probe does not copy the body, perhaps large.
  auto hop = std::make_unique<http::request>(r.method, r.url, r.headers);
  hop->target = r.target;
  hop->version = http10 ? 10 : r.version;
  hop->timeouts = r.timeouts;
  hop->proxies = r.proxies;
  hop->credentials = r.credentials;
  if (probe || no_expect) hop->headers.erase("expect");
  if (probe) {
    hop->headers.erase("transfer-encoding");
    hop->headers.set("Content-Length", "0");
    // A multipart type's boundary describes the body that is not sent.
    if (const auto type = hop->headers.get("content-type");
        type && type->size() >= 10 && iequals(type->substr(0, 10), "multipart/"))
      hop->headers.erase("content-type");
  } else {
    hop->body = r.body;
  }
  return hop;
}

template <class Stream>
bool basic_session<Stream>::follow_redirect(const http::request& first, url* first_url,
                                            int redirects,
                                            std::unique_ptr<http::request>& redirected,
                                            response& out, std::error_code& ec) {
  const http::request& from = redirected ? *redirected : first;
  const bool follow = !ec && options_.follow_redirects;
  const auto location = follow ? redirect_location(out.status, out.headers) : std::nullopt;
  if (!location) {
    if (redirected) {
      out.effective_url = std::move(redirected->url);
    } else if (first_url) {
      out.effective_url = std::move(*first_url);
    } else if (out.effective_url != first.url) {  // a reused response often has it
      out.effective_url = first.url;
    }
    return false;
  }
  out.effective_url = from.url;
  if (redirects == options_.max_redirects) {
    ec = error::too_many_redirects;
    return false;
  }
  url next = resolve_location(from.url, *location, ec);
  if (ec) return false;
  redirected = std::make_unique<http::request>(
      redirected_request(from, std::move(next), out.status, options_.keep_post));
  if (!redirected->body.replayable()) {
    ec = error::send_fail_rewind;
    return false;
  }
  return true;
}

}  // namespace opensock::http
