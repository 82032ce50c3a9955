// Runs one request through an http::session to completion and gives back the error and
// the response.
#pragma once

#include "run.hpp"

#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/transfer_hooks.hpp>

#include <asio/io_context.hpp>

#include <chrono>
#include <system_error>
#include <utility>

namespace opensock::test {

template <class Session>
std::pair<std::error_code, http::response> request(asio::io_context& io, Session& session,
                                                   http::request req,
                                                   http::transfer_hooks hooks = {}) {
  std::pair<std::error_code, http::response> out;
  bool done = false;
  session.async_request(std::move(req), std::move(hooks),
                        [&](std::error_code ec, http::response r) {
                          out = {ec, std::move(r)};
                          done = true;
                          io.stop();
                        });
  run_until(io, done, std::chrono::seconds(10));
  return out;
}

}  // namespace opensock::test
