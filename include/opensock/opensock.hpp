// Everything opensock offers, in one include. A user who needs one part includes its
// own header instead and compiles less.
#pragma once

#include <opensock/connect_only.hpp>
#include <opensock/connector/connect.hpp>
#include <opensock/connector/open.hpp>
#include <opensock/connector/resolve.hpp>
#include <opensock/error.hpp>
#include <opensock/factory/c_callback.hpp>
#include <opensock/factory/with_close.hpp>
#include <opensock/format.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>
