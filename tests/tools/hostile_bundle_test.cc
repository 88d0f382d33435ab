// Hostile bundles found by fuzzing (tests/fuzz/fuzz_bundle.cc), kept as regression tests:
//   - declared-2gb-entry.zip: 247 bytes whose central directory declares a 2,000,000,000-byte
//     entry; reading it once allocated the declared size. It must be refused (the entry's data is
//     not there) with memory that follows the bytes actually decompressed.
//   - bad-utf8-loan.zip: a bundle.txt whose loan id is the bytes FF FE. Quoted as they were, they
//     made `colend-verify --json` abort (strict UTF-8 in the JSON writer) and could carry terminal
//     escape sequences; every detail the verifier reports must be printable UTF-8.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tools/evidence/bundle_verifier.h"
#include "tools/evidence/zip_archive.h"

namespace colend::evidence {
namespace {

std::string Data(const std::string& name) {
  return std::string(COLEND_SOURCE_DIR) + "/tests/tools/data/" + name;
}

bool PrintableUtf8(const std::string& text) {
  // Valid JSON output and no C0/DEL controls (C1 controls are two-byte UTF-8 sequences C2 80-9F).
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return false;
    }
  }
  try {
    (void)nlohmann::json(text).dump();  // throws on invalid UTF-8
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

TEST(HostileBundle, AnEntryThatLiesAboutItsSizeIsRefused) {
  std::string first;
  auto files = ReadZip(Data("declared-2gb-entry.zip"), &first);
  ASSERT_FALSE(files.ok());
  EXPECT_FALSE(files.error().code.empty());
}

TEST(HostileBundle, EveryReportedDetailIsPrintableUtf8) {
  std::string first;
  auto files = ReadZip(Data("bad-utf8-loan.zip"), &first);
  ASSERT_TRUE(files.ok()) << files.error().ToString();
  const auto lines = VerifyBundle(*files, first, std::string(64, 'a'));
  ASSERT_FALSE(lines.empty());
  bool failed = false;
  for (const CheckLine& line : lines) {
    failed = failed || !line.pass;
    EXPECT_TRUE(PrintableUtf8(line.check)) << line.check;
    EXPECT_TRUE(PrintableUtf8(line.detail)) << line.detail;
  }
  EXPECT_TRUE(failed) << "a hostile bundle verified";
  EXPECT_EQ(Printable("a\x1b[2Jb\xff\xfe"), "a?[2Jb??");
}

}  // namespace
}  // namespace colend::evidence
