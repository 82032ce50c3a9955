// A factory that returns, bare, a stream opensock has no way to connect; wrapped in
// opensock::connected() it is fine.
#include <opensock/connect_only.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>

struct pipe_end {
  asio::any_io_executor executor;
  asio::any_io_executor get_executor() const { return executor; }
};

int main() {
  asio::io_context io;
  auto factory = [](opensock::open_context<asio::ip::tcp>& context) {
#ifdef OPENSOCK_COMPILE_FAIL_CONTROL
    return opensock::connected(pipe_end{context.executor});
#else
    return pipe_end{context.executor};
#endif
  };
  opensock::connect_only_session session(io.get_executor(), factory);
  return session.is_connected() ? 1 : 0;
}
