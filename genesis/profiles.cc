// Contract parameters of the two genesis profiles (docs/lending-rules.md §3).
// Money in fen, rates as exact rationals {num, den}, shares in basis points. These tables are
// the profiles' data: `colend localnet init` writes the chosen one, complete, into the genesis
// file's "parameters", so the genesis file alone says what the chain enforces; on chain they are
// parameter version 1. "bounds" holds the hard bounds that no governance change may leave
// (regulatory floors and caps); contracts::ValidateParameters enforces them.
#include "contracts/lending/lending.h"
#include "genesis/genesis.h"

namespace colend::genesis {
namespace {

using json = nlohmann::json;

json Rate(std::int64_t num, std::int64_t den) { return {{"num", num}, {"den", den}}; }

json Common() {
  return {
      // Admission (R-PRE-01 .. R-PRE-05)
      {"kyc_min_level", 2},
      {"consent_validity_days", 365},
      {"snapshot_max_age_days", 30},
      {"multi_lender_min_institutions", 2},
      {"multi_lender_lookback_months", 24},
      {"multi_lender_utilisation_max_bps", 5000},
      {"multi_lender_max_institutions", 5},
      {"multi_lender_max_queries_90d", 6},
      {"multi_lender_haircut_bps", 3000},
      {"models", {{"wb-risk-2026.1", {{"min_score", 600}}}}},
      {"limit_bands",
       json::array({{{"min_score", 600}, {"limit_fen", 2000000}},
                    {{"min_score", 650}, {"limit_fen", 5000000}},
                    {{"min_score", 700}, {"limit_fen", 10000000}},
                    {{"min_score", 750}, {"limit_fen", 20000000}},
                    {{"min_score", 800}, {"limit_fen", 30000000}}})},
      {"limit_unit_fen", 10000},
      {"min_limit_fen", 50000},
      {"max_business_limit_fen", 100000000},
      {"age_min", 18},
      {"age_max", 60},
      {"review_period_days", 365},
      // Co-lending concentration (R-PRE-06): of Tier-1 net capital / of total loans, per bank
      {"single_partner_cap_bps", 2500},
      {"total_colend_cap_bps", 5000},
      // Drawdown (R-IN-01, R-IN-02)
      {"auth_w_device", 1},
      {"auth_w_phone", 3},
      {"auth_w_counterparty", 1},
      {"auth_w_location", 1},
      {"auth_t_large", 3},
      {"auth_high_amount_fen", 2000000},
      {"max_auth_failures", 3},
      {"auth_validity_minutes", 10},
      {"min_draw_fen", 10000},
      {"draw_unit_fen", 10000},
      {"max_single_draw_fen", 4000000},
      {"terms", {5, 10, 20}},
      {"max_concurrent_loans", 20},
      // Funding, pricing and schedules (R-IN-03, R-IN-04)
      {"funding_timeout_minutes", 60},
      {"daily_rate_min", Rate(2, 10000)},
      {"daily_rate_max", Rate(5, 10000)},
      {"default_daily_rate", Rate(5, 10000)},
      {"amortization_method", "equal-installment"},
      {"annuity_rate_rule", "daily-x30"},
      {"day_basis", 365},
      {"rounding", "half-up"},
      {"split_method", "cumulative-floor-lead-remainder"},
      // Loan use (R-IN-07): cash advance, quasi-cash and crypto, securities, gambling, real
      // estate, financial institutions (repaying other loans).
      {"prohibited_mcc", {"6010", "6011", "6012", "6051", "6211", "7995", "6513", "1520", "6540"}},
      // Overdue (R-POST-01 .. R-POST-03)
      {"grace_days", 1},
      {"penalty_multiplier", Rate(3, 2)},
      {"compound_enabled", true},
      {"max_total_annual_cost_bps", 2400},
      {"report_delay_hours", 24},
      // Classification (R-POST-04)
      {"special_mention_dpd", 1},
      {"doubtful_dpd", 270},
      {"loss_dpd", 360},
      // Collection (R-POST-05)
      {"ai_collection_max_dpd", 90},
      {"ai_fail_ptp_broken", 2},
      {"ai_fail_no_contact_days", 7},
      {"outsourced_min_amount_fen", 5000000},
      {"litigation_min_dpd", 180},
      {"litigation_after_days", 90},
      {"litigation_min_amount_fen", 500000},
      {"collection_agencies",
       json::array({{{"id", "agency-east-collect"}, {"stage", "outsourced"}, {"violent_record", false}},
                    {{"id", "lawfirm-arbitration-1"}, {"stage", "litigation"}, {"violent_record", false}}})},
      // Monitoring (R-POST-06) and closure (R-POST-07)
      {"ext_overdue_min_dpd", 1},
      {"leverage_max_bps", 10000},
      {"writeoff_min_class", "loss"},
  };
}

// Parameters added or revised after the first chains (docs/lending-rules.md §3). A genesis file
// is read over the table above, which therefore never changes (tests/golden/README.md): a chain
// made before these existed keeps its state root, and its contracts use the defaults named in
// contracts/lending/call.h. `colend localnet init` writes them into every new genesis file.
json Revisions() {
  return {
      // R-PRE-05: a review not completed within this many hours suspends the borrower.
      {"review_sla_hours", 72},
      // R-PRE-06: partners' licensed regions: member id -> {type national|city|rural, regions
      // [2/4/6-digit codes], online_exempt}; a partner not listed lends nationwide.
      {"partner_registry", json::object()},
      // R-IN-07: money transfer (4829) and quasi-cash (6050, 6051) are cash-out by another name;
      // lotteries and betting (7800-7802) are gambling.
      {"prohibited_mcc", {"1520", "4829", "6010", "6011", "6012", "6050", "6051", "6211", "6513",
                          "6540", "7800", "7801", "7802", "7995"}},
      // R-IN-07: unused loan money still in the virtual account this many days after the value
      // date: the borrower is prompted to return it or prepay.
      {"use_deadline_days", 30},
      {"misuse_multiplier", Rate(3, 2)},
      {"accelerate_on_misuse", false},
      // docs/lending-rules.md §1.2: a clock transaction begins no new day once it has looked at
      // this many loans (1..1,000,000, checked by governance: the bounds table never changes).
      {"clock_loans_per_tx", 10000},
  };
}

// Hard bounds shared by both profiles (docs/lending-rules.md §3).
json CommonBounds() {
  return {
      {"grace_days", {0, 3}},
      {"penalty_multiplier", {Rate(13, 10), Rate(3, 2)}},
      {"max_total_annual_cost_bps", {0, 2400}},
      {"report_delay_hours", {24, 720}},
      {"special_mention_dpd", {1, 8}},
      {"substandard_dpd", {1, 90}},
      {"doubtful_dpd", {91, 270}},
      {"loss_dpd", {271, 360}},
      {"daily_rate_min", {Rate(0, 1), Rate(5, 10000)}},
      {"daily_rate_max", {Rate(0, 1), Rate(5, 10000)}},
      {"default_daily_rate", {Rate(0, 1), Rate(5, 10000)}},
      {"max_single_draw_fen", {10000, 4000000}},
      {"min_draw_fen", {100, 4000000}},
      {"draw_unit_fen", {1, 1000000}},
      {"limit_unit_fen", {1, 1000000}},
      {"max_auth_failures", {1, 10}},
      {"funding_timeout_minutes", {1, 10080}},
      {"age_min", {18, 100}},
      {"consent_validity_days", {1, 1095}},
      {"snapshot_max_age_days", {1, 90}},
  };
}

}  // namespace

Result<nlohmann::json> ProfileParameters(std::string_view profile) {
  auto p = ProfileBaseParameters(profile);
  if (!p.ok()) return p;
  const json revisions = Revisions();  // named: items() of a temporary would dangle
  for (auto& [key, value] : revisions.items()) (*p)[key] = value;
  return p;
}

Result<nlohmann::json> ProfileBaseParameters(std::string_view profile) {
  json p = Common();
  json bounds = CommonBounds();
  if (profile == "case-study") {
    // The case study: lead 20 % / partner 80 %, personal limit 500-300,000 CNY, single drawdown
    // up to 40,000 CNY, substandard at more than 60 days past due for both lenders.
    p["lead_share_bps"] = 2000;
    p["partner_share_bps"] = 8000;
    p["share_min_bps"] = 2000;
    p["share_max_bps"] = 8000;
    p["max_credit_limit_fen"] = 30000000;
    p["substandard_dpd"] = {{"lead_bank", 60}, {"partner_bank", 60}};
    bounds["share_min_bps"] = {2000, 8000};
    bounds["share_max_bps"] = {2000, 8000};
    bounds["lead_share_bps"] = {2000, 8000};
    bounds["partner_share_bps"] = {2000, 8000};
    bounds["max_credit_limit_fen"] = {50000, 30000000};
    bounds["single_partner_cap_bps"] = {0, 10000};
    bounds["total_colend_cap_bps"] = {0, 10000};
  } else if (profile == "cn-2022") {
    // Rules in force since 2022: each lender 30-70 % (银保监办发〔2021〕24号), consumer limit at
    // most 200,000 CNY (互联网贷款办法 2020), partner substandard at more than 90 days.
    p["lead_share_bps"] = 3000;
    p["partner_share_bps"] = 7000;
    p["share_min_bps"] = 3000;
    p["share_max_bps"] = 7000;
    p["max_credit_limit_fen"] = 20000000;
    p["substandard_dpd"] = {{"lead_bank", 60}, {"partner_bank", 90}};
    bounds["share_min_bps"] = {3000, 7000};
    bounds["share_max_bps"] = {3000, 7000};
    bounds["lead_share_bps"] = {3000, 7000};
    bounds["partner_share_bps"] = {3000, 7000};
    bounds["max_credit_limit_fen"] = {50000, 20000000};
    bounds["single_partner_cap_bps"] = {0, 2500};
    bounds["total_colend_cap_bps"] = {0, 5000};
  } else {
    return MakeError("unknown-profile", "profile '" + std::string(profile) +
                                            "' is not 'case-study' or 'cn-2022'");
  }
  p["bounds"] = bounds;
  return p;
}

}  // namespace colend::genesis
