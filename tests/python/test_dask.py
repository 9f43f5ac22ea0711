"""Runs over a Dask cluster merge into exactly the single-process result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import ccpnet
import ccpnet.dask

distributed = pytest.importorskip("distributed")

# Warnings of Debian's tornado/distributed pair, not of ccpnet.
pytestmark = [
    pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]

N = 3 * ccpnet.SCENARIO_CHUNK + 1000  # the last piece is not a whole chunk
SEED = 5


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def model(two_ccp: Path) -> ccpnet.Model:
    return ccpnet.load(two_ccp)


@pytest.fixture(scope="module")
def single(model: ccpnet.Model) -> ccpnet.Result:
    return ccpnet.run(model, scenarios=N, seed=SEED)


def assert_same_result(a: ccpnet.Result, b: ccpnet.Result) -> None:
    assert a.summary == b.summary
    for name in ["scenarios", "ccps", "members"]:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_ranges() -> None:
    chunk = ccpnet.SCENARIO_CHUNK
    assert ccpnet.dask.scenario_ranges(N, 1) == [(0, chunk), (chunk, chunk), (2 * chunk, chunk), (3 * chunk, 1000)]
    assert ccpnet.dask.scenario_ranges(N, chunk + 1) == [(0, 2 * chunk), (2 * chunk, chunk + 1000)]
    assert ccpnet.dask.scenario_ranges(10, 10**9) == [(0, 10)]
    with pytest.raises(ValueError):
        ccpnet.dask.scenario_ranges(10, 0)


@pytest.mark.parametrize("chunks", [ccpnet.SCENARIO_CHUNK, None])
def test_cluster_result_is_the_single_process_result(
    client: distributed.Client, model: ccpnet.Model, single: ccpnet.Result, chunks: int | None
) -> None:
    r = ccpnet.dask.run(model, N, client, chunks=chunks, seed=SEED)
    assert not r.partial
    assert_same_result(r, single)


def test_without_rows(client: distributed.Client, model: ccpnet.Model, single: ccpnet.Result) -> None:
    r = ccpnet.dask.run(model, N, client, chunks=2 * ccpnet.SCENARIO_CHUNK, seed=SEED, keep_scenarios=False)
    assert not r.has_scenarios
    assert r.summary == single.summary
    pd.testing.assert_frame_equal(r.ccps, single.ccps, check_exact=True)
