// Proves that transactions checked on worker threads are admitted in the order they arrived,
// whatever order the checks finish in; that the limits refuse an arrival without changing what
// waits, and keep a quarter for clients; that an admission that throws stops no later one; and
// that stray or repeated completions change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

#include "node/admission_queue.h"

namespace colend::node {
namespace {

TEST(AdmissionQueue, AdmitsInArrivalOrderWhateverOrderChecksFinish) {
  std::mt19937 rng(1);
  for (int round = 0; round < 50; ++round) {
    AdmissionQueue queue(1000, 1 << 20);
    std::vector<int> admitted;
    std::vector<std::uint64_t> numbers;
    for (int k = 0; k < 40; ++k) numbers.push_back(*queue.Add(10, [&admitted, k] { admitted.push_back(k); }));
    std::shuffle(numbers.begin(), numbers.end(), rng);
    for (std::uint64_t n : numbers) {
      queue.Checked(n);
      // Whatever finished, what was admitted is a prefix of the arrivals, in order.
      for (std::size_t i = 0; i < admitted.size(); ++i) ASSERT_EQ(admitted[i], static_cast<int>(i));
    }
    ASSERT_EQ(admitted.size(), 40u);
    EXPECT_EQ(queue.size(), 0u);
    EXPECT_EQ(queue.bytes(), 0u);
  }
}

TEST(AdmissionQueue, LimitsRefuseWithoutChangingWhatWaits) {
  AdmissionQueue queue(3, 100);
  int ran = 0;
  ASSERT_TRUE(queue.Add(60, [&] { ++ran; }));
  EXPECT_FALSE(queue.Add(41, [&] { ++ran; }));  // 101 bytes
  ASSERT_TRUE(queue.Add(40, [&] { ++ran; }));   // 100 bytes: at the limit
  EXPECT_FALSE(queue.Add(1, [&] { ++ran; }));
  ASSERT_TRUE(queue.Add(0, [&] { ++ran; }));
  EXPECT_FALSE(queue.Add(0, [&] { ++ran; }));   // 4 arrivals
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.bytes(), 100u);
  queue.Checked(0);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(queue.bytes(), 40u);
  ASSERT_TRUE(queue.Add(60, [&] { ++ran; }));   // room again
}

// Peers' gossip may fill three quarters of the queue; the rest stays for the node's clients.
TEST(AdmissionQueue, PeersLeaveAQuarterToClients) {
  AdmissionQueue queue(8, 1000);
  for (int k = 0; k < 6; ++k) ASSERT_TRUE(queue.Add(1, [] {}, /*leave_room=*/true)) << k;
  EXPECT_FALSE(queue.Add(1, [] {}, /*leave_room=*/true));  // 6 of 8: the peers' share is full
  EXPECT_TRUE(queue.Add(1, [] {}));                         // a client still gets in
  EXPECT_TRUE(queue.Add(1, [] {}));
  EXPECT_FALSE(queue.Add(1, [] {}));
  AdmissionQueue bytes(100, 400);
  EXPECT_FALSE(bytes.Add(301, [] {}, /*leave_room=*/true));  // over 300 of 400 bytes
  ASSERT_TRUE(bytes.Add(300, [] {}, /*leave_room=*/true));
  EXPECT_FALSE(bytes.Add(1, [] {}, /*leave_room=*/true));
  EXPECT_TRUE(bytes.Add(100, [] {}));
}

// An admission that throws does not stop the ones after it from ever being admitted.
TEST(AdmissionQueue, AThrowingAdmissionDoesNotStopLaterOnes) {
  AdmissionQueue queue(10, 1000);
  std::vector<int> admitted;
  const auto a = *queue.Add(1, [] { throw std::runtime_error("out of memory"); });
  const auto b = *queue.Add(1, [&] { admitted.push_back(1); });
  queue.Checked(b);
  EXPECT_THROW(queue.Checked(a), std::runtime_error);
  const auto c = *queue.Add(1, [&] { admitted.push_back(2); });
  queue.Checked(c);  // b was left waiting behind a; it goes now, then c
  EXPECT_EQ(admitted, (std::vector<int>{1, 2}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(AdmissionQueue, StrayAndRepeatedCompletionsChangeNothing) {
  AdmissionQueue queue(10, 1000);
  std::vector<int> admitted;
  const auto a = *queue.Add(1, [&] { admitted.push_back(0); });
  const auto b = *queue.Add(1, [&] { admitted.push_back(1); });
  queue.Checked(b + 7);  // never given
  queue.Checked(b);
  queue.Checked(b);
  EXPECT_TRUE(admitted.empty());  // the first has not been checked
  queue.Checked(a);
  EXPECT_EQ(admitted, (std::vector<int>{0, 1}));
  queue.Checked(a);  // already admitted
  EXPECT_EQ(admitted.size(), 2u);
}

TEST(AdmissionQueue, AnAdmissionMayAddAndCompleteAnother) {
  AdmissionQueue queue(10, 1000);
  std::vector<int> admitted;
  const auto first = *queue.Add(1, [&] {
    admitted.push_back(0);
    const auto again = *queue.Add(1, [&] { admitted.push_back(2); });
    queue.Checked(again);
  });
  const auto second = *queue.Add(1, [&] { admitted.push_back(1); });
  queue.Checked(second);
  queue.Checked(first);
  EXPECT_EQ(admitted, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(queue.size(), 0u);
}

}  // namespace
}  // namespace colend::node
