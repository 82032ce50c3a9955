#include "support/catch.hpp"

TEST_CASE("placeholder http_cookies") { CHECK(true); }
