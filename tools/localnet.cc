// `colend localnet`: a whole consortium on this machine, one colend-node process per member,
// for development, demos and integration tests. The consortium CA key stays in D/ca.key (in a
// real deployment it is kept offline by the consortium).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "crypto/signature.h"
#include "crypto/x509.h"
#include "genesis/builder.h"
#include "genesis/genesis.h"
#include "node/ledger.h"
#include "node/store.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;


std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first port the kernel hands out for outgoing connections and for port 0 (Linux's
// ip_local_port_range; 32768 when it cannot be read).
int EphemeralLow() {
  int low = 32768, high = 60999;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  return low;
}

// A loopback port that is free now, chosen at random below the ephemeral range: a port there is
// never handed out by the kernel for an outgoing connection or a bind to port 0, so no other
// process takes it between `localnet init` and `localnet up` (ports from bind(0) were, at times,
// under parallel tests). `taken` holds the ports this network already has.
Result<std::uint16_t> FreePort(std::set<std::uint16_t>* taken) {
  static std::mt19937 rng(std::random_device{}());
  const int low = 10000, high = std::max(low + 1000, EphemeralLow()) - 1;
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(rng));
    if (taken->count(port)) continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return MakeError("no-port", "cannot create a socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) {
      taken->insert(port);
      return port;
    }
  }
  return MakeError("no-port", "cannot find a free loopback port below " + std::to_string(EphemeralLow()));
}

int Init(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) return std::cerr << "colend: --dir is required\n" << args.usage, 2;
  auto nodes_option = WholeOption(args, "nodes", 5, 1, 32);
  if (!nodes_option.ok()) return Fail(nodes_option.error());
  const int nodes = static_cast<int>(*nodes_option);
  auto spares_option = WholeOption(args, "spare", 0, 0, 8);
  if (!spares_option.ok()) return Fail(spares_option.error());
  const int spares = static_cast<int>(*spares_option);
  auto suite = crypto::ParseSuite(args.Get("suite", "std"));
  if (!suite.ok()) return Fail("--suite must be 'std' or 'sm'");
  std::string quorum = args.Get("quorum", "majority");
  if (quorum != "majority" && quorum != "two-thirds") {
    return Fail("--quorum must be 'majority' or 'two-thirds'");
  }
  std::string profile = args.Get("profile", "case-study");
  if (!genesis::ProfileParameters(profile).ok()) {
    return Fail("--profile must be 'case-study' or 'cn-2022'");
  }
  if (fs::exists(dir + "/genesis.json")) {
    return Fail(dir + " already holds a network (genesis.json exists); choose another --dir");
  }

  genesis::ConsortiumOptions options;
  options.members = nodes;
  options.spare_members = spares;
  options.suite = *suite;
  options.quorum = quorum;
  options.profile = profile;
  options.dev_clock = args.Has("dev-clock");
  // Decimal digits only (no sign, space or exponent); the genesis checks the ranges when it is
  // parsed below.
  auto whole = [&](const char* flag, std::int64_t* out) -> bool {
    const std::string text = args.Get(flag);
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    *out = std::stoll(text);
    return true;
  };
  for (auto [flag, field] : {std::pair{"block-interval-ms", &options.consensus.block_interval_ms},
                             std::pair{"timeout-propose-ms", &options.consensus.timeout_propose_ms}}) {
    if (args.Has(flag) && !whole(flag, field)) {
      return Fail(std::string("--") + flag + " must be a whole number of milliseconds, not '" +
                  args.Get(flag) + "'");
    }
  }
  if (args.Has("block-txs-max")) {
    std::int64_t txs = 0;
    if (!whole("block-txs-max", &txs) || txs < 1 || txs > 100000) {
      return Fail("--block-txs-max must be a whole number of transactions from 1 to 100000, not '" +
                  args.Get("block-txs-max") + "'");
    }
    options.consensus.block_txs_max = static_cast<std::uint32_t>(txs);
  }
  options.now_ms = NowMs();
  options.chain_id = args.Get("chain-id", "colend-local-" + std::to_string(options.now_ms / 1000));
  auto built = genesis::BuildConsortium(options);
  if (!built.ok()) return Fail(built.error());
  const std::string& genesis_text = built->genesis_text;
  auto parsed = genesis::ParseGenesis(genesis_text);
  if (!parsed.ok()) return Fail("the genesis would be invalid: " + parsed.error().message);
  // Only now, so that a refused option leaves nothing behind.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message());
  const std::string& chain_id = options.chain_id;
  const crypto::Certificate& ca = built->ca_certificate;

  // Genesis members first, then the spare institutions; every node knows every address (a
  // node admits only the members of the epoch in force).
  std::vector<genesis::BuiltMember> all = built->members;
  all.insert(all.end(), built->spares.begin(), built->spares.end());
  const int homes = static_cast<int>(all.size());
  std::vector<node::NodeConfig> configs(homes);
  std::set<std::uint16_t> taken;
  for (int i = 0; i < homes; ++i) {
    auto p2p = FreePort(&taken);
    auto rpc = FreePort(&taken);
    if (!p2p.ok() || !rpc.ok()) return Fail("cannot find free loopback ports");
    configs[i].home = dir + "/node" + std::to_string(i + 1);
    configs[i].member_id = all[i].id;
    configs[i].p2p_port = *p2p;
    configs[i].rpc_port = *rpc;
  }
  for (int i = 0; i < homes; ++i) {
    const genesis::BuiltMember& m = all[i];
    node::NodeConfig& c = configs[i];
    fs::create_directories(c.home, ec);
    if (ec) return Fail("cannot create " + c.home + ": " + ec.message());
    for (int j = 0; j < homes; ++j) {
      if (j != i) c.peers.push_back({configs[j].member_id, "127.0.0.1", configs[j].p2p_port});
    }
    Status written[] = {
        node::WriteFile(c.Path("tls.key"), m.tls_key.ToPem(), true),
        node::WriteFile(c.Path("signing.key"), m.signing_key.ToPem(), true),
        node::WriteFile(c.Path("tls.pem"), m.tls_certificate.ToPem()),
        node::WriteFile(c.Path("signing.pem"), m.signing_certificate.ToPem()),
        node::WriteFile(c.Path("ca.pem"), ca.ToPem()),
        node::WriteFile(c.Path("config.json"), c.ToJson()),
        node::WriteFile(c.Path("genesis.json"), genesis_text),
        node::WriteFile(c.Path("member.json"), genesis::MemberJson(m).dump(2) + "\n"),
    };
    for (const Status& s : written) {
      if (!s.ok()) return Fail(s.error());
    }
    // data/ now: these members have never signed, so they may vote from the first block (a
    // node that finds no data/ assumes a wipe and recovers first; see colend-node --init).
    Status made = node::InitialiseMemberData(c.StatePath("data"), *parsed);
    if (!made.ok()) return Fail(made.error());
  }
  Status s = node::WriteFile(dir + "/genesis.json", genesis_text);
  if (!s.ok()) return Fail(s.error());
  s = node::WriteFile(dir + "/ca.pem", ca.ToPem());
  if (!s.ok()) return Fail(s.error());
  s = node::WriteFile(dir + "/ca.key", built->ca_key.ToPem(), true);
  if (!s.ok()) return Fail(s.error());
  json out = {{"dir", dir},
              {"chain_id", chain_id},
              {"genesis_hash", crypto::ToHex(parsed->hash)},
              {"ca_sha256", crypto::ToHex(ca.Fingerprint())},
              {"suite", std::string(crypto::SuiteName(*suite))},
              {"quorum", quorum},
              {"profile", profile},
              {"nodes", json::array()}};
  std::string text = "initialised " + std::to_string(nodes) + " nodes in " + dir + " (chain " +
                     chain_id + ", suite " + std::string(crypto::SuiteName(*suite)) + ", quorum " +
                     quorum + ", " + std::to_string(parsed->Validators().quorum()) + " of " +
                     std::to_string(nodes) + ")\n";
  for (int i = 0; i < homes; ++i) {
    const bool spare = i >= nodes;
    out["nodes"].push_back({{"home", configs[i].home},
                            {"member", all[i].id},
                            {"role", all[i].role},
                            {"in_genesis", !spare},
                            {"p2p_port", configs[i].p2p_port},
                            {"rpc_port", configs[i].rpc_port}});
    text += "  " + configs[i].home + "  " + all[i].id + " (" + all[i].role + ")  rpc 127.0.0.1:" +
            std::to_string(configs[i].rpc_port) +
            (spare ? "  spare: not in genesis, may join by a membership change" : "") + "\n";
  }
  text += "consortium CA fingerprint (SHA-256): " + crypto::ToHex(ca.Fingerprint()) + "\n";
  Print(args, out, text);
  return 0;
}

std::vector<std::string> NodeDirs(const std::string& dir, const std::string& only) {
  std::vector<std::string> homes;
  for (int k = 1; k <= 64; ++k) {
    std::string home = dir + "/node" + std::to_string(k);
    if (!fs::exists(home + "/config.json")) break;
    if (only.empty() || only == std::to_string(k) || only == "node" + std::to_string(k)) {
      homes.push_back(home);
    }
  }
  return homes;
}

std::optional<pid_t> RunningPid(const std::string& home) {
  auto text = node::ReadFile(home + "/node.pid");
  if (!text.ok()) return std::nullopt;
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(*text));
  } catch (...) {
    return std::nullopt;
  }
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
  // A zombie child of ours is not running.
  auto stat = node::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.ok()) {
    auto close = stat->rfind(')');
    if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z') {
      return std::nullopt;
    }
  }
  return pid;
}

Result<pid_t> Spawn(const std::string& home) {
  std::string binary = ProgramDirectory() + "/colend-node";
  if (::access(binary.c_str(), X_OK) != 0) {
    return MakeError("missing-binary", "cannot find " + binary + " (build colend-node first)");
  }
  std::string log = home + "/node.log";
  pid_t pid = ::fork();
  if (pid < 0) return MakeError("spawn-failed", "fork failed");
  if (pid == 0) {
    ::setsid();
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (null_fd >= 0) ::dup2(null_fd, 0);
    // A second fork so that the node is not our child: it must outlive `colend localnet up`.
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild > 0 ? 0 : 1);
    ::execl(binary.c_str(), "colend-node", "--home", home.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// The grandchild's pid is not known to us directly: find it by its command line.
std::optional<pid_t> FindNodeProcess(const std::string& home) {
  std::string abs = fs::absolute(home).lexically_normal().string();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmd = node::ReadFile(entry.path().string() + "/cmdline");
    if (!cmd.ok()) continue;
    std::vector<std::string> argv;
    std::size_t start = 0;
    for (std::size_t i = 0; i < cmd->size(); ++i) {
      if ((*cmd)[i] == '\0') {
        argv.push_back(cmd->substr(start, i - start));
        start = i + 1;
      }
    }
    if (argv.size() == 3 && argv[0] == "colend-node" && argv[1] == "--home") {
      std::string cwd;
      char buf[4096];
      ssize_t n = ::readlink((entry.path().string() + "/cwd").c_str(), buf, sizeof buf - 1);
      if (n > 0) cwd.assign(buf, static_cast<std::size_t>(n));
      fs::path p(argv[2]);
      std::string candidate = (p.is_absolute() ? p : fs::path(cwd) / p).lexically_normal().string();
      if (candidate == abs) return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

std::string LogTail(const std::string& home) {
  auto text = node::ReadFile(home + "/node.log");
  if (!text.ok()) return "(no log)";
  std::size_t pos = text->size();
  for (int lines = 0; lines < 6 && pos > 0; ++lines) {
    pos = text->rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return text->substr(pos);
}

int Up(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) return std::cerr << "colend: --dir is required\n" << args.usage, 2;
  auto timeout_s = WholeOption(args, "timeout", 30, 1, 3600);
  if (!timeout_s.ok()) return Fail(timeout_s.error());
  auto homes = NodeDirs(dir, args.Get("node"));
  if (homes.empty()) return Fail("no node directories in " + dir + " (run 'colend localnet init')");
  const std::int64_t timeout_ms = *timeout_s * 1000;
  for (const auto& home : homes) {
    if (RunningPid(home)) continue;
    auto spawned = Spawn(home);
    if (!spawned.ok()) return Fail(spawned.error());
    std::optional<pid_t> pid;
    for (int i = 0; i < 100 && !pid; ++i) {
      pid = FindNodeProcess(home);
      if (!pid) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!pid) return Fail("colend-node for " + home + " did not start:\n" + LogTail(home));
    Status s = node::WriteFile(home + "/node.pid", std::to_string(*pid) + "\n");
    if (!s.ok()) return Fail(s.error());
  }
  // Wait until every started node answers and (when the whole network is started) is connected
  // to all its peers.
  bool whole = args.Get("node").empty();
  std::int64_t deadline = NowMs() + timeout_ms;
  json out = json::array();
  std::string text;
  for (const auto& home : homes) {
    auto config = node::LoadNodeConfig(home);
    if (!config.ok()) return Fail(config.error());
    while (true) {
      if (!RunningPid(home)) return Fail(home + ": colend-node exited:\n" + LogTail(home));
      auto status = CallNode(*config, "status", json::object(), 2000);
      // Connected to every peer that is a member of the epoch in force (a node that is not a
      // member itself is admitted by none: answering is enough).
      std::size_t expected = 0;
      if (status.ok()) {
        const json ids = status->value("membership", json::object()).value("members", json::array());
        auto listed = [&](const std::string& id) {
          return std::find(ids.begin(), ids.end(), json(id)) != ids.end();
        };
        if (listed(config->member_id)) {
          for (const auto& peer : config->peers) expected += listed(peer.id) ? 1 : 0;
        }
      }
      if (status.ok() && (!whole || (*status)["peers"].size() >= expected)) {
        out.push_back({{"home", home},
                       {"member", config->member_id},
                       {"pid", *RunningPid(home)},
                       {"height", (*status)["height"]},
                       {"peers", (*status)["peers"]}});
        text += home + "  " + config->member_id + "  up (height " +
                std::to_string((*status)["height"].get<std::uint64_t>()) + ", " +
                std::to_string((*status)["peers"].size()) + " peers)\n";
        break;
      }
      if (NowMs() > deadline) {
        return Fail(home + ": not ready within the timeout" +
                    (status.ok() ? " (connected peers: " + (*status)["peers"].dump() + ")"
                                 : " (" + status.error().message + ")") +
                    "\n" + LogTail(home));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  Print(args, out, text);
  return 0;
}

int Down(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) return std::cerr << "colend: --dir is required\n" << args.usage, 2;
  auto homes = NodeDirs(dir, args.Get("node"));
  if (homes.empty()) return Fail("no node directories in " + dir);
  int sig = args.Has("kill") ? SIGKILL : SIGTERM;
  std::vector<std::pair<std::string, pid_t>> stopping;
  for (const auto& home : homes) {
    if (auto pid = RunningPid(home)) {
      ::kill(*pid, sig);
      stopping.emplace_back(home, *pid);
    }
  }
  std::int64_t deadline = NowMs() + 15000;
  std::string text;
  for (const auto& [home, pid] : stopping) {
    while (RunningPid(home) && NowMs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (RunningPid(home)) {
      ::kill(pid, SIGKILL);
      text += home + ": did not stop in time, killed\n";
    } else {
      text += home + ": stopped (pid " + std::to_string(pid) + ")\n";
    }
    std::remove((home + "/node.pid").c_str());
  }
  if (stopping.empty()) text = "no node was running\n";
  Print(args, json{{"stopped", stopping.size()}}, text);
  return 0;
}

int LocalStatus(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) return std::cerr << "colend: --dir is required\n" << args.usage, 2;
  json out = json::array();
  std::string text;
  for (const auto& home : NodeDirs(dir, "")) {
    auto config = node::LoadNodeConfig(home);
    if (!config.ok()) return Fail(config.error());
    auto pid = RunningPid(home);
    json row = {{"home", home}, {"member", config->member_id}, {"running", pid.has_value()}};
    text += home + "  " + config->member_id;
    auto status = pid ? CallNode(*config, "status", json::object(), 2000)
                      : Result<json>(MakeError("down", "not running"));
    if (status.ok()) {
      row["height"] = (*status)["height"];
      row["peers"] = (*status)["peers"];
      text += "  height " + std::to_string((*status)["height"].get<std::uint64_t>()) + "  peers " +
              std::to_string((*status)["peers"].size());
    } else {
      text += "  " + std::string(pid ? "not answering" : "down");
    }
    text += "\n";
    out.push_back(row);
  }
  Print(args, out, text);
  return 0;
}

}  // namespace

int RunLocalnet(const Args& args) {
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (sub == "init") return Init(args);
  if (sub == "up") return Up(args);
  if (sub == "down") return Down(args);
  if (sub == "status") return LocalStatus(args);
  std::cerr << "colend: localnet needs init, up, down or status\n" << args.usage;
  return 2;
}

}  // namespace colend::cli
