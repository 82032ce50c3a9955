#include "support/catch.hpp"

TEST_CASE("placeholder http_content_coding") { CHECK(true); }
