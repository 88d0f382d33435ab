#include "node/admission_queue.h"

#include <utility>

namespace colend::node {

std::optional<std::uint64_t> AdmissionQueue::Add(std::size_t bytes, std::function<void()> admit) {
  if (queue_.size() >= arrivals_max_ || bytes > bytes_max_ - bytes_) return std::nullopt;
  const std::uint64_t number = first_ + queue_.size();
  queue_.push_back(Arrival{false, bytes, std::move(admit)});
  bytes_ += bytes;
  return number;
}

void AdmissionQueue::Checked(std::uint64_t number) {
  if (number < first_ || number - first_ >= queue_.size()) return;
  queue_[number - first_].checked = true;
  if (admitting_) return;  // the running loop below reaches it
  admitting_ = true;
  while (!queue_.empty() && queue_.front().checked) {
    Arrival next = std::move(queue_.front());
    queue_.pop_front();
    ++first_;
    bytes_ -= next.bytes;
    next.admit();
  }
  admitting_ = false;
}

}  // namespace colend::node
