// stdin, a line at a time, for a coroutine on an io_context. A pipe, a terminal or a socket
// is read through the reactor (asio::posix::stream_descriptor). A regular file is read by a
// thread of its own with blocking reads: epoll refuses regular files, so Asio would read
// one only by trying each read at once in the io_context's thread, where a slow disk would
// hold up the messages arriving meanwhile.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/redirect_error.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

namespace ws {

class stdin_lines {
 public:
  explicit stdin_lines(const asio::any_io_executor& executor)
      : descriptor_(executor), saved_flags_(::fcntl(STDIN_FILENO, F_GETFL)) {
    struct stat status {};
    if (::fstat(STDIN_FILENO, &status) == 0 && S_ISREG(status.st_mode)) {
      file_reader_.emplace(1);
      return;
    }
    std::error_code ec;
    descriptor_.assign(STDIN_FILENO, ec);
    if (ec) error_ = ec;
  }

  stdin_lines(const stdin_lines&) = delete;
  stdin_lines& operator=(const stdin_lines&) = delete;

  ~stdin_lines() {
    // A read in flight on file_reader_'s thread fills pending_: it ends (without delay, in
    // a regular file) before the buffer goes.
    file_reader_.reset();
    // The descriptor is stdin itself: left open. The reactor made it non-blocking, and its
    // open file description is shared with whoever started this program (the shell's
    // terminal, the other end of a pipeline's pipe): its flags are put back.
    if (descriptor_.is_open()) descriptor_.release();
    if (saved_flags_ != -1) ::fcntl(STDIN_FILENO, F_SETFL, saved_flags_);
  }

  /// The next line without its newline (a last line without one too); nullopt at the end
  /// of stdin, after stop(), or on an error, which error() then holds.
  asio::awaitable<std::optional<std::string>> next() {
    for (;;) {
      const auto newline = pending_.find('\n', consumed_);
      if (newline != std::string::npos) {
        std::string line = pending_.substr(consumed_, newline - consumed_);
        consumed_ = newline + 1;
        co_return line;
      }
      if (ended_ || stopped_ || error_) break;
      // What is left of the buffer moves to its start before more is read after it.
      pending_.erase(0, consumed_);
      consumed_ = 0;
      const std::size_t kept = pending_.size();
      pending_.resize(kept + chunk_size);
      const asio::mutable_buffer room(pending_.data() + kept, chunk_size);
      std::error_code ec;
      std::size_t n = 0;
      if (file_reader_) {
        n = co_await asio::co_spawn(*file_reader_, read_blocking(room, ec), asio::use_awaitable);
      } else {
        n = co_await descriptor_.async_read_some(room,
                                                 asio::redirect_error(asio::use_awaitable, ec));
      }
      pending_.resize(kept + n);
      if (ec == asio::error::eof || ec == asio::error::operation_aborted) {
        ended_ = true;
      } else if (ec) {
        error_ = ec;
      }
    }
    if (stopped_ || consumed_ == pending_.size()) co_return std::nullopt;
    std::string last = pending_.substr(consumed_);
    consumed_ = pending_.size();
    co_return last;
  }

  /// Ends the wait of next(), if any, and the reading: nothing more is wanted.
  void stop() {
    stopped_ = true;
    std::error_code ignored;
    if (descriptor_.is_open()) descriptor_.cancel(ignored);
  }

  /// What made stdin unreadable, if anything did.
  std::error_code error() const noexcept { return error_; }

 private:
  static constexpr std::size_t chunk_size = 64 * 1024;

  // One read(2) into `room`, on file_reader_'s thread; the count is delivered on the
  // caller's executor, `ec` set at the end of the file or on an error.
  static asio::awaitable<std::size_t> read_blocking(asio::mutable_buffer room,
                                                    std::error_code& ec) {
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, room.data(), room.size());
      if (n > 0) co_return static_cast<std::size_t>(n);
      if (n == 0) {
        ec = asio::error::eof;
      } else if (errno == EINTR) {
        continue;
      } else {
        ec = std::error_code(errno, std::system_category());
      }
      co_return 0;
    }
  }

  asio::posix::stream_descriptor descriptor_;
  std::optional<asio::thread_pool> file_reader_;
  // Read from stdin; the lines before `consumed_` were returned.
  std::string pending_;
  std::size_t consumed_ = 0;
  int saved_flags_;
  bool ended_ = false;
  bool stopped_ = false;
  std::error_code error_;
};

}  // namespace ws
