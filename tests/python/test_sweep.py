"""ccpnet sweep / ccpnet.sweep: a grid on common random numbers into one tidy table."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

import ccpnet

from conftest import SCENARIOS

MESH = SCENARIOS / "full_mesh.yaml"
VOLATILITY = "market.assets.BTC.volatility"
GRID = {VOLATILITY: [0.4, 0.6, 0.8], "topology": ["none", "peer", "hub", "mesh", "single"]}
N = 2000


@pytest.fixture(scope="module")
def python_table() -> pd.DataFrame:
    return ccpnet.sweep(MESH, GRID, scenarios=N, threads=2)


def test_a_3_by_5_sweep_gives_the_same_table_from_the_cli_and_from_python(
    ccpnet_exe: Path, tmp_path: Path, python_table: pd.DataFrame
) -> None:
    out = tmp_path / "sweep"
    done = subprocess.run(
        [str(ccpnet_exe), "sweep", str(MESH), "--grid", f"{VOLATILITY}=0.4,0.6,0.8",
         "--grid", "topology=none,peer,hub,mesh,single", "-n", str(N), "--threads", "1", "--quiet",
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "15 grid points" in done.stdout
    cli = pd.read_csv(out / "sweep.csv", keep_default_na=False, na_values=["nan"], float_precision="round_trip")
    # Thread counts differ (1 and 2): the numbers do not.
    pd.testing.assert_frame_equal(cli, python_table, check_exact=True)
    points = python_table.groupby([VOLATILITY, "topology"]).ngroups
    assert points == 15
    # Tidy: one row per point x metric x item, each with a unit and an interval.
    assert not python_table.duplicated([VOLATILITY, "topology", "variant", "metric", "item"]).any()
    assert set(python_table["unit"]) >= {"USD", "count", "scenarios"}
    assert set(python_table["interval"]) >= {"wilson", "clt", "order_statistics"}


def test_each_point_is_the_run_of_its_values(python_table: pd.DataFrame) -> None:
    # A point without a topology change is exactly `ccpnet.run` with the value set.
    table = ccpnet.sweep(MESH, {VOLATILITY: [0.8]}, scenarios=N)
    run = ccpnet.run(ccpnet.load(MESH, [f"{VOLATILITY}=0.8"]), scenarios=N)
    system = table[(table["metric"] == "total_loss") & (table["item"] == "")].iloc[0]
    assert system["value"] == run.summary["system"]["expected_total_loss"]
    assert [system["lower"], system["upper"]] == run.summary["system"]["expected_total_loss_ci95"]
    # Common random numbers: every point of the grid ran on the file's seed.
    seeds = {p["summary"]["seed"] for p in python_table.attrs["summaries"]}
    assert seeds == {ccpnet.load(MESH).seed}
    # Higher volatility, more member defaults on the same draws (each topology).
    defaults = python_table[python_table["metric"] == "member_defaults"].set_index([VOLATILITY, "topology"])["value"]
    for topology in GRID["topology"]:
        assert defaults[0.4, topology] < defaults[0.8, topology]


def test_variants_run_at_every_point() -> None:
    table = ccpnet.sweep(MESH, {"ccps.CCP_EU.capital": [1e8, 2e8]}, variants=True, scenarios=500)
    names = list(ccpnet.compare(MESH, scenarios=500).names)
    assert list(dict.fromkeys(table["variant"])) == names
    assert table.groupby(["ccps.CCP_EU.capital", "variant"]).ngroups == 2 * len(names)


def test_bad_grids_are_refused() -> None:
    with pytest.raises(ccpnet.ScenarioError, match="did you mean 'volatility'"):
        ccpnet.sweep(MESH, {"market.assets.BTC.volatilty": [0.4]}, scenarios=100)
    with pytest.raises(Exception, match="no topology 'star'"):
        ccpnet.sweep(MESH, {"topology": ["star"]}, scenarios=100)
    with pytest.raises(TypeError):
        ccpnet.sweep(MESH, {VOLATILITY: 0.4}, scenarios=100)  # type: ignore[dict-item]


def test_the_cli_refuses_a_bad_grid_with_exit_2(ccpnet_exe: Path, tmp_path: Path) -> None:
    for grid, message in [
        (f"{VOLATILITY}=0.4,-1", "market.assets[0].volatility: expected a value in [0, 20]"),
        ("topology=star", "no topology 'star'"),
        (f"{VOLATILITY}=0.4,,0.6", "an empty value"),
        ("=0.4", "expected KEY.PATH=V1,V2"),
    ]:
        done = subprocess.run(
            [str(ccpnet_exe), "sweep", str(MESH), "--grid", grid, "-n", "100", "--quiet", "--out", str(tmp_path / "o")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 2, (grid, done.stderr)
        assert message in done.stderr
        assert not (tmp_path / "o").exists()  # nothing written


def test_json_on_stdout_and_compare_csv(ccpnet_exe: Path, tmp_path: Path) -> None:
    import json

    two = str(SCENARIOS / "two_ccp_peer.yaml")
    cover2 = str(SCENARIOS / "cover2_linked.yaml")
    commands = {
        "run": ["run", two, "-n", "500", "--quiet", "--out", str(tmp_path / "run")],
        "stress": ["stress", cover2],
        "compare": ["compare", str(MESH), "-n", "200", "--quiet", "--out", str(tmp_path / "compare")],
        "reverse": ["reverse", cover2, "--ccp", "CCP_A"],
        "sweep": ["sweep", two, "--grid", "ccps.CCP_A.capital=1e8,2e8", "-n", "200", "--quiet",
                  "--out", str(tmp_path / "sweep")],
    }  # fmt: skip
    documents = {}
    for name, args in commands.items():
        done = subprocess.run([str(ccpnet_exe), *args, "--json"], capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stderr)
        documents[name] = json.loads(done.stdout)  # nothing but the JSON document on stdout
    run_summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert documents["run"] == run_summary
    assert len(documents["sweep"]["points"]) == 2
    assert documents["reverse"]["ccp"] == "CCP_A"
    # compare.csv: each variant's means and paired differences, in the units of compare.json.
    table = pd.read_csv(tmp_path / "compare" / "compare.csv", float_precision="round_trip")
    variants = documents["compare"]["variants"]
    assert list(dict.fromkeys(table["variant"])) == [v["name"] for v in variants]
    second = table[table["variant"] == variants[1]["name"]].set_index("metric")
    d = variants[1]["difference_to_base"]["total_loss"]
    assert list(second.loc["total_loss", ["difference", "difference_lower", "difference_upper"]]) == [
        d["mean"], d["lo95"], d["hi95"]]  # fmt: skip
    assert second.loc["any_ccp_fail", "unit"] == "probability"


def test_the_seed_is_not_a_grid_axis(ccpnet_exe: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(ccpnet_exe), "sweep", str(MESH), "--grid", "seed=1,2", "-n", "100", "--quiet",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2
    assert "common random numbers" in done.stderr


def test_a_sweep_from_python_writes_and_resumes_the_cli_s_directory(ccpnet_exe: Path, tmp_path: Path) -> None:
    """ccpnet.sweep(out=...) writes what `ccpnet sweep --out` writes, and resume=True
    goes on with a sweep interrupted into it (here, by the command line)."""
    scenario = str(SCENARIOS / "cover2_linked.yaml")
    grid = {"market.shocks.volatility_multiplier": [1, 2], "defaults.latent.pd": [0.01, 0.03]}
    cli_args = [str(ccpnet_exe), "sweep", scenario, "-n", "3000", "--threads", "1", "--quiet",
                "--grid", "market.shocks.volatility_multiplier=1,2", "--grid", "defaults.latent.pd=0.01,0.03"]  # fmt: skip
    subprocess.run([*cli_args, "--out", str(tmp_path / "cli")], check=True, capture_output=True)
    frame = ccpnet.sweep(ccpnet.load(scenario), grid, scenarios=3000, threads=2, out=tmp_path / "py")
    for name in ("sweep.csv", "sweep.json", "manifest.json"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert len(frame) == len(pd.read_csv(tmp_path / "cli" / "sweep.csv"))
    with pytest.raises(ccpnet.ScenarioError, match="no partial sweep"):
        ccpnet.sweep(ccpnet.load(scenario), grid, scenarios=3000, out=tmp_path / "py", resume=True)
    with pytest.raises(ValueError, match="resume: only with out"):
        ccpnet.sweep(ccpnet.load(scenario), grid, scenarios=3000, resume=True)
