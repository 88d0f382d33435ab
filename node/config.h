// A node's home directory: config.json, genesis.json, its keys and its data.
//
//   config.json   {"member_id", "p2p_host", "p2p_port", "rpc_host", "rpc_port",
//                  "peers": [{"id", "host", "port"}], optional "rpc_remote": bool,
//                  optional "state_dir": absolute path, "store_write_buffer_mib": integer,
//                  "mempool": {"txs_max", "memory_mib", "sender_txs_max", "sender_memory_mib"}}
//                 Unknown keys are refused (docs/configuration.md lists every key). rpc_host must be a loopback address unless
//                 rpc_remote is true; then the JSON-RPC is served over TLS and requires a client
//                 certificate issued by the consortium CA (docs/operations.md).
//   genesis.json  the consortium's genesis file (identical on every node)
//   tls.key/.pem  this member's TLS key and CA-issued certificate (P-256)
//   signing.key   this member's ledger signing key (suite of the chain)
//   signing.pem   its CA-issued certificate
//   data/         LevelDB                                  } in state_dir when set (the
//   documents/    evidence documents held for the bundle   } packaged node: /var/lib/colend),
//   signing-lease the highest height this member may sign  } else in the home directory
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/result.h"
#include "node/mempool.h"

namespace colend::node {

struct PeerConfig {
  std::string id;
  std::string host;
  std::uint16_t port = 0;
};

// config.store_write_buffer_mib's range: two buffers exist while one is flushed, so 64 MiB is up to
// 128 MiB of a node's memory; below 4 MiB LevelDB flushes and merges several times a second.
inline constexpr std::uint32_t kConfigWriteBufferMibMin = 4;
inline constexpr std::uint32_t kConfigWriteBufferMibMax = 64;

// config.mempool's ranges (docs/configuration.md). The memory is what the pool counts
// (Mempool::EntryBytes), not wire bytes; above 1 GiB the node's memory is the pool's.
inline constexpr std::size_t kConfigMempoolTxsMin = 1000;
inline constexpr std::size_t kConfigMempoolTxsMax = 1000000;
inline constexpr std::size_t kConfigMempoolMibMin = 16;
inline constexpr std::size_t kConfigMempoolMibMax = 1024;

struct NodeConfig {
  std::string home;
  std::string member_id;
  std::string p2p_host = "127.0.0.1";
  std::uint16_t p2p_port = 0;
  std::string rpc_host = "127.0.0.1";
  std::uint16_t rpc_port = 0;
  bool rpc_remote = false;  // serve the JSON-RPC beyond loopback, over TLS with client certificates
  std::vector<PeerConfig> peers;
  // Where the node writes (data/, documents/, signing-lease); empty: the home directory. Lets
  // the configuration and keys live read-only in /etc/colend and the state in /var/lib/colend.
  std::string state_dir;
  // LevelDB's write buffer in MiB (docs/operations.md, "Store memory"); 0: by the member's place
  // among the genesis members (StoreWriteBufferBytes, 12-20 MiB). For a node alone on its
  // machine, where the spread of sizes matters less than the buffer's memory or its flushes.
  std::uint32_t store_write_buffer_mib = 0;
  // The mempool's limits (docs/operations.md, *Transactions, mempool and blocks*); the defaults
  // unless config.json's "mempool" sets them. A node with more memory to spare than the 200 MiB
  // a node is sized for may hold a longer queue through a burst, or a smaller one less.
  MempoolLimits mempool;
  // From the command line (colend-node --log-level, --log-format), not config.json.
  std::string log_level = "info";
  std::string log_format = "text";

  std::string Path(const std::string& name) const { return home + "/" + name; }
  std::string StatePath(const std::string& name) const {
    return (state_dir.empty() ? home : state_dir) + "/" + name;
  }
  std::string ToJson() const;
  // "200000 transactions and 96 MiB, 50000 and 32 MiB a sender (default)": the log's first line
  // and colend-node --check-config.
  std::string MempoolText() const;
};

// Reads home/config.json; errors ("bad-config") name the field.
Result<NodeConfig> LoadNodeConfig(const std::string& home);
// A file's bytes. A directory is refused by name ("not-a-file"), a read that fails part way as
// "read-failed". With `max_bytes`, at most that many
// are read: a longer file (or an endless one, such as /dev/zero) is refused ("file-too-large",
// naming the limit) after reading one byte past it.
Result<std::string> ReadFile(const std::string& path);
Result<std::string> ReadFile(const std::string& path, std::uint64_t max_bytes);
// The most a node's own files may hold, far above what they do (config.json a few hundred bytes,
// genesis.json about 2 KiB a member, a key or certificate under 2 KiB): a path pointing at
// /dev/zero or a huge file is refused naming the file, not read until memory runs out.
inline constexpr std::uint64_t kConfigFileBytesMax = 1u << 20;
inline constexpr std::uint64_t kGenesisFileBytesMax = 8u << 20;
inline constexpr std::uint64_t kKeyFileBytesMax = 64u << 10;
Status WriteFile(const std::string& path, const std::string& contents, bool private_file = false);

}  // namespace colend::node
