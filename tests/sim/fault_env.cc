#include "fault_env.h"

#include <leveldb/helpers/memenv.h>

#include <vector>

namespace colend::sim {
namespace {

class TrackedFile final : public leveldb::WritableFile {
 public:
  TrackedFile(FaultEnv* env, std::string name, leveldb::WritableFile* file)
      : env_(env), name_(std::move(name)), file_(file) {}
  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!env_->WriteAllowed()) return leveldb::Status::IOError(name_, "simulated write failure");
    leveldb::Status s = file_->Append(data);
    if (s.ok()) env_->Appended(name_, data.size());
    return s;
  }
  leveldb::Status Close() override { return file_->Close(); }
  leveldb::Status Flush() override { return file_->Flush(); }
  leveldb::Status Sync() override {
    if (!env_->WriteAllowed()) return leveldb::Status::IOError(name_, "simulated write failure");
    leveldb::Status s = file_->Sync();
    if (s.ok()) env_->Synced(name_);
    return s;
  }

 private:
  FaultEnv* env_;
  std::string name_;
  std::unique_ptr<leveldb::WritableFile> file_;
};

}  // namespace

FaultEnv::FaultEnv() : EnvWrapper(leveldb::NewMemEnv(leveldb::Env::Default())) {
  memory_.reset(target());
}

FaultEnv::~FaultEnv() = default;

void FaultEnv::CrashAfterWrites(std::uint64_t writes) {
  std::lock_guard<std::mutex> lock(mutex_);
  crash_armed_ = true;
  crash_reached_ = false;
  writes_left_ = writes;
}

bool FaultEnv::CrashPointReached() {
  std::lock_guard<std::mutex> lock(mutex_);
  return crash_reached_;
}

void FaultEnv::ClearCrashPoint() {
  std::lock_guard<std::mutex> lock(mutex_);
  crash_armed_ = crash_reached_ = false;
}

void FaultEnv::FailDisk() {
  std::lock_guard<std::mutex> lock(mutex_);
  disk_failing_ = true;
}

void FaultEnv::RepairDisk() {
  std::lock_guard<std::mutex> lock(mutex_);
  disk_failing_ = false;
}

bool FaultEnv::WriteAllowed() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (disk_failing_) return false;
  if (!crash_armed_) return true;
  if (writes_left_ == 0) {
    crash_reached_ = true;
    return false;
  }
  --writes_left_;
  return true;
}

leveldb::Status FaultEnv::NewWritableFile(const std::string& name, leveldb::WritableFile** result) {
  if (!WriteAllowed()) return leveldb::Status::IOError(name, "simulated write failure");
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewWritableFile(name, &file);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    files_[name] = Written{};
  }
  *result = new TrackedFile(this, name, file);
  return s;
}

leveldb::Status FaultEnv::NewAppendableFile(const std::string& name, leveldb::WritableFile** result) {
  std::uint64_t size = 0;
  if (!target()->GetFileSize(name, &size).ok()) size = 0;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewAppendableFile(name, &file);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = files_.emplace(name, Written{size, size});
    if (inserted) it->second = Written{size, size};  // what is there already is on disk
  }
  *result = new TrackedFile(this, name, file);
  return s;
}

leveldb::Status FaultEnv::RemoveFile(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(name);
  }
  return target()->RemoveFile(name);
}

leveldb::Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  leveldb::Status s = target()->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
      files_.erase(from);
    } else {
      files_.erase(to);
    }
  }
  return s;
}

void FaultEnv::Appended(const std::string& name, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  files_[name].size += bytes;
}

void FaultEnv::Synced(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  Written& w = files_[name];
  w.synced = w.size;
}

leveldb::Status FaultEnv::Rewrite(const std::string& name, std::uint64_t keep, std::int64_t flip_at) {
  leveldb::SequentialFile* in = nullptr;
  leveldb::Status s = target()->NewSequentialFile(name, &in);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::SequentialFile> reader(in);
  std::string contents;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    leveldb::Slice chunk;
    s = reader->Read(buffer.size(), &chunk, buffer.data());
    if (!s.ok()) return s;
    if (chunk.empty()) break;
    contents.append(chunk.data(), chunk.size());
  }
  if (contents.size() > keep) contents.resize(keep);
  if (flip_at >= 0 && static_cast<std::uint64_t>(flip_at) < contents.size()) {
    contents[static_cast<std::size_t>(flip_at)] = static_cast<char>(contents[static_cast<std::size_t>(flip_at)] ^ 0x5a);
  }
  leveldb::WritableFile* out = nullptr;
  s = target()->NewWritableFile(name, &out);  // truncates
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::WritableFile> writer(out);
  s = writer->Append(contents);
  if (s.ok()) s = writer->Close();
  return s;
}

std::uint64_t FaultEnv::LoseUnsyncedWrites() {
  std::map<std::string, Written> files;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    files = files_;
  }
  std::uint64_t lost = 0;
  for (auto& [name, written] : files) {
    if (written.synced >= written.size) continue;
    if (Rewrite(name, written.synced, -1).ok()) lost += written.size - written.synced;
    std::lock_guard<std::mutex> lock(mutex_);
    files_[name] = Written{written.synced, written.synced};
  }
  return lost;
}

bool FaultEnv::CopyFrom(FaultEnv& source, const std::string& dir) {
  std::vector<std::string> mine, theirs;
  if (target()->GetChildren(dir, &mine).ok()) {
    for (const std::string& child : mine) RemoveFile(dir + "/" + child);
  }
  if (!source.target()->GetChildren(dir, &theirs).ok()) return false;
  target()->CreateDir(dir);
  for (const std::string& child : theirs) {
    std::string contents;
    if (!leveldb::ReadFileToString(source.target(), dir + "/" + child, &contents).ok()) return false;
    if (!leveldb::WriteStringToFile(target(), contents, dir + "/" + child).ok()) return false;
  }
  return true;
}

bool FaultEnv::Damage(const std::string& dir, std::mt19937_64& rng, bool truncate, std::string* what) {
  std::vector<std::string> children, candidates;
  if (!target()->GetChildren(dir, &children).ok()) return false;
  for (const std::string& child : children) {
    if (child.ends_with(".ldb") || child.ends_with(".log") || child.starts_with("MANIFEST-")) {
      std::uint64_t size = 0;
      if (target()->GetFileSize(dir + "/" + child, &size).ok() && size > 0) candidates.push_back(child);
    }
  }
  if (candidates.empty()) return false;
  const std::string name = candidates[rng() % candidates.size()];
  std::uint64_t size = 0;
  target()->GetFileSize(dir + "/" + name, &size);
  const std::uint64_t at = rng() % size;
  if (!Rewrite(dir + "/" + name, truncate ? at : UINT64_MAX, truncate ? -1 : static_cast<std::int64_t>(at)).ok()) {
    return false;
  }
  if (truncate) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(dir + "/" + name);
  }
  *what = truncate ? name + " cut to " + std::to_string(at) + " of " + std::to_string(size) + " bytes (F10)"
                   : name + " byte " + std::to_string(at) + " of " + std::to_string(size) + " flipped";
  return true;
}

bool FaultEnv::Corrupt(const std::string& dir, std::mt19937_64& rng, std::string* what) {
  return Damage(dir, rng, false, what);
}

bool FaultEnv::Truncate(const std::string& dir, std::mt19937_64& rng, std::string* what) {
  return Damage(dir, rng, true, what);
}

}  // namespace colend::sim
