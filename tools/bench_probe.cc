// colend-bench: the signature-verification bound of this machine and the node processes' memory.
// See tools/bench.h.
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "crypto/hash.h"
#include "tools/bench.h"

namespace colend::bench {
namespace {

// A realistic signed body: an evidence.anchor as the CLI builds it (about 300 bytes).
std::string ProbeBody(const BenchNode& node, std::size_t n) {
  contracts::TxBody body;
  body.chain_id = node.home.genesis.chain_id;
  body.sender = node.home.config.member_id;
  body.nonce = n;
  body.timestamp_ms = cli::NowMs();
  body.type = "evidence.anchor";
  body.fields["document-name"] = "verify-probe.pdf";
  body.fields["document-sha256"] = crypto::ToHex(crypto::Sha256("probe " + std::to_string(n)));
  return body.ToText();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// "VmRSS:	  123456 kB" → MiB; 0 if absent.
double StatusMib(const std::string& status, const std::string& field) {
  const auto at = status.find(field + ":");
  if (at == std::string::npos) return 0;
  std::istringstream line(status.substr(at + field.size() + 1));
  double kb = 0;
  line >> kb;
  return kb / 1024.0;
}

// The process's command line, NULs as spaces.
std::string CommandLine(pid_t pid) {
  std::string text = ReadText("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

bool IsNodeOf(pid_t pid, const std::string& home) {
  const std::string cmd = CommandLine(pid);
  if (cmd.find("colend-node") == std::string::npos) return false;
  if (cmd.find(home + " ") != std::string::npos || cmd.ends_with(home)) return true;
  // A relative --home: compare the process's view of the directory.
  std::error_code ignored;
  const auto canonical = std::filesystem::weakly_canonical(home, ignored);
  return cmd.find(canonical.string()) != std::string::npos;
}

// One signature checked the way OpenSSL 3's one-shot API needs at the least (a digest context
// per signature, as crypto::NewDigestCtx makes it; SM2 with the standard distinguishing id), on a
// key decoded once: the signature arithmetic, without colend's own per-call work.
bool RawVerify(EVP_PKEY* key, crypto::Suite suite, const std::string& message,
               const std::string& signature) {
  static constexpr char kSm2Id[] = "1234567812345678";
  EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  bool ok = md_ctx != nullptr;
  if (ok && suite == crypto::Suite::kSm) {
    pkey_ctx = EVP_PKEY_CTX_new(key, nullptr);
    ok = pkey_ctx && EVP_PKEY_CTX_set1_id(pkey_ctx, kSm2Id, sizeof kSm2Id - 1) > 0;
    if (ok) EVP_MD_CTX_set_pkey_ctx(md_ctx, pkey_ctx);
  }
  ok = ok && EVP_DigestVerifyInit(md_ctx, nullptr,
                                  suite == crypto::Suite::kSm ? EVP_sm3() : EVP_sha256(), nullptr,
                                  key) == 1;
  ok = ok && EVP_DigestVerify(md_ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(),
                              reinterpret_cast<const unsigned char*>(message.data()),
                              message.size()) == 1;
  EVP_MD_CTX_free(md_ctx);
  EVP_PKEY_CTX_free(pkey_ctx);
  return ok;
}

// Runs check(i) for i in [0, count) on `threads` threads; seconds taken and failures.
template <class Check>
std::pair<double, std::size_t> Timed(std::size_t count, unsigned threads, Check check) {
  std::atomic<std::size_t> next{0}, bad{0};
  std::vector<std::thread> pool;
  const auto started = std::chrono::steady_clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < count;) {
        if (!check(i)) ++bad;
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
          bad.load()};
}

}  // namespace

Result<VerifyBound> MeasureVerifyBound(const BenchNet& net, std::size_t count, unsigned threads) {
  threads = std::max(1u, threads);
  struct Sample {
    std::string body;
    std::string signature;
    const crypto::PublicKey* key = nullptr;
  };
  std::vector<Sample> samples(count);
  std::vector<const crypto::PublicKey*> keys;
  for (const BenchNode& node : net.nodes) {
    keys.push_back(&node.home.genesis.FindMember(node.home.config.member_id)->signing_key);
  }
  // Signing is not timed; it runs on the same threads.
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto sign = [&] {
    for (std::size_t i; !failed && (i = next.fetch_add(1)) < count;) {
      const std::size_t signer = i % net.nodes.size();
      samples[i].body = ProbeBody(net.nodes[signer], i);
      auto signature = net.nodes[signer].key.Sign(samples[i].body);
      if (!signature.ok()) {
        failed = true;
        return;
      }
      samples[i].signature = std::move(signature).value();
      samples[i].key = keys[signer];
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(sign);
  for (auto& thread : pool) thread.join();
  pool.clear();
  if (failed) return MakeError("bench-sign-failed", "cannot sign the verification probes");
  // The bound: the signature arithmetic alone, on keys decoded once.
  std::vector<EVP_PKEY*> raw_keys;
  for (const crypto::PublicKey* key : keys) {
    const std::string der = key->ToDer();
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    raw_keys.push_back(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
    if (!raw_keys.back()) {
      for (EVP_PKEY* k : raw_keys) EVP_PKEY_free(k);
      return MakeError("bench-verify-failed", "cannot decode a member's public key");
    }
  }
  const crypto::Suite suite = net.nodes.front().home.genesis.suite;
  auto [raw_seconds, raw_bad] = Timed(count, threads, [&](std::size_t i) {
    return RawVerify(raw_keys[i % raw_keys.size()], suite, samples[i].body, samples[i].signature);
  });
  for (EVP_PKEY* k : raw_keys) EVP_PKEY_free(k);
  // The nodes' own check (crypto::PublicKey::Verify: strict DER, the verified-signature cache
  // key, a context per call), on the same signatures, each once.
  auto [path_seconds, path_bad] = Timed(count, threads, [&](std::size_t i) {
    return samples[i].key->Verify(samples[i].body, samples[i].signature).ok();
  });
  if (raw_bad + path_bad > 0) {
    return MakeError("bench-verify-failed",
                     std::to_string(raw_bad + path_bad) + " probe signatures did not verify");
  }
  VerifyBound bound;
  bound.signatures = count;
  bound.threads = threads;
  bound.seconds = raw_seconds;
  bound.per_second = raw_seconds > 0 ? count / raw_seconds : 0;
  bound.node_path_per_second = path_seconds > 0 ? count / path_seconds : 0;
  return bound;
}

std::vector<NodeMemory> FindNodeProcesses(const BenchNet& net) {
  std::vector<NodeMemory> out;
  for (std::size_t k = 0; k < net.nodes.size(); ++k) {
    NodeMemory m;
    m.member = net.nodes[k].home.config.member_id;
    const std::string home = net.nodes[k].home.config.home;
    std::istringstream pid_file(ReadText(home + "/node.pid"));
    long pid = 0;
    if (pid_file >> pid && pid > 0 && IsNodeOf(static_cast<pid_t>(pid), home)) {
      m.pid = static_cast<pid_t>(pid);
    } else if (DIR* proc = ::opendir("/proc")) {
      while (dirent* entry = ::readdir(proc)) {
        const long candidate = std::strtol(entry->d_name, nullptr, 10);
        if (candidate > 0 && IsNodeOf(static_cast<pid_t>(candidate), home)) {
          m.pid = static_cast<pid_t>(candidate);
          break;
        }
      }
      ::closedir(proc);
    }
    out.push_back(m);
  }
  return out;
}

void SampleMemory(std::vector<NodeMemory>* nodes) {
  for (NodeMemory& m : *nodes) {
    if (m.pid == 0) continue;
    const std::string status = ReadText("/proc/" + std::to_string(m.pid) + "/status");
    if (status.empty()) continue;  // exited
    m.rss_mib = std::max(m.rss_mib, StatusMib(status, "VmRSS"));
    m.hwm_mib = std::max(m.hwm_mib, StatusMib(status, "VmHWM"));
  }
}

}  // namespace colend::bench
