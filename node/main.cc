// colend-node: runs one member's ledger node in the foreground.
#include <cstring>
#include <iostream>
#include <string>

#include "node/node.h"

namespace {

constexpr const char* kUsage =
    "usage: colend-node --home DIR [--init]\n"
    "\n"
    "Runs one institution's colend ledger node in the foreground until SIGINT or SIGTERM.\n"
    "DIR holds config.json, genesis.json, tls.key, tls.pem, signing.key, signing.pem and data/\n"
    "(made by 'colend localnet init'). Logs go to standard error.\n"
    "\n"
    "--init  create DIR/data for a member that has never signed on this chain, and exit.\n"
    "        Start a new member with --init first: a node that finds no data/ assumes its data\n"
    "        was wiped, syncs, and signs nothing until peers' heights prove it cannot have\n"
    "        signed before (so a wiped member never signs twice).\n";

}  // namespace

int main(int argc, char** argv) {
  colend::node::NodeOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--init") {
      options.init = true;
    } else if (arg == "--home" && i + 1 < argc) {
      options.home = argv[++i];
    } else if (arg.rfind("--home=", 0) == 0) {
      options.home = arg.substr(7);
    } else {
      std::cerr << "colend-node: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (options.home.empty()) {
    std::cerr << "colend-node: --home is required\n" << kUsage;
    return 2;
  }
  return colend::node::RunNode(options);
}
