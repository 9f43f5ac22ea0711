"""The metrics the engine declares once: ccpnet.metrics(), Result.metrics, what compare compares."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
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
    assert set(d["unit"]) <= {"USD", "count", "scenarios", "fraction", "mixed", "days"}
    assert (d["doc"].str.len() > 10).all()
    # A 0/1 flag per scenario adds up as an integer count.
    assert (d.loc[d["unit"] == "scenarios", "aggregation"] == "count").all()
    compared = d[d["compare"]]
    assert (compared["level"] == "system").all() and (compared["title"] != "").all()


def test_values_are_the_summary(result: ccpnet.Result) -> None:
    m = result.metrics
    assert list(m.columns) == [
        "metric", "level", "item", "unit", "aggregation", "total", "value",
        "standard_error", "lower", "upper", "interval",
    ]  # fmt: skip
    declared = ccpnet.metrics()
    # Every declared metric has its values (the settlement ones only with a settlement layer, the
    # default-management ones only with ccps[].auction or recovery, the peak liquidity needs and
    # the term structure only in time steps).
    optional = declared["level"].isin(
        ["ccp_settlement", "chain", "bridge", "ccp_recovery", "steps", "ccp_steps", "member_steps", "step_days",
         "member_days"]
    )
    assert set(m["metric"]) == set(declared.loc[~optional, "name"])
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
    c = ccpnet.compare(
        ccpnet.load(SCENARIOS / "full_mesh.yaml"), scenarios=1024, seed=SEED, threads=2, keep_per_scenario=True
    )
    declared = ccpnet.metrics()
    assert c.metrics == list(declared.loc[declared["compare"], "name"])
    frame = c.per_scenario("base")
    assert list(frame.columns) == c.metrics
    # The base's per-scenario flags and counts are its run's: P(any CCP fails) and mean member defaults.
    base = c.summaries["base"]["system"]
    assert frame["any_ccp_fail"].mean() == pytest.approx(base["p_any_ccp_fail"], rel=1e-12, abs=0)
    assert frame["member_defaults"].mean() == pytest.approx(base["mean_member_defaults"], rel=1e-12)
    assert c.variants.set_index("variant").loc["base", "any_ccp_fail"] == frame["any_ccp_fail"].mean()


def test_intervals_match_scipy_on_the_scenario_rows(model: ccpnet.Model) -> None:
    # The summary's standard errors and 95% intervals against the same
    # statistics computed here from the per-scenario rows with scipy (not with
    # ccpnet): Wilson for probabilities, the CLT for means, order statistics at
    # exact binomial ranks for quantiles.
    from scipy import stats

    r = ccpnet.run(model, threads=2)
    rows, system, n = r.scenarios, r.summary["system"], r.completed
    z = stats.norm.ppf(0.975)

    def wilson(k: int) -> tuple[float, float]:
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    defaults = int((rows["member_defaults"] >= 2).sum())  # the file's exogenous default is in every scenario
    assert 0 < defaults < n
    assert system["p_member_defaults_at_least_ci95"]["2"] == pytest.approx(wilson(defaults), rel=1e-12)
    se = np.sqrt(defaults / n * (1 - defaults / n) / n)
    assert system["p_member_defaults_at_least_se"]["2"] == pytest.approx(se, rel=1e-12)
    for column, key in [("total_loss", "expected_total_loss"), ("member_defaults", "mean_member_defaults")]:
        x = rows[column].to_numpy(dtype=float)
        assert system[f"{key}_se"] == pytest.approx(stats.sem(x), rel=1e-9)
        lo, hi = stats.norm.interval(0.95, loc=x.mean(), scale=stats.sem(x))
        assert system[f"{key}_ci95"] == pytest.approx([max(0.0, lo), hi], rel=1e-9)
    for ccp, e in r.summary["ccps"].items():
        x = rows[f"loss_{ccp}"].to_numpy()
        assert e["expected_loss_se"] == pytest.approx(stats.sem(x), rel=1e-9, abs=1e-9)
        k = int(rows[f"failed_{ccp}"].sum())
        assert e["p_fail_ci95"] == pytest.approx(wilson(k), rel=1e-12, abs=1e-15)
    # Quantile: lower rank = max r with P(B <= r-1) <= 0.025, upper = min s with P(B >= s) <= 0.025.
    b = stats.binom(n, 0.99)
    ranks = np.arange(1, n + 1)
    lower = ranks[b.cdf(ranks - 1) <= 0.025].max()
    upper = ranks[b.sf(ranks - 1) <= 0.025].min()
    ordered = np.sort(rows["total_loss"].to_numpy())
    assert system["p99_total_loss_ci95"] == [ordered[lower - 1], ordered[upper - 1]]
    assert ordered[lower - 1] <= system["p99_total_loss"] <= ordered[upper - 1]
    # The metrics table carries the same intervals.
    m = r.metrics.set_index(["metric", "item"])
    assert m.loc[("total_loss", ""), "lower"] == system["expected_total_loss_ci95"][0]
    assert m.loc[("any_ccp_fail", ""), "interval"] == "wilson"
    assert m.loc[("total_loss", ""), "interval"] == "clt"
