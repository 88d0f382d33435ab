// ZIP archives of evidence bundles, through libzip (a well-kept library rather than our own
// writer: CRCs, ZIP64 and the central directory are its job).
//
// Names are checked on both sides: relative, '/'-separated, no "..", "." or empty segment, no
// backslash, no absolute path, unique, printable ASCII. Reading also refuses symbolic links and
// bounds the entry count and the total size (a ZIP bomb cannot exhaust memory).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace colend::evidence {

inline constexpr std::size_t kZipEntriesMax = 200000;
inline constexpr std::uint64_t kZipBytesMax = 2ull << 30;  // total uncompressed

// Error "bad-entry-name" naming the entry and what is wrong with it.
Status CheckEntryName(const std::string& name);

struct ZipEntry {
  std::string name;
  std::string bytes;
  bool store = false;  // no compression (the ASiC `mimetype` entry)
};

// Writes the entries in order to `path` (through a temporary file renamed at the end), every
// entry with the modification time `mtime_unix`.
Status WriteZip(const std::string& path, const std::vector<ZipEntry>& entries,
                std::int64_t mtime_unix);

// Reads every entry: name -> bytes. Errors "bad-zip", "bad-entry-name", "zip-too-large".
// `first_entry` receives the name of the first entry.
Result<std::map<std::string, std::string>> ReadZip(const std::string& path,
                                                   std::string* first_entry);
// The same from bytes in memory (errors name "the archive" instead of a path): for fuzzing.
Result<std::map<std::string, std::string>> ReadZipFromMemory(std::string_view bytes,
                                                             std::string* first_entry);

}  // namespace colend::evidence
