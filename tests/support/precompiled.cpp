// The object the tests' precompiled header is built for (support/precompiled.hpp).
