// colend-node's start: reading and checking a member's files (config.json, genesis.json, its
// keys, its state directory), `--check-config`, `--init`, and running the node over Asio until a
// signal (docs/configuration.md lists every file and key; docs/operations.md the procedures).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "node/node.h"
#include "node/node_impl.h"
#include "node/transport.h"

namespace colend::node {
namespace {
namespace asio = boost::asio;
using detail::Node;

// A note --check-config prints that a running node also logs, at level warn.
constexpr std::string_view kWarningNote = "WARNING: ";

class AsioTimer : public detail::HostTimer {
 public:
  explicit AsioTimer(asio::io_context& io) : timer_(io) {}
  void Arm(std::int64_t delay_ms, std::function<void()> fire) override {
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, delay_ms)));
    timer_.async_wait([fire = std::move(fire)](const boost::system::error_code& ec) {
      if (!ec) fire();
    });
  }
  void Cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

Result<std::string> ReadHomeFile(const NodeConfig& config, const char* name) {
  const std::uint64_t limit =
      std::string_view(name) == "genesis.json" ? kGenesisFileBytesMax : kKeyFileBytesMax;
  auto text = ReadFile(config.Path(name), limit);
  if (!text.ok() && text.error().code == "file-not-found") {
    return MakeError("missing-file", "cannot read " + config.Path(name));
  }
  if (!text.ok()) return MakeError("missing-file", text.error().message);
  return text;
}


// A member's files, read and checked: what the node needs before it opens its store.
struct MemberFiles {
  NodeConfig config;
  genesis::Genesis genesis;
  std::string tls_cert_pem;
  std::string tls_key_pem;
  crypto::PrivateKey signing_key;
  detail::RotationKeys staged;  // signing.next.key, tls.next.pem/.key when present
};

// A TLS certificate and key of this member: the key is the certificate's, the certificate is the
// consortium CA's and valid now.
Result<crypto::Certificate> CheckTlsPair(const NodeConfig& config, const genesis::Genesis& genesis,
                                         const std::string& cert_name, const std::string& cert_pem,
                                         const std::string& key_name, const std::string& key_pem) {
  auto bad = [](std::string what) { return MakeError("bad-config", std::move(what)); };
  auto cert = crypto::Certificate::FromPem(cert_pem);
  if (!cert.ok()) return bad(config.Path(cert_name) + ": " + cert.error().message);
  auto tls_private = crypto::PrivateKey::FromPem(key_pem, crypto::Suite::kStd);
  if (!tls_private.ok()) return bad(config.Path(key_name) + ": " + tls_private.error().message);
  auto tls_public = cert->SubjectKey(crypto::Suite::kStd);
  if (!tls_public.ok() || tls_public->ToDer() != tls_private->Public().ToDer()) {
    return bad(config.Path(key_name) + " is not the key of " + config.Path(cert_name));
  }
  if (Status issued = cert->VerifyIssuedBy(genesis.ca_certificate, detail::NowMs() / 1000);
      !issued.ok()) {
    return bad(config.Path(cert_name) + " is not a valid certificate of the consortium CA now: " +
               issued.error().message);
  }
  return cert;
}

Result<MemberFiles> LoadMemberFiles(const NodeOptions& options, std::vector<std::string>* notes) {
  auto bad = [](std::string what) { return MakeError("bad-config", std::move(what)); };
  if (auto level = ParseLogLevel(options.log_level); !level.ok()) return level.error();
  if (auto format = ParseLogFormat(options.log_format); !format.ok()) return format.error();
  auto config = LoadNodeConfig(options.home);
  if (!config.ok()) return config.error();
  config->log_level = options.log_level;
  config->log_format = options.log_format;
  auto genesis_text = ReadHomeFile(*config, "genesis.json");
  if (!genesis_text.ok()) return genesis_text.error();
  auto genesis = genesis::ParseGenesis(*genesis_text);
  if (!genesis.ok()) return bad(config->Path("genesis.json") + ": " + genesis.error().message);
  auto tls_cert = ReadHomeFile(*config, "tls.pem");
  auto tls_key = ReadHomeFile(*config, "tls.key");
  auto signing_pem = ReadHomeFile(*config, "signing.key");
  for (const auto* r : {&tls_cert, &tls_key, &signing_pem}) {
    if (!r->ok()) return r->error();
  }
  auto signing_key = crypto::PrivateKey::FromPem(*signing_pem, genesis->suite);
  if (!signing_key.ok()) return bad("signing.key: " + signing_key.error().message);
  // The TLS key must be the key of tls.pem, and tls.pem must come from the consortium CA: peers
  // refuse anything else, and it is better said here than as a failed handshake.
  auto cert = CheckTlsPair(*config, *genesis, "tls.pem", *tls_cert, "tls.key", *tls_key);
  if (!cert.ok()) return cert.error();
  const std::int64_t now_s = detail::NowMs() / 1000;
  // Keys staged for a rotation (docs/consensus.md §7.3): taken up when an epoch lists them.
  auto staged = detail::LoadStagedKeys(*config, *genesis, notes);
  if (!staged.ok()) return staged.error();
  // A genesis member's key should match its certificate, unless a rotation replaced it since.
  // A member_id the genesis file does not list is an institution that joins by a membership
  // change. Either way the node signs only when the epoch in force lists the key it holds.
  // Another genesis member's signing key, though, means a misspelt member_id or a wrong key file.
  for (const auto& other : genesis->members) {
    if (other.id != config->member_id && signing_key->Public().ToDer() == other.signing_key.ToDer()) {
      return bad("signing.key is the genesis signing key of '" + other.id + "', but member_id is '" +
                 config->member_id + "': is member_id misspelt, or the key another member's?");
    }
  }
  if (const auto* member = genesis->FindMember(config->member_id)) {
    notes->push_back("member " + config->member_id + " (" + member->role + ") of the genesis");
    const bool genesis_key = signing_key->Public().ToDer() == member->signing_key.ToDer();
    if (!genesis_key && options.init) {
      return bad("signing.key does not match " + config->member_id +
                 "'s signing certificate in genesis.json");
    }
    if (!genesis_key) {
      notes->push_back(std::string(kWarningNote) + "signing.key is not " + config->member_id +
                       "'s genesis signing key: the node signs only once a membership epoch "
                       "lists it (a key rotation)");
    }
    if (member->tls_certificate.Fingerprint() != cert->Fingerprint()) {
      notes->push_back(std::string(kWarningNote) + "tls.pem is not " + config->member_id +
                       "'s TLS certificate in genesis.json: peers admit it only if a later "
                       "membership epoch lists it (a key rotation)");
    }
  } else {
    notes->push_back("member " + config->member_id +
                     " is not in the genesis: it syncs and signs once a membership epoch lists "
                     "it with this signing key");
  }
  const std::int64_t days_left = (cert->NotAfterUnix() - now_s) / 86400;
  notes->push_back(
      std::string(days_left < detail::kCertificateWarnDays ? kWarningNote : std::string_view()) +
      "tls.pem expires in " + std::to_string(days_left) + " days");
  for (const auto& peer : config->peers) {
    if (peer.id == config->member_id) return bad("config.peers lists this member itself");
    if (genesis->FindMember(peer.id) == nullptr) {
      notes->push_back(std::string(kWarningNote) + "config.peers lists '" + peer.id +
                       "', which is not a member of the genesis: it is dialled only once a "
                       "membership epoch lists it (is the id misspelt?)");
    }
  }
  // The defaults fit a node into 200 MiB (docs/operations.md, Transactions, mempool and blocks);
  // a larger pool is allowed, for a node with memory to spare, and said once here.
  if (const std::size_t mib = config->mempool.memory_max >> 20;
      mib > (MempoolLimits{}.memory_max >> 20)) {
    notes->push_back(std::string(kWarningNote) + "mempool memory_mib " + std::to_string(mib) +
                     " is above the default " + std::to_string(MempoolLimits{}.memory_max >> 20) +
                     ": a full pool may add up to " + std::to_string(mib) +
                     " MiB to this node's RSS, beyond the 200 MiB the "
                     "defaults fit (docs/operations.md)");
  }
  return MemberFiles{std::move(config).value(), std::move(genesis).value(), std::move(*tls_cert),
                     std::move(*tls_key), std::move(signing_key).value(), std::move(staged).value()};
}

// The state directory must exist (the package makes /var/lib/colend) and be writable by this
// user; what data/ holds decides how the node starts.
Status CheckStateDir(const NodeConfig& config, std::vector<std::string>* notes) {
  const std::string dir = config.state_dir.empty() ? config.home : config.state_dir;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return MakeError("bad-config", "state directory " + dir + " does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return MakeError("bad-config", "state directory " + dir + " is not writable by this user");
  }
  if (std::filesystem::exists(config.StatePath("data"), error)) {
    notes->push_back("data: " + config.StatePath("data") + " (the node continues its chain)");
  } else {
    notes->push_back("data: none in " + dir +
                     " (a new member runs --init first; otherwise the node starts recovering "
                     "its signing history from peers)");
  }
  return Status::Ok();
}

}  // namespace

namespace detail {

Result<RotationKeys> LoadStagedKeys(const NodeConfig& config, const genesis::Genesis& genesis,
                                    std::vector<std::string>* notes) {
  RotationKeys staged;
  std::error_code fs_error;
  if (std::filesystem::exists(config.Path("signing.next.key"), fs_error)) {
    auto pem = ReadHomeFile(config, "signing.next.key");
    if (!pem.ok()) return pem.error();
    auto key = crypto::PrivateKey::FromPem(*pem, genesis.suite);
    if (!key.ok()) return MakeError("bad-config", "signing.next.key: " + key.error().message);
    staged.signing = *key;
    notes->push_back("signing.next.key staged: used once a membership epoch lists it");
  }
  const bool next_cert = std::filesystem::exists(config.Path("tls.next.pem"), fs_error);
  const bool next_key = std::filesystem::exists(config.Path("tls.next.key"), fs_error);
  if (next_cert != next_key) {
    return MakeError("bad-config", "tls.next.pem and tls.next.key go together: " +
                                       std::string(next_cert ? "tls.next.key" : "tls.next.pem") +
                                       " is missing");
  }
  if (next_cert) {
    auto pem = ReadHomeFile(config, "tls.next.pem");
    auto key = ReadHomeFile(config, "tls.next.key");
    if (!pem.ok()) return pem.error();
    if (!key.ok()) return key.error();
    auto next = CheckTlsPair(config, genesis, "tls.next.pem", *pem, "tls.next.key", *key);
    if (!next.ok()) return next.error();
    staged.tls_cert_pem = *pem;
    staged.tls_key_pem = *key;
    staged.tls_fingerprint = next->Fingerprint();
    notes->push_back("tls.next.pem staged: presented once a membership epoch lists it");
  }
  return staged;
}

std::size_t StoreWriteBufferFor(const genesis::Genesis& genesis, const std::string& member_id) {
  for (std::size_t place = 0; place < genesis.members.size(); ++place) {
    if (genesis.members[place].id == member_id) return StoreWriteBufferBytes(place);
  }
  return StoreWriteBufferBytes(crypto::Sha256(member_id)[0]);
}

std::size_t StoreWriteBufferFor(const genesis::Genesis& genesis, const NodeConfig& config) {
  if (config.store_write_buffer_mib != 0) {
    return static_cast<std::size_t>(config.store_write_buffer_mib) << 20;
  }
  return StoreWriteBufferFor(genesis, config.member_id);
}

std::string StoreWriteBufferText(std::size_t bytes, const NodeConfig& config) {
  return std::to_string(bytes >> 20) + " MiB" +
         (config.store_write_buffer_mib != 0 ? " (config.json)" : " (by member)");
}

}  // namespace detail

int RunNode(const NodeOptions& options) {
  // With --log-format json every line on stderr is a JSON object (docs/operations.md, "Logs"):
  // a failure to start, or a stop after a fatal error, is then an `error` line saying FATAL.
  const auto format = ParseLogFormat(options.log_format);
  const bool json_lines = !options.check_config && format.ok() && *format == LogFormat::kJson;
  auto say = [json_lines](LogLevel level, const std::string& what) {
    if (json_lines) {
      Logger("", level, LogFormat::kJson, &std::cerr).Write(detail::NowMs(), level, what);
    } else {
      std::cerr << "colend-node: " << what << std::endl;
    }
  };
  auto fail = [&say, json_lines](const std::string& what) {
    say(LogLevel::kError, json_lines ? "FATAL: " + what + "; stopping" : what);
    return 1;
  };
  std::vector<std::string> notes;
  auto files = LoadMemberFiles(options, &notes);
  if (!files.ok()) return fail(files.error().message);
  if (options.check_config) {
    Status state = CheckStateDir(files->config, &notes);
    if (!state.ok()) return fail(state.error().message);
    std::cout << "config ok: " << options.home << " (chain " << files->genesis.chain_id << ", "
              << crypto::SuiteName(files->genesis.suite) << ", " << files->genesis.members.size()
              << " genesis members)\n";
    std::cout << "  store write buffer "
              << detail::StoreWriteBufferText(
                     detail::StoreWriteBufferFor(files->genesis, files->config), files->config)
              << "\n";
    std::cout << "  mempool " << files->config.MempoolText() << "\n";
    for (const auto& note : notes) std::cout << "  " << note << "\n";
    return 0;
  }
  const NodeConfig* config = &files->config;
  genesis::Genesis* genesis = &files->genesis;
  if (options.init) {
    std::error_code fs_error;
    if (std::filesystem::exists(config->StatePath("data"), fs_error) || fs_error) {
      return fail(config->StatePath("data") + " exists already; --init is only for a new member");
    }
    if (std::filesystem::exists(config->StatePath("signing-lease"), fs_error) || fs_error) {
      return fail(config->StatePath("signing-lease") +
                  " exists: this member has signed on a chain before, so --init would hide its "
                  "signing history. Start the node without --init: it recovers that history "
                  "from its peers (docs/operations.md, Backup and restore)");
    }
    Status made = InitialiseMemberData(config->StatePath("data"), *genesis);
    if (!made.ok()) return fail(made.ToString());
    std::cout << "initialised " << config->StatePath("data") << " for " << config->member_id
              << " (a member that has never signed on chain " << genesis->chain_id << ")\n";
    return 0;
  }
  {
    // Descriptors: LevelDB's table files (kStoreOpenFilesMax), peers, RPC connections. The soft
    // limit is often 1,024 while the hard one is far higher: take what the system allows.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  auto store = Store::Open(config->StatePath("data"), genesis->hash, nullptr,
                           detail::StoreWriteBufferFor(*genesis, *config));
  if (!store.ok()) return fail(store.error().message);

  asio::io_context io;
  detail::NodeHost host;
  host.io = &io;
  host.make_timer = [&io]() -> std::unique_ptr<detail::HostTimer> {
    return std::make_unique<AsioTimer>(io);
  };
  host.post = [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
  host.stop = [&io] { io.stop(); };
  // Transaction signatures are checked on these threads before admission (Node::AdmitInOrder):
  // one per core, at most kVerifyThreadsMax. Joined before the node is destroyed.
  const unsigned cores = std::thread::hardware_concurrency();
  asio::thread_pool verifiers(std::clamp<unsigned>(cores, 1, detail::kVerifyThreadsMax));
  host.background = [&verifiers, &io](std::function<void()> work, std::function<void()> then) {
    asio::post(verifiers, [&io, work = std::move(work), then = std::move(then)]() mutable {
      work();
      asio::post(io, std::move(then));
    });
  };
  host.make_network = [&io](TransportConfig tc, PeerNetwork::FrameHandler on_frame,
                            PeerNetwork::PeerHandler on_peer,
                            PeerNetwork::LogHandler log) -> std::unique_ptr<PeerNetwork> {
    return std::make_unique<Transport>(io, std::move(tc), std::move(on_frame), std::move(on_peer),
                                       std::move(log));
  };
  Node node(std::move(host), *config, std::move(*genesis), std::move(files->signing_key),
            std::move(store).value());
  node.StageRotation(std::move(files->staged));
  Status started = node.Start(files->tls_cert_pem, files->tls_key_pem);
  if (!started.ok()) return fail(started.ToString());
  // What --check-config prints as a WARNING is in the log of a running node too.
  for (const auto& note : notes) {
    if (note.starts_with(kWarningNote)) node.Warn(note.substr(kWarningNote.size()));
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    say(LogLevel::kInfo, "signal " + std::to_string(signal) + ", stopping");
    node.Shutdown();
    io.stop();
  });
  std::string damaged;
  try {
    io.run();
  } catch (const contracts::StateStorageError& e) {
    // A damaged state store, found by whatever was reading it; the store has already made the
    // node stop (FATAL corrupt-store), so what remains queued is not run.
    damaged = e.what();
  }
  verifiers.stop();  // checks not started are abandoned: nothing will admit them
  verifiers.join();  // no worker still runs; what they posted to io is destroyed unrun
  if (node.fatal()) return fail("stopped after a fatal error (see the FATAL line above)");
  if (!damaged.empty()) return fail(damaged);
  return 0;
}

}  // namespace colend::node
