// The evidence bundle reader, as colend-verify runs it on a bundle it was handed: an input that
// starts with "PK" is a ZIP archive (evidence::ReadZipFromMemory, the in-memory twin of ReadZip);
// any other input is the bundle's entries in a framed form that mutates better than a ZIP
// ("==> <name>\n<bytes>" per entry, entries joined by "\n"; names checked as ReadZip checks them).
// The entries then go through evidence::VerifyBundle with the fixture CA's fingerprint as the
// trusted root, so a seed bundle passes the trust check and reaches every text parser behind it
// (bundle.txt, block headers, rounds, endorsements, inclusion and state proofs, transactions,
// receipts, loan records, membership documents, events, documents). Inputs of odd length also
// pin the fixture's genesis hash.
//
// Properties: ReadZipFromMemory fails only with its documented codes, and what it returns has
// valid, unique names; VerifyBundle never throws and reports at least one check, each with a
// name and a detail; everything colend-verify shows (check names, details, the ZIP error) is
// well-formed UTF-8 without control characters (evidence::Printable), so `--json` (strict
// nlohmann::json::dump) cannot throw and no escape sequence reaches the arbitrator's terminal;
// Printable itself is idempotent and yields such text for any input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "tests/fuzz/fixture.h"
#include "tools/evidence/bundle_verifier.h"
#include "tools/evidence/zip_archive.h"

namespace {

using namespace colend;  // NOLINT
using Files = std::map<std::string, std::string>;

constexpr std::string_view kMark = "==> ";

// The framed form; false if it is not one (a bad or repeated name).
bool ParseFramed(std::string_view in, Files* files, std::string* first) {
  if (!in.starts_with(kMark)) return false;
  const std::string separator = "\n" + std::string(kMark);
  in.remove_prefix(kMark.size());
  while (true) {
    const std::size_t next = in.find(separator);
    const std::string_view piece = in.substr(0, next);  // "<name>\n<bytes>" or "<name>"
    const std::size_t eol = piece.find('\n');
    const std::string name(piece.substr(0, eol));
    const std::string_view bytes =
        eol == std::string_view::npos ? std::string_view() : piece.substr(eol + 1);
    if (!evidence::CheckEntryName(name).ok()) return false;
    if (files->empty()) *first = name;
    if (!files->emplace(name, std::string(bytes)).second) return false;
    if (next == std::string_view::npos) return true;
    in.remove_prefix(next + separator.size());
  }
}

// What colend-verify shows of a bundle: well-formed UTF-8 (strict nlohmann::json::dump, as its
// --json output does, accepts it) without control characters, and Printable leaves it alone.
void CheckShown(const std::string& text) {
  for (char c : text) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  FUZZ_CHECK(evidence::Printable(text) == text);
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "not showable as JSON: %s\n", e.what());
    FUZZ_CHECK(false && "text shown by colend-verify is not valid UTF-8");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::GetFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckShown(evidence::Printable(input));
  Files files;
  std::string first;
  if (input.starts_with("PK")) {
    auto read = evidence::ReadZipFromMemory(input, &first);
    if (!read.ok()) {
      const std::string& code = read.error().code;
      FUZZ_CHECK(code == "bad-zip" || code == "bad-entry-name" || code == "zip-too-large");
      CheckShown(evidence::Printable(read.error().message));  // as verify_main.cc shows it
      return 0;
    }
    files = std::move(read).value();
    for (const auto& [name, bytes] : files) FUZZ_CHECK(evidence::CheckEntryName(name).ok());
    FUZZ_CHECK(first.empty() || files.count(first) == 1);
  } else if (!ParseFramed(input, &files, &first)) {
    return 0;
  }
  const fuzz::Fixture& f = fuzz::GetFixture();
  const std::string pinned = size % 2 == 1 ? crypto::ToHex(f.genesis.hash) : "";
  const auto lines = evidence::VerifyBundle(files, first, f.ca_fingerprint_hex, pinned);
  FUZZ_CHECK(!lines.empty());
  if (fuzz::Verbose()) {
    for (const auto& line : lines) {
      std::fprintf(stderr, "%s %s: %s\n", line.pass ? "PASS" : "FAIL", line.check.c_str(),
                   line.detail.c_str());
    }
  }
  for (const auto& line : lines) {
    FUZZ_CHECK(!line.check.empty() && !line.detail.empty());
    CheckShown(line.check);
    CheckShown(line.detail);
  }
  return 0;
}
