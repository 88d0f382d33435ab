#include "node/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <nlohmann/json.hpp>

#include "genesis/json_keys.h"
#include "node/json_rpc.h"

namespace colend::node {
namespace {

Error Bad(std::string message) { return MakeError("bad-config", std::move(message)); }

Result<std::uint16_t> Port(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > 65535) {
    return Bad(where + "." + key + " must be a port number 0-65535");
  }
  return static_cast<std::uint16_t>(it->get<std::uint64_t>());
}

Result<std::string> String(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Bad(where + "." + key + " must be a non-empty string");
  }
  return it->get<std::string>();
}

// Every key of `j` must be one of `known`: a misspelt setting is an error, not a silent default.
Status OnlyKeys(const nlohmann::json& j, std::initializer_list<std::string_view> known,
                const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    bool listed = false;
    for (std::string_view k : known) listed = listed || key == k;
    if (!listed) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Bad(where + " has an unknown key '" + key.substr(0, 64) + "' (known: " + list + ")");
    }
  }
  return Status::Ok();
}

// `j[key]` as a whole number from lo to hi (`what` names its unit in the refusal); nullopt when
// the key is absent. Floats, strings and out-of-range values are refused naming the key and value.
Result<std::optional<std::int64_t>> WholeNumber(const nlohmann::json& j, const char* key,
                                                const std::string& where, const char* what,
                                                std::int64_t lo, std::int64_t hi) {
  auto it = j.find(key);
  if (it == j.end()) return std::optional<std::int64_t>();
  if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>() &&
      it->get<double>() >= static_cast<double>(lo) && it->get<double>() <= static_cast<double>(hi)) {
    // 1000.0 or 1e3 in range: whole, but not written as one; say so rather than "not a whole
    // number". (A number past 2^64 is read as a float too, and is out of range.)
    return Bad(where + "." + key + " must be written without a decimal point or exponent (a " +
               "whole number of " + what + " from " + std::to_string(lo) + " to " +
               std::to_string(hi) + "), got " + it->dump().substr(0, 64));
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi) {
    return Bad(where + "." + key + " must be a whole number of " + what + " from " +
               std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
               it->dump().substr(0, 64));
  }
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

// 127.0.0.0/8, ::1 or "localhost": the JSON-RPC takes transactions and exports evidence, so it
// is served on loopback only (docs/operations.md).
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  if (!host.starts_with("127.")) return false;
  int dots = 0, digits = 0, value = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = value = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      value = value * 10 + (c - '0');
      ++digits;
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

// config.mempool: each key optional (the default stays), a whole number in its range; one sender's
// share within the whole.
Status ReadMempoolLimits(const nlohmann::json& pool, MempoolLimits* limits) {
  const std::string where = "config.mempool";
  if (!pool.is_object()) {
    return Bad(where + " must be an object with any of txs_max, memory_mib, sender_txs_max, "
                       "sender_memory_mib");
  }
  COLEND_RETURN_IF_ERROR(
      OnlyKeys(pool, {"txs_max", "memory_mib", "sender_txs_max", "sender_memory_mib"}, where));
  auto read = [&](const char* key, std::size_t lo, std::size_t hi, std::size_t unit,
                  const char* what, std::size_t* out) -> Status {
    auto value = WholeNumber(pool, key, where, what, static_cast<std::int64_t>(lo),
                             static_cast<std::int64_t>(hi));
    if (!value.ok()) return value.error();
    if (*value) *out = static_cast<std::size_t>(**value) * unit;
    return Status::Ok();
  };
  COLEND_RETURN_IF_ERROR(read("txs_max", kConfigMempoolTxsMin, kConfigMempoolTxsMax, 1,
                              "transactions", &limits->txs_max));
  COLEND_RETURN_IF_ERROR(read("memory_mib", kConfigMempoolMibMin, kConfigMempoolMibMax, 1u << 20,
                              "MiB", &limits->memory_max));
  COLEND_RETURN_IF_ERROR(read("sender_txs_max", 1, kConfigMempoolTxsMax, 1, "transactions",
                              &limits->sender_txs_max));
  COLEND_RETURN_IF_ERROR(read("sender_memory_mib", 1, kConfigMempoolMibMax, 1u << 20, "MiB",
                              &limits->sender_memory_max));
  // A sender's share left out is its default or the whole, whichever is smaller: a small pool
  // alone ({"txs_max": 10000}) is a valid setting, not a refusal over a key never written.
  if (!pool.contains("sender_txs_max")) {
    limits->sender_txs_max = std::min(limits->sender_txs_max, limits->txs_max);
  }
  if (!pool.contains("sender_memory_mib")) {
    limits->sender_memory_max = std::min(limits->sender_memory_max, limits->memory_max);
  }
  if (limits->sender_txs_max > limits->txs_max) {
    return Bad(where + ".sender_txs_max " + std::to_string(limits->sender_txs_max) +
               " is above txs_max " + std::to_string(limits->txs_max) +
               ": one sender's share must fit in the whole pool");
  }
  if (limits->sender_memory_max > limits->memory_max) {
    return Bad(where + ".sender_memory_mib " + std::to_string(limits->sender_memory_max >> 20) +
               " is above memory_mib " + std::to_string(limits->memory_max >> 20) +
               ": one sender's share must fit in the whole pool");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  return ReadFile(path, std::numeric_limits<std::uint64_t>::max());
}

Result<std::string> ReadFile(const std::string& path, std::uint64_t max_bytes) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return MakeError("not-a-file", "cannot read " + path + ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("file-not-found", "cannot read " + path);
  std::string out;
  char chunk[64 * 1024];
  while (in) {
    in.read(chunk, sizeof chunk);
    const auto got = static_cast<std::size_t>(in.gcount());
    if (out.size() + got > max_bytes) {
      return MakeError("file-too-large",
                       path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(chunk, got);
  }
  if (in.bad()) return MakeError("read-failed", "cannot read " + path + ": the read failed");
  return out;
}

// Atomic and durable: a temporary file created exclusively (O_EXCL: never through a planted file
// or link; O_NOFOLLOW) with its final mode from the start (0600 for keys: never readable by others,
// not even briefly), written, fsynced, renamed over `path`, and the directory fsynced.
Status WriteFile(const std::string& path, const std::string& contents, bool private_file) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover of an interrupted write (a link is removed, not followed)
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        private_file ? 0600 : 0644);
  if (fd < 0) return MakeError("write-failed", "cannot create " + tmp);
  std::size_t written = 0;
  bool ok = true;
  while (ok && written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && (!private_file || ::fchmod(fd, 0600) == 0) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return MakeError("write-failed", "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError("write-failed", "cannot rename " + tmp + " to " + path);
  }
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  const int dir_fd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

std::string NodeConfig::ToJson() const {
  nlohmann::json j = {{"member_id", member_id}, {"p2p_host", p2p_host}, {"p2p_port", p2p_port},
                      {"rpc_host", rpc_host},   {"rpc_port", rpc_port}};
  if (rpc_remote) j["rpc_remote"] = true;
  if (!state_dir.empty()) j["state_dir"] = state_dir;
  if (store_write_buffer_mib != 0) j["store_write_buffer_mib"] = store_write_buffer_mib;
  if (mempool != MempoolLimits{}) {
    j["mempool"] = {{"txs_max", mempool.txs_max},
                    {"memory_mib", mempool.memory_max >> 20},
                    {"sender_txs_max", mempool.sender_txs_max},
                    {"sender_memory_mib", mempool.sender_memory_max >> 20}};
  }
  j["peers"] = nlohmann::json::array();
  for (const auto& p : peers) j["peers"].push_back({{"id", p.id}, {"host", p.host}, {"port", p.port}});
  return j.dump(2) + "\n";
}

std::string NodeConfig::MempoolText() const {
  return std::to_string(mempool.txs_max) + " transactions and " +
         std::to_string(mempool.memory_max >> 20) + " MiB, " +
         std::to_string(mempool.sender_txs_max) + " and " +
         std::to_string(mempool.sender_memory_max >> 20) + " MiB a sender" +
         (mempool == MempoolLimits{} ? " (default)" : " (config.json)");
}

Result<NodeConfig> LoadNodeConfig(const std::string& home) {
  NodeConfig config;
  config.home = home;
  auto text = ReadFile(config.Path("config.json"), kConfigFileBytesMax);
  if (!text.ok() && text.error().code == "file-not-found") {
    return Bad("no config.json in " + home + " (is --home a node directory made by "
               "'colend localnet init'?)");
  }
  if (!text.ok()) return Bad(text.error().message);
  // A key given twice in one object would silently take its last value: the first one found
  // is refused by name.
  std::optional<std::string> twice;
  auto j = genesis::ParseJsonNoDuplicateKeys(*text, &twice);
  if (j.is_discarded()) {
    return Bad(config.Path("config.json") + " is not valid JSON: " +
               json_rpc::ParseErrorDetail(*text));
  }
  if (twice) return Bad(config.Path("config.json") + " has the key '" + *twice + "' twice");
  if (!j.is_object()) return Bad(config.Path("config.json") + " is not a JSON object");
  std::string where = "config";
  COLEND_RETURN_IF_ERROR(
      OnlyKeys(j, {"member_id", "p2p_host", "p2p_port", "rpc_host", "rpc_port", "rpc_remote", "peers",
                   "state_dir", "store_write_buffer_mib", "mempool"},
               where));
  auto member = String(j, "member_id", where);
  auto p2p_host = String(j, "p2p_host", where);
  auto rpc_host = String(j, "rpc_host", where);
  auto p2p_port = Port(j, "p2p_port", where);
  auto rpc_port = Port(j, "rpc_port", where);
  if (!member.ok()) return member.error();
  if (!p2p_host.ok()) return p2p_host.error();
  if (!rpc_host.ok()) return rpc_host.error();
  if (!p2p_port.ok()) return p2p_port.error();
  if (!rpc_port.ok()) return rpc_port.error();
  config.member_id = *member;
  config.p2p_host = *p2p_host;
  config.rpc_host = *rpc_host;
  if (auto remote = j.find("rpc_remote"); remote != j.end()) {
    if (!remote->is_boolean()) return Bad("config.rpc_remote must be true or false");
    config.rpc_remote = remote->get<bool>();
  }
  if (!config.rpc_remote && !IsLoopbackHost(config.rpc_host)) {
    return Bad("config.rpc_host '" + config.rpc_host.substr(0, 64) +
               "' is not a loopback address: the JSON-RPC accepts transactions and exports "
               "evidence; serve it beyond loopback only with \"rpc_remote\": true, which "
               "requires TLS with client certificates from the consortium CA");
  }
  // The node listens on these: an IP address, or "localhost" for 127.0.0.1 (no name lookup).
  for (auto [key, host] : {std::pair{"p2p_host", &config.p2p_host}, std::pair{"rpc_host", &config.rpc_host}}) {
    if (*host == "localhost") *host = "127.0.0.1";
    unsigned char address[16];
    if (inet_pton(AF_INET, host->c_str(), address) != 1 &&
        inet_pton(AF_INET6, host->c_str(), address) != 1) {
      return Bad(where + "." + key + " must be an IP address to listen on, or localhost; got '" +
                 host->substr(0, 64) + "'");
    }
  }
  config.p2p_port = *p2p_port;
  config.rpc_port = *rpc_port;
  if (auto state = j.find("state_dir"); state != j.end()) {
    if (!state->is_string() || !state->get<std::string>().starts_with("/") ||
        state->get<std::string>().size() > 4096) {
      return Bad("config.state_dir must be an absolute path (where data/, documents/ and "
                 "signing-lease are kept)");
    }
    config.state_dir = state->get<std::string>();
    while (config.state_dir.size() > 1 && config.state_dir.ends_with('/')) config.state_dir.pop_back();
  }
  auto buffer = WholeNumber(j, "store_write_buffer_mib", where, "MiB", kConfigWriteBufferMibMin,
                            kConfigWriteBufferMibMax);
  if (!buffer.ok()) return buffer.error();
  if (*buffer) config.store_write_buffer_mib = static_cast<std::uint32_t>(**buffer);
  if (auto pool = j.find("mempool"); pool != j.end()) {
    COLEND_RETURN_IF_ERROR(ReadMempoolLimits(*pool, &config.mempool));
  }
  auto peers = j.find("peers");
  if (peers == j.end() || !peers->is_array()) return Bad("config.peers must be an array");
  for (std::size_t i = 0; i < peers->size(); ++i) {
    std::string at = "config.peers[" + std::to_string(i) + "]";
    if (!(*peers)[i].is_object()) return Bad(at + " must be an object");
    COLEND_RETURN_IF_ERROR(OnlyKeys((*peers)[i], {"id", "host", "port"}, at));
    auto id = String((*peers)[i], "id", at);
    auto host = String((*peers)[i], "host", at);
    auto port = Port((*peers)[i], "port", at);
    if (!id.ok()) return id.error();
    if (!host.ok()) return host.error();
    if (!port.ok()) return port.error();
    // A peer is dialled at its port: 0 (any free port, for a node's own p2p_port) never answers.
    if (*port == 0) return Bad(at + ".port must be a port number 1-65535");
    for (const PeerConfig& earlier : config.peers) {
      if (earlier.id == *id) return Bad("config.peers lists " + *id + " twice");
    }
    config.peers.push_back({*id, *host, *port});
  }
  return config;
}

}  // namespace colend::node
