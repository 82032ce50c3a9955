#include "support/catch.hpp"

TEST_CASE("placeholder http_auth") { CHECK(true); }
