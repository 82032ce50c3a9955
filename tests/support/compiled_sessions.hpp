// The session over the tests' counting factory, compiled once for the whole suite (in
// compiled_sessions.cpp, with the session of TCP sockets that every test's session over a
// TCP factory shares) and only declared in the test files that use it, which then
// compile in a fraction of the time.
#pragma once

#include "counting_factory.hpp"

#include <opensock/http/session.hpp>

#ifdef OPENSOCK_TEST_COMPILED_SESSIONS
namespace opensock::http {
extern template class session<test::counting_factory>;
}  // namespace opensock::http
#endif
