"""The day of each default (Result.defaults, defaults.csv) and the term structure of a run in time steps."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccpnet
from conftest import SCENARIOS

N = 8192
SEED = 5
STEPS = {"simulation.horizon_days": 10, "simulation.step_days": 1}


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False, na_values=["nan"])


@pytest.fixture(scope="module")
def model() -> ccpnet.Model:
    return ccpnet.load(SCENARIOS / "reference_network.yaml", overrides=STEPS)


@pytest.fixture(scope="module")
def result(model: ccpnet.Model) -> ccpnet.Result:
    return ccpnet.run(model, scenarios=N, seed=SEED, threads=2)


@pytest.fixture(scope="module")
def cli_output(ccpnet_exe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    sets = [arg for key, value in STEPS.items() for arg in ("--set", f"{key}={value}")]
    command = [str(ccpnet_exe), "run", str(SCENARIOS / "reference_network.yaml"), "-n", str(N), "--seed", str(SEED)]
    subprocess.run([*command, *sets, "--out", str(out), "--quiet"], check=True, capture_output=True)
    return out


def test_defaults_are_defaults_csv(result: ccpnet.Result, cli_output: Path) -> None:
    expected = read_csv(cli_output / "defaults.csv")
    assert list(result.defaults.columns) == ["scenario", "kind", "id", "group", "day", "round", "cause"]
    assert len(expected) > 0
    pd.testing.assert_frame_equal(result.defaults, expected, check_dtype=False, check_exact=True)


def test_one_member_row_per_default(result: ccpnet.Result) -> None:
    members = result.defaults[result.defaults["kind"] == "member"]
    per_scenario = members.groupby("scenario").size().reindex(result.scenarios["scenario"], fill_value=0)
    np.testing.assert_array_equal(per_scenario.to_numpy(), result.scenarios["member_defaults"].to_numpy())
    first = members.groupby("scenario")["day"].min().reindex(result.scenarios["scenario"], fill_value=-1.0)
    np.testing.assert_array_equal(first.to_numpy(), result.scenarios["first_default_day"].to_numpy())


def test_term_structure_is_the_summary_and_ends_at_the_totals(result: ccpnet.Result, cli_output: Path) -> None:
    ts = result.term_structure
    summary = json.loads((cli_output / "summary.json").read_text())
    assert result.summary == summary
    np.testing.assert_array_equal(ts["day"], np.arange(11.0))
    np.testing.assert_array_equal(ts["p_member_default_by_day"], summary["term_structure"]["p_member_default_by_day"])
    assert (np.diff(ts["p_member_default_by_day"]) >= 0).all()
    assert ts["p_member_default_by_day"].iloc[-1] == summary["system"]["p_any_member_default"]
    assert ts["mean_member_defaults_on_day"].sum() == pytest.approx(summary["system"]["mean_member_defaults"], rel=1e-12)
    assert (ts["p_member_default_by_day_lower"] <= ts["p_member_default_by_day"]).all()
    assert (ts["p_member_default_by_day"] <= ts["p_member_default_by_day_upper"]).all()
    # The mean default day given a default, per member: that of its rows.
    members = result.defaults[result.defaults["kind"] == "member"]
    by_member = members.groupby("id")["day"].mean()
    table = result.members.drop_duplicates("member").set_index("member")["mean_default_day"]
    np.testing.assert_allclose(table[by_member.index], by_member, rtol=1e-12)
    assert table.drop(by_member.index).isna().all()


def test_written_and_merged_results_keep_the_rows(result: ccpnet.Result, model: ccpnet.Model, tmp_path: Path,
                                                  cli_output: Path) -> None:
    out = result.write(tmp_path / "out")
    assert (out / "defaults.csv").read_bytes() == (cli_output / "defaults.csv").read_bytes()
    half = N // 2
    parts = [ccpnet.run(model, scenarios=N, seed=SEED, first=f, count=half) for f in (0, half)]
    merged = ccpnet.Result.merge(parts[0].model, parts)
    pd.testing.assert_frame_equal(merged.defaults, result.defaults, check_exact=True)
    pd.testing.assert_frame_equal(merged.term_structure, result.term_structure, check_exact=True)


def test_one_period_has_no_term_structure(two_ccp: Path) -> None:
    result = ccpnet.run(ccpnet.load(two_ccp), scenarios=500, seed=1)
    assert result.term_structure.empty
    assert "term_structure" not in result.summary
    assert (result.defaults["day"] == 0).all()
    with pytest.raises(ValueError, match="one period"):
        ccpnet.plot.term_structure(result)


def test_term_structure_figure(result: ccpnet.Result) -> None:
    figure = ccpnet.plot.term_structure(result)
    assert "some member has defaulted" in figure.svg and "some CCP has failed" in figure.svg
