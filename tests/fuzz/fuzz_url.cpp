// libFuzzer target for the URL parser: no input may crash it, and a URL it accepts must
// write back to one it parses to the same parts.
#include <opensock/http/url.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::error_code ec;
  const auto u = opensock::http::url::parse(text, ec);
  if (ec) return 0;
  if (u.path.empty() || u.path.front() != '/') std::abort();
  std::error_code again_ec;
  const auto again = opensock::http::url::parse(u.to_string(), again_ec);
  if (again_ec || again.host != u.host || again.port != u.port || again.target() != u.target() ||
      again.scheme != u.scheme)
    std::abort();
  return 0;
}
