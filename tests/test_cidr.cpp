#include <opensock/cidr.hpp>

#include "support/catch.hpp"

using asio::ip::make_address;
using opensock::cidr;

TEST_CASE("cidr parses networks and single hosts") {
  auto net = cidr::parse("10.0.0.0/8");
  REQUIRE(net);
  CHECK(net->prefix_length() == 8);
  CHECK(net->to_string() == "10.0.0.0/8");
  CHECK(cidr::parse("192.168.1.7")->to_string() == "192.168.1.7/32");
  CHECK(cidr::parse("::1")->to_string() == "::1/128");
  CHECK(cidr::parse("fd00::/8")->to_string() == "fd00::/8");
  CHECK(cidr::parse("10.1.2.3/8")->to_string() == "10.0.0.0/8");  // host bits dropped
  CHECK(cidr::parse("0.0.0.0/0")->to_string() == "0.0.0.0/0");
}

TEST_CASE("cidr rejects what is not a network") {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x",
                          "10.0.0.0/-1", "example.com/8", "10.0.0/8", "10.0.0.0/ 8"}) {
    CAPTURE(bad);
    CHECK(!cidr::parse(bad));
  }
}

TEST_CASE("contains compares the prefix bits") {
  const auto net = *cidr::parse("172.16.0.0/12");
  CHECK(net.contains(make_address("172.16.0.1")));
  CHECK(net.contains(make_address("172.31.255.255")));
  CHECK(!net.contains(make_address("172.32.0.0")));
  CHECK(!net.contains(make_address("172.15.255.255")));
  const auto odd = *cidr::parse("10.0.0.0/9");
  CHECK(odd.contains(make_address("10.127.0.1")));
  CHECK(!odd.contains(make_address("10.128.0.1")));
  CHECK(cidr::parse("0.0.0.0/0")->contains(make_address("203.0.113.9")));
  CHECK(cidr::parse("2001:db8::/32")->contains(make_address("2001:db8:ffff::1")));
  CHECK(!cidr::parse("2001:db8::/32")->contains(make_address("2001:db9::1")));
}

TEST_CASE("an IPv4 network contains its addresses in IPv4-mapped and -compatible form") {
  const auto loopback = *cidr::parse("127.0.0.0/8");
  CHECK(loopback.contains(make_address("::ffff:127.0.0.1")));
  CHECK(loopback.contains(make_address("::127.0.0.1")));
  CHECK(!loopback.contains(make_address("::1")));  // IPv6 loopback, not ::0.0.0.1
  CHECK(!loopback.contains(make_address("::ffff:128.0.0.1")));
  CHECK(!loopback.contains(make_address("64:ff9b::127.0.0.1")));  // NAT64 is the guard's job
}

TEST_CASE("an IPv6 network contains the IPv4-mapped form of an IPv4 address") {
  CHECK(cidr::parse("::ffff:0:0/96")->contains(make_address("192.0.2.1")));
  CHECK(!cidr::parse("fc00::/7")->contains(make_address("192.0.2.1")));
}
