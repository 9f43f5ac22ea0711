"""Client clearing from Python (Result.clients, summary) and ccpnet.contributions."""

from __future__ import annotations

import pytest

import ccpnet

# tests/sim/test_clients.cpp's system: D defaults in every scenario; its individually segregated client
# CI (IM 150) has a backup B; its omnibus clients CO1 (IM 120) and CO2 (IM 80) have no backup in common.
PORTING = """name: porting a defaulted member's clients
seed: 11
market:
  assets:
    - {id: X, price: 100, volatility: 0.5}
    - {id: Y, price: 100, volatility: 0.5}
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 50}}
members:
  - id: D
    capital: 1000
    liquidity: 1000
    positions: {A: {X: 10}}
    initial_margin: {A: 100}
    default_fund: {A: 20}
    clients:
      - {id: CI, segregation: individual, positions: {A: {X: 2}}, initial_margin: {A: 150}, backup: [B]}
      - {id: CO1, segregation: omnibus, positions: {A: {X: 4}}, initial_margin: {A: 120}}
      - {id: CO2, segregation: omnibus, positions: {A: {X: -2}}, initial_margin: {A: 80}, backup: [B]}
  - {id: B, capital: 1000, liquidity: 1000, positions: {A: {Y: 1}}, initial_margin: {A: 50}, default_fund: {A: 30}}
  - id: R
    capital: 1.0e6
    liquidity: 1.0e6
    positions: {A: {X: -14, Y: -1}}
    initial_margin: {A: 0}
    default_fund: {A: 0}
defaults:
  exogenous: [D]
"""


def test_clients_table_and_summary() -> None:
    model = ccpnet.Model.from_text(PORTING)
    r = ccpnet.run(model, scenarios=2000, threads=2)
    clients = r.clients.set_index("client")
    assert list(clients.index) == ["CI", "CO1", "CO2"]
    assert list(clients["member"]) == ["D", "D", "D"]
    assert list(clients["segregation"]) == ["individual", "omnibus", "omnibus"]
    assert clients.loc["CI", "backup"] == "B"
    assert clients.loc["CO1", "initial_margin"] == 120.0
    # B stands in every scenario (it pays at most its DF 30 and an assessment of 30 of its 1000): CI is
    # ported every time and loses nothing of its margin; the omnibus is closed out every time.
    system = r.summary["system"]
    assert system["mean_client_accounts_ported"] == 1.0
    assert system["mean_client_accounts_closed_out"] == 2.0
    assert clients.loc["CI", "loss_client_margin"] == 0.0
    # The omnibus shares its shortfall by claim, margin plus position value (FCA CASS 7A.2.4R): CO1 (long 4 X)
    # bears its own close-out up to its margin, as it would individually segregated on the same scenarios; CO2
    # (short 2 X) bears its own loss and what of CO1's loss CO1's margin left, more than it would alone.
    co1, co2 = clients.loc["CO1", "loss_client_margin"], clients.loc["CO2", "loss_client_margin"]
    apart = model.with_overrides({"members.D.clients.CO1.segregation": "individual"})
    alone = ccpnet.run(apart, scenarios=2000, threads=2).clients.set_index("client")
    # (account losses are summed exactly in units of 2^-20 USD: equal to a few parts in 1e9)
    assert co1 > 0.0 and co1 == pytest.approx(alone.loc["CO1", "loss_client_margin"], rel=1e-6)
    assert co2 > alone.loc["CO2", "loss_client_margin"]
    assert system["expected_client_loss"] == pytest.approx(clients["expected_loss"].sum(), rel=1e-6)
    assert system["ledger_max_relative_error"] < 1e-9
    # Nothing in members.csv is a client's.
    assert set(r.members["member"]) == {"D", "B", "R"}
    assert "loss_client_margin" not in r.members.columns


NETWORK = """name: two CCPs, a link and an interbank network
seed: 5
simulation: {scenarios: 2000}
market:
  assets:
    - {id: X, price: 100, volatility: 0.8}
ccps:
  - {id: A, capital: 50, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 40}}
  - {id: B, capital: 50, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 40}}
members:
  - {id: M1, capital: 60, liquidity: 100, positions: {A: {X: 10}}}
  - {id: M2, capital: 60, liquidity: 100, positions: {A: {X: -10}}}
  - {id: M3, capital: 60, liquidity: 100, positions: {B: {X: 10}}}
  - {id: M4, capital: 60, liquidity: 100, positions: {B: {X: -10}}}
links:
  - {between: [A, B], model: peer}
defaults:
  latent: {pd: 0.2, beta: 0.5}
interbank:
  capital_multiple: 3
"""


def test_contributions_are_paired_leave_one_out_differences() -> None:
    model = ccpnet.Model.from_text(NETWORK)
    c = ccpnet.contributions(model, members=["M1", "M3"], scenarios=2000, threads=2)
    assert list(c.columns) == [
        "node", "kind", "metric", "with_node", "without_node", "contribution", "lower", "upper", "share",
    ]  # fmt: skip
    assert sorted(c["node"]) == ["A-B", "M1", "M3"]
    assert set(c["kind"]) == {"member", "link"}
    # The same numbers as a comparison with the variants written out by hand.
    by_hand = model.with_overrides(
        {"variants": '[{name: w, set: ["interbank.exclude=[M1]"]}]', "simulation.scenarios": 2000}
    )
    comparison = ccpnet.compare(by_hand, threads=1)
    means = comparison.variants.set_index("variant")["total_loss"]
    m1 = c.set_index("node").loc["M1"]
    assert m1["with_node"] == pytest.approx(means["base"], rel=1e-12)
    assert m1["without_node"] == pytest.approx(means["w"], rel=1e-12)
    assert m1["contribution"] == pytest.approx(means["base"] - means["w"], rel=1e-9, abs=1e-9)
    assert m1["lower"] <= m1["contribution"] <= m1["upper"]
    assert c["contribution"].is_monotonic_decreasing


def test_contributions_refuse_what_the_model_lacks() -> None:
    with pytest.raises(ValueError, match="interbank"):
        ccpnet.contributions(ccpnet.Model.from_text(PORTING), members=["D"])
    with pytest.raises(ValueError, match="link 3 does not exist"):
        ccpnet.contributions(ccpnet.Model.from_text(PORTING), links=[3])
