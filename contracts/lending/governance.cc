// Parameter governance (R-GOV-01): proposals, approvals, activation on the effective date, and
// the validation of every parameter set (docs/lending-rules.md §10).
#include "contracts/lending/call.h"

#include <memory>

namespace colend::contracts::lending {
// Activates approved parameter changes whose effective date has come (R-GOV-01).
// Approved proposals are indexed under "param-due/<effective day, 10 digits>/<proposal id>".
void ActivateParams(Call& c, std::int64_t day) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010lld", static_cast<long long>(day));
  const std::string prefix = "param-due/" + std::string(digits) + "/";
  for (auto& [due_key, unused] : c.state()->Scan(prefix, kScanAll)) {
    c.state()->Erase(due_key);
    const std::string key = "proposal/" + due_key.substr(prefix.size());
    auto text = c.state()->Get(key);
    if (!text) continue;
    json p = json::parse(*text, nullptr, false);
    if (!p.is_object() || p.value("status", "") != "approved") continue;
    json params = CurrentParameters(*c.state());
    int version = params.value("version", 1) + 1;
    for (auto& [k, v] : p.at("changes").items()) params[k] = v;
    // Other changes may have taken effect since this one was proposed: the merged set is checked
    // again, and a set that no longer holds together does not take effect.
    if (Status merged = ValidateParameters(params); !merged.ok()) {
      p["status"] = "rejected";
      p["rejected_reason"] = merged.error().message;
      c.state()->Put(key, p.dump());
      c.Event("param-event", "R-GOV-01", "PARAM_REJECTED",
              {{"proposal", p.value("id", "")}, {"reason", merged.error().message}});
      continue;
    }
    params["version"] = version;
    // A model version registered by this change (R-PRE-05): every borrower admitted under an
    // earlier model goes to review from today (RefreshBorrower reads the epoch).
    json added = json::array();
    const json before = c.params().at("models");
    for (auto& [name, unused] : params.at("models").items()) {
      if (!before.contains(name)) added.push_back(name);
    }
    if (!added.empty()) {
      const std::int64_t epoch = Counter(*c.state(), "models/epoch") + 1;
      c.state()->Put("models/epoch", std::to_string(epoch));
      c.state()->Put("models/epoch-day", std::to_string(day));
      c.Event("param-event", "R-PRE-05", "MODEL_VERSION_ACTIVATED", {{"models", added}, {"epoch", epoch}});
    }
    c.state()->Put("params/v" + std::to_string(version), params.dump());
    c.state()->Put("params/current-version", std::to_string(version));
    p["status"] = "active";
    p["version"] = version;
    c.state()->Put(key, p.dump());
    c.Event("param-event", "R-GOV-01", "PARAM_CHANGED",
            {{"version", version}, {"proposal", p.value("id", "")}, {"changes", p.at("changes")}});
    c.ReloadParams();
  }
}

}  // namespace colend::contracts::lending

namespace colend::contracts {
namespace {

using json = nlohmann::json;
using namespace lending;  // NOLINT: the module's own helpers

// R-GOV-01: a change of a money term needs every lending bank's approval. The lists are explicit
// (docs/lending-rules.md §9): a name that is in neither list is a money term, so a new parameter
// never slips through as operational.
constexpr std::string_view kOperationalTerms[] = {
    "age_min", "age_max", "ai_collection_max_dpd", "ai_fail_no_contact_days", "ai_fail_ptp_broken",
    "auth_high_amount_fen", "auth_t_large", "auth_validity_minutes", "auth_w_counterparty",
    "auth_w_device", "auth_w_location", "auth_w_phone", "clock_loans_per_tx", "collection_agencies",
    "consent_validity_days", "ext_overdue_min_dpd", "funding_timeout_minutes", "kyc_min_level",
    "litigation_after_days", "litigation_min_amount_fen", "litigation_min_dpd",
    "max_auth_failures", "models", "outsourced_min_amount_fen", "prohibited_mcc",
    "report_delay_hours", "review_period_days", "review_sla_hours", "snapshot_max_age_days",
    "use_deadline_days"};

bool IsMoneyTerm(const std::string& key) {
  for (std::string_view op : kOperationalTerms) {
    if (key == op) return false;
  }
  return true;  // rates, fees, shares, limits, caps, day basis, compounding, grace, method, ...
}

// Checks a changed parameter set against the hard bounds of the profile.
Status CheckBounds(const json& params) {
  const json& bounds = params.at("bounds");
  for (auto& [key, range] : bounds.items()) {
    if (!params.contains(key)) continue;
    const json& v = params.at(key);
    // range is a structured binding: named in an init-capture for clang < 16 (the fuzz build).
    auto check_int = [&, &range = range](std::int64_t x, const std::string& what) -> Status {
      if (x < range[0].get<std::int64_t>() || x > range[1].get<std::int64_t>()) {
        return MakeError("out-of-bounds", what + " = " + std::to_string(x) + " is outside the hard bounds [" + range[0].dump() + ", " + range[1].dump() + "]");
      }
      return Status::Ok();
    };
    if (v.is_number_integer()) {
      COLEND_RETURN_IF_ERROR(check_int(v.get<std::int64_t>(), key));
    } else if (v.is_object() && v.contains("num")) {
      Rational x = Rational::Of(v.at("num").get<std::int64_t>(), v.at("den").get<std::int64_t>());
      Rational lo = Rational::Of(range[0].at("num").get<std::int64_t>(), range[0].at("den").get<std::int64_t>());
      Rational hi = Rational::Of(range[1].at("num").get<std::int64_t>(), range[1].at("den").get<std::int64_t>());
      if (LessThan(x, lo) || LessThan(hi, x)) {
        return MakeError("out-of-bounds", key + " = " + RationalText(x) + " is outside the hard bounds");
      }
    } else if (v.is_object()) {  // per-role integers, e.g. substandard_dpd
      for (auto& [role, x] : v.items()) {
        if (!x.is_number_integer()) return MakeError("invalid-parameter", key + "." + role + " must be an integer");
        COLEND_RETURN_IF_ERROR(check_int(x.get<std::int64_t>(), key + "." + role));
      }
    }
  }
  if (params.at("lead_share_bps").get<std::int64_t>() + params.at("partner_share_bps").get<std::int64_t>() != 10000) {
    return MakeError("out-of-bounds", "lead_share_bps + partner_share_bps must be 10000");
  }
  return Status::Ok();
}

void ParamPropose(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-GOV-01");
  if (auto s = c.OnlyFields({"proposal", "changes", "effective-date"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("proposal");
  auto changes_text = c.Str("changes");
  auto effective = c.Date("effective-date");
  if (!id.ok()) return c.Reject(id.error());
  if (!changes_text.ok()) return c.Reject(changes_text.error());
  if (!effective.ok()) return c.Reject(effective.error());
  if (!IsLoanId(*id)) return c.Reject("", "invalid-field", "proposal id must be 1-64 of [A-Za-z0-9._-]");
  if (state->Get("proposal/" + *id)) return c.Reject("", "duplicate-proposal", "proposal '" + *id + "' exists");
  json changes = json::parse(*changes_text, nullptr, false);
  if (!changes.is_object() || changes.empty()) return c.Reject("", "invalid-field", "changes must be a non-empty JSON object of parameter: value");
  if (*effective <= c.today()) return c.Reject("R-GOV-01", "effective-date-not-future", "changes take effect only from a future business date (after " + FormatDate(c.today()) + ")");
  json next = c.params();
  bool money = false;
  for (auto& [key, value] : changes.items()) {
    if (key == "version" || key == "bounds") return c.Reject("R-GOV-01", "not-changeable", "'" + key + "' cannot be changed by a proposal");
    // Parameters introduced after the first chains may be absent from an older genesis: a
    // proposal may add them (docs/lending-rules.md §3); ValidateParameters checks their form.
    static constexpr std::string_view kAddable[] = {"review_sla_hours", "partner_registry", "use_deadline_days",
                                                   "misuse_multiplier", "accelerate_on_misuse", "clock_loans_per_tx"};
    const bool absent = !next.contains(key);
    if (absent && std::find(std::begin(kAddable), std::end(kAddable), key) == std::end(kAddable)) {
      return c.Reject("R-GOV-01", "unknown-parameter", "'" + key + "' is not a parameter");
    }
    if (!absent && next.at(key).type() != value.type() && !(next.at(key).is_number_integer() && value.is_number_integer())) {
      return c.Reject("R-GOV-01", "invalid-parameter", "'" + key + "' must keep its type (" + std::string(next.at(key).type_name()) + ")");
    }
    if (value.is_number_float()) return c.Reject("R-GOV-01", "invalid-parameter", "no floating point: use integers or {num, den}");
    next[key] = value;
    money |= IsMoneyTerm(key);
  }
  Status valid = ValidateParameters(next);
  if (!valid.ok()) return c.Reject("R-GOV-01", "out-of-bounds", valid.error().message);
  json p = {{"id", *id}, {"changes", changes}, {"effective_day", *effective},
            {"effective_date", FormatDate(*effective)}, {"proposer", call.sender.id},
            {"approvals", json::array({call.sender.id})}, {"money_terms", money},
            {"status", "proposed"}, {"proposed_day", c.today()}};
  state->Put("proposal/" + *id, p.dump());
  c.Event("param-event", "R-GOV-01", "PARAM_PROPOSED", {{"proposal", *id}, {"changes", changes}, {"effective_date", FormatDate(*effective)}});
  c.Out("proposal", *id);
  c.Accept("proposal " + *id + " recorded with 1 approval; needs a majority of members" + std::string(money ? " including every lending bank (money terms)" : ""));
}

void ParamApprove(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-GOV-01");
  if (auto s = c.OnlyFields({"proposal"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("proposal");
  if (!id.ok()) return c.Reject(id.error());
  auto p = LoadJson(c, "proposal/" + *id, "proposal");
  if (!p.ok()) return c.Reject(p.error());
  if ((*p)["status"] != "proposed") return c.Reject("", "wrong-state", "proposal " + *id + " is " + (*p)["status"].get<std::string>());
  std::set<std::string> approvals = (*p)["approvals"].get<std::set<std::string>>();
  if (!approvals.insert(call.sender.id).second) return c.Reject("", "already-approved", call.sender.id + " already approved " + *id);
  (*p)["approvals"] = approvals;
  std::size_t needed = call.rules.members.size() / 2 + 1;
  bool lenders_ok = true;
  if ((*p)["money_terms"].get<bool>()) {
    for (const auto& [mid, m] : call.rules.members) {
      if ((m.role == "lead_bank" || m.role == "partner_bank") && !approvals.count(mid)) lenders_ok = false;
    }
  }
  bool approved = approvals.size() >= needed && lenders_ok;
  if (approved) {
    if ((*p)["effective_day"].get<std::int64_t>() <= c.today()) {
      return c.Reject("R-GOV-01", "effective-date-passed", "the effective date has passed before the proposal was approved; propose again");
    }
    (*p)["status"] = "approved";
    char digits[24];
    std::snprintf(digits, sizeof digits, "%010lld",
                  static_cast<long long>((*p)["effective_day"].get<std::int64_t>()));
    state->Put("param-due/" + std::string(digits) + "/" + *id, "");
    c.Event("param-event", "R-GOV-01", "PARAM_APPROVED", {{"proposal", *id}, {"approvals", approvals}, {"effective_date", (*p)["effective_date"]}});
  }
  state->Put("proposal/" + *id, p->dump());
  c.Out("approvals", static_cast<std::int64_t>(approvals.size()));
  c.Out("proposal-status", (*p)["status"].get<std::string>());
  c.Accept(approved ? "proposal approved; takes effect on " + (*p)["effective_date"].get<std::string>()
                    : "approval recorded (" + std::to_string(approvals.size()) + " of " + std::to_string(needed) + " needed" + (lenders_ok ? "" : ", and every lending bank") + ")");
}

}  // namespace

Status ValidateParameters(const nlohmann::json& params) {
  auto bad = [](std::string m) { return MakeError("invalid-parameter", std::move(m)); };
  if (!params.is_object()) return bad("the parameters must be a JSON object");
  static const char* kInts[] = {
      "min_limit_fen", "min_draw_fen", "draw_unit_fen", "max_concurrent_loans", "grace_days",
      "max_total_annual_cost_bps", "report_delay_hours", "special_mention_dpd", "doubtful_dpd",
      "loss_dpd", "ai_collection_max_dpd", "multi_lender_min_institutions",
      "multi_lender_lookback_months", "multi_lender_utilisation_max_bps",
      "multi_lender_max_institutions", "multi_lender_max_queries_90d", "multi_lender_haircut_bps",
      "lead_share_bps", "partner_share_bps", "share_min_bps", "share_max_bps",
      "max_credit_limit_fen", "max_business_limit_fen", "max_single_draw_fen", "kyc_min_level",
      "consent_validity_days", "snapshot_max_age_days", "limit_unit_fen", "age_min", "age_max",
      "review_period_days", "auth_w_device", "auth_w_phone", "auth_w_counterparty",
      "auth_w_location", "auth_t_large", "auth_high_amount_fen", "max_auth_failures",
      "auth_validity_minutes", "funding_timeout_minutes", "day_basis", "ai_fail_ptp_broken",
      "ai_fail_no_contact_days", "litigation_min_dpd", "litigation_after_days",
      "litigation_min_amount_fen", "outsourced_min_amount_fen", "ext_overdue_min_dpd",
      "leverage_max_bps", "single_partner_cap_bps", "total_colend_cap_bps"};
  for (const char* k : kInts) {
    if (!params.contains(k) || !params[k].is_number_integer() || params[k].get<std::int64_t>() < 0) {
      return bad(std::string(k) + " must be a non-negative integer");
    }
    // A basis-point figure multiplies amounts of up to kAmountFenMax: bounded so that the
    // product fits 64 bits (docs/lending-rules.md §3).
    if (std::string_view(k).ends_with("_bps") && params[k].get<std::int64_t>() > kBpsParameterMax) {
      return bad(std::string(k) + " must be at most " + std::to_string(kBpsParameterMax));
    }
    // An amount at most what any amount may be; a count, day, hour, minute, score or weight at
    // most kCountParameterMax, so that a product of two fits 64 bits and none is read narrowed.
    const std::int64_t most = std::string_view(k).ends_with("_fen") ? kAmountFenMax : kCountParameterMax;
    if (params[k].get<std::int64_t>() > most) return bad(std::string(k) + " must be at most " + std::to_string(most));
  }
  for (const char* k : {"daily_rate_min", "daily_rate_max", "default_daily_rate", "penalty_multiplier"}) {
    const json* r = params.contains(k) ? &params[k] : nullptr;
    if (!r || !r->is_object() || !r->contains("num") || !r->contains("den") ||
        !(*r)["num"].is_number_integer() || !(*r)["den"].is_number_integer() ||
        (*r)["num"].get<std::int64_t>() < 0 || (*r)["den"].get<std::int64_t>() <= 0 ||
        (*r)["num"].get<std::int64_t>() > kRationalPartMax ||
        (*r)["den"].get<std::int64_t>() > kRationalPartMax) {
      return bad(std::string(k) + " must be {\"num\": n, \"den\": d} with 0 <= n, 0 < d, both at most " +
                 std::to_string(kRationalPartMax));
    }
  }
  auto one_of = [&](const char* k, std::initializer_list<std::string_view> allowed) -> Status {
    if (!params.contains(k) || !params[k].is_string()) return bad(std::string(k) + " must be a string");
    std::string v = params[k].get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      return bad(std::string(k) + " = '" + v + "' is not an allowed value");
    }
    return Status::Ok();
  };
  COLEND_RETURN_IF_ERROR(one_of("amortization_method", {"equal-installment", "equal-principal"}));
  COLEND_RETURN_IF_ERROR(one_of("rounding", {"half-up"}));
  COLEND_RETURN_IF_ERROR(one_of("split_method", {"cumulative-floor-lead-remainder", "largest-remainder"}));
  COLEND_RETURN_IF_ERROR(one_of("annuity_rate_rule", {"daily-x30", "daily-x365/12"}));
  COLEND_RETURN_IF_ERROR(one_of("writeoff_min_class", {"special-mention", "substandard", "doubtful", "loss"}));
  if (!params.contains("compound_enabled") || !params["compound_enabled"].is_boolean()) return bad("compound_enabled must be true or false");
  if (!params.contains("terms") || !params["terms"].is_array() || params["terms"].empty()) return bad("terms must be a non-empty array");
  for (const json& t : params["terms"]) {
    if (!t.is_number_integer() || t.get<std::int64_t>() < 1 || t.get<std::int64_t>() > 360) return bad("terms must be integers in 1..360");
  }
  const json* sub = params.contains("substandard_dpd") ? &params["substandard_dpd"] : nullptr;
  if (!sub || !sub->is_object() || !sub->contains("lead_bank") || !sub->contains("partner_bank")) {
    return bad("substandard_dpd must give lead_bank and partner_bank");
  }
  if (!params.contains("models") || !params["models"].is_object() || params["models"].empty()) return bad("models must name at least one model version");
  for (auto& [name, m] : params["models"].items()) {
    if (!m.is_object() || !m.contains("min_score") || !m["min_score"].is_number_integer()) return bad("models." + name + ".min_score must be an integer");
  }
  if (!params.contains("limit_bands") || !params["limit_bands"].is_array()) return bad("limit_bands must be an array");
  for (const json& b : params["limit_bands"]) {
    if (!b.is_object() || !b.contains("min_score") || !b["min_score"].is_number_integer() ||
        !b.contains("limit_fen") || !b["limit_fen"].is_number_integer() ||
        b["limit_fen"].get<std::int64_t>() < 0 || b["limit_fen"].get<std::int64_t>() > kAmountFenMax) {
      return bad("limit_bands entries must be {min_score, limit_fen} with 0 <= limit_fen <= " +
                 std::to_string(kAmountFenMax));
    }
  }
  if (!params.contains("prohibited_mcc") || !params["prohibited_mcc"].is_array()) return bad("prohibited_mcc must be an array");
  for (const json& m : params["prohibited_mcc"]) {
    if (!m.is_string()) return bad("prohibited_mcc entries must be strings");
  }
  if (!params.contains("collection_agencies") || !params["collection_agencies"].is_array()) return bad("collection_agencies must be an array");
  for (const json& a : params["collection_agencies"]) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_string() || !a.contains("stage") ||
        !a["stage"].is_string() || !a.contains("violent_record") || !a["violent_record"].is_boolean()) {
      return bad("collection_agencies entries must be {id, stage, violent_record}");
    }
  }
  // Optional since they were introduced (a chain whose genesis lacks them uses the defaults of
  // docs/lending-rules.md §3); when present they must be well formed.
  if (params.contains("review_sla_hours")) {
    const json& h = params["review_sla_hours"];
    if (!h.is_number_integer() || h.get<std::int64_t>() < 1 || h.get<std::int64_t>() > 8760) {
      return bad("review_sla_hours must be an integer in 1..8760");
    }
  }
  if (params.contains("clock_loans_per_tx")) {
    const json& n = params["clock_loans_per_tx"];
    if (!n.is_number_integer() || n.get<std::int64_t>() < 1 || n.get<std::int64_t>() > kClockLoansPerTxMax) {
      return bad("clock_loans_per_tx must be an integer in 1.." + std::to_string(kClockLoansPerTxMax));
    }
  }
  if (params.contains("use_deadline_days")) {
    const json& d = params["use_deadline_days"];
    if (!d.is_number_integer() || d.get<std::int64_t>() < 1 || d.get<std::int64_t>() > 3650) {
      return bad("use_deadline_days must be an integer in 1..3650");
    }
  }
  if (params.contains("accelerate_on_misuse") && !params["accelerate_on_misuse"].is_boolean()) {
    return bad("accelerate_on_misuse must be true or false");
  }
  if (params.contains("misuse_multiplier")) {
    const json& r = params["misuse_multiplier"];
    if (!r.is_object() || !r.contains("num") || !r.contains("den") || !r["num"].is_number_integer() ||
        !r["den"].is_number_integer() || r["den"].get<std::int64_t>() <= 0 ||
        r["den"].get<std::int64_t>() > kRationalPartMax ||
        r["num"].get<std::int64_t>() < r["den"].get<std::int64_t>() ||
        r["num"].get<std::int64_t>() > 2 * r["den"].get<std::int64_t>()) {
      return bad("misuse_multiplier must be {\"num\": n, \"den\": d} between 1 and 2, d at most " +
                 std::to_string(kRationalPartMax));
    }
  }
  if (params.contains("partner_registry")) {
    const json& reg = params["partner_registry"];
    if (!reg.is_object()) return bad("partner_registry must be an object of member id -> {type, regions, online_exempt}");
    for (auto& [member, e] : reg.items()) {
      if (!e.is_object() || !e.contains("type") || !e["type"].is_string()) {
        return bad("partner_registry." + member + " must give a type");
      }
      const std::string type = e["type"].get<std::string>();
      if (type != "national" && type != "city" && type != "rural") {
        return bad("partner_registry." + member + ".type must be national, city or rural");
      }
      if (e.contains("online_exempt") && !e["online_exempt"].is_boolean()) {
        return bad("partner_registry." + member + ".online_exempt must be true or false");
      }
      if (e.contains("regions")) {
        if (!e["regions"].is_array()) return bad("partner_registry." + member + ".regions must be an array");
        for (const json& r : e["regions"]) {
          const std::string code = r.is_string() ? r.get<std::string>() : "";
          const bool digits = !code.empty() && std::all_of(code.begin(), code.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
          if (!digits || (code.size() != 2 && code.size() != 4 && code.size() != 6)) {
            return bad("partner_registry." + member + ".regions entries must be 2, 4 or 6 digits (province, city, district)");
          }
        }
      }
    }
  }
  if (!params.contains("bounds") || !params["bounds"].is_object()) return bad("bounds must be an object");
  for (auto& [key, range] : params["bounds"].items()) {
    if (!range.is_array() || range.size() != 2) return bad("bounds." + key + " must be [low, high]");
  }
  if (params["day_basis"] != 360 && params["day_basis"] != 365) return bad("day_basis must be 360 or 365");
  // Relations between parameters (each bound alone is not enough): a lower bound above its upper
  // bound would make admission's clamp undefined and every drawdown impossible.
  auto le = [&](const char* low, const char* high) -> Status {
    if (params[low].get<std::int64_t>() > params[high].get<std::int64_t>()) {
      return bad(std::string(low) + " (" + params[low].dump() + ") must not exceed " + high + " (" +
                 params[high].dump() + ")");
    }
    return Status::Ok();
  };
  COLEND_RETURN_IF_ERROR(le("min_limit_fen", "max_credit_limit_fen"));
  COLEND_RETURN_IF_ERROR(le("min_limit_fen", "max_business_limit_fen"));
  COLEND_RETURN_IF_ERROR(le("min_draw_fen", "max_single_draw_fen"));
  COLEND_RETURN_IF_ERROR(le("share_min_bps", "share_max_bps"));
  COLEND_RETURN_IF_ERROR(le("age_min", "age_max"));
  COLEND_RETURN_IF_ERROR(le("special_mention_dpd", "doubtful_dpd"));
  COLEND_RETURN_IF_ERROR(le("doubtful_dpd", "loss_dpd"));
  COLEND_RETURN_IF_ERROR(le("multi_lender_min_institutions", "multi_lender_max_institutions"));
  for (const char* unit : {"draw_unit_fen", "limit_unit_fen"}) {
    if (params[unit].get<std::int64_t>() < 1) return bad(std::string(unit) + " must be at least 1");
  }
  {
    const json& lo = params["daily_rate_min"];
    const json& hi = params["daily_rate_max"];
    const json& def = params["default_daily_rate"];
    auto r = [](const json& j) { return Rational::Of(j["num"].get<std::int64_t>(), j["den"].get<std::int64_t>()); };
    if (LessThan(r(hi), r(lo))) return bad("daily_rate_min must not exceed daily_rate_max");
    if (LessThan(r(def), r(lo)) || LessThan(r(hi), r(def))) {
      return bad("default_daily_rate must lie within [daily_rate_min, daily_rate_max]");
    }
  }
  try {
    Status s = CheckBounds(params);
    if (!s.ok()) return bad(s.error().message);
  } catch (const json::exception&) {
    return bad("bounds: each bound must be a pair of numbers of the parameter's type");
  }
  return Status::Ok();
}

std::shared_ptr<const nlohmann::json> SharedParameters(const StateReader& state) {
  // Every lending transaction reads the parameter set; parsing its text each time was an eighth
  // of a node's time under load (docs/performance.md). The parsed set is a pure function of the
  // version and the record's exact text, so the last one parsed on this thread is kept and
  // handed out again while both are unchanged: the result is the same as parsing, whatever ran
  // before (deterministic), only cheaper.
  struct Memo {
    std::string version, text;
    std::shared_ptr<const json> parsed;
  };
  thread_local Memo memo;
  static const auto empty = std::make_shared<const json>(json::object());
  auto version = state.Get("params/current-version");
  if (!version) return empty;
  auto text = state.Get("params/v" + *version);
  if (!text) return empty;
  if (memo.parsed && memo.version == *version && memo.text == *text) return memo.parsed;
  json p = json::parse(*text, nullptr, false);
  if (!p.is_object()) return empty;
  p["version"] = std::stoi(*version);
  memo = Memo{*version, *text, std::make_shared<const json>(std::move(p))};
  return memo.parsed;
}

nlohmann::json CurrentParameters(const StateReader& state) { return *SharedParameters(state); }

void RunParamPropose(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&ParamPropose>(c, s, r); }
void RunParamApprove(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&ParamApprove>(c, s, r); }

}  // namespace colend::contracts
