// A real TCP listener on a loopback address and an ephemeral port: it accepts every
// connection, keeps it open, and remembers who connected.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <vector>

namespace opensock::test {

class loopback_listener {
 public:
  explicit loopback_listener(asio::io_context& io,
                             asio::ip::address address = asio::ip::address_v4::loopback())
      : acceptor_(io, {address, 0}) {
    accept();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  /// The peers of the connections accepted so far, oldest first.
  const std::vector<asio::ip::tcp::endpoint>& peers() const { return peers_; }
  std::vector<asio::ip::tcp::socket>& connections() { return connections_; }

 private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      std::error_code ignored;
      peers_.push_back(socket.remote_endpoint(ignored));
      connections_.push_back(std::move(socket));
      accept();
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::ip::tcp::endpoint> peers_;
  std::vector<asio::ip::tcp::socket> connections_;
};

/// A loopback port on which nothing listens: bound, never listened on, so a connect to
/// it is refused for as long as this object lives.
class closed_port {
 public:
  explicit closed_port(asio::io_context& io,
                       asio::ip::address address = asio::ip::address_v4::loopback())
      : socket_(io) {
    socket_.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
    socket_.bind({address, 0});
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace opensock::test
