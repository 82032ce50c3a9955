// libFuzzer target for the chunked decoder: the input is a chunked body after a fixed
// header; no input may crash the decoder, and every split must decode the same.
#include "parse_in_pieces.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  wire.append(reinterpret_cast<const char*>(data), size);
  const auto whole = opensock::fuzz::parse_in_pieces(wire, {});
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  const auto bytewise = opensock::fuzz::parse_in_pieces(wire, every);
  if (!(whole.error == bytewise.error && whole.body == bytewise.body)) std::abort();
  if (whole.done && whole.error) std::abort();
  return 0;
}
