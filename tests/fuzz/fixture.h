// What the fuzz targets share: the fixture chain of tests/fuzz/fixtures/ (a genesis file, the
// members' test-only signing keys and the contract state after a short chain, all made by
// make_corpus.cc together with the seed corpus), loaded once per process, and small helpers.
//
// The seeds in tests/fuzz/corpus/ are signed by these keys and certified by this genesis, so the
// targets can accept them and reach the code behind the signature checks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "contracts/state.h"
#include "crypto/signature.h"
#include "genesis/genesis.h"

// A property of a target failed: print it and abort, so libFuzzer saves the input as a crash.
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace colend::fuzz {

struct Fixture {
  std::string dir;  // the fixtures directory
  genesis::Genesis genesis;
  std::map<std::string, crypto::PrivateKey> keys;  // member id -> signing key (test-only)
  contracts::StateTree state;                      // after the fixture chain (state.bin)
  std::int64_t block1_time_ms = 0;                 // timestamp of the seeds' block 1
  std::string ca_fingerprint_hex;                  // of the genesis file's CA
};

// Loads tests/fuzz/fixtures (or $COLEND_FUZZ_FIXTURES) on first use; exits if it cannot.
const Fixture& GetFixture();

std::string ReadFileOrDie(const std::string& path);

// state.bin: "colend-fuzz-state/v1\n", then per entry u32be key length, key, u32be value
// length, value, in key order.
std::string EncodeState(const contracts::StateTree& state);

// COLEND_FUZZ_VERBOSE is set: targets print what they reached (for checking seeds by hand).
bool Verbose();

// A private temporary directory for this process (removed at exit).
const std::string& ProcessTempDir();

}  // namespace colend::fuzz
