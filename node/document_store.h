// The documents attached to loans (evidence.attach puts only their SHA-256 on chain): one file a
// document under <home>/documents/<sha256, hex>, outside LevelDB's state. The CLI adds a document
// before it submits the attach transaction; a node that commits an attach for a document it lacks
// fetches it from its peers (node.cc); an evidence export ships the bytes.
//
// Every read checks the bytes against their name: a file changed on disk is reported, never
// served. Writes are atomic (temporary file, fsync, rename).
//
// Thread safety: distinct processes may use one directory (names are content hashes; writes are
// atomic renames).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace colend::node {

class DocumentStore {
 public:
  explicit DocumentStore(std::string directory) : directory_(std::move(directory)) {}

  bool Has(const crypto::Hash256& sha256) const;
  // The bytes; errors "document-missing", "document-corrupt" (the file does not hash to its name),
  // "document-too-large".
  Result<std::string> Get(const crypto::Hash256& sha256) const;
  // Stores `bytes` under their SHA-256 (no-op if present); error "document-too-large" above
  // contracts::kDocumentBytesMax, "write-failed".
  Result<crypto::Hash256> Put(const std::string& bytes);

  std::string PathOf(const crypto::Hash256& sha256) const;

 private:
  std::string directory_;
};

}  // namespace colend::node
