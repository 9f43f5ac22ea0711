"""ccpnet.calibrate: a scenario from public quantitative disclosures (CPMI-IOSCO
PQDs, CCP12 long layout) on scenarios/data/pqd_example.csv, whose numbers are
invented: EXAMPLE_CCP discloses IM 1.2bn, default fund 300m, SITG 25m, capital
160m; DEMO_CLEAR IM 400m, default fund 60m, capital 90m and a minimum capital of
60m without SITG, so its SITG is 25% of it (RTS 153/2013 art. 35): 15m."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ccpnet
import ccpnet.calibrate

SOURCE = Path(os.environ.get("CCPNET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "scenarios" / "data" / "pqd_example.csv"


def test_same_text_as_the_library_scenario() -> None:
    text = ccpnet.calibrate.scenario_text(EXAMPLE, "scenarios/data/pqd_example.csv")
    assert text == (SOURCE / "scenarios" / "calibrated_pqd_example.yaml").read_text(encoding="utf-8")


def test_runs_with_the_disclosed_resources() -> None:
    r = ccpnet.run(ccpnet.calibrate.model(EXAMPLE), scenarios=500, seed=3)
    ccps = r.ccps.set_index("ccp")
    assert ccps.loc["EXAMPLE_CCP", "default_fund"] == pytest.approx(3.0e8, rel=1e-12)
    assert ccps.loc["EXAMPLE_CCP", "initial_margin"] == pytest.approx(1.2e9, rel=1e-12)
    assert ccps.loc["EXAMPLE_CCP", "sitg"] == pytest.approx(2.5e7, rel=1e-12)
    assert ccps.loc["DEMO_CLEAR", "default_fund"] == pytest.approx(6.0e7, rel=1e-12)
    assert ccps.loc["DEMO_CLEAR", "initial_margin"] == pytest.approx(4.0e8, rel=1e-12)
    assert ccps.loc["DEMO_CLEAR", "sitg"] == pytest.approx(1.5e7, rel=1e-12)


def test_write_gives_a_file_that_loads(tmp_path: Path) -> None:
    out = ccpnet.calibrate.write(EXAMPLE, tmp_path / "s.yaml")
    assert out.read_text(encoding="utf-8") == ccpnet.calibrate.scenario_text(EXAMPLE)
    r = ccpnet.run(ccpnet.load(out), scenarios=50, seed=1)
    assert list(r.ccps["ccp"]) == ["EXAMPLE_CCP", "DEMO_CLEAR"]


def test_bad_file_raises_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ccp,clearing_service,as_of_date,field,value\nC,S,2026-06-30,capital,-5\n", encoding="utf-8")
    with pytest.raises(ccpnet.ScenarioError) as e:
        ccpnet.calibrate.scenario_text(bad)
    assert f"{bad}:2:24: disclosures: expected a number >= 0 for capital, found '-5'" in str(e.value)
