// Contract parameters of the two genesis profiles (RULES.md decision 1, lending-research.md §6).
// Money in fen, rates as exact rationals (numerator/denominator), shares in basis points.
#include "genesis/genesis.h"

namespace colend::genesis {
namespace {

nlohmann::json Common() {
  return {
      {"version", 1},
      {"min_limit_fen", 50000},
      {"min_draw_fen", 10000},
      {"draw_unit_fen", 10000},
      {"terms", {5, 10, 20}},
      {"max_concurrent_loans", 20},
      {"daily_rate_min", {{"num", 2}, {"den", 10000}}},
      {"daily_rate_max", {{"num", 5}, {"den", 10000}}},
      {"amortization_method", "equal-installment"},
      {"rounding", "half-up"},
      {"grace_days", 1},
      {"penalty_multiplier", {{"num", 3}, {"den", 2}}},
      {"max_total_annual_cost_bps", 2400},
      {"report_delay_hours", 24},
      {"special_mention_dpd", 1},
      {"doubtful_dpd", 270},
      {"loss_dpd", 360},
      {"ai_collection_max_dpd", 90},
      {"multi_lender_min_institutions", 2},
      {"multi_lender_lookback_months", 24},
      {"multi_lender_utilisation_max_bps", 5000},
      {"multi_lender_max_institutions", 5},
      {"split_method", "cumulative-floor-lead-remainder"},
  };
}

}  // namespace

Result<nlohmann::json> ProfileParameters(std::string_view profile) {
  nlohmann::json p = Common();
  if (profile == "case-study") {
    p["lead_share_bps"] = 2000;
    p["partner_share_bps"] = 8000;
    p["share_min_bps"] = 2000;
    p["share_max_bps"] = 8000;
    p["max_credit_limit_fen"] = 30000000;
    p["max_single_draw_fen"] = 4000000;
    p["substandard_dpd"] = {{"lead_bank", 60}, {"partner_bank", 60}};
    return p;
  }
  if (profile == "cn-2022") {
    p["lead_share_bps"] = 3000;
    p["partner_share_bps"] = 7000;
    p["share_min_bps"] = 3000;
    p["share_max_bps"] = 7000;
    p["max_credit_limit_fen"] = 20000000;
    p["max_single_draw_fen"] = 4000000;
    p["substandard_dpd"] = {{"lead_bank", 60}, {"partner_bank", 90}};
    return p;
  }
  return MakeError("unknown-profile", "profile '" + std::string(profile) +
                                          "' is not 'case-study' or 'cn-2022'");
}

}  // namespace colend::genesis
