#include "node/mempool.h"

namespace colend::node {

bool Mempool::Add(const crypto::Hash256& id, std::string wire) {
  if (Contains(id) || full()) return false;
  by_id_[id] = next_seq_;
  by_seq_[next_seq_++] = std::move(wire);
  return true;
}

void Mempool::Remove(const crypto::Hash256& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  by_seq_.erase(it->second);
  by_id_.erase(it);
}

std::vector<std::string> Mempool::Oldest(std::size_t count) const {
  std::vector<std::string> out;
  for (auto it = by_seq_.begin(); it != by_seq_.end() && out.size() < count; ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace colend::node
