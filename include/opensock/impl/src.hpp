// The compiled part of a program built with OPENSOCK_SEPARATE_COMPILATION defined in
// every source file: included in exactly one of them, it compiles the HTTP sessions over
// the default socket factory and over any_socket_factory there, once. The other files
// only declare them, so they compile in about a third of the time. OPENSOCK_HAS_TLS must
// be the same in every file.
#pragma once

#ifndef OPENSOCK_SEPARATE_COMPILATION
#error "opensock/impl/src.hpp is for programs built with OPENSOCK_SEPARATE_COMPILATION"
#endif

#include <opensock/http/session.hpp>

namespace opensock::http {
template class session<default_socket_factory>;
template class session<any_socket_factory>;
}  // namespace opensock::http
