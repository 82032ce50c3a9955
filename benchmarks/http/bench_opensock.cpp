// opensock: one http::session, C coroutines sending their requests through it. Kept
// alive, the pool holds at least C connections; for a new connection per request it
// keeps none. A request timeout is set (30 s in all), as a real client would.
// Built three times: bench_opensock uses default_socket_factory and fills one response
// per coroutine again and again; bench_opensock_simple (OPENSOCK_BENCH_SIMPLE) does what
// most users write, a fresh `co_await session.get(url)` per request;
// bench_opensock_lambda (OPENSOCK_BENCH_LAMBDA) a lambda factory that opens like the
// default and sets TCP_NODELAY itself, with the session's own TCP_NODELAY turned off, so
// that both make the same system calls.
#include "common.hpp"

#include <opensock/http/session.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

namespace {

#if defined(OPENSOCK_BENCH_LAMBDA)
constexpr const char* client_name = "opensock_lambda";
#elif defined(OPENSOCK_BENCH_SIMPLE)
constexpr const char* client_name = "opensock_simple";
#else
constexpr const char* client_name = "opensock";
#endif

template <class Session>
asio::awaitable<void> worker(Session& session, [[maybe_unused]] const std::string& url,
                             [[maybe_unused]] const opensock::http::request& request,
                             bench::workload& work) {
#ifdef OPENSOCK_BENCH_SIMPLE
  // A new response for every request, from the URL's text.
  while (work.take()) {
    try {
      const auto response = co_await session.get(url);
      work.check(response.status, response.body.size());
    } catch (const std::system_error& e) {
      work.fail(e.code().message().c_str());
    }
  }
#else
  // One response, filled again by every request: the form of request() that reuses its
  // storage and returns the error code.
  opensock::http::response response;
  while (work.take()) {
    if (const std::error_code ec = co_await session.request(request, response)) {
      work.fail(ec.message().c_str());
      continue;
    }
    work.check(response.status, response.body.size());
  }
#endif
}

template <class Factory>
int run(const bench::options& o, Factory factory, opensock::http::session_options options) {
  bench::workload work(o);
  const auto c = static_cast<std::size_t>(o.concurrency);
  options.max_idle_per_origin = o.keepalive ? std::max<std::size_t>(c, 4) : 0;
  options.max_idle = o.keepalive ? std::max<std::size_t>(c, 32) : 0;
  options.timeouts.total = std::chrono::seconds(30);
  std::error_code ec;
  const std::string text = "http://" + o.host + ":" + std::to_string(o.port) + o.path;
  const auto url = opensock::http::url::parse(text, ec);
  if (ec) return std::fprintf(stderr, "bad URL: %s\n", ec.message().c_str()), 2;
  const opensock::http::request request("GET", url);
  asio::io_context io(1);
  opensock::http::session session(io.get_executor(), std::move(factory), std::move(options));
  const bench::stopwatch clock;
  for (int i = 0; i < o.concurrency; ++i)
    asio::co_spawn(io, worker(session, text, request, work), asio::detached);
  io.run();  // returns once the workers are done: the session holds nothing past them
  return bench::finish(client_name, o, work, clock);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv, client_name);
#ifdef OPENSOCK_BENCH_LAMBDA
  opensock::http::session_options options;
  options.connect.tcp_nodelay = false;  // the factory sets it
  auto factory = [](opensock::open_context<asio::ip::tcp>& context)
      -> opensock::open_result<asio::ip::tcp::socket> {
    auto answer = opensock::default_socket_factory{}(context);
    if (answer.has_stream()) answer.stream().set_option(asio::ip::tcp::no_delay(true));
    return answer;
  };
  return run(o, factory, std::move(options));
#else
  // OPENSOCK_BENCH_TUNNEL=HOST:PORT: every connection through a CONNECT tunnel of the HTTP
  // proxy there (what a tunnel costs a new connection).
  opensock::http::session_options options;
  if (const char* via = std::getenv("OPENSOCK_BENCH_TUNNEL")) {
    std::error_code ec;
    auto proxy = opensock::proxy::parse(via, ec);
    if (!proxy) return std::fprintf(stderr, "bad OPENSOCK_BENCH_TUNNEL: %s\n", via), 2;
    options.proxies.push_back(std::move(*proxy));
    options.proxy_tunnel = true;
  }
  return run(o, opensock::default_socket_factory{}, std::move(options));
#endif
}
