// Golden vectors for what the contracts commit (tests/golden/README.md): the receipt texts and
// the state root after a fixed sequence of lending transactions, pinned as literals. They change
// only if the contracts' behaviour or a stored format changes (a new chain format), never with
// a library upgrade: receipts hold the project's own codes and messages only.
#include <gtest/gtest.h>

#include <string>

#include "test_chain.h"

namespace colend::contracts::testing {
namespace {

constexpr const char* kGoldenDrawReceipt = R"(colend-receipt/v1
tx-id: 283b5ac1a001e2dabfbfa58ab26cc3c5d22644e4ba67ab6282167a31e928e097
height: 6
index: 0
type: loan.draw
sender: lead-bank
status: accepted
code: ok
rule: R-PRE-06
message: drawdown of 10,000.00 CNY accepted; waiting for the partner bank's approval
out.business-date: 2026-11-28
out.events: 2
out.inputs-sha256: 419f442d4a85a8c80e7d861ac40df6fdcc08508ddc2a220dfc2e597673a76153
out.lead-leg-fen: 200000
out.loan: L-golden
out.param-version: 1
out.partner: partner-bank
out.partner-leg-fen: 800000
out.protection-level: none
out.protection-score: 0
)";
constexpr const char* kGoldenRepayReceipt = R"(colend-receipt/v1
tx-id: 27b3b119463a10492d46f0475361bf08e3d59d9ca44f2a28cc54a454b8322535
height: 12
index: 0
type: loan.repay
sender: payee-bank
status: accepted
code: ok
rule: R-IN-05
message: repayment of 2,500.00 CNY posted: principal 1,940.89 CNY, interest 150.00 CNY, penalty 0.00 CNY, held 409.11 CNY
out.allocated.interest-fen: 15000
out.allocated.penalty-fen: 0
out.allocated.principal-fen: 194089
out.business-date: 2026-12-29
out.credit-held-fen: 40911
out.dpd: 0
out.events: 6
out.inputs-sha256: 6035017588970842392371cf926380a5e1bd5c0a42d6da9007a209aad60d2f9f
out.lender.lead-bank.interest-fen: 3000
out.lender.lead-bank.penalty-fen: 0
out.lender.lead-bank.principal-fen: 38818
out.lender.partner-bank.interest-fen: 12000
out.lender.partner-bank.penalty-fen: 0
out.lender.partner-bank.principal-fen: 155271
out.param-version: 1
)";
constexpr const char* kGoldenRefusedReceipt = R"(colend-receipt/v1
tx-id: 14dd176cfbab737290ea13b39b9f087a42343badc12a2ffe6845094c5d1fda6c
height: 13
index: 0
type: loan.fund
sender: partner-bank
status: rejected
code: wrong-state
rule: R-IN-03
message: loan L-golden is active, not waiting for funding
out.business-date: 2026-12-29
out.inputs-sha256: 571dd07ad33c83a8d6bf1e5ed2343aa62564c4666a348e2be3eaa6bbdd960576
out.param-version: 1
)";
// Chain format changes (each a new chain format; see tests/golden/README.md):
//   b1f527a5…: first pinned (issue 13).
//   f430ee7d…: the wake index, the open-loan and co-funded counters and param-due entries
//              (issue 14: no rule scans a capped list of loans); receipts unchanged.
//   3ab0828d…: R-PRE-05 review SLA, R-PRE-06 regions, R-IN-07 misuse (issue 14, 2a4fa61).
//   235e3be5…: the partner is the first eligible partner bank (issue 14, docs/lending-rules.md
//              §5.6): a drawdown's receipt names it (out.partner) and reads the partner's
//              figures before the lead's (its inputs hash changed).
//   85712558…: the borrower's age is sent as a band (age-band 30-34): an exact age is refused
//              (issue 14, docs/lending-rules.md §5.3); the sequence's admission changed, no rule.
//   403f44e8…: parameter clock_loans_per_tx (docs/lending-rules.md §1.2) in new genesis files,
//              and clock receipts name the loans they looked at (out.loans-looked-at).
constexpr const char* kGoldenStateRoot = "403f44e815dbf977e577e0988d07ac30c15a6d9a101da36eba45cf6db7ac1e2e";

TEST(Golden, ReceiptsAndStateRootOfAFixedLendingSequence) {
  Chain chain;
  const std::string b = chain.Admit("golden");
  chain.Auth(b);
  const Receipt draw = chain.Send("lead-bank", "loan.draw", chain.Draw("L-golden", b, 1000000, 5));
  ASSERT_TRUE(draw.accepted) << draw.message;
  const Loan loan = chain.GetLoan("L-golden");
  ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", "L-golden"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).accepted);
  ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", "L-golden"}, {"amount-fen", std::to_string(loan.lenders[0].funded_fen)}, {"ref", "a"}}).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "loan.fund", {{"loan", "L-golden"}, {"amount-fen", std::to_string(loan.lenders[1].funded_fen)}, {"ref", "b"}}).accepted);
  ASSERT_TRUE(chain.Send("payee-bank", "loan.payout", {{"loan", "L-golden"}, {"amount-fen", "1000000"}, {"account", "VA-L-golden"}}).accepted);
  chain.Advance(31);
  const Receipt repay = chain.Repay("L-golden", 250000);
  ASSERT_TRUE(repay.accepted) << repay.message;
  // A refusal: its code and message are consensus state too.
  const Receipt refused = chain.Send("partner-bank", "loan.fund", {{"loan", "L-golden"}, {"amount-fen", "1"}, {"ref", "c"}});
  ASSERT_FALSE(refused.accepted);

  EXPECT_EQ(draw.ToText(), kGoldenDrawReceipt);
  EXPECT_EQ(repay.ToText(), kGoldenRepayReceipt);
  EXPECT_EQ(refused.ToText(), kGoldenRefusedReceipt);
  EXPECT_EQ(crypto::ToHex(chain.tree().Root()), kGoldenStateRoot);
}

}  // namespace
}  // namespace colend::contracts::testing
