// A LevelDB file system for simulated members (colend-sim): LevelDB's in-memory Env
// (memenv) with the storage faults of docs/consensus.md §12 that a process crash alone does
// not cause:
//   - LoseUnsyncedWrites: a power loss. Every file keeps only what was Sync'ed (the node's
//     store syncs each block batch, the vote state and its own records, so nothing it
//     acknowledged may be lost);
//   - Corrupt: a damaged file. One byte of a table, log or manifest file is flipped (the store
//     must refuse it, never serve it);
//   - Truncate: a file cut short (F10), which may silently lose synced records.
// Both are applied only while no database is open on the Env. Thread-safe: LevelDB's compaction
// thread writes files too.
#pragma once

#include <leveldb/env.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace colend::sim {

class FaultEnv final : public leveldb::EnvWrapper {
 public:
  FaultEnv();
  ~FaultEnv() override;

  leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& name) override;
  leveldb::Status RenameFile(const std::string& from, const std::string& to) override;

  // Cuts every file written through this Env back to its last Sync (a file never synced becomes
  // empty). Returns how many bytes were lost.
  std::uint64_t LoseUnsyncedWrites();
  // Flips one byte of a random table, log or manifest file under `dir`; false if there is none.
  // `what` names the file and offset.
  bool Corrupt(const std::string& dir, std::mt19937_64& rng, std::string* what);
  // F10: cuts a random table, log or manifest file under `dir` to a random shorter length (what
  // a file system may leave after a failure below the node); false if there is none. Synced
  // records may be lost silently: LevelDB takes a cut log's end for an interrupted write.
  bool Truncate(const std::string& dir, std::mt19937_64& rng, std::string* what);

  // Replaces everything under `dir` with a copy of `source`'s files there (an operator
  // restoring a copy of data/ taken while the node was stopped). False if a file did not copy.
  bool CopyFrom(FaultEnv& source, const std::string& dir);

  // F7, a process killed at a write step: after `writes` more appends or syncs every write fails,
  // as if nothing after that point reached a file; CrashPointReached() then says so, and the
  // world kills the member (then LoseUnsyncedWrites, ClearCrashPoint, restart).
  void CrashAfterWrites(std::uint64_t writes);
  bool CrashPointReached();
  void ClearCrashPoint();

  // A failing disk (full, I/O errors): every write fails from now on, but the process lives
  // on (unlike the crash point), until RepairDisk. The node must stop on its own.
  void FailDisk();
  void RepairDisk();

  // Called by the files this Env hands out. WriteAllowed is false past the crash point and
  // while the disk fails.
  bool WriteAllowed();
  void Appended(const std::string& name, std::uint64_t bytes);
  void Synced(const std::string& name);

 private:
  struct Written {
    std::uint64_t size = 0;
    std::uint64_t synced = 0;
  };
  leveldb::Status Rewrite(const std::string& name, std::uint64_t keep, std::int64_t flip_at);
  bool Damage(const std::string& dir, std::mt19937_64& rng, bool truncate, std::string* what);

  std::unique_ptr<leveldb::Env> memory_;
  std::mutex mutex_;
  std::map<std::string, Written> files_;
  bool crash_armed_ = false;
  bool crash_reached_ = false;
  bool disk_failing_ = false;
  std::uint64_t writes_left_ = 0;
};

}  // namespace colend::sim
