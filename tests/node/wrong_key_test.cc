// A node whose signing.key is not the key the epoch in force lists for its member id (a rotation
// whose new key was never put in place) does not sign, and says why: `status` and the
// colend_signing_state metric name the key, not "not a member" (the real node, loop_node.h).
#include <gtest/gtest.h>

#include <string>

#include "crypto/signature.h"
#include "loop_node.h"

namespace colend::node {
namespace {

class WrongKeyTest : public testing::LoopNodeTest {
 protected:
  WrongKeyTest() {
    auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    if (key.ok()) signing_key_ = std::move(key).value();
  }
};

TEST_F(WrongKeyTest, StatusAndMetricsNameTheKeyNotMembership) {
  ASSERT_TRUE(signing_key_.has_value());
  auto status = node_->Call("status", nlohmann::json::object());
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  const std::string signing = (*status)["consensus"]["signing"];
  EXPECT_NE(signing.find("with another signing key than signing.key"), std::string::npos) << signing;
  auto metrics = node_->Call("metrics", nlohmann::json::object());
  ASSERT_TRUE(metrics.ok());
  const std::string text = (*metrics)["text"];
  EXPECT_NE(text.find("colend_signing_state{state=\"wrong-key\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("colend_signing_state{state=\"not-a-member\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace colend::node
