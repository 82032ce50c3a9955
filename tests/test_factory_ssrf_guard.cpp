#include <opensock/factory/ssrf_guard.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>
#include <opensock/connector/resolve.hpp>

#include <asio/io_context.hpp>

#include <string>
#include <utility>
#include <vector>

using asio::ip::make_address;
using asio::ip::tcp;

namespace {

struct verdict {
  const char* address;
  bool refused;
};

// Addresses written as getaddrinfo gives them back; the guard judges the address.
const std::vector<verdict> table = {
    // IPv4 loopback, unspecified, "this network"
    {"127.0.0.1", true}, {"127.255.255.254", true}, {"127.1.2.3", true},
    {"0.0.0.0", true}, {"0.1.2.3", true},
    // RFC 1918 private networks and their edges
    {"10.0.0.1", true}, {"10.255.255.255", true}, {"9.255.255.255", false}, {"11.0.0.0", false},
    {"172.16.0.1", true}, {"172.31.255.255", true}, {"172.15.255.255", false}, {"172.32.0.0", false},
    {"192.168.0.1", true}, {"192.168.255.255", true}, {"192.167.255.255", false}, {"192.169.0.0", false},
    // carrier-grade NAT, link-local, cloud metadata
    {"100.64.0.1", true}, {"100.127.255.255", true}, {"100.63.255.255", false}, {"100.128.0.0", false},
    {"169.254.169.254", true}, {"169.254.0.1", true}, {"169.253.255.255", false},
    {"168.63.129.16", true}, {"168.63.129.17", false},
    // IETF assignments, benchmarking, multicast, reserved, broadcast
    {"192.0.0.8", true}, {"198.18.0.1", true}, {"198.19.255.255", true}, {"198.20.0.0", false},
    {"224.0.0.1", true}, {"239.255.255.250", true}, {"240.0.0.1", true}, {"255.255.255.255", true},
    // public IPv4
    {"8.8.8.8", false}, {"1.1.1.1", false}, {"93.184.216.34", false}, {"203.0.113.10", false},
    {"223.255.255.255", false},
    // IPv6 loopback, unspecified, link-local, site-local, unique local, multicast
    {"::1", true}, {"::", true}, {"fe80::1", true}, {"febf::1", true}, {"fec0::1", true},
    {"fc00::1", true}, {"fd12:3456::1", true}, {"fd00:ec2::254", true}, {"ff02::1", true},
    {"ff05::2", true},
    // IPv4 carried in IPv6: mapped, compatible, NAT64, 6to4 — judged by the IPv4 inside
    {"::ffff:127.0.0.1", true}, {"::ffff:10.1.2.3", true}, {"::ffff:169.254.169.254", true},
    {"::ffff:8.8.8.8", false}, {"::127.0.0.1", true}, {"::10.0.0.1", true}, {"::8.8.8.8", true},
    {"::0.0.0.5", true}, {"::ffff:0:7f00:1", true}, {"::ffff:0:808:808", false},
    {"64:ff9b::127.0.0.1", true}, {"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::808:808", false},
    {"64:ff9b:1::1", true},
    {"2002:7f00:1::", true}, {"2002:a00:1::1", true}, {"2002:c0a8:101::1", true},
    {"2002:808:808::1", false},
    // Teredo and discard-only
    {"2001:0:4136:e378::1", true}, {"100::1", true},
    // public IPv6
    {"2001:4860:4860::8888", false}, {"2606:4700:4700::1111", false}, {"2a00:1450:4001::1", false},
    {"2001:db8::1", false},
};

}  // namespace

TEST_CASE("the SSRF guard refuses exactly the internal addresses") {
  REQUIRE(table.size() >= 60);
  const auto guard = opensock::ssrf_guard();
  for (const auto& [address, refused] : table) {
    CAPTURE(address);
    CHECK(guard.refuses(make_address(address)) == refused);
  }
}

TEST_CASE("odd IPv4 spellings resolve to loopback and are refused") {
  asio::io_context io;
  const auto guard = opensock::ssrf_guard();
  for (const char* host : {"0x7f.1", "2130706433", "017700000001", "127.1", "0177.0.0.1",
                           "0x7f000001", "localhost", "LOCALHOST.", "[::ffff:127.0.0.1]"}) {
    CAPTURE(host);
    auto resolved = opensock::test::run(io, opensock::resolve(host, 80));
    REQUIRE(!resolved.error);
    REQUIRE(!resolved.endpoints.empty());
    for (const auto& endpoint : resolved.endpoints) CHECK(guard.refuses(endpoint.address()));
  }
}

TEST_CASE("a session behind the guard cannot reach loopback, whatever the spelling") {
  asio::io_context io;
  opensock::test::loopback_listener server(io);
  opensock::connect_only_session session(
      io.get_executor(), opensock::default_socket_factory{} | opensock::ssrf_guard());
  for (const char* host : {"127.0.0.1", "localhost", "0x7f.1", "2130706433", "::ffff:127.0.0.1"}) {
    CAPTURE(host);
    CHECK(opensock::test::run_connect(io, session, {host, server.port()}) ==
          opensock::error::refused_by_socket_factory);
  }
  opensock::test::settle(io);
  CHECK(server.peers().empty());
}

TEST_CASE("exceptions let chosen networks through") {
  asio::io_context io;
  opensock::test::loopback_listener server(io);
  auto guard = opensock::ssrf_guard();
  guard.except({"127.0.0.1/32"});
  CHECK(!guard.refuses(make_address("127.0.0.1")));
  CHECK(guard.refuses(make_address("127.0.0.2")));
  opensock::connect_only_session session(io.get_executor(),
                                         opensock::default_socket_factory{} | guard);
  CHECK(!opensock::test::run_connect(io, session, {"127.0.0.1", server.port()}));
  CHECK_THROWS_AS(guard.except({"not-a-network"}), std::system_error);
}
