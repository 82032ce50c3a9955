// A loopback address and port where a connect hangs: a listener whose accept queue is
// full, so the kernel drops every further SYN. Needs no privileges and no firewall.
#pragma once

#include <asio/ip/tcp.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace opensock::test {

class unanswered_port {
 public:
  /// Listens on `address`:`port` (0: any free port) with a backlog of zero and fills the
  /// queue until a connect no longer completes.
  explicit unanswered_port(const asio::ip::address& address, std::uint16_t port = 0) {
    const asio::ip::tcp::endpoint wanted(address, port);
    listener_ = ::socket(wanted.protocol().family(), SOCK_STREAM, 0);
    int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(listener_, wanted.data(), static_cast<socklen_t>(wanted.size())) != 0 ||
        ::listen(listener_, 0) != 0)
      throw std::runtime_error("unanswered_port: cannot listen");
    asio::ip::tcp::endpoint bound = wanted;
    socklen_t length = static_cast<socklen_t>(bound.capacity());
    ::getsockname(listener_, bound.data(), &length);
    endpoint_ = bound;
    for (int i = 0; i < 16; ++i) {
      const int filler = ::socket(wanted.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK, 0);
      fillers_.push_back(filler);
      ::connect(filler, endpoint_.data(), static_cast<socklen_t>(endpoint_.size()));
      pollfd waiting{filler, POLLOUT, 0};
      if (::poll(&waiting, 1, 200) == 0) return;  // this SYN went unanswered: full
    }
    throw std::runtime_error("unanswered_port: the accept queue never filled");
  }

  unanswered_port(const unanswered_port&) = delete;
  unanswered_port& operator=(const unanswered_port&) = delete;

  ~unanswered_port() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }

  const asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }
  std::uint16_t port() const noexcept { return endpoint_.port(); }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  asio::ip::tcp::endpoint endpoint_;
};

}  // namespace opensock::test
