// The texts and encodings that arrive inside blocks, receipts, evidence and the store, and the
// crypto parsers under every signature check. The first byte selects the parser (mod 9), the rest
// is its input:
//   0 consensus::BlockHeader::ParseText    ok => ToText() == input, and it parses again
//   1 contracts::Receipt::ParseText        (lenient) printing is a fixed point after one pass
//   2 contracts::LoanRecords::Parse        ok => ToText() == input
//   3 contracts::Loan::FromText            ok => FromText(ToText()) prints the same JSON
//   4 consensus::Replica::Restore          (a replica's persisted state) ok => Start() resumes
//   5 crypto::MerkleAccumulator::Parse     ok => Serialize() == input
//   6 crypto::PublicKey::Verify            a DER signature: fails with a documented code
//   7 crypto::Certificate::FromDer/FromPem ok => DER re-encoding is stable; the accessors and
//                                          the CA check run without crashing
//   8 crypto::PublicKey::FromDer/FromPem   ok => ToDer() parses back to the same DER
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "consensus/block.h"
#include "consensus/replica.h"
#include "contracts/executor.h"
#include "contracts/lending/loan_model.h"
#include "contracts/system/loan_records.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "tests/fuzz/fixture.h"

namespace {

using namespace colend;  // NOLINT

void Header(std::string_view text) {
  const auto header = consensus::BlockHeader::ParseText(text);
  if (!header.ok()) {
    FUZZ_CHECK(header.error().code == "bad-header");
    return;
  }
  FUZZ_CHECK(header->ToText() == text);
  FUZZ_CHECK(consensus::BlockHeader::ParseText(header->ToText()).ok());
}

void ReceiptText(std::string_view text) {
  const auto receipt = contracts::Receipt::ParseText(text);
  if (!receipt.ok()) {
    FUZZ_CHECK(receipt.error().code == "bad-receipt");
    return;
  }
  const std::string printed = receipt->ToText();
  const auto again = contracts::Receipt::ParseText(printed);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToText() == printed);
}

void LoanRecordsText(std::string_view text) {
  const auto records = contracts::LoanRecords::Parse(text);
  if (records) FUZZ_CHECK(records->ToText() == text);
}

void LoanText(std::string_view text) {
  const auto loan = contracts::Loan::FromText(text);
  if (!loan.ok()) {
    FUZZ_CHECK(!loan.error().code.empty());
    return;
  }
  const std::string printed = loan->ToText();
  const auto again = contracts::Loan::FromText(printed);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToText() == printed);
}

class NoApplication : public consensus::Application {
 public:
  consensus::proto::Block ProposeBlock(std::uint64_t, std::int64_t) override { return {}; }
  Status ValidateBlock(std::uint64_t, const consensus::proto::Block&, std::int64_t, bool) override {
    return MakeError("fuzz", "blocks are not validated here");
  }
  Status CheckBody(const consensus::proto::Block&) override { return Status::Ok(); }
};

class FixedSigner : public consensus::Signer {
 public:
  std::string Sign(std::string_view) override { return "signature"; }
};

void ReplicaState(std::string_view bytes) {
  const fuzz::Fixture& f = fuzz::GetFixture();
  NoApplication app;
  FixedSigner signer;
  consensus::Replica replica(f.genesis.Validators(), "arbitration", {}, &app, &signer);
  const Status restored = replica.Restore(bytes);
  if (!restored.ok()) {
    FUZZ_CHECK(restored.error().code == "bad-replica-state");
    return;
  }
  if (bytes.empty()) return;
  consensus::proto::ReplicaState state;
  FUZZ_CHECK(state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  const consensus::Actions actions = replica.Start(state.height(), 0);
  FUZZ_CHECK(replica.height() == state.height());
  FUZZ_CHECK(replica.sign_floor() == state.height());
  (void)actions;
}

void Accumulator(std::string_view bytes) {
  const auto acc = crypto::MerkleAccumulator::Parse(bytes);
  if (!acc.ok()) {
    FUZZ_CHECK(acc.error().code == "bad-accumulator");
    return;
  }
  FUZZ_CHECK(acc->Serialize() == bytes);
  (void)acc->Root();
}

void Signature(std::string_view der) {
  const fuzz::Fixture& f = fuzz::GetFixture();
  const Status verified =
      f.genesis.members.front().signing_key.Verify("colend-fuzz signed text\n", der);
  FUZZ_CHECK(!verified.ok());  // no one signed this text
  const std::string& code = verified.error().code;
  FUZZ_CHECK(code == "bad-signature" || code == "malformed-signature" ||
             code == "non-canonical-signature");
}

void CertificateBytes(std::string_view bytes) {
  auto cert = crypto::Certificate::FromDer(bytes);
  if (!cert.ok()) cert = crypto::Certificate::FromPem(bytes);
  if (!cert.ok()) {
    FUZZ_CHECK(!cert.error().code.empty());
    return;
  }
  const std::string der = cert->ToDer();
  const auto again = crypto::Certificate::FromDer(der);
  FUZZ_CHECK(again.ok() && again->ToDer() == der);
  FUZZ_CHECK(cert->Fingerprint() == crypto::Sha256(der));
  const auto pem = crypto::Certificate::FromPem(cert->ToPem());
  FUZZ_CHECK(pem.ok() && pem->ToDer() == der);
  (void)cert->CommonName();
  (void)cert->Organization();
  (void)cert->SubjectKey(crypto::Suite::kStd);
  (void)cert->SubjectKey(crypto::Suite::kSm);
  const fuzz::Fixture& f = fuzz::GetFixture();
  const Status issued = cert->VerifyIssuedBy(f.genesis.ca_certificate, f.genesis.genesis_time_ms / 1000);
  if (!issued.ok()) FUZZ_CHECK(!issued.error().code.empty());
}

void PublicKeyBytes(std::string_view bytes) {
  for (crypto::Suite suite : {crypto::Suite::kStd, crypto::Suite::kSm}) {
    auto key = crypto::PublicKey::FromDer(bytes, suite);
    if (!key.ok()) key = crypto::PublicKey::FromPem(bytes, suite);
    if (!key.ok()) {
      FUZZ_CHECK(!key.error().code.empty());
      continue;
    }
    const std::string der = key->ToDer();
    const auto again = crypto::PublicKey::FromDer(der, suite);
    FUZZ_CHECK(again.ok() && again->ToDer() == der);
    FUZZ_CHECK(!key->Verify("text", "0").ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::GetFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0: Header(input); break;
    case 1: ReceiptText(input); break;
    case 2: LoanRecordsText(input); break;
    case 3: LoanText(input); break;
    case 4: ReplicaState(input); break;
    case 5: Accumulator(input); break;
    case 6: Signature(input); break;
    case 7: CertificateBytes(input); break;
    case 8: PublicKeyBytes(input); break;
  }
  return 0;
}
