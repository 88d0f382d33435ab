#include "tests/fuzz/fixture.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace colend::fuzz {
namespace {

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "fuzz fixture: " << why << "\n";
  std::exit(2);
}

std::uint32_t U32(std::string_view bytes, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

void PutU32(std::string* out, std::size_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((n >> shift) & 0xff));
}

constexpr std::string_view kStateMagic = "colend-fuzz-state/v1\n";

Fixture* Load() {
  auto* f = new Fixture;
  const char* env = std::getenv("COLEND_FUZZ_FIXTURES");
  f->dir = env != nullptr && *env != '\0' ? env : COLEND_FUZZ_FIXTURES;
  auto genesis = genesis::ParseGenesis(ReadFileOrDie(f->dir + "/genesis.json"));
  if (!genesis.ok()) Die("genesis.json: " + genesis.error().ToString());
  f->genesis = std::move(genesis).value();
  for (const auto& member : f->genesis.members) {
    auto key = crypto::PrivateKey::FromPem(ReadFileOrDie(f->dir + "/keys/" + member.id + ".pem"),
                                           f->genesis.suite);
    if (!key.ok()) Die("keys/" + member.id + ".pem: " + key.error().ToString());
    f->keys.emplace(member.id, std::move(key).value());
  }
  const std::string state = ReadFileOrDie(f->dir + "/state.bin");
  if (!state.starts_with(kStateMagic)) Die("state.bin: bad magic");
  contracts::StateWrites writes;
  for (std::size_t at = kStateMagic.size(); at < state.size();) {
    std::string part[2];
    for (auto& p : part) {
      if (state.size() - at < 4) Die("state.bin: truncated");
      const std::uint32_t n = U32(state, at);
      at += 4;
      if (state.size() - at < n) Die("state.bin: truncated");
      p = state.substr(at, n);
      at += n;
    }
    writes[part[0]] = part[1];
  }
  f->state.Apply(writes);
  std::istringstream clock(ReadFileOrDie(f->dir + "/clock.txt"));
  std::string key;
  if (!(clock >> key >> f->block1_time_ms) || key != "block1-time-ms:") Die("clock.txt malformed");
  f->ca_fingerprint_hex = crypto::ToHex(f->genesis.ca_certificate.Fingerprint());
  return f;
}

}  // namespace

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path + " (run from the source tree, or set COLEND_FUZZ_FIXTURES)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const Fixture& GetFixture() {
  static const Fixture* fixture = Load();
  return *fixture;
}

std::string EncodeState(const contracts::StateTree& state) {
  std::string out(kStateMagic);
  for (const auto& [key, value] : state.Scan("", ~std::size_t{0})) {
    PutU32(&out, key.size());
    out += key;
    PutU32(&out, value.size());
    out += value;
  }
  return out;
}

bool Verbose() {
  static const bool verbose = std::getenv("COLEND_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

const std::string& ProcessTempDir() {
  static const std::string* dir = [] {
    auto* path = new std::string((std::filesystem::temp_directory_path() /
                                  ("colend-fuzz-" + std::to_string(::getpid())))
                                     .string());
    std::filesystem::remove_all(*path);
    std::filesystem::create_directories(*path);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                      ("colend-fuzz-" + std::to_string(::getpid())),
                                  ignored);
    });
    return path;
  }();
  return *dir;
}

}  // namespace colend::fuzz
