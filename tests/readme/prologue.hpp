// What the README's statement blocks (marked wrap=coroutine) take as given: all of
// opensock and the Asio pieces its prose assumes, included before each such block.
#pragma once

#include <opensock/opensock.hpp>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
