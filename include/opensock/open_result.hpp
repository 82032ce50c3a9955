// What a socket factory answers: a socket for opensock to connect, a socket it already
// connected, a refusal of this address (the next one is tried), or an abort.
#pragma once

#include <opensock/error.hpp>

#include <cassert>
#include <concepts>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace opensock {

/// A stream the factory connected itself; opensock skips its connect step.
template <class Stream>
struct already_connected {
  Stream stream;
};

/// Wraps `stream` to say that it is connected (curl's CURL_SOCKOPT_ALREADY_CONNECTED).
template <class Stream>
already_connected<std::remove_cvref_t<Stream>> connected(Stream&& stream) {
  return {std::forward<Stream>(stream)};
}

/// "Do not connect to this address": opensock goes on with the next resolved address.
struct refusal {
  /// Why; by default error::refused_by_socket_factory. A factory whose socket() call
  /// failed passes that error instead, so the attempt reads as a failed one.
  std::error_code reason = error::refused_by_socket_factory;
};

inline refusal refuse() noexcept { return {}; }
inline refusal refuse(std::error_code reason) noexcept { return {reason}; }

/// "Stop connecting now": the whole operation fails with `reason`, no address is tried.
struct abortion {
  std::error_code reason;
};

inline abortion abort(std::error_code reason) noexcept { return {reason}; }

/// The one type every factory answer converts to. A factory with more than one kind of
/// answer declares it as its return type; one that only ever opens sockets may return
/// the socket itself.
template <class Stream>
class open_result {
 public:
  using stream_type = Stream;
  enum class kind { opened, connected, refused, aborted };

  // Taken by reference, not by value: a socket moved is work (its executor, Asio's
  // state), and a factory's answer is made for every connect.
  open_result(Stream&& stream) : kind_(kind::opened), stream_(std::move(stream)) {}
  open_result(const Stream& stream)
    requires std::copy_constructible<Stream>
      : kind_(kind::opened), stream_(stream) {}
  /// A stream made in place from `args`: an opened stream, not moved on its way out of
  /// a factory that returns this object by name.
  template <class... Args>
    requires std::constructible_from<Stream, Args...>
  explicit open_result(std::in_place_t, Args&&... args)
      : kind_(kind::opened), stream_(std::in_place, std::forward<Args>(args)...) {}
  open_result(already_connected<Stream> c) : kind_(kind::connected), stream_(std::move(c.stream)) {}
  open_result(refusal r) noexcept : kind_(kind::refused), error_(r.reason) {}
  open_result(abortion a) noexcept : kind_(kind::aborted), error_(a.reason) {
    // An abort without a reason would read as success; give it the curl meaning.
    if (!error_) error_ = error::aborted_by_callback;
  }

  kind what() const noexcept { return kind_; }
  bool has_stream() const noexcept { return stream_.has_value(); }
  /// The refusal's or abort's reason; empty for a stream.
  std::error_code error() const noexcept { return error_; }

  Stream& stream() noexcept {
    assert(stream_);
    return *stream_;
  }
  Stream take_stream() {
    assert(stream_);
    Stream s = std::move(*stream_);
    stream_.reset();
    return s;
  }

 private:
  kind kind_;
  std::optional<Stream> stream_;
  std::error_code error_;
};

}  // namespace opensock
