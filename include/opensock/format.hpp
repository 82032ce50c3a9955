// fmt formatters for what opensock reports: error codes and conditions (with their curl
// number), addresses and endpoints (IPv6 in brackets, abstract Unix names with '@'), purposes.
#pragma once

#include <opensock/error.hpp>
#include <opensock/open_context.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/basic_endpoint.hpp>
#include <asio/local/basic_endpoint.hpp>

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <system_error>

namespace opensock::detail {

// Formats into a small buffer, then pads and aligns it like a string.
struct padded_formatter : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto write(std::string_view text, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(text, ctx);
  }
};

}  // namespace opensock::detail

/// "Couldn't connect to server (curl error 7)" for opensock's errors,
/// "Connection refused [system:111]" for any other.
template <>
struct fmt::formatter<std::error_code> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(const std::error_code& ec, FormatContext& ctx) const {
    fmt::memory_buffer text;
    if (ec.category() == opensock::error_category()) {
      fmt::format_to(std::back_inserter(text), "{} (curl error {})", ec.message(),
                     opensock::curl_code(ec));
    } else {
      fmt::format_to(std::back_inserter(text), "{} [{}:{}]", ec.message(),
                     ec.category().name(), ec.value());
    }
    return write(std::string_view(text.data(), text.size()), ctx);
  }
};

template <>
struct fmt::formatter<opensock::error> : fmt::formatter<std::error_code> {
  template <class FormatContext>
  auto format(opensock::error e, FormatContext& ctx) const {
    return fmt::formatter<std::error_code>::format(make_error_code(e), ctx);
  }
};

/// "Couldn't connect to server (curl error 7)" for opensock's conditions,
/// "connection refused [generic:111]" for any other.
template <>
struct fmt::formatter<std::error_condition> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(const std::error_condition& condition, FormatContext& ctx) const {
    fmt::memory_buffer text;
    if (condition.category() == opensock::condition_category()) {
      fmt::format_to(std::back_inserter(text), "{} (curl error {})", condition.message(),
                     condition.value());
    } else {
      fmt::format_to(std::back_inserter(text), "{} [{}:{}]", condition.message(),
                     condition.category().name(), condition.value());
    }
    return write(std::string_view(text.data(), text.size()), ctx);
  }
};

template <>
struct fmt::formatter<opensock::condition> : fmt::formatter<std::error_condition> {
  template <class FormatContext>
  auto format(opensock::condition c, FormatContext& ctx) const {
    return fmt::formatter<std::error_condition>::format(make_error_condition(c), ctx);
  }
};

template <>
struct fmt::formatter<asio::ip::address> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(const asio::ip::address& address, FormatContext& ctx) const {
    return write(address.to_string(), ctx);
  }
};

template <>
struct fmt::formatter<asio::ip::address_v4> : fmt::formatter<asio::ip::address> {};
template <>
struct fmt::formatter<asio::ip::address_v6> : fmt::formatter<asio::ip::address> {};

/// "127.0.0.1:80" and "[::1]:80".
template <class Protocol>
struct fmt::formatter<asio::ip::basic_endpoint<Protocol>> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(const asio::ip::basic_endpoint<Protocol>& endpoint, FormatContext& ctx) const {
    const auto address = endpoint.address();
    const std::string text =
        address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                        : fmt::format("{}:{}", address.to_string(), endpoint.port());
    return write(text, ctx);
  }
};

/// A path, or "@name" for a Linux abstract socket (whose name starts with a NUL byte).
template <class Protocol>
struct fmt::formatter<asio::local::basic_endpoint<Protocol>> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(const asio::local::basic_endpoint<Protocol>& endpoint, FormatContext& ctx) const {
    std::string path = endpoint.path();
    if (!path.empty() && path.front() == '\0') path.front() = '@';
    return write(path, ctx);
  }
};

template <>
struct fmt::formatter<opensock::purpose> : opensock::detail::padded_formatter {
  template <class FormatContext>
  auto format(opensock::purpose p, FormatContext& ctx) const {
    return write(p == opensock::purpose::proxy ? "proxy" : "origin", ctx);
  }
};
