"""Runs over a Dask distributed cluster.

The scenario range of a run is cut into pieces that start on multiples of
:data:`ccpnet.SCENARIO_CHUNK` (the engine's aggregation chunk). Each piece runs
on a worker; the pieces are merged on the client into exactly the result one
process gives for the same scenario, seed and scenario count: every number of
the summary, every row, bit for bit.

Example
-------
>>> from distributed import Client, LocalCluster          # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
>>> r = ccpnet.dask.run(model, 1_000_000, client)
>>> r.summary["system"]["es99_total_loss"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccpnet import _core
from ccpnet._result import Result

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["run", "scenario_ranges"]


def scenario_ranges(scenarios: int, chunk: int) -> list[tuple[int, int]]:
    """Cut ``[0, scenarios)`` into ``(first, count)`` pieces that merge exactly.

    Parameters
    ----------
    scenarios : int
        Scenarios of the run.
    chunk : int
        Scenarios per piece, rounded up to a multiple of :data:`ccpnet.SCENARIO_CHUNK`.

    Returns
    -------
    list of (int, int)
        Every piece starts on a multiple of SCENARIO_CHUNK; only the last may be shorter.
    """
    if scenarios < 0:
        raise ValueError(f"scenarios: expected a count >= 0, found {scenarios}")
    if chunk < 1:
        raise ValueError(f"chunks: expected a number of scenarios >= 1, found {chunk}")
    step = -(-chunk // _core.SCENARIO_CHUNK) * _core.SCENARIO_CHUNK
    return [(first, min(step, scenarios - first)) for first in range(0, scenarios, step)] or [(0, 0)]


def _run_range(
    model: _core.Model, first: int, count: int, threads: int | None, batch: int | None, keep_scenarios: bool
) -> dict[str, Any]:
    """On a worker: run one piece and return its mergeable state."""
    core = _core.run(model, None, None, threads, batch, first=first, count=count, keep_scenarios=keep_scenarios)
    return core.to_state()


def run(
    model: _core.Model,
    scenarios: int | None = None,
    client: Client | None = None,
    chunks: int | None = None,
    *,
    seed: int | None = None,
    threads: int | None = 1,
    batch: int | None = None,
    keep_scenarios: bool = True,
) -> Result:
    """Run a model over a Dask cluster; the result equals :func:`ccpnet.run`'s.

    Parameters
    ----------
    model : Model
        The model; it is sent to each worker once (as its scenario text and
        overrides) and rebuilt there.
    scenarios : int, optional
        Scenarios of the run (default: the scenario's ``simulation.scenarios``).
    client : distributed.Client, optional
        The cluster (default: the current client, ``distributed.default_client()``).
    chunks : int, optional
        Scenarios per task, rounded up to a multiple of :data:`ccpnet.SCENARIO_CHUNK`.
        Default: about two tasks per worker thread.
    seed : int, optional
        Master seed (default: the scenario's ``seed``).
    threads : int, optional
        Engine threads per task (default 1: Dask runs one task per worker thread;
        None: the scenario's ``simulation.threads``).
    batch : int, optional
        Scenarios per batch (default: ``simulation.batch``).
    keep_scenarios : bool
        Bring the per-scenario rows back to the client.

    Returns
    -------
    Result
        Bit for bit the result of ``ccpnet.run(model, scenarios, seed)``;
        ``Result.seconds`` is the sum of the tasks' times.
    """
    from distributed import default_client

    if client is None:
        client = default_client()
    model = model.with_overrides(seed=seed, scenarios=scenarios)
    total = model.scenarios
    if chunks is None:
        workers = max(1, sum(client.nthreads().values()))
        chunks = max(1, -(-total // (2 * workers)))
    ranges = scenario_ranges(total, chunks)

    shared = client.scatter(model, broadcast=True)
    futures = client.map(
        _run_range,
        [shared] * len(ranges),
        [first for first, _ in ranges],
        [count for _, count in ranges],
        threads=threads,
        batch=batch,
        keep_scenarios=keep_scenarios,
    )
    try:
        states = client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise
    return Result(_core.merge(model, states))
