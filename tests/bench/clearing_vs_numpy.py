"""Batched Eisenberg-Noe clearing: ccpnet (C++) against numpy/scipy.sparse.

Both sides run the same algorithm on the same inputs, in the same process:
for every scenario s, the monotone decreasing (Jacobi) iteration

    p <- min(pbar, max(0, E[:, s] + Pi' p))   from p = pbar,

stopped when no payment moves by more than 1e-12 * pbar[i]. numpy iterates
all scenarios at once, one (sparse or dense) matrix product per step, and
drops the scenarios that have converged; ccpnet runs eight scenarios side by
side in SIMD lanes, gives a lane the next scenario as soon as its own has
converged, and propagates only the changes of the payments. Both timings
include building Pi from L.

Two systems, each with 1,000 shock scenarios: a sparse directed random
network of 1,000 banks with ~15 creditors each, and a dense one of 1,000
banks (everyone owes everyone). Balance sheets: interbank assets ~40% of
total assets, 4% equity, the rest external debt (pari passu, or senior with
--senior); a scenario is a loss on every bank's external assets, common
U(0, --common-loss) plus idiosyncratic U(0, --idiosyncratic-loss). The
outputs are checked equal (to 1e-9 relative to pbar) before anything is
timed. Times are the best of --repeat runs, wall clock and CPU time of this
process.

Usage: python3 tests/bench/clearing_vs_numpy.py [--banks N] [--scenarios S] [--senior] ...
with the package on PYTHONPATH (the python/ directory of a build tree).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy
import scipy.sparse as sp

from ccpnet import clearing

TOLERANCE = 1e-12
MAX_ITERATIONS = 100_000


def numpy_batch(L, E, d, senior=False, tolerance=TOLERANCE, max_iterations=MAX_ITERATIONS):
    """The same iteration, vectorised over scenarios; L dense (numpy) or sparse (scipy CSR), d the external
    debt. Senior external debt: the iteration runs on interbank payments q with pbar the interbank obligations
    and assets E - d, and the total payment is min(d, max(0, E + Pi' q)) + q."""
    owed = np.asarray(L.sum(axis=1)).ravel()
    pbar = owed if senior else owed + d
    inverse = np.divide(1.0, pbar, out=np.zeros_like(pbar), where=pbar > 0)
    if sp.issparse(L):
        pi_t = sp.csr_matrix(sp.diags(inverse) @ L).T.tocsr()
    else:
        pi_t = np.ascontiguousarray((inverse[:, None] * L).T)
    n, scenarios = E.shape
    payments = np.empty((n, scenarios))
    iterations = np.zeros(scenarios, dtype=np.int64)
    cap = pbar[:, None]
    threshold = tolerance * cap
    active = np.arange(scenarios)
    assets = E - d[:, None] if senior else E
    x = np.repeat(cap, scenarios, axis=1)
    for k in range(1, max_iterations + 1):
        nxt = np.minimum(cap, np.maximum(0.0, assets + pi_t @ x))
        done = np.all(np.abs(nxt - x) <= threshold, axis=0)
        if done.any():
            payments[:, active[done]] = nxt[:, done]
            iterations[active[done]] = k
            keep = ~done
            active, assets, x = active[keep], assets[:, keep], nxt[:, keep]
            if active.size == 0:
                break
        else:
            x = nxt
    else:
        raise RuntimeError("numpy reference did not converge")
    if senior:
        received = pi_t @ payments
        payments = np.minimum(d[:, None], np.maximum(0.0, E + received)) + payments
    return payments, iterations


def sparse_network(banks, degree, rng):
    """Directed Erdos-Renyi liabilities (log-normal sizes) with ~`degree` creditors per bank."""
    links = sp.random(banks, banks, density=degree / (banks - 1), format="coo", random_state=rng)
    keep = links.row != links.col
    sizes = rng.lognormal(0.0, 1.0, keep.sum())
    return sp.csr_matrix((sizes, (links.row[keep], links.col[keep])), shape=(banks, banks))


def dense_network(banks, rng):
    """Everyone owes everyone: uniform sizes, zero diagonal."""
    L = rng.uniform(0.0, 1.0, (banks, banks))
    np.fill_diagonal(L, 0.0)
    return L


def balance_sheets(L, capital=0.04):
    """External assets e and external debt d around the interbank book: interbank assets are ~40% of total
    assets, equity is `capital` of total assets, external debt is the rest of the liabilities."""
    owed = np.asarray(L.sum(axis=1)).ravel()
    owed_to = np.asarray(L.sum(axis=0)).ravel()
    e = 1.5 * (owed_to + owed_to.mean())
    total_assets = e + owed_to
    d = (1.0 - capital) * total_assets - owed
    short = d < 0  # interbank debt alone exceeds the liabilities wanted: add external assets instead
    e[short] -= d[short]
    d[short] = 0.0
    return e, d


def shocks(e, scenarios, rng, common=0.04, idiosyncratic=0.06):
    """Per scenario, a loss on every bank's external assets: a common part ~ U(0, common) plus an
    idiosyncratic part ~ U(0, idiosyncratic). Column s is scenario s."""
    loss = rng.uniform(0.0, common, scenarios)[None, :] + rng.uniform(0.0, idiosyncratic, (e.size, scenarios))
    return e[:, None] * (1.0 - loss)


def best_time(function, repeat):
    """Best of `repeat` runs: (wall seconds, CPU seconds of this process)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def compare(name, L, E, d, senior, repeat):
    pbar = np.asarray(L.sum(axis=1)).ravel() + d
    ours = clearing.eisenberg_noe_batch(L, E, d, senior, TOLERANCE, MAX_ITERATIONS)
    theirs, iterations = numpy_batch(L, E, d, senior)
    if not ours.converged:
        raise AssertionError(f"{name}: ccpnet did not converge in {MAX_ITERATIONS} iterations")
    error = np.max(np.abs(ours.payments - theirs) / np.where(pbar > 0, pbar, 1.0)[:, None])
    if error > 1e-9:
        raise AssertionError(f"{name}: ccpnet and numpy differ by {error:.2e} relative to pbar")
    if not np.array_equal(ours.iterations, iterations):
        print(f"  note: iteration counts differ in {np.sum(ours.iterations != iterations)} scenarios")
    defaults = (ours.payments < pbar[:, None] * (1 - 1e-12)).sum(axis=0)

    scenarios = E.shape[1]
    wall_ours, cpu_ours = best_time(
        lambda: clearing.eisenberg_noe_batch(L, E, d, senior, TOLERANCE, MAX_ITERATIONS), repeat
    )
    wall_theirs, cpu_theirs = best_time(lambda: numpy_batch(L, E, d, senior), repeat)
    links = L.nnz if sp.issparse(L) else np.count_nonzero(L)
    print(f"{name}: {L.shape[0]} banks, {links} liabilities, {scenarios} scenarios")
    print(f"  defaults per scenario: mean {defaults.mean():.1f}, max {defaults.max()};"
          f" iterations: mean {iterations.mean():.1f}, max {iterations.max()}")
    print(f"  outputs equal: max |difference| / pbar = {error:.1e}")
    print("  time per scenario            wall        CPU")
    print(f"  ccpnet (C++, batched)   {1e6 * wall_ours / scenarios:9.1f} us {1e6 * cpu_ours / scenarios:9.1f} us")
    print(f"  numpy/scipy (vectorised){1e6 * wall_theirs / scenarios:9.1f} us {1e6 * cpu_theirs / scenarios:9.1f} us")
    print(f"  speed-up                {wall_theirs / wall_ours:9.1f} x  {cpu_theirs / cpu_ours:9.1f} x")
    return cpu_theirs / cpu_ours


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--banks", type=int, default=1000)
    parser.add_argument("--degree", type=float, default=15.0)
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--senior", action="store_true", help="external debt senior to interbank debt")
    parser.add_argument("--systems", default="sparse,dense", help="comma-separated: sparse, dense")
    parser.add_argument("--common-loss", type=float, default=0.04, help="common loss ~ U(0, this)")
    parser.add_argument("--idiosyncratic-loss", type=float, default=0.06, help="bank loss ~ U(0, this)")
    args = parser.parse_args()
    loss = {"common": args.common_loss, "idiosyncratic": args.idiosyncratic_loss}
    priority = "senior" if args.senior else "pari passu"
    print(f"numpy {np.__version__}, scipy {scipy.__version__}; losses on external assets: {loss};"
          f" external debt {priority}")
    rng = np.random.default_rng(args.seed)

    systems = args.systems.split(",")
    L = sparse_network(args.banks, args.degree, rng)
    e, d = balance_sheets(L)
    E = shocks(e, args.scenarios, rng, **loss)
    if "sparse" in systems:
        compare("sparse", L, E, d, args.senior, args.repeat)
    L = dense_network(args.banks, rng)
    e, d = balance_sheets(L)
    E = shocks(e, args.scenarios, rng, **loss)
    if "dense" in systems:
        compare("dense", L, E, d, args.senior, args.repeat)


if __name__ == "__main__":
    main()
