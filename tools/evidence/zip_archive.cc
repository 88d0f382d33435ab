#include "tools/evidence/zip_archive.h"

#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace colend::evidence {

Status CheckEntryName(const std::string& name) {
  auto bad = [&](const std::string& why) {
    return MakeError("bad-entry-name", "entry '" + name + "': " + why);
  };
  if (name.empty() || name.size() > 255) return bad("empty or longer than 255 bytes");
  if (name.front() == '/') return bad("absolute path");
  for (char c : name) {
    if (c == '\\') return bad("backslash in the name");
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return bad("characters outside printable ASCII");
    }
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return bad("empty, '.' or '..' path segment");
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status WriteZip(const std::string& path, const std::vector<ZipEntry>& entries,
                std::int64_t mtime_unix) {
  const std::string tmp = path + ".tmp";
  std::remove(tmp.c_str());
  int error = 0;
  zip_t* archive = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (archive == nullptr) return MakeError("write-failed", "cannot create " + tmp);
  auto fail = [&](const std::string& what) {
    zip_discard(archive);
    std::remove(tmp.c_str());
    return MakeError("write-failed", what);
  };
  std::map<std::string, bool> seen;
  for (const ZipEntry& e : entries) {
    Status name = CheckEntryName(e.name);
    if (!name.ok()) {
      zip_discard(archive);
      return name;
    }
    if (seen[e.name]) return fail("entry '" + e.name + "' twice");
    seen[e.name] = true;
    zip_source_t* source = zip_source_buffer(archive, e.bytes.data(), e.bytes.size(), 0);
    if (source == nullptr) return fail("cannot add " + e.name);
    zip_int64_t index = zip_file_add(archive, e.name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      return fail("cannot add " + e.name + ": " + zip_strerror(archive));
    }
    const auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(archive, i, e.store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) != 0 ||
        zip_file_set_mtime(archive, i, static_cast<time_t>(mtime_unix), 0) != 0) {
      return fail("cannot set the attributes of " + e.name);
    }
  }
  if (zip_close(archive) != 0) {
    std::string why = zip_strerror(archive);
    zip_discard(archive);
    std::remove(tmp.c_str());
    return MakeError("write-failed", "cannot write " + tmp + ": " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError("write-failed", "cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

namespace {

// Reads every entry of an open archive; `path` names it in errors.
Result<std::map<std::string, std::string>> ReadEntries(zip_t* archive, const std::string& path,
                                                       std::string* first_entry) {
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  if (count < 0 || static_cast<std::uint64_t>(count) > kZipEntriesMax) {
    return MakeError("zip-too-large", path + " has more than " + std::to_string(kZipEntriesMax) + " entries");
  }
  std::map<std::string, std::string> files;
  std::uint64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, index, ZIP_FL_ENC_RAW, &st) != 0 || (st.valid & ZIP_STAT_NAME) == 0 ||
        (st.valid & ZIP_STAT_SIZE) == 0) {
      return MakeError("bad-zip", "entry " + std::to_string(i) + " cannot be read");
    }
    const std::string name = st.name;
    if (name.ends_with("/") && st.size == 0) continue;  // a directory entry
    COLEND_RETURN_IF_ERROR(CheckEntryName(name));
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(archive, index, 0, &opsys, &attributes) == 0 &&
        opsys == ZIP_OPSYS_UNIX && S_ISLNK(attributes >> 16)) {
      return MakeError("bad-entry-name", "entry '" + name + "' is a symbolic link");
    }
    if (files.count(name)) return MakeError("bad-entry-name", "entry '" + name + "' appears twice");
    total += st.size;
    if (total > kZipBytesMax) {
      return MakeError("zip-too-large", path + " unpacks to more than " + std::to_string(kZipBytesMax) + " bytes");
    }
    if (i == 0 && first_entry != nullptr) *first_entry = name;
    zip_file_t* file = zip_fopen_index(archive, index, 0);
    if (file == nullptr) return MakeError("bad-zip", "entry '" + name + "' cannot be opened");
    // Memory grows with the bytes that actually come out, not with the declared size: a ZIP of
    // a few hundred bytes can declare an entry of 2 GiB. Exactly st.size bytes, then end of
    // data (where libzip checks the CRC).
    std::string bytes;
    bytes.reserve(std::min<std::uint64_t>(st.size, 1u << 20));
    bool damaged = false;
    char chunk[64 * 1024];
    for (zip_int64_t n; (n = zip_fread(file, chunk, sizeof chunk)) != 0;) {
      if (n < 0 || bytes.size() + static_cast<std::uint64_t>(n) > st.size) {
        damaged = true;
        break;
      }
      bytes.append(chunk, static_cast<std::size_t>(n));
    }
    zip_fclose(file);
    if (damaged || bytes.size() != st.size) {
      return MakeError("bad-zip", "entry '" + name + "' is damaged (size or CRC mismatch)");
    }
    files.emplace(name, std::move(bytes));
  }
  return files;
}

// libzip's words for a failure code, with the code ("Not a zip archive, libzip error 19"), so
// an arbitrator reads what is wrong with the file without libzip's header at hand.
std::string ZipErrorText(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text + ", libzip error " + std::to_string(code);
}

}  // namespace

Result<std::map<std::string, std::string>> ReadZip(const std::string& path,
                                                   std::string* first_entry) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    return MakeError("bad-zip",
                     path + " is not a readable ZIP archive (" + ZipErrorText(error) + ")");
  }
  std::unique_ptr<zip_t, int (*)(zip_t*)> closer(archive, zip_close);
  return ReadEntries(archive, path, first_entry);
}

Result<std::map<std::string, std::string>> ReadZipFromMemory(std::string_view bytes,
                                                             std::string* first_entry) {
  const std::string path = "the archive";
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive =
      source == nullptr ? nullptr : zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  const int code = zip_error_code_zip(&error);
  zip_error_fini(&error);
  if (archive == nullptr) {
    if (source != nullptr) zip_source_free(source);
    return MakeError("bad-zip",
                     path + " is not a readable ZIP archive (" + ZipErrorText(code) + ")");
  }
  std::unique_ptr<zip_t, int (*)(zip_t*)> closer(archive, zip_close);
  return ReadEntries(archive, path, first_entry);
}

}  // namespace colend::evidence
