#include "contracts/contract.h"

namespace colend::contracts {

const std::vector<TxType>& AllTxTypes() {
  static const std::vector<TxType> kTypes = {
      {"evidence.anchor",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunEvidenceAnchor},
      // Documents of a loan (contract, notice, repayment proof): any member, the arbitration
      // commission included, may attach one it holds.
      {"evidence.attach",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunEvidenceAttach},
      // Any member may report a member who signed two conflicting consensus messages.
      {"consensus.evidence",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunConsensusEvidence},
      // docs/consensus.md §7: any member proposes and approves; a quorum of the current
      // epoch decides.
      {"member.propose",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunMemberPropose},
      {"member.approve",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunMemberApprove},
      // Lending (docs/lending-rules.md §4: each type names the roles that may send it).
      {"clock.tick", {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"}, &RunClockTick},
      {"clock.advance", {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"}, &RunClockAdvance},
      {"bureau.snapshot", {"credit_bureau"}, &RunBureauSnapshot},
      {"bank.figures", {"lead_bank", "partner_bank"}, &RunBankFigures},
      {"borrower.admit", {"lead_bank"}, &RunBorrowerAdmit},
      {"borrower.change", {"lead_bank", "payee_bank"}, &RunBorrowerChange},
      {"auth.result", {"lead_bank"}, &RunAuthResult},
      {"loan.draw", {"lead_bank"}, &RunLoanDraw},
      {"loan.approve", {"partner_bank"}, &RunLoanApprove},
      {"loan.fund", {"lead_bank", "partner_bank"}, &RunLoanFund},
      {"loan.payout", {"payee_bank"}, &RunLoanPayout},
      {"va.spend", {"payee_bank"}, &RunVaSpend},
      {"use.attest", {"payee_bank"}, &RunUseAttest},
      {"loan.repay", {"payee_bank"}, &RunLoanRepay},
      {"loan.settle", {"payee_bank"}, &RunLoanSettle},
      {"collection.outcome", {"lead_bank"}, &RunCollectionOutcome},
      {"loan.writeoff", {"lead_bank", "partner_bank"}, &RunLoanWriteoff},
      {"param.propose", {"lead_bank", "partner_bank"}, &RunParamPropose},
      {"param.approve", {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"}, &RunParamApprove},
  };
  return kTypes;
}

void Reject(Receipt* receipt, std::string code, std::string message) {
  receipt->accepted = false;
  receipt->code = std::move(code);
  receipt->message = std::move(message);
}

const TxType* FindTxType(std::string_view name) {
  for (const TxType& t : AllTxTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace colend::contracts
