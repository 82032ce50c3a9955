// The PROXY protocol (HAProxy's, version 1, text): the line a connection opens with to
// tell a server behind a load balancer which client it serves, as curl's
// --haproxy-protocol and --haproxy-clientip send it. It goes first on the connection to
// the server, after any tunnel and before TLS: "PROXY TCP4|TCP6 <source> <destination>
// <source port> <destination port>\r\n", from the socket's own ends unless a client
// address is given, or "PROXY UNKNOWN\r\n" over a socket that has no IP ends.
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <system_error>

namespace opensock {

// Constructors rather than an aggregate: g++ 12 corrupts a brace-initialised aggregate
// temporary that lives across a co_await.
struct proxy_protocol_header {
  /// The socket's own ends: its local address as the source, the peer's as the
  /// destination.
  proxy_protocol_header() = default;
  /// `client` as both source and destination (curl's --haproxy-clientip); the ports
  /// stay the socket's.
  explicit proxy_protocol_header(asio::ip::address client) : client(client) {}

  std::optional<asio::ip::address> client;

  friend bool operator==(const proxy_protocol_header&, const proxy_protocol_header&) = default;

  /// The line for a connection whose socket is `stream`.
  template <class Stream>
  std::string line(const Stream& stream) const {
    if constexpr (requires(std::error_code ec) {
                    asio::ip::tcp::endpoint(stream.local_endpoint(ec));
                    asio::ip::tcp::endpoint(stream.remote_endpoint(ec));
                  }) {
      std::error_code local_ec, remote_ec;
      const asio::ip::tcp::endpoint local = stream.local_endpoint(local_ec);
      const asio::ip::tcp::endpoint remote = stream.remote_endpoint(remote_ec);
      if (!local_ec && !remote_ec) return line(local, remote);
    }
    return "PROXY UNKNOWN\r\n";
  }

  /// The line for a connection from `local` to `remote`.
  std::string line(const asio::ip::tcp::endpoint& local,
                   const asio::ip::tcp::endpoint& remote) const {
    const asio::ip::address source = client ? *client : local.address();
    const asio::ip::address destination = client ? *client : remote.address();
    return std::string("PROXY ") + (source.is_v4() ? "TCP4 " : "TCP6 ") + text(source) + ' ' +
           text(destination) + ' ' + std::to_string(local.port()) + ' ' +
           std::to_string(remote.port()) + "\r\n";
  }

 private:
  // An address as the protocol writes it: without an IPv6 zone, which names an
  // interface of this host alone.
  static std::string text(const asio::ip::address& address) {
    if (address.is_v4()) return address.to_string();
    return asio::ip::address_v6(address.to_v6().to_bytes()).to_string();
  }
};

}  // namespace opensock
