"""ccpnet.compare: the numbers of `ccpnet compare`, paired intervals, determinism, errors."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccpnet
import ccpnet.plot

from conftest import SCENARIOS, ctrl_c_soon

N = 4096
SEED = 3
Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal


@pytest.fixture(scope="module")
def mesh() -> Path:
    """Topology variants (no links, chain, hub, mesh, one global CCP) of a full mesh."""
    return SCENARIOS / "full_mesh.yaml"


@pytest.fixture(scope="module")
def cli_compare(ccpnet_exe: Path, mesh: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("cli") / "compare"
    done = subprocess.run(
        [str(ccpnet_exe), "compare", str(mesh), "-n", str(N), "--set", f"seed={SEED}", "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out, done.stdout, done.stderr


@pytest.fixture(scope="module")
def comparison(mesh: Path) -> ccpnet.Comparison:
    return ccpnet.compare(ccpnet.load(mesh), scenarios=N, seed=SEED, threads=2, keep_per_scenario=True)


def test_same_numbers_as_the_cli(comparison: ccpnet.Comparison, cli_compare: tuple[Path, str, str]) -> None:
    out, stdout, stderr = cli_compare
    expected = json.loads((out / "compare.json").read_text())
    assert comparison.summary == expected
    assert stdout == comparison.text + f"outputs: {out}/\n"
    assert stderr == "".join(f"warning: {w}\n" for w in comparison.warnings)
    assert comparison.names == [v["name"] for v in expected["variants"]]
    assert comparison.scenarios == N and comparison.model.seed == SEED


def test_tables(comparison: ccpnet.Comparison) -> None:
    v = comparison.variants
    assert list(v["variant"]) == comparison.names
    assert list(v.columns[4:]) == comparison.metrics
    for i, row in v.iterrows():
        entry = comparison.summary["variants"][i]
        assert row["total_initial_margin"] == entry["total_initial_margin"]
        assert row[comparison.metrics].to_dict() == entry["means"]
    d = comparison.differences
    assert len(d) == (len(comparison.names) - 1) * len(comparison.metrics)
    assert ((d["lo"] <= d["mean"]) & (d["mean"] <= d["hi"])).all()
    assert comparison.summaries["base"]["scenarios"] == N


def test_paired_differences_recomputed(comparison: ccpnet.Comparison) -> None:
    # The paired mean and its 95% interval, mean(d) +- z sd(d) / sqrt(n) with
    # d_i = x_i(variant) - x_i(base), recomputed with numpy from the per-scenario metrics.
    base = comparison.per_scenario("base")
    assert len(base) == N
    diffs = comparison.differences.set_index(["variant", "metric"])
    for name in comparison.names[1:]:
        frame = comparison.per_scenario(name)
        for metric in comparison.metrics:
            d = frame[metric].to_numpy() - base[metric].to_numpy()
            mean = d.mean()
            half = Z95 * d.std(ddof=1) / np.sqrt(len(d))
            row = diffs.loc[(name, metric)]
            scale = max(abs(mean), half, 1e-300)
            assert row["mean"] == pytest.approx(mean, abs=1e-9 * scale)
            assert row["lo"] == pytest.approx(mean - half, abs=1e-9 * scale)
            assert row["hi"] == pytest.approx(mean + half, abs=1e-9 * scale)
    # Levels: the variant table's means are the per-scenario means.
    means = comparison.variants.set_index("variant")
    assert means.loc["no links", "any_ccp_fail"] == pytest.approx(comparison.per_scenario(1)["any_ccp_fail"].mean())


def test_common_random_numbers(comparison: ccpnet.Comparison, mesh: Path) -> None:
    # The base of a comparison is the plain run of the same model, seed and count.
    run = ccpnet.run(ccpnet.load(mesh), scenarios=N, seed=SEED)
    base = comparison.per_scenario("base")
    np.testing.assert_array_equal(base["total_loss"].to_numpy(), run.scenarios["total_loss"].to_numpy())
    np.testing.assert_array_equal(base["member_defaults"].to_numpy(), run.scenarios["member_defaults"].to_numpy())
    assert comparison.summaries["base"] == run.summary


def test_same_result_for_any_thread_count(comparison: ccpnet.Comparison, mesh: Path) -> None:
    model = ccpnet.load(mesh)
    for threads in (1, 3):
        other = ccpnet.compare(model, scenarios=N, seed=SEED, threads=threads, keep_per_scenario=threads == 1)
        assert other.summary == comparison.summary
        if threads != 1:
            continue
        for name in comparison.names:
            pd.testing.assert_frame_equal(other.per_scenario(name), comparison.per_scenario(name), check_exact=True)


def test_per_scenario_arrays_share_memory(comparison: ccpnet.Comparison) -> None:
    frame = comparison.per_scenario("hub (CCP_EU)")
    column = frame["total_loss"].to_numpy()
    assert not column.flags.writeable
    with pytest.raises(KeyError, match="no variant 'nope'"):
        comparison.per_scenario("nope")
    with pytest.raises(IndexError):
        comparison.per_scenario(99)


def test_per_scenario_values_only_when_kept(comparison: ccpnet.Comparison, mesh: Path) -> None:
    # By default the paired statistics stream and no per-scenario value is kept;
    # the numbers are those of the comparison that kept them.
    streamed = ccpnet.compare(ccpnet.load(mesh), scenarios=N, seed=SEED, threads=2)
    assert streamed.summary == comparison.summary
    with pytest.raises(ValueError, match="keep_per_scenario=True"):
        streamed.per_scenario("base")


def test_plot_and_report(comparison: ccpnet.Comparison, tmp_path: Path) -> None:
    fig = ccpnet.plot.compare(comparison)
    for name in comparison.names[1:]:
        assert fig.svg.count(f">{name}</text>") >= 5  # one row per headline metric
    html = comparison.report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Paired differences to the base" in html


VARIANTS = """\
name: two waterfalls
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
ccps:
  - id: A
    capital: 1.0e6
members:
  - {id: M1, capital: 1.0e5, positions: {A: {BTC: 10}}}
  - {id: M2, capital: 1.0e5, positions: {A: {BTC: -10}}}
defaults: {latent: {pd: 0.05, beta: 0.5}}
variants:
  - name: more capital
    set: ["ccps.A.capital=2.0e6"]
"""


def test_errors_name_the_key() -> None:
    model = ccpnet.Model.from_text(VARIANTS, "variants.yaml")
    assert ccpnet.compare(model, scenarios=256).names == ["base", "more capital"]
    # A variant's entries are checked with the file, located at the entry.
    with pytest.raises(ccpnet.ScenarioError) as e:
        ccpnet.Model.from_text(VARIANTS.replace("capital=2.0e6", "capital=-1"), "variants.yaml")
    assert [d["path"] for d in e.value.diagnostics] == ["variants[0].set[0]"]
    assert "variant 'more capital': ccps[0].capital: expected a value >= 0" in str(e.value)
    with pytest.raises(ccpnet.ScenarioError) as e:
        ccpnet.Model.from_text(VARIANTS.replace("capital=2.0e6", "capitol=2"), "variants.yaml")
    assert "capitol" in str(e.value)
    with pytest.raises(ccpnet.ScenarioError, match="simulation.scenarios"):
        ccpnet.compare(model, scenarios=0)
    with pytest.raises(ccpnet.ScenarioError, match="seed"):
        ccpnet.compare(model, seed=-1)
    with pytest.raises(ValueError, match="threads"):
        ccpnet.compare(model, threads=-2)
    with pytest.raises(TypeError):
        ccpnet.compare(model, scenarios=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ccpnet.Comparison("not a comparison")  # type: ignore[arg-type]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_interrupts(mesh: Path) -> None:
    model = ccpnet.load(mesh)
    with ctrl_c_soon(), pytest.raises(KeyboardInterrupt):
        ccpnet.compare(model, scenarios=1_000_000_000, threads=2)
