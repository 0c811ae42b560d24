#!/usr/bin/env python3
"""Independent hand calculation of a report's verdict from CSV price files (documentation).

Recomputes, with nothing but the standard library and the method the verdict states (equal-weight
buy-and-hold baskets of adjusted closes against the benchmark; README.md), what
`ratingwatch verdict --format json` reports, and optionally compares the two:

    python3 examples/crosscheck_verdict.py --prices DIR --report data/reports/REPORT.toml \
        --as-of 2023-12-31 [--json verdict.json]

DIR holds one `SYMBOL.csv` per security in the import format
(`date,open,high,low,close,volume[,adj_close]`), the benchmark and the FX pairs
(`USDCNY.FX.csv`, `HKDCNY.FX.csv`, rate in `close`). Returns use `adj_close` when present
(`close` otherwise; the benchmark and FX always use `close`). With --json the script checks
every sector and the basket (return, benchmark return, excess, best and worst excess) to
0.01 pp and exits 1 on any difference.
"""

import argparse
import bisect
import calendar
import csv
import datetime as dt
import json
import os
import sys
import tomllib


def load(path, use_adjusted):
    dates, values = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            value = row.get("adj_close") if use_adjusted and row.get("adj_close") else row["close"]
            dates.append(dt.date.fromisoformat(row["date"]))
            values.append(float(value))
    order = sorted(range(len(dates)), key=lambda i: dates[i])
    return [dates[i] for i in order], [values[i] for i in order]


def as_of(series, day):
    """Latest (date, value) on or before day, or None."""
    dates, values = series
    i = bisect.bisect_right(dates, day)
    return (dates[i - 1], values[i - 1]) if i else None


def add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prices", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--json", help="a verdict JSON to compare with")
    args = parser.parse_args()

    with open(args.report, "rb") as f:
        report = tomllib.load(f)
    t0 = report["report_date"]
    t0 = t0 if isinstance(t0, dt.date) else dt.date.fromisoformat(t0)
    t1 = add_months(t0, report["rule"]["horizon_months"])
    upper, lower = report["rule"]["upper_pp"], report["rule"]["lower_pp"]
    benchmark_symbol = report["rule"]["benchmark"]
    benchmark = load(os.path.join(args.prices, benchmark_symbol + ".csv"), False)
    fx = {}
    for pair in ("HKDCNY.FX", "USDCNY.FX"):
        path = os.path.join(args.prices, pair + ".csv")
        if os.path.exists(path):
            fx[pair] = load(path, False)
    currency_pair = {"HK": "HKDCNY.FX", "US": "USDCNY.FX"}

    bench_base_date, bench_base = as_of(benchmark, t0)
    end_date, bench_end = as_of(benchmark, min(args.as_of, t1))
    path_dates = [d for d in benchmark[0] if t0 < d <= end_date]

    def value(symbol, series, day):
        """Close as of day in CNY (the close's own date for the rate), never before base."""
        close_date, close = as_of(series, day)
        pair = currency_pair.get(symbol.split(".")[1])
        rate = as_of(fx[pair], close_date)[1] if pair else 1.0
        return close * rate

    members = {}
    for company in report["companies"]:
        symbol = company["symbol"]
        path = os.path.join(args.prices, symbol + ".csv")
        if not os.path.exists(path):
            print(f"{symbol}: no file, excluded")
            continue
        series = load(path, True)
        if as_of(series, t0) is None:
            print(f"{symbol}: no close on or before {t0}, excluded")
            continue
        base_value = value(symbol, series, t0)
        members[symbol] = {
            "return": value(symbol, series, end_date) / base_value - 1,
            "path": [value(symbol, series, d) / base_value - 1 for d in path_dates],
        }

    bench_return = bench_end / bench_base - 1
    bench_path = [as_of(benchmark, d)[1] / bench_base - 1 for d in path_dates]
    groups = [(s["name"], s["members"]) for s in report["sectors"]]
    groups.append(("全部标的", [c["symbol"] for c in report["companies"]]))

    print(f"T0 {t0} (benchmark base {bench_base_date} {bench_base}), T1 {t1}, end {end_date} ({bench_end})")
    print(f"benchmark {benchmark_symbol}: {bench_return * 100:+.4f} %")
    results = {}
    for name, symbols in groups:
        priced = [members[s] for s in symbols if s in members]
        ret = sum(m["return"] for m in priced) / len(priced)
        excess = ret - bench_return
        path = [sum(m["path"][i] for m in priced) / len(priced) - bench_path[i] for i in range(len(path_dates))]
        best = max(range(len(path)), key=lambda i: path[i])
        worst = min(range(len(path)), key=lambda i: path[i])
        bp = round(excess * 10000)
        rating = "看好" if bp >= upper * 100 else "看淡" if bp <= lower * 100 else "中性"
        results[name] = (ret, excess, path[best], path_dates[best], path[worst], path_dates[worst])
        print(
            f"{name:8} n={len(priced):2}  return {ret * 100:+9.4f} %  excess {excess * 100:+9.4f} pp  {rating}  "
            f"best {path[best] * 100:+8.4f} pp {path_dates[best]}  worst {path[worst] * 100:+8.4f} pp {path_dates[worst]}"
        )

    if args.json:
        with open(args.json) as f:
            verdict = json.load(f)
        failures = 0
        tolerance = 1e-4  # 0.01 pp as a fraction
        if abs(verdict["benchmark"]["return"] - bench_return) > tolerance:
            print(f"benchmark differs: {verdict['benchmark']['return']} vs {bench_return}")
            failures += 1
        for group in verdict["sectors"] + [verdict["basket"]]:
            ret, excess, best, best_date, worst, worst_date = results[group["name"]]
            checks = [
                ("return", group["return"], ret),
                ("excess", group["excess"], excess),
                ("best_excess", group["best_excess"], best),
                ("worst_excess", group["worst_excess"], worst),
            ]
            for field, theirs, ours in checks:
                if abs(theirs - ours) > tolerance:
                    print(f"{group['name']} {field}: verdict {theirs} vs hand {ours}")
                    failures += 1
            for field, theirs, ours in [("best_excess_date", group["best_excess_date"], best_date), ("worst_excess_date", group["worst_excess_date"], worst_date)]:
                if theirs != ours.isoformat():
                    print(f"{group['name']} {field}: verdict {theirs} vs hand {ours}")
                    failures += 1
        print("cross-check: all agree to 0.01 pp" if failures == 0 else f"cross-check: {failures} differences")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
