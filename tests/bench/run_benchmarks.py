#!/usr/bin/python3
"""Whole-run benchmarks of ccpnet, in one run.

  tests/bench/run_benchmarks.py [--exe EXE] [--baseline EXE] [--quick] [--repeat R]

Reports, each figure the median of R interleaved repetitions:
  * the reference network (scenarios/reference_network.yaml), calm, stressed
    and extreme, one period and with a 10-day horizon in daily steps, on 1 and
    2 threads: scenarios per second of wall time (the engine's own clock, all
    outputs written), CPU microseconds per scenario (user + system of the
    process less its start-up, measured by the same run at a few scenarios),
    the rate the CPU time gives per thread count (threads / CPU per
    scenario: what the run reaches on a machine nobody else uses), maximum RSS;
  * with --baseline, the same for the other executable, run interleaved with
    this one (A B A B ...), and the ratio of CPU per scenario (baseline / this:
    above 1 means this one is faster);
  * end to end, the 10-day horizon on 2 threads as a user runs it: calm at
    10^6 scenarios, stressed at 10^5 (--quick: a tenth), scenarios per
    second of the process's wall time (start-up, model build and every
    output file, written into a temporary directory, included), with the
    baseline interleaved and the ratio when given;
  * GFLOP/s of the revaluation kernel (ccpnet_bench BM_RevaluationKernel);
  * calm on 2 MPI ranks x 1 thread (wall, when mpirun is installed);
  * last, memory: the maximum RSS of stressed runs of 10^6 and 10^7
    scenarios on 2 threads (--quick: 10^5 and 10^6; one run of each size
    per executable, not a median), and its growth (the
    exact top 1% of the tail samples grows with the run by design: about
    9 MB at 10^7); the per-scenario file in its narrow form, which 10^7
    rows of ledger columns would make many gigabytes;
  * first, the growth table: generated networks of 250 to 4,000 members per
    CCP, 50 and 200 assets, 10 and 20 CCPs, calm, one thread: ns per account-scenario
    on the engine's clock (start-up excluded), the CPU seconds of the
    model's start-up, and the share of scenarios with a member default
    (each such scenario runs the cascade over all the accounts). Two latent
    PD rules: 1e-5 per member at every size (the reference network's calm
    credit quality: a network of 4,000 members per CCP then defaults in about
    7% of its scenarios against 1% at 250), and a PD in inverse proportion to
    the members (the expected latent defaults per scenario of the smallest
    network at every size: the cost of size with the default rate held).
    Runs are long enough for a steady state: one-off costs that grow with
    the network (first touches of the worker's buffers) are not in the table.

CPU time is the figure to compare on a shared machine: wall time moves with
whatever else runs. Stressed runs a quarter of the calm scenarios, extreme a
sixteenth. --quick uses few scenarios and a smaller growth table (a few
minutes on a free machine).
"""

import argparse
import collections
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "scenarios" / "reference_network.yaml"

# The regimes, and the share of the scenarios each runs (defaults cost more).
SHARE = {"calm": 1, "stressed": 4, "extreme": 16}
REGIMES = {
    "calm": [],
    "stressed": ["--set", "market.shocks.volatility_multiplier=3", "--set", "defaults.latent.pd=0.001"],
    "extreme": ["--set", "market.shocks.volatility_multiplier=6", "--set", "defaults.latent.pd=0.02"],
}
HORIZONS = {
    "1-period": [],
    "10-day": ["--set", "simulation.horizon_days=10", "--set", "simulation.step_days=1"],
}
STARTUP_SCENARIOS = 64


# One run's figures: the engine's own seconds, the process's CPU seconds,
# its maximum RSS in MiB and its wall seconds from start to exit.
Run = collections.namedtuple("Run", "engine cpu rss wall")


def run_once(exe, scenario, n, threads, extra, out):
    """One `ccpnet run`."""
    cmd = [str(exe), "run", str(scenario), "-n", str(n), "--threads", str(threads), "--quiet", "--out", str(out)]
    cmd += extra
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
    seconds = json.loads((Path(out) / "run.json").read_text())["seconds"]
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, wall)


class Case:
    """One configuration on one executable: its start-up CPU and its timed runs."""

    def __init__(self, exe, scenario, n, threads, extra):
        self.exe, self.scenario, self.n, self.threads, self.extra = exe, scenario, n, threads, extra
        self.startup = None
        self.samples = []  # (engine seconds, CPU seconds of the scenarios, max RSS)

    def measure(self, work):
        if self.startup is None:
            self.startup = run_once(self.exe, self.scenario, STARTUP_SCENARIOS, 1, self.extra, work).cpu
        run = run_once(self.exe, self.scenario, self.n, self.threads, self.extra, work)
        self.samples.append((run.engine, max(run.cpu - self.startup, 1e-9), run.rss))

    def wall_rate(self):
        return statistics.median(self.n / s for s, _, _ in self.samples)

    def cpu_us(self):
        return statistics.median(c for _, c, _ in self.samples) / self.n * 1e6

    def engine_us(self):
        """Microseconds per scenario on the engine's own clock (start-up excluded by construction)."""
        return statistics.median(s for s, _, _ in self.samples) / self.n * 1e6

    def cpu_rate(self):
        return self.threads / self.cpu_us() * 1e6

    def rss(self):
        return max(r for _, _, r in self.samples)


def interleave(cases, repeat, work):
    for _ in range(repeat):
        for case in cases:
            case.measure(work)


def reference_table(args, work):
    exes = [("this", args.exe)] + ([("baseline", args.baseline)] if args.baseline else [])
    rows = []
    for horizon, hextra in HORIZONS.items():
        for regime, rextra in REGIMES.items():
            n = (args.scenarios if horizon == "1-period" else args.path_scenarios) // SHARE[regime]
            for threads in (1, 2):
                cases = [Case(exe, REFERENCE, n, threads, hextra + rextra) for _, exe in exes]
                interleave(cases, args.repeat, work)
                rows.append((horizon, regime, threads, n, cases))
                print_reference_row(rows[-1], args.baseline is not None, flush=True)
    return rows


def print_reference_row(row, baseline, flush=False):
    horizon, regime, threads, n, cases = row
    this = cases[0]
    line = (f"{horizon:9} {regime:9} {threads:>2} {n:>9,} {this.wall_rate():>11,.0f} {this.cpu_us():>9.1f} "
            f"{this.cpu_rate():>11,.0f} {this.rss():>8.0f}")
    if baseline:
        base = cases[1]
        line += f" | {base.wall_rate():>11,.0f} {base.cpu_us():>9.1f} {base.cpu_rate():>11,.0f} {base.rss():>8.0f}"
        line += f" | {base.cpu_us() / this.cpu_us():>6.2f}x"
    print(line, flush=flush)


def reference_header(baseline):
    head = f"{'horizon':9} {'regime':9} {'th':>2} {'scenarios':>9} {'wall sc/s':>11} {'CPU us/sc':>9} {'CPU sc/s':>11} {'RSS MiB':>8}"
    if baseline:
        head += f" | {'base wall':>11} {'base us/sc':>9} {'base CPU':>11} {'RSS MiB':>8} | {'ratio':>7}"
    return head


def kernel_gflops(bench):
    if not Path(bench).exists():
        return None
    out = subprocess.run([str(bench), "--benchmark_filter=BM_RevaluationKernel$", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            return b["GFLOPs"] / 1e9 if b["GFLOPs"] > 1e6 else b["GFLOPs"]
    return None


def generated_network(path, ccps, assets, per_ccp, pd=1.0e-5):
    """A generated network of `ccps` CCPs in a full mesh, `assets` assets,
    about `per_ccp` members per CCP (generator as in reference_network.yaml)
    and latent PD `pd` per member."""
    memberships, core = 3.0, 0.1
    share = core + (1.0 - core) * min(1.0, memberships / ccps)  # of the members at one CCP
    members = max(1, round(per_ccp / share))
    lines = [f"name: growth {ccps} CCPs {assets} assets {per_ccp} per CCP", "seed: 7",
             "simulation: {scenarios: 1000, batch: 512}", "market:", "  assets:"]
    for a in range(assets):
        vol = 0.6 + 0.6 * ((a * 37) % 100) / 100.0
        lines.append(f"    - {{id: A{a:03d}, price: {1.0 + a}, volatility: {vol:.2f}, adv: 1.0e9}}")
    lines += ["  correlation: {default: 0.5}", "  shocks: {model: student_t, dof: 4}", "ccps:"]
    for c in range(ccps):
        lines += [f"  - id: C{c:02d}", "    capital: 5.0e8",
                  "    margin: {model: parametric, confidence: 0.99, mpor_days: 2}",
                  "    default_fund: {sizing: cover2}"]
    lines += ["generator:", f"  members: {members}", f"  memberships: {memberships}", f"  core_share: {core}",
              "  core_size: 10", "  assets_per_account: 5", "  notional: 2.0e7", "  size_tail: 1.5",
              "  capital_ratio: 0.3", "  liquidity_ratio: 0.8", "links:"]
    for i in range(ccps):
        for j in range(i + 1, ccps):
            lines.append(f"  - {{between: [C{i:02d}, C{j:02d}], model: peer}}")
    lines.append(f"defaults: {{latent: {{pd: {pd:.6g}, beta: 0.5}}}}")
    Path(path).write_text("\n".join(lines) + "\n")


def default_share(out):
    """The share of a run's scenarios with a member default (summary.json): the
    scenarios the cascade evaluates."""
    return json.loads((Path(out) / "summary.json").read_text())["system"]["p_any_member_default"]


def accounts_of(out):
    """Member accounts of a run: the rows of members.csv (one per member and CCP)."""
    with open(Path(out) / "members.csv") as f:
        return sum(1 for _ in f) - 1


def growth_table(args, work):
    sizes = [250, 1000, 4000] if args.quick else [250, 500, 1000, 2000, 4000]
    shapes = [(10, 50)] + ([] if args.quick else [(10, 200), (20, 50)])
    # ns per account-scenario from the engine's clock (one thread, so its wall
    # time is its CPU time on a free machine): subtracting a start-up of
    # seconds from the process's CPU time leaves noise when the scenarios are
    # few (--quick); the CPU figure is printed next to it.
    # P(default): the share of scenarios the cascade evaluates. PD "fixed":
    # 1e-5 per member; "held": 1e-5 x 250 / members per CCP, the expected
    # latent defaults per scenario of 250 (market defaults still rise a little).
    print(f"{'PD':>5} {'CCPs':>4} {'assets':>6} {'per CCP':>7} {'accounts':>8} {'scenarios':>9} {'start-up s':>10} "
          f"{'CPU us/sc':>9} {'engine us/sc':>12} {'ns/acct-sc':>10} {'P(default)':>10}")
    for (ccps, assets), rule in itertools.product(shapes, ("fixed", "held")):
        for per_ccp in sizes:
            path = Path(work).parent / f"growth_{ccps}_{assets}_{per_ccp}.yaml"
            generated_network(path, ccps, assets, per_ccp, 1.0e-5 * (250 / per_ccp if rule == "held" else 1.0))
            accounts = None
            n = max(2048, int(args.growth_work / per_ccp / ccps))
            case = Case(args.exe, path, n, 1, [])
            for _ in range(args.repeat):
                case.measure(work)
                accounts = accounts or accounts_of(work)
            ns = case.engine_us() * 1e3 / accounts
            print(f"{rule:>5} {ccps:>4} {assets:>6} {per_ccp:>7} {accounts:>8} {n:>9,} {case.startup:>10.2f} "
                  f"{case.cpu_us():>9.1f} {case.engine_us():>12.1f} {ns:>10.2f} {default_share(work):>10.2%}",
                  flush=True)


def mpi_rate(args, work):
    """Calm, 2 MPI ranks x 1 thread, wall time including start-up (when mpirun is installed)."""
    if not shutil.which("mpirun"):
        return
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    start = time.time()
    subprocess.run(["mpirun", "-np", "2", str(args.exe), "run", str(REFERENCE), "-n", str(args.scenarios),
                    "--threads", "1", "--quiet", "--out", str(work)], check=True, env=env, stdout=subprocess.DEVNULL)
    print(f"\ncalm, 2 MPI ranks x 1 thread: {args.scenarios / (time.time() - start):,.0f} scenarios/s "
          "(wall, including start-up)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exe", default=str(ROOT / "build" / "bin" / "ccpnet"))
    p.add_argument("--bench", default=None, help="ccpnet_bench (default: next to --exe)")
    p.add_argument("--baseline", default=None, help="another ccpnet to compare with, run interleaved")
    p.add_argument("--quick", action="store_true", help="few scenarios, small growth table")
    p.add_argument("--repeat", type=int, default=None, help="repetitions per figure (default 3; quick 2)")
    p.add_argument("--no-growth", action="store_true", help="skip the growth table")
    p.add_argument("--no-memory", action="store_true", help="skip the memory runs (stressed, 10^6 and 10^7 scenarios; --quick 10^5 and 10^6)")
    args = p.parse_args()
    args.repeat = args.repeat or (2 if args.quick else 3)
    args.scenarios = 32000 if args.quick else 256000  # calm; stressed a quarter, extreme a sixteenth
    args.path_scenarios = 4000 if args.quick else 32000
    # Member accounts x scenarios per growth run, enough for a steady state:
    # the engine's clock also counts one-off costs (first touches of the
    # worker's buffers, the last windows), which at 5e8 (12,500 scenarios of
    # 4,000 members per CCP) were 40% of the largest networks' time.
    args.growth_work = 2.0e7 if args.quick else 4.0e9
    bench = args.bench or str(Path(args.exe).parent / "ccpnet_bench")
    print(f"ccpnet {args.exe}" + (f", baseline {args.baseline}" if args.baseline else "") +
          f"; medians of {args.repeat} interleaved runs; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "out"
        if not args.no_growth:  # first: the figure the growth target is read from, whatever stops the rest
            growth_table(args, work)
        print("\n" + reference_header(args.baseline is not None))
        reference_table(args, work)
        end_to_end_table(args, work)
        gflops = kernel_gflops(bench)
        print("\nrevaluation kernel (BM_RevaluationKernel, median of 3): "
              + (f"{gflops:.2f} GFLOP/s" if gflops is not None else f"{bench} not built"))
        mpi_rate(args, work)
        if not args.no_memory:
            memory_table(args, work)


def end_to_end_table(args, work):
    """The 10-day horizon on 2 threads, end to end: wall time of the whole process."""
    exes = [("this", args.exe)] + ([("baseline", args.baseline)] if args.baseline else [])
    scale = 10 if args.quick else 1
    print(f"\nend to end, 10-day horizon, 2 threads (scenarios/s of the process's wall time, start-up and "
          f"outputs included; median of {args.repeat} interleaved runs)")
    for regime, n in (("calm", 1_000_000 // scale), ("stressed", 100_000 // scale)):
        extra = HORIZONS["10-day"] + REGIMES[regime]
        rates = {name: [] for name, _ in exes}
        for _ in range(args.repeat):
            for name, exe in exes:
                rates[name].append(n / run_once(exe, REFERENCE, n, 2, extra, work).wall)
        median = {name: statistics.median(r) for name, r in rates.items()}
        line = f"{regime:9} {n:>9,}  " + "  ".join(f"{name} {median[name]:>9,.0f}" for name, _ in exes)
        if args.baseline:
            line += f"  ratio {median['this'] / median['baseline']:.2f}x"
        print(line, flush=True)


def memory_table(args, work):
    """Maximum RSS of stressed runs at two sizes, ten times apart, and its growth."""
    sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    extra = REGIMES["stressed"] + ["--set", "outputs.ledger_columns=false"]
    exes = [("this", args.exe)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"\nmaximum RSS, stressed, 2 threads (MiB): {sizes[0]:,} and {sizes[1]:,} scenarios, growth")
    for name, exe in exes:
        rss = [run_once(exe, REFERENCE, n, 2, extra, work).rss for n in sizes]
        print(f"{name:9} {rss[0]:>8.1f} {rss[1]:>8.1f} {rss[1] / rss[0] - 1.0:>+8.1%}", flush=True)


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"\n({time.time() - start:.0f} s)")
