// colend-bench: options, the run, the table and the JSON. See tools/bench.h.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "node/rpc.h"
#include "tools/bench.h"
#include "tools/cli_spec.h"

namespace colend::bench {
namespace {

using json = nlohmann::json;

constexpr double kDurationMax = 300;
constexpr std::size_t kClientsMax = 128;
constexpr std::size_t kPresignMax = 300000;
constexpr std::size_t kPresignMin = 2000;
constexpr std::int64_t kSampleMs = 500;

int Usage(const cli::Args& args, const std::string& message) {
  std::cerr << "colend-bench: " << message << "\n" << args.usage;
  return 2;
}

int Fail(const Error& error) {
  std::cerr << "colend-bench: " << error.message << " [" << error.code << "]" << std::endl;
  return 1;
}

// Decimal digits with at most one '.' among them (no sign, space, exponent, hex or "inf").
bool IsDecimal(const std::string& text) {
  std::size_t digits = 0, points = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.') {
      ++points;
    } else {
      return false;
    }
  }
  return digits > 0 && points <= 1 && text.size() <= 32;
}

// A positive decimal number from an option, within (0, max]; error text names the option.
Result<double> Number(const cli::Args& args, const std::string& name, double fallback, double max) {
  if (!args.Has(name)) return fallback;
  const std::string text = args.Get(name);
  try {
    if (!IsDecimal(text)) throw std::invalid_argument("");
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v) || v <= 0 || v > max) throw std::out_of_range("");
    return v;
  } catch (...) {
    return MakeError("usage", "--" + name + " must be a decimal number above 0 and at most " +
                                  std::to_string(static_cast<long long>(max)) + ", not '" + text +
                                  "'");
  }
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The highest height any node reports; none if no node answers.
std::optional<std::uint64_t> ChainHeight(const std::vector<Endpoint>& endpoints) {
  std::optional<std::uint64_t> best;
  for (const Endpoint& e : endpoints) {
    auto s = node::RpcCall(e.host, e.port, "status", json::object(), 3000);
    if (!s.ok() || !s->contains("height") || !(*s)["height"].is_number_unsigned()) continue;
    best = std::max(best.value_or(0), (*s)["height"].get<std::uint64_t>());
  }
  return best;
}

struct Options {
  std::string dir;
  Mix mix = Mix::kLoans;
  std::size_t clients = 8;
  LoadOptions load;
  bool json = false;
};

Result<Options> ParseOptions(const cli::Args& args) {
  // Unknown options and stray words are refused by the parser (kProgram below).
  Options o;
  o.dir = args.Get("dir");
  if (o.dir.empty()) return MakeError("usage", "--dir D is required");
  const std::string mix = args.Get("mix", "loans");
  if (mix != "loans" && mix != "anchor") {
    return MakeError("usage", "--mix must be loans or anchor, not '" + mix + "'");
  }
  o.mix = mix == "anchor" ? Mix::kAnchor : Mix::kLoans;
  auto duration = Number(args, "duration", 20, kDurationMax);
  if (!duration.ok()) return duration.error();
  auto rate = Number(args, "rate", 0, 1e6);
  if (args.Has("rate") && !rate.ok()) return rate.error();
  auto clients = Number(args, "clients", 8, kClientsMax);
  auto inflight = Number(args, "inflight", 500, 200000);
  for (const auto* n : {&clients, &inflight}) {
    if (!n->ok()) return n->error();
    if (std::floor(n->value()) != n->value()) {
      return MakeError("usage", std::string("--") + (n == &clients ? "clients" : "inflight") +
                                    " must be a whole number");
    }
  }
  o.load.duration_s = *duration;
  o.load.rate = *rate;
  o.clients = static_cast<std::size_t>(*clients);
  o.load.inflight_max = static_cast<std::size_t>(*inflight);
  if (o.load.inflight_max < o.clients) {
    return MakeError("usage", "--inflight must be at least --clients");
  }
  o.json = args.Has("json");
  return o;
}

int Run(const Options& o) {
  auto loaded = LoadBenchNet(o.dir);
  if (!loaded.ok()) return Fail(loaded.error());
  const BenchNet& net = *loaded;
  std::vector<Endpoint> endpoints;
  for (const BenchNode& n : net.nodes) {
    if (n.home.config.rpc_remote) {
      return Fail(MakeError("bench-remote-rpc", n.home.config.home +
                                                    " serves its RPC over TLS (rpc_remote); "
                                                    "colend-bench drives loopback networks"));
    }
    endpoints.push_back({n.home.config.rpc_host, n.home.config.rpc_port});
    auto status = node::RpcCall(n.home.config.rpc_host, n.home.config.rpc_port, "status",
                                json::object(), 3000);
    if (!status.ok()) {
      return Fail(Error{status.error().code, n.home.config.member_id + " (" + n.home.config.home +
                                                 ") does not answer: " + status.error().message +
                                                 " (start the network: colend localnet up --dir " +
                                                 o.dir + ")",
                        ""});
    }
  }
  auto say = [&](const std::string& line) {
    if (!o.json) std::cerr << line << std::endl;
  };
  const crypto::Suite suite = net.nodes.front().home.genesis.suite;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  say("measuring the signature-verification bound on " + std::to_string(cores) + " threads...");
  auto bound = MeasureVerifyBound(net, suite == crypto::Suite::kStd ? 12000 : 4000, cores);
  if (!bound.ok()) return Fail(bound.error());
  const double bound_tps = bound->per_second / static_cast<double>(net.nodes.size());
  ChainFacts facts;
  if (o.mix == Mix::kLoans) {
    auto read = ReadChainFacts(net);
    if (!read.ok()) return Fail(read.error());
    facts = *read;
  }
  auto setup = SetupTxs(net, o.mix, facts);
  if (!setup.ok()) return Fail(setup.error());
  if (Status s = CommitAll(endpoints.front(), *setup); !s.ok()) return Fail(s.error());
  // With a rate: what the schedule sends. Without: what the bound allows in the duration (the
  // network cannot commit more), within [kPresignMin, kPresignMax].
  const double wanted = o.load.rate > 0 ? o.load.rate * o.load.duration_s
                                        : bound_tps * o.load.duration_s;
  const std::size_t count = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(wanted)),
                                                    o.load.rate > 0 ? 1 : kPresignMin, kPresignMax);
  say("pre-signing " + std::to_string(count) + " transactions...");
  auto streams = Presign(net, o.mix, facts, count, o.clients, cores);
  if (!streams.ok()) return Fail(streams.error());
  std::vector<NodeMemory> memory = FindNodeProcesses(net);
  SampleMemory(&memory);
  const std::optional<std::uint64_t> height_before = ChainHeight(endpoints);
  say("driving " + std::to_string(net.nodes.size()) + " nodes for " + Fixed(o.load.duration_s, 0) +
      " s...");
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      SampleMemory(&memory);
      std::this_thread::sleep_for(std::chrono::milliseconds(kSampleMs));
    }
  });
  const LoadResult load = RunLoad(endpoints, *streams, o.load);
  sampling = false;
  sampler.join();
  SampleMemory(&memory);
  const std::optional<std::uint64_t> height_after = ChainHeight(endpoints);
  // Blocks committed during the run; unknown if no node answered before or after it (the
  // table says so, the JSON has null) rather than a difference of heights never read.
  std::optional<std::uint64_t> blocks;
  if (height_before && height_after && *height_after >= *height_before) {
    blocks = *height_after - *height_before;
  }

  // ---- figures
  std::size_t submitted = 0, committed = 0, accepted = 0;
  std::map<std::string, std::size_t> rejected, refused;
  std::int64_t first_submit = -1, last_commit = -1, lag_max = 0;
  std::vector<double> latency_ms;
  for (const TxOutcome& t : load.outcomes) {
    if (t.submit_us < 0) continue;
    if (!t.submit_error.empty()) {
      ++refused[t.submit_error];
      continue;
    }
    ++submitted;
    first_submit = first_submit < 0 ? t.submit_us : std::min(first_submit, t.submit_us);
    lag_max = std::max(lag_max, t.lag_us);
    if (t.commit_us < 0) continue;
    ++committed;
    last_commit = std::max(last_commit, t.commit_us);
    latency_ms.push_back(static_cast<double>(t.commit_us - t.submit_us) / 1000.0);
    if (t.accepted) {
      ++accepted;
    } else {
      ++rejected[t.code];
    }
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  const double span_s = committed ? static_cast<double>(last_commit - first_submit) / 1e6 : 0;
  const double submit_span_s = static_cast<double>(load.last_submit_us - first_submit) / 1e6;
  const double committed_tps = span_s > 0 ? committed / span_s : 0;
  double rss_max = 0;
  json nodes = json::array();
  for (const NodeMemory& m : memory) {
    rss_max = std::max({rss_max, m.rss_mib, m.hwm_mib});
    nodes.push_back({{"member", m.member}, {"pid", m.pid}, {"rss_mib", m.rss_mib},
                     {"hwm_mib", m.hwm_mib}});
  }
  json out = {
      {"mix", o.mix == Mix::kLoans ? "loans" : "anchor"},
      {"nodes", net.nodes.size()},
      {"suite", std::string(crypto::SuiteName(suite))},
      {"clients", o.clients},
      {"offered_rate", o.load.rate > 0 ? json(o.load.rate) : json(nullptr)},
      {"duration_s", o.load.duration_s},
      {"presigned", count},
      {"submitted", submitted},
      {"submit_tps", submit_span_s > 0 ? submitted / submit_span_s : 0},
      {"refused_at_submit", refused},
      {"committed", committed},
      {"accepted", accepted},
      {"rejected", rejected},
      {"uncommitted", submitted - committed},
      {"committed_tps", committed_tps},
      {"measured_s", span_s},
      {"latency_ms_p50", Percentile(latency_ms, 50)},
      {"latency_ms_p90", Percentile(latency_ms, 90)},
      {"latency_ms_p99", Percentile(latency_ms, 99)},
      {"latency_ms_max", latency_ms.empty() ? 0 : latency_ms.back()},
      {"schedule_lag_ms_max", static_cast<double>(lag_max) / 1000.0},
      {"verify_per_s", bound->per_second},
      {"verify_node_path_per_s", bound->node_path_per_second},
      {"verify_threads", bound->threads},
      {"verify_bound_tps", bound_tps},
      {"committed_over_bound", bound_tps > 0 ? committed_tps / bound_tps : 0},
      {"blocks", blocks ? json(*blocks) : json(nullptr)},
      {"rss_mib_max", rss_max},
      {"node_memory", nodes},
      {"streams_exhausted", load.streams_exhausted}};
  if (o.json) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  auto codes = [](const std::map<std::string, std::size_t>& m) {
    std::string text;
    for (const auto& [code, n] : m) text += (text.empty() ? "" : ", ") + code + " " + std::to_string(n);
    return text.empty() ? std::string("none") : text;
  };
  std::string text;
  text += "colend-bench: " + std::to_string(net.nodes.size()) + " nodes (suite " +
          std::string(crypto::SuiteName(suite)) + "), mix " + out["mix"].get<std::string>() +
          ", " + std::to_string(o.clients) + " clients, offered " +
          (o.load.rate > 0 ? Fixed(o.load.rate, 0) + " tx/s" : std::string("as fast as it goes")) +
          ", " + Fixed(o.load.duration_s, 0) + " s\n";
  text += "  submitted           " + std::to_string(submitted) + " (" +
          Fixed(out["submit_tps"].get<double>(), 1) + " tx/s); refused at submit: " +
          codes(refused) + "\n";
  text += "  committed           " + std::to_string(committed) + " in " +
          (blocks ? std::to_string(*blocks) : std::string("an unknown number of")) +
          " blocks (accepted " + std::to_string(accepted) + "; rejected: " + codes(rejected) +
          "); not committed " + std::to_string(submitted - committed) + "\n";
  text += "  committed tx/s      " + Fixed(committed_tps, 1) + " over " + Fixed(span_s, 1) +
          " s (first submit to last commit)\n";
  text += "  commit latency ms   p50 " + Fixed(Percentile(latency_ms, 50), 1) + "  p90 " +
          Fixed(Percentile(latency_ms, 90), 1) + "  p99 " + Fixed(Percentile(latency_ms, 99), 1) +
          "  max " + Fixed(out["latency_ms_max"].get<double>(), 1) + "\n";
  if (o.load.rate > 0) {
    text += "  schedule lag ms     max " + Fixed(static_cast<double>(lag_max) / 1000.0, 1) +
            " (how late a submit left against the offered schedule)\n";
  }
  text += "  verify bound tx/s   " + Fixed(bound_tps, 0) + " (" + Fixed(bound->per_second, 0) +
          " verifications/s on " + std::to_string(bound->threads) + " threads / " +
          std::to_string(net.nodes.size()) + " nodes); committed/bound " +
          Fixed(out["committed_over_bound"].get<double>(), 3) + "\n";
  text += "  verify, node path   " + Fixed(bound->node_path_per_second, 0) +
          " verifications/s through crypto::PublicKey::Verify on the same threads\n";
  text += "  node RSS MiB        max " + Fixed(rss_max, 1) + " (";
  for (std::size_t i = 0; i < memory.size(); ++i) {
    text += (i ? ", " : "") + memory[i].member + " " +
            (memory[i].pid ? Fixed(std::max(memory[i].rss_mib, memory[i].hwm_mib), 1)
                           : std::string("not found"));
  }
  text += ")\n";
  if (load.streams_exhausted) {
    text += "  note: a client ran out of pre-signed transactions before the duration ended\n";
  }
  std::cout << text;
  return 0;
}

int Main(const cli::Args& args) {
  auto options = ParseOptions(args);
  if (!options.ok()) return Usage(args, options.error().message);
  return Run(*options);
}

cli::ProgramSpec Program() {
  cli::ProgramSpec p;
  p.name = "colend-bench";
  p.summary = "colend-bench: drives a running local network and measures it";
  cli::CommandSpec c;
  c.run = Main;
  c.options = {
      {"dir", "D", "the local network (made with `colend localnet init`, started with "
                   "`colend localnet up`)", true},
      {"duration", "S", "seconds of load (default 20; at most 300: pre-signed transactions must "
                        "stay within the chain's transaction time window)"},
      {"rate", "R", "offered load in transactions per second over all clients; without it, as "
                    "fast as the network commits, with at most --inflight submitted and not yet "
                    "committed"},
      {"inflight", "N", "the most transactions submitted and not yet committed (default 500)"},
      {"clients", "C", "concurrent clients (default 8, at most 128), client c on node (c mod N): "
                       "each submits on one kept connection and waits for its commits with "
                       "wait_tx on another"},
      {"mix", "loans|anchor", "loans (default): each borrower's bureau snapshot, admission, "
                              "drawdown, partner approval, two funding legs, payout, two "
                              "repayments, each signed by the member whose role sends it; anchor: "
                              "evidence.anchor records signed by every member in turn"},
      {"json", "", "one JSON object instead of the table"}};
  p.commands = {c};
  p.details =
      "Measures: committed tx/s (committed in blocks, from the first submit to the last commit),\n"
      "commit latency p50/p90/p99/max (submit until a client waiting on the node with wait_tx saw\n"
      "it committed), the signature-verification bound of this machine in the same run (distinct\n"
      "signatures of the chain's suite verified with OpenSSL on all cores, divided by the number\n"
      "of nodes: each node verifies each transaction once; also shown through the nodes' own\n"
      "check), and the node processes' peak RSS (VmHWM, and VmRSS sampled during the load).\n"
      "Exit 0 after a run, 1 when the network cannot be driven, 2 on bad usage.";
  return p;
}

}  // namespace
}  // namespace colend::bench

int main(int argc, char** argv) {
  using namespace colend;
  static const cli::ProgramSpec program = bench::Program();
  cli::Args args;
  int exit_code = 0;
  const cli::CommandSpec* command = cli::ParseCommandLine(program, argc, argv, &args, &exit_code);
  if (command == nullptr) return exit_code;
  return command->run(args);
}
