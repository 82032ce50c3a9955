// A socket factory that hands out test::stream ends: each connection opensock opens is
// one end of a new pair, already connected, and the test's script plays the other end.
//
//     opensock::test::stream_factory factory([](opensock::test::stream& server) {
//       server.send("HTTP/1.1 204 No Content\r\n\r\n");
//     });
//     opensock::http::session<opensock::test::stream_factory> session(executor, factory);
//     ...  // factory.peers()[0].received() is the request the session sent
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/test/stream.hpp>

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

namespace opensock::test {

/// Opens connections over `Protocol` as test::stream pairs. Copies share one record of
/// the connections, so the test keeps a copy of the factory it gives a session.
template <class Protocol = asio::ip::tcp>
class basic_stream_factory {
 public:
  using endpoint_type = typename Protocol::endpoint;
  using script_type = std::function<void(stream& peer, const endpoint_type& endpoint)>;

  /// `script(peer, endpoint)`, or `script(peer)`, is called with the other end of each
  /// connection when it opens, before opensock has the connection: it sends what the
  /// peer says (all of it, when the peer does not wait for the request), or starts a
  /// coroutine that plays the peer. `faults`, when given, counts each open and each
  /// read and write of the ends handed out; an open it fails is refused with its error.
  template <class Script>
    requires std::invocable<Script&, stream&, const endpoint_type&> ||
             std::invocable<Script&, stream&>
  explicit basic_stream_factory(Script script, std::shared_ptr<fault> faults = nullptr)
      : state_(std::make_shared<state>()) {
    if constexpr (std::invocable<Script&, stream&, const endpoint_type&>) {
      state_->script = std::move(script);
    } else {
      state_->script = [s = std::move(script)](stream& peer, const endpoint_type&) mutable {
        s(peer);
      };
    }
    state_->faults = std::move(faults);
  }

  open_result<stream> operator()(open_context<Protocol>& context) const {
    if (state_->faults) {
      if (const auto failure = state_->faults->count()) return refuse(failure);
    }
    auto [ours, theirs] = stream::make_pair(context.executor);
    ours.read_size(state_->read_size);
    ours.write_size(state_->write_size);
    if (state_->faults) ours.fail_with(state_->faults);
    stream& peer = state_->peers.emplace_back(std::move(theirs));
    state_->script(peer, context.endpoint);
    return opensock::connected(std::move(ours));
  }

  /// The ends handed out read and write at most this many bytes an operation.
  void read_size(std::size_t bytes) { state_->read_size = bytes; }
  void write_size(std::size_t bytes) { state_->write_size = bytes; }

  /// The other end of every connection opened, in order; they stay valid as more open.
  std::deque<stream>& peers() const noexcept { return state_->peers; }
  /// How many of the connections opened are still open at opensock's end.
  std::size_t open_connections() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(state_->peers.begin(), state_->peers.end(),
                      [](const stream& peer) { return !peer.closed_by_peer(); }));
  }

 private:
  struct state {
    script_type script;
    std::shared_ptr<fault> faults;
    std::size_t read_size = stream::unlimited;
    std::size_t write_size = stream::unlimited;
    std::deque<stream> peers;
  };
  std::shared_ptr<state> state_;
};

/// The factory over TCP endpoints, what sessions use.
using stream_factory = basic_stream_factory<asio::ip::tcp>;

}  // namespace opensock::test
