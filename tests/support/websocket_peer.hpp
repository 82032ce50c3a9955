// The suite's WebSocket server, tests/peers/websocket-server (python3-websockets), started
// on 127.0.0.1 and a free port, with TLS from the test PKI that the nginx fixture makes
// when asked, and stopped when its object goes. Without python3-websockets the test
// warns and is not run.
#pragma once

#include "catch.hpp"
#include "nginx.hpp"
#include "proxy_peers.hpp"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#ifndef OPENSOCK_WEBSOCKET_SERVER
#error "the test build defines OPENSOCK_WEBSOCKET_SERVER, the path of tests/peers/websocket-server"
#endif

namespace opensock::test {

class websocket_peer {
 public:
  static std::optional<websocket_peer> start_or_warn(bool tls = false) {
    if (std::system("/usr/bin/python3 -c 'import websockets' 2>/dev/null") != 0) {
      WARN("python3-websockets is not installed (scripts/bootstrap installs it): test not run");
      return std::nullopt;
    }
    const auto port = proxy_peer::free_port();
    std::vector<std::string> args = {"websocket-server", "--port", std::to_string(port)};
    if (tls) args.insert(args.end(), {"--tls", nginx_pki("good.pem"), nginx_pki("good.key")});
    auto peer = proxy_peer::start_or_warn(OPENSOCK_WEBSOCKET_SERVER, std::move(args), port);
    if (!peer) return std::nullopt;
    return websocket_peer(std::move(*peer), tls);
  }

  std::uint16_t port() const { return process_.port(); }

  /// ws://127.0.0.1:PORT/… or wss://…: the test certificate names 127.0.0.1 too.
  std::string url(std::string_view path) const {
    return std::string(tls_ ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) +
           std::string(path);
  }

 private:
  websocket_peer(proxy_peer process, bool tls) : process_(std::move(process)), tls_(tls) {}

  proxy_peer process_;
  bool tls_;
};

}  // namespace opensock::test
