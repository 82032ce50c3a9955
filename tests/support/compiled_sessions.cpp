// The sessions the tests share, compiled here once for the suite: the session of TCP
// sockets with the connects of the default factory and any_socket_factory (as
// opensock::separate compiles them), and the counting factory's connect.
#include <opensock/impl/src.hpp>

#include "compiled_sessions.hpp"

#ifndef OPENSOCK_TEST_COMPILED_SESSIONS
#error "compiled_sessions.cpp is built with OPENSOCK_TEST_COMPILED_SESSIONS"
#endif

namespace opensock::http {
template class session<test::counting_factory>;
}  // namespace opensock::http
