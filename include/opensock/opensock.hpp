// Everything opensock offers, in one include. A user who needs one part includes its
// own header instead and compiles less.
#pragma once

#include <opensock/cidr.hpp>
#include <opensock/connect_only.hpp>
#include <opensock/connector/connect.hpp>
#include <opensock/connector/connect_options.hpp>
#include <opensock/connector/connect_origin.hpp>
#include <opensock/connector/happy_eyeballs.hpp>
#include <opensock/connector/name_overrides.hpp>
#include <opensock/connector/open.hpp>
#include <opensock/connector/resolve.hpp>
#include <opensock/error.hpp>
#include <opensock/factory/address_filter.hpp>
#include <opensock/factory/bind.hpp>
#include <opensock/factory/c_callback.hpp>
#include <opensock/factory/layer.hpp>
#include <opensock/factory/redirect.hpp>
#include <opensock/factory/socket_options.hpp>
#include <opensock/factory/ssrf_guard.hpp>
#include <opensock/factory/trace.hpp>
#include <opensock/factory/unix_socket.hpp>
#include <opensock/factory/with_close.hpp>
#include <opensock/format.hpp>
#include <opensock/http/exchange.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/redirect.hpp>
#include <opensock/http/request.hpp>
#include <opensock/http/response.hpp>
#include <opensock/http/response_parser.hpp>
#include <opensock/http/serializer.hpp>
#include <opensock/http/session.hpp>
#include <opensock/http/url.hpp>
#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/origin.hpp>
#include <opensock/socket_factory.hpp>
