// The interface every built-in contract implements, and the registry of transaction types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "contracts/executor.h"

namespace colend::contracts {

// What a contract sees while executing one transaction.
struct CallContext {
  const Tx& tx;
  const MemberRecord& sender;
  const BlockContext& block;
  const ChainRules& rules;
};

// Fills `receipt` (accepted, code, rule, message, outputs) and writes into `state`. The executor
// discards `state` writes when the receipt is not accepted.
using ContractFn = void (*)(const CallContext& call, StateOverlay* state, Receipt* receipt);

struct TxType {
  std::string_view name;                   // e.g. "evidence.anchor"
  std::vector<std::string_view> roles;     // roles allowed to send it
  ContractFn run;
};

// nullptr for an unknown type.
const TxType* FindTxType(std::string_view name);
const std::vector<TxType>& AllTxTypes();

// A business rejection: the receipt is committed with `code` and `message`, and the contract's
// writes are discarded (the rule id is the contract's, set before). Shared by the contracts that
// decide without lending's Call helper.
void Reject(Receipt* receipt, std::string code, std::string message);

// Contracts: system/ (evidence, consensus evidence, membership) and lending/.
// The largest document evidence.attach accepts; nodes fetch documents from peers in one frame.
inline constexpr std::uint64_t kDocumentBytesMax = 16u << 20;
bool IsDocumentKind(std::string_view kind);  // contract | notice | repayment-proof | other
bool IsLowerHex64(std::string_view s);  // exactly 64 of [0-9a-f] (decision.cc)
void RunEvidenceAttach(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunEvidenceAnchor(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunConsensusEvidence(const CallContext& call, StateOverlay* state, Receipt* receipt);
// Membership and quorum changes (system/membership.cc).
void RunMemberPropose(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunMemberApprove(const CallContext& call, StateOverlay* state, Receipt* receipt);
// Lending (lending/).
void RunClockTick(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunClockAdvance(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunBureauSnapshot(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunBankFigures(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunBorrowerAdmit(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunBorrowerChange(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunAuthResult(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanDraw(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanApprove(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanFund(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanPayout(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunVaSpend(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunUseAttest(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanRepay(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanSettle(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunCollectionOutcome(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunLoanWriteoff(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunParamPropose(const CallContext& call, StateOverlay* state, Receipt* receipt);
void RunParamApprove(const CallContext& call, StateOverlay* state, Receipt* receipt);

}  // namespace colend::contracts
