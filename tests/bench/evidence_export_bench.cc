// Evidence export cost against chain length (issue: "export of one loan does not grow with chain
// length"). Builds a real chain in-process through the ledger (real store, signed transactions,
// real certificates): one joint loan with its lifecycle and an attached document, then other
// business after it (signed evidence.anchor transactions, 5,000 a block), and at each checkpoint
// of the number of other transactions times node::ExportLoanEvidence of that loan (median of
// --runs) and prints its size, so the ratio between checkpoints comes from one run.
//
//   evidence_export_bench --other 10000,1000000 [--runs 7]
//
// It prints figures; it does not pass or fail on timing (machines here are shared and noisy).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "contracts/lending.h"
#include "contracts/money.h"
#include "genesis/builder.h"
#include "node/evidence_export.h"
#include "node/ledger.h"

namespace {

using namespace colend;  // NOLINT: a benchmark program

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

long RssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

class BenchChain {
 public:
  BenchChain(const genesis::BuiltConsortium& built, const genesis::Genesis& genesis,
             const std::string& dir)
      : built_(built), genesis_(genesis) {
    auto store = node::Store::Open(dir, genesis.hash);
    if (!store.ok()) Die(store.error().ToString());
    store_ = std::move(store).value();
    ledger_ = std::make_unique<node::Ledger>(genesis_, store_.get());
    if (Status s = ledger_->Open(); !s.ok()) Die(s.ToString());
    time_ms_ = genesis.genesis_time_ms + 60000;
  }

  static void Die(const std::string& why) {
    std::cerr << "evidence_export_bench: " << why << "\n";
    std::exit(1);
  }

  const crypto::PrivateKey& Key(const std::string& member) const {
    for (const auto& m : built_.members) {
      if (m.id == member) return m.signing_key;
    }
    Die("no member " + member);
    return built_.members[0].signing_key;
  }

  std::string Tx(const std::string& sender, const std::string& type,
                 std::map<std::string, std::string> fields) {
    contracts::TxBody body;
    body.chain_id = genesis_.chain_id;
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = time_ms_;
    body.type = type;
    body.fields = std::move(fields);
    auto tx = contracts::SignTx(body, Key(sender));
    if (!tx.ok()) Die(tx.error().ToString());
    return tx->Encode();
  }

  // Commits the candidates as one block; every one must be included and accepted unless allowed.
  void Commit(const std::vector<std::string>& txs) {
    const std::uint64_t height = ledger_->height() + 1;
    time_ms_ += 1000;
    std::vector<node::Ledger::Dropped> dropped;
    auto block = ledger_->BuildBlock(height, time_ms_, built_.members[0].id, txs, &dropped);
    if (!dropped.empty()) Die("a transaction was dropped: " + dropped[0].error.ToString());
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
    if (Status s = ledger_->CommitBlock(block, cert); !s.ok()) Die(s.ToString());
  }
  // One transaction in its own block; it must be accepted.
  void One(const std::string& sender, const std::string& type,
           std::map<std::string, std::string> fields) {
    const std::string wire = Tx(sender, type, std::move(fields));
    Commit({wire});
    auto receipt = ledger_->state().Get(contracts::ReceiptKey(contracts::DecodeTx(wire)->id));
    if (!receipt || receipt->find("status: accepted") == std::string::npos) {
      Die(type + " was not accepted: " + receipt.value_or("no receipt"));
    }
  }

  node::Ledger& ledger() { return *ledger_; }
  std::int64_t time_ms() const { return time_ms_; }

 private:
  const genesis::BuiltConsortium& built_;
  const genesis::Genesis& genesis_;
  std::unique_ptr<node::Store> store_;
  std::unique_ptr<node::Ledger> ledger_;
  std::uint64_t nonce_ = 0;
  std::int64_t time_ms_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> checkpoints = {10000};
  int runs = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--other")) {
      checkpoints.clear();
      std::string list = argv[i + 1];
      for (std::size_t at = 0; at <= list.size();) {
        std::size_t comma = list.find(',', at);
        if (comma == std::string::npos) comma = list.size();
        checkpoints.push_back(std::stoull(list.substr(at, comma - at)));
        at = comma + 1;
      }
      std::sort(checkpoints.begin(), checkpoints.end());
    }
    if (!std::strcmp(argv[i], "--runs")) runs = std::stoi(argv[i + 1]);
  }
  genesis::ConsortiumOptions options;
  options.chain_id = "colend-export-bench";
  options.dev_clock = true;
  options.now_ms = 1764316800000;
  options.consensus.block_txs_max = 5000;
  auto built = genesis::BuildConsortium(options);
  if (!built.ok()) BenchChain::Die(built.error().ToString());
  auto genesis = genesis::ParseGenesis(built->genesis_text);
  if (!genesis.ok()) BenchChain::Die(genesis.error().ToString());
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("colend-export-bench-" + std::to_string(::getpid())))
                              .string();
  BenchChain chain(*built, *genesis, dir);

  // One joint loan, as the lending demo makes it: admission, verification, drawdown, the partner's
  // approval, both funding legs, payout, two repayments, and an attached contract.
  const std::string b = crypto::ToHex(crypto::Sha256("bench borrower"));
  const std::string today = contracts::FormatDate(contracts::BusinessDay(chain.ledger().state()));
  const std::string until = contracts::FormatDate(contracts::BusinessDay(chain.ledger().state()) + 30);
  for (const char* bank : {"lead-bank", "partner-bank"}) {
    chain.One(bank, "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}});
  }
  chain.One("credit-bureau", "bureau.snapshot", {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", until}});
  chain.One("lead-bank", "borrower.admit", {{"borrower", b}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age", "30"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today}, {"consent-credit-query", "yes"}, {"consent-colending", "yes"}});
  chain.One("lead-bank", "auth.result", {{"borrower", b}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}});
  const std::string loan = "LBENCH";
  chain.One("lead-bank", "loan.draw", {{"loan", loan}, {"borrower", b}, {"amount-fen", "4000000"}, {"periods", "20"}, {"approval-sha256", std::string(64, 'a')}, {"model", "wb-risk-2026.1"}});
  chain.One("partner-bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}});
  chain.One("lead-bank", "loan.fund", {{"loan", loan}, {"amount-fen", "800000"}, {"ref", "a"}});
  chain.One("partner-bank", "loan.fund", {{"loan", loan}, {"amount-fen", "3200000"}, {"ref", "b"}});
  chain.One("payee-bank", "loan.payout", {{"loan", loan}, {"amount-fen", "4000000"}, {"account", "VA-1"}});
  chain.One("payee-bank", "loan.repay", {{"loan", loan}, {"amount-fen", "100000"}});
  chain.One("lead-bank", "evidence.attach", {{"loan", loan}, {"kind", "contract"}, {"document-sha256", crypto::ToHex(crypto::Sha256("contract"))}, {"document-bytes", "8"}});

  // Other business after it: signed anchors of other documents, 5,000 a block; the export is
  // timed at every checkpoint.
  const auto build_start = std::chrono::steady_clock::now();
  std::vector<std::string> batch;
  std::uint64_t other = 0;
  for (std::uint64_t checkpoint : checkpoints) {
    for (; other < checkpoint; ++other) {
      batch.push_back(chain.Tx("payee-bank", "evidence.anchor", {{"document-sha256", crypto::ToHex(crypto::Sha256("other " + std::to_string(other)))}}));
      if (batch.size() == 5000 || other + 1 == checkpoint) {
        chain.Commit(batch);
        batch.clear();
      }
    }
    const double build_ms = Ms(std::chrono::steady_clock::now() - build_start);
    std::vector<double> times;
    std::size_t files = 0, bytes = 0, records = 0;
    for (int r = 0; r < runs; ++r) {
      const auto start = std::chrono::steady_clock::now();
      auto exported = node::ExportLoanEvidence(chain.ledger(), loan, "lead-bank", chain.time_ms());
      times.push_back(Ms(std::chrono::steady_clock::now() - start));
      if (!exported.ok()) BenchChain::Die(exported.error().ToString());
      files = exported->files.size();
      records = exported->records;
      bytes = 0;
      for (const auto& f : exported->files) bytes += f.bytes.size();
    }
    std::sort(times.begin(), times.end());
    std::printf("other transactions on chain: %llu (height %llu, %zu state entries; chain built in %.1f s)\n",
                static_cast<unsigned long long>(other),
                static_cast<unsigned long long>(chain.ledger().height()),
                chain.ledger().state().size(), build_ms / 1000);
    std::printf("  export of loan %s: %zu records, %zu files, %zu bytes; median %.2f ms (min %.2f, max %.2f, %d runs); RSS %ld MiB\n",
                loan.c_str(), records, files, bytes, times[times.size() / 2], times.front(),
                times.back(), runs, RssMiB());
    // Where the time goes: state proofs, reading the anchor block, ledger proofs.
    {
      node::Ledger& ledger = chain.ledger();
      auto t0 = std::chrono::steady_clock::now();
      int proofs = 0;
      for (const auto& [key, value] : ledger.state().Scan("tx/", 100)) proofs += ledger.state().Prove(key).has_value();
      auto t1 = std::chrono::steady_clock::now();
      auto anchor = ledger.store()->GetBlock(ledger.height());
      auto t2 = std::chrono::steady_clock::now();
      auto subtree = [&](int level, std::uint64_t index) { return ledger.store()->GetLedgerNode(level, index); };
      for (std::uint64_t h = 1; h <= 10; ++h) (void)crypto::MerkleInclusionProofFromSubtrees(subtree, h, ledger.height());
      auto t3 = std::chrono::steady_clock::now();
      std::printf("  breakdown: %d state proofs %.2f ms; anchor block read %.2f ms (%d txs); 10 ledger proofs %.2f ms\n",
                  proofs, Ms(t1 - t0), Ms(t2 - t1), anchor.ok() ? anchor->block().txs_size() : -1, Ms(t3 - t2));
    }
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
