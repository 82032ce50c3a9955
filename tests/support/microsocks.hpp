// A real SOCKS5 proxy for the tests: microsocks (scripts/bootstrap installs it),
// started on 127.0.0.1 and a free port, with or without a user name and password, and
// stopped when the object goes. Without the program the test warns and is not run.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstdint>
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

class microsocks {
 public:
  /// Starts it, with `user` and `password` required when `user` is not empty; nullopt
  /// (and a warning) when the program is not installed or does not start.
  static std::optional<microsocks> start_or_warn(const std::string& user = "",
                                                 const std::string& password = "") {
    if (::access("/usr/bin/microsocks", X_OK) != 0) {
      WARN("microsocks is not installed (scripts/bootstrap installs it): test not run");
      return std::nullopt;
    }
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    const auto port = probe.local_endpoint().port();
    probe.close();
    std::vector<std::string> args = {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port)};
    if (!user.empty()) args.insert(args.end(), {"-u", user, "-P", password});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its line per client goes nowhere.
    posix_spawn_file_actions_t quiet;
    ::posix_spawn_file_actions_init(&quiet);
    ::posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_adddup2(&quiet, 1, 2);
    pid_t pid = 0;
    const int spawned =
        ::posix_spawn(&pid, "/usr/bin/microsocks", &quiet, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&quiet);
    if (spawned != 0) {
      WARN("microsocks did not start: test not run");
      return std::nullopt;
    }
    microsocks proxy(pid, port);
    // Ready once it accepts a connection.
    for (int i = 0; i < 200; ++i) {
      asio::ip::tcp::socket s(io);
      std::error_code ec;
      s.connect({asio::ip::address_v4::loopback(), port}, ec);
      if (!ec) return proxy;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    WARN("microsocks did not listen: test not run");
    return std::nullopt;
  }

  microsocks(microsocks&& other) noexcept : pid_(other.pid_), port_(other.port_) {
    other.pid_ = 0;
  }
  microsocks& operator=(microsocks&&) = delete;
  ~microsocks() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  std::uint16_t port() const { return port_; }

 private:
  microsocks(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}

  pid_t pid_;
  std::uint16_t port_;
};

}  // namespace opensock::test
