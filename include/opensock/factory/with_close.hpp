// Gives a socket factory a close step of its own (curl's CLOSESOCKETFUNCTION): a socket
// that is not the factory's to close can be kept open, handed back, or counted.
#pragma once

#include <opensock/socket_factory.hpp>

#include <concepts>
#include <utility>

namespace opensock {

/// A factory that opens with `Open` and closes with `Close`, a callable taking the
/// stream by reference. opensock calls it for every socket of this factory it closes:
/// failed and cancelled attempts, and connections the session is done with.
template <class Open, class Close>
class closing_factory {
 public:
  static constexpr bool skips_resolution = skips_resolution_v<Open>;

  closing_factory(Open open, Close close) : open_(std::move(open)), close_(std::move(close)) {}

  template <class Context>
  auto operator()(Context& context) -> decltype(std::declval<Open&>()(context)) {
    return open_(context);
  }

  template <class Stream>
    requires std::invocable<Close&, Stream&>
  void close(Stream& stream) noexcept {
    close_(stream);
  }

  /// The guard of the factory it opens with, for the origins behind proxies.
  bool refuses_origin(const asio::ip::address& address) const
    requires guards_origins_v<Open>
  {
    return opensock::refuses_origin(open_, address);
  }
  bool guards_origins() const
    requires guards_origins_v<Open>
  {
    return opensock::guards_origins(open_);
  }

 private:
  Open open_;
  Close close_;
};

template <class Open, class Close>
closing_factory<Open, Close> with_close(Open open, Close close) {
  return {std::move(open), std::move(close)};
}

}  // namespace opensock
