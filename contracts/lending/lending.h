// The co-lending contracts (docs/lending-rules.md §4-§9): admission, drawdown, funding,
// payout, loan use, repayment, settlement, the daily post-loan rules, collection, write-off and
// parameter governance. Everything is decided from the state, the transaction and the block
// (height, timestamp); the business date comes only from committed clock transactions.
//
// State layout (values are canonical JSON unless noted):
//   clock/business-day      days since 1970-01-01, decimal (Asia/Shanghai business date)
//   clock/offset-days       dev-clock offset added to the block's date, decimal
//   params/current-version  decimal; params/v<N> the parameter set of version N
//   proposal/<id>           a parameter proposal with its approvals
//   bureau/<borrower>       the latest credit-bureau snapshot (attested by the bureau)
//   borrower/<borrower>     admission record: status, limit, used, review date, risk tier
//   auth/<borrower>         the latest attested verification result (R-IN-01)
//   loan/<id>               the loan (loan_model.h)
//   open-loan/<id>          while the loan is not closed or cancelled: {"wake": day, "borrower",
//                           "cofunded": {bank: outstanding principal}}, what it adds to the
//                           counters and the index below (kept by SaveLoan)
//   wake/<day 10 digits>/<id>  "": the loan's next look by the daily rules (the wake index)
//   count/open-loans/<b>    the borrower's open loans (R-IN-02); count/cofunded/<bank> the
//                           bank's outstanding co-funded principal (R-PRE-06)
//   param-due/<day 10 digits>/<proposal>  "": an approved proposal taking effect that day
//   loan-event/<id>/<seq>   the loan's decisions and events, in order
//   borrower-event/<b>/<seq>, param-event/<seq>
//   credit-report/<loan>/<lender>  the negative report on a lender's share, while outstanding
//   event/seq               the last event sequence number
#pragma once

#include <memory>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "contracts/state.h"
#include "crypto/result.h"

namespace colend::contracts {

// The business date (days since 1970-01-01) recorded in the state; the genesis sets it.
std::int64_t BusinessDay(const StateReader& state);
// Days since 1970-01-01 of the Asia/Shanghai (UTC+8) calendar date of `unix_ms`.
std::int64_t ShanghaiDay(std::int64_t unix_ms);
// The current parameter set (with "version"), or an empty object if the state has none.
nlohmann::json CurrentParameters(const StateReader& state);
// The same, shared and read-only: parsed once per distinct record, not on every call.
std::shared_ptr<const nlohmann::json> SharedParameters(const StateReader& state);
// Checks a complete parameter set: every parameter the contracts read is present with its type,
// and every value is within the hard bounds in its "bounds" table. Error "invalid-parameter"
// naming the parameter. Genesis and every governance change go through it.
// Also: every basis-point figure ("..._bps") at most kBpsParameterMax (10x), so that one times an
// amount of up to kAmountFenMax fits 64 bits; every {num, den} parameter with num and den at most
// kRationalPartMax, so that a product of two fits (docs/lending-rules.md §3).
inline constexpr std::int64_t kBpsParameterMax = 100000;
inline constexpr std::int64_t kRationalPartMax = 1000000000;
// Every other integer parameter: an amount ("..._fen") at most kAmountFenMax, any other (counts,
// days, hours, minutes, scores, weights) at most kCountParameterMax.
inline constexpr std::int64_t kCountParameterMax = 1000000000;
Status ValidateParameters(const nlohmann::json& params);

}  // namespace colend::contracts
