#!/usr/bin/env python3
"""Golden regression cases: every library scenario at a fixed seed and size.

Each case (tests/golden/cases.json) runs `ccpnet run` on scenarios/<case>.yaml
with the case's scenario count and seed on 2 threads, and `ccpnet stress` on
the same file; the key figures of the outputs (summary.json, ccps.csv,
members.csv totals per CCP, stress.json) become one flat dict of
`key -> number | string | bool` and are compared with
tests/golden/expected/<case>.json under the per-key tolerances of
tests/golden/tolerances.json. A difference prints a table (key, expected,
found, difference, tolerance) and exits 1.

    tests/golden/golden.py two_ccp_peer             # one case
    tests/golden/golden.py --all                    # every case
    tests/golden/golden.py --update two_ccp_peer    # regenerate on purpose

A commit that regenerates expected files says why the numbers moved.
`--scenario-file` and `--set` run a changed scenario against a case's
expected figures (to see what a change moves, or that the case can fail).

Only the standard library: runs with any Python 3.9+.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CASES_FILE = HERE / "cases.json"
TOLERANCES_FILE = HERE / "tolerances.json"
EXPECTED_DIR = HERE / "expected"

# Per-membership rows of members.csv are kept when a scenario has at most this
# many memberships; larger scenarios keep the per-CCP totals only.
MAX_MEMBERSHIP_ROWS = 40

Figures = dict[str, object]


# ---------------------------------------------------------------- extraction


def flatten(value: object, prefix: str, out: Figures) -> None:
    """Nested JSON -> `prefix.key.sub` and `prefix[i]` keys; leaves as they are."""
    if isinstance(value, dict):
        for key, sub in value.items():
            flatten(sub, f"{prefix}.{key}", out)
    elif isinstance(value, list):
        if not value:
            out[f"{prefix}.count"] = 0
        for i, sub in enumerate(value):
            flatten(sub, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


def csv_number(text: str) -> object:
    """A CSV cell as a number when it is one, else the text (ids, enum names)."""
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_figures(out_dir: Path) -> Figures:
    """The key figures of a `ccpnet run` output directory."""
    figures: Figures = {}
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    # The version and the partial flag are not results; a partial run is refused.
    if summary.get("partial"):
        raise RuntimeError(f"{out_dir / 'summary.json'}: the run was partial")
    for key in ("seed", "scenarios", "first_scenario"):
        figures[f"run.{key}"] = summary[key]
    flatten(summary["ccps"], "run.ccps", figures)
    flatten(summary["system"], "run.system", figures)
    if "settlement" in summary:
        flatten(summary["settlement"], "run.settlement", figures)

    # ccps.csv: the per-CCP figures summary.json does not hold (inputs such as
    # capital and SITG, link losses in and out, unallocated, every layer).
    for row in read_csv(out_dir / "ccps.csv"):
        ccp = row.pop("ccp")
        for column, text in row.items():
            in_summary = column.replace("df_depletion_", "df_depletion.").replace("loss_", "layer_losses.", 1)
            if f"run.ccps.{ccp}.{column}" not in figures and f"run.ccps.{ccp}.{in_summary}" not in figures:
                figures[f"run.ccps_csv.{ccp}.{column}"] = csv_number(text)

    # members.csv: per CCP, the sum over its memberships of every numeric
    # column (p_default summed is the expected number of its members that
    # default); per membership when the scenario is small.
    members = read_csv(out_dir / "members.csv")
    totals: dict[str, dict[str, float]] = {}
    for row in members:
        sums = totals.setdefault(row["ccp"], {"memberships": 0.0})
        sums["memberships"] += 1
        for column, text in row.items():
            value = csv_number(text)
            if column not in ("member", "group", "ccp") and isinstance(value, float):
                sums[column] = sums.get(column, 0.0) + value
    flatten(totals, "run.members_sum", figures)
    if len(members) <= MAX_MEMBERSHIP_ROWS:
        for row in members:
            name = f"run.members.{row['member']}@{row['ccp']}"
            for column, text in row.items():
                if column not in ("member", "ccp"):
                    figures[f"{name}.{column}"] = csv_number(text)
    return figures


def stress_figures(out_dir: Path) -> Figures:
    """Every figure of `ccpnet stress --out` (stress.json), version aside."""
    figures: Figures = {}
    stress = json.loads((out_dir / "stress.json").read_text(encoding="utf-8"))
    flatten(stress["stress_scenarios"], "stress", figures)
    return figures


# ---------------------------------------------------------------- running


def ccpnet_exe(given: str | None) -> Path:
    exe = Path(given or os.environ.get("CCPNET_EXE") or REPO / "build" / "bin" / "ccpnet")
    if not exe.is_file():
        sys.exit(f"golden: ccpnet not found at {exe} (build it, or give --ccpnet / CCPNET_EXE)")
    return exe


def run_ccpnet(args: list[str]) -> None:
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        raise RuntimeError(f"exit {done.returncode}: {' '.join(args)}")


def case_figures(exe: Path, scenario: Path, case: dict, overrides: list[str], work: Path) -> Figures:
    sets = [arg for kv in overrides for arg in ("--set", kv)]
    run_dir, stress_dir = work / "run", work / "stress"
    run_ccpnet([str(exe), "run", str(scenario), "-n", str(case["scenarios"]), "--seed", str(case["seed"]),
                "--threads", "2", "--quiet", "--out", str(run_dir), *sets])
    run_ccpnet([str(exe), "stress", str(scenario), "--out", str(stress_dir), *sets])
    figures = run_figures(run_dir)
    figures.update(stress_figures(stress_dir))
    return figures


# ---------------------------------------------------------------- comparison


def load_tolerances() -> list[dict]:
    rules = json.loads(TOLERANCES_FILE.read_text(encoding="utf-8"))["rules"]
    for rule in rules:
        if not {"keys", "rel", "abs"} <= rule.keys():
            sys.exit(f"golden: {TOLERANCES_FILE}: a rule needs keys, rel and abs: {rule}")
    return rules


def tolerance_for(key: str, rules: list[dict]) -> dict:
    """The first rule whose pattern (fnmatch, case-sensitive) matches the key."""
    for rule in rules:
        if fnmatch.fnmatchcase(key, rule["keys"]):
            return rule
    sys.exit(f"golden: no tolerance rule matches {key} (the last rule should be '*')")


def within(expected: object, found: object, rule: dict) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool) or isinstance(expected, str) or isinstance(found, str):
        return type(expected) is type(found) and expected == found
    if expected is None or found is None:
        return expected is found
    e, f = float(expected), float(found)
    if math.isnan(e) or math.isnan(f):
        return math.isnan(e) and math.isnan(f)
    return abs(f - e) <= rule["abs"] + rule["rel"] * abs(e)


def show(value: object) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def difference(expected: object, found: object) -> str:
    if isinstance(expected, (int, float)) and isinstance(found, (int, float)) \
            and not isinstance(expected, bool) and not isinstance(found, bool):
        d = float(found) - float(expected)
        text = f"{d:+.3g}"
        if expected:
            text += f" ({d / abs(float(expected)):+.2e} rel)"
        return text
    return "differs"


def compare(expected: Figures, found: Figures, rules: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """Rows (key, expected, found, difference, tolerance) of every figure out of tolerance."""
    rows = []
    for key in sorted(expected.keys() | found.keys()):
        e, f = expected.get(key), found.get(key)
        if key not in found:
            rows.append((key, show(e), "(absent)", "no longer in the outputs", ""))
            continue
        if key not in expected:
            rows.append((key, "(absent)", show(f), "new in the outputs", ""))
            continue
        rule = tolerance_for(key, rules)
        if not within(e, f, rule):
            exact = isinstance(e, (str, bool)) or isinstance(f, (str, bool)) or rule["abs"] == rule["rel"] == 0
            tolerance = "exact" if exact else f"abs {rule['abs']:g} + rel {rule['rel']:g}"
            rows.append((key, show(e), show(f), difference(e, f), tolerance))
    return rows


def print_table(rows: list[tuple[str, ...]], limit: int = 200) -> None:
    header = ("key", "expected", "found", "difference", "tolerance")
    shown = rows[:limit]
    widths = [max(len(r[i]) for r in [header, *shown]) for i in range(len(header))]
    for r in [header, *shown]:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    if len(rows) > limit:
        print(f"  ... and {len(rows) - limit} more")


# ---------------------------------------------------------------- main


def expected_path(name: str) -> Path:
    return EXPECTED_DIR / f"{name}.json"


def run_case(name: str, cases: dict, rules: list[dict], opts: argparse.Namespace, exe: Path) -> bool:
    if name not in cases:
        print(f"golden {name}: FAILED, no case in {CASES_FILE.relative_to(REPO)}: add one "
              f"(scenarios, seed) and run tests/golden/golden.py --update {name}")
        return False
    case = cases[name]
    scenario = Path(opts.scenario_file) if opts.scenario_file else REPO / "scenarios" / f"{name}.yaml"
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"ccpnet-golden-{name}-"))
    try:
        figures = case_figures(exe, scenario, case, opts.set or [], work)
    except (RuntimeError, OSError, KeyError, ValueError) as error:
        print(f"golden {name}: FAILED to run: {error}")
        return False
    finally:
        if opts.keep:
            print(f"golden {name}: outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    where = expected_path(name)

    if opts.update:
        if opts.scenario_file or opts.set:
            sys.exit("golden: --update regenerates from the library scenario as it is (no --scenario-file or --set)")
        document = {
            "case": name,
            "scenario": f"scenarios/{name}.yaml",
            "scenarios": case["scenarios"],
            "seed": case["seed"],
            "figures": figures,
        }
        EXPECTED_DIR.mkdir(exist_ok=True)
        where.write_text(json.dumps(document, indent=1, allow_nan=True) + "\n", encoding="utf-8")
        print(f"golden {name}: wrote {where.relative_to(REPO)} ({len(figures)} figures, {seconds:.1f} s)")
        return True

    if not where.is_file():
        print(f"golden {name}: FAILED, no expected file {where.relative_to(REPO)}: "
              f"run tests/golden/golden.py --update {name}")
        return False
    expected = json.loads(where.read_text(encoding="utf-8"))["figures"]
    rows = compare(expected, figures, rules)
    label = f"{case['scenarios']} scenarios, seed {case['seed']}"
    if opts.scenario_file or opts.set:
        label += ", changed scenario: " + " ".join([opts.scenario_file or "", *(opts.set or [])]).strip()
    if not rows:
        print(f"golden {name}: ok, {len(expected)} figures within tolerance ({label}; {seconds:.1f} s)")
        return True
    print(f"golden {name}: FAILED, {len(rows)} of {len(expected.keys() | figures.keys())} figures differ "
          f"from {where.relative_to(REPO)} ({label})")
    print_table(rows)
    print(f"  If the change is intended: tests/golden/golden.py --update {name}, "
          "and say in the commit message why the numbers moved.")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help="case names (scenarios/<CASE>.yaml)")
    parser.add_argument("--all", action="store_true", help="every case of cases.json")
    parser.add_argument("--update", action="store_true", help="rewrite the expected files from this build")
    parser.add_argument("--ccpnet", help="the ccpnet executable (default: $CCPNET_EXE, else build/bin/ccpnet)")
    parser.add_argument("--scenario-file", help="run this file instead of scenarios/<CASE>.yaml (one case)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="passed to ccpnet (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the ccpnet output directories")
    opts = parser.parse_args()

    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    names = sorted(cases) if opts.all else opts.cases
    if not names:
        parser.error("name a case or give --all")
    if opts.scenario_file and len(names) != 1:
        parser.error("--scenario-file goes with one case")
    rules = load_tolerances()
    exe = ccpnet_exe(opts.ccpnet)
    failed = [name for name in names if not run_case(name, cases, rules, opts, exe)]
    if failed and len(names) > 1:
        print(f"golden: {len(failed)} of {len(names)} cases failed: {' '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
