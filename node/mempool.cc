#include "node/mempool.h"

namespace colend::node {

Mempool::Admission Mempool::Add(const crypto::Hash256& id, const std::string& sender,
                                std::string wire) {
  if (Contains(id)) return Admission::kDuplicate;
  const std::size_t memory = EntryBytes(wire.size());
  if (by_id_.size() >= limits_.txs_max || memory_ + memory > limits_.memory_max) {
    return Admission::kFull;
  }
  Usage& usage = by_sender_[sender];
  if (usage.txs >= limits_.sender_txs_max || usage.memory + memory > limits_.sender_memory_max) {
    if (usage.txs == 0) by_sender_.erase(sender);
    return Admission::kSenderQuota;
  }
  ++usage.txs;
  usage.memory += memory;
  bytes_ += wire.size();
  memory_ += memory;
  by_id_[id] = next_seq_;
  by_seq_[next_seq_++] = Entry{sender, std::move(wire)};
  return Admission::kAdded;
}

void Mempool::Remove(const crypto::Hash256& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto entry = by_seq_.find(it->second);
  auto usage = by_sender_.find(entry->second.sender);
  const std::size_t memory = EntryBytes(entry->second.wire.size());
  usage->second.txs -= 1;
  usage->second.memory -= memory;
  if (usage->second.txs == 0) by_sender_.erase(usage);
  bytes_ -= entry->second.wire.size();
  memory_ -= memory;
  by_seq_.erase(entry);
  by_id_.erase(it);
}

std::vector<std::string> Mempool::Oldest(std::size_t count, std::size_t bytes_max) const {
  std::vector<std::string> out;
  std::size_t bytes = 0;
  for (auto it = by_seq_.begin(); it != by_seq_.end() && out.size() < count; ++it) {
    if (bytes + it->second.wire.size() > bytes_max) break;
    bytes += it->second.wire.size();
    out.push_back(it->second.wire);
  }
  return out;
}

}  // namespace colend::node
