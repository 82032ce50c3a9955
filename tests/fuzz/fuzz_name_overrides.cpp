// libFuzzer target for curl's name options, --resolve and --connect-to: the input is
// lines, each an entry of either (`R` or `C` first) or a name to resolve without a
// lookup (`HOST:PORT`); `4`, `6` or `A` alone choose the IP version. No input may crash
// the parsers, an entry parsed must apply to its own name and port, and what a name
// resolves to must agree with the options: the fast path for IP literals gives what
// the general one gives, every endpoint carries the port the options lead to, and an
// endpoint not given by --resolve is of the chosen version.
#include <opensock/connector/name_overrides.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace opensock;

bool has_bracket(std::string_view host) { return host.find('[') != std::string_view::npos; }

void check_resolve_entry(const resolve_override& entry) {
  if (entry.host.empty() || entry.addresses.empty()) std::abort();
  if (entry.host == "*" || has_bracket(entry.host)) return;
  resolve_options alone;
  alone.overrides.push_back(entry);
  const std::uint16_t port = entry.port.value_or(80);
  const auto found = resolve_without_lookup(entry.host, port, alone);
  if (!found || found->error || found->endpoints.size() != entry.addresses.size()) std::abort();
  for (std::size_t i = 0; i < entry.addresses.size(); ++i) {
    if (found->endpoints[i] != asio::ip::tcp::endpoint(entry.addresses[i], port)) std::abort();
  }
}

void check_connect_to_rule(const connect_to_rule& rule) {
  if (rule.host.empty() || has_bracket(rule.host)) return;
  resolve_options alone;
  alone.connect_to.push_back(rule);
  const std::uint16_t port = rule.port.value_or(80);
  const network_target target = apply_connect_to(alone, rule.host, port);
  const std::string_view to_host = rule.to_host.empty() ? rule.host : rule.to_host;
  if (target.host != to_host || target.port != rule.to_port.value_or(port)) std::abort();
}

void check_resolve(const resolve_options& options, std::string_view query) {
  const auto colon = query.rfind(':');
  if (colon == std::string_view::npos) return;
  const auto port = detail::parse_port(query.substr(colon + 1));
  if (!port) return;
  const std::string_view host = query.substr(0, colon);
  const auto found = resolve_without_lookup(host, *port, options);
  const auto literal = literal_endpoint(host, *port, options);
  if (literal && (!found || found->error || found->endpoints.size() != 1 ||
                  found->endpoints[0] != *literal))
    std::abort();
  if (!found || found->error) return;
  const network_target target = apply_connect_to(options, host, *port);
  const bool given = best_override(options, target.host, target.port) != nullptr;
  if (found->endpoints.empty()) std::abort();
  for (const auto& endpoint : found->endpoints) {
    if (endpoint.port() != target.port) std::abort();
    if (!given && !is_version(endpoint.address(), options.version)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  resolve_options options;
  while (!input.empty()) {
    const auto newline = input.find('\n');
    const std::string_view line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    if (line == "4" || line == "6" || line == "A") {
      options.version = line == "4" ? ip_version::v4 : line == "6" ? ip_version::v6 : ip_version::any;
    } else if (!line.empty() && line.front() == 'R') {
      if (auto entry = resolve_override::parse(line.substr(1))) {
        check_resolve_entry(*entry);
        options.overrides.push_back(std::move(*entry));
      }
    } else if (!line.empty() && line.front() == 'C') {
      if (auto rule = connect_to_rule::parse(line.substr(1))) {
        check_connect_to_rule(*rule);
        options.connect_to.push_back(std::move(*rule));
      }
    } else {
      check_resolve(options, line);
    }
  }
  return 0;
}
