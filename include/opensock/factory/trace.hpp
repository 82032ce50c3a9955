// A factory layer that writes one line per socket event through fmt: each attempt with
// its address and the factory's answer, and each close. For logs and debugging.
#pragma once

#include <opensock/factory/layer.hpp>
#include <opensock/format.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace opensock {

class trace_layer : public layer_base {
 public:
  using sink = std::function<void(std::string_view line)>;

  explicit trace_layer(sink write) : write_(std::move(write)) {}

  template <class Context, class Result>
  layer_verdict after(const Context& context, const Result& result) const {
    using kind = typename Result::kind;
    std::string answer;
    switch (result.what()) {
      case kind::opened: answer = "opened"; break;
      case kind::connected: answer = "already connected"; break;
      case kind::refused: answer = fmt::format("refused: {}", result.error()); break;
      case kind::aborted: answer = fmt::format("aborted: {}", result.error()); break;
    }
    write_(fmt::format("* attempt {} to {} for {}:{} ({}): {}", context.attempt, context.endpoint,
                       context.host, context.port, context.purpose, answer));
    return proceed;
  }

  template <class Stream>
  void close(Stream& stream) const {
    if constexpr (requires { stream.native_handle(); }) {
      write_(fmt::format("* closing socket {}", stream.native_handle()));
    } else {
      write_("* closing stream");
    }
  }

 private:
  sink write_;
};

/// Traces to `write`, a callable taking each line (without a newline).
inline trace_layer trace(trace_layer::sink write) { return trace_layer(std::move(write)); }

/// Traces to stderr.
inline trace_layer trace() {
  return trace_layer([](std::string_view line) { fmt::print(stderr, "{}\n", line); });
}

}  // namespace opensock
