// A socket factory over the default one that counts the sockets it opens and the ones
// opensock closes through it, so a test can prove that nothing was left open; it can
// also record what each attempt asked for.
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/ip/tcp.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace opensock::test {

struct counting_factory {
  int* opened;
  int* closed;
  /// When set, "scheme host:port" of every attempt.
  std::vector<std::string>* seen = nullptr;

  open_result<asio::ip::tcp::socket> operator()(open_context<asio::ip::tcp>& context) {
    if (seen) seen->push_back(fmt::format("{} {}:{}", context.scheme, context.host, context.port));
    auto answer = default_socket_factory{}(context);
    if (answer.has_stream()) ++*opened;
    return answer;
  }
  void close(asio::ip::tcp::socket& socket) {
    ++*closed;
    socket.close();
  }
};

}  // namespace opensock::test
