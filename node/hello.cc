// The peer hello (hello.h).
#include "node/hello.h"

#include <utility>

namespace colend::node {

std::string EncodeHello(const std::string& genesis_hex, const std::string& member) {
  return std::string(kHelloMagic) + "genesis: " + genesis_hex + "\nmember: " + member + "\n";
}

std::optional<Hello> ParseHello(std::string_view frame) {
  if (!frame.starts_with(kHelloMagic)) return std::nullopt;
  frame.remove_prefix(kHelloMagic.size());
  auto take_line = [&frame](std::string_view key) -> std::optional<std::string> {
    if (!frame.starts_with(key)) return std::nullopt;
    const std::size_t end = frame.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string value(frame.substr(key.size(), end - key.size()));
    frame.remove_prefix(end + 1);
    return value;
  };
  Hello hello;
  auto genesis = take_line("genesis: ");
  if (!genesis) return std::nullopt;
  auto member = take_line("member: ");
  if (!member || !frame.empty()) return std::nullopt;
  hello.genesis_hex = std::move(*genesis);
  hello.member = std::move(*member);
  return hello;
}

}  // namespace colend::node
