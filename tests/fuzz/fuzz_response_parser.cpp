// libFuzzer target for the response parser: no input may crash it, and feeding the same
// bytes whole, in two pieces, or one byte at a time must give the same result.
#include "parse_in_pieces.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses where the two-piece feed cuts.
  const std::size_t cut = data[0] % size;
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto whole = opensock::fuzz::parse_in_pieces(wire, {});
  const auto halves = opensock::fuzz::parse_in_pieces(wire, {std::min(cut, wire.size())});
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  const auto bytewise = opensock::fuzz::parse_in_pieces(wire, every);
  if (!(whole.error == halves.error && whole.body == halves.body && whole.done == halves.done))
    std::abort();
  if (!(whole.error == bytewise.error && whole.body == bytewise.body)) std::abort();
  return 0;
}
