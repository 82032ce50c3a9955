// The suite's WebSocket server (tests/peers/websocket-server, on python3-websockets, which
// scripts/bootstrap installs), started on 127.0.0.1 and a free port, ws or wss, and
// stopped when its object goes. Without python3-websockets the test warns and is not run.
#pragma once

#include "catch.hpp"
#include "nginx.hpp"
#include "proxy_peers.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>


#ifndef OPENSOCK_WEBSOCKET_SERVER
#error "the test build defines OPENSOCK_WEBSOCKET_SERVER, the path of tests/peers/websocket-server"
#endif

namespace opensock::test {

class websocket_peer {
 public:
  /// The server on a free port, serving wss with the suite's "good" test certificate
  /// (nginx_pki(), which the nginx fixture writes) when `tls` is set; nullopt, and a
  /// warning, when python3-websockets, the script or the certificate is missing or the
  /// server does not listen.
  /// With `unix_path`, it listens on that Unix socket too.
  static std::optional<websocket_peer> start_or_warn(bool tls = false,
                                                     const std::string& unix_path = "") {
    if (!websockets_installed()) {
      WARN(python << " has no websockets module (scripts/bootstrap installs "
                     "python3-websockets): test not run");
      return std::nullopt;
    }
    const auto script = script_path();
    if (!std::filesystem::exists(script)) {
      WARN(script << " is not found: test not run");
      return std::nullopt;
    }
    const auto port = proxy_peer::free_port();
    std::vector<std::string> args = {"python3", script.string(), "--port", std::to_string(port)};
    if (tls) {
      const auto certificate = nginx_pki("good.pem");
      const auto key = nginx_pki("good.key");
      if (!std::filesystem::exists(certificate) || !std::filesystem::exists(key)) {
        WARN("the suite's test certificates are missing (run through ctest): test not run");
        return std::nullopt;
      }
      args.insert(args.end(), {"--tls", certificate, key});
    }
    if (!unix_path.empty()) args.insert(args.end(), {"--unix", unix_path});
    auto peer = proxy_peer::start_or_warn(python, std::move(args), port);
    if (!peer) return std::nullopt;
    return websocket_peer(std::move(*peer), tls);
  }

  std::uint16_t port() const { return peer_.port(); }

  /// "ws://127.0.0.1:PORT/path", or "wss://127.0.0.1:PORT/path" with TLS: the test
  /// certificate is issued for localhost and 127.0.0.1 (an IP address SAN), so the address
  /// verifies as it is and no resolver is involved; a test that wants the name connects to
  /// "wss://localhost:PORT/…". `path` may hold a query; a missing leading '/' is added.
  std::string url(std::string_view path = "/") const {
    std::string url = tls_ ? "wss://127.0.0.1:" : "ws://127.0.0.1:";
    url += std::to_string(port());
    if (path.empty() || path.front() != '/') url += '/';
    url += path;
    return url;
  }

 private:
  static constexpr const char* python = "/usr/bin/python3";

  websocket_peer(proxy_peer peer, bool tls) : peer_(std::move(peer)), tls_(tls) {}

  // The script, as tests/CMakeLists.txt names it for the tests that use it.
  static std::filesystem::path script_path() { return OPENSOCK_WEBSOCKET_SERVER; }

  // Whether the Debian python3 imports websockets; asked once per test program.
  static bool websockets_installed() {
    static const bool installed = [] {
      if (::access(python, X_OK) != 0) return false;
      const pid_t pid = spawn_quietly(python, {"python3", "-c", "import websockets.legacy.server"});
      int status = 0;
      if (pid == 0 || ::waitpid(pid, &status, 0) != pid) return false;
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }();
    return installed;
  }

  proxy_peer peer_;
  bool tls_;
};

}  // namespace opensock::test
