// opensock-ws: a small websocat-like WebSocket client on opensock, for trying a server from
// a shell.
//   opensock-ws [options] ws://host[:port]/path
// Each line of stdin goes out as a message, each message received is printed on stdout,
// both at once: one coroutine reads the connection, another reads stdin, on one
// single-threaded io_context. The connection is made by websocket::connect() through an
// http::session, over the socket factory opensock-fetch builds from the same flags
// (../fetch/factory.hpp); errors and -v read as opensock-fetch's.
#include "../fetch/factory.hpp"
#include "../fetch/verbose.hpp"
#include "command_line.hpp"
#include "stdin_lines.hpp"

#include <opensock/connector/name_overrides.hpp>
#include <opensock/error.hpp>
#include <opensock/http/session.hpp>
#include <opensock/http/url.hpp>
#include <opensock/no_proxy.hpp>
#include <opensock/proxy.hpp>
#include <opensock/proxy_environment.hpp>
#include <opensock/websocket/connect.hpp>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace {

namespace http = opensock::http;
namespace websocket = opensock::websocket;
using clock_type = std::chrono::steady_clock;
using factory_type = fetch::tcp_factory;
using stream_type = websocket::session_stream<factory_type>;

/// Prints "opensock-ws: (N) message", as opensock-fetch prints its errors.
void report_error(int code, std::string_view message) {
  fmt::print(stderr, "opensock-ws: ({}) {}\n", code, message);
}

int usage_failure(std::string_view message) {
  fmt::print(stderr, "opensock-ws: {}\n", message);
  fmt::print(stderr, "opensock-ws: try 'opensock-ws --help' for more information\n");
  return 2;  // curl's exit code for a command line it cannot use
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(seconds));
}

// A closed stdin, stdout or stderr would give its number to the first socket, which this
// program would then read as stdin or write messages to: each one is opened on /dev/null.
void keep_standard_descriptors() {
  for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF)
      ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
}

// Writes `bytes` to stdout whole. stdin, made non-blocking for the reactor, may share its
// open file description with stdout (a terminal): a write can then meet EAGAIN, which is
// waited out rather than taken for a failure.
bool write_stdout(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    pollfd writable{STDOUT_FILENO, POLLOUT, 0};
    ::poll(&writable, 1, -1);
  }
  return true;
}

// --resolve, --connect-to, -k, --cacert, -x (or the environment's proxies) and --noproxy as
// the session's options. 0, or the exit code of a flag that cannot be used.
int make_session_options(const ws::options& o, http::session_options& so) {
  for (const auto& text : o.resolve) {
    auto entry = opensock::resolve_override::parse(text);
    if (!entry) {
      report_error(49, fmt::format("Couldn't parse CURLOPT_RESOLVE entry '{}'", text));
      return 49;
    }
    so.names.overrides.push_back(std::move(*entry));
  }
  // An unreadable --connect-to entry is skipped, as curl 7.88 skips it.
  for (const auto& text : o.connect_to)
    if (auto rule = opensock::connect_to_rule::parse(text))
      so.names.connect_to.push_back(std::move(*rule));
  if (o.insecure) so.tls = opensock::tls::options::insecure();
  if (o.cacert) so.tls.ca_file = *o.cacert;
  if (o.proxy && !o.proxy->empty()) {
    std::error_code ec;
    auto parsed = opensock::proxy::parse(*o.proxy, ec);
    if (!parsed) {
      const int code = opensock::curl_code(ec);
      report_error(code, code == 7 ? fmt::format("Unsupported proxy scheme for '{}'", *o.proxy)
                                   : fmt::format("Unsupported proxy syntax in '{}'", *o.proxy));
      return code;
    }
    so.proxies.push_back(std::move(*parsed));
  }
  // As curl: NO_PROXY holds for -x too, --noproxy replaces it, and without -x (an empty
  // one names none) the environment names the proxy.
  auto environment = opensock::proxy_environment::read();
  if (o.noproxy) {
    so.no_proxy.emplace(*o.noproxy);
  } else if (o.proxy) {
    so.no_proxy = environment.no_proxy;
  }
  if (!o.proxy) so.environment_proxies = std::move(environment);
  return 0;
}

websocket::handshake_options make_handshake_options(const ws::options& o) {
  websocket::handshake_options handshake;
  handshake.subprotocols = o.protocols;
  for (const auto& line : o.headers) {
    const auto colon = line.find(':');
    const auto value = line.find_first_not_of(" \t", colon + 1);
    handshake.headers.add(
        std::string_view(line).substr(0, colon),
        value == std::string::npos ? std::string_view() : std::string_view(line).substr(value));
  }
  handshake.deflate.enabled = o.deflate;
  if (o.max_time && *o.max_time > 0) {
    http::request_timeouts limits;
    limits.total = to_ms(*o.max_time);
    handshake.timeouts = limits;
  }
  return handshake;
}

websocket::stream_options make_stream_options(const ws::options& o) {
  websocket::stream_options behaviour;
  if (o.ping_interval) behaviour.idle_ping = to_ms(*o.ping_interval);
  return behaviour;
}

// One connection: the upgrade, then messages both ways until either side closes.
class client {
 public:
  client(const asio::any_io_executor& executor, factory_type factory,
         http::session_options session_options, const ws::options& o)
      : o_(o),
        session_(executor, std::move(factory), std::move(session_options)),
        stdin_(executor) {}

  /// The exit code.
  asio::awaitable<int> run() {
    const auto started = clock_type::now();
    const websocket::handshake_options handshake = make_handshake_options(o_);
    websocket::stream_options behaviour = make_stream_options(o_);
    const http::transfer_hooks hooks = o_.verbose ? verbose_hooks() : http::transfer_hooks();
    const std::error_code ec = co_await websocket::connect(session_, o_.url, handshake,
                                                           std::move(behaviour), connection_, hooks);
    // Attempts that all failed are shown once the connect is over, as opensock-fetch shows them.
    if (o_.verbose && connection_.response.info.connection_id == 0)
      fetch::show_failed_attempts(connection_.response.info.attempts);
    if (ec) co_return connect_failed(ec, started);

    stream_type& ws = *connection_.stream;
    ws.binary(o_.binary);
    asio::co_spawn(session_.get_executor(), send_lines(ws), [](std::exception_ptr failure) {
      if (failure) std::rethrow_exception(failure);
    });
    int code = co_await print_messages(ws);
    peer_done_ = true;
    stdin_.stop();
    if (code == 0 && stdin_.error()) {
      report_error(26, fmt::format("Failed to read stdin: {}", stdin_.error().message()));
      code = 26;
    }
    co_return code;
  }

 private:
  // Each line of stdin as a message; at its end, the close handshake (1000). A failed
  // write ends the connection, which print_messages() then reports.
  asio::awaitable<void> send_lines(stream_type& ws) {
    for (;;) {
      const std::optional<std::string> line = co_await stdin_.next();
      if (!line || peer_done_) break;
      std::error_code ec;
      co_await ws.async_write(asio::buffer(std::string_view(*line)),
                              asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    if (peer_done_) co_return;
    // The read in flight sees the server's answer to the close, and ends the program.
    close_sent_ = true;
    const websocket::close_reason normal(websocket::close_code::normal);
    std::error_code ec;
    co_await ws.async_close(normal, asio::redirect_error(asio::use_awaitable, ec));
    // A server that neither answers the close nor ends the connection is not waited for
    // past a few seconds.
    asio::steady_timer grace(co_await asio::this_coro::executor, close_grace);
    co_await grace.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (peer_done_) co_return;
    gave_up_ = true;
    ws.next_layer().lowest_layer().cancel(ec);
  }

  // Each message received on stdout, until the connection ends: the exit code.
  asio::awaitable<int> print_messages(stream_type& ws) {
    std::string message;
    for (;;) {
      message.clear();
      std::error_code ec;
      co_await ws.async_read(message, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return connection_ended(ws, ec);
      if (!(o_.binary && ws.got_binary())) message.push_back('\n');
      if (!write_stdout(message)) {
        report_error(23, "Failure writing output to destination");
        co_return 23;
      }
    }
  }

  // A close frame is how a WebSocket connection ends, not a failure: its code is shown
  // when it says something went wrong. After this end's close, a server that drops the
  // connection without answering has closed it too.
  int connection_ended(const stream_type& ws, std::error_code ec) const {
    if (ec == opensock::error::websocket_closed) {
      const auto& why = ws.reason();
      if (why.code != 0 && why.code != 1000 && why.code != 1001)
        fmt::print(stderr, "opensock-ws: closed by peer: {}{}{}\n", why.code,
                   why.reason.empty() ? "" : " ", why.reason);
      return 0;
    }
    const bool ended_without_close =
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (close_sent_ && (ended_without_close || ec == asio::error::connection_reset)) return 0;
    if (gave_up_) {
      fmt::print(stderr, "opensock-ws: the server did not answer the close\n");
      return 0;
    }
    const int code = opensock::curl_code(ec);
    if (ended_without_close) {
      report_error(code, "The server ended the connection without a close frame");
    } else {
      report_error(code, ec.message());
    }
    return code;
  }

  // curl's wording of the errors met most; the others as opensock words them.
  int connect_failed(std::error_code ec, clock_type::time_point started) {
    const int code = opensock::curl_code(ec);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started).count();
    std::error_code parse_error;
    const http::url u = http::url::parse(o_.url, parse_error);
    auto target = opensock::apply_connect_to(session_.options().names, u.host, u.port);
    if (const auto& proxies = session_.options().proxies; !proxies.empty()) {
      target.host = proxies.front().host;  // where the sockets went, as curl names it
      target.port = proxies.front().port;
    }
    const http::response& r = connection_.response;
    if (ec == opensock::error::tunnel_failed) {
      report_error(code, fmt::format("CONNECT tunnel failed, response {}",
                                     r.info.tunnel_answer.status));
    } else if (ec == opensock::error::websocket_refused) {
      report_error(code, fmt::format("Refused WebSockets upgrade: {}", status_line(r)));
    } else if (code == 1 && !parse_error) {
      report_error(code, fmt::format("Protocol \"{}\" not supported: ws or wss only", u.scheme));
    } else if (code == 7) {
      report_error(code, fmt::format("Failed to connect to {} port {} after {} ms: {}", target.host,
                                     target.port, ms, ec.message()));
    } else if (code == 6) {
      report_error(code, fmt::format("Could not resolve host: {}", target.host));
    } else if (code == 28 && r.info.connection_id == 0) {
      report_error(code, fmt::format("Connection timed out after {} milliseconds", ms));
    } else if (code == 28) {
      report_error(code, fmt::format("Operation timed out after {} milliseconds", ms));
    } else if (ec == opensock::error::bad_function_argument) {
      report_error(code,
                   "The upgrade request cannot be made: a --protocol name holds a comma or a "
                   "blank, or a -H header is one the handshake sets itself (Upgrade, "
                   "Connection, Sec-WebSocket-*)");
    } else {
      report_error(code, ec.message());
    }
    return code;
  }

  static std::string status_line(const http::response& r) {
    return fmt::format("HTTP/{}.{} {} {}", r.version / 10, r.version % 10, r.status, r.reason);
  }

  // -v: the connection, the proxies' handshakes, the upgrade request as sent and the
  // answer's head, as curl -v shows them.
  http::transfer_hooks verbose_hooks() const {
    std::error_code parse_error;
    const http::url u = http::url::parse(o_.url, parse_error);
    http::transfer_hooks hooks;
    hooks.on_connection = [host = u.host](const http::connection_info& info) {
      fetch::show_connection(info, host, 0);
      if (info.route) fetch::show_socks_hops(*info.route);
      if (info.tunnel_answer) fetch::show_tunnel(*info.tunnel_answer);
    };
    hooks.on_request_head = [](std::string_view head) { fetch::show_request_head(head); };
    hooks.on_header_line = [](std::string_view line) { fetch::show_lines("< ", line); };
    return hooks;
  }

  const ws::options& o_;
  http::session<factory_type> session_;
  ws::stdin_lines stdin_;
  websocket::connect_result<stream_type> connection_;
  bool close_sent_ = false;  // the close handshake was started here
  bool gave_up_ = false;     // on the server's answer to it
  static constexpr std::chrono::seconds close_grace{5};
  bool peer_done_ = false;   // the connection ended: stdin is read no more
};

}  // namespace

int main(int argc, char** argv) {
  keep_standard_descriptors();
  std::optional<ws::usage_error> error;
  const ws::options o = ws::parse_command_line(argc, argv, error);
  if (error) return usage_failure(error->message);
  if (o.help) {
    fmt::print("{}", ws::usage_text);
    return 0;
  }

  http::session_options so;
  if (const int code = make_session_options(o, so)) return code;
  // opensock-fetch's factory: --deny, --allow, --deny-private and the "Trying" lines of -v.
  fetch::options factory_flags;
  factory_flags.deny = o.deny;
  factory_flags.allow = o.allow;
  factory_flags.deny_private = o.deny_private;
  factory_flags.verbose = o.verbose;
  fetch::factory_error factory_error;
  auto factory = fetch::make_tcp_factory(factory_flags, factory_error);
  if (!factory) {
    if (factory_error.code == 2) return usage_failure(factory_error.message);
    report_error(factory_error.code, factory_error.message);
    return factory_error.code;
  }

  asio::io_context io;
  client connection(io.get_executor(), std::move(*factory), std::move(so), o);
  int code = 0;
  asio::co_spawn(io, connection.run(), [&](std::exception_ptr failure, int result) {
    // What is left in flight (the write of a line, stdin's read) no longer matters.
    io.stop();
    code = result;
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      report_error(2, e.what());
      code = 2;
    }
  });
  try {
    io.run();
  } catch (const std::exception& e) {
    report_error(2, e.what());
    code = 2;
  }
  return code;
}
