#include "tools/evidence/zip_archive.h"

#include <sys/stat.h>
#include <zip.h>

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

Result<std::map<std::string, std::string>> ReadZip(const std::string& path,
                                                   std::string* first_entry) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    return MakeError("bad-zip", path + " is not a readable ZIP archive (libzip error " +
                                    std::to_string(error) + ")");
  }
  std::unique_ptr<zip_t, int (*)(zip_t*)> closer(archive, zip_close);
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
    std::string bytes(st.size, '\0');
    zip_file_t* file = zip_fopen_index(archive, index, 0);
    if (file == nullptr) return MakeError("bad-zip", "entry '" + name + "' cannot be opened");
    const zip_int64_t read = zip_fread(file, bytes.data(), bytes.size());
    char extra;
    const zip_int64_t more = zip_fread(file, &extra, 1);
    zip_fclose(file);
    if (read < 0 || static_cast<std::uint64_t>(read) != st.size || more != 0) {
      return MakeError("bad-zip", "entry '" + name + "' is damaged (size or CRC mismatch)");
    }
    files.emplace(name, std::move(bytes));
  }
  return files;
}

}  // namespace colend::evidence
