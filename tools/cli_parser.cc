// The command-line parser of colend's tools (tools/cli_spec.h), on CLI11 (Debian's
// libcli11-dev): a well-kept parser instead of our own, so unknown, missing, repeated and
// malformed options are refused the same way everywhere and --help is generated from the
// definitions. CLI11 is included in this file only: it is heavy to compile.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "tools/cli_spec.h"

namespace colend::cli {
namespace {

constexpr std::size_t kHelpColumn = 34;

void AddOption(CLI::App* app, const OptionSpec& o) {
  if (o.value.empty()) {
    app->add_flag("--" + o.name, o.help);
    return;
  }
  CLI::Option* opt = app->add_option("--" + o.name, o.help)->type_name(o.value);
  if (o.required) opt->required();
}

struct Tree {
  std::map<const CLI::App*, const CommandSpec*> spec_of;
  std::map<std::string, CLI::App*> app_of;  // path joined by ' ' -> app
};

std::string Key(const std::vector<std::string>& path, std::size_t n) {
  std::string key;
  for (std::size_t i = 0; i < n; ++i) key += (i ? " " : "") + path[i];
  return key;
}

void Build(const ProgramSpec& program, CLI::App* root, Tree* tree) {
  root->set_help_flag("-h,--help", "print this help and exit");
  root->get_formatter()->column_width(kHelpColumn);
  if (!program.details.empty()) root->footer(program.details);
  tree->app_of[""] = root;
  const bool root_runs = program.commands.size() == 1 && program.commands[0].path.empty();
  if (!root_runs) {
    root->require_subcommand(1, 1);
    for (const OptionSpec& o : program.global) AddOption(root, o);
  }
  for (const CommandSpec& c : program.commands) {
    CLI::App* app = root;
    if (!c.path.empty()) {
      CLI::App* parent = tree->app_of.at(Key(c.path, c.path.size() - 1));
      app = parent->add_subcommand(c.path.back(), c.summary);
      app->fallthrough();  // --home and --json may come before or after the command
      app->get_formatter()->column_width(kHelpColumn);
      if (!c.details.empty()) app->footer(c.details);
    }
    if (c.run == nullptr) {
      app->require_subcommand(1, 1);
    } else {
      for (const PositionalSpec& p : c.positionals) {
        app->add_option(p.name, p.help)->required();
      }
      for (const OptionSpec& o : c.options) AddOption(app, o);
      for (const OptionSpec& g : program.global) {
        if (g.name == "home" && !c.home) continue;
        AddOption(app, g);
      }
    }
    tree->spec_of[app] = &c;
    tree->app_of[Key(c.path, c.path.size())] = app;
  }
}

// The deepest command reached while parsing.
CLI::App* Deepest(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands()) return Deepest(sub);
  return app;
}

// The help of `app`, its usage line with the full command ("Usage: colend loan draw ...").
std::string HelpOf(const CLI::App* app) {
  std::string prefix;
  for (const CLI::App* a = app->get_parent(); a != nullptr; a = a->get_parent()) {
    prefix = a->get_name() + (prefix.empty() ? "" : " " + prefix);
  }
  return app->help(prefix);
}

// CLI11's message, except for an option with a value given twice at one level, which is said
// as for two levels (below): "--loan given more than once".
std::string Explain(const CLI::App* at, const CLI::ParseError& e) {
  for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      if (opt->get_expected_max() == 1 && opt->count() > 1 && !opt->get_name().empty()) {
        return opt->get_name() + " given more than once";
      }
    }
  }
  return e.what();
}

// `colend help loan draw` is `colend loan draw --help`.
std::vector<std::string> Words(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (!words.empty() && words[0] == "help") {
    words.erase(words.begin());
    words.push_back("--help");
  }
  return words;
}

}  // namespace

const CommandSpec* ParseCommandLine(const ProgramSpec& program, int argc, char** argv, Args* args,
                                    int* exit_code) {
  CLI::App root(program.summary, program.name);
  Tree tree;
  Build(program, &root, &tree);
  std::vector<std::string> words = Words(argc, argv);
  std::reverse(words.begin(), words.end());  // CLI11 takes them in reverse order
  // Arguments no command defines are collected at the root (every command falls through to it)
  // and refused below, ahead of a missing required one: the unknown one is the likelier mistake.
  root.allow_extras();
  auto refuse_extras = [&]() -> bool {
    const std::vector<std::string> extras = root.remaining();
    if (extras.empty()) return false;
    CLI::App* at = Deepest(&root);
    const bool group = tree.spec_of.count(at) == 0 || tree.spec_of.at(at)->run == nullptr;
    if (group && extras[0].rfind('-', 0) != 0) {
      std::cerr << program.name << ": unknown command '" << extras[0] << "'\n" << HelpOf(at);
      return true;
    }
    std::string list;
    for (const std::string& e : extras) list += " " + e;
    std::cerr << program.name << ": not expected:" << list << "\n" << HelpOf(at);
    return true;
  };
  try {
    root.parse(words);
  } catch (const CLI::CallForHelp&) {
    std::cout << HelpOf(Deepest(&root));
    *exit_code = 0;
    return nullptr;
  } catch (const CLI::ParseError& e) {
    *exit_code = 2;
    if (refuse_extras()) return nullptr;
    std::cerr << program.name << ": " << Explain(Deepest(&root), e) << "\n"
              << HelpOf(Deepest(&root));
    return nullptr;
  }
  if (refuse_extras()) {
    *exit_code = 2;
    return nullptr;
  }
  CLI::App* leaf = Deepest(&root);
  const CommandSpec* spec = tree.spec_of.at(leaf);
  Args out;
  out.words = spec->path;
  for (const PositionalSpec& p : spec->positionals) {
    out.words.push_back(leaf->get_option(p.name)->as<std::string>());
  }
  // A flag given twice counts once; an option with a value given twice, at one level (CLI11
  // refuses it) or at two (`colend --home A status --home B`), is refused.
  std::vector<CLI::App*> chain;
  for (CLI::App* a = leaf; a != nullptr; a = a->get_parent()) chain.push_back(a);
  for (CLI::App* a : chain) {
    const CommandSpec* s = tree.spec_of.count(a) ? tree.spec_of.at(a) : nullptr;
    std::vector<const OptionSpec*> specs;
    if (s) {
      for (const OptionSpec& o : s->options) specs.push_back(&o);
    }
    for (const OptionSpec& g : program.global) {
      if (a->get_option_no_throw("--" + g.name) != nullptr) specs.push_back(&g);
    }
    for (const OptionSpec* o : specs) {
      const CLI::Option* opt = a->get_option_no_throw("--" + o->name);
      if (opt == nullptr || opt->count() == 0) continue;
      const std::string value = o->value.empty() ? "true" : opt->as<std::string>();
      auto [it, inserted] = out.options.emplace(o->name, value);
      if (!inserted && (!o->value.empty())) {
        std::cerr << program.name << ": --" << o->name << " given more than once\n";
        *exit_code = 2;
        return nullptr;
      }
    }
  }
  out.usage = HelpOf(leaf);
  *args = std::move(out);
  *exit_code = 0;
  return spec;
}

}  // namespace colend::cli
