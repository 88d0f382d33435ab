// Evidence export cost against chain length (issue: "export of one loan does not grow with chain
// length"). Builds a real chain in-process through the ledger (real store, signed transactions,
// real certificates): one joint loan with its lifecycle and an attached document, then other
// business after it (signed evidence.anchor transactions, 5,000 a block), on two chains in one
// process (--small and --large other transactions), and times node::ExportLoanEvidence of the
// loan on each, alternately, printing the medians and the large/small ratio pair by pair.
//
//   evidence_export_bench [--small 10000] [--large 1000000] [--runs 51]
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

#include "contracts/lending/lending.h"
#include "contracts/lending/money.h"
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

namespace {

// One joint loan, as the lending demo makes it: admission, verification, drawdown, the partner's
// approval, both funding legs, payout, a repayment, and an attached contract; then `other` signed
// anchors of other documents, 5,000 a block.
void BuildChain(BenchChain& chain, const std::string& loan, std::uint64_t other) {
  const std::string b = crypto::ToHex(crypto::Sha256("bench borrower"));
  const std::int64_t day = contracts::BusinessDay(chain.ledger().state());
  const std::string today = contracts::FormatDate(day), until = contracts::FormatDate(day + 30);
  for (const char* bank : {"lead-bank", "partner-bank"}) {
    chain.One(bank, "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}});
  }
  chain.One("credit-bureau", "bureau.snapshot", {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", until}});
  chain.One("lead-bank", "borrower.admit", {{"borrower", b}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today}, {"consent-credit-query", "yes"}, {"consent-colending", "yes"}});
  chain.One("lead-bank", "auth.result", {{"borrower", b}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}});
  chain.One("lead-bank", "loan.draw", {{"loan", loan}, {"borrower", b}, {"amount-fen", "4000000"}, {"periods", "20"}, {"approval-sha256", std::string(64, 'a')}, {"model", "wb-risk-2026.1"}});
  chain.One("partner-bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}});
  chain.One("lead-bank", "loan.fund", {{"loan", loan}, {"amount-fen", "800000"}, {"ref", "a"}});
  chain.One("partner-bank", "loan.fund", {{"loan", loan}, {"amount-fen", "3200000"}, {"ref", "b"}});
  chain.One("payee-bank", "loan.payout", {{"loan", loan}, {"amount-fen", "4000000"}, {"account", "VA-1"}});
  chain.One("payee-bank", "loan.repay", {{"loan", loan}, {"amount-fen", "100000"}});
  chain.One("lead-bank", "evidence.attach", {{"loan", loan}, {"kind", "contract"}, {"document-sha256", crypto::ToHex(crypto::Sha256("contract"))}, {"document-bytes", "8"}});
  std::vector<std::string> batch;
  for (std::uint64_t i = 0; i < other; ++i) {
    batch.push_back(chain.Tx("payee-bank", "evidence.anchor", {{"document-sha256", crypto::ToHex(crypto::Sha256("other " + std::to_string(i)))}}));
    if (batch.size() == 5000 || i + 1 == other) {
      chain.Commit(batch);
      batch.clear();
    }
  }
}

struct Export {
  double ms = 0;
  std::size_t files = 0, bytes = 0, records = 0;
};

Export TimeExport(BenchChain& chain, const std::string& loan) {
  const auto start = std::chrono::steady_clock::now();
  auto exported = node::ExportLoanEvidence(chain.ledger(), loan, "lead-bank", chain.time_ms());
  Export e;
  e.ms = Ms(std::chrono::steady_clock::now() - start);
  if (!exported.ok()) BenchChain::Die(exported.error().ToString());
  e.files = exported->files.size();
  e.records = exported->records;
  for (const auto& f : exported->files) e.bytes += f.bytes.size();
  return e;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

// Two chains in one process, the same loan on each, with `small` and `large` other transactions;
// their exports are timed alternately (small, large, small, large, ...) so that the ratio of each
// pair is measured under the same machine load.
int main(int argc, char** argv) {
  std::uint64_t small = 10000, large = 1000000;
  int runs = 51;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--small")) small = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--large")) large = std::stoull(argv[i + 1]);
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
  const std::string base = (std::filesystem::temp_directory_path() /
                            ("colend-export-bench-" + std::to_string(::getpid())))
                               .string();
  const std::string loan = "LBENCH";
  BenchChain small_chain(*built, *genesis, base + "-small");
  BenchChain large_chain(*built, *genesis, base + "-large");
  auto t0 = std::chrono::steady_clock::now();
  BuildChain(small_chain, loan, small);
  auto t1 = std::chrono::steady_clock::now();
  BuildChain(large_chain, loan, large);
  auto t2 = std::chrono::steady_clock::now();
  std::vector<double> small_ms, large_ms, ratios;
  Export a, b;
  for (int r = 0; r < runs; ++r) {
    a = TimeExport(small_chain, loan);
    b = TimeExport(large_chain, loan);
    small_ms.push_back(a.ms);
    large_ms.push_back(b.ms);
    ratios.push_back(b.ms / a.ms);
  }
  for (auto [chain, other, e, ms, build] :
       {std::tuple(&small_chain, small, a, &small_ms, Ms(t1 - t0)), std::tuple(&large_chain, large, b, &large_ms, Ms(t2 - t1))}) {
    std::printf("%llu other transactions (height %llu, %zu state entries, built in %.0f s): export of %s = %zu records, %zu files, %zu bytes, median %.2f ms (min %.2f)\n",
                static_cast<unsigned long long>(other), static_cast<unsigned long long>(chain->ledger().height()),
                chain->ledger().state().Scan("", ~std::size_t{0}).size(), build / 1000, loan.c_str(), e.records, e.files, e.bytes,
                Median(*ms), *std::min_element(ms->begin(), ms->end()));
  }
  std::printf("ratio large/small, pair by pair over %d alternating runs: median %.2f (min %.2f, max %.2f); RSS %ld MiB\n",
              runs, Median(ratios), *std::min_element(ratios.begin(), ratios.end()),
              *std::max_element(ratios.begin(), ratios.end()), RssMiB());
  std::filesystem::remove_all(base + "-small");
  std::filesystem::remove_all(base + "-large");
  return 0;
}
