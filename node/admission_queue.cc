#include "node/admission_queue.h"

#include <utility>

namespace colend::node {

bool AdmissionQueue::HasRoom(std::size_t bytes, bool leave_room) const {
  const std::size_t arrivals_max = leave_room ? arrivals_max_ / 4 * 3 : arrivals_max_;
  const std::size_t bytes_max = leave_room ? bytes_max_ / 4 * 3 : bytes_max_;
  return queue_.size() < arrivals_max && bytes_ <= bytes_max && bytes <= bytes_max - bytes_;
}

std::optional<std::uint64_t> AdmissionQueue::Add(std::size_t bytes, std::function<void()> admit,
                                                 bool leave_room) {
  if (!HasRoom(bytes, leave_room)) return std::nullopt;
  const std::uint64_t number = first_ + queue_.size();
  queue_.push_back(Arrival{false, bytes, std::move(admit)});
  bytes_ += bytes;
  return number;
}

void AdmissionQueue::Checked(std::uint64_t number) {
  if (number < first_ || number - first_ >= queue_.size()) return;
  queue_[number - first_].checked = true;
  if (admitting_) return;  // the running loop below reaches it
  struct Admitting {  // reset even if an admission throws, so later arrivals are still admitted
    bool& flag;
    explicit Admitting(bool& f) : flag(f) { flag = true; }
    ~Admitting() { flag = false; }
  } admitting(admitting_);
  while (!queue_.empty() && queue_.front().checked) {
    Arrival next = std::move(queue_.front());
    queue_.pop_front();
    ++first_;
    bytes_ -= next.bytes;
    next.admit();
  }
}

}  // namespace colend::node
