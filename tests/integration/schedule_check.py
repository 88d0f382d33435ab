#!/usr/bin/env python3
"""Independent check of `colend loan schedule` against exact rational arithmetic in Python.

For random loans (seeded: both methods, daily and annual rates, splits 20/80, 30/70 and 50/50,
with and without --start) it runs `colend loan schedule ... --json` and recomputes every row and
column here with fractions.Fraction, datetime and hashlib, sharing no code with the C++:
  - equal installment: A = round-half-up(P·r·(1+r)^n / ((1+r)^n − 1)) (P/n at rate 0), interest
    round-half-up(B·r), the last installment absorbs the remainder; r = daily × 30 or annual / 12;
  - equal principal: principal P // n, the remainder in the last period, interest
    round-half-up(B × daily × days), daily = daily or annual / 360, days between due dates
    (30 without --start);
  - due date k = the value date's day of month, k months later, clamped to the month's end;
  - lead/partner columns: cumulative floor for the partner per stream, the lead the remainder;
  - totals and schedule_sha256 (SHA-256 of "period due_day payment principal interest balance").
It also checks worked example 2 of docs/lending-rules.md §2.4 and a few bad inputs.
Prints "schedule check: N loans, M mismatches" and exits 1 on any mismatch.
"""
import argparse
import calendar
import datetime
import hashlib
import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction

EPOCH = datetime.date(1970, 1, 1)
SPLITS = [(20, 80), (30, 70), (50, 50)]


def round_half_up(x):
    return math.floor(Fraction(x) + Fraction(1, 2))


def add_months(start, months):
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


def decimal_text(units, decimals):
    """units / 10^decimals as a plain decimal string ("0.035", "18", "18.25")."""
    if decimals == 0:
        return str(units)
    whole, frac = divmod(units, 10 ** decimals)
    return f"{whole}.{frac:0{decimals}d}"


def expected_schedule(loan):
    """The schedule as the JSON the CLI should print, or None if the loan must be rejected."""
    principal = loan["principal_fen"]
    n = loan["periods"]
    rate = Fraction(loan["rate"][:-1]) / 100
    if loan["rate_kind"] == "daily":
        daily, period_rate = rate, rate * 30
    else:
        daily, period_rate = rate / 360, rate / 12
    start = loan["start"]
    dues = [add_months(start, k) if start else None for k in range(0, n + 1)]
    days = [(dues[k] - dues[k - 1]).days if start else 30 for k in range(1, n + 1)]

    rows = []
    balance = principal
    if loan["method"] == "equal-installment":
        if period_rate == 0:
            installment = round_half_up(Fraction(principal, n))
        else:
            growth = (1 + period_rate) ** n
            installment = round_half_up(principal * period_rate * growth / (growth - 1))
        for k in range(1, n + 1):
            interest = round_half_up(balance * period_rate)
            paid = installment - interest if k < n else balance
            rows.append((paid, interest))
            balance -= paid
    else:
        for k in range(1, n + 1):
            interest = round_half_up(balance * daily * days[k - 1])
            paid = principal // n if k < n else balance
            rows.append((paid, interest))
            balance -= paid
    if any(paid <= 0 for paid, _ in rows) or any(
            sum(p for p, _ in rows[:k]) >= principal for k in range(1, n)):
        return None

    lead_pct, partner_pct = loan["split"]
    partner_bps = partner_pct * 100
    installments = []
    balance = principal
    cum_p = cum_i = 0
    totals = dict.fromkeys(["payment_fen", "principal_fen", "interest_fen", "lead_principal_fen",
                            "partner_principal_fen", "lead_interest_fen",
                            "partner_interest_fen"], 0)
    canonical = ""
    for k, (paid, interest) in enumerate(rows, start=1):
        partner_p = (cum_p + paid) * partner_bps // 10000 - cum_p * partner_bps // 10000
        partner_i = (cum_i + interest) * partner_bps // 10000 - cum_i * partner_bps // 10000
        cum_p += paid
        cum_i += interest
        balance -= paid
        row = {"period": k}
        if start:
            row["due_date"] = dues[k].isoformat()
        row.update({
            "days": days[k - 1],
            "payment_fen": paid + interest,
            "principal_fen": paid,
            "interest_fen": interest,
            "balance_fen": balance,
            "lead_principal_fen": paid - partner_p,
            "partner_principal_fen": partner_p,
            "lead_interest_fen": interest - partner_i,
            "partner_interest_fen": partner_i,
        })
        installments.append(row)
        for key in totals:
            totals[key] += row[key]
        due_day = (dues[k] - EPOCH).days if start else 0
        canonical += f"{k} {due_day} {paid + interest} {paid} {interest} {balance}\n"
    return {
        "principal_fen": principal,
        "periods": n,
        "method": loan["method"],
        "period_rate": f"{period_rate.numerator}/{period_rate.denominator}",
        "daily_rate": f"{daily.numerator}/{daily.denominator}",
        "split": {"lead_bps": lead_pct * 100, "partner_bps": partner_bps},
        "installments": installments,
        "totals": totals,
        "schedule_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }


def random_loan(rng):
    principal_fen = rng.randint(50000, 20000000)
    if rng.random() < 0.3:
        principal_fen -= principal_fen % 100  # whole yuan, printed without decimals
        principal_text = str(principal_fen // 100)
    else:
        principal_text = decimal_text(principal_fen, 2)
    periods = rng.choice([5, 10, 20]) if rng.random() < 0.75 else rng.randint(1, 360)
    rate_kind = rng.choice(["daily", "annual"])
    if rate_kind == "daily":  # 0.0100 % .. 0.0600 % a day
        rate = decimal_text(rng.randint(100, 600), 4) + "%"
    elif rng.random() < 0.3:
        rate = f"{rng.randint(0, 36)}%"
    else:  # 3.00 % .. 36.00 % a year
        rate = decimal_text(rng.randint(300, 3600), 2) + "%"
    start = None
    if rng.random() < 0.5:
        start = datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randint(0, 4500))
        if rng.random() < 0.2:  # the end of a month, to exercise clamping
            start = datetime.date(start.year, start.month,
                                  calendar.monthrange(start.year, start.month)[1])
    return {
        "principal_fen": principal_fen,
        "principal_text": principal_text,
        "periods": periods,
        "method": rng.choice(["equal-installment", "equal-principal"]),
        "rate_kind": rate_kind,
        "rate": rate,
        "split": rng.choice(SPLITS),
        "start": start,
    }


def run(binary, argv):
    return subprocess.run([binary] + argv, capture_output=True, text=True, timeout=60)


def loan_argv(loan):
    argv = ["loan", "schedule", "--principal", loan["principal_text"], "--periods",
            str(loan["periods"]), f"--{loan['rate_kind']}-rate", loan["rate"], "--method",
            loan["method"], "--split", "%d/%d" % loan["split"], "--json"]
    if loan["start"]:
        argv += ["--start", loan["start"].isoformat()]
    return argv


def compare(expected, actual, path, diffs):
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual or key not in expected:
                diffs.append(f"{path}.{key}: expected {expected.get(key, '<absent>')!r}, "
                             f"got {actual.get(key, '<absent>')!r}")
            else:
                compare(expected[key], actual[key], f"{path}.{key}", diffs)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            diffs.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}[{i}]", diffs)
    elif expected != actual or type(expected) is not type(actual):
        diffs.append(f"{path}: expected {expected!r}, got {actual!r}")


def check_loan(binary, loan, diffs):
    argv = loan_argv(loan)
    expected = expected_schedule(loan)
    p = run(binary, argv)
    before = len(diffs)
    if expected is None:
        if p.returncode != 1 or "invalid-schedule" not in p.stderr:
            diffs.append(f"expected a rejection (exit 1, invalid-schedule), got exit "
                         f"{p.returncode}: {p.stderr.strip()}")
    elif p.returncode != 0:
        diffs.append(f"exit {p.returncode}: {p.stderr.strip()}")
    else:
        compare(expected, json.loads(p.stdout), "", diffs)
    if len(diffs) > before:
        print("MISMATCH: colend " + " ".join(argv), file=sys.stderr)
        for line in diffs[before:before + 10]:
            print("  " + line, file=sys.stderr)


def check_worked_example_2(binary, diffs):
    """docs/lending-rules.md §2.4 example: 40,000.00 CNY, 20 periods, 0.05 %/day × 30, 20/80."""
    p = run(binary, ["loan", "schedule", "--principal", "40000.00", "--periods", "20",
                     "--daily-rate", "0.05%", "--json"])
    if p.returncode != 0:
        diffs.append(f"worked example 2: exit {p.returncode}: {p.stderr.strip()}")
        return
    out = json.loads(p.stdout)
    facts = {
        "totals.payment_fen": (out["totals"]["payment_fen"], 4659657),
        "totals.interest_fen": (out["totals"]["interest_fen"], 659657),
        "totals.lead_principal_fen": (out["totals"]["lead_principal_fen"], 800000),
        "totals.lead_interest_fen": (out["totals"]["lead_interest_fen"], 131932),
        "totals.partner_interest_fen": (out["totals"]["partner_interest_fen"], 527725),
        "installment": (out["installments"][0]["payment_fen"], 232983),
        "last payment": (out["installments"][-1]["payment_fen"], 232980),
        "period_rate": (out["period_rate"], "3/200"),
    }
    for name, (got, want) in facts.items():
        if got != want:
            diffs.append(f"worked example 2 {name}: expected {want}, got {got}")


def check_bad_input(binary, diffs):
    base = ["loan", "schedule", "--principal", "40000.00", "--periods", "20"]
    cases = [
        (["loan", "schedule", "--periods", "20", "--daily-rate", "0.05%"], 2, "--principal"),
        (base, 2, "--daily-rate"),
        (base + ["--daily-rate", "0.05%", "--annual-rate", "18%"], 2, "--daily-rate"),
        (["loan", "schedule", "--principal", "40000.001", "--periods", "20", "--daily-rate",
          "0.05%"], 1, "40000.001"),
        (["loan", "schedule", "--principal", "40000", "--periods", "361", "--daily-rate",
          "0.05%"], 1, "--periods"),
        (base + ["--daily-rate", "0.05%", "--split", "20/70"], 1, "--split"),
        (base + ["--daily-rate", "0.05%", "--split", "0/100"], 1, "--split"),
        (base + ["--daily-rate", "0.05%", "--method", "balloon"], 1, "balloon"),
        (base + ["--daily-rate", "0.05"], 1, "0.05"),
        (base + ["--daily-rate", "0.05%", "--start", "2025-02-30"], 1, "2025-02-30"),
    ]
    for argv, code, word in cases:
        p = run(binary, argv)
        if p.returncode != code or word not in p.stderr:
            diffs.append(f"colend {' '.join(argv)}: expected exit {code} naming '{word}', got "
                         f"exit {p.returncode}: {p.stderr.strip()}")
    p = run(binary, ["loan", "schedule", "--help"])
    if p.returncode != 0 or "--principal" not in p.stdout:
        diffs.append(f"loan schedule --help: exit {p.returncode}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory of the colend binary")
    parser.add_argument("--loans", type=int, default=300, help="number of random loans")
    parser.add_argument("--seed", type=int, default=20250115)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "colend")
    rng = random.Random(args.seed)
    diffs = []
    check_worked_example_2(binary, diffs)
    check_bad_input(binary, diffs)
    for line in diffs:
        print("MISMATCH: " + line, file=sys.stderr)
    for _ in range(args.loans):
        check_loan(binary, random_loan(rng), diffs)
    print(f"schedule check: {args.loans} loans, {len(diffs)} mismatches (seed {args.seed})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
