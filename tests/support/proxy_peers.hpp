// Real proxies for the tests, each started on 127.0.0.1 and a free port, with or without a
// user name and password, and stopped when its object goes: microsocks (SOCKS5), dante
// (SOCKS4 and SOCKS5), tinyproxy (HTTP, CONNECT), squid (HTTP, CONNECT, Digest) and
// stunnel in front of tinyproxy (an HTTPS proxy), installed by scripts/bootstrap. Without the program the test warns and is not run.
#pragma once

#include "catch.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace opensock::test {

/// Starts `program` with `args` (argv[0] first), its output discarded; its pid, or 0 when
/// it could not be started.
inline pid_t spawn_quietly(const std::string& program, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  ::posix_spawn_file_actions_init(&quiet);
  ::posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&quiet, 1, 2);
  pid_t pid = 0;
  const int spawned =
      ::posix_spawn(&pid, program.c_str(), &quiet, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&quiet);
  return spawned == 0 ? pid : 0;
}

class proxy_peer {
 public:
  /// Runs `program` with `args`, its output discarded, and waits until it accepts
  /// connections on `port`; nullopt (and a warning) when it is missing or does not.
  static std::optional<proxy_peer> start_or_warn(const std::string& program,
                                                 std::vector<std::string> args,
                                                 std::uint16_t port) {
    if (::access(program.c_str(), X_OK) != 0) {
      WARN(program << " is not installed (scripts/bootstrap installs it): test not run");
      return std::nullopt;
    }
    const pid_t pid = spawn_quietly(program, std::move(args));
    if (pid == 0) {
      WARN(program << " did not start: test not run");
      return std::nullopt;
    }
    proxy_peer peer(pid, port);
    asio::io_context io;
    for (int i = 0; i < 300; ++i) {
      asio::ip::tcp::socket s(io);
      std::error_code ec;
      s.connect({asio::ip::address_v4::loopback(), port}, ec);
      if (!ec) return peer;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    WARN(program << " did not listen: test not run");
    return std::nullopt;
  }

  proxy_peer(proxy_peer&& other) noexcept
      : pid_(other.pid_), port_(other.port_), files_(std::move(other.files_)) {
    other.pid_ = 0;
    other.files_.clear();
  }
  proxy_peer& operator=(proxy_peer&&) = delete;
  ~proxy_peer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ignored;
    if (!files_.empty()) std::filesystem::remove_all(files_, ignored);
  }

  /// Files the proxy reads while it runs (a directory): removed once it has stopped.
  void remove_when_stopped(std::filesystem::path files) { files_ = std::move(files); }

  std::uint16_t port() const { return port_; }

  static std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    return probe.local_endpoint().port();
  }

 private:
  proxy_peer(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}

  pid_t pid_;
  std::uint16_t port_;
  std::filesystem::path files_;
};

/// microsocks, a SOCKS5 proxy; it asks for `user` and `password` when `user` is given.
inline std::optional<proxy_peer> start_microsocks(const std::string& user = "",
                                                  const std::string& password = "") {
  const auto port = proxy_peer::free_port();
  std::vector<std::string> args = {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port)};
  if (!user.empty()) args.insert(args.end(), {"-u", user, "-P", password});
  return proxy_peer::start_or_warn("/usr/bin/microsocks", std::move(args), port);
}

/// tinyproxy, an HTTP proxy that tunnels CONNECT to any port; it asks for Basic
/// credentials `user` and `password` when `user` is given. Its configuration is a file of
/// the system's temporary directory until it has started.
inline std::optional<proxy_peer> start_tinyproxy(const std::string& user = "",
                                                 const std::string& password = "") {
  const auto port = proxy_peer::free_port();
  const auto config = std::filesystem::temp_directory_path() /
                      ("opensock-tinyproxy-" + std::to_string(::getpid()) + "-" +
                       std::to_string(port) + ".conf");
  {
    std::ofstream out(config);
    out << "Port " << port << "\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\n"
        << "MaxClients 20\nDisableViaHeader Yes\nLogLevel Critical\n";
    if (!user.empty()) out << "BasicAuth " << user << " " << password << "\n";
  }
  auto peer = proxy_peer::start_or_warn("/usr/bin/tinyproxy",
                                        {"tinyproxy", "-d", "-c", config.string()}, port);
  std::filesystem::remove(config);  // read once it listens
  return peer;
}

/// squid, an HTTP proxy that forwards and tunnels to loopback and asks for Digest
/// credentials `user` and `password` (Proxy-Authenticate: Digest, qop auth), keeping the
/// connection open after its 407. Its files are in a directory of the system's temporary
/// one, removed when it stops; no name is resolved.
inline std::optional<proxy_peer> start_squid(const std::string& user,
                                             const std::string& password) {
  const auto port = proxy_peer::free_port();
  const auto directory = std::filesystem::temp_directory_path() /
                         ("opensock-squid-" + std::to_string(::getpid()) + "-" +
                          std::to_string(port));
  std::filesystem::create_directories(directory);
  const auto passwords = directory / "passwords";
  const auto config = directory / "squid.conf";
  std::ofstream(passwords) << user << ":" << password << "\n";
  {
    std::ofstream out(config);
    out << "http_port 127.0.0.1:" << port << "\npid_filename none\ncache_log /dev/null\n"
        << "access_log none\ncache_store_log none\ncache deny all\n"
        << "auth_param digest program /usr/lib/squid/digest_file_auth " << passwords.string()
        << "\nauth_param digest realm opensock\nauth_param digest children 1 startup=1\n"
        << "acl authenticated proxy_auth REQUIRED\nhttp_access allow authenticated\n"
        << "http_access deny all\ndns_nameservers 127.0.0.1\nshutdown_lifetime 0 seconds\n";
  }
  auto peer = proxy_peer::start_or_warn("/usr/sbin/squid",
                                        {"squid", "-N", "-f", config.string()}, port);
  if (peer) peer->remove_when_stopped(directory);
  return peer;
}

/// dante, a SOCKS4 and SOCKS5 proxy (without SOCKS4a), to loopback destinations.
inline std::optional<proxy_peer> start_dante() {
  const auto port = proxy_peer::free_port();
  const auto config = std::filesystem::temp_directory_path() /
                      ("opensock-dante-" + std::to_string(::getpid()) + "-" +
                       std::to_string(port) + ".conf");
  {
    std::ofstream out(config);
    out << "logoutput: /dev/null\ninternal: 127.0.0.1 port = " << port
        << "\nexternal: 127.0.0.1\nsocksmethod: none\nclientmethod: none\n"
        << "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
        << "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }\n";
  }
  auto peer = proxy_peer::start_or_warn("/usr/sbin/danted",
                                        {"danted", "-f", config.string(), "-N", "1"}, port);
  std::filesystem::remove(config);
  return peer;
}

/// An HTTPS proxy: stunnel's TLS, with `certificate` and `key` (PEM files), in front of
/// a tinyproxy of its own.
class https_proxy {
 public:
  static std::optional<https_proxy> start(const std::string& certificate, const std::string& key) {
    auto behind = start_tinyproxy();
    if (!behind) return std::nullopt;
    const auto port = proxy_peer::free_port();
    const auto config = std::filesystem::temp_directory_path() /
                        ("opensock-stunnel-" + std::to_string(::getpid()) + "-" +
                         std::to_string(port) + ".conf");
    {
      std::ofstream out(config);
      out << "foreground = yes\npid =\nsyslog = no\ndebug = 0\n[https-proxy]\n"
          << "accept = 127.0.0.1:" << port << "\nconnect = 127.0.0.1:" << behind->port()
          << "\ncert = " << certificate << "\nkey = " << key << "\n";
    }
    auto front = proxy_peer::start_or_warn("/usr/bin/stunnel4", {"stunnel4", config.string()},
                                           port);
    std::filesystem::remove(config);
    if (!front) return std::nullopt;
    return https_proxy(std::move(*behind), std::move(*front));
  }

  std::uint16_t port() const { return front_.port(); }

 private:
  https_proxy(proxy_peer behind, proxy_peer front)
      : behind_(std::move(behind)), front_(std::move(front)) {}

  proxy_peer behind_;
  proxy_peer front_;
};

}  // namespace opensock::test
