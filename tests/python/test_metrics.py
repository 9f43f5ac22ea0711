"""The metrics the engine declares once: ccpnet.metrics(), Result.metrics, what compare compares."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

import ccpnet

from conftest import SCENARIOS

N = 3 * ccpnet.SCENARIO_CHUNK + 1000
SEED = 5


@pytest.fixture(scope="module")
def model(two_ccp: Path) -> ccpnet.Model:
    # Random defaults on top of the file's, so that every kind of metric has values.
    return ccpnet.load(two_ccp, ["defaults.latent={pd: 0.05, beta: 0.6}", f"simulation.scenarios={N}", f"seed={SEED}"])


@pytest.fixture(scope="module")
def result(model: ccpnet.Model) -> ccpnet.Result:
    return ccpnet.run(model, threads=2, keep_scenarios=False)


def test_declarations() -> None:
    d = ccpnet.metrics()
    assert list(d.columns) == ["name", "unit", "level", "aggregation", "compare", "optional", "title", "doc"]
    assert d["name"].is_unique
    assert set(d["aggregation"]) == {"sum", "count", "max"}
    assert set(d["unit"]) <= {"USD", "count", "scenarios", "fraction", "mixed"}
    assert (d["doc"].str.len() > 10).all()
    # A 0/1 flag per scenario adds up as an integer count.
    assert (d.loc[d["unit"] == "scenarios", "aggregation"] == "count").all()
    compared = d[d["compare"]]
    assert (compared["level"] == "system").all() and (compared["title"] != "").all()


def test_values_are_the_summary(result: ccpnet.Result) -> None:
    m = result.metrics
    assert list(m.columns) == ["metric", "level", "item", "unit", "aggregation", "total", "value"]
    declared = ccpnet.metrics()
    # Every declared metric has its values (the settlement ones only with a settlement layer).
    settlement = declared["level"].isin(["ccp_settlement", "chain", "bridge"])
    assert set(m["metric"]) == set(declared.loc[~settlement, "name"])
    value = m.set_index(["metric", "item"])["value"]
    system, ccps = result.summary["system"], result.summary["ccps"]
    assert value["any_ccp_fail", ""] == system["p_any_ccp_fail"]
    assert value["any_member_default", ""] == system["p_any_member_default"]
    assert value["member_defaults", ""] == system["mean_member_defaults"]
    assert value["cascade_rounds", ""] == system["mean_cascade_rounds"]
    assert value["total_loss", ""] == system["expected_total_loss"]
    assert value["ledger_max_relative_error", ""] == system["ledger_max_relative_error"]
    assert system["p_any_member_default"] > 0.0
    for ccp, e in ccps.items():
        assert value["ccp_fails", ccp] == e["p_fail"]
        assert value["ccp_loss", ccp] == e["expected_loss"]
        assert value["ccp_df_depletion", ccp] == e["df_depletion"]["mean"]
        for layer, loss in e["layer_losses"].items():
            assert value["ccp_layer_loss", f"{ccp}/{layer}"] == loss
        for column, loss in e["ledger"].items():
            assert value["ccp_ledger", f"{ccp}/{column}"] == loss
    totals = m.set_index(["metric", "item"])["total"]
    assert totals["any_member_default", ""] == round(system["p_any_member_default"] * N)


def test_merged_parts_have_the_same_metrics(model: ccpnet.Model, result: ccpnet.Result) -> None:
    # Parts carried as pickled states (their aggregates as CBOR), merged out of order.
    chunk = ccpnet.SCENARIO_CHUNK
    parts = [
        ccpnet.run(model, first=first, count=count, threads=1, keep_scenarios=False)
        for first, count in [(0, chunk), (chunk, 2 * chunk), (3 * chunk, N - 3 * chunk)]
    ]
    states = [pickle.loads(pickle.dumps(p.to_state())) for p in reversed(parts)]
    merged = ccpnet.Result.merge(model, states)
    pd.testing.assert_frame_equal(merged.metrics, result.metrics, check_exact=True)
    assert merged.summary == result.summary


def test_compare_reads_the_declared_metrics_by_name() -> None:
    c = ccpnet.compare(ccpnet.load(SCENARIOS / "full_mesh.yaml"), scenarios=1024, seed=SEED, threads=2)
    declared = ccpnet.metrics()
    assert c.metrics == list(declared.loc[declared["compare"], "name"])
    frame = c.per_scenario("base")
    assert list(frame.columns) == c.metrics
    # The base's per-scenario flags and counts are its run's: P(any CCP fails) and mean member defaults.
    base = c.summaries["base"]["system"]
    assert frame["any_ccp_fail"].mean() == pytest.approx(base["p_any_ccp_fail"], rel=1e-12, abs=0)
    assert frame["member_defaults"].mean() == pytest.approx(base["mean_member_defaults"], rel=1e-12)
    assert c.variants.set_index("variant").loc["base", "any_ccp_fail"] == frame["any_ccp_fail"].mean()
