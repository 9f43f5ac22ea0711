"""ccpnet.stress: the numbers of `ccpnet stress`, a cascade worked by hand, errors."""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import ccpnet

from conftest import SCENARIOS


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


@pytest.fixture(scope="module")
def cover2() -> Path:
    return SCENARIOS / "cover2_linked.yaml"


@pytest.fixture(scope="module")
def cli_stress(ccpnet_exe: Path, cover2: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("cli") / "stress"
    done = subprocess.run(
        [str(ccpnet_exe), "stress", str(cover2), "--out", str(out)], check=True, capture_output=True, text=True
    )
    return out, done.stdout


def test_same_numbers_as_the_cli(cover2: Path, cli_stress: tuple[Path, str]) -> None:
    out, stdout = cli_stress
    s = ccpnet.stress(ccpnet.load(cover2))
    assert s.summary == json.loads((out / "stress.json").read_text())
    expected = read_csv(out / "stress_layers.csv")
    pd.testing.assert_frame_equal(s.layers, expected, check_dtype=False, check_exact=True)
    # The CLI prints the report, then where the outputs went.
    assert stdout == s.text + f"outputs: {out}/\n"
    assert s.names == [x["name"] for x in s.summary["stress_scenarios"]]


# A fails; B, standing, replaces A's link positions at a square-root cost
# c = 0.5 x 1,000 x sqrt(1,000 / 1e6) = 15.81 (tests/sim/test_cascade.cpp,
# Cascade.TheStressReportShowsTheReplacementInTheFailedCcpsShortfall).
LINK_FAILURE = """\
name: a CCP failure crossing a peer link
market:
  assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1},
     default_fund: {sizing: fixed, amount: 20}, waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]}
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, segregated: true}
defaults: {exogenous: [D]}
"""


def test_the_replacement_in_a_failed_ccps_shortfall_as_the_cli(ccpnet_exe: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "link_failure.yaml"
    scenario.write_text(LINK_FAILURE)
    subprocess.run([str(ccpnet_exe), "stress", str(scenario), "--out", str(tmp_path / "out")], check=True,
                   capture_output=True)  # fmt: skip
    s = ccpnet.stress(scenario)
    pd.testing.assert_frame_equal(s.layers, read_csv(tmp_path / "out" / "stress_layers.csv"), check_dtype=False,
                                  check_exact=True)  # fmt: skip
    c = 0.5 * 1000 * (1000 / 1e6) ** 0.5
    a = s.layers[s.layers["ccp"] == "A"].set_index("layer")["amount"]
    assert a["uncovered"] == pytest.approx(280 + c, abs=1e-9)
    assert a["link_replacement"] == pytest.approx(c, abs=1e-9)
    assert s.ccps.set_index("ccp").loc["A", "uncovered"] == pytest.approx(280 + 2 * c, abs=1e-9)


def test_recovery_tools_in_the_layers_as_the_cli(ccpnet_exe: Path, tmp_path: Path) -> None:
    """The per-round table lists each recovery tool after the layers, as stress_layers.csv."""
    tools = "{tools: [cash_call], cash_call_multiple: 1}"
    scenario = SCENARIOS / "default_days.yaml"
    subprocess.run([str(ccpnet_exe), "stress", str(scenario), "--set", f"ccps.CCP_EU.recovery={tools}", "--out",
                    str(tmp_path / "out")], check=True, capture_output=True)  # fmt: skip
    s = ccpnet.stress(ccpnet.load(scenario, overrides={"ccps.CCP_EU.recovery": tools}))
    expected = read_csv(tmp_path / "out" / "stress_layers.csv")
    pd.testing.assert_frame_equal(s.layers, expected, check_dtype=False, check_exact=True)
    assert "cash_call" in set(s.layers.loc[s.layers["ccp"] == "CCP_EU", "layer"])


STRESS_FILES = sorted(
    p.name for p in SCENARIOS.glob("*.yaml") if "stress_scenarios:" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("name", "overrides"),
    [(name, {}) for name in STRESS_FILES]
    + [("default_days.yaml", {"ccps.CCP_EU.recovery": "{tools: [cash_call], cash_call_multiple: 1}"})],
    ids=[*STRESS_FILES, "default_days_recovery"],
)
def test_tables_agree_with_each_other(name: str, overrides: dict[str, str]) -> None:
    """Each CCP's totals are its rounds' waterfalls summed: every layer (its
    clients' margin and a failed CCP's late losses included), and the
    uncovered with the link replacements of its failure."""
    s = ccpnet.stress(ccpnet.load(SCENARIOS / name, overrides=overrides))
    assert list(s.scenarios["stress_scenario"]) == s.names
    per_round = s.layers.groupby(["stress_scenario", "ccp", "layer"], sort=False)["amount"].sum()
    for _, row in s.ccps.iterrows():
        def total(layer: str) -> float:
            return float(per_round.get((row["stress_scenario"], row["ccp"], layer), 0.0))

        for layer in s.layers.loc[s.layers["ccp"] == row["ccp"], "layer"].unique():
            if layer in s.ccps.columns and layer != "uncovered":
                assert total(layer) == pytest.approx(row[layer], rel=1e-12, abs=1e-6), (row["ccp"], layer)
        uncovered = total("uncovered") + total("link_replacement")
        assert uncovered == pytest.approx(row["uncovered"], rel=1e-12, abs=1e-6), row["ccp"]
    counts = s.defaults.groupby("stress_scenario", sort=False).size()
    assert list(counts.reindex(s.names, fill_value=0)) == list(s.scenarios["member_defaults"])
    assert set(s.defaults["cause"]) <= {"exogenous", "latent", "solvency", "liquidity", "group", "interbank"}


# Worked by hand (the same system as tests/sim/test_cascade.cpp,
# Cascade.CrossesFromOneCcpToAnotherThroughACommonMember). X falls 50% (100 -> 50);
# observed IM and DF make the numbers exact.
#   CCP A: D long 10 X (exogenous default), M short 10 X.
#   CCP B: M long 10 X, N short 10 X.
# Round 1 at A: D's close-out loss 500 - IM 100 - DF 20 = 380 left to the mutual
#   layers; SITG 10 -> 370; M's DF 60 -> 310; assessment on M (1x its DF) 60 -> 250;
#   VMGH on M's gain of 500 at A: 250. M's charges 60 + 60 + 250 = 370 exceed its
#   capital 50: M defaults (solvency) at the end of round 1.
# Round 2 at B: M's close-out loss 500 - IM 100 - DF 40 = 360; SITG 20 -> 340;
#   N's DF 50 -> 290; assessment on N 50 -> 240; VMGH on N's gain: 240.
#   At A, M's short book gains 500 on close-out: that gain, its IM 100 and its DF
#   left (0: the 60 went in round 1) go back to its estate, 600.
COMMON_MEMBER = """\
name: cascade across CCPs through a common member
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 80}}
  - {id: B, capital: 100, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 90}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - id: M
    capital: 50
    liquidity: 1000
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 100, B: 100}
    default_fund: {A: 60, B: 40}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 50}}
defaults: {exogenous: [D]}
"""


def test_cascade_worked_by_hand() -> None:
    s = ccpnet.stress(ccpnet.Model.from_text(COMMON_MEMBER))
    scenario = s.scenarios.iloc[0]
    assert scenario["stress_scenario"] == "crash"
    assert (scenario["cascade_rounds"], scenario["member_defaults"], scenario["ccp_failures"]) == (2, 2, 0)
    assert scenario["closeout_loss"] == pytest.approx(1000.0)
    assert scenario["total_loss"] == pytest.approx(380.0 + 360.0)
    assert scenario["uncovered_loss"] == pytest.approx(0.0, abs=1e-9)

    assert s.defaults[["member", "round", "cause"]].values.tolist() == [["D", 0, "exogenous"], ["M", 1, "solvency"]]

    layers = s.layers.set_index(["round", "ccp", "layer"])["amount"]
    by_hand = {
        (1, "A"): {"defaulter_im": 100, "defaulter_df": 20, "sitg": 10, "mutualized_df": 60, "assessments": 60,
                   "vmgh": 250, "ccp_equity": 0, "uncovered": 0},
        (2, "B"): {"defaulter_im": 100, "defaulter_df": 40, "sitg": 20, "mutualized_df": 50, "assessments": 50,
                   "vmgh": 240, "ccp_equity": 0, "uncovered": 0},
    }  # fmt: skip
    for (rnd, ccp), expected in by_hand.items():
        for layer, amount in expected.items():
            assert layers[(rnd, ccp, layer)] == pytest.approx(amount, abs=1e-9), (rnd, ccp, layer)

    ccps = s.ccps.set_index("ccp")
    assert not ccps["failed"].any() and ccps["failure_round"].isna().all()
    assert ccps.loc["A", "vmgh"] == pytest.approx(250.0) and ccps.loc["B", "vmgh"] == pytest.approx(240.0)

    d = s.defaulters.set_index(["round", "ccp", "account"])
    assert d.loc[(1, "A", "D"), "closeout_loss"] == pytest.approx(500.0)
    assert d.loc[(1, "A", "D"), "left_to_mutual_layers"] == pytest.approx(380.0)
    assert d.loc[(2, "B", "M"), "left_to_mutual_layers"] == pytest.approx(360.0)
    assert d.loc[(2, "A", "M"), "closeout_loss"] == pytest.approx(-500.0)
    assert d.loc[(2, "A", "M"), "estate_return"] == pytest.approx(600.0)


def test_without_stress_scenarios_the_baseline_runs() -> None:
    text = COMMON_MEMBER.replace("  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]\n", "")
    s = ccpnet.stress(ccpnet.Model.from_text(text))
    assert s.names == ["baseline (no market move)"]
    assert s.scenarios["total_loss"].iloc[0] == 0.0
    assert s.defaults["member"].tolist() == ["D"]


def test_pickle_and_repr() -> None:
    s = ccpnet.stress(ccpnet.Model.from_text(COMMON_MEMBER))
    again = pickle.loads(pickle.dumps(s))
    assert again.summary == s.summary
    assert "2 member defaults" in repr(s)


def test_errors() -> None:
    with pytest.raises(ccpnet.ScenarioError) as e:
        ccpnet.stress(ccpnet.Model.from_text(COMMON_MEMBER.replace("moves: {X: -0.5}", "moves: {Y: -0.5}")))
    assert "market.stress_scenarios[0].moves" in str(e.value)
    with pytest.raises(TypeError):
        ccpnet.stress(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ccpnet.StressResult("not a run")  # type: ignore[arg-type]


ADL_QUEUE = """
name: ADL queue at the bankruptcy price
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 40, margin: {model: parametric, mpor_days: 1}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: S4, capital: 1000, liquidity: 1000, positions: {V: {X: -1}}, initial_margin: {V: 60}}
  - {id: S3, capital: 1000, liquidity: 1000, positions: {V: {X: -4}}, initial_margin: {V: 120}}
  - {id: S2, capital: 1000, liquidity: 1000, positions: {V: {X: -3}}, initial_margin: {V: 60}}
  - {id: S1, capital: 1000, liquidity: 1000, positions: {V: {X: -2}}, initial_margin: {V: 10}}
defaults: {exogenous: [D]}
"""


def test_adl_by_quantity_at_the_bankruptcy_price() -> None:
    # D long 10 X with IM 100: bankruptcy price 90; X falls to 80: loss 200, IM 100,
    # insurance fund 40, ADL 60 = 6 contracts at |80 - 90| = 10. BitMEX ranking
    # (PnL% 0.2 each x effective leverage 80 q / (IM + 20 q)): S1 3.2, S2 2.0,
    # S3 1.6, S4 1.0: S1 closes 2, S2 3, S3 1 of 4.
    adl = ccpnet.stress(ccpnet.Model.from_text(ADL_QUEUE)).adl.set_index("account")
    assert sorted(adl.index) == ["S1", "S2", "S3"]
    assert adl.loc[["S1", "S2", "S3"], "contracts"].tolist() == pytest.approx([2.0, 3.0, 1.0])
    assert adl["price"].tolist() == pytest.approx([90.0] * 3)
    assert adl.loc[["S1", "S2", "S3"], "loss_vs_mark"].tolist() == pytest.approx([20.0, 30.0, 10.0])


HAND = SCENARIOS.parent / "tests" / "data" / "hand"


def test_lending_per_account_results_of_the_aave_hand_case() -> None:
    # tests/data/hand/aave_close_factor.yaml works the numbers out (Aave v3.3
    # LiquidationLogic: 50% close factor above HF 0.95 and 2,000 USD, else 100%).
    # The slide: B liquidated twice (50% each), D (below the dust line) once in full.
    model = ccpnet.load(HAND / "aave_close_factor.yaml", overrides=["ccps.AAVE.lending.oracle_delay_hours=12"])
    lending = ccpnet.stress(model).lending.set_index(["stress_scenario", "account"])
    assert list(lending.columns) == [
        "ccp", "calls", "health_factor_start", "health_factor_after",
        "collateral_seized", "debt_repaid", "bad_debt", "closing_bad_debt",
    ]
    # With the 12-hour oracle delay the slide executes once, late, at 100%.
    crash = lending.loc["crash"]
    assert crash.loc["B", "calls"] == 1
    assert crash.loc["B", "bad_debt"] == pytest.approx(1587.070662485139, abs=1e-6)
    assert crash.loc["B", "debt_repaid"] == pytest.approx(13412.92933751486, abs=1e-6)
    assert crash.loc["D", "bad_debt"] == pytest.approx(158.7070662485139, abs=1e-6)
    assert pd.isna(crash.loc["B", "health_factor_after"])  # no debt left
    no_delay = ccpnet.stress(ccpnet.load(HAND / "aave_close_factor.yaml")).lending
    slide = no_delay[no_delay.stress_scenario == "slide"].set_index("account")
    assert slide.loc["B", "calls"] == 2
    assert slide.loc["B", "collateral_seized"] == pytest.approx(11812.5)
    assert slide.loc["B", "health_factor_after"] == pytest.approx(1.0604459765625)


def test_venue_liquidation_engine_insurance_fund_and_adl_by_rank() -> None:
    # tests/data/hand/venue_liquidations.yaml works the numbers out (BitMEX:
    # liquidation at maintenance, surplus to / shortfall from the insurance fund,
    # ADL at the bankruptcy price in ranking order).
    result = ccpnet.stress(ccpnet.load(HAND / "venue_liquidations.yaml"))
    liq = result.liquidations
    crash = liq[liq.stress_scenario == "crash"].set_index("account")
    assert sorted(crash.index) == ["B", "C", "D"]
    assert crash.loc["B", "surplus"] == pytest.approx(11.0)
    assert crash.loc["C", "shortfall"] == pytest.approx(172.0)
    assert crash.loc["C", "bankruptcy_price"] == pytest.approx(92.5)
    funds = result.insurance_funds.set_index("stress_scenario")
    assert funds.loc["crash", ["start", "surpluses", "paid", "end"]].tolist() == pytest.approx([100, 11, 111, 0])
    # The fund leaves 70 of the 181 of shortfalls: ADL closes 50 x 70 / 181
    # contracts of C and D at 92, all from S1 (ranked first, 30 contracts).
    adl = result.adl.sort_values("rank")
    assert adl["account"].tolist() == ["S1"]
    assert adl["contracts"].tolist() == pytest.approx([50 * 70 / 181])
    assert adl["price"].tolist() == pytest.approx([92.0])
    assert adl["priority"].tolist() == pytest.approx([0.675])
    defaulters = result.defaulters
    assert defaulters["liquidated"].all()
    assert defaulters.loc[defaulters.account == "B", "to_insurance_fund"].tolist() == pytest.approx([11.0])


def test_liquidations_through_time_steps_carry_their_day() -> None:
    # scenarios/adl_crash_day.yaml runs in daily steps; its last stress scenario
    # is the crash as a two-day path: 9 accounts liquidated on day 1 (the first
    # leg's), 5 on day 2, and PERP_DEX's fund carried from day 1 to day 2.
    result = ccpnet.stress(ccpnet.load(SCENARIOS / "adl_crash_day.yaml"))
    liq = result.liquidations
    path = liq[liq.stress_scenario.str.startswith("the crash day by day")]
    assert path.groupby("day").size().to_dict() == {1.0: 9, 2.0: 5}
    funds = result.insurance_funds
    perp = funds[(funds.ccp == "PERP_DEX") & funds.stress_scenario.str.startswith("the crash day by day")]
    assert perp["day"].tolist() == [1.0, 2.0]
    assert perp["start"].iloc[1] == pytest.approx(perp["end"].iloc[0])
    assert perp["end"].iloc[1] == pytest.approx(0.0)


def test_contracts_adl_closed_are_off_the_shorts_books_the_next_day() -> None:
    # scenarios/adl_crash_day.yaml, "the crash reversed the next day": the crash
    # deleverages 8 shorts on day 1 (all 25,000 of SHORT_08's contracts, 68,780
    # of SHORT_02's 125,000); ALT is back at 200 on day 2. What ADL closed is no
    # longer theirs, so the rebound liquidates nobody and nobody defaults.
    result = ccpnet.stress(ccpnet.load(SCENARIOS / "adl_crash_day.yaml"))
    name = next(n for n in result.names if n.startswith("the crash reversed the next day"))
    assert result.defaults[result.defaults.stress_scenario == name].empty
    liq = result.liquidations
    assert set(liq[liq.stress_scenario == name]["day"]) == {1.0}
    adl = result.adl[result.adl.stress_scenario == name].set_index("account")
    assert adl.loc["SHORT_08", "contracts"] == pytest.approx(25000.0)
    assert adl.loc["SHORT_02", "contracts"] == pytest.approx(68780.2, abs=0.1)
