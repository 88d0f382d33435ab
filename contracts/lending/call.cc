#include "contracts/lending/call.h"

#include <algorithm>
#include <cstdio>

namespace colend::contracts::lending {

Call::Call(const CallContext& call, StateOverlay* state, Receipt* receipt, std::string rule)
    : Decision(call, state, receipt, std::move(rule)) {
  today_ = BusinessDay(*state);
  params_ = SharedParameters(*state);
  version_ = params_->value("version", 0);
  Out("param-version", std::to_string(version_));
  Out("business-date", FormatDate(today_));
}

void Call::ReloadParams() {
  params_ = SharedParameters(*state());
  version_ = params_->value("version", 0);
  // A clock.tick that activates a version runs the day's rules under it: its receipt names the
  // version in force when it ended, as its business-date names the day it reached.
  Out("param-version", std::to_string(version_));
}

void Call::Event(const std::string& prefix, const std::string& rule, const std::string& name,
                 json details) {
  std::uint64_t seq = 0;
  if (auto s = state()->Get("event/seq")) seq = std::stoull(*s);
  ++seq;
  state()->Put("event/seq", std::to_string(seq));
  details["seq"] = seq;
  details["rule"] = rule;
  details["event"] = name;
  details["date"] = FormatDate(today_);
  details["height"] = ctx().block.height;
  details["tx"] = crypto::ToHex(ctx().tx.id);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(seq));
  state()->Put(prefix + "/" + buf, details.dump());
  ++events_;
  Out("events", events_);
}

Rational Call::Rate(const char* key) const {
  const json& r = params_->at(key);
  return Rational::Of(r.at("num").get<std::int64_t>(), r.at("den").get<std::int64_t>());
}

Result<std::int64_t> Call::Date(const char* key) const {
  auto s = Str(key);
  if (!s.ok()) return s.error();
  auto d = ParseDate(*s);
  if (!d.ok()) {
    return MakeError("invalid-field", std::string("field '") + key + "': " + d.error().message);
  }
  return *d;
}

Result<std::string> Call::BorrowerId() const {
  auto borrower = Str("borrower");
  if (!borrower.ok()) return borrower.error();
  if (!IsLowerHex64(*borrower)) {
    return MakeError("invalid-field", "borrower must be a pseudonymous id: 64 lowercase hex digits (a salted SHA-256), never a name or an ID number");
  }
  return *borrower;
}

bool IsLoanId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_' || c == '.';
  });
}

std::string Fen(std::int64_t fen) { return FormatCny(fen) + " CNY"; }

}  // namespace colend::contracts::lending
