// Whether the peer of an idle connection closed it (or sent what no request asked for),
// asked of the socket itself: one recv that peeks and does not wait. For a connection
// that was idle with no wait pending on it to say so.
#pragma once

#include <asio/basic_stream_socket.hpp>

#include <cerrno>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/socket.h>
#endif

namespace opensock::detail {

template <class Protocol, class Executor>
bool peer_closed(asio::basic_stream_socket<Protocol, Executor>& socket) {
#if defined(MSG_DONTWAIT) && defined(MSG_PEEK)
  char byte;
  for (;;) {
    const auto got = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got >= 0) return true;  // the close (0), or bytes nobody asked for
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
#else
  (void)socket;
  return false;
#endif
}

/// Any other stream cannot be asked: its first read tells.
template <class Stream>
bool peer_closed(Stream&) {
  return false;
}

}  // namespace opensock::detail
