// How the connector makes a connection for a route: how attempts race, how long the
// connect may take, TCP_NODELAY. Where it goes is the route's (route.hpp).
#pragma once

#include <opensock/connector/happy_eyeballs.hpp>

#include <chrono>
#include <optional>

namespace opensock {

// A constructor rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct connect_options {
  connect_options() {}

  happy_eyeballs_options happy_eyeballs;
  /// Resolve and connect (and later TLS and proxy handshakes) must finish within this;
  /// curl's default is 300 s. Past it the connect fails with operation_timedout (28).
  std::optional<std::chrono::milliseconds> connect_timeout = std::chrono::seconds(300);
  /// The whole operation must finish within this (curl's --max-time); none by default.
  std::optional<std::chrono::milliseconds> total_timeout;
  /// TCP_NODELAY on TCP connections, on by default as in curl.
  bool tcp_nodelay = true;

  /// The deadline of a connect that starts at `start`. A limit too large to add is
  /// no limit; a zero limit has passed already.
  std::chrono::steady_clock::time_point connect_deadline(
      std::chrono::steady_clock::time_point start) const {
    using clock = std::chrono::steady_clock;
    auto deadline = clock::time_point::max();
    const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start);
    for (const auto& limit : {connect_timeout, total_timeout})
      if (limit && *limit < room && start + *limit < deadline) deadline = start + *limit;
    return deadline;
  }
};

}  // namespace opensock
