#include <opensock/connector/name_overrides.hpp>
#include <opensock/route.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/io_context.hpp>

#include <string>
#include <vector>

using asio::ip::make_address;
using asio::ip::tcp;
using opensock::connect_to_rule;
using opensock::resolve_override;
using opensock::test::run;

namespace {

opensock::resolve_result resolve_with(const opensock::resolve_options& options, std::string host,
                                      std::uint16_t port) {
  asio::io_context io;
  return run(io, opensock::resolve(host, port, options));
}

const std::string unresolvable = std::string(64, 'n') + ".invalid";

}  // namespace

TEST_CASE("resolve entries (curl's --resolve) parse as curl writes them") {
  auto entry = resolve_override::parse("example.com:443:127.0.0.1,[::1],127.0.0.2");
  REQUIRE(entry);
  CHECK(entry->host == "example.com");
  CHECK(entry->port == 443);
  REQUIRE(entry->addresses.size() == 3);
  CHECK(entry->addresses[1] == make_address("::1"));
  CHECK(resolve_override::parse("+example.com:80:127.0.0.1"));
  CHECK(resolve_override::parse("*:80:127.0.0.1")->matches("anything.test", 80));
  CHECK(resolve_override::parse("h:*:127.0.0.1")->matches("h", 8080));
  CHECK(resolve_override::parse("h:80:127.0.0.1,,[::1],")->addresses.size() == 2);
  for (const char* bad : {"", "example.com", "example.com:80", "example.com:80:", ":80:127.0.0.1",
                          "example.com:x:127.0.0.1", "example.com:70000:127.0.0.1",
                          "example.com:80:not-an-ip", "example.com:80:,,"}) {
    CAPTURE(bad);
    CHECK(!resolve_override::parse(bad));
  }
}

TEST_CASE("connect-to rules (curl's --connect-to) parse as curl writes them") {
  auto rule = connect_to_rule::parse("example.com:443:127.0.0.1:8443");
  REQUIRE(rule);
  CHECK(rule->matches("EXAMPLE.com", 443));
  CHECK(!rule->matches("example.com", 80));
  CHECK(rule->to_host == "127.0.0.1");
  CHECK(rule->to_port == 8443);
  auto any = connect_to_rule::parse("::[::1]:");
  REQUIRE(any);
  CHECK(any->matches("whatever", 1));
  CHECK(any->to_host == "::1");
  CHECK(!any->to_port);
  for (const char* bad : {"", "a:1:b", "a:1:b:2:c", "a:x:b:2", "a:1:b:99999"}) {
    CAPTURE(bad);
    CHECK(!connect_to_rule::parse(bad));
  }
}

TEST_CASE("a resolve entry answers for its host and port without a lookup") {
  opensock::resolve_options options;
  options.overrides.push_back(*resolve_override::parse(unresolvable + ":80:127.0.0.5,::1"));
  auto r = resolve_with(options, unresolvable, 80);
  REQUIRE(!r.error);
  REQUIRE(r.endpoints.size() == 2);
  CHECK(r.endpoints[0] == tcp::endpoint(make_address("127.0.0.5"), 80));
  CHECK(r.endpoints[1] == tcp::endpoint(make_address("::1"), 80));
  // Another port is not covered: the lookup runs and fails.
  CHECK(resolve_with(options, unresolvable, 81).error == opensock::error::couldnt_resolve_host);
}

TEST_CASE("connect-to moves the network target, and resolve entries apply to the new name") {
  opensock::resolve_options options;
  options.connect_to.push_back(*connect_to_rule::parse("origin.test:443:backend.test:8443"));
  options.overrides.push_back(*resolve_override::parse("backend.test:8443:127.0.0.6"));
  auto r = resolve_with(options, "origin.test", 443);
  REQUIRE(!r.error);
  REQUIRE(r.endpoints.size() == 1);
  CHECK(r.endpoints[0] == tcp::endpoint(make_address("127.0.0.6"), 8443));
  const auto target = opensock::apply_connect_to(options, "other.test", 443);
  CHECK(target.host == "other.test");
  CHECK(target.port == 443);
}

TEST_CASE("a route steered by curl's name options: where it goes, by which addresses") {
  opensock::resolve_options names;
  names.version = opensock::ip_version::v4;
  names.connect_to.push_back(*connect_to_rule::parse("origin.test:443:backend.test:8443"));
  names.overrides.push_back(*resolve_override::parse("backend.test:8443:127.0.0.6,127.0.0.7"));
  names.overrides.push_back(*resolve_override::parse("plain.test:80:127.0.0.8"));

  opensock::route steered(opensock::origin("origin.test", 443, "https"));
  steered.apply_names(names);
  CHECK(steered.origin.host == "origin.test");  // the request and TLS still name it
  CHECK(steered.host_to_reach() == "backend.test");
  CHECK(steered.port_to_reach() == 8443);
  CHECK(steered.addresses ==
        std::vector<asio::ip::address>{make_address("127.0.0.6"), make_address("127.0.0.7")});
  CHECK(steered.version == opensock::ip_version::v4);

  opensock::route overridden(opensock::origin("plain.test", 80, "http"));
  overridden.apply_names(names);
  CHECK(overridden.connect_host.empty());
  CHECK(overridden.connect_port == 0);
  CHECK(overridden.host_to_reach() == "plain.test");
  CHECK(overridden.addresses == std::vector<asio::ip::address>{make_address("127.0.0.8")});

  opensock::route untouched(opensock::origin("other.test", 443, "https"));
  untouched.apply_names(names);
  CHECK(untouched.host_to_reach() == "other.test");
  CHECK(untouched.port_to_reach() == 443);
  CHECK(untouched.addresses.empty());

  // Steered again by other options, nothing of the first stays.
  steered.apply_names(opensock::resolve_options());
  CHECK(steered.host_to_reach() == "origin.test");
  CHECK(steered.addresses.empty());
  CHECK(steered.version == opensock::ip_version::any);
}

TEST_CASE("routes to one origin differ by where they go, their addresses and their local end") {
  const opensock::route plain(opensock::origin("origin.test", 80, "http"));
  auto differs = [&](auto change) {
    opensock::route other = plain;
    change(other);
    return !(other == plain);
  };
  CHECK(!differs([](opensock::route&) {}));
  CHECK(differs([](opensock::route& r) { r.connect_host = "backend.test"; }));
  CHECK(differs([](opensock::route& r) { r.connect_port = 8080; }));
  CHECK(differs([](opensock::route& r) { r.addresses = {make_address("127.0.0.1")}; }));
  CHECK(differs([](opensock::route& r) { r.version = opensock::ip_version::v6; }));
  CHECK(differs([](opensock::route& r) {
    r.local = opensock::local_binding(make_address("127.0.0.2"));
  }));
  CHECK(differs([](opensock::route& r) { r.local = opensock::local_binding({4000, 4010}); }));
  CHECK(differs([](opensock::route& r) { r.local.device = "lo"; }));
  // TLS settings matter only where TLS runs.
  CHECK(!differs([](opensock::route& r) { r.tls = opensock::tls::options(); }));
}

TEST_CASE("resolving with given addresses: the addresses, whatever the version") {
  const std::vector<asio::ip::address> given{make_address("::1"), make_address("127.0.0.9")};
  asio::io_context io;
  auto r = run(io, opensock::resolve(unresolvable, 81, given, opensock::ip_version::v4));
  REQUIRE(!r.error);
  CHECK(r.endpoints == std::vector<tcp::endpoint>{tcp::endpoint(make_address("::1"), 81),
                                                 tcp::endpoint(make_address("127.0.0.9"), 81)});
  CHECK(!opensock::literal_endpoint("127.0.0.1", 81, given, opensock::ip_version::any));
  CHECK(opensock::literal_endpoint("127.0.0.1", 81, {}, opensock::ip_version::any) ==
        tcp::endpoint(make_address("127.0.0.1"), 81));
}

TEST_CASE("an IP version (curl's -4 and -6) keeps one family") {
  opensock::resolve_options v4;
  v4.version = opensock::ip_version::v4;
  auto r4 = resolve_with(v4, "localhost", 80);
  REQUIRE(r4.endpoints.size() == 1);
  CHECK(r4.endpoints[0].address() == make_address("127.0.0.1"));

  opensock::resolve_options v6;
  v6.version = opensock::ip_version::v6;
  auto r6 = resolve_with(v6, "localhost", 80);
  REQUIRE(r6.endpoints.size() == 1);
  CHECK(r6.endpoints[0].address() == make_address("::1"));

  CHECK(resolve_with(v6, "127.0.0.1", 80).error == opensock::error::couldnt_resolve_host);
}

TEST_CASE("the most specific resolve entry wins, wildcards last") {
  opensock::resolve_options options;
  options.overrides.push_back(*resolve_override::parse("*:443:127.0.0.2"));
  options.overrides.push_back(*resolve_override::parse("exact.test:*:127.0.0.4"));
  options.overrides.push_back(*resolve_override::parse("exact.test:443:127.0.0.3"));
  CHECK(resolve_with(options, "exact.test", 443).endpoints.at(0).address() == make_address("127.0.0.3"));
  CHECK(resolve_with(options, "exact.test", 80).endpoints.at(0).address() == make_address("127.0.0.4"));
  CHECK(resolve_with(options, "other.test", 443).endpoints.at(0).address() == make_address("127.0.0.2"));
}

TEST_CASE("resolve entries are used whatever the IP version says, as curl documents") {
  opensock::resolve_options options;
  options.version = opensock::ip_version::v4;
  options.overrides.push_back(*resolve_override::parse("six.test:80:[::1]"));
  auto r = resolve_with(options, "six.test", 80);
  REQUIRE(!r.error);
  CHECK(r.endpoints.at(0).address() == make_address("::1"));
}

TEST_CASE("literal_endpoint gives what resolve_without_lookup does, or nothing") {
  opensock::resolve_options plain, v4, v6, moved, overridden;
  v4.version = opensock::ip_version::v4;
  v6.version = opensock::ip_version::v6;
  moved.connect_to.push_back(*connect_to_rule::parse("::127.0.0.7:"));
  overridden.overrides.push_back(*resolve_override::parse("127.0.0.1:80:127.0.0.8"));
  int given = 0;
  for (const auto* options : {&plain, &v4, &v6, &moved, &overridden}) {
    for (const char* host : {"127.0.0.1", "10.1.2.3", "[::1]", "::1", "[fe80::1%1]", "localhost",
                             "127.0.0.01", "1.2.3", "example.test", "", "[]"}) {
      INFO(host);
      const auto literal = opensock::literal_endpoint(host, 80, *options);
      if (!literal) continue;
      ++given;
      const auto found = opensock::resolve_without_lookup(host, 80, *options);
      REQUIRE(found);
      CHECK(!found->error);
      REQUIRE(found->endpoints.size() == 1);
      CHECK(found->endpoints[0] == *literal);
    }
  }
  // The five literals with any version, two with -4, three with -6; none with a rule
  // or entry that could apply.
  CHECK(given == 5 + 2 + 3);
  CHECK(!opensock::literal_endpoint("127.0.0.1", 80, moved));
  CHECK(!opensock::literal_endpoint("127.0.0.1", 80, overridden));
  CHECK(!opensock::literal_endpoint("[::1]", 80, v4));
  CHECK(opensock::literal_endpoint("[::1]", 443, v6) == tcp::endpoint(make_address("::1"), 443));
}

TEST_CASE("async_resolve takes any completion token") {
  asio::io_context io;
  const opensock::resolve_options options;
  std::error_code found_ec, refused_ec;
  std::size_t found = 0;
  opensock::async_resolve(io.get_executor(), "localhost", 80, options,
                          [&](std::error_code ec, opensock::resolve_result r) {
                            found_ec = ec;
                            found = r.endpoints.size();
                          });
  // A first label over 63 characters: glibc refuses it without asking anyone.
  opensock::async_resolve(io.get_executor(), std::string(64, 'x') + ".invalid", 80, options,
                          [&](std::error_code ec, opensock::resolve_result) { refused_ec = ec; });
  io.run();
  CHECK(!found_ec);
  CHECK(found == 2);  // ::1 and 127.0.0.1, never looked up
  CHECK(opensock::curl_code(refused_ec) == 6);
}
