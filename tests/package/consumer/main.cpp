// Connects to a listener of its own through a lambda factory: proof that the package's
// headers, dependencies and compile flags reach a consumer. It also checks that it sees
// the version and the optional libraries it was built to expect.
#include <opensock/opensock.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <fmt/core.h>

#include <string>
#include <string_view>
#include <system_error>

#ifndef OPENSOCK_EXPECT_COMPONENTS
#error "build with OPENSOCK_EXPECT_COMPONENTS, the optional libraries expected"
#endif
#ifndef OPENSOCK_EXPECT_VERSION
#error "build with OPENSOCK_EXPECT_VERSION, the version expected"
#endif

// The optional libraries this program was compiled with, comma separated.
std::string components() {
  std::string list;
  auto add = [&list](std::string_view name) {
    if (!list.empty()) list += ',';
    list += name;
  };
#if OPENSOCK_HAS_TLS
  add("tls");
#endif
#if OPENSOCK_HAS_ZLIB
  add("zlib");
#endif
#if OPENSOCK_HAS_BROTLI
  add("brotli");
#endif
#if OPENSOCK_HAS_ZSTD
  add("zstd");
#endif
#if OPENSOCK_HAS_PSL
  add("psl");
#endif
#if OPENSOCK_HAS_IDN
  add("idn");
#endif
  return list;
}

#ifdef OPENSOCK_SEPARATE_COMPILATION
// The session compiled in opensock::separate, sent to a port no one listens on: it must
// link, run, and answer couldnt_connect.
bool separate_session_works(asio::io_context& io) {
  asio::ip::tcp::acceptor closed(io, {asio::ip::address_v4::loopback(), 0});
  const auto url = fmt::format("http://127.0.0.1:{}/", closed.local_endpoint().port());
  closed.close();
  opensock::http::session session(io.get_executor());
  std::error_code result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await session.get(url);
        } catch (const std::system_error& e) {
          result = e.code();
        }
      },
      asio::detached);
  io.run();
  io.restart();
  fmt::print("consumer: the separately compiled session says {}\n", result);
  return result == opensock::condition::couldnt_connect;
}
#endif

int main() {
  const std::string version = fmt::format("{}.{}.{}", OPENSOCK_VERSION_MAJOR,
                                          OPENSOCK_VERSION_MINOR, OPENSOCK_VERSION_PATCH);
  if (version != OPENSOCK_VERSION_STRING || version != OPENSOCK_EXPECT_VERSION) {
    fmt::print("consumer: version {} ({}), {} expected\n", version, OPENSOCK_VERSION_STRING,
               OPENSOCK_EXPECT_VERSION);
    return 1;
  }
  if (components() != OPENSOCK_EXPECT_COMPONENTS) {
    fmt::print("consumer: built with \"{}\", \"{}\" expected\n", components(),
               OPENSOCK_EXPECT_COMPONENTS);
    return 1;
  }
  asio::io_context io;
#ifdef OPENSOCK_SEPARATE_COMPILATION
  if (!separate_session_works(io)) return 1;
#endif
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  int opened = 0;
  opensock::connect_only_session session(
      io.get_executor(), [&opened](opensock::open_context<asio::ip::tcp>& context) {
        ++opened;
        return opensock::default_socket_factory{}(context);
      });
  std::error_code result = opensock::error::failed_init;
  session.async_connect({"127.0.0.1", acceptor.local_endpoint().port()},
                        [&](std::error_code ec) { result = ec; });
  io.run();
  fmt::print("consumer {} with \"{}\": {} after {} socket(s)\n", version, components(), result,
             opened);
  return !result && opened == 1 ? 0 : 1;
}
