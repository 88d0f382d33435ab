// P2P frames: node::proto::PeerMessage as node.cc's OnFrame receives it from a peer, and each kind
// handed to what node.cc hands it to, without a running node (no sockets, no clock):
//   consensus        a fresh consensus::Replica of the fixture chain at height 1 (member
//                    "arbitration", its test key), backed by a real node::Ledger over a LevelDB
//                    store in a temporary directory, so a valid proposal reaches block
//                    validation and re-execution; also consensus::VerifyEquivocation
//   txs              contracts::DecodeTx and Executor::CheckEnvelope, as AdmitTx
//   block_response   each synced block: BlockHeader::ParseText, VerifyCommitCertificate and,
//                    for the next height, Ledger::ValidateBlock (what CommitBlock runs before it
//                    writes), and DecodeTx of each transaction
//   status, block_request, document_request/response: plain fields, parsed by protobuf only
// Properties: protobuf re-serialisation is stable; nothing a peer sends crashes, asserts or
// throws; a message equivocates only with a different one; the replica sends only its own
// height-1 messages, decides nothing on one message and reports no equivocation; every state it
// asks to persist restores into a fresh replica; errors carry their documented codes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "consensus/block.h"
#include "consensus/replica.h"
#include "contracts/tx.h"
#include "node/ledger.h"
#include "node/node.pb.h"
#include "node/store.h"
#include "tests/fuzz/fixture.h"

namespace {

using namespace colend;  // NOLINT

constexpr const char* kSelf = "arbitration";

struct World {
  std::unique_ptr<node::Store> store;
  std::unique_ptr<node::Ledger> ledger;
};

World& TheWorld() {
  static World* world = [] {
    const fuzz::Fixture& f = fuzz::GetFixture();
    auto* w = new World;
    auto store = node::Store::Open(fuzz::ProcessTempDir() + "/store", f.genesis.hash);
    FUZZ_CHECK(store.ok());
    w->store = std::move(store).value();
    w->ledger = std::make_unique<node::Ledger>(f.genesis, w->store.get());
    FUZZ_CHECK(w->ledger->Open().ok());
    FUZZ_CHECK(w->ledger->height() == 0);
    return w;
  }();
  return *world;
}

class LedgerApp : public consensus::Application {
 public:
  consensus::proto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) override {
    return TheWorld().ledger->BuildBlock(height, now_ms, kSelf, {}, nullptr);
  }
  Status ValidateBlock(std::uint64_t height, const consensus::proto::Block& block,
                       std::int64_t now_ms, bool check_timeliness) override {
    return TheWorld().ledger->ValidateBlock(height, block, now_ms, check_timeliness);
  }
  Status CheckBody(const consensus::proto::Block& block) override {
    return node::Ledger::CheckBody(block);
  }
};

class KeySigner : public consensus::Signer {
 public:
  std::string Sign(std::string_view message) override {
    return fuzz::GetFixture().keys.at(kSelf).Sign(message).value();
  }
};

consensus::Now Clock() {
  return {fuzz::GetFixture().block1_time_ms, 1000};
}

void CheckActions(const consensus::Actions& actions) {
  if (fuzz::Verbose()) {
    for (const auto& line : actions.log) std::fprintf(stderr, "  log: %s\n", line.c_str());
    for (const auto& out : actions.messages) {
      std::fprintf(stderr, "  sends %s\n", out.message.ShortDebugString().substr(0, 120).c_str());
    }
  }
  FUZZ_CHECK(!actions.decision.has_value());
  FUZZ_CHECK(actions.equivocations.empty());
  for (const consensus::Outbound& out : actions.messages) {
    const auto& m = out.message;
    FUZZ_CHECK(m.has_proposal() || m.has_vote());
    if (m.has_vote()) FUZZ_CHECK(m.vote().member() == kSelf && m.vote().height() == 1);
    if (m.has_proposal()) FUZZ_CHECK(m.proposal().proposer() == kSelf && m.proposal().height() == 1);
  }
  if (actions.persist) {
    LedgerApp app;
    KeySigner signer;
    consensus::Replica fresh(fuzz::GetFixture().genesis.Validators(), kSelf, {}, &app, &signer);
    FUZZ_CHECK(fresh.Restore(*actions.persist).ok());
  }
}

void Consensus(const consensus::proto::ConsensusMessage& message) {
  const fuzz::Fixture& f = fuzz::GetFixture();
  const consensus::ValidatorSet validators = f.genesis.Validators();
  const auto same = consensus::VerifyEquivocation(validators, message, message);
  FUZZ_CHECK(!same.ok() && same.error().code == "not-an-equivocation");
  if (message.has_vote()) {
    consensus::proto::ConsensusMessage other = message;
    other.mutable_vote()->set_block_hash(std::string(32, '\x5a'));
    const auto differ = consensus::VerifyEquivocation(validators, message, other);
    if (!differ.ok()) {
      const std::string& code = differ.error().code;
      FUZZ_CHECK(code == "not-an-equivocation" || code == "unknown-member" || code == "bad-signature");
    }
  }
  LedgerApp app;
  KeySigner signer;
  consensus::Replica replica(validators, kSelf, {}, &app, &signer);
  CheckActions(replica.Start(1, Clock()));
  CheckActions(replica.OnMessage(message, Clock()));
  CheckActions(replica.OnMessage(message, Clock()));  // a duplicate is harmless
  FUZZ_CHECK(replica.height() == 1);
}

void GossipTx(const std::string& wire) {
  const auto tx = contracts::DecodeTx(wire);
  if (!tx.ok()) {
    FUZZ_CHECK(tx.error().code == "malformed-transaction");
    return;
  }
  World& w = TheWorld();
  const Status ok = w.ledger->executor().CheckEnvelope(*tx, w.ledger->state(),
                                                       fuzz::GetFixture().block1_time_ms);
  if (!ok.ok()) FUZZ_CHECK(!ok.error().code.empty());
}

const std::set<std::string> kCertificateCodes = {"bad-certificate", "unknown-member",
                                                  "duplicate-endorsement",
                                                  "bad-endorsement-signature",
                                                  "insufficient-endorsements"};

void SyncedBlock(const node::proto::StoredBlock& stored) {
  for (const std::string& wire : stored.block().txs()) (void)contracts::DecodeTx(wire);
  const auto header = consensus::BlockHeader::ParseText(stored.block().header());
  if (!header.ok()) {
    FUZZ_CHECK(header.error().code == "bad-header");
    return;
  }
  FUZZ_CHECK(header->ToText() == stored.block().header());
  World& w = TheWorld();
  const crypto::Hash256 hash = consensus::BlockHash(stored.block().header());
  const Status cert = consensus::VerifyCommitCertificate(w.ledger->validators(), header->height,
                                                         hash, stored.certificate());
  if (!cert.ok()) FUZZ_CHECK(kCertificateCodes.count(cert.error().code) == 1);
  if (header->height == w.ledger->height() + 1 && cert.ok()) {
    (void)w.ledger->ValidateBlock(header->height, stored.block(), 0, /*check_timeliness=*/false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  node::proto::PeerMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  const std::string serialised = message.SerializeAsString();
  node::proto::PeerMessage again;
  FUZZ_CHECK(again.ParseFromString(serialised));
  FUZZ_CHECK(again.SerializeAsString() == serialised);
  switch (message.kind_case()) {
    case node::proto::PeerMessage::kConsensus:
      Consensus(message.consensus());
      break;
    case node::proto::PeerMessage::kTxs:
      for (const std::string& wire : message.txs().txs()) GossipTx(wire);
      break;
    case node::proto::PeerMessage::kBlockResponse:
      for (const auto& stored : message.block_response().blocks()) SyncedBlock(stored);
      break;
    default:
      break;
  }
  return 0;
}
