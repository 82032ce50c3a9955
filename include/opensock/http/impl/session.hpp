// Definitions of opensock/http/session.hpp's coroutines, out of the class: a member
// defined outside its class template is not inline, so where a program built with
// OPENSOCK_SEPARATE_COMPILATION declares the session over the default factory as
// compiled elsewhere (opensock/impl/src.hpp), the compiler does not instantiate them.
#pragma once

#include <opensock/http/session.hpp>

namespace opensock::http {

template <class Factory>
asio::awaitable<response> session<Factory>::request(const http::request& req,
                                                    const transfer_hooks& hooks) {
  response out;
  if (auto ec = co_await perform(req, hooks, out)) throw std::system_error(ec);
  co_return out;
}

template <class Factory>
asio::awaitable<typename session<Factory>::result> session<Factory>::spawned_request(
    http::request req, transfer_hooks hooks) {
  result done;
  done.first = co_await perform(req, hooks, done.second, &req.url);
  co_return done;
}

template <class Factory>
asio::awaitable<response> session<Factory>::owned_request(http::request req,
                                                          transfer_hooks hooks) {
  response out;
  if (auto ec = co_await perform(req, hooks, out, &req.url)) throw std::system_error(ec);
  co_return out;
}

template <class Factory>
asio::awaitable<std::error_code> session<Factory>::perform(const http::request& first,
                                                           const transfer_hooks& hooks,
                                                           response& out, url* first_url) {
  // Cancellation ends the request with operation_aborted, not an exception; the
  // caller's own setting is restored for it when this runs in its coroutine.
  const bool caller_throws = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  request_run run(*this, hooks, first.timeouts ? *first.timeouts : options_.timeouts);
  // A redirect changes the request: only then is it copied.
  std::unique_ptr<http::request> redirected;
  const http::request* req = &first;
  std::error_code ec;
  for (int redirects = 0;; ++redirects) {
    // The first lookup uses the time the request started: one clock read fewer.
    std::unique_ptr<connection> conn =
        take_idle(req->url, redirects == 0 ? run.started : clock::now());
    // A reused connection the server had closed is replaced once by a new one.
    for (bool retried = false;;) {
      const bool reused = conn != nullptr;
      if (reused) {
        if (hooks.on_connection)
          hooks.on_connection(connection_info{true, conn->remote, nullptr, conn->alpn});
      } else {
        // A connect with one wait is taken here, without the frames of its own it
        // would need otherwise.
        auto step = connect_step::elsewhere;
        if constexpr (connects_in_place) {
          const auto own = co_await asio::this_coro::cancellation_state;
          step = begin_connect(req->url, run, own.slot().is_connected(),
                               co_await asio::this_coro::executor, conn);
          if (step == connect_step::wait) co_await connect_wait(*conn);
          if (step != connect_step::elsewhere) ec = end_connect(run, conn);
        }
        if (step == connect_step::elsewhere) ec = co_await connect(req->url.origin(), run, conn);
        if (ec) [[unlikely]] {
          out = response();
          break;
        }
      }
      run.watch_connection(conn.get());
      out.remote = conn->remote;
      if (conn->plain && !req->body.file_path() && !req->body.producer() &&
          !hooks.on_body.is_coroutine()) {
        // exchange()'s steps for this common case, taken here rather than in a
        // coroutine of their own: a kept-alive request then needs no more coroutine
        // frames than Asio keeps for reuse.
        auto& state = conn->state;
        state.reusable = false;
        if (conn->host_line.empty()) {
          conn->host_line = "Host: ";
          req->url.append_host_header(conn->host_line);
          conn->host_line += "\r\n";
        }
        ec = detail::write_memory_head(*req, state, hooks, conn->host_line);
        if (!ec && state.interrupted) ec = asio::error::operation_aborted;
        if (!ec) {
          // Most requests go whole in one send that does not wait; the rest, if any,
          // by a write that does.
          const std::size_t sent =
              opensock::detail::send_now(*conn->plain, detail::request_buffers(*req, state), ec);
          if (!ec && sent < state.write_buffer.size() + req->body.memory().size())
            co_await asio::async_write(*conn->plain, detail::request_buffers(*req, state, sent),
                                       asio::redirect_error(asio::use_awaitable, ec));
          if (ec) ec = detail::send_error_of(ec);
        }
        if (!ec) {
          detail::response_reader reader(*req, out, state, hooks);
          for (reader.parse(); reader.wants_more(); reader.parse()) {
            const std::size_t n = co_await conn->plain->async_read_some(
                reader.read_buffer(), asio::redirect_error(asio::use_awaitable, ec));
            if (!reader.got(n, ec)) break;
          }
          ec = reader.result();
        }
      } else {
#if OPENSOCK_HAS_TLS
        if (conn->tls)
          ec = co_await exchange(*conn->tls, *req, out, conn->state, hooks);
        else
#endif
          ec = co_await exchange(*conn->plain, *req, out, conn->state, hooks);
      }
      run.watch_connection(nullptr);
      if (!ec) [[likely]] {
        release(std::move(conn));
        break;
      }
      const bool nothing_came = !conn->state.parser.received_anything();
      retire(std::move(conn));
      const bool stale = ec == error::got_nothing || ec == error::send_error ||
                         (ec == error::recv_error && nothing_came);
      if (!reused || retried || !stale || !is_idempotent(req->method) ||
          !req->body.replayable() || run.watched.expired)
        break;
      retried = true;
    }
    out.redirects = redirects;
    if (!follow_redirect(first, first_url, redirects, redirected, out, ec)) break;
    req = redirected.get();
  }
  run.finish(ec);
  co_await asio::this_coro::throw_if_cancelled(caller_throws);
  co_return ec;
}

template <class Factory>
bool session<Factory>::follow_redirect(const http::request& first, url* first_url,
                                       int redirects,
                                       std::unique_ptr<http::request>& redirected,
                                       response& out, std::error_code& ec) {
  const http::request& from = redirected ? *redirected : first;
  const bool redirect = !ec && options_.follow_redirects && is_redirect(out.status);
  const auto location = redirect ? out.headers.get("location") : std::nullopt;
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
      redirected_request(from, std::move(next), out.status));
  if (!redirected->body.replayable()) {
    ec = error::send_fail_rewind;
    return false;
  }
  return true;
}

template <class Factory>
asio::awaitable<std::error_code> session<Factory>::connect(
    const origin& key, request_run& run, std::unique_ptr<connection>& into,
    std::optional<clock::time_point> held_to) {
  const auto deadline =
      held_to ? *held_to
              : std::min(run.deadline, deadline_after(clock::now(), run.timeouts.connect));
  std::optional<opensock::detail::deadline_stop> limit;
  if (!held_to && deadline != clock::time_point::max()) {
    // The cheap way: every wait of the connect follows a stop cancelled at the
    // deadline, with nothing spawned. It needs a caller that nothing can cancel (the
    // caller's cancellation could not be passed on) and a factory that does not wait
    // itself. Otherwise the connect runs in a coroutine of its own, cancelled at the
    // deadline or with this one.
    const auto own = co_await asio::this_coro::cancellation_state;
    if (is_coroutine_factory_v<Factory, Protocol> || own.slot().is_connected()) {
      auto done =
          co_await opensock::detail::with_deadline(connect(key, run, into, deadline), deadline);
      if (done) co_return *done;
      if (into) retire(std::move(into));  // it connected as the deadline passed
      co_return error::operation_timedout;
    }
    limit_connect(limit, deadline, co_await asio::this_coro::executor);
  }
  const auto stop = limit ? limit->stop() : asio::cancellation_state();
  auto connected = co_await connect_origin(factory_, key, options_.connect, purpose::origin, stop);
  std::error_code ec = connected.error;
  if (!ec) {
    into = new_connection(key.host, key.port, key.scheme, connected.endpoint);
    into->plain.emplace(std::move(*connected.stream));
    if (is_tls_scheme(key.scheme)) ec = co_await secure(*into, key.host, stop);
  }
  const bool expired = limit ? limit->expired() : held_to && clock::now() >= deadline;
  co_return connect_ended(run, into, ec, expired, connected.attempts);
}

template <class Factory>
asio::awaitable<std::error_code> session<Factory>::secure(
    [[maybe_unused]] connection& conn, [[maybe_unused]] const std::string& host,
    [[maybe_unused]] asio::cancellation_state stop) {
#if OPENSOCK_HAS_TLS
  std::error_code ec;
  auto context = tls_context(ec);
  if (ec) co_return ec;
  conn.tls_settings = options_.tls;
  auto secured =
      co_await tls::handshake(std::move(*conn.plain), *context, host, options_.tls, stop);
  conn.plain.reset();
  conn.tls.emplace(std::move(*secured.stream));
  if (secured.error) co_return secured.error;
  conn.alpn = std::move(secured.alpn);
  co_return std::error_code{};
#else
  co_return error::tls_not_built;
#endif
}

}  // namespace opensock::http
