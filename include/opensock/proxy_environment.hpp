// The proxies the environment names, read as curl reads them: for a URL of scheme S,
// `S_proxy`, or `S_PROXY` when S is not http (a CGI program's HTTP_PROXY can come from a
// request's Proxy header); without either, `all_proxy` or `ALL_PROXY`. The hosts reached
// without them come from `no_proxy` or `NO_PROXY`. A variable set empty counts as not
// set, as in curl.
#pragma once

#include <opensock/no_proxy.hpp>
#include <opensock/proxy.hpp>

#include <array>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace opensock {

class proxy_environment {
 public:
  /// A variable's value, or nullopt when it is not set.
  using lookup = std::function<std::optional<std::string>(const std::string&)>;

  /// Names no proxy.
  proxy_environment() = default;

  /// Reads the process's environment (std::getenv).
  static proxy_environment read() {
    return read([](const std::string& name) -> std::optional<std::string> {
      const char* value = std::getenv(name.c_str());
      return value ? std::optional<std::string>(value) : std::nullopt;
    });
  }

  /// Reads the variables `get` gives, for the schemes opensock speaks (http, https, ws,
  /// wss).
  static proxy_environment read(const lookup& get) {
    proxy_environment out;
    const auto all = first_of(get, "all_proxy", "ALL_PROXY");
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      const std::string lower = std::string(schemes[i]) + "_proxy";
      std::string upper;
      for (const char c : lower) upper += c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
      auto text = schemes[i] == "http" ? value_of(get, lower) : first_of(get, lower, upper);
      if (!text) text = all;
      if (text) out.chains_[i] = chain_of(*text);
    }
    if (auto text = first_of(get, "no_proxy", "NO_PROXY")) out.no_proxy = no_proxy_list(*text);
    return out;
  }

  /// The proxies a request to `scheme` passes (none, or the one named); `ec` set when
  /// the variable that names it does not parse, with proxy::parse()'s code.
  std::span<const proxy> proxies_for(std::string_view scheme, std::error_code& ec) const {
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      if (scheme != schemes[i]) continue;
      ec = chains_[i].error;
      return chains_[i].proxies;
    }
    return {};
  }

  /// Applies `edit` to every proxy named, to give them credentials or connect_headers.
  template <class Edit>
  void for_each_proxy(Edit edit) {
    for (auto& c : chains_)
      for (auto& p : c.proxies) edit(p);
  }

  /// NO_PROXY's hosts.
  no_proxy_list no_proxy;

 private:
  struct chain {
    std::vector<proxy> proxies;
    std::error_code error;
  };

  static constexpr std::array<std::string_view, 4> schemes = {"http", "https", "ws", "wss"};

  // A variable's value; one set empty counts as not set, as curl_getenv() has it.
  static std::optional<std::string> value_of(const lookup& get, const std::string& name) {
    auto value = get(name);
    if (value && value->empty()) value.reset();
    return value;
  }

  static std::optional<std::string> first_of(const lookup& get, const std::string& a,
                                             const std::string& b) {
    auto value = value_of(get, a);
    return value ? value : value_of(get, b);
  }

  static chain chain_of(const std::string& text) {
    chain out;
    if (auto parsed = proxy::parse(text, out.error)) out.proxies.push_back(std::move(*parsed));
    return out;
  }

  std::array<chain, schemes.size()> chains_;
};

}  // namespace opensock
