// opensock::separate: the HTTP session of TCP sockets, with the connects of the default
// socket factory and of any_socket_factory (the one type of every lambda factory),
// compiled once in this library for the programs that link it (and that define
// OPENSOCK_SEPARATE_COMPILATION, which the target adds to them).
#include <opensock/impl/src.hpp>
