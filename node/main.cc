// colend-node: runs one member's ledger node in the foreground.
#include <cstring>
#include <iostream>
#include <string>

#include "node/node.h"

namespace {

constexpr const char* kUsage =
    "usage: colend-node --home DIR\n"
    "\n"
    "Runs one institution's colend ledger node in the foreground until SIGINT or SIGTERM.\n"
    "DIR holds config.json, genesis.json, tls.key, tls.pem, signing.key, signing.pem and data/\n"
    "(made by 'colend localnet init'). Logs go to standard error.\n";

}  // namespace

int main(int argc, char** argv) {
  colend::node::NodeOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--home" && i + 1 < argc) {
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
