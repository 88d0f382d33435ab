// The peer hello (node/hello.h), the first frame each side sends after TLS. Properties: an
// accepted frame is canonical (exactly EncodeHello of what it parsed to) and neither value holds
// a line feed; EncodeHello of any two values without a line feed parses back to them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "node/hello.h"
#include "tests/fuzz/fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace colend::node;  // NOLINT
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto hello = ParseHello(frame);
  if (hello) {
    FUZZ_CHECK(hello->genesis_hex.find('\n') == std::string::npos);
    FUZZ_CHECK(hello->member.find('\n') == std::string::npos);
    FUZZ_CHECK(EncodeHello(hello->genesis_hex, hello->member) == frame);
  }
  // The other direction: split the input into two values and encode them.
  const std::size_t cut = size / 2;
  std::string genesis(frame.substr(0, cut)), member(frame.substr(cut));
  if (genesis.find('\n') == std::string::npos && member.find('\n') == std::string::npos) {
    const auto back = ParseHello(EncodeHello(genesis, member));
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->genesis_hex == genesis && back->member == member);
  }
  return 0;
}
