// opensock::separate: the HTTP session over the default socket factory, compiled once in
// this library for the programs that link it (and that define
// OPENSOCK_SEPARATE_COMPILATION, which the target adds to them).
#include <opensock/impl/src.hpp>
