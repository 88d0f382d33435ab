// Makes the fuzz fixture chain and the seed corpus (tests/fuzz/fixtures, tests/fuzz/corpus):
//
//   make_corpus <tests/fuzz directory>
//
// A fresh consortium (new CA and keys every run: the output is not byte-reproducible, and it is
// committed so that fuzzing needs no generation step), a short chain built through the real
// ledger (one joint loan from admission to a repayment and an attached document, as the lending
// demo makes it), and from them real inputs for every target: signed transaction wires, a body
// of every transaction type, consensus messages and synced blocks, stored texts, JSON-RPC
// requests, the genesis file, a membership document, a node config, and the loan's evidence
// bundle (as a ZIP and in the targets' framed form). Rerun it only when a format changes.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "consensus/block.h"
#include "contracts/contract.h"
#include "contracts/fields.h"
#include "contracts/lending/lending.h"
#include "contracts/system/loan_records.h"
#include "contracts/lending/money.h"
#include "genesis/builder.h"
#include "node/config.h"
#include "node/evidence_export.h"
#include "node/hello.h"
#include "node/ledger.h"
#include "node/node.pb.h"
#include "tests/fuzz/fixture.h"
#include "tools/evidence/zip_archive.h"

namespace {

using namespace colend;  // NOLINT: a generator program
namespace fs = std::filesystem;

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "make_corpus: " << why << "\n";
  std::exit(1);
}

std::string out_dir;

void Write(const std::string& relative, const std::string& bytes) {
  const fs::path path = fs::path(out_dir) / relative;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) Die("cannot write " + path.string());
}

class Chain {
 public:
  Chain(const genesis::BuiltConsortium& built, const genesis::Genesis& genesis,
        const std::string& dir)
      : built_(built), genesis_(genesis) {
    auto store = node::Store::Open(dir, genesis.hash);
    if (!store.ok()) Die(store.error().ToString());
    store_ = std::move(store).value();
    ledger_ = std::make_unique<node::Ledger>(genesis_, store_.get());
    if (Status s = ledger_->Open(); !s.ok()) Die(s.ToString());
    time_ms_ = genesis.genesis_time_ms + 60000;
  }

  const crypto::PrivateKey& Key(const std::string& member) const {
    for (const auto& m : built_.members) {
      if (m.id == member) return m.signing_key;
    }
    Die("no member " + member);
  }

  contracts::TxBody Body(const std::string& sender, const std::string& type,
                         std::map<std::string, std::string> fields) {
    contracts::TxBody body;
    body.chain_id = genesis_.chain_id;
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = time_ms_ + 1000;
    body.type = type;
    body.fields = std::move(fields);
    return body;
  }

  std::string Tx(const std::string& sender, const std::string& type,
                 std::map<std::string, std::string> fields) {
    auto tx = contracts::SignTx(Body(sender, type, std::move(fields)), Key(sender));
    if (!tx.ok()) Die(tx.error().ToString());
    return tx->Encode();
  }

  consensus::proto::CommitCertificate Certify(const consensus::proto::Block& block,
                                              std::uint64_t height) {
    consensus::proto::CommitCertificate cert;
    const crypto::Hash256 hash = consensus::BlockHash(block.header());
    cert.set_height(height);
    cert.set_block_hash(std::string(crypto::AsBytes(hash)));
    const std::string vote = consensus::VoteText(genesis_.chain_id, ledger_->membership().epoch,
                                                 height, 0, consensus::Phase::kPrecommit, hash);
    for (std::size_t i = 0; i < ledger_->validators().quorum(); ++i) {
      auto* e = cert.add_endorsements();
      e->set_member(built_.members[i].id);
      e->set_signature(built_.members[i].signing_key.Sign(vote).value());
    }
    return cert;
  }

  void Commit(const std::vector<std::string>& txs) {
    const std::uint64_t height = ledger_->height() + 1;
    time_ms_ += 1000;
    std::vector<node::Ledger::Dropped> dropped;
    auto block = ledger_->BuildBlock(height, time_ms_, built_.members[0].id, txs, &dropped);
    if (!dropped.empty()) Die("a transaction was dropped: " + dropped[0].error.ToString());
    auto cert = Certify(block, height);
    if (Status s = ledger_->CommitBlock(block, cert); !s.ok()) Die(s.ToString());
    node::proto::StoredBlock stored;
    *stored.mutable_block() = block;
    *stored.mutable_certificate() = cert;
    blocks_.push_back(stored);
  }

  void One(const std::string& sender, const std::string& type,
           std::map<std::string, std::string> fields) {
    const std::string wire = Tx(sender, type, std::move(fields));
    Commit({wire});
    wires_.push_back(wire);
    auto receipt = ledger_->state().Get(contracts::ReceiptKey(contracts::DecodeTx(wire)->id));
    if (!receipt || receipt->find("status: accepted") == std::string::npos) {
      Die(type + " was not accepted: " + receipt.value_or("no receipt"));
    }
    receipts_.push_back(*receipt);
  }

  node::Ledger& ledger() { return *ledger_; }
  std::int64_t time_ms() const { return time_ms_; }
  const std::vector<node::proto::StoredBlock>& blocks() const { return blocks_; }
  const std::vector<std::string>& wires() const { return wires_; }
  const std::vector<std::string>& receipts() const { return receipts_; }

 private:
  const genesis::BuiltConsortium& built_;
  const genesis::Genesis& genesis_;
  std::unique_ptr<node::Store> store_;
  std::unique_ptr<node::Ledger> ledger_;
  std::uint64_t nonce_ = 0;
  std::int64_t time_ms_ = 0;
  std::vector<node::proto::StoredBlock> blocks_;
  std::vector<std::string> wires_, receipts_;
};

const std::string kLoan = "L-FUZZ-1";

// The lending demo's loan, one transaction a block (evidence_export_bench's BuildChain).
void BuildChain(Chain& chain, const std::string& borrower) {
  const std::int64_t day = contracts::BusinessDay(chain.ledger().state());
  const std::string today = contracts::FormatDate(day), until = contracts::FormatDate(day + 30);
  for (const char* bank : {"lead-bank", "partner-bank"}) {
    chain.One(bank, "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}});
  }
  chain.One("credit-bureau", "bureau.snapshot", {{"borrower", borrower}, {"institutions", "1"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", until}});
  chain.One("lead-bank", "borrower.admit", {{"borrower", borrower}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today}, {"consent-credit-query", "yes"}, {"consent-colending", "yes"}});
  chain.One("lead-bank", "auth.result", {{"borrower", borrower}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}});
  chain.One("lead-bank", "loan.draw", {{"loan", kLoan}, {"borrower", borrower}, {"amount-fen", "4000000"}, {"periods", "20"}, {"approval-sha256", std::string(64, 'a')}, {"model", "wb-risk-2026.1"}});
  chain.One("partner-bank", "loan.approve", {{"loan", kLoan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}});
  chain.One("lead-bank", "loan.fund", {{"loan", kLoan}, {"amount-fen", "800000"}, {"ref", "a"}});
  chain.One("partner-bank", "loan.fund", {{"loan", kLoan}, {"amount-fen", "3200000"}, {"ref", "b"}});
  chain.One("payee-bank", "loan.payout", {{"loan", kLoan}, {"amount-fen", "4000000"}, {"account", "VA-1"}});
  chain.One("payee-bank", "loan.repay", {{"loan", kLoan}, {"amount-fen", "100000"}});
  chain.One("lead-bank", "evidence.attach", {{"loan", kLoan}, {"kind", "contract"}, {"document-sha256", crypto::ToHex(crypto::Sha256("contract"))}, {"document-bytes", "8"}});
}

// A value in `rule`'s format, as the fixture chain would use it.
std::string ExampleValue(const contracts::FieldRule& rule, const std::string& borrower) {
  using F = contracts::FieldFormat;
  const std::string key(rule.key);
  switch (rule.format) {
    case F::kMemberId: return key == "member-id" ? "partner-bank" : "lead-bank";
    case F::kId: return key == "loan" ? kLoan : key == "proposal" ? "P-1" : "model-1";
    case F::kReference: return "ref-a";
    case F::kName: return "contract.pdf";
    case F::kLowerHex64: return key == "borrower" ? borrower : crypto::ToHex(crypto::Sha256(key));
    case F::kHexBytes: return "00ff";
    case F::kAmountFen:
    case F::kInteger: return std::to_string(std::clamp<std::int64_t>(1, rule.low, rule.high));
    case F::kDate: return "2026-01-15";
    case F::kAgeBand: return "30-34";
    case F::kMcc: return "5411";
    case F::kLabel: return std::string(rule.labels.front());
    case F::kParamChanges: return "{}";
    case F::kMemberJson: return "{}";
  }
  return "x";
}

const char* SenderFor(std::string_view role) {
  for (const auto& m : genesis::DefaultConsortium()) {
    if (role == m.role) return m.id;
  }
  return "lead-bank";
}

std::string Hex(std::string_view bytes) { return crypto::ToHex(bytes); }

consensus::proto::ConsensusMessage Vote(const genesis::BuiltConsortium& built,
                                        const genesis::Genesis& g, const std::string& member,
                                        std::uint64_t height, std::uint32_t round,
                                        consensus::Phase phase,
                                        std::optional<crypto::Hash256> hash) {
  consensus::proto::ConsensusMessage m;
  auto* v = m.mutable_vote();
  v->set_height(height);
  v->set_round(round);
  v->set_phase(phase == consensus::Phase::kPrevote ? consensus::proto::PHASE_PREVOTE
                                                   : consensus::proto::PHASE_PRECOMMIT);
  if (hash) v->set_block_hash(std::string(crypto::AsBytes(*hash)));
  v->set_member(member);
  for (const auto& b : built.members) {
    if (b.id == member) {
      v->set_signature(
          b.signing_key.Sign(consensus::VoteText(g.chain_id, 0, height, round, phase, hash)).value());
    }
  }
  return m;
}

// The framed form of fuzz_bundle: "==> <name>\n<bytes>" per entry, joined by "\n".
std::string Framed(const std::vector<evidence::ZipEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += "\n";
    out += "==> " + e.name + "\n" + e.bytes;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) Die("usage: make_corpus <tests/fuzz directory>");
  out_dir = argv[1];
  genesis::ConsortiumOptions options;
  options.chain_id = "colend-fuzz";
  options.dev_clock = true;
  options.now_ms = 1764316800000;  // 2025-11-28
  options.spare_members = 1;
  auto built = genesis::BuildConsortium(options);
  if (!built.ok()) Die(built.error().ToString());
  auto genesis = genesis::ParseGenesis(built->genesis_text);
  if (!genesis.ok()) Die(genesis.error().ToString());
  const std::string dir = (fs::temp_directory_path() / ("colend-make-corpus-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string borrower = crypto::ToHex(crypto::Sha256("fuzz borrower"));
  Chain chain(*built, *genesis, dir);
  BuildChain(chain, borrower);
  const auto& g = *genesis;

  // ---- fixtures --------------------------------------------------------------------------------
  fs::remove_all(fs::path(out_dir) / "fixtures" / "keys");
  fs::remove_all(fs::path(out_dir) / "corpus");
  Write("fixtures/genesis.json", built->genesis_text);
  for (const auto& m : built->members) Write("fixtures/keys/" + m.id + ".pem", m.signing_key.ToPem());
  Write("fixtures/state.bin", fuzz::EncodeState(chain.ledger().state()));
  const std::int64_t block1_ms = g.genesis_time_ms + 61000;
  Write("fixtures/clock.txt", "block1-time-ms: " + std::to_string(block1_ms) + "\n");

  // ---- fuzz_tx: committed wires, and a fresh body (and wire) of every transaction type --------
  for (std::size_t i = 0; i < chain.wires().size(); i += 4) {
    Write("corpus/fuzz_tx/wire-committed-" + std::to_string(i), chain.wires()[i]);
  }
  const crypto::Hash256 h1 = consensus::BlockHash(chain.blocks()[0].block().header());
  crypto::Hash256 other = h1;
  other[0] ^= 1;
  auto first = Vote(*built, g, "partner-bank", 3, 0, consensus::Phase::kPrevote, h1);
  auto second = Vote(*built, g, "partner-bank", 3, 0, consensus::Phase::kPrevote, other);
  std::string dict;
  for (const auto& schema : contracts::AllTxSchemas()) {
    const contracts::TxType* type = contracts::FindTxType(schema.type);
    const std::string sender = SenderFor(type != nullptr && !type->roles.empty() ? type->roles[0] : "lead_bank");
    std::map<std::string, std::string> fields;
    for (const auto& rule : schema.fields) {
      if (rule.required) fields[std::string(rule.key)] = ExampleValue(rule, borrower);
    }
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> variants;
    const std::string name(schema.type);
    if (name == "consensus.evidence") {
      fields = {{"first", Hex(first.SerializeAsString())}, {"second", Hex(second.SerializeAsString())},
                {"height", "3"}, {"round", "0"}, {"kind", "prevote"}, {"member", "partner-bank"}};
    } else if (name == "member.propose") {
      variants.push_back({"add", {{"change", "add"}, {"proposal", "P-add"},
                                  {"member", genesis::MemberJson(built->spares[0]).dump()}}});
      variants.push_back({"remove", {{"change", "remove"}, {"proposal", "P-rm"}, {"member-id", "payee-bank"}}});
      fields = {{"change", "quorum"}, {"proposal", "P-q"}, {"quorum", "two-thirds"}};
    } else if (name == "param.propose") {
      const auto params = contracts::CurrentParameters(chain.ledger().state());
      nlohmann::json changes = nlohmann::json::object();
      for (const auto& [key, value] : params.items()) {
        if (key != "version" && value.is_number_integer()) {
          changes[key] = value;
          break;
        }
      }
      fields["changes"] = changes.dump();
    } else if (name == "loan.repay" || name == "loan.settle") {
      fields["loan"] = kLoan;
    }
    variants.insert(variants.begin(), {"", fields});
    for (const auto& [suffix, f] : variants) {
      auto body = chain.Body(sender, name, f);
      const std::string file = name + (suffix.empty() ? "" : "-" + suffix);
      Write("corpus/fuzz_tx/body-" + file, body.ToText());
      auto tx = contracts::SignTx(body, chain.Key(sender));
      if (!tx.ok()) Die(tx.error().ToString());
      Write("corpus/fuzz_tx/wire-" + file, tx->Encode());
    }
    dict += "\"type: " + name + "\"\n";
    for (const auto& rule : schema.fields) dict += "\"\\x0a" + std::string(rule.key) + ": \"\n";
    for (const auto& rule : schema.fields) {
      for (auto label : rule.labels) dict += "\"" + std::string(label) + "\"\n";
    }
  }
  dict += "\"colend-tx/v1\\x0a\"\n\"chain-id: " + g.chain_id + "\"\n";
  for (const auto& m : g.members) dict += "\"sender: " + m.id + "\"\n";
  Write("dict/fuzz_tx.dict", "# Generated by make_corpus.cc from contracts/fields.h\n" + dict);

  // ---- fuzz_peer_message -------------------------------------------------------------------------
  const auto& b1 = chain.blocks()[0];
  {
    node::proto::PeerMessage m;
    auto* p = m.mutable_consensus()->mutable_proposal();
    p->set_height(1);
    p->set_round(0);
    p->set_valid_round(-1);
    *p->mutable_block() = b1.block();
    const std::string proposer = genesis->Validators().ProposerFor(1, 0);
    p->set_proposer(proposer);
    p->set_signature(chain.Key(proposer).Sign(consensus::ProposalText(g.chain_id, 0, 1, 0, -1, h1)).value());
    Write("corpus/fuzz_peer_message/proposal-h1", m.SerializeAsString());
  }
  {
    int n = 0;
    for (auto [member, phase, hash] :
         {std::tuple("partner-bank", consensus::Phase::kPrevote, std::optional(h1)),
          std::tuple("payee-bank", consensus::Phase::kPrecommit, std::optional(h1)),
          std::tuple("lead-bank", consensus::Phase::kPrevote, std::optional<crypto::Hash256>())}) {
      node::proto::PeerMessage m;
      *m.mutable_consensus() = Vote(*built, g, member, 1, 0, phase, hash);
      Write("corpus/fuzz_peer_message/vote-" + std::to_string(n++), m.SerializeAsString());
    }
  }
  {
    node::proto::PeerMessage m;
    for (std::size_t i = 0; i < 3; ++i) *m.mutable_block_response()->add_blocks() = chain.blocks()[i];
    Write("corpus/fuzz_peer_message/block-response", m.SerializeAsString());
    node::proto::PeerMessage txs;
    for (std::size_t i = 0; i < 3; ++i) txs.mutable_txs()->add_txs(chain.wires()[i]);
    Write("corpus/fuzz_peer_message/txs", txs.SerializeAsString());
    node::proto::PeerMessage status;
    status.mutable_status()->set_height(chain.ledger().height());
    status.mutable_status()->set_last_block_hash(std::string(crypto::AsBytes(chain.ledger().last_hash())));
    Write("corpus/fuzz_peer_message/status", status.SerializeAsString());
    node::proto::PeerMessage request;
    request.mutable_block_request()->set_from_height(1);
    request.mutable_block_request()->set_count(16);
    Write("corpus/fuzz_peer_message/block-request", request.SerializeAsString());
    node::proto::PeerMessage doc_request, doc_response;
    const crypto::Hash256 doc = crypto::Sha256("contract");
    doc_request.mutable_document_request()->set_sha256(std::string(crypto::AsBytes(doc)));
    doc_response.mutable_document_response()->set_sha256(std::string(crypto::AsBytes(doc)));
    doc_response.mutable_document_response()->set_content("contract");
    Write("corpus/fuzz_peer_message/document-request", doc_request.SerializeAsString());
    Write("corpus/fuzz_peer_message/document-response", doc_response.SerializeAsString());
  }

  // ---- fuzz_hello ----------------------------------------------------------------------------------
  Write("corpus/fuzz_hello/hello", node::EncodeHello(crypto::ToHex(g.hash), "lead-bank"));

  // ---- fuzz_texts: one selector byte, then the text (fuzz_texts.cc lists the selectors) ---------
  auto text = [](char selector, const std::string& name, const std::string& bytes) {
    Write("corpus/fuzz_texts/" + name, std::string(1, selector) + bytes);
  };
  text(0, "header-1", b1.block().header());
  text(0, "header-0", g.GenesisHeader(crypto::Hash256{}).ToText());
  text(1, "receipt-accepted", chain.receipts().back());
  auto rejected = contracts::Receipt::ParseText(chain.receipts().front()).value();
  rejected.accepted = false;
  rejected.code = "not-permitted";
  rejected.outputs.clear();
  text(1, "receipt-rejected", rejected.ToText());
  const auto& state = chain.ledger().state();
  text(2, "loan-records", state.Get(contracts::LoanRecordsKey(kLoan)).value());
  text(3, "loan", state.Get("loan/" + kLoan).value());
  {
    consensus::proto::ReplicaState rs;
    rs.set_height(1);
    rs.set_round(1);
    rs.set_step(2);
    rs.set_locked_round(0);
    *rs.mutable_locked_block() = b1.block();
    rs.set_valid_round(0);
    *rs.mutable_valid_block() = b1.block();
    auto* record = rs.add_signed_votes();
    record->set_round(0);
    record->set_phase(consensus::proto::PHASE_PREVOTE);
    record->set_block_hash(std::string(crypto::AsBytes(h1)));
    for (const char* member : {"partner-bank", "payee-bank", "lead-bank"}) {
      *rs.add_valid_polka() = Vote(*built, g, member, 1, 0, consensus::Phase::kPrevote, h1).vote();
    }
    text(4, "replica-state", rs.SerializeAsString());
    // The same state as written since each block is persisted once (docs/consensus.md §5).
    rs.clear_valid_block();
    rs.set_valid_is_locked(true);
    text(4, "replica-state-block-once", rs.SerializeAsString());
  }
  {
    crypto::MerkleAccumulator acc;
    for (const auto& b : chain.blocks()) acc.Append(crypto::MerkleLeafHash(b.block().header()));
    text(5, "accumulator", acc.Serialize());
  }
  text(6, "signature", b1.certificate().endorsements(0).signature());
  text(7, "certificate-pem", g.ca_certificate.ToPem());
  text(7, "certificate-der", g.members[0].signing_certificate.ToDer());

  // ---- fuzz_rpc ------------------------------------------------------------------------------------
  int rpc = 0;
  for (const std::string& body :
       {std::string(R"({"jsonrpc":"2.0","id":1,"method":"status"})"),
        R"({"jsonrpc":"2.0","id":"a","method":"submit","params":{"tx":")" + Hex(chain.wires()[0]) + R"("}})",
        std::string(R"({"jsonrpc":"2.0","id":null,"method":"state","params":{"key":"loan/L-FUZZ-1"}})"),
        std::string(R"({"jsonrpc":"2.0","id":7,"method":"fail","params":["invalid-params","x"]})"),
        std::string(R"({"jsonrpc":"2.0","id":8,"method":"throw","params":[]})"),
        std::string(R"({"jsonrpc":"2.0","id":9,"method":"block","params":{"height":1,"nested":[[{"a":[1.5e3,-2,true,false,null,"\u00e9\ud83d\ude00"]}]]}})")}) {
    Write("corpus/fuzz_rpc/request-" + std::to_string(rpc++), body);
  }

  // ---- fuzz_genesis_config ----------------------------------------------------------------------
  Write("corpus/fuzz_genesis_config/genesis.json", built->genesis_text);
  {
    auto genesis_json = nlohmann::json::parse(built->genesis_text);
    nlohmann::json doc = {{"format", "colend-membership/v1"}, {"chain_id", g.chain_id},
                          {"epoch", 1}, {"start_height", 20},
                          {"previous_sha256", crypto::ToHex(g.hash)}, {"quorum", "two-thirds"},
                          {"members", genesis_json["members"]}};
    doc["members"].push_back(genesis::MemberJson(built->spares[0]));
    const std::string text = doc.dump(2) + "\n";
    if (auto m = genesis::ParseMembershipDocument(g, text); !m.ok()) Die(m.error().ToString());
    Write("corpus/fuzz_genesis_config/membership.json", text);
  }
  {
    node::NodeConfig config;
    config.member_id = "lead-bank";
    config.p2p_port = 26656;
    config.rpc_port = 26657;
    config.peers = {{"partner-bank", "127.0.0.1", 26666}, {"payee-bank", "localhost", 26676}};
    config.store_write_buffer_mib = 16;
    config.mempool.txs_max = 5000;  // every optional key, so the fuzzer starts from each
    config.mempool.sender_txs_max = 1000;
    config.mempool.sender_memory_max = std::size_t{8} << 20;
    Write("corpus/fuzz_genesis_config/config.json", config.ToJson());
    // A seed the parser refuses would only exercise that refusal, not the keys after it.
    const std::string seed_home = dir + "/config-seed";
    fs::create_directories(seed_home);
    std::ofstream(seed_home + "/config.json") << config.ToJson();
    if (auto read = node::LoadNodeConfig(seed_home); !read.ok()) Die(read.error().ToString());
  }

  // ---- fuzz_bundle: the loan's evidence, as colend-verify reads it -------------------------------
  auto exported = node::ExportLoanEvidence(chain.ledger(), kLoan, "lead-bank", chain.time_ms());
  if (!exported.ok()) Die(exported.error().ToString());
  std::vector<evidence::ZipEntry> entries = {{"mimetype", "application/vnd.etsi.asic-e+zip", true}};
  for (const auto& f : exported->files) entries.push_back({f.path, f.bytes, false});
  entries.push_back({"documents/" + crypto::ToHex(crypto::Sha256("contract")), "contract", false});
  const std::string zip = dir + "/bundle.zip";
  if (Status s = evidence::WriteZip(zip, entries, options.now_ms / 1000); !s.ok()) Die(s.ToString());
  Write("corpus/fuzz_bundle/bundle.zip", fuzz::ReadFileOrDie(zip));
  Write("corpus/fuzz_bundle/bundle.framed", Framed(entries));
  fs::remove_all(dir);
  std::cout << "make_corpus: wrote " << out_dir << "/fixtures and " << out_dir << "/corpus ("
            << chain.ledger().height() << " blocks, " << exported->files.size()
            << " bundle files)\n";
  return 0;
}
