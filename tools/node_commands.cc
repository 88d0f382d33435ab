// Commands that act as the --home node's institution: status, block, tx, evidence anchor.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "contracts/fields.h"
#include "contracts/tx.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "genesis/genesis.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;


int Status(const Args& args) {
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  auto status = CallNode(home->config, "status", json::object());
  if (!status.ok()) return Fail(status.error());
  const json& s = *status;
  std::string text = "chain      " + s["chain_id"].get<std::string>() + "\nmember     " +
                     s["member"].get<std::string>() + "\nheight     " + s["height"].dump() +
                     "\nlast block " + s["last_block_hash"].get<std::string>() + "\npeers      " +
                     s["peers"].dump() + "\nrpc        " + s["rpc_address"].get<std::string>() +
                     "\np2p        " + s["p2p_address"].get<std::string>() + "\nquorum     " +
                     s["quorum"].dump() + " of " + s["members"].dump() + " (" +
                     s["quorum_rule"].get<std::string>() + ")\n";
  if (s.contains("membership")) {
    text += "epoch      " + s["membership"]["epoch"].dump() + " from height " +
            s["membership"]["start_height"].dump() + ", members " +
            s["membership"]["members"].dump() + "\n";
  }
  if (s["syncing"].get<bool>()) {
    text += "syncing    up to height " + s["best_peer_height"].dump() + ", " +
            s.value("blocks_to_sync", json(0)).dump() + " blocks to go\n";
  }
  if (s.contains("consensus") && s["consensus"].value("signing", std::string("yes")) != "yes") {
    text += "signing    " + s["consensus"]["signing"].get<std::string>() + "\n";
  }
  Print(args, s, text);
  return 0;
}

int Faults(const Args& args) {
  if (args.words.size() != 1) return std::cerr << "colend: faults takes no arguments\n" << args.usage, 2;
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  // A page at a time (the node's pages are bounded), all of them.
  json all = json::array();
  json params = json::object();
  Result<json> faults = MakeError("rpc-unreachable", "no answer");
  for (;;) {
    faults = CallNode(home->config, "faults", params);
    if (!faults.ok()) return Fail(faults.error());
    for (json& f : (*faults)["faults"]) all.push_back(std::move(f));
    if (!faults->value("more", false) || !faults->contains("after")) break;
    params["after"] = (*faults)["after"];
  }
  (*faults)["faults"] = std::move(all);
  faults->erase("more");
  faults->erase("after");
  std::string text;
  for (const json& f : (*faults)["faults"]) {
    text += f["member"].get<std::string>() + " signed two different " +
            f["kind"].get<std::string>() + "s at height " + f["height"].dump() + " round " +
            f["round"].dump() + " (evidence tx " + f.value("evidence_tx", std::string("?")) +
            ", committed at height " + f.value("committed_height", json(0)).dump() +
            ", reported by " + f.value("reported_by", std::string("?")) + ")\n";
  }
  if (text.empty()) text = "no equivocation on chain\n";
  Print(args, *faults, text);
  return 0;
}

int Block(const Args& args) {
  if (args.words.size() != 2) return std::cerr << "colend: block needs HEIGHT\n" << args.usage, 2;
  std::uint64_t height = 0;
  try {
    std::size_t used = 0;
    height = std::stoull(args.words[1], &used);
    if (used != args.words[1].size() || args.words[1][0] == '-') throw std::invalid_argument("");
  } catch (...) {
    return Fail("HEIGHT must be a non-negative integer, not '" + args.words[1] + "'");
  }
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  auto block = CallNode(home->config, "block", json{{"height", height}});
  if (!block.ok()) return Fail(block.error());
  const json& b = *block;
  std::string text = "height     " + b["height"].dump() + "\nhash       " +
                     b["hash"].get<std::string>() + "\nprev hash  " +
                     b["prev_hash"].get<std::string>() + "\ntime       " +
                     b["time"].get<std::string>() + "\nproposer   " +
                     b["proposer"].get<std::string>() + "\ntxs        " +
                     std::to_string(b["txs"].size()) + "\n";
  for (const auto& tx : b["txs"]) text += "  " + tx.get<std::string>() + "\n";
  text += "endorsed by " + std::to_string(b["endorsements"].size()) + " members (quorum " +
          b["quorum"].dump() + "):";
  for (const auto& e : b["endorsements"]) text += " " + e["member"].get<std::string>();
  text += "\n";
  Print(args, b, text);
  return 0;
}

std::string DescribeTx(const json& t) {
  std::string text = "tx     " + t["tx"].get<std::string>() + "\nstatus " +
                     t["status"].get<std::string>() + "\n";
  if (t.contains("height")) text += "height " + t["height"].dump() + "\n";
  if (t.contains("code")) {
    text += "result " + std::string(t["accepted"].get<bool>() ? "accepted" : "rejected") + " (" +
            t["code"].get<std::string>() + "): " + t["message"].get<std::string>() + "\n";
  }
  return text;
}

int Tx(const Args& args) {
  if (args.words.size() != 2) return std::cerr << "colend: tx needs ID\n" << args.usage, 2;
  if (!crypto::Hash256FromHex(args.words[1]).ok()) {
    return Fail("ID must be a transaction id of 64 hex digits, not '" + args.words[1] + "'");
  }
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  auto tx = CallNode(home->config, "tx", json{{"id", args.words[1]}});
  if (!tx.ok()) return Fail(tx.error());
  Print(args, *tx, DescribeTx(*tx));
  return (*tx)["status"] == "unknown" ? 1 : 0;
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The SHA-256 and size of the file at `path`, read in chunks (only the hash goes on chain, and a
// document may be up to contracts::kAnchorDocumentBytesMax): a directory or a failed read is an
// error, as is a file past the limit.
Result<std::pair<crypto::Hash256, std::int64_t>> HashFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return MakeError("not-a-file", "cannot read the file '" + path + "': it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("file-not-found", "cannot read the file '" + path + "'");
  crypto::Sha256Stream hash;
  std::int64_t bytes = 0;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::int64_t got = in.gcount();
    bytes += got;
    if (bytes > contracts::kAnchorDocumentBytesMax) {
      return MakeError("file-too-large", "'" + path + "' is larger than " +
                                             std::to_string(contracts::kAnchorDocumentBytesMax) +
                                             " bytes, the most an anchor records");
    }
    hash.Update(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
  }
  if (in.bad()) return MakeError("read-failed", "cannot read the file '" + path + "': the read failed");
  return std::pair{hash.Final(), bytes};
}

int Anchor(const Args& args) {
  std::string file = args.Get("file");
  if (file.empty()) return std::cerr << "colend: --file is required\n" << args.usage, 2;
  auto timeout_s = WholeOption(args, "timeout", 30, 1, 86400);
  if (!timeout_s.ok()) return Fail(timeout_s.error());
  const std::int64_t timeout_ms = *timeout_s * 1000;
  std::map<std::string, std::string> fields;
  // The name goes on chain in clear, so it must be a label (docs/transactions.md §3): an explicit
  // --name that is not is refused; a file name that is not is left out.
  for (const char* flag : {"name", "loan-id"}) {
    if (!args.Has(flag)) continue;
    const std::string key = std::string(flag) == "name" ? "document-name" : "loan-id";
    const std::string value = args.Get(flag);
    if (auto s = contracts::CheckField("evidence.anchor", key, value); !s.ok()) {
      return std::cerr << "colend: --" << flag << ": " << s.error().message << " ["
                       << s.error().code << "]\n" << args.usage, 2;
    }
    fields[key] = value;
  }
  if (!args.Has("name")) {
    const std::string base = BaseName(file);
    if (contracts::CheckField("evidence.anchor", "document-name", base).ok()) {
      fields["document-name"] = base;
    } else {
      std::cerr << "colend: the file name is not a label (docs/transactions.md §3), so no "
                   "document-name goes on chain; give one with --name LABEL\n";
    }
  }
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  auto hashed = HashFile(file);
  if (!hashed.ok()) return Fail(hashed.error());
  const std::string digest = crypto::ToHex(hashed->first);
  fields["document-sha256"] = digest;
  fields["document-bytes"] = std::to_string(hashed->second);
  auto committed = SubmitAndWait(*home, "evidence.anchor", fields, timeout_ms);
  if (!committed.ok()) return Fail(committed.error());
  json out = *committed;
  out["document_sha256"] = digest;
  Print(args, out, DescribeTx(out) + "document sha256 " + digest + "\n");
  if (!out.value("accepted", false)) {
    return Fail("the record was committed but rejected: " + out.value("code", "") + ": " +
                out.value("message", ""));
  }
  return 0;
}

}  // namespace

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Home> LoadHome(const std::string& home_dir) {
  auto config = node::LoadNodeConfig(home_dir);
  if (!config.ok()) return config.error();
  auto text = node::ReadFile(config->Path("genesis.json"), node::kGenesisFileBytesMax);
  if (!text.ok()) return text.error();
  auto genesis = genesis::ParseGenesis(*text);
  if (!genesis.ok()) return genesis.error();
  return Home{*config, std::move(genesis).value()};
}

Result<Home> LoadHome(const Args& args) {
  std::string home = args.Get("home");
  if (home.empty()) return MakeError("usage", "--home NODE_DIR is required for this command");
  return LoadHome(home);
}

Result<crypto::PrivateKey> LoadSigningKey(const Home& home) {
  auto key_pem = node::ReadFile(home.config.Path("signing.key"));
  if (!key_pem.ok()) return key_pem.error();
  auto key = crypto::PrivateKey::FromPem(*key_pem, home.genesis.suite);
  if (!key.ok()) return MakeError(key.error().code, "signing.key: " + key.error().message);
  // A staged rotation (docs/consensus.md §7.3): once the epoch in force lists signing.next.key
  // for this member, transactions are signed with it, as the node's votes are.
  auto next_pem = node::ReadFile(home.config.Path("signing.next.key"));
  if (!next_pem.ok()) return key;
  auto next = crypto::PrivateKey::FromPem(*next_pem, home.genesis.suite);
  if (!next.ok()) return MakeError(next.error().code, "signing.next.key: " + next.error().message);
  auto record = CallNode(home.config, "state",
                         {{"key", "membership/member/" + home.config.member_id}});
  if (!record.ok() || !(*record)["value"].is_string()) return key;
  auto member = nlohmann::json::parse((*record)["value"].get<std::string>(), nullptr, false);
  if (!member.is_object() || !member["signing_certificate"].is_string()) return key;
  auto cert = crypto::Certificate::FromPem(member["signing_certificate"].get<std::string>());
  if (!cert.ok()) return key;
  auto listed = cert->SubjectKey(home.genesis.suite);
  if (listed.ok() && listed->ToDer() == next->Public().ToDer()) return next;
  return key;
}

Result<contracts::Tx> SignTxAs(const Home& home, const crypto::PrivateKey& key,
                               const std::string& type,
                               const std::map<std::string, std::string>& fields,
                               std::uint64_t nonce, std::int64_t timestamp_ms) {
  contracts::TxBody body;
  body.chain_id = home.genesis.chain_id;
  body.sender = home.config.member_id;
  body.nonce = nonce;
  body.timestamp_ms = timestamp_ms;
  body.type = type;
  for (const auto& [k, v] : fields) {
    if (!contracts::IsValidFieldValue(v)) {
      return MakeError("invalid-field", "the value of '" + k + "' may not be empty, have leading or trailing spaces, or contain line breaks");
    }
    body.fields[k] = v;
  }
  // The nodes refuse a transaction whose fields are not its type's, in their formats, with the
  // same code and message (contracts/fields.h): say so before signing.
  COLEND_RETURN_IF_ERROR(contracts::CheckTxFields(body));
  return contracts::SignTx(body, key);
}

Result<json> WaitForCommit(const node::NodeConfig& config, const std::string& id,
                           std::int64_t timeout_ms) {
  const std::int64_t deadline = NowMs() + timeout_ms;
  std::string last_status;  // what the node last said of the transaction ("pending", "unknown")
  std::string last_error;   // or why it last did not answer
  while (true) {
    // The node answers as soon as the transaction is committed (wait_tx, docs/operations.md);
    // a wait longer than the node's limit is several waits.
    const std::int64_t left = std::max<std::int64_t>(0, deadline - NowMs());
    const std::int64_t wait_ms = std::min<std::int64_t>(left, kWaitTxTimeoutMsMax);
    auto status =
        CallNode(config, "wait_tx", json{{"id", id}, {"timeout_ms", wait_ms}}, wait_ms + 5000);
    if (status.ok() && (*status)["status"] == "committed") {
      status->erase("timed_out");  // the answer as `tx` gives it: the CLI's output is unchanged
      return *status;
    }
    if (status.ok()) {
      last_status = status->value("status", "");
      last_error.clear();
    } else if (status.error().code == "too-many-waiters") {
      last_error.clear();  // the node answered (its waiting calls were at their limit)
    } else {
      last_error = status.error().ToString();
    }
    if (!status.ok()) {
      const std::string& code = status.error().code;
      // The node keeps a bounded number of waiting calls (too-many-waiters), or was briefly
      // out of reach: try again shortly, within the deadline. Other errors are final.
      if (code != "too-many-waiters" && code != "rpc-unreachable" && code != "rpc-timeout" &&
          code != "rpc-bad-response") {
        return status.error();
      }
      if (code != "rpc-timeout" && NowMs() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    if (NowMs() >= deadline) break;
  }
  const std::string waited = "transaction " + id + " was not committed within " +
                             std::to_string(timeout_ms / 1000) + " s";
  const std::string check = "check with 'colend tx " + id + "' before sending it again";
  if (!last_error.empty()) {
    return MakeError("not-committed", waited + ", and the node did not answer at the end (" +
                                          last_error + "): whether it is committed is not known; " +
                                          check + " when the node answers");
  }
  if (last_status == "unknown") {
    return MakeError("not-committed",
                     waited + ", and node " + config.member_id +
                         " no longer holds it (status unknown: its pool lost it, e.g. in a "
                         "restart, or dropped it). Another member may still commit it: " +
                         check + "; if it stays unknown, send it again");
  }
  std::string peers = "unknown";
  auto s = CallNode(config, "status", json::object(), 2000);
  if (s.ok()) {
    peers = std::to_string((*s)["peers"].size()) + " of " + (*s)["members"].dump() +
            " members connected, quorum " + (*s)["quorum"].dump();
  }
  return MakeError("not-committed", waited + "; it is still pending (" + peers +
                                        "). Is a quorum of members running?");
}

Result<json> SubmitAndWait(const Home& home, const std::string& type,
                           const std::map<std::string, std::string>& fields,
                           std::int64_t timeout_ms) {
  auto key = LoadSigningKey(home);
  if (!key.ok()) return key.error();
  std::random_device random;
  const std::uint64_t nonce = (static_cast<std::uint64_t>(random()) << 32) | random();
  auto tx = SignTxAs(home, *key, type, fields, nonce, NowMs());
  if (!tx.ok()) return tx.error();
  auto submitted = CallNode(home.config, "submit", json{{"tx", crypto::ToHex(tx->Encode())}});
  if (!submitted.ok()) return submitted.error();
  return WaitForCommit(home.config, crypto::ToHex(tx->id), timeout_ms);
}

std::string DescribeReceipt(const json& t) {
  std::string text = std::string(t.value("accepted", false) ? "accepted" : "rejected") + " (" +
                     t.value("code", "") + ") by rule " + t.value("rule", "") + ": " +
                     t.value("message", "");
  return text;
}

int ReportReceipt(const Args& args, const json& t, const std::string& extra) {
  // The parameter set's version only for receipts of a rule that read one (lending steps);
  // an evidence or membership record has none to name.
  const json outputs = t.value("outputs", json::object());
  const bool has_version = outputs.is_object() && outputs.contains("param-version") &&
                           outputs["param-version"].is_string();
  const std::string version =
      has_version ? ", parameters v" + outputs["param-version"].get<std::string>() : "";
  std::string text = DescribeReceipt(t) + "\n" + extra + "tx " + t.value("tx", "") +
                     " at height " + t.value("height", json(0)).dump() + version + "\n";
  Print(args, t, text);
  if (!t.value("accepted", false)) {
    std::cerr << "colend: rejected by rule " << t.value("rule", "") << " ["
              << t.value("code", "") << "]: " << t.value("message", "") << std::endl;
    return 1;
  }
  return 0;
}

int RunNodeCommand(const Args& args) {
  const std::string& command = args.words[0];
  if (command == "status") return Status(args);
  if (command == "faults") return Faults(args);
  if (command == "block") return Block(args);
  if (command == "tx") return Tx(args);
  if (command == "evidence") {
    std::string sub = args.words.size() > 1 ? args.words[1] : "";
    if (sub == "anchor") return Anchor(args);
    if (int rc = RunEvidenceCommand(args); rc >= 0) return rc;
    std::cerr << "colend: evidence needs a subcommand: anchor, attach or export\n" << args.usage;
    return 2;
  }
  return 2;
}

}  // namespace colend::cli
