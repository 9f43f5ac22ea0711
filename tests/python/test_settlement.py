"""The settlement layer from Python: the same numbers as the CLI, tables per chain
and bridge, and the instant-settlement comparison on common random numbers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import ccpnet

from conftest import SCENARIOS

N = 8192
SEED = 5


@pytest.fixture(scope="module")
def squeeze() -> Path:
    return SCENARIOS / "settlement_squeeze.yaml"


@pytest.fixture(scope="module")
def cli_run(ccpnet_exe: Path, squeeze: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("settle") / "run"
    subprocess.run(
        [str(ccpnet_exe), "run", str(squeeze), "-n", str(N), "--seed", str(SEED), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def result(squeeze: Path) -> ccpnet.Result:
    return ccpnet.run(ccpnet.load(squeeze), scenarios=N, seed=SEED, threads=2)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False)


def test_same_numbers_as_the_cli(result: ccpnet.Result, cli_run: Path) -> None:
    assert result.summary == json.loads((cli_run / "summary.json").read_text())
    pd.testing.assert_frame_equal(
        result.scenarios, read_csv(cli_run / "scenarios.csv"), check_dtype=False, check_exact=True
    )
    pd.testing.assert_frame_equal(result.chains, read_csv(cli_run / "chains.csv"), check_dtype=False, check_exact=True)
    pd.testing.assert_frame_equal(result.ccps, read_csv(cli_run / "ccps.csv"), check_dtype=False, check_exact=True)


def test_settlement_columns_and_tables(result: ccpnet.Result) -> None:
    s = result.scenarios
    for column in ("liquidity_shortfall", "settlement_fails", "principal_lost", "late_inflows", "settlement_defaults"):
        assert column in s.columns
    assert (s["settlement_defaults"] <= s["member_defaults"]).all()
    assert list(result.chains["chain"]) == ["ethereum", "bitcoin"]
    assert result.bridges.empty
    # The calm calibration is the mean; congestion only lengthens it.
    chains = result.chains.set_index("chain")
    assert (chains["mean_finality_hours"] >= chains["calm_mean_hours"] * 0.9).all()
    assert result.summary["settlement"]["mean_settlement_defaults"] > 0


def test_instant_settlement_has_fewer_defaults_on_the_same_numbers(squeeze: Path) -> None:
    delayed = ccpnet.run(ccpnet.load(squeeze), scenarios=N, seed=SEED)
    instant = ccpnet.run(ccpnet.load(squeeze, overrides={"settlement.instant": "true"}), scenarios=N, seed=SEED)
    assert "settlement" not in instant.summary
    d, i = delayed.scenarios, instant.scenarios
    assert (d["market_factor"] == i["market_factor"]).all()  # common random numbers
    # Settlement delay never helps a member: scenario by scenario, no fewer defaults.
    assert (d["member_defaults"] >= i["member_defaults"]).all()
    assert d["member_defaults"].sum() > i["member_defaults"].sum()


def test_merged_states_carry_the_settlement_sums(result: ccpnet.Result) -> None:
    # What ccpnet.dask does: ranges on chunk boundaries, states merged.
    m = result.model
    half = N // 2
    assert half % ccpnet.SCENARIO_CHUNK == 0
    parts = [ccpnet.run(m, first=half, count=half), ccpnet.run(m, first=0, count=half)]
    merged = ccpnet.Result.merge(m, [p.to_state() for p in parts])
    assert merged.summary == result.summary
    pd.testing.assert_frame_equal(merged.chains, result.chains, check_exact=True)
