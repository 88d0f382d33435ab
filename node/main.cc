// colend-node: runs one member's ledger node in the foreground.
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <utility>

#include "node/node.h"

namespace {

constexpr const char* kUsage =
    "usage: colend-node --home DIR [--init | --check-config] [--log-level debug|info|warn|error]\n"
    "                   [--log-format text|json]\n"
    "\n"
    "Runs one institution's colend ledger node in the foreground until SIGINT or SIGTERM.\n"
    "DIR holds config.json, genesis.json, tls.key, tls.pem, signing.key, signing.pem and data/\n"
    "(made by 'colend localnet init'; with \"state_dir\" in config.json, data/ and the other\n"
    "files the node writes are kept there: docs/configuration.md). Logs go to standard error, one event per line with its\n"
    "level and key=value fields (--log-format json: one JSON object per line); --log-level\n"
    "(default info) drops events below it (consensus steps are debug).\n"
    "\n"
    "--init  create DIR/data for a member that has never signed on this chain, and exit.\n"
    "        Start a new member with --init first: a node that finds no data/ assumes its data\n"
    "        was wiped, syncs, and signs nothing until peers' heights prove it cannot have\n"
    "        signed before (so a wiped member never signs twice).\n";

}  // namespace

int main(int argc, char** argv) {
  colend::node::NodeOptions options;
  std::set<std::string> seen;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    // --home, --log-level and --log-format take a value (as the next word or after '='), each
    // at most once: a second --home never silently replaces the first.
    std::string* valued = nullptr;
    std::string name;
    for (auto [flag, target] : {std::pair{"--home", &options.home},
                                std::pair{"--log-level", &options.log_level},
                                std::pair{"--log-format", &options.log_format}}) {
      if (arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0) valued = target, name = flag;
    }
    if (valued != nullptr) {
      if (!seen.insert(name).second) {
        std::cerr << "colend-node: " << name << " is given twice\n" << kUsage;
        return 2;
      }
      if (arg == name && i + 1 >= argc) {
        std::cerr << "colend-node: " << name << " needs a value\n" << kUsage;
        return 2;
      }
      *valued = arg == name ? argv[++i] : arg.substr(name.size() + 1);
    } else if (arg == "--init") {
      options.init = true;
    } else if (arg == "--check-config") {
      options.check_config = true;
    } else {
      std::cerr << "colend-node: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (options.init && options.check_config) {
    std::cerr << "colend-node: --init and --check-config exclude each other\n" << kUsage;
    return 2;
  }
  if (options.home.empty()) {
    std::cerr << "colend-node: --home is required\n" << kUsage;
    return 2;
  }
  return colend::node::RunNode(options);
}
