// The compiled part of test_impl_src.
#include <opensock/impl/src.hpp>
