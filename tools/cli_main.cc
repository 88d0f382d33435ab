// colend: the command-line client of a colend ledger node.
#include <iostream>

#include "tools/cli.h"

namespace colend::cli {
namespace {

constexpr const char* kUsage = R"(usage: colend [--home NODE_DIR] [--json] COMMAND ...

Local network (development and demos):
  localnet init --dir D [--nodes N] [--suite std|sm] [--quorum majority|two-thirds]
                [--profile case-study|cn-2022] [--dev-clock] [--chain-id ID]
                [--block-interval-ms MS] [--timeout-propose-ms MS]
  localnet up --dir D [--node K]          start every node (or node K) in the background
  localnet down --dir D [--node K] [--kill]   stop them (SIGTERM; --kill: SIGKILL)
  localnet status --dir D                 one line per node
  localnet rekey --dir D --node K         stage new keys for node K (a key rotation)

Acting as the --home node's institution:
  status                                  the node's chain, height, peers and addresses
  block HEIGHT                            a committed block with its endorsements
  tx ID                                   a transaction's status and receipt
  evidence anchor --file F [--timeout S]  anchor a document's SHA-256 and wait for the commit
  evidence attach --loan ID --file F --kind K   attach a document to a loan (hash on chain)
  evidence export --loan ID --out FILE.zip      the loan's evidence bundle for arbitration
  faults                                  equivocations committed on chain (members who
                                          signed two conflicting consensus messages)
  member list | epochs                    the membership epoch in force / all epochs
  member propose --id P (--remove M | --add MEMBER_JSON | --quorum RULE)
  member approve P                        membership and quorum changes (`member --help`)

Joint loans (each step signed as the --home institution; `colend loan --help` for details):
  loan schedule --principal CNY --periods N (--daily-rate R% | --annual-rate R%)
                [--method equal-installment|equal-principal] [--split 20/80]   (offline)
  loan list | show ID | events ID
  loan draw | approve | fund | payout | repay | settle | writeoff --loan ID ...
  borrower ref | admit | change | show | events      bureau snapshot      auth result      bank figures
  va spend      collection outcome      param show | propose | approve
  clock show | tick | advance --days N      (advance: development genesis only)
  localnet demo --dir D                   the sample joint loan, end to end, on a running
                                          local network

Every command takes --help. --json prints machine-readable output. Exit codes: 0 success,
1 failure (the message says what was wrong), 2 bad usage.
)";

}  // namespace
}  // namespace colend::cli

int main(int argc, char** argv) {
  using namespace colend::cli;
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << "colend: " << args.error().message << "\n" << kUsage;
    return 2;
  }
  if (args->words.empty()) {
    if (args->Has("help")) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << kUsage;
    return 2;
  }
  const std::string& command = args->words[0];
  if (command == "localnet") {
    if (args->words.size() > 1 && args->words[1] == "demo") return RunLocalnetDemo(*args);
    if (args->words.size() > 1 && args->words[1] == "rekey") return RunLocalnetRekey(*args);
    return RunLocalnet(*args);
  }
  if (command == "loan" || command == "borrower" || command == "bureau" || command == "auth" ||
      command == "va" || command == "use" || command == "collection" || command == "param" || command == "clock" ||
      command == "bank") {
    return RunLendingCommand(*args);
  }
  if (command == "member") return RunMemberCommand(*args);
  if (command == "status" || command == "block" || command == "tx" || command == "evidence" ||
      command == "faults") {
    return RunNodeCommand(*args);
  }
  if (command == "loan" && args->words.size() > 1 && args->words[1] == "schedule") {
    return RunLoanSchedule(*args);
  }
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "colend: unknown command '" << command << "'\n" << kUsage;
  return 2;
}
