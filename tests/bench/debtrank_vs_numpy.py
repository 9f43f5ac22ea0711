"""DebtRank of many shocks: ccpnet (C++) against a vectorised numpy/scipy.sparse DebtRank.

Both sides run the same recursions on the same inputs, in the same process:
single hit (Battiston et al. 2012), each bank passing on its distress in the
round after it first appears,

    h(t) = min(1, h(t-1) + W' s(t-1)),   s = h on the newly distressed banks, 0 elsewhere,

and linear (Bardoscia et al. 2015), every increase passing on until none is
larger than 1e-14, h(t+1) = min(1, h(t) + W' (h(t) - h(t-1))). numpy/scipy
iterates all shocks at once, one sparse-times-dense product W' S per round
(S: n x shocks), and drops the shocks that have ended; ccpnet propagates eight
shocks side by side and pushes only the banks that spread, along their rows of
W. Both timings include building what each needs from W (numpy: W' in CSR;
ccpnet: the CSR copy into C++).

The network: 1,000 banks, ~5 links each (directed Erdos-Renyi, log-normal
exposures); each bank's equity is a quarter of its interbank assets (equity
10%, interbank assets 40% of total assets), W(i, j) = min(1, exposure of j to
i / equity of j); value: total assets. Shock s is the default of bank s
(h0 = e_s), so S shocks give the DebtRank of banks 0 .. S-1. The outputs are
checked equal (distress to 1e-12) before anything is timed. Times are the best
of --repeat runs, wall clock and CPU time of this process. --one-by-one also
times one ccpnet call per shock with a dense W (the only form ccpnet first
took), which runs on any ccpnet build.

Usage: python3 tests/bench/debtrank_vs_numpy.py [--banks N] [--shocks 1,64,1000] [--one-by-one] ...
with the package on PYTHONPATH (the python/ directory of a build tree).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy
import scipy.sparse as sp

from ccpnet import clearing

TOLERANCE = 1e-14  # the linear variant's stopping rule, as in ccpnet


def numpy_debtrank(W, H0, value, linear=False, tolerance=TOLERANCE, max_iterations=100_000):
    """(distress n x S, DebtRank per shock, rounds per shock), all shocks at once on W' (scipy CSR)."""
    w_t = sp.csr_matrix(W).T.tocsr()
    v = value / value.sum()
    H = H0.copy()
    rounds = np.zeros(H0.shape[1], dtype=np.int64)
    spread = H0.copy()  # both variants pass on h0 in the first round
    active = np.arange(H0.shape[1])
    if not linear:  # a shock distressing nobody ends after no round
        moving = spread.max(axis=0) > 0.0
        active, spread = active[moving], spread[:, moving]
    for k in range(1, max_iterations + 1):
        if active.size == 0:
            break
        before = H[:, active]
        after = np.minimum(1.0, before + w_t @ spread)
        spread = after - before if linear else np.where(before > 0.0, 0.0, after)
        H[:, active] = after
        moving = spread.max(axis=0) > (tolerance if linear else 0.0)
        rounds[active[~moving]] = k
        active, spread = active[moving], spread[:, moving]
    else:
        raise RuntimeError("numpy reference did not converge")
    return H, v @ (H - H0), rounds


def network(banks, degree, rng):
    """Impact matrix W (scipy CSR) and total assets: see the module docstring."""
    links = sp.random(banks, banks, density=degree / (banks - 1), format="coo", random_state=rng)
    keep = links.row != links.col
    exposure = rng.lognormal(0.0, 1.0, keep.sum())  # exposure of bank col to bank row
    rows, cols = links.row[keep], links.col[keep]
    interbank_assets = np.bincount(cols, weights=exposure, minlength=banks)
    equity = 0.25 * interbank_assets
    W = sp.csr_matrix((np.minimum(1.0, exposure / equity[cols]), (rows, cols)), shape=(banks, banks))
    total_assets = np.where(interbank_assets > 0, interbank_assets / 0.4, 1.0)
    return W, total_assets


def best_time(function, repeat):
    """Best of `repeat` runs: (wall seconds, CPU seconds of this process)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def one_by_one(W_dense, H0, value, linear):
    """One ccpnet call per shock with the dense matrix."""
    return [clearing.debtrank(W_dense, H0[:, s], linear=linear, value=value) for s in range(H0.shape[1])]


def compare(W, value, shocks, linear, repeat, with_one_by_one):
    n = W.shape[0]
    H0 = np.eye(n, shocks)
    variant = "linear" if linear else "single hit"
    theirs, theirs_r, rounds = numpy_debtrank(W, H0, value, linear)
    times = {"numpy/scipy (vectorised)": best_time(lambda: numpy_debtrank(W, H0, value, linear), repeat)}
    if hasattr(clearing, "BatchDebtRankResult"):  # ccpnet with batched sparse DebtRank
        ours = clearing.debtrank(W, H0, linear=linear, value=value)
        error = np.max(np.abs(ours.distress - theirs))
        if error > 1e-12 or not np.array_equal(ours.iterations, rounds):
            raise AssertionError(f"{variant}, {shocks} shocks: ccpnet and numpy differ by {error:.1e}")
        batched = best_time(lambda: clearing.debtrank(W, H0, linear=linear, value=value), repeat)
        times["ccpnet (sparse, batched)"] = batched
    if with_one_by_one:
        W_dense = W.toarray()
        results = one_by_one(W_dense, H0, value, linear)
        error = max(np.max(np.abs(r.distress - theirs[:, s])) for s, r in enumerate(results))
        if error > 1e-12:
            raise AssertionError(f"{variant}, {shocks} shocks: ccpnet one by one and numpy differ by {error:.1e}")
        times["ccpnet (dense, one call per shock)"] = best_time(lambda: one_by_one(W_dense, H0, value, linear), repeat)
    print(f"{variant}, {shocks} shocks: DebtRank mean {theirs_r.mean():.4f}, rounds mean {rounds.mean():.1f}")
    print("  time per shock                          wall         CPU   numpy CPU / this CPU")
    numpy_cpu = times["numpy/scipy (vectorised)"][1]
    for name, (wall, cpu) in times.items():
        print(f"  {name:34s} {1e6 * wall / shocks:9.1f} us {1e6 * cpu / shocks:9.1f} us {numpy_cpu / cpu:9.2f} x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--banks", type=int, default=1000)
    parser.add_argument("--degree", type=float, default=5.0)
    parser.add_argument("--shocks", default="1,64,1000", help="comma-separated numbers of shocks")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--one-by-one", action="store_true", help="also time one ccpnet call per shock (dense W)")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, scipy {scipy.__version__}")
    W, value = network(args.banks, args.degree, np.random.default_rng(args.seed))
    print(f"{args.banks} banks, {W.nnz} links")
    for linear in (False, True):
        for shocks in (int(s) for s in args.shocks.split(",")):
            compare(W, value, min(shocks, args.banks), linear, args.repeat, args.one_by_one)


if __name__ == "__main__":
    main()
