// Connects to a listener of its own through a lambda factory: proof that the package's
// headers, dependencies and compile flags reach a consumer. It also checks that it sees
// the version and the optional libraries it was built to expect.
#include <opensock/opensock.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <fmt/core.h>

#include <string>
#include <string_view>

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
  return list;
}

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
