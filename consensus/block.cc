// Canonical texts (block header, vote, proposal), quorum arithmetic, the validator set and the
// offline commit-certificate check. Everything here is a pure function of its inputs: these bytes
// are what members sign and what an arbitrator re-derives, so any change is a consensus change
// (pinned by the golden vectors in tests/consensus/block_test.cc).
#include "consensus/block.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

namespace colend::consensus {
namespace {

constexpr std::string_view kHeaderMagic = "colend-block-header/v1";
constexpr std::size_t kHeaderLines = 13;  // magic line + 12 keys
// Keys in their fixed order, after the magic line.
constexpr std::array<std::string_view, kHeaderLines - 1> kHeaderKeys = {
    "chain-id",    "height",      "prev-block-hash",  "timestamp-ms",
    "proposer",    "tx-count",    "tx-root",          "state-root",
    "ledger-size", "ledger-root", "membership-epoch", "membership-sha256"};
// An error message quotes at most this much of an offending value (peer input can be huge).
constexpr std::size_t kQuotedValueMax = 80;

Error BadHeader(std::size_t line_number, std::string_view what) {
  return MakeError("bad-header", "line " + std::to_string(line_number) + ": " + std::string(what));
}

std::string Quote(std::string_view value) {
  std::string shown(value.substr(0, kQuotedValueMax));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "\"" + shown + (value.size() > kQuotedValueMax ? "...\"" : "\"");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Canonical unsigned decimal: "0" or a non-zero digit followed by digits, within uint64.
std::optional<std::uint64_t> ParseCanonicalU64(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// Canonical signed decimal as std::to_string prints it: no "+", no "-0", no leading zeros.
std::optional<std::int64_t> ParseCanonicalI64(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (negative && s == "0") return std::nullopt;
  const auto magnitude = ParseCanonicalU64(s);
  if (!magnitude) return std::nullopt;
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  if (*magnitude > limit) return std::nullopt;
  if (negative) return static_cast<std::int64_t>(0 - *magnitude);  // two's complement, no UB
  return static_cast<std::int64_t>(*magnitude);
}

// Exactly 64 lowercase hex digits: one accepted spelling per hash.
std::optional<Hash256> ParseCanonicalHash(std::string_view s) {
  if (s.size() != 64) return std::nullopt;
  for (char c : s) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return std::nullopt;
  }
  auto hash = crypto::Hash256FromHex(s);
  if (!hash.ok()) return std::nullopt;
  return *hash;
}

// Free text values (chain id, member id): non-empty, no control characters, so that the value
// cannot smuggle a line break or terminal escape into the signed text.
bool IsCanonicalText(std::string_view s) {
  if (s.empty()) return false;
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Splits a header text into lines without their LF; reports CR and a missing final LF.
Result<std::vector<std::string_view>> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (line.find('\r') != std::string_view::npos) {
      return BadHeader(lines.size() + 1, "carriage return (CR) is not allowed");
    }
    if (end == std::string_view::npos) {
      return BadHeader(lines.size() + 1, "missing trailing line feed (LF)");
    }
    if (lines.size() > kHeaderLines) break;  // already too long; do not split megabytes of junk
    lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return BadHeader(1, "empty header text");
  return lines;
}

// Returns the value of `line` if it is exactly "<key>: <value>" for the expected key.
Result<std::string_view> ValueOf(std::string_view line, std::size_t line_number,
                                 std::string_view key) {
  const std::string prefix = std::string(key) + ": ";
  if (line.substr(0, prefix.size()) == prefix) return line.substr(prefix.size());
  const std::string_view found = line.substr(0, line.find(':'));
  const bool known = std::find(kHeaderKeys.begin(), kHeaderKeys.end(), found) != kHeaderKeys.end();
  return BadHeader(line_number, std::string(known ? "key out of order: " : "unexpected key: ") +
                                    Quote(found) + ", expected \"" + std::string(key) + "\"");
}

// The typed fields of BlockHeader in text order, so parse and print share one table.
struct FieldParser {
  std::uint64_t* u64 = nullptr;
  std::int64_t* i64 = nullptr;
  Hash256* hash = nullptr;
  std::string* text = nullptr;
};

Status ParseField(std::string_view value, std::size_t line_number, std::string_view key,
                  const FieldParser& field) {
  auto bad = [&](std::string_view expected) {
    return BadHeader(line_number, std::string(key) + " must be " + std::string(expected) +
                                      ", got " + Quote(value));
  };
  if (field.u64 != nullptr) {
    const auto v = ParseCanonicalU64(value);
    if (!v) return bad("a canonical unsigned decimal");
    *field.u64 = *v;
  } else if (field.i64 != nullptr) {
    const auto v = ParseCanonicalI64(value);
    if (!v) return bad("a canonical signed decimal");
    *field.i64 = *v;
  } else if (field.hash != nullptr) {
    const auto v = ParseCanonicalHash(value);
    if (!v) return bad("64 lowercase hex digits");
    *field.hash = *v;
  } else {
    if (!IsCanonicalText(value)) return bad("non-empty text without control characters");
    *field.text = std::string(value);
  }
  return Status::Ok();
}

std::array<FieldParser, kHeaderLines - 1> FieldsOf(BlockHeader& h) {
  return {FieldParser{.text = &h.chain_id},        FieldParser{.u64 = &h.height},
          FieldParser{.hash = &h.prev_block_hash}, FieldParser{.i64 = &h.timestamp_ms},
          FieldParser{.text = &h.proposer},        FieldParser{.u64 = &h.tx_count},
          FieldParser{.hash = &h.tx_root},         FieldParser{.hash = &h.state_root},
          FieldParser{.u64 = &h.ledger_size},      FieldParser{.hash = &h.ledger_root},
          FieldParser{.u64 = &h.membership_epoch}, FieldParser{.hash = &h.membership_sha256}};
}

std::string_view PhaseName(Phase phase) {
  return phase == Phase::kPrevote ? "prevote" : "precommit";
}

}  // namespace

std::string BlockHeader::ToText() const {
  std::string out;
  out.reserve(1024);
  auto line = [&out](std::string_view key, std::string_view value) {
    out.append(key).append(": ").append(value).push_back('\n');
  };
  out.append(kHeaderMagic).push_back('\n');
  line("chain-id", chain_id);
  line("height", std::to_string(height));
  line("prev-block-hash", crypto::ToHex(prev_block_hash));
  line("timestamp-ms", std::to_string(timestamp_ms));
  line("proposer", proposer);
  line("tx-count", std::to_string(tx_count));
  line("tx-root", crypto::ToHex(tx_root));
  line("state-root", crypto::ToHex(state_root));
  line("ledger-size", std::to_string(ledger_size));
  line("ledger-root", crypto::ToHex(ledger_root));
  line("membership-epoch", std::to_string(membership_epoch));
  line("membership-sha256", crypto::ToHex(membership_sha256));
  return out;
}

Result<BlockHeader> BlockHeader::ParseText(std::string_view text) {
  auto lines = SplitLines(text);
  if (!lines.ok()) return lines.error();
  if ((*lines)[0] != kHeaderMagic) {
    return BadHeader(1,
                     "expected \"" + std::string(kHeaderMagic) + "\", got " + Quote((*lines)[0]));
  }
  BlockHeader header;
  const auto fields = FieldsOf(header);
  for (std::size_t i = 0; i < kHeaderKeys.size(); ++i) {
    const std::size_t line_number = i + 2;
    if (line_number > lines->size()) {
      return BadHeader(line_number, "missing key \"" + std::string(kHeaderKeys[i]) + "\"");
    }
    auto value = ValueOf((*lines)[line_number - 1], line_number, kHeaderKeys[i]);
    if (!value.ok()) return value.error();
    COLEND_RETURN_IF_ERROR(ParseField(*value, line_number, kHeaderKeys[i], fields[i]));
  }
  if (lines->size() > kHeaderLines) {
    return BadHeader(kHeaderLines + 1,
                     "unexpected line after membership-sha256: " + Quote((*lines)[kHeaderLines]));
  }
  // Every field was checked to be canonical, so printing must give back the input byte for
  // byte; checked rather than asserted because the input comes from peers.
  if (header.ToText() != text) return BadHeader(1, "header text is not canonical");
  return header;
}

Hash256 BlockHash(std::string_view header_text) { return crypto::Sha256(header_text); }

Hash256 BlockContentDigest(const proto::Block& block) {
  std::string bytes;
  auto append = [&bytes](std::string_view part) {
    const std::uint64_t size = part.size();
    for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(size >> shift));
    bytes.append(part);
  };
  append(block.header());
  for (const std::string& tx : block.txs()) append(tx);
  return crypto::Sha256(bytes);
}

std::string_view QuorumRuleName(QuorumRule rule) {
  return rule == QuorumRule::kMajority ? "majority" : "two-thirds";
}

Result<QuorumRule> ParseQuorumRule(std::string_view name) {
  if (name == "majority") return QuorumRule::kMajority;
  if (name == "two-thirds") return QuorumRule::kTwoThirds;
  return MakeError("unknown-quorum-rule",
                   "quorum rule " + Quote(name) + " is neither \"majority\" nor \"two-thirds\"");
}

std::size_t QuorumSize(std::size_t members, QuorumRule rule) {
  // Two quorums share at least 2q - n members: >= 1 for a majority, >= f + 1 for two-thirds
  // with n = 3f + 1 (see docs/consensus.md §2).
  return rule == QuorumRule::kMajority ? members / 2 + 1 : (2 * members) / 3 + 1;
}

ValidatorSet::ValidatorSet(std::string chain_id, std::uint64_t epoch, std::vector<Member> members,
                           QuorumRule rule)
    : chain_id_(std::move(chain_id)), epoch_(epoch), members_(std::move(members)), rule_(rule) {
  // Genesis validation guarantees these; a violation here is a programmer error.
  assert(!members_.empty());
  std::sort(members_.begin(), members_.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  for (std::size_t i = 1; i < members_.size(); ++i) {
    assert(members_[i - 1].id != members_[i].id && "validator ids must be unique");
  }
}

const Member* ValidatorSet::Find(std::string_view id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, std::string_view key) { return m.id < key; });
  if (it == members_.end() || it->id != id) return nullptr;
  return &*it;
}

const std::string& ValidatorSet::ProposerFor(std::uint64_t height, std::uint32_t round) const {
  const std::uint64_t n = members_.size();
  // (height + round) % n without overflowing near the top of uint64.
  return members_[(height % n + round % n) % n].id;
}

std::string VoteText(std::string_view chain_id, std::uint64_t epoch, std::uint64_t height,
                     std::uint32_t round, Phase phase, const std::optional<Hash256>& block_hash) {
  std::string out = "colend-vote/v1\nchain-id: ";
  out.append(chain_id);
  out += "\nepoch: " + std::to_string(epoch);
  out += "\nheight: " + std::to_string(height);
  out += "\nround: " + std::to_string(round);
  out += "\nphase: " + std::string(PhaseName(phase));
  out += "\nblock-hash: " + (block_hash ? crypto::ToHex(*block_hash) : std::string("nil"));
  out += "\n";
  return out;
}

std::string ProposalText(std::string_view chain_id, std::uint64_t epoch, std::uint64_t height,
                         std::uint32_t round, std::int64_t valid_round, const Hash256& block_hash) {
  std::string out = "colend-proposal/v1\nchain-id: ";
  out.append(chain_id);
  out += "\nepoch: " + std::to_string(epoch);
  out += "\nheight: " + std::to_string(height);
  out += "\nround: " + std::to_string(round);
  out += "\nvalid-round: " + std::to_string(valid_round);
  out += "\nblock-hash: " + crypto::ToHex(block_hash);
  out += "\n";
  return out;
}

Status VerifyCommitCertificate(const ValidatorSet& validators, std::uint64_t height,
                               const Hash256& block_hash, const proto::CommitCertificate& cert) {
  if (cert.height() != height) {
    return MakeError("bad-certificate", "certificate is for height " +
                                            std::to_string(cert.height()) + ", expected " +
                                            std::to_string(height));
  }
  if (cert.block_hash() != crypto::AsBytes(block_hash)) {
    return MakeError("bad-certificate", "certificate block hash " +
                                            crypto::ToHex(cert.block_hash()) + " is not " +
                                            crypto::ToHex(block_hash));
  }
  // More endorsements than members means a duplicate or a stranger; refusing early bounds the
  // signature checks an attacker can make us do.
  if (static_cast<std::size_t>(cert.endorsements_size()) > validators.size()) {
    return MakeError("bad-certificate", std::to_string(cert.endorsements_size()) +
                                            " endorsements for " +
                                            std::to_string(validators.size()) + " members");
  }
  const std::string text = VoteText(validators.chain_id(), validators.epoch(), height, cert.round(),
                                    Phase::kPrecommit, block_hash);
  std::set<std::string> seen;
  for (const proto::Endorsement& e : cert.endorsements()) {
    const Member* member = validators.Find(e.member());
    if (member == nullptr) {
      return MakeError("unknown-member", "endorsement by " + Quote(e.member()) +
                                             ", not a member of epoch " +
                                             std::to_string(validators.epoch()));
    }
    // Counted once per member: a copied endorsement must not inflate the quorum.
    if (!seen.insert(e.member()).second) {
      return MakeError("duplicate-endorsement", "member " + e.member() + " endorses twice");
    }
    const Status verified = member->key.Verify(text, e.signature());
    if (!verified.ok()) {
      return MakeError(
          "bad-endorsement-signature",
          "endorsement by " + e.member() + " does not verify: " + verified.error().OwnText());
    }
  }
  if (seen.size() < validators.quorum()) {
    return MakeError("insufficient-endorsements", std::to_string(seen.size()) +
                                                      " endorsements, quorum is " +
                                                      std::to_string(validators.quorum()));
  }
  return Status::Ok();
}

std::string EquivocationFacts::Key() const {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%020llu/%010u/", static_cast<unsigned long long>(height),
                static_cast<unsigned>(round));
  return member + "/" + buffer + kind;
}

Result<EquivocationFacts> VerifyEquivocation(const ValidatorSet& validators,
                                             const proto::ConsensusMessage& first,
                                             const proto::ConsensusMessage& second) {
  auto no = [](const std::string& why) { return MakeError("not-an-equivocation", why); };
  struct Signed {
    std::string member, kind, text, signature, content;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
  };
  auto describe = [&](const proto::ConsensusMessage& m) -> Result<Signed> {
    Signed out;
    if (m.has_proposal()) {
      const proto::Proposal& p = m.proposal();
      const Hash256 hash = BlockHash(p.block().header());
      out = {p.proposer(), "proposal",
             ProposalText(validators.chain_id(), validators.epoch(), p.height(), p.round(),
                          p.valid_round(), hash),
             p.signature(), std::to_string(p.valid_round()) + "/" + crypto::ToHex(hash),
             p.height(), p.round()};
      return out;
    }
    if (m.has_vote()) {
      const proto::Vote& v = m.vote();
      if (v.phase() != proto::PHASE_PREVOTE && v.phase() != proto::PHASE_PRECOMMIT) {
        return no("a vote with an unknown phase");
      }
      std::optional<Hash256> hash;
      if (!v.block_hash().empty()) {
        if (v.block_hash().size() != 32) return no("a vote's block hash is not 32 bytes");
        Hash256 h{};
        std::copy(v.block_hash().begin(), v.block_hash().end(), h.begin());
        hash = h;
      }
      const Phase phase = v.phase() == proto::PHASE_PREVOTE ? Phase::kPrevote : Phase::kPrecommit;
      out = {v.member(), phase == Phase::kPrevote ? "prevote" : "precommit",
             VoteText(validators.chain_id(), validators.epoch(), v.height(), v.round(), phase,
                      hash),
             v.signature(), hash ? crypto::ToHex(*hash) : "nil", v.height(), v.round()};
      return out;
    }
    return no("a message that is neither a proposal nor a vote");
  };
  auto a = describe(first);
  if (!a.ok()) return a.error();
  auto b = describe(second);
  if (!b.ok()) return b.error();
  if (a->member != b->member || a->kind != b->kind || a->height != b->height ||
      a->round != b->round) {
    return no("the messages are for different members, kinds, heights or rounds");
  }
  if (a->content == b->content) return no("both messages sign the same content");
  const Member* member = validators.Find(a->member);
  if (member == nullptr) {
    return MakeError("unknown-member", "'" + a->member + "' is not a member of epoch " +
                                           std::to_string(validators.epoch()));
  }
  if (Status s = member->key.Verify(a->text, a->signature); !s.ok()) {
    return MakeError("bad-signature", "first message: " + s.error().OwnText());
  }
  if (Status s = member->key.Verify(b->text, b->signature); !s.ok()) {
    return MakeError("bad-signature", "second message: " + s.error().OwnText());
  }
  return EquivocationFacts{a->member, a->height, a->round, a->kind};
}

}  // namespace colend::consensus
