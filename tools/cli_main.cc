// colend: the command-line client of a colend ledger node. Its commands are defined in
// tools/cli_spec.cc and parsed by tools/cli_parser.cc; each handler lives with its concern.
#include "tools/cli_spec.h"

int main(int argc, char** argv) {
  using namespace colend::cli;
  Args args;
  int exit_code = 0;
  const CommandSpec* command = ParseCommandLine(ColendProgram(), argc, argv, &args, &exit_code);
  if (command == nullptr) return exit_code;
  return command->run(args);
}
