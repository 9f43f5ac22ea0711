"""Runs from Python: the same numbers as the CLI, determinism, memory, interrupts."""

from __future__ import annotations

import gc
import json
import pickle
import subprocess
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccpnet
from conftest import SCENARIOS, ctrl_c_soon

N = 20_000
SEED = 11


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns, same values bit for bit (integer widths may differ)."""
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=True)


def assert_same_result(a: ccpnet.Result, b: ccpnet.Result) -> None:
    assert a.summary == b.summary
    assert_same_frame(a.scenarios, b.scenarios)
    assert_same_frame(a.ccps, b.ccps)
    assert_same_frame(a.members, b.members)


@pytest.fixture(scope="module")
def cli_output(ccpnet_exe: Path, two_ccp: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    subprocess.run(
        [str(ccpnet_exe), "run", str(two_ccp), "-n", str(N), "--seed", str(SEED), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def result(two_ccp: Path) -> ccpnet.Result:
    return ccpnet.run(ccpnet.load(two_ccp), scenarios=N, seed=SEED)


def test_summary_is_summary_json(result: ccpnet.Result, cli_output: Path) -> None:
    expected = json.loads((cli_output / "summary.json").read_text())
    assert result.summary.keys() == expected.keys()
    assert result.summary["ccps"]["CCP_A"].keys() == expected["ccps"]["CCP_A"].keys()
    assert result.summary["system"].keys() == expected["system"].keys()
    assert result.summary == expected


def test_tables_are_the_csv_files(result: ccpnet.Result, cli_output: Path) -> None:
    expected = read_csv(cli_output / "scenarios.csv")
    assert list(result.scenarios.columns) == list(expected.columns)
    assert len(result.scenarios) == N
    assert_same_frame(result.scenarios, expected)
    assert_same_frame(result.ccps, read_csv(cli_output / "ccps.csv"))
    assert_same_frame(result.members, read_csv(cli_output / "members.csv"))


def test_resolved_scenario_is_the_one_written(result: ccpnet.Result, cli_output: Path) -> None:
    assert result.model.to_yaml() == (cli_output / "scenario.resolved.yaml").read_text()
    manifest = json.loads((cli_output / "manifest.json").read_text())
    assert result.model.sha256 == manifest["resolved_scenario_sha256"]
    assert (result.model.seed, result.model.scenarios) == (SEED, N)


def test_result_fields(result: ccpnet.Result) -> None:
    assert not result.partial
    assert (result.first, result.requested, result.completed) == (0, N, N)
    assert result.has_scenarios and result.seconds > 0
    s = result.scenarios
    assert s["scenario"].tolist() == list(range(N))
    assert s["scenario"].dtype == np.int64 and s["total_loss"].dtype == np.float64
    assert s["failed_CCP_A"].isin([0, 1]).all()
    # The summary's means are the means of the rows.
    assert result.summary["system"]["expected_total_loss"] == pytest.approx(s["total_loss"].mean(), rel=1e-12)
    assert result.summary["system"]["mean_member_defaults"] == pytest.approx(s["member_defaults"].mean())
    assert "seed 11" in repr(result)


def test_rows_are_not_copied(result: ccpnet.Result) -> None:
    arrays = result.arrays
    frame = result.scenarios
    for name, array in arrays.items():
        assert np.shares_memory(frame[name].to_numpy(), array), name
    # The arrays keep the engine's buffers alive on their own.
    loss = arrays["total_loss"]
    expected = loss.copy()
    r = ccpnet.run(result.model, scenarios=4096)
    kept = r.arrays["total_loss"]
    copy = kept.copy()
    del r
    gc.collect()
    np.testing.assert_array_equal(kept, copy)
    np.testing.assert_array_equal(loss, expected)


@pytest.mark.parametrize(("threads", "batch"), [(1, 64), (2, 64), (1, 1000), (2, 4096)])
def test_same_numbers_for_any_threads_and_batch(result: ccpnet.Result, threads: int, batch: int) -> None:
    other = ccpnet.run(result.model, threads=threads, batch=batch)
    assert other.threads == threads
    assert_same_result(other, result)


def test_two_models_side_by_side(two_ccp: Path) -> None:
    a = ccpnet.load(two_ccp, overrides={"simulation.scenarios": 10_000})
    b = ccpnet.Model.from_dict(a.to_dict(), overrides={"ccps.CCP_A.capital": 1.0e8, "seed": 99})
    alone_a, alone_b = ccpnet.run(a), ccpnet.run(b)
    assert alone_a.summary != alone_b.summary
    # Concurrently, from two Python threads: the GIL is released while the engine runs.
    results: dict[str, ccpnet.Result] = {}

    def go(name: str, model: ccpnet.Model) -> None:
        results[name] = ccpnet.run(model, threads=1)

    workers = [threading.Thread(target=go, args=("a", a)), threading.Thread(target=go, args=("b", b))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert_same_result(results["a"], alone_a)
    assert_same_result(results["b"], alone_b)


def test_run_options_are_validated(result: ccpnet.Result) -> None:
    m = result.model
    with pytest.raises(ccpnet.ScenarioError) as info:
        ccpnet.run(m, scenarios=0)
    (message,) = info.value.errors
    assert message.startswith("--set simulation.scenarios=0:0:0: simulation.scenarios: expected a value in [1, ")
    with pytest.raises(ccpnet.ScenarioError, match="seed"):
        ccpnet.run(m, seed=-1)
    with pytest.raises(TypeError):
        ccpnet.run(m, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"threads: expected a value in \[0, 1024\]"):
        ccpnet.run(m, threads=-2)
    with pytest.raises(ValueError, match="batch"):
        ccpnet.run(m, batch=0)
    with pytest.raises(ValueError, match="interrupt"):
        ccpnet.run(m, interrupt="ignore")
    with pytest.raises(ValueError, match="goes beyond"):
        ccpnet.run(m, first=4096, count=N)


def test_run_a_file(two_ccp: Path, result: ccpnet.Result) -> None:
    assert ccpnet.run(two_ccp, scenarios=N, seed=SEED).summary == result.summary


def test_without_rows(result: ccpnet.Result) -> None:
    r = ccpnet.run(result.model, keep_scenarios=False)
    assert not r.has_scenarios
    assert r.summary == result.summary
    assert_same_frame(r.ccps, result.ccps)
    with pytest.raises(ValueError, match="keep_scenarios=False"):
        r.scenarios  # noqa: B018


def test_ranges_merge_exactly(result: ccpnet.Result) -> None:
    chunk = ccpnet.SCENARIO_CHUNK
    m = result.model
    parts = [
        ccpnet.run(m, first=2 * chunk, count=N - 2 * chunk, threads=2),
        ccpnet.run(m, first=0, count=chunk),
        ccpnet.run(m, first=chunk, count=chunk, batch=100),
    ]
    assert parts[0].summary["first_scenario"] == 2 * chunk
    merged = ccpnet.Result.merge(m, parts)
    assert_same_result(merged, result)
    assert merged.threads == 2
    # States travel as plain data.
    states = [pickle.loads(pickle.dumps(p.to_state())) for p in parts]
    assert_same_result(ccpnet.Result.merge(m, states), result)


def test_merge_refuses_what_would_not_be_exact(result: ccpnet.Result) -> None:
    m = result.model
    a = ccpnet.run(m, first=0, count=5000)
    b = ccpnet.run(m, first=5000, count=3000)
    with pytest.raises(ValueError, match="multiples of 4096"):
        ccpnet.Result.merge(m, [a, b])
    c = ccpnet.run(m, first=0, count=8192)
    with pytest.raises(ValueError, match="overlap"):
        ccpnet.Result.merge(m, [a, c])
    other = ccpnet.run(m.with_overrides(seed=1), first=0, count=4096)
    with pytest.raises(ValueError, match="different scenario"):
        ccpnet.Result.merge(m, [other])
    with pytest.raises(ValueError, match="no states"):
        ccpnet.Result.merge(m, [])


def test_results_pickle(result: ccpnet.Result) -> None:
    again = pickle.loads(pickle.dumps(result))
    assert_same_result(again, result)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_returns_a_valid_partial_result(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp, overrides={"simulation.scenarios": 1_000_000_000})
    with ctrl_c_soon():
        r = ccpnet.run(m, threads=2, interrupt="partial")
    assert r.partial and r.summary["partial"] is True
    assert 0 < r.completed < r.requested == 1_000_000_000
    assert r.completed % ccpnet.SCENARIO_CHUNK == 0
    assert len(r.scenarios) == r.completed
    # The scenarios run are those of a complete run.
    full = ccpnet.run(m, count=r.completed, threads=2)
    assert_same_frame(r.scenarios, full.scenarios)
    assert_same_frame(r.ccps, full.ccps)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_raises_keyboard_interrupt(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp, overrides={"simulation.scenarios": 1_000_000_000})
    with ctrl_c_soon(), pytest.raises(KeyboardInterrupt):
        ccpnet.run(m, keep_scenarios=False)


def test_result_write_is_the_cli_s_directory(ccpnet_exe: Path, tmp_path: Path) -> None:
    """Result.write(dir) writes what `ccpnet run --out dir` writes, byte for byte
    (run.json, with the threads and timing, is the one file outside the manifest)."""
    scenario = str(SCENARIOS / "cover2_linked.yaml")
    subprocess.run([str(ccpnet_exe), "run", scenario, "-n", "3000", "--seed", "11", "--threads", "1", "--quiet",
                    "--report", "--out", str(tmp_path / "cli")], check=True, capture_output=True)  # fmt: skip
    result = ccpnet.run(ccpnet.load(scenario), scenarios=3000, seed=11, threads=2)
    written = result.write(tmp_path / "py", report=True)
    assert written == tmp_path / "py"
    cli = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert sorted(p.name for p in written.iterdir()) == cli
    assert "report.html" in cli and "manifest.json" in cli
    for name in cli:
        if name != "run.json":
            assert (written / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    # The same rules as the command line: a directory that is not ccpnet's is never replaced.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ccpnet.ScenarioError):
        result.write(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="keep_scenarios"):
        ccpnet.run(ccpnet.load(scenario), scenarios=100, keep_scenarios=False).write(tmp_path / "none")
