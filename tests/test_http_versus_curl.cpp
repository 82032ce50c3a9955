// The same scripted responses fetched by the real curl tool and by http::session: the
// status, the body bytes and the error number must agree with curl's, except where
// opensock is stricter on purpose (README: "Where opensock differs from curl").
#include <opensock/http/session.hpp>

#include "support/catch.hpp"
#include "support/http_request.hpp"
#include "support/scripted_http_server.hpp"
#include "support/session_request.hpp"

#include <asio/io_context.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <thread>

using opensock::test::make_request;
using opensock::test::scripted_http_server;

namespace {

struct scenario {
  const char* name;
  std::string reply;
  /// opensock's exit number where it differs from curl's on purpose.
  std::optional<int> stricter = std::nullopt;
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

const std::string big_body = [] {
  std::string s(1 << 20, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}();

const scenario scenarios[] = {
    {"Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
    {"zero Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {"chunked with extensions and trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n00A\r\n0123456789\r\n"
     "0\r\nX-Trailer: yes\r\n\r\n"},
    {"chunked in upper-case hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1F\r\n" +
                                      repeat('z', 31) + "\r\n0\r\n\r\n"},
    {"body until the close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"},
    {"HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nold style"},
    {"HTTP/1.0 with a length", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold"},
    {"a status line without a reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"},
    {"100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
    {"103 Early Hints first",
     "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!"},
    {"204 ignores a Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"},
    {"304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"},
    {"404 with a body", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n"},
    {"500 with a body", "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops"},
    {"bare LF line endings", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"},
    {"an obs-fold header", "HTTP/1.1 200 OK\r\nX-Long: one\r\n two\r\nContent-Length: 2\r\n\r\nok"},
    {"Transfer-Encoding wins over Content-Length",
     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
    {"equal Content-Length twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
    {"bytes past the Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"},
    {"a 1 MiB body", "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + big_body},
    {"a 1 MiB chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" +
                                 big_body + "\r\n0\r\n\r\n"},
    {"HTTP/1.2", "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"},
    {"a four-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok"},
    {"not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n"},
    {"a header without a colon", "HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\nok"},
    {"a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok"},
    {"a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nok\r\n0\r\n\r\n"},
    {"a body shorter than its length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"},
    {"a large body cut short",
     "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + big_body.substr(0, 300000)},
    {"a chunked body cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort"},
    {"a chunked body without its last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n"},
    {"nothing at all", std::string(scripted_http_server::hang_up)},
    // curl 7.88 runs out of its line buffer (27); newer curl names the limit (100).
    {"a header line over 100 KiB",
     "HTTP/1.1 200 OK\r\nX-Huge: " + repeat('h', 110 * 1024) + "\r\nContent-Length: 2\r\n\r\nok",
     100},
    {"headers over 300 KiB",
     [] {
       std::string r = "HTTP/1.1 200 OK\r\n";
       for (int i = 0; i < 40; ++i) r += "X-Filler-" + std::to_string(i) + ": " + repeat('f', 9000) + "\r\n";
       return r + "Content-Length: 2\r\n\r\nok";
     }()},
    // curl takes the last of two different lengths; a reply that could desynchronise a
    // connection is an error in opensock (RFC 9112 §6.3).
    {"two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
     8},
    // curl accepts a head the close cut off and reports success with no body.
    {"a head cut by the close", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", 8},
};

struct outcome {
  int exit_code = -1;
  int status = 0;
  std::string body;
};

outcome fetch_with_curl(const std::string& url) {
  const auto out = std::filesystem::temp_directory_path() /
                   ("opensock-versus-curl-" + std::to_string(::getpid()) + ".body");
  std::filesystem::remove(out);
  const std::string command =
      "curl -s --max-time 10 -o '" + out.string() + "' -w '%{http_code}' '" + url + "'";
  outcome result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 64> text{};
  const std::size_t n = std::fread(text.data(), 1, text.size() - 1, pipe);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.status = std::atoi(std::string(text.data(), n).c_str());
  std::ifstream file(out, std::ios::binary);
  result.body.assign(std::istreambuf_iterator<char>(file), {});
  std::filesystem::remove(out);
  return result;
}

}  // namespace

TEST_CASE("status, body and error number agree with curl's on scripted replies") {
  std::set<int> curl_exits;
  for (const auto& s : scenarios) {
    INFO("scenario: " << s.name);
    asio::io_context io;
    // One request per connection: the server closes after its reply, as some do.
    scripted_http_server server(io, s.reply, 1);
    const std::string url = server.url("/");

    // curl runs while this thread serves it.
    outcome theirs;
    std::atomic<bool> curl_done = false;
    std::thread curl([&] {
      theirs = fetch_with_curl(url);
      curl_done = true;
    });
    while (!curl_done) io.run_for(std::chrono::milliseconds(10));
    curl.join();
    curl_exits.insert(theirs.exit_code);

    opensock::http::session session(io.get_executor());
    auto [ec, r] = opensock::test::request(io, session, make_request("GET", url));
    const int ours = ec ? opensock::curl_code(ec) : 0;
    CHECK(ours == s.stricter.value_or(theirs.exit_code));
    if (!ec && theirs.exit_code == 0) {
      CHECK(r.status == theirs.status);
      CHECK(r.body == theirs.body);
    }
  }
  // The scenarios reach curl's errors for bad replies, not only successes.
  CHECK(curl_exits == std::set<int>{0, 1, 8, 18, 27, 52, 56});
}
