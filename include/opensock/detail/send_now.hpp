// Sends what a connected stream socket takes at once, without waiting. A request's head
// and a small body nearly always fit the socket's buffer; written this way they cost one
// sendmsg, where an Asio write that completes at once still queues its completion, runs
// it from the scheduler and resumes the coroutine through it. What the socket does not
// take is left to an asynchronous write.
#pragma once

#include <asio/basic_stream_socket.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <array>
#include <cerrno>
#include <cstddef>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/socket.h>
#include <sys/uio.h>
#endif

namespace opensock {
template <class Stream>
class transport;
}  // namespace opensock

namespace opensock::detail {

/// Sends from `buffers` what `socket` takes now; 0 with `ec` clear when it would block
/// (or where sending without waiting is not supported: no MSG_DONTWAIT and
/// MSG_NOSIGNAL). A failed send sets `ec`.
template <class Protocol, class Executor, std::size_t N>
std::size_t send_now(asio::basic_stream_socket<Protocol, Executor>& socket,
                     const std::array<asio::const_buffer, N>& buffers, std::error_code& ec) {
#if defined(MSG_DONTWAIT) && defined(MSG_NOSIGNAL)
  ::iovec pieces[N];
  std::size_t count = 0;
  for (const auto& buffer : buffers) {
    if (buffer.size() == 0) continue;
    pieces[count].iov_base = const_cast<void*>(buffer.data());
    pieces[count].iov_len = buffer.size();
    ++count;
  }
  if (count == 0) return 0;
  ::msghdr message{};
  message.msg_iov = pieces;
  message.msg_iovlen = count;
  for (;;) {
    const auto sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      ec.assign(errno, asio::error::get_system_category());
    return 0;
  }
#else
  (void)socket;
  (void)buffers;
  (void)ec;
  return 0;
#endif
}

/// Any other stream: nothing is sent here, all of it goes by an asynchronous write.
template <class Stream, std::size_t N>
std::size_t send_now(Stream&, const std::array<asio::const_buffer, N>&, std::error_code&) {
  return 0;
}

/// A transport: its socket, when nothing is layered over it.
template <class Stream, std::size_t N>
std::size_t send_now(transport<Stream>& t, const std::array<asio::const_buffer, N>& buffers,
                     std::error_code& ec) {
  return t.layers() == 0 ? send_now(t.lowest_layer(), buffers, ec) : 0;
}

}  // namespace opensock::detail
