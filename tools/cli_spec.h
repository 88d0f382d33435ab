// The command-line definitions of `colend` (tools/cli_spec.cc) and the parser that reads them
// (tools/cli_parser.cc, on CLI11). Each command is defined once, as data: its words, its
// positional arguments and its options with their help. The parser refuses unknown options,
// missing required ones, repeated ones and stray words, generates `--help` for every command and
// group from the same definitions, and hands the handler an Args (tools/cli.h).
#pragma once

#include <string>
#include <vector>

#include "tools/cli.h"

namespace colend::cli {

using Handler = int (*)(const Args&);

struct OptionSpec {
  std::string name;         // without the leading "--"
  std::string value;        // the value's placeholder ("ID", "CNY"); empty for a flag
  std::string help;
  bool required = false;
};

struct PositionalSpec {
  std::string name;         // shown in the usage line ("ID")
  std::string help;
};

struct CommandSpec {
  std::vector<std::string> path;  // {"loan", "draw"}
  std::string summary;            // one line, shown in the parent's list and atop its help
  std::vector<PositionalSpec> positionals;  // all required, in order
  std::vector<OptionSpec> options;
  std::string details;            // shown below the options in its help
  Handler run = nullptr;          // nullptr: a group, which needs one of its subcommands
  bool home = false;              // acts as the --home node's institution
};

struct ProgramSpec {
  std::string name;               // "colend"
  std::string summary;
  std::vector<OptionSpec> global;  // accepted before the command and after it
  std::vector<CommandSpec> commands;  // a group comes before its subcommands
  std::string details;
};

// The definitions of `colend`.
const ProgramSpec& ColendProgram();

// Parses argv against `program`. On success fills `args` (words: the command's path and its
// positional arguments; options: each option given, flags as "true"; usage: the command's
// generated help) and returns the command to run. Otherwise prints the help (exit code 0, for
// --help or a bare group) or the error and the help (exit code 2) and returns nullptr with the
// code in `exit_code`.
const CommandSpec* ParseCommandLine(const ProgramSpec& program, int argc, char** argv, Args* args,
                                    int* exit_code);

}  // namespace colend::cli
