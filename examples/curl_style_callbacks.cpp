// libcurl's CURLOPT_OPENSOCKETFUNCTION example, kept in its C shape: callbacks with a
// void* pointer hand an already established socket to opensock.
//
//   curl_style_callbacks IPV4-ADDRESS PORT   (any TCP server)
#include <opensock/connect_only.hpp>
#include <opensock/factory/c_callback.hpp>
#include <opensock/format.hpp>

#include <asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cstdlib>

/* make opensock use the already established socket 'sockfd' */
static int opensocket(void* clientp, opensock_c_socktype purpose, struct opensock_c_sockaddr* address) {
  (void)purpose;
  (void)address;
  /* the externally connected socket is passed in through the open data pointer */
  return *(int*)clientp;
}

static int sockopt_callback(void* clientp, int fd, opensock_c_socktype purpose) {
  (void)clientp;
  (void)fd;
  (void)purpose;
  return OPENSOCK_C_SOCKOPT_ALREADY_CONNECTED;
}

static int closesocket_callback(void* clientp, int fd) {
  (void)clientp;
  fmt::print("closing fd {}\n", fd);
  return close(fd);
}

static int connect_by_hand(const char* address, const char* port) {
  struct sockaddr_in peer = {};
  peer.sin_family = AF_INET;
  peer.sin_port = htons((unsigned short)atoi(port));
  if (inet_pton(AF_INET, address, &peer.sin_addr) != 1) return -1;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr*)&peer, sizeof peer) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: curl_style_callbacks IPV4-ADDRESS PORT\n");
    return 2;
  }
  int sockfd = connect_by_hand(argv[1], argv[2]); /* the already connected one */
  if (sockfd < 0) {
    fmt::print(stderr, "could not connect to {}:{}\n", argv[1], argv[2]);
    return 7;
  }

  asio::io_context io;
  opensock::connect_only_session session(io.get_executor(),
                                         opensock::c_socket_factory(opensocket, &sockfd)
                                             .with_sockopt(sockopt_callback, nullptr)
                                             .with_close(closesocket_callback, nullptr));
  /* opensock thinks that it connects to this host and port; nothing listens there */
  std::error_code result;
  session.async_connect({"127.99.99.99", 9999}, [&](std::error_code ec) { result = ec; });
  io.run();
  if (result) {
    fmt::print(stderr, "connect failed: {}\n", result);
    return opensock::curl_code(result);
  }
  fmt::print("session uses fd {}, connected to {}\n", session.lowest_layer().native_handle(),
             session.lowest_layer().remote_endpoint());
  return 0;
}
