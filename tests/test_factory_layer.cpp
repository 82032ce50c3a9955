#include <opensock/factory/layer.hpp>

#include "support/catch.hpp"
#include "support/loopback_listener.hpp"
#include "support/run.hpp"

#include <opensock/connect_only.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <vector>

using asio::ip::tcp;
using opensock::layer_verdict;
using opensock::open_context;
using opensock::open_result;
using opensock::test::loopback_listener;
using opensock::test::run_connect;

namespace {

// Writes what it sees into a shared log, to show the order layers run in.
struct logging_layer : opensock::layer_base {
  std::string name;
  std::vector<std::string>* log;
  layer_verdict before(open_context<tcp>&) const {
    log->push_back(name + ".before");
    return opensock::proceed;
  }
  layer_verdict after(open_context<tcp>&, open_result<tcp::socket>&) const {
    log->push_back(name + ".after");
    return opensock::proceed;
  }
  void close(tcp::socket&) const { log->push_back(name + ".close"); }
};

struct counting_base {
  std::vector<std::string>* log;
  open_result<tcp::socket> operator()(open_context<tcp>& context) const {
    log->push_back("factory");
    return opensock::default_socket_factory{}(context);
  }
  void close(tcp::socket& socket) const {
    log->push_back("factory.close");
    socket.close();
  }
};

}  // namespace

TEST_CASE("layers run outermost first, and close from the outside in") {
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> log;
  auto factory = counting_base{&log} | logging_layer{{}, "inner", &log} |
                 logging_layer{{}, "outer", &log};
  STATIC_REQUIRE(opensock::socket_factory<decltype(factory), tcp>);
  {
    opensock::connect_only_session session(io.get_executor(), factory);
    REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  }
  CHECK(log == std::vector<std::string>{"outer.before", "inner.before", "factory", "inner.after",
                                        "outer.after", "outer.close", "inner.close",
                                        "factory.close"});
}

TEST_CASE("a layer over a coroutine factory makes a coroutine factory") {
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> log;
  auto slow = [](open_context<tcp>& context) -> asio::awaitable<open_result<tcp::socket>> {
    asio::steady_timer timer(context.executor, std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
    co_return opensock::default_socket_factory{}(context);
  };
  auto factory = slow | logging_layer{{}, "layer", &log};
  STATIC_REQUIRE(opensock::is_coroutine_factory_v<decltype(factory), tcp>);
  opensock::connect_only_session session(io.get_executor(), factory);
  REQUIRE(!run_connect(io, session, {"127.0.0.1", server.port()}));
  CHECK(log == std::vector<std::string>{"layer.before", "layer.after"});
}

TEST_CASE("a refusal from after() closes the inner factory's socket through it") {
  asio::io_context io;
  loopback_listener server(io);
  std::vector<std::string> log;
  struct refuse_after : opensock::layer_base {
    layer_verdict after(open_context<tcp>&, open_result<tcp::socket>&) const {
      return opensock::refuse();
    }
  };
  opensock::connect_only_session session(io.get_executor(), counting_base{&log} | refuse_after{});
  CHECK(run_connect(io, session, {"127.0.0.1", server.port()}) ==
        opensock::error::refused_by_socket_factory);
  CHECK(log == std::vector<std::string>{"factory", "factory.close"});
}

TEST_CASE("an abort from before() means the inner factory is never asked") {
  asio::io_context io;
  std::vector<std::string> log;
  struct abort_before : opensock::layer_base {
    layer_verdict before(open_context<tcp>&) const {
      return opensock::abort(std::make_error_code(std::errc::permission_denied));
    }
  };
  opensock::connect_only_session session(io.get_executor(), counting_base{&log} | abort_before{});
  CHECK(run_connect(io, session, {"127.0.0.1", 1}) == std::errc::permission_denied);
  CHECK(log.empty());
}
