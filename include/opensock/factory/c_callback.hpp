// A socket factory made of curl-style C callbacks with void* user data, so that C code
// and libcurl habits (OPENSOCKETFUNCTION, SOCKOPTFUNCTION, CLOSESOCKETFUNCTION) port over.
#pragma once

#include <opensock/error.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>

#include <asio/ip/tcp.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

extern "C" {

/// curl's curlsocktype. opensock passes c_socktype_ipcxn for origin and proxy alike,
/// as curl does.
typedef enum { c_socktype_ipcxn = 0, c_socktype_accept = 1 } opensock_c_socktype;

/// curl's struct curl_sockaddr, with room for any address family in `addr`.
struct opensock_c_sockaddr {
  int family;
  int socktype;
  int protocol;
  unsigned int addrlen;
  struct sockaddr_storage addr;
};

/// Returns a new socket, or -1 (CURL_SOCKET_BAD) to refuse the address. May rewrite
/// `address`; opensock connects to the rewritten one.
typedef int (*opensock_c_opensocket_fn)(void* clientp, opensock_c_socktype purpose,
                                        struct opensock_c_sockaddr* address);

/// Returns one of the OPENSOCK_C_SOCKOPT_* values below.
typedef int (*opensock_c_sockopt_fn)(void* clientp, int fd, opensock_c_socktype purpose);

/// Closes `fd`, or keeps it; returns 0 on success.
typedef int (*opensock_c_closesocket_fn)(void* clientp, int fd);
}

/// curl's CURL_SOCKOPT_OK, CURL_SOCKOPT_ERROR and CURL_SOCKOPT_ALREADY_CONNECTED.
#define OPENSOCK_C_SOCKOPT_OK 0
#define OPENSOCK_C_SOCKOPT_ERROR 1
#define OPENSOCK_C_SOCKOPT_ALREADY_CONNECTED 2

namespace opensock {

class c_socket_factory {
 public:
  /// `open` plays CURLOPT_OPENSOCKETFUNCTION, `open_data` CURLOPT_OPENSOCKETDATA.
  c_socket_factory(opensock_c_opensocket_fn open, void* open_data) noexcept
      : open_(open), open_data_(open_data) {}

  /// CURLOPT_SOCKOPTFUNCTION and its data: called after a socket is opened. An error
  /// answer aborts with error::aborted_by_callback, as curl does.
  c_socket_factory& with_sockopt(opensock_c_sockopt_fn fn, void* data) noexcept {
    sockopt_ = fn;
    sockopt_data_ = data;
    return *this;
  }

  /// CURLOPT_CLOSESOCKETFUNCTION and its data: called instead of close(2).
  c_socket_factory& with_close(opensock_c_closesocket_fn fn, void* data) noexcept {
    close_ = fn;
    close_data_ = data;
    return *this;
  }

  open_result<asio::ip::tcp::socket> operator()(open_context<asio::ip::tcp>& context) const {
    opensock_c_sockaddr address{};
    address.family = context.endpoint.protocol().family();
    address.socktype = SOCK_STREAM;
    address.protocol = context.endpoint.protocol().protocol();
    address.addrlen = static_cast<unsigned int>(context.endpoint.size());
    std::memcpy(&address.addr, context.endpoint.data(), context.endpoint.size());

    const int fd = open_ ? open_(open_data_, c_socktype_ipcxn, &address) : -1;
    if (fd < 0) return refuse();

    asio::ip::tcp::socket socket(context.executor);
    if (!take_endpoint(address, context.endpoint)) {
      close_fd(fd);
      return abort(error::factory_endpoint_invalid);
    }
    std::error_code ec;
    socket.assign(context.endpoint.protocol(), fd, ec);
    if (ec) {
      close_fd(fd);
      return abort(ec);
    }
    const int answer =
        sockopt_ ? sockopt_(sockopt_data_, fd, c_socktype_ipcxn) : OPENSOCK_C_SOCKOPT_OK;
    if (answer == OPENSOCK_C_SOCKOPT_ALREADY_CONNECTED) return connected(std::move(socket));
    if (answer != OPENSOCK_C_SOCKOPT_OK) {
      close(socket);
      return abort(error::aborted_by_callback);
    }
    return socket;
  }

  void close(asio::ip::tcp::socket& socket) const noexcept {
    if (!socket.is_open()) return;
    std::error_code ignored;
    if (!close_) {
      socket.close(ignored);
      return;
    }
    const int fd = socket.release(ignored);
    if (ignored) {
      socket.close(ignored);
      return;
    }
    close_(close_data_, fd);
  }

 private:
  // The callback may have rewritten the address; anything but a well-formed IPv4 or
  // IPv6 address is refused rather than read past its end.
  static bool take_endpoint(const opensock_c_sockaddr& address,
                            asio::ip::tcp::endpoint& endpoint) noexcept {
    const auto family = address.addr.ss_family;
    const bool v4 = family == AF_INET && address.addrlen == sizeof(sockaddr_in);
    const bool v6 = family == AF_INET6 && address.addrlen == sizeof(sockaddr_in6);
    if (!v4 && !v6) return false;
    std::memcpy(endpoint.data(), &address.addr, address.addrlen);
    return true;
  }

  void close_fd(int fd) const noexcept {
    if (close_) {
      close_(close_data_, fd);
    } else {
      ::close(fd);
    }
  }

  opensock_c_opensocket_fn open_;
  void* open_data_;
  opensock_c_sockopt_fn sockopt_ = nullptr;
  void* sockopt_data_ = nullptr;
  opensock_c_closesocket_fn close_ = nullptr;
  void* close_data_ = nullptr;
};

}  // namespace opensock
