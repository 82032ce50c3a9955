// Runs a README block (its readme_entry(), which tests/readme/extract.py writes) against
// an HTTP server on loopback at the port the README's examples name. The block passes
// when it finishes without an exception and the server accepted a connection from it;
// the program exits with 77, which the test reads as skipped, when the port is taken.
//   readme_N_heading [PORT]
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/completion_condition.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

asio::awaitable<void> readme_entry(asio::io_context& io);

namespace {

constexpr std::chrono::seconds deadline{20};

struct server_log {
  int connections = 0;
  int requests = 0;
};

// The Content-Length of a request head; 0 without one. The README's requests carry
// their bodies with one (a chunked body would be taken for the next request's head).
std::size_t content_length(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  auto value = std::string_view(lower).substr(at + 17);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  std::size_t length = 0;
  std::from_chars(value.data(), value.data() + value.size(), length);
  return length;
}

// Answers each request on the connection with 200 and a short body, until it closes.
asio::awaitable<void> answer(asio::ip::tcp::socket peer, server_log& log) {
  static constexpr std::string_view reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
  std::string in;
  std::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  for (;;) {
    const auto head_size =
        co_await asio::async_read_until(peer, asio::dynamic_buffer(in), "\r\n\r\n", token);
    if (ec) co_return;
    const std::string head = in.substr(0, head_size);
    const auto length = content_length(head);
    if (in.size() < head_size + length)
      co_await asio::async_read(peer, asio::dynamic_buffer(in),
                                asio::transfer_exactly(head_size + length - in.size()), token);
    if (ec) co_return;
    ++log.requests;
    std::printf("request %d:\n%s%s\n", log.requests, head.c_str(),
                in.substr(head_size, length).c_str());
    in.erase(0, head_size + length);
    co_await asio::async_write(peer, asio::buffer(reply), token);
    if (ec) co_return;
  }
}

asio::awaitable<void> serve(asio::ip::tcp::acceptor& acceptor, server_log& log) {
  for (;;) {
    std::error_code ec;
    auto peer = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    ++log.connections;
    std::printf("connection %d from %s\n", log.connections,
                peer.remote_endpoint(ec).address().to_string().c_str());
    asio::co_spawn(acceptor.get_executor(), answer(std::move(peer), log), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<asio::ip::port_type>(argc > 1 ? std::atoi(argv[1]) : 8080);
  server_log log;
  asio::io_context io;

  // 127.0.0.1 and ::1, as "localhost" reaches both; without an IPv6 loopback the
  // block's attempts to ::1 fail at once and 127.0.0.1 is reached.
  std::vector<asio::ip::tcp::acceptor> acceptors;
  for (const char* address : {"127.0.0.1", "::1"}) {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address), port);
    asio::ip::tcp::acceptor acceptor(io);
    std::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec == asio::error::address_in_use) {
      std::printf("skipped: port %u on %s is taken\n", unsigned{port}, address);
      return 77;
    }
    if (ec && endpoint.address().is_v4()) {
      std::printf("cannot listen on %s port %u: %s\n", address, unsigned{port},
                  ec.message().c_str());
      return 1;
    }
    if (!ec) acceptors.push_back(std::move(acceptor));
  }
  for (auto& acceptor : acceptors) asio::co_spawn(io, serve(acceptor, log), asio::detached);

  bool done = false;
  std::exception_ptr thrown;
  asio::co_spawn(io, readme_entry(io), [&](std::exception_ptr e) {
    thrown = e;
    done = true;
    io.stop();
  });
  io.run_for(deadline);

  if (!done) {
    std::printf("the block did not finish within %lld s\n",
                static_cast<long long>(deadline.count()));
    return 1;
  }
  if (thrown) {
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      std::printf("the block threw: %s\n", e.what());
    } catch (...) {
      std::printf("the block threw something other than a std::exception\n");
    }
    return 1;
  }
  if (log.connections == 0) {
    std::printf("the block finished without connecting to port %u\n", unsigned{port});
    return 1;
  }
  std::printf("the block finished: %d connection(s), %d request(s)\n", log.connections,
              log.requests);
  return 0;
}
