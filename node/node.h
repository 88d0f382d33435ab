// colend-node: one member's process. Owns the io thread, the transport, the RPC server, the
// ledger, the mempool and the consensus replica, and carries out the replica's actions in order:
// persist (synced) -> send -> commit.
//
// Thread safety: everything runs on one io_context thread; Run() blocks until a stop signal.
#pragma once

#include <memory>
#include <string>

#include "crypto/result.h"

namespace colend::node {

struct NodeOptions {
  std::string home;
  // Create data/ for a member that has never signed on this chain, then exit. A node started
  // without data/ instead assumes its data was wiped and recovers before signing (F11).
  bool init = false;
  // Check config.json, genesis.json, the keys and the state directory as a start would, print
  // what was found, and exit: 0 when the node could start, 1 naming the first problem.
  bool check_config = false;
  // The log (node/log.h): debug | info | warn | error, and text | json.
  std::string log_level = "info";
  std::string log_format = "text";
};

// Runs the node until SIGINT/SIGTERM. Returns the process exit code; failures to start are
// printed to stderr with what was wrong.
int RunNode(const NodeOptions& options);

}  // namespace colend::node
