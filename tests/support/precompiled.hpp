// What most test files include, parsed once per clang build into a precompiled header
// that every test's compile reuses (tests/CMakeLists.txt says why not with g++): Catch2,
// Asio, the whole of opensock and the tests' common helpers. That each public header
// compiles on its own is checked apart (OPENSOCK_CHECK_HEADERS).
#pragma once

#include <opensock/opensock.hpp>

#include "catch.hpp"
#include "compiled_sessions.hpp"
#include "http_request.hpp"
#include "loopback_listener.hpp"
#include "nginx.hpp"
#include "run.hpp"
#include "scripted_http_server.hpp"
#include "session_request.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
