#include "node/document_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "contracts/contract.h"

namespace colend::node {

std::string DocumentStore::PathOf(const crypto::Hash256& sha256) const {
  return directory_ + "/" + crypto::ToHex(sha256);
}

bool DocumentStore::Has(const crypto::Hash256& sha256) const {
  std::error_code ec;
  return std::filesystem::is_regular_file(PathOf(sha256), ec);
}

Result<std::string> DocumentStore::Get(const crypto::Hash256& sha256) const {
  const std::string path = PathOf(sha256);
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return MakeError("document-missing", "document " + crypto::ToHex(sha256) + " is not in " + directory_);
  if (size > contracts::kDocumentBytesMax) {
    return MakeError("document-too-large", path + " is larger than " +
                                               std::to_string(contracts::kDocumentBytesMax) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
  if (!in || crypto::Sha256(bytes) != sha256) {
    return MakeError("document-corrupt", path + " does not hash to its name: the file was changed");
  }
  return bytes;
}

Result<crypto::Hash256> DocumentStore::Put(const std::string& bytes) {
  if (bytes.empty() || bytes.size() > contracts::kDocumentBytesMax) {
    return MakeError("document-too-large", "a document must have 1 to " +
                                               std::to_string(contracts::kDocumentBytesMax) +
                                               " bytes; this one has " + std::to_string(bytes.size()));
  }
  const crypto::Hash256 sha256 = crypto::Sha256(bytes);
  if (Get(sha256).ok()) return sha256;
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) return MakeError("write-failed", "cannot create " + directory_ + ": " + ec.message());
  const std::string path = PathOf(sha256);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError("write-failed", "cannot create " + tmp);
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return MakeError("write-failed", "cannot write " + tmp);
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError("write-failed", "cannot store " + path);
  }
  return sha256;
}

}  // namespace colend::node
