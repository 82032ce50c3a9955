// libFuzzer target for the SOCKS handshake's reading of a proxy's answers: the first
// byte picks the proxy's kind and whether a user name is offered, the rest is all the
// proxy ever sends before it closes. No answer may crash the handshake or leave it
// waiting; every failure is one curl reports as 97, and success needs a reply whole.
#include <opensock/connector/socks.hpp>

#include <opensock/test/stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using opensock::proxy_kind;
  static constexpr std::array<proxy_kind, 6> kinds = {
      proxy_kind::socks5, proxy_kind::socks5, proxy_kind::socks5h,
      proxy_kind::socks4, proxy_kind::socks4a, proxy_kind::socks5h};
  const std::size_t pick = data[0] % kinds.size();
  opensock::proxy via(kinds[pick], "127.0.0.1");
  if (pick == 1 || pick == 5) {
    via.user = "user";
    via.password = "password";
  }
  const std::string host = via.kind == proxy_kind::socks4 ? "192.0.2.1" : "example.test";
  const std::string answers(reinterpret_cast<const char*>(data) + 1, size - 1);

  asio::io_context io;
  auto pair = opensock::test::stream::make_pair(io.get_executor());
  auto& client = pair.first;
  auto& proxy_end = pair.second;
  std::optional<std::error_code> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        outcome = co_await opensock::socks_handshake(client, via, host, 443);
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await asio::async_write(proxy_end, asio::buffer(answers), asio::use_awaitable);
        std::error_code ignored;
        proxy_end.close(ignored);
      },
      asio::detached);
  io.run();
  if (!outcome) std::abort();  // the handshake never ended
  if (*outcome && opensock::curl_code(*outcome) != 97) std::abort();
  // The shortest whole exchange: SOCKS4's 8-byte reply; SOCKS5's 2-byte choice and a
  // reply of at least 7 bytes (a name of none).
  const std::size_t shortest = via.kind == proxy_kind::socks4 || via.kind == proxy_kind::socks4a
                                   ? 8
                                   : 2 + 7;
  if (!*outcome && answers.size() < shortest) std::abort();
  return 0;
}
