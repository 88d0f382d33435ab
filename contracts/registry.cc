#include "contracts/contract.h"

namespace colend::contracts {

const std::vector<TxType>& AllTxTypes() {
  static const std::vector<TxType> kTypes = {
      {"evidence.anchor",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunEvidenceAnchor},
      // Any member may report a member who signed two conflicting consensus messages.
      {"consensus.evidence",
       {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"},
       &RunConsensusEvidence},
  };
  return kTypes;
}

const TxType* FindTxType(std::string_view name) {
  for (const TxType& t : AllTxTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace colend::contracts
