// Microbenchmarks of the hot paths (issue 15 item 4), with Google Benchmark:
//   signature verification through crypto::PublicKey::Verify (std and sm suites; cold: every
//   signature new to the verified-signature cache; and a cache hit), the Merkle root of a
//   block's transactions, the state root after a block's writes, contract execution of a
//   drawdown and of a repayment with a book of loans in place, and executing a block of 300
//   evidence anchors with its state root.
//
//   build/bin/micro_bench [--benchmark_filter=REGEX] [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "contracts/state.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "lending_book.h"

namespace {

using namespace colend;  // NOLINT
using colend::bench::Book;

// More distinct signatures than the verified-signature cache holds (65,536, first in first out),
// so that cycling through them never hits it.
constexpr std::size_t kColdSignatures = 70000;

struct Signed {
  crypto::PublicKey key;
  std::vector<std::string> messages, signatures;
};

const Signed& Signatures(crypto::Suite suite) {
  static std::map<crypto::Suite, Signed> made;
  auto it = made.find(suite);
  if (it != made.end()) return it->second;
  auto key = *crypto::PrivateKey::Generate(suite);
  Signed s{key.Public(), {}, {}};
  for (std::size_t i = 0; i < kColdSignatures; ++i) {
    s.messages.push_back("colend-tx/v1\nnonce: " + std::to_string(i) + "\nbody of a transaction");
    s.signatures.push_back(*key.Sign(s.messages.back()));
  }
  return made.emplace(suite, std::move(s)).first->second;
}

void BM_VerifyCold(benchmark::State& state, crypto::Suite suite) {
  const Signed& s = Signatures(suite);
  std::size_t i = 0;
  for (auto _ : state) {
    const Status ok = s.key.Verify(s.messages[i], s.signatures[i]);
    if (!ok.ok()) state.SkipWithError("a valid signature did not verify");
    i = (i + 1) % kColdSignatures;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_VerifyCold, std, crypto::Suite::kStd);
BENCHMARK_CAPTURE(BM_VerifyCold, sm, crypto::Suite::kSm);

void BM_VerifyCached(benchmark::State& state) {
  const Signed& s = Signatures(crypto::Suite::kStd);
  (void)s.key.Verify(s.messages[0], s.signatures[0]);
  for (auto _ : state) benchmark::DoNotOptimize(s.key.Verify(s.messages[0], s.signatures[0]));
}
BENCHMARK(BM_VerifyCached);

void BM_MerkleRoot(benchmark::State& state) {
  std::vector<crypto::Hash256> leaves;
  for (std::int64_t i = 0; i < state.range(0); ++i) leaves.push_back(crypto::Sha256(std::to_string(i)));
  for (auto _ : state) benchmark::DoNotOptimize(crypto::MerkleRoot(leaves));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MerkleRoot)->Arg(300)->Arg(3000);

// The state root after a block of 300 writes (each a 200-byte record), over a state of N entries.
void BM_StateRootAfterBlock(benchmark::State& state) {
  contracts::StateTree tree;
  contracts::StateWrites base;
  const std::string value(200, 'v');
  for (std::int64_t i = 0; i < state.range(0); ++i) base["loan/L" + std::to_string(i)] = value;
  tree.Apply(base);
  std::uint64_t round = 0;
  for (auto _ : state) {
    contracts::StateWrites writes;
    for (int k = 0; k < 300; ++k) {
      writes["loan/L" + std::to_string((round * 300 + k) * 7919 % state.range(0))] = value + std::to_string(round);
    }
    ++round;
    benchmark::DoNotOptimize(tree.RootAfter(writes));
  }
}
BENCHMARK(BM_StateRootAfterBlock)->Arg(10000)->Arg(100000);

// loan.draw (with the verification it needs) on a book of 2,000 loans.
void BM_ContractDrawdown(benchmark::State& state) {
  Book book;
  std::string borrower;
  for (int i = 0; i < 2000; ++i) {
    if (i % 20 == 0) borrower = book.Admit(i / 20);
    book.Originate("B" + std::to_string(i), borrower);
  }
  std::vector<std::string> borrowers;
  for (int i = 0; i < 1000; ++i) borrowers.push_back(book.Admit(1000000 + i));
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::string& b = borrowers[n % borrowers.size()];
    Book::Must(book.Draw("D" + std::to_string(n), b));
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ContractDrawdown)->Iterations(10000);

// loan.repay of a due installment, each on its own loan.
void BM_ContractRepayment(benchmark::State& state) {
  Book book;
  std::string borrower;
  const int loans = static_cast<int>(state.max_iterations);
  for (int i = 0; i < loans; ++i) {
    if (i % 20 == 0) borrower = book.Admit(i / 20);
    book.Originate("R" + std::to_string(i), borrower);
  }
  const contracts::Loan first = *contracts::Loan::FromText(*book.state().Get("loan/R0"));
  Book::Must(book.Send("lead-bank", "clock.advance", {{"days", std::to_string(first.installments[0].due_day - book.Today())}}));
  const std::int64_t due = first.installments[0].principal_fen + first.installments[0].interest_fen;
  int i = 0;
  for (auto _ : state) {
    Book::Must(book.Send("payee-bank", "loan.repay", {{"loan", "R" + std::to_string(i++)}, {"amount-fen", std::to_string(due)}}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ContractRepayment)->Iterations(3000);

// A loan record's stored text: written directly (Loan::ToText) against building nlohmann's tree
// and dumping it (Loan::ToJson().dump(), the writer before issue 15; same bytes). A 12-period
// loan as a drawdown leaves it.
void BM_LoanText(benchmark::State& state) {
  Book book;
  const std::string borrower = book.Admit(1);
  book.Originate("T1", borrower);
  const contracts::Loan loan = *contracts::Loan::FromText(*book.state().Get("loan/T1"));
  const bool tree = state.range(0) == 1;
  for (auto _ : state) benchmark::DoNotOptimize(tree ? loan.ToJson().dump() : loan.ToText());
  state.SetLabel(tree ? "nlohmann tree + dump" : "direct");
}
BENCHMARK(BM_LoanText)->Arg(0)->Arg(1);

void BM_LoanParse(benchmark::State& state) {
  Book book;
  const std::string borrower = book.Admit(1);
  book.Originate("T1", borrower);
  const std::string text = *book.state().Get("loan/T1");
  for (auto _ : state) benchmark::DoNotOptimize(contracts::Loan::FromText(text));
}
BENCHMARK(BM_LoanParse);

// A block of 300 evidence anchors executed over a 100,000-entry state, and its state root.
void BM_BlockOfAnchors(benchmark::State& state) {
  contracts::ChainRules rules = contracts::testing::DefaultInstitutionRules("colend-bench", true);
  contracts::Executor executor(rules);
  contracts::StateTree tree;
  contracts::StateWrites base;
  for (int i = 0; i < 100000; ++i) base["anchor/" + crypto::ToHex(crypto::Sha256(std::to_string(i)))] = std::string(120, 'a');
  tree.Apply(base);
  std::uint64_t nonce = 0;
  for (auto _ : state) {
    contracts::StateOverlay overlay(&tree);
    for (int k = 0; k < 300; ++k) {
      contracts::TxBody body;
      body.chain_id = "colend-bench";
      body.sender = "lead-bank";
      body.nonce = ++nonce;
      body.timestamp_ms = 1764705660000;
      body.type = "evidence.anchor";
      body.fields = {{"document-sha256", crypto::ToHex(crypto::Sha256("doc " + std::to_string(nonce)))}};
      contracts::Tx tx;
      tx.body_text = body.ToText();
      tx.body = std::move(body);
      tx.id = crypto::Sha256(tx.body_text);
      const contracts::Receipt r = executor.Execute(tx, {1, 1764705660000}, k, &overlay);
      if (!r.accepted) state.SkipWithError(r.message.c_str());
    }
    benchmark::DoNotOptimize(tree.RootAfter(overlay.writes()));
  }
  state.SetItemsProcessed(state.iterations() * 300);
}
BENCHMARK(BM_BlockOfAnchors);

}  // namespace

BENCHMARK_MAIN();
