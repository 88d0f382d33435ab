// Shared pieces of the colend command-line tools (tools/cli.h): arguments, output, node access.
// Linked into `colend` and `colend-bench` (library colend_cli).
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "node/rpc.h"
#include "tools/cli.h"

namespace colend::cli {

int Fail(const std::string& message) {
  std::cerr << "colend: " << message << std::endl;
  return 1;
}

int Fail(const Error& error) {
  const int code = Fail(error.message + " [" + error.code + "]");
  return error.code == "usage" ? 2 : code;
}

Result<std::int64_t> WholeOption(const Args& args, const std::string& name, std::int64_t fallback,
                                 std::int64_t min, std::int64_t max) {
  if (!args.Has(name)) return fallback;
  const std::string text = args.Get(name);
  const bool digits = !text.empty() && text.size() <= 18 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::int64_t value = digits ? std::stoll(text) : -1;
  if (!digits || value < min || value > max) {
    return MakeError("invalid-option", "--" + name + " must be a whole number from " +
                                           std::to_string(min) + " to " + std::to_string(max) +
                                           ", not '" + text + "'");
  }
  return value;
}

void Print(const Args& args, const nlohmann::json& result, const std::string& text) {
  if (args.Has("json")) {
    std::cout << result.dump(2) << std::endl;
  } else {
    std::cout << text << std::flush;
  }
}

Result<nlohmann::json> CallNode(const node::NodeConfig& config, const std::string& method,
                                const nlohmann::json& params, std::int64_t timeout_ms) {
  // A node serving its JSON-RPC beyond loopback (rpc_remote) requires TLS with a certificate
  // from the consortium CA: the CLI presents the node home's TLS certificate.
  std::optional<node::RpcTlsConfig> tls;
  if (config.rpc_remote) {
    auto ca = node::ReadFile(config.Path("ca.pem"), node::kKeyFileBytesMax);
    auto cert = node::ReadFile(config.Path("tls.pem"), node::kKeyFileBytesMax);
    auto key = node::ReadFile(config.Path("tls.key"), node::kKeyFileBytesMax);
    if (!ca.ok() || !cert.ok() || !key.ok()) {
      return MakeError("rpc-tls-failed", "rpc_remote is set: the CLI needs ca.pem, tls.pem and "
                                         "tls.key in " + config.home);
    }
    tls = node::RpcTlsConfig{*ca, *cert, *key};
  }
  auto result = node::RpcCall(config.rpc_host, config.rpc_port, method, params, timeout_ms,
                              tls ? &*tls : nullptr);
  if (!result.ok() && result.error().code == "rpc-unreachable") {
    return MakeError("rpc-unreachable", "the node " + config.member_id + " at " + config.rpc_host +
                                            ":" + std::to_string(config.rpc_port) +
                                            " is not answering (is it running?)");
  }
  return result;
}

Result<nlohmann::json> ScanState(const node::NodeConfig& config, const std::string& prefix) {
  constexpr std::size_t kPage = 10000;  // the node's kStateScanMax
  nlohmann::json all = nlohmann::json::array();
  std::string after;
  for (;;) {
    nlohmann::json params = {{"prefix", prefix}, {"limit", kPage}};
    if (!after.empty()) params["after"] = after;
    auto page = CallNode(config, "state", params);
    if (!page.ok()) return page.error();
    const nlohmann::json& entries = (*page)["entries"];
    for (const auto& e : entries) all.push_back(e);
    if (!page->value("more", false) || entries.empty()) {
      (*page)["entries"] = std::move(all);
      page->erase("more");
      return page;
    }
    after = entries.back()["key"].get<std::string>();
  }
}

std::string ProgramDirectory() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<std::size_t>(n));
  return path.substr(0, path.find_last_of('/'));
}

}  // namespace colend::cli
