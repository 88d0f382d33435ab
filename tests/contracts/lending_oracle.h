// An independent model of what a co-lending borrower owes and pays, written from
// docs/lending-rules.md (§2 money, §7 repayment, §8.7 write-off) for the conservation test. It
// shares no code with the contracts: its own civil dates, its own exact arithmetic (__int128
// fractions, and a small unbounded integer for the annuity) and its own waterfall. It must not
// include contracts/lending/money.h or contracts/lending/loan_model.h.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace colend::oracle {

using i64 = std::int64_t;
using i128 = __int128;

// ---- civil dates (days since 1970-01-01), H. Hinnant's algorithms ----
inline i64 DaysFromCivil(i64 y, i64 m, i64 d) {
  y -= m <= 2;
  const i64 era = (y >= 0 ? y : y - 399) / 400;
  const i64 yoe = y - era * 400;
  const i64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const i64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
struct Civil { i64 y, m, d; };
inline Civil CivilFromDays(i64 z) {
  z += 719468;
  const i64 era = (z >= 0 ? z : z - 146096) / 146097;
  const i64 doe = z - era * 146097;
  const i64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const i64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const i64 mp = (5 * doy + 2) / 153;
  const i64 d = doy - (153 * mp + 2) / 5 + 1;
  const i64 m = mp + (mp < 10 ? 3 : -9);
  return {yoe + era * 400 + (m <= 2), m, d};
}
inline std::string IsoDate(i64 day) {
  Civil c = CivilFromDays(day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(c.y),
                static_cast<long long>(c.m), static_cast<long long>(c.d));
  return buf;
}
// Due date k: the value date's day of the month k months later, clamped to the month's end.
inline i64 AddMonths(i64 day, int k) {
  Civil c = CivilFromDays(day);
  i64 months = c.y * 12 + (c.m - 1) + k;
  i64 y = months / 12, m = months % 12 + 1;
  i64 last = DaysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - DaysFromCivil(y, m, 1);
  return DaysFromCivil(y, m, std::min(c.d, last));
}

// Round half up of num/den (num ≥ 0, den > 0): ⌊num/den + ½⌋.
inline i64 Rhu(i128 num, i128 den) {
  assert(num >= 0 && den > 0);
  return static_cast<i64>((2 * num + den) / (2 * den));
}
struct Frac {
  i128 n = 0, d = 1;
};
inline bool Less(Frac a, Frac b) { return a.n * b.d < b.n * a.d; }
// RHU(amount × rate × days)
inline i64 Accrue(i64 amount, Frac rate, i64 days) {
  if (amount <= 0 || days <= 0) return 0;
  return Rhu(static_cast<i128>(amount) * rate.n * days, rate.d);
}

// ---- a minimal unsigned big integer (base 2^32), enough for the annuity's (a+b)^n ----
struct Big {
  std::vector<std::uint32_t> v;  // little endian, no leading zero limbs
  static Big Of(std::uint64_t x) {
    Big b;
    while (x) { b.v.push_back(static_cast<std::uint32_t>(x)); x >>= 32; }
    return b;
  }
  Big operator*(const Big& o) const {
    Big r;
    if (v.empty() || o.v.empty()) return r;
    std::vector<std::uint64_t> acc(v.size() + o.v.size() + 1, 0);
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::uint64_t carry = 0;
      for (std::size_t j = 0; j < o.v.size(); ++j) {
        std::uint64_t t = acc[i + j] + static_cast<std::uint64_t>(v[i]) * o.v[j] + carry;
        acc[i + j] = t & 0xffffffffu;
        carry = t >> 32;
      }
      for (std::size_t k = i + o.v.size(); carry; ++k) {
        std::uint64_t t = acc[k] + carry;
        acc[k] = t & 0xffffffffu;
        carry = t >> 32;
      }
    }
    for (std::uint64_t x : acc) r.v.push_back(static_cast<std::uint32_t>(x));
    r.Trim();
    return r;
  }
  Big operator+(const Big& o) const {
    Big r;
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < std::max(v.size(), o.v.size()) || carry; ++i) {
      std::uint64_t t = carry + (i < v.size() ? v[i] : 0) + (i < o.v.size() ? o.v[i] : 0);
      r.v.push_back(static_cast<std::uint32_t>(t));
      carry = t >> 32;
    }
    r.Trim();
    return r;
  }
  Big operator-(const Big& o) const {  // requires *this ≥ o
    Big r;
    std::int64_t borrow = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::int64_t t = static_cast<std::int64_t>(v[i]) - borrow - (i < o.v.size() ? o.v[i] : 0);
      borrow = t < 0;
      r.v.push_back(static_cast<std::uint32_t>(t + (borrow << 32)));
    }
    assert(borrow == 0);
    r.Trim();
    return r;
  }
  bool operator<=(const Big& o) const {
    if (v.size() != o.v.size()) return v.size() < o.v.size();
    for (std::size_t i = v.size(); i-- > 0;) {
      if (v[i] != o.v[i]) return v[i] < o.v[i];
    }
    return true;
  }
  void Trim() { while (!v.empty() && v.back() == 0) v.pop_back(); }
};
inline Big Pow(const Big& b, int n) {
  Big r = Big::Of(1);
  for (int i = 0; i < n; ++i) r = r * b;
  return r;
}
// RHU(X / Y) for big X, Y: the largest q with q·2Y ≤ 2X + Y (binary search; q < 2^62).
inline i64 RhuBig(const Big& x, const Big& y) {
  const Big lhs = x + x + y, two_y = y + y;
  i64 lo = 0, hi = i64{1} << 62;
  while (lo < hi) {
    i64 mid = lo + (hi - lo + 1) / 2;
    if (Big::Of(static_cast<std::uint64_t>(mid)) * two_y <= lhs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---- the schedule (§2.2, §2.5, §2.6) ----
struct Row {
  i64 due = 0, principal = 0, interest = 0;
};
// Empty if the contract must refuse it (a period repaying no principal).
inline std::vector<Row> Schedule(i64 p, int n, bool equal_principal, Frac daily, Frac period,
                                 i64 value_day) {
  std::vector<Row> rows(n);
  for (int k = 0; k < n; ++k) rows[k].due = AddMonths(value_day, k + 1);
  i64 balance = p;
  if (equal_principal) {
    const i64 each = p / n;
    i64 prev = value_day;
    for (int k = 0; k < n; ++k) {
      rows[k].principal = k + 1 < n ? each : balance;
      rows[k].interest = Accrue(balance, daily, rows[k].due - prev);
      prev = rows[k].due;
      balance -= rows[k].principal;
    }
  } else {
    i64 a_pay;
    if (period.n == 0) {
      a_pay = Rhu(p, n);
    } else {
      // A = RHU(P·a·(a+b)^n / (b·((a+b)^n − b^n))), r = a/b
      const auto a = static_cast<std::uint64_t>(period.n), b = static_cast<std::uint64_t>(period.d);
      const Big apb_n = Pow(Big::Of(a + b), n), b_n = Pow(Big::Of(b), n);
      a_pay = RhuBig(Big::Of(static_cast<std::uint64_t>(p)) * Big::Of(a) * apb_n,
                     Big::Of(b) * (apb_n - b_n));
    }
    for (int k = 0; k < n; ++k) {
      rows[k].interest = Rhu(static_cast<i128>(balance) * period.n, period.d);
      rows[k].principal = k + 1 < n ? a_pay - rows[k].interest : balance;
      // Repaying everything before the last period would leave that one repaying nothing.
      if (rows[k].principal <= 0 || (k + 1 < n && rows[k].principal >= balance)) return {};
      balance -= rows[k].principal;
    }
  }
  for (const Row& r : rows) {
    if (r.principal <= 0) return {};
  }
  return rows;
}

// ---- splitting a cumulative stream between lenders (§2.7) ----
inline std::vector<i64> Targets(bool largest_remainder, const std::vector<int>& bps, i64 cum) {
  std::vector<i64> t(bps.size());
  i64 given = 0;
  for (std::size_t k = 0; k < bps.size(); ++k) {
    t[k] = static_cast<i64>(static_cast<i128>(cum) * bps[k] / 10000);
    given += t[k];
  }
  if (!largest_remainder) {  // every non-lead lender its floor, the lead the rest
    t[0] = cum - (given - t[0]);
    return t;
  }
  std::vector<std::size_t> order(bps.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return static_cast<i128>(cum) * bps[x] % 10000 > static_cast<i128>(cum) * bps[y] % 10000;
  });
  for (std::size_t i = 0; given < cum; ++i, ++given) ++t[order[i]];
  return t;
}

// ---- one loan as the rules say it must evolve ----
struct Inst {
  i64 due = 0, principal = 0, interest = 0, principal_paid = 0, interest_paid = 0;
  i64 penalty_posted = 0, penalty_paid = 0, accrual_from = 0;  // 0: no accrual running
  i64 PrincipalDue() const { return principal - principal_paid; }
  i64 InterestDue() const { return interest - interest_paid; }
  bool Paid() const {
    return PrincipalDue() == 0 && InterestDue() == 0 && penalty_posted == penalty_paid && accrual_from == 0;
  }
};

struct Paid3 {
  i64 principal = 0, interest = 0, penalty = 0;
};

struct OLoan {
  std::string id, status = "active";  // active | written-off | closed
  i64 principal = 0, value_day = 0;
  Frac daily, overdue;  // contract daily rate; ρ (§2.9)
  bool compound = true, largest_remainder = false;
  int grace = 1;
  std::vector<int> bps;
  std::vector<Inst> inst;
  i64 credit = 0, received = 0;
  i64 cum[3] = {0, 0, 0};  // principal, interest, penalty paid (the lenders' streams)
  i64 interest_waived = 0;
  // Attested misuse (§6.5): the misused amount, the surcharge σ over the contract rate, and the
  // day from which the surcharge of each period is not yet posted (0: none).
  i64 misused = 0, misuse_from = 0;
  bool misuse_seen = false;
  i64 attested = 0;  // all attestations together, at most what left the account (§6.5)
  Frac surcharge;

  bool Open() const { return status == "active" || status == "written-off"; }
  i64 Unposted(const Inst& i, i64 day) const {
    if (i.accrual_from == 0 || day <= i.accrual_from) return 0;
    i64 p = Accrue(i.PrincipalDue(), overdue, day - i.accrual_from);
    if (compound) p += Accrue(i.InterestDue(), overdue, day - i.accrual_from);
    return p;
  }
  // The surcharge of period k (its previous due date, or the value date, to its due date) from
  // the later of its start and misuse_from to the earlier of its due date and `day`, on the
  // misused money still outstanding in the period (at most its scheduled opening balance).
  i64 MisuseUnposted(std::size_t k, i64 day) const {
    if (misuse_from == 0) return 0;
    const i64 start = k == 0 ? value_day : inst[k - 1].due;
    const i64 from = std::max(start, misuse_from), to = std::min(inst[k].due, day);
    i64 opening = 0;
    for (std::size_t j = k; j < inst.size(); ++j) opening += inst[j].principal;
    return Accrue(std::min(misused, opening), surcharge, to - from);
  }
  i64 PenaltyDue(std::size_t k, i64 day) const {
    const Inst& i = inst[k];
    return i.penalty_posted - i.penalty_paid + Unposted(i, day) + MisuseUnposted(k, day);
  }
  void PostMisuse(i64 day) {
    if (misuse_from == 0 || day <= misuse_from) return;
    for (std::size_t k = 0; k < inst.size(); ++k) inst[k].penalty_posted += MisuseUnposted(k, day);
    misuse_from = day;
  }
  // use.attest of a prohibited use (§6.5), with the parameters in force: the misuse rate
  // min(daily × multiplier, cap) raises ρ (penalty so far posted first) and, above the contract
  // rate, adds the surcharge on misused principal not yet due.
  void Misuse(i64 day, i64 amount, Frac multiplier, Frac cap) {
    const bool first = !misuse_seen;
    misuse_seen = true;
    PostMisuse(day);
    misused += amount;
    if (!first) return;
    Frac rate{daily.n * multiplier.n, daily.d * multiplier.d};
    if (Less(cap, rate)) rate = cap;
    if (Less(overdue, rate)) {
      for (Inst& i : inst) Post(i, day);
      overdue = rate;
    }
    if (Less(daily, rate)) {
      surcharge = {rate.n * daily.d - daily.n * rate.d, rate.d * daily.d};
      misuse_from = day;
    }
  }
  i64 Dpd(i64 day) const {
    for (const Inst& i : inst) {
      if (i.due < day && !i.Paid()) return day - i.due;
    }
    return 0;
  }
  bool AllPaid() const {
    return std::all_of(inst.begin(), inst.end(), [](const Inst& i) { return i.Paid(); });
  }
  // Everything billed (due on or before `day`) and unpaid, with its penalty to `day`.
  i64 Billed(i64 day) const {
    i64 t = 0;
    for (const Inst& i : inst) {
      if (i.due <= day) t += i.PrincipalDue() + i.InterestDue() + PenaltyDue(static_cast<std::size_t>(&i - inst.data()), day);
    }
    return t;
  }
  bool Unbilled(i64 day) const {
    return std::any_of(inst.begin(), inst.end(), [day](const Inst& i) { return !i.Paid() && i.due > day; });
  }
  i64 LastDue(i64 day) const {
    i64 last = value_day;
    for (const Inst& i : inst) {
      if (i.due <= day) last = std::max(last, i.due);
    }
    return last;
  }
  i64 UnbilledPrincipal(i64 day) const {
    i64 t = 0;
    for (const Inst& i : inst) {
      if (i.due > day) t += i.PrincipalDue();
    }
    return t;
  }
  // §2.8
  i64 Quote(i64 day) const {
    const i64 u = UnbilledPrincipal(day);
    i64 surcharge_so_far = 0;  // the misuse surcharge of periods not yet due
    for (std::size_t k = 0; k < inst.size(); ++k) {
      if (inst[k].due > day) surcharge_so_far += PenaltyDue(k, day);
    }
    return Billed(day) + u + Accrue(u, daily, std::max<i64>(0, day - LastDue(day))) + surcharge_so_far;
  }

  void Post(Inst& i, i64 day) {
    if (i.accrual_from == 0) return;
    i.penalty_posted += Unposted(i, day);
    i.accrual_from = day;
  }
  // Penalty, then interest, then principal of one installment.
  void Pay(Inst& i, i64 day, i64* amount, Paid3* got) {
    Post(i, day);
    i64 x = std::min(*amount, i.penalty_posted - i.penalty_paid);
    i.penalty_paid += x, *amount -= x, got->penalty += x;
    x = std::min(*amount, i.InterestDue());
    i.interest_paid += x, *amount -= x, got->interest += x;
    x = std::min(*amount, i.PrincipalDue());
    i.principal_paid += x, *amount -= x, got->principal += x;
    if (i.PrincipalDue() == 0 && i.InterestDue() == 0) i.accrual_from = 0;
  }
  i64 ApplyBilled(i64 day, i64 amount, Paid3* got) {
    // The misuse surcharge is posted when money is about to reach a billed installment (§6.5).
    bool reaches = false;
    for (const Inst& i : inst) reaches = reaches || (i.due <= day && !i.Paid());
    if (amount > 0 && reaches) PostMisuse(day);
    for (Inst& i : inst) {
      if (amount == 0) break;
      if (i.due > day || i.Paid()) continue;
      Pay(i, day, &amount, got);
    }
    return amount;
  }
  void Book(const Paid3& got) {
    cum[0] += got.principal, cum[1] += got.interest, cum[2] += got.penalty;
  }
  void CloseIfPaid() {
    if (AllPaid()) status = "closed";
  }

  // The daily pass of `day` (§1.2, §7.1 held credit, §8.2 accrual start after grace).
  void Daily(i64 day) {
    if (!Open()) return;
    if (credit > 0) {
      Paid3 got;
      const i64 before = credit;
      credit = ApplyBilled(day, credit, &got);
      Book(got);
      if (credit != before) {
        CloseIfPaid();
        if (!Open()) return;
      }
    }
    for (Inst& i : inst) {
      if (i.Paid() || i.due >= day) continue;
      if (day - i.due > grace && i.accrual_from == 0 && (i.PrincipalDue() > 0 || i.InterestDue() > 0)) {
        i.accrual_from = i.due + 1;
      }
    }
  }

  // loan.repay (§7.1): the expected code; on "ok" the allocation and the credit held.
  std::string Repay(i64 day, i64 amount, Paid3* got, i64* held) {
    if (!Open()) return "wrong-state";
    const i64 q = Quote(day);
    if (Unbilled(day) && amount + credit >= q) return "settle-instead";
    if (amount + credit > q) return "overpayment";
    received += amount;
    const i64 left = ApplyBilled(day, amount, got);
    Book(*got);
    credit += left;
    *held = left;
    CloseIfPaid();
    return "ok";
  }

  // loan.settle (§7.2): exactly the quote minus held credit.
  std::string Settle(i64 day, i64 amount, Paid3* got) {
    if (!Open()) return "wrong-state";
    if (amount != Quote(day) - credit) return "settlement-amount-mismatch";
    received += amount;
    PostMisuse(day);
    i64 left = ApplyBilled(day, amount + credit, got);
    credit = 0;
    const i64 u = UnbilledPrincipal(day);
    const i64 accrued = Accrue(u, daily, day - LastDue(day));
    bool first = true;
    for (Inst& i : inst) {
      if (i.due <= day) continue;
      interest_waived += i.InterestDue();
      i.interest = i.interest_paid;
      if (first) i.interest += accrued, interest_waived -= accrued, first = false;
      Pay(i, day, &left, got);
    }
    assert(left == 0);
    Book(*got);
    CloseIfPaid();
    return "ok";
  }
};

}  // namespace colend::oracle
