// Factory layers that set socket options on every socket the inner factory opens:
// any Asio option, TCP keep-alive timing, SO_MARK and the IP type of service.
#pragma once

#include <opensock/factory/layer.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <system_error>
#include <tuple>
#include <utility>

namespace opensock {

/// An integer socket option at a level and name of setsockopt(2), for those Asio has
/// no type for. It is an Asio SettableSocketOption.
struct int_option {
  int option_level;
  int option_name;
  int value;

  template <class Protocol>
  int level(const Protocol&) const noexcept { return option_level; }
  template <class Protocol>
  int name(const Protocol&) const noexcept { return option_name; }
  template <class Protocol>
  const void* data(const Protocol&) const noexcept { return &value; }
  template <class Protocol>
  std::size_t size(const Protocol&) const noexcept { return sizeof(value); }
};

/// Sets every option in `Options` on the socket of each answer that has one (opened or
/// already connected). An option the socket refuses aborts the connect with its error:
/// an option asked for and silently missing is worse than a failed connect.
template <class... Options>
class set_options_layer : public layer_base {
 public:
  explicit set_options_layer(Options... options) : options_(std::move(options)...) {}

  template <class Context, class Result>
  layer_verdict after(const Context&, Result& result) const {
    if (!result.has_stream()) return proceed;
    std::error_code ec;
    std::apply([&](const auto&... option) { (set_one(result.stream(), option, ec), ...); },
               options_);
    if (ec) return abort(ec);
    return proceed;
  }

 private:
  template <class Stream, class Option>
  static void set_one(Stream& stream, const Option& option, std::error_code& ec) {
    if (ec) return;
    if constexpr (requires { stream.set_option(option, ec); }) {
      stream.set_option(option, ec);
    } else if constexpr (requires { stream.lowest_layer().set_option(option, ec); }) {
      stream.lowest_layer().set_option(option, ec);
    } else {
      static_assert(sizeof(Stream) == 0, "opensock::set_option: this stream takes no socket options");
    }
  }

  std::tuple<Options...> options_;
};

/// `factory | set_option(asio::ip::tcp::no_delay(true), asio::socket_base::send_buffer_size(1 << 20))`
template <class... Options>
set_options_layer<Options...> set_option(Options... options) {
  return set_options_layer<Options...>(std::move(options)...);
}

/// SO_KEEPALIVE with Linux's timing: the first probe after `idle`, then one every
/// `interval`, the connection dropped after `count` unanswered probes.
inline auto keep_alive(std::chrono::seconds idle, std::chrono::seconds interval, int count) {
  return set_option(int_option{SOL_SOCKET, SO_KEEPALIVE, 1},
                    int_option{IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(idle.count())},
                    int_option{IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(interval.count())},
                    int_option{IPPROTO_TCP, TCP_KEEPCNT, count});
}

/// SO_MARK, the firewall and routing mark (needs CAP_NET_ADMIN).
inline auto mark(int value) { return set_option(int_option{SOL_SOCKET, SO_MARK, value}); }

/// The type of service byte: IP_TOS on IPv4 sockets, IPV6_TCLASS on IPv6 ones.
class type_of_service : public layer_base {
 public:
  explicit type_of_service(int value) : value_(value) {}

  template <class Context, class Result>
  layer_verdict after(const Context& context, Result& result) const {
    if (!result.has_stream()) return proceed;
    const bool v6 = context.endpoint.address().is_v6();
    const int_option option = v6 ? int_option{IPPROTO_IPV6, IPV6_TCLASS, value_}
                                 : int_option{IPPROTO_IP, IP_TOS, value_};
    std::error_code ec;
    result.stream().set_option(option, ec);
    if (ec) return abort(ec);
    return proceed;
  }

 private:
  int value_;
};

}  // namespace opensock
