// The compiled part of a program built with OPENSOCK_SEPARATE_COMPILATION defined in
// every source file: included in exactly one of them, it compiles there, once, the HTTP
// session of TCP sockets (basic_session, shared by every factory that answers with one)
// and the connect of every such factory (through detail::tcp_factory_ref). The other
// files only declare them, so they compile in about a third of the time. The
// OPENSOCK_HAS_* definitions must be the same in every file.
#pragma once

#ifndef OPENSOCK_SEPARATE_COMPILATION
#error "opensock/impl/src.hpp is for programs built with OPENSOCK_SEPARATE_COMPILATION"
#endif

#include <opensock/http/session.hpp>

namespace opensock::detail {
template asio::awaitable<void> connect_within<tcp_factory_ref<false>>(
    tcp_factory_ref<false>&, const route&, const connect_options&, tls::context_cache*,
    request_watchdog*, std::chrono::steady_clock::time_point,
    route_connection<asio::ip::tcp::socket>&, tcp_attempts&, purpose, asio::cancellation_state);
template asio::awaitable<void> connect_within<tcp_factory_ref<true>>(
    tcp_factory_ref<true>&, const route&, const connect_options&, tls::context_cache*,
    request_watchdog*, std::chrono::steady_clock::time_point,
    route_connection<asio::ip::tcp::socket>&, tcp_attempts&, purpose, asio::cancellation_state);
}  // namespace opensock::detail

namespace opensock::http {
template class basic_session<asio::ip::tcp::socket>;
template class session<default_socket_factory>;
template class session<any_socket_factory>;
}  // namespace opensock::http
