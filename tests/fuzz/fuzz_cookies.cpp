// libFuzzer target for the cookie engine. The first byte chooses: even, Set-Cookie values
// (one a line) stored from a URL the second byte picks, then the Cookie header built and
// the jar written as a cookie file; odd, a cookie file read. Either way the written file,
// read into a second jar, must give back the same cookies: no input may crash the engine,
// and a jar must survive its own file.
#include <opensock/http/cookie.hpp>
#include <opensock/http/cookie_file.hpp>
#include <opensock/http/cookie_jar.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

using namespace opensock::http;

// A fixed clock: the outcome of an input does not depend on when it runs.
const cookie_clock::time_point now = cookie_clock::time_point(std::chrono::seconds(1767225600));

constexpr std::string_view origins[] = {
    "http://www.example.test/dir/page",
    "https://www.example.test/",
    "http://localhost/a/b",
    "http://127.0.0.1/",
    "http://[::1]/x/",
    "https://a.b.example.co.uk/p/q/r",
    "http://co.uk/",
    "http://www.example.test./",
};

url origin(std::uint8_t choice) {
  std::error_code ec;
  auto u = url::parse(origins[choice % std::size(origins)], ec);
  if (ec) std::abort();
  return u;
}

// What a cookie file holds of a cookie (not SameSite, not its creation), ordered so that
// two jars compare as sets. A cookie whose line is too long to be read back is left out.
using kept =
    std::tuple<std::string, std::string, std::string, std::string, std::int64_t, bool, bool, bool>;

std::vector<kept> contents(const cookie_jar& jar) {
  std::vector<kept> out;
  for (const cookie& c : jar.cookies()) {
    if (c.expired(now) || cookie_file_line(c).size() >= jar.limits().max_line) continue;
    out.emplace_back(c.name, detail::cookie_lower(c.domain), c.path, c.value,
                     c.expires ? c.expires->time_since_epoch().count() : 0, c.secure, c.http_only,
                     c.host_only);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_round_trip(const cookie_jar& jar) {
  const std::string file = write_cookie_file(jar, now);
  cookie_jar again;
  read_cookie_file(file, again, now);
  if (contents(again) != contents(jar)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (data[0] % 2 == 1) {
    cookie_jar jar;
    read_cookie_file(text, jar, now);
    check_round_trip(jar);
    return 0;
  }
  const url from = origin(data[1]);
  cookie_jar jar;
  fields response;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    response.add("Set-Cookie", text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  jar.store(from, response, now);
  const std::string header =
      jar.header_for(from, request_context("POST", (data[1] & 0x80) != 0), now);
  if (header.find_first_of("\r\n") != std::string::npos) std::abort();
  if (header.size() + 8 >= jar.limits().max_header) std::abort();
  check_round_trip(jar);
  return 0;
}
