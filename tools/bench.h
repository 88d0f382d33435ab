// colend-bench (issue 15): drives a running local network (`colend localnet`) with pre-signed
// transactions at a fixed offered rate or as fast as it goes, and measures committed tx/s, commit
// latency (submit → committed, as a client waiting on the node with wait_tx sees it), the
// signature-verification bound of the same machine, and the nodes' memory.
//
//   bench_mix.cc    the network's homes and keys; the transaction mixes, pre-signed with the
//                   CLI's signer (SignTxAs)
//   bench_load.cc   the clients: submitting on kept connections, waiting with wait_tx
//   bench_probe.cc  the verification bound and the node processes' RSS
//   bench_main.cc   options, the run, the table and the JSON
//
// Doubles are used for reporting only; nothing here reaches consensus.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "contracts/tx.h"
#include "crypto/result.h"
#include "crypto/signature.h"
#include "tools/cli.h"

namespace colend::bench {

// ------------------------------------------------------------------------------ the network

struct BenchNode {
  cli::Home home;
  crypto::PrivateKey key;  // the institution's signing key (signing.key)
  std::string role;        // its role in the genesis file
};

struct BenchNet {
  std::string dir;
  std::vector<BenchNode> nodes;  // D/node1 .. D/nodeN, in order
  // The first node of each role, by role name (lead_bank, partner_bank, ...).
  std::map<std::string, std::size_t> by_role;
};

// Reads D/nodeK (K = 1.. while D/nodeK/config.json exists): config, genesis and signing key.
Result<BenchNet> LoadBenchNet(const std::string& dir);

// ------------------------------------------------------------------------------ the mixes

enum class Mix { kAnchor, kLoans };

struct PlannedTx {
  std::string wire_hex;  // the submit RPC's "tx"
  std::string id_hex;
  std::string type;
};

// What the loans mix reads from the chain before signing.
struct ChainFacts {
  std::int64_t business_day = 0;
  int lead_share_bps = 0;
  int partner_share_bps = 0;
  std::string split_method;
};
Result<ChainFacts> ReadChainFacts(const BenchNet& net);

// Transactions to commit before the measured load (loans: each bank's attested figures, which
// drawdowns need); empty for the anchor mix.
Result<std::vector<PlannedTx>> SetupTxs(const BenchNet& net, Mix mix, const ChainFacts& facts);

// At least `count` transactions of `mix`, pre-signed on `threads` threads, split into `streams`
// client streams, each in the order it must be sent. Loans: each borrower's sequence (bureau
// snapshot, admission, drawdown, partner approval, two funding legs, payout, two repayments;
// each signed by the member whose role may send it) is in one stream, interleaved with other
// borrowers', so it stays valid in the order sent. Anchor: evidence.anchor records signed by
// every member in turn.
Result<std::vector<std::vector<PlannedTx>>> Presign(const BenchNet& net, Mix mix,
                                                    const ChainFacts& facts, std::size_t count,
                                                    std::size_t streams, unsigned threads);
// Transactions per borrower in the loans mix.
inline constexpr std::size_t kLoanSequenceTxs = 9;

// ------------------------------------------------------------------------------ the load

struct LoadOptions {
  double rate = 0;  // offered tx/s over all clients; 0: as fast as it goes
  double duration_s = 20;
  std::size_t inflight_max = 500;   // without a rate: submitted, not yet committed, all clients
  std::int64_t drain_ms = 30000;    // after the last submit, how long to wait for commits
};

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

struct TxOutcome {
  std::int64_t submit_us = -1;  // steady clock, when the submit call began; -1: not sent
  std::int64_t commit_us = -1;  // when a waiting client saw it committed; -1: not seen
  std::int64_t lag_us = 0;      // how late the submit was against the offered schedule
  std::uint64_t height = 0;
  bool accepted = false;
  std::string code;          // the receipt's code when committed
  std::string submit_error;  // the submit's error code when it was refused
};

struct LoadResult {
  std::vector<TxOutcome> outcomes;  // every transaction the clients got to (sent or refused)
  std::int64_t start_us = 0;        // when the clients began
  std::int64_t last_submit_us = 0;
  bool streams_exhausted = false;  // a client ran out of pre-signed transactions early
};

// Runs one client per stream: client c submits stream c to endpoint c mod N on a kept
// connection, and a waiter of its own waits for its transactions with wait_tx {"ids"} on the
// same node. Returns when the duration is over and every submitted transaction is committed or
// drain_ms has passed since the last submit.
LoadResult RunLoad(const std::vector<Endpoint>& endpoints,
                   const std::vector<std::vector<PlannedTx>>& streams, const LoadOptions& options);

// Submits `txs` (to the first endpoint) and waits until each is committed; error if one is not.
Status CommitAll(const Endpoint& endpoint, const std::vector<PlannedTx>& txs);

std::int64_t MonoUs();  // steady clock, microseconds

// ------------------------------------------------------------------------------ probes

struct VerifyBound {
  std::size_t signatures = 0;
  unsigned threads = 0;
  double seconds = 0;
  double per_second = 0;  // signature verifications per second on all threads (OpenSSL, raw)
  // The same signatures through crypto::PublicKey::Verify, the nodes' own check with its
  // per-call work (strict DER, the cache key over the key's DER encoding, the cache).
  double node_path_per_second = 0;
};
// Signs `count` distinct transaction bodies of the chain's suite with the members' keys, then
// verifies each once on `threads` threads: with OpenSSL directly on keys decoded once (the
// bound: the signature arithmetic), and through crypto::PublicKey::Verify; only verification is
// timed.
Result<VerifyBound> MeasureVerifyBound(const BenchNet& net, std::size_t count, unsigned threads);

struct NodeMemory {
  std::string member;
  pid_t pid = 0;  // 0: not found
  double rss_mib = 0;      // VmRSS, the most seen while sampling
  double hwm_mib = 0;      // VmHWM at the end (the kernel's peak)
};
// The colend-node process of each D/nodeK: D/nodeK/node.pid if it names a colend-node,
// otherwise a /proc scan for a colend-node whose command line has --home D/nodeK.
std::vector<NodeMemory> FindNodeProcesses(const BenchNet& net);
// Updates rss_mib (max with the current VmRSS) and hwm_mib from /proc/<pid>/status.
void SampleMemory(std::vector<NodeMemory>* nodes);

}  // namespace colend::bench
