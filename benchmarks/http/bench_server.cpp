// The loopback server of the HTTP benchmarks: answers every request, on connections it
// keeps alive for as long as the client wants, with one response built at start-up
// (a 200 whose body has BYTES bytes), so that the client's work dominates. One thread,
// epoll, non-blocking sockets; a request is counted at each blank line ending a head
// (the clients send GETs without a body), any path.
//   bench_server --body BYTES [--port PORT] [--port-file FILE]
// Prints the port it listens on (127.0.0.1) as its first line, and writes it to FILE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

struct connection {
  int fd = -1;
  std::string input;          // an incomplete head, kept for the next read
  long pending = 0;           // responses owed
  std::size_t written = 0;    // bytes of the current response already sent
  bool watching_out = false;  // EPOLLOUT registered
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_server: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Counts the heads that end in `data`; `tail` carries up to three bytes of a possible
// "\r\n\r\n" across reads.
long count_heads(std::string& carry, const char* data, std::size_t size) {
  std::string_view view(data, size);
  if (!carry.empty()) {
    carry.append(data, size);
    view = carry;
  }
  long heads = 0;
  std::size_t from = 0;
  for (std::size_t at; (at = view.find("\r\n\r\n", from)) != std::string_view::npos;) {
    ++heads;
    from = at + 4;
  }
  std::string rest(view.substr(from));
  carry = std::move(rest);
  return heads;
}

}  // namespace

int main(int argc, char** argv) {
  long body = -1;
  int port = 0;
  const char* port_file = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--body") == 0) {
      body = std::atol(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--port") == 0) {
      port = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--port-file") == 0) {
      port_file = argv[i + 1];
    } else {
      body = -1;
      break;
    }
  }
  if (body < 0 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: bench_server --body BYTES [--port PORT] [--port-file FILE]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  std::string response = "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\n"
                         "Content-Length: " +
                         std::to_string(body) + "\r\n\r\n";
  for (long i = 0; i < body; ++i) response += static_cast<char>('a' + i % 26);

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
  if (listen(listener, 4096) != 0) die("listen");
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  std::printf("%d\n", port);
  std::fflush(stdout);
  if (port_file) {
    const std::string temp = std::string(port_file) + ".tmp";
    if (FILE* f = std::fopen(temp.c_str(), "w")) {
      std::fprintf(f, "%d\n", port);
      std::fclose(f);
      std::rename(temp.c_str(), port_file);
    }
  }

  const int poller = epoll_create1(EPOLL_CLOEXEC);
  if (poller < 0) die("epoll_create1");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the listener
  epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);

  std::unordered_map<int, std::unique_ptr<connection>> connections;
  auto close_connection = [&](connection* c) {
    close(c->fd);  // also leaves the epoll set
    connections.erase(c->fd);
  };
  auto watch_out = [&](connection* c, bool on) {
    if (c->watching_out == on) return;
    c->watching_out = on;
    epoll_event e{};
    e.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    e.data.ptr = c;
    epoll_ctl(poller, EPOLL_CTL_MOD, c->fd, &e);
  };
  // Sends what is owed until done or the socket is full; false if the peer is gone.
  auto flush = [&](connection* c) {
    while (c->pending > 0) {
      const ssize_t n = send(c->fd, response.data() + c->written, response.size() - c->written,
                             MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          watch_out(c, true);
          return true;
        }
        return false;
      }
      c->written += static_cast<std::size_t>(n);
      if (c->written == response.size()) {
        c->written = 0;
        --c->pending;
      }
    }
    watch_out(c, false);
    return true;
  };

  static char buffer[64 * 1024];
  epoll_event events[256];
  for (;;) {
    const int ready = epoll_wait(poller, events, 256, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      auto* c = static_cast<connection*>(events[i].data.ptr);
      if (!c) {
        for (;;) {
          const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto owned = std::make_unique<connection>();
          owned->fd = fd;
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.ptr = owned.get();
          epoll_ctl(poller, EPOLL_CTL_ADD, fd, &e);
          connections.emplace(fd, std::move(owned));
        }
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (!flush(c)) {
          close_connection(c);
          continue;
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        const ssize_t n = recv(c->fd, buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) {
          close_connection(c);
          continue;
        }
        const long heads = count_heads(c->input, buffer, static_cast<std::size_t>(n));
        if (heads > 0) {
          const bool idle = c->pending == 0;
          c->pending += heads;
          if (idle && !flush(c)) close_connection(c);
        }
      }
    }
  }
}
