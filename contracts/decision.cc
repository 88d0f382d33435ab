#include "contracts/decision.h"

#include <algorithm>
#include <charconv>

namespace colend::contracts {

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Decision::Decision(const CallContext& call, StateOverlay* state, Receipt* receipt,
                   std::string rule)
    : call_(call), state_(state), receipt_(receipt) {
  receipt_->rule = std::move(rule);
  inputs_hash_ = crypto::Sha256(call.tx.body_text);
  Seal();
}

void Decision::Read(std::string_view key, std::string_view value) {
  std::string link(crypto::AsBytes(inputs_hash_));
  link += "\n--- ";
  link += key;
  link += "\n";
  link += value;
  inputs_hash_ = crypto::Sha256(link);
  Seal();
}

std::optional<std::string> Decision::Get(const std::string& key) {
  auto v = state_->Get(key);
  if (v) Read(key, *v);
  return v;
}

void Decision::Reject(std::string rule, std::string code, std::string message) {
  receipt_->accepted = false;
  if (!rule.empty()) receipt_->rule = std::move(rule);
  receipt_->code = std::move(code);
  receipt_->message = std::move(message);
}

void Decision::RejectStanding(std::string rule, std::string code, std::string message) {
  Reject(std::move(rule), std::move(code), std::move(message));
  receipt_->keep_writes = true;
}

void Decision::Accept(std::string message) {
  receipt_->accepted = true;
  receipt_->code = "ok";
  receipt_->message = std::move(message);
}

Status Decision::OnlyFields(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : call_.tx.body.fields) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return MakeError("invalid-field", "unknown field '" + key + "' for " + call_.tx.body.type);
    }
  }
  return Status::Ok();
}

Result<std::string> Decision::Str(const char* key) const {
  const std::string* v = Field(key);
  if (v == nullptr || v->empty()) {
    return MakeError("invalid-field", std::string("field '") + key + "' is required");
  }
  return *v;
}

Result<std::int64_t> Decision::Int(const char* key, std::int64_t low, std::int64_t high) const {
  const std::string* v = Field(key);
  if (v == nullptr) return MakeError("invalid-field", std::string("field '") + key + "' is required");
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return MakeError("invalid-field",
                     std::string("field '") + key + "' must be an integer, not '" + *v + "'");
  }
  if (n < low || n > high) {
    return MakeError("invalid-field", std::string("field '") + key + "' = " + *v +
                                          " is outside [" + std::to_string(low) + ", " +
                                          std::to_string(high) + "]");
  }
  return n;
}

Result<std::int64_t> Decision::IntOr(const char* key, std::int64_t low, std::int64_t high,
                                     std::int64_t fallback) const {
  if (Field(key) == nullptr) return fallback;
  return Int(key, low, high);
}

Result<bool> Decision::YesNo(const char* key, bool fallback) const {
  const std::string* v = Field(key);
  if (v == nullptr) return fallback;
  if (*v == "yes") return true;
  if (*v == "no") return false;
  return MakeError("invalid-field",
                   std::string("field '") + key + "' must be yes or no, not '" + *v + "'");
}

void Decision::Seal() { receipt_->outputs["inputs-sha256"] = crypto::ToHex(inputs_hash_); }

}  // namespace colend::contracts
