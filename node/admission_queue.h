// The order in which a node admits transactions whose signatures are checked on worker threads
// (Node::AdmitInOrder): arrivals (a gossip frame, a submit) are numbered as they come; a worker
// may finish them in any order, but each arrival's admission runs only after every earlier one's,
// so a sender's transactions reach the mempool in the order they were sent (a loan's approval
// after its drawdown). Bounded: at most `arrivals_max` arrivals and `bytes_max` bytes wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

namespace colend::node {

class AdmissionQueue {
 public:
  AdmissionQueue(std::size_t arrivals_max, std::size_t bytes_max)
      : arrivals_max_(arrivals_max), bytes_max_(bytes_max) {}

  // Adds an arrival of `bytes` whose `admit` runs when it and every earlier arrival are checked.
  // Its number, or nullopt (and nothing added) when either limit would be passed; `leave_room`
  // (an arrival from a peer) may fill only three quarters of each limit.
  std::optional<std::uint64_t> Add(std::size_t bytes, std::function<void()> admit,
                                   bool leave_room = false);
  bool HasRoom(std::size_t bytes, bool leave_room) const;
  // Marks arrival `number` checked, then runs the admissions of the checked arrivals at the
  // front, in order. Unknown or already admitted numbers are ignored.
  void Checked(std::uint64_t number);

  std::size_t size() const { return queue_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Arrival {
    bool checked = false;
    std::size_t bytes = 0;
    std::function<void()> admit;
  };
  const std::size_t arrivals_max_;
  const std::size_t bytes_max_;
  std::deque<Arrival> queue_;
  std::uint64_t first_ = 0;  // the number of queue_.front()
  std::size_t bytes_ = 0;
  bool admitting_ = false;   // Checked is running admissions (an admission may call Checked)
};

}  // namespace colend::node
