// The hosts a request reaches without its proxies, written as curl reads --noproxy and
// NO_PROXY: "*" for every host, or a list separated by commas (blanks around them
// allowed) of names, each matching itself and the names under it, and of IP addresses
// and CIDR ranges, matching the IP literals they hold. A name never matches an IP
// literal, nor an address a name: nothing is resolved to decide.
#pragma once

#include <opensock/cidr.hpp>
#include <opensock/detail/same_text.hpp>

#include <asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace opensock {

class no_proxy_list {
 public:
  /// Matches no host.
  no_proxy_list() = default;

  /// Reads the list as curl does: blanks before and after each entry are passed over,
  /// runs of commas separate entries, and anything else after an entry ends the list.
  /// A name's leading and trailing dot are ignored.
  explicit no_proxy_list(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    if (text == "*") {
      everything_ = true;
      return;
    }
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && blank(text[i])) ++i;
      const std::size_t start = i;
      while (i < text.size() && !blank(text[i]) && text[i] != ',') ++i;
      add(text.substr(start, i - start));
      while (i < text.size() && blank(text[i])) ++i;
      if (i == text.size() || text[i] != ',') break;
      while (i < text.size() && text[i] == ',') ++i;
    }
  }

  /// Whether `host` (a name, or an IP literal, IPv6 with or without its brackets) is
  /// reached without proxies. A name's trailing dot is ignored.
  bool matches(std::string_view host) const {
    if (everything_) return true;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      for (const cidr& network : networks_)
        if (network.contains(address)) return true;
      return false;
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    for (const std::string& name : names_) {
      if (name.size() > host.size()) continue;
      const std::string_view tail = host.substr(host.size() - name.size());
      if (detail::iequals_ascii(tail, name) &&
          (tail.size() == host.size() || host[host.size() - name.size() - 1] == '.'))
        return true;
    }
    return false;
  }

  /// Whether the list matches no host at all.
  bool empty() const noexcept { return !everything_ && names_.empty() && networks_.empty(); }

 private:
  void add(std::string_view entry) {
    if (entry.empty()) return;
    if (auto network = cidr::parse(entry)) {
      networks_.push_back(*network);
      return;
    }
    if (entry.back() == '.') entry.remove_suffix(1);
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (!entry.empty()) names_.emplace_back(entry);
  }

  bool everything_ = false;
  std::vector<std::string> names_;
  std::vector<cidr> networks_;
};

}  // namespace opensock
