// colend-verify: checks an evidence bundle offline (docs/evidence-bundle.md). Standalone: the
// project's crypto module, OpenSSL and libzip; no node, no network, no default trust.
//
//   colend-verify BUNDLE.zip --root-sha256 FP [--json]
//
// Prints every check with PASS or FAIL and exits 0 only when all pass: 1 when any fails (a file
// that is not a readable ZIP is a failed check), 2 for bad usage, an option given twice, or a
// bundle path that is not an existing regular file.
#include <sys/stat.h>

#include <cctype>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/evidence/bundle_verifier.h"
#include "tools/evidence/zip_archive.h"

namespace {

constexpr const char* kUsage =
    "usage: colend-verify BUNDLE.zip --root-sha256 FINGERPRINT [--genesis-sha256 HASH] [--json]\n"
    "  FINGERPRINT: the SHA-256 fingerprint of the consortium root CA certificate, taken from the\n"
    "  loan contract's annex or the commission's records, never from the bundle (64 hex digits;\n"
    "  colons as printed by `openssl x509 -fingerprint -sha256` are accepted).\n"
    "  HASH: the chain's genesis SHA-256 from the same annex; strongly recommended: without it,\n"
    "  members holding CA-issued certificates could present a genesis file of their own.\n";

bool IsFingerprint(const std::string& fp) {
  std::size_t digits = 0;
  for (char c : fp) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    ++digits;
  }
  return digits == 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bundle, root, genesis;
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return std::cout << kUsage, 0;
    if (arg == "--json") {
      as_json = true;
    } else if (arg == "--root-sha256" || arg == "--genesis-sha256" ||
               arg.starts_with("--root-sha256=") || arg.starts_with("--genesis-sha256=")) {
      // The trust anchors: each once, so that a second value never silently replaces the first.
      const bool is_root = arg.starts_with("--root-sha256");
      const std::string name = is_root ? "--root-sha256" : "--genesis-sha256";
      std::string value;
      if (arg.size() > name.size()) {
        value = arg.substr(name.size() + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        std::cerr << "colend-verify: " << name << " needs a value\n" << kUsage;
        return 2;
      }
      std::string& target = is_root ? root : genesis;
      if (!target.empty()) {
        std::cerr << "colend-verify: " << name << " is given twice\n" << kUsage;
        return 2;
      }
      target = value;
      if (target.empty()) {
        std::cerr << "colend-verify: " << name << " needs a value\n" << kUsage;
        return 2;
      }
    } else if (arg.starts_with("-") || !bundle.empty()) {
      std::cerr << "colend-verify: unexpected argument '" << arg << "'\n" << kUsage;
      return 2;
    } else {
      bundle = arg;
    }
  }
  if (bundle.empty() || root.empty()) {
    std::cerr << "colend-verify: a bundle and --root-sha256 are required (there is no default trust)\n"
              << kUsage;
    return 2;
  }
  if (!genesis.empty() && !IsFingerprint(genesis)) {
    std::cerr << "colend-verify: --genesis-sha256 must be 64 hex digits\n";
    return 2;
  }
  if (!IsFingerprint(root)) {
    std::cerr << "colend-verify: --root-sha256 must be 64 hex digits\n";
    return 2;
  }
  struct stat info {};
  if (::stat(bundle.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    std::cerr << "colend-verify: " << colend::evidence::Printable(bundle)
              << " is not an existing regular file\n";
    return 2;
  }
  std::string first;
  auto files = colend::evidence::ReadZip(bundle, &first);
  std::vector<colend::evidence::CheckLine> lines;
  if (!files.ok()) {
    lines.push_back({false, "zip", colend::evidence::Printable(files.error().message)});
  } else {
    try {
      lines = colend::evidence::VerifyBundle(*files, first, root, genesis);
    } catch (const std::exception& e) {
      // Malformed input the checks did not foresee: a FAIL naming it, never an abort.
      lines.push_back({false, "bundle", colend::evidence::Printable(
                                            std::string("malformed input stopped the checks: ") + e.what())});
    }
  }
  std::size_t failed = 0;
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& line : lines) {
    failed += line.pass ? 0 : 1;
    if (as_json) {
      checks.push_back({{"check", line.check}, {"result", line.pass ? "PASS" : "FAIL"}, {"detail", line.detail}});
    } else {
      std::cout << (line.pass ? "PASS " : "FAIL ") << line.check << ": " << line.detail << "\n";
    }
  }
  const bool ok = failed == 0 && !lines.empty();
  if (as_json) {
    std::cout << nlohmann::json{{"bundle", colend::evidence::Printable(bundle)}, {"verified", ok}, {"checks", checks},
                                {"failed", failed}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "colend-verify: " << lines.size() << " checks, " << failed << " failed: "
              << (ok ? "the bundle VERIFIES" : "the bundle does NOT verify") << "\n";
  }
  return ok ? 0 : 1;
}
