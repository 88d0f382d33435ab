// `colend localnet rekey --dir D --node K`: stages a key rotation for node K of a local network
// (docs/consensus.md §7.3). Issues new TLS and signing keys and certificates with the local
// consortium CA (D/ca.key) and writes them beside the current ones as tls.next.key,
// tls.next.pem, signing.next.key, signing.next.pem, with member.next.json, the member object for
// `colend member propose --rotate`. The node takes the staged keys up by itself when the epoch
// that lists them begins. A production consortium's CA is offline: there a member generates the
// keys and a certificate request, and the CA issues the certificates (docs/operations.md, "Key
// rotation"); the file names are the same.
#include <iostream>

#include "genesis/builder.h"
#include "tools/cli.h"

namespace colend::cli {


int RunLocalnetRekey(const Args& args) {
  const std::string dir = args.Get("dir");
  const std::string node_text = args.Get("node");
  if (dir.empty() || node_text.empty() || args.words.size() != 2) {
    std::cerr << "colend: localnet rekey needs --dir and --node\n" << args.usage;
    return 2;
  }
  int k = 0;
  try {
    std::size_t used = 0;
    k = std::stoi(node_text, &used);
    if (used != node_text.size()) k = 0;
  } catch (const std::exception&) {
    k = 0;
  }
  if (k < 1 || k > 64) return Fail("--node must be a node number from 1 to 64");
  const std::string home_dir = dir + "/node" + std::to_string(k);
  auto home = LoadHome(home_dir);
  if (!home.ok()) return Fail(home.error());
  auto ca_pem = node::ReadFile(dir + "/ca.pem");
  auto ca_key_pem = node::ReadFile(dir + "/ca.key");
  if (!ca_pem.ok() || !ca_key_pem.ok()) {
    return Fail(dir + " has no local CA (ca.pem, ca.key): rekey is for networks made by "
                "'colend localnet init'");
  }
  auto ca = crypto::Certificate::FromPem(*ca_pem);
  if (!ca.ok()) return Fail(dir + "/ca.pem: " + ca.error().message);
  auto ca_key = crypto::PrivateKey::FromPem(*ca_key_pem, crypto::Suite::kStd);
  if (!ca_key.ok()) return Fail(dir + "/ca.key: " + ca_key.error().message);
  if (ca->Fingerprint() != home->genesis.ca_certificate.Fingerprint()) {
    return Fail(dir + "/ca.pem is not the CA of " + home_dir + "/genesis.json");
  }
  auto member_text = node::ReadFile(home_dir + "/member.json");
  if (!member_text.ok()) return Fail("cannot read " + home_dir + "/member.json");
  auto member = nlohmann::json::parse(*member_text, nullptr, false);
  if (!member.is_object() || !member.contains("id") || !member.contains("name") ||
      !member.contains("role") || member["id"] != home->config.member_id) {
    return Fail(home_dir + "/member.json is not this member's object");
  }
  for (const char* name : {"tls.next.key", "signing.next.key"}) {
    if (node::ReadFile(home_dir + "/" + name).ok()) {
      return Fail(home_dir + "/" + name + " exists: a rotation is staged already");
    }
  }
  const std::int64_t now_ms = NowMs();
  // A serial this CA has not used: the genesis members' are small numbers.
  const std::uint64_t serial = 1000000 + static_cast<std::uint64_t>(now_ms % 1000000000) * 2;
  auto keys = genesis::IssueMemberKeys(member["id"], member["name"], member["role"],
                                       home->genesis.suite, *ca, *ca_key, now_ms, serial);
  if (!keys.ok()) return Fail(keys.error());
  const nlohmann::json next = genesis::MemberJson(*keys);
  Status written[] = {
      node::WriteFile(home_dir + "/tls.next.key", keys->tls_key.ToPem(), true),
      node::WriteFile(home_dir + "/signing.next.key", keys->signing_key.ToPem(), true),
      node::WriteFile(home_dir + "/tls.next.pem", keys->tls_certificate.ToPem()),
      node::WriteFile(home_dir + "/signing.next.pem", keys->signing_certificate.ToPem()),
      node::WriteFile(home_dir + "/member.next.json", next.dump(2) + "\n"),
  };
  for (const Status& s : written) {
    if (!s.ok()) return Fail(s.error());
  }
  nlohmann::json out = {
      {"member", home->config.member_id},
      {"home", home_dir},
      {"member_json", home_dir + "/member.next.json"},
      {"tls_sha256", crypto::ToHex(keys->tls_certificate.Fingerprint())},
      {"signing_sha256", crypto::ToHex(keys->signing_certificate.Fingerprint())}};
  Print(args, out,
        "staged new keys for " + home->config.member_id + " in " + home_dir +
            " (tls.next.*, signing.next.*)\nnext: colend --home " + home_dir +
            " member propose --id rotate-" + home->config.member_id + " --rotate " + home_dir +
            "/member.next.json\n");
  return 0;
}

}  // namespace colend::cli
