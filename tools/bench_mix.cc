// colend-bench: the network's homes and keys, and the transaction mixes, pre-signed with the
// CLI's own builder and signer (cli::SignTxAs). See tools/bench.h.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "contracts/lending/money.h"
#include "crypto/hash.h"
#include "node/rpc.h"
#include "tools/bench.h"

namespace colend::bench {
namespace {

using json = nlohmann::json;
using Fields = std::map<std::string, std::string>;

// A loan of 10,000.00 CNY over 10 periods at 0.05 %/day: below the amount that needs an
// extra verification (auth_high_amount_fen, 20,000.00) and within the limit of a score of 720.
constexpr std::int64_t kDrawFen = 1000000;
constexpr std::int64_t kRepayFen = 5000;  // 50.00 CNY, held as credit: accepted
// Borrowers whose steps one client interleaves (step 1 of each, then step 2, ...).
constexpr std::size_t kInterleave = 8;

// Lowercase letters for a number: ids and references hold no run of 6 or more digits, which the
// field checks refuse as possible personal data (docs/transactions.md §3).
std::string Letters(std::uint64_t n, std::size_t min_width = 1) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n > 0);
  while (out.size() < min_width) out.insert(out.begin(), 'a');
  return out;
}

std::string Sha256Hex(const std::string& text) { return crypto::ToHex(crypto::Sha256(text)); }

// This run's tag, from the clock: ids of one run never collide with an earlier run's.
std::string RunTag() {
  std::random_device random;
  return Letters(static_cast<std::uint64_t>(cli::NowMs() / 1000), 7) + Letters(random() % 676, 2);
}

Result<json> StateValue(const BenchNet& net, const std::string& key) {
  const node::NodeConfig& config = net.nodes.front().home.config;
  auto r = node::RpcCall(config.rpc_host, config.rpc_port, "state", json{{"key", key}}, 10000);
  if (!r.ok()) return r.error();
  return *r;
}

// One transaction to sign: which node's key, its type and fields.
struct Draft {
  std::size_t signer = 0;
  std::string type;
  Fields fields;
};

Result<std::size_t> Role(const BenchNet& net, const std::string& role) {
  auto it = net.by_role.find(role);
  if (it == net.by_role.end()) {
    return MakeError("bench-no-role", "the network in " + net.dir + " has no " + role +
                                          " (the loans mix needs lead, partner and payee banks "
                                          "and a credit bureau)");
  }
  return it->second;
}

struct LoanRoles {
  std::size_t lead = 0, partner = 0, payee = 0, bureau = 0;
};

// Borrower `n`'s sequence, in the order it is valid.
std::vector<Draft> LoanSequence(const LoanRoles& r, const ChainFacts& facts, const std::string& tag,
                                std::uint64_t n, const std::vector<std::int64_t>& legs) {
  const std::string loan = "B" + tag + "-" + Letters(n);
  const std::string borrower = Sha256Hex("colend-borrower/v1\nbench-" + tag + "\n" + loan);
  const std::string today = contracts::FormatDate(facts.business_day);
  return {
      {r.bureau, "bureau.snapshot",
       {{"borrower", borrower}, {"institutions", "1"}, {"outstanding-fen", "0"},
        {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"},
        {"max-dpd", "0"}, {"total-loans-fen", "0"}, {"liquid-assets-fen", "10000000"},
        {"valid-until", contracts::FormatDate(facts.business_day + 30)}}},
      {r.lead, "borrower.admit",
       {{"borrower", borrower}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"},
        {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today},
        {"consent-credit-query", "yes"}, {"consent-colending", "yes"}, {"product", "consumer"}}},
      {r.lead, "loan.draw",
       {{"loan", loan}, {"borrower", borrower}, {"amount-fen", std::to_string(kDrawFen)},
        {"periods", "10"}, {"daily-rate-num", "5"}, {"daily-rate-den", "10000"},
        {"approval-sha256", Sha256Hex("lead approval " + loan)}, {"model", "wb-risk-2026.1"}}},
      {r.partner, "loan.approve",
       {{"loan", loan}, {"decision", "approve"},
        {"approval-sha256", Sha256Hex("partner approval " + loan)},
        {"model", "partner-risk-2026.1"}}},
      {r.lead, "loan.fund",
       {{"loan", loan}, {"amount-fen", std::to_string(legs[0])}, {"ref", "LB-" + loan}}},
      {r.partner, "loan.fund",
       {{"loan", loan}, {"amount-fen", std::to_string(legs[1])}, {"ref", "PB-" + loan}}},
      {r.payee, "loan.payout",
       {{"loan", loan}, {"amount-fen", std::to_string(kDrawFen)}, {"account", "VA-" + loan}}},
      {r.payee, "loan.repay", {{"loan", loan}, {"amount-fen", std::to_string(kRepayFen)}}},
      {r.payee, "loan.repay", {{"loan", loan}, {"amount-fen", std::to_string(kRepayFen)}}},
  };
}

Draft AnchorDraft(const BenchNet& net, const std::string& tag, std::uint64_t n) {
  const std::string label = "bench-" + tag + "-" + Letters(n) + ".pdf";
  return {static_cast<std::size_t>(n % net.nodes.size()), "evidence.anchor",
          {{"document-name", label},
           {"document-sha256", Sha256Hex("colend-bench document " + tag + " " + std::to_string(n))},
           {"document-bytes", std::to_string(20000 + n % 50000)}}};
}

// Signs drafts[i] into out[i] on `threads` threads; the first error wins.
Status SignAll(const BenchNet& net, const std::vector<Draft>& drafts, std::vector<PlannedTx>* out,
               unsigned threads) {
  out->assign(drafts.size(), PlannedTx{});
  const std::int64_t now = cli::NowMs();
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<Error> errors(threads);
  auto work = [&](unsigned t) {
    std::mt19937_64 random(std::random_device{}() ^ (std::uint64_t{t} << 32));
    constexpr std::size_t kChunk = 256;
    for (std::size_t begin; !failed && (begin = next.fetch_add(kChunk)) < drafts.size();) {
      for (std::size_t i = begin; i < std::min(drafts.size(), begin + kChunk); ++i) {
        const Draft& d = drafts[i];
        const BenchNode& node = net.nodes[d.signer];
        auto tx = cli::SignTxAs(node.home, node.key, d.type, d.fields, random(), now);
        if (!tx.ok()) {
          errors[t] = tx.error();
          failed = true;
          return;
        }
        (*out)[i] = PlannedTx{crypto::ToHex(tx->Encode()), crypto::ToHex(tx->id), d.type};
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& thread : pool) thread.join();
  for (const Error& e : errors) {
    if (!e.code.empty()) return Error{e.code, "signing the mix: " + e.message, e.detail};
  }
  return Status::Ok();
}

}  // namespace

Result<BenchNet> LoadBenchNet(const std::string& dir) {
  BenchNet net;
  net.dir = dir;
  for (int k = 1; k <= 64; ++k) {
    const std::string home_dir = dir + "/node" + std::to_string(k);
    std::error_code ignored;
    if (!std::filesystem::exists(home_dir + "/config.json", ignored)) break;
    auto home = cli::LoadHome(home_dir);
    if (!home.ok()) return home.error();
    auto key = cli::LoadSigningKey(*home);
    if (!key.ok()) return key.error();
    const genesis::GenesisMember* member = home->genesis.FindMember(home->config.member_id);
    if (!member) {
      return MakeError("bench-bad-net", home_dir + ": member " + home->config.member_id +
                                            " is not in its genesis file");
    }
    net.by_role.emplace(member->role, net.nodes.size());
    net.nodes.push_back(BenchNode{std::move(home).value(), std::move(key).value(), member->role});
  }
  if (net.nodes.empty()) {
    return MakeError("bench-no-net", "no local network in " + dir +
                                         " (no " + dir + "/node1/config.json; make one with "
                                         "colend localnet init --dir " + dir + ")");
  }
  return net;
}

Result<ChainFacts> ReadChainFacts(const BenchNet& net) {
  ChainFacts facts;
  auto version = StateValue(net, "params/current-version");
  if (!version.ok()) return version.error();
  facts.business_day = (*version)["business_day"].get<std::int64_t>();
  if (!(*version)["value"].is_string()) {
    return MakeError("bench-no-params", "the chain has no lending parameters (params/current-version)");
  }
  auto params = StateValue(net, "params/v" + (*version)["value"].get<std::string>());
  if (!params.ok()) return params.error();
  const json p = json::parse((*params)["value"].get<std::string>(), nullptr, false);
  if (!p.is_object() || !p.contains("lead_share_bps") || !p.contains("partner_share_bps") ||
      !p.contains("split_method")) {
    return MakeError("bench-no-params", "the lending parameters lack the co-lending shares");
  }
  facts.lead_share_bps = p["lead_share_bps"].get<int>();
  facts.partner_share_bps = p["partner_share_bps"].get<int>();
  facts.split_method = p["split_method"].get<std::string>();
  return facts;
}

Result<std::vector<PlannedTx>> SetupTxs(const BenchNet& net, Mix mix, const ChainFacts& facts) {
  std::vector<PlannedTx> out;
  if (mix != Mix::kLoans) return out;
  std::vector<Draft> drafts;
  for (const char* role : {"lead_bank", "partner_bank"}) {
    auto index = Role(net, role);
    if (!index.ok()) return index.error();
    // Large attested figures: the concentration caps (R-PRE-06) do not bind in a run.
    drafts.push_back({*index, "bank.figures",
                      {{"tier1-capital-fen", "2000000000000"},
                       {"total-loans-fen", "50000000000000"},
                       {"valid-until", contracts::FormatDate(facts.business_day + 400)}}});
  }
  COLEND_RETURN_IF_ERROR(SignAll(net, drafts, &out, 1));
  return out;
}

Result<std::vector<std::vector<PlannedTx>>> Presign(const BenchNet& net, Mix mix,
                                                    const ChainFacts& facts, std::size_t count,
                                                    std::size_t streams, unsigned threads) {
  const std::string tag = RunTag();
  // Drafts in the order each stream sends them, then the stream boundaries.
  std::vector<Draft> drafts;
  std::vector<std::size_t> stream_sizes(streams, 0);
  if (mix == Mix::kAnchor) {
    drafts.reserve(count);
    // Transaction n goes to stream n mod streams.
    std::vector<std::vector<Draft>> per(streams);
    for (std::uint64_t n = 0; n < count; ++n) per[n % streams].push_back(AnchorDraft(net, tag, n));
    for (std::size_t s = 0; s < streams; ++s) {
      stream_sizes[s] = per[s].size();
      for (auto& d : per[s]) drafts.push_back(std::move(d));
    }
  } else {
    LoanRoles roles;
    const std::pair<std::size_t*, const char*> wanted[] = {{&roles.lead, "lead_bank"},
                                                           {&roles.partner, "partner_bank"},
                                                           {&roles.payee, "payee_bank"},
                                                           {&roles.bureau, "credit_bureau"}};
    for (const auto& [slot, role] : wanted) {
      auto index = Role(net, role);
      if (!index.ok()) return index.error();
      *slot = *index;
    }
    auto split = contracts::ParseSplitMethod(facts.split_method);
    if (!split.ok()) return split.error();
    const std::vector<std::int64_t> legs = contracts::SplitTargets(
        *split, {facts.lead_share_bps, facts.partner_share_bps}, kDrawFen);
    if (legs.size() != 2) return MakeError("bench-bad-params", "a loan has two lenders here");
    const std::size_t borrowers = (count + kLoanSequenceTxs - 1) / kLoanSequenceTxs;
    // Borrower b belongs to stream b mod streams; a stream interleaves kInterleave of its
    // borrowers at a time: step 1 of each, then step 2, ...
    std::vector<std::vector<std::uint64_t>> owned(streams);
    for (std::uint64_t b = 0; b < borrowers; ++b) owned[b % streams].push_back(b);
    drafts.reserve(borrowers * kLoanSequenceTxs);
    for (std::size_t s = 0; s < streams; ++s) {
      for (std::size_t g = 0; g < owned[s].size(); g += kInterleave) {
        const std::size_t end = std::min(owned[s].size(), g + kInterleave);
        std::vector<std::vector<Draft>> group;
        for (std::size_t i = g; i < end; ++i) {
          group.push_back(LoanSequence(roles, facts, tag, owned[s][i], legs));
        }
        for (std::size_t step = 0; step < kLoanSequenceTxs; ++step) {
          for (auto& sequence : group) drafts.push_back(std::move(sequence[step]));
        }
        stream_sizes[s] += group.size() * kLoanSequenceTxs;
      }
    }
  }
  std::vector<PlannedTx> signed_txs;
  COLEND_RETURN_IF_ERROR(SignAll(net, drafts, &signed_txs, std::max(1u, threads)));
  std::vector<std::vector<PlannedTx>> out(streams);
  std::size_t at = 0;
  for (std::size_t s = 0; s < streams; ++s) {
    out[s].assign(std::make_move_iterator(signed_txs.begin() + at),
                  std::make_move_iterator(signed_txs.begin() + at + stream_sizes[s]));
    at += stream_sizes[s];
  }
  return out;
}

}  // namespace colend::bench
