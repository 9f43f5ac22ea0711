"""ccpnet.waterfall: default waterfalls and Cover-2 sizing worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import ccpnet.waterfall as wf

EMIR = ["defaulter_im", "defaulter_df", "sitg", "mutualized_df", "assessments", "vmgh", "ccp_equity"]


def test_layer_by_layer() -> None:
    # Round 1 at CCP A of tests/sim/test_cascade.cpp: D's close-out loss 500 - IM 100
    # - DF 20 = 380; SITG 10 -> 370; the survivor's DF 60 -> 310; assessment (cap 60,
    # paid from cash 1000) -> 250; VMGH on its gain of 500: 250. Equity untouched.
    r = wf.run(EMIR, np.array([500.0]), np.array([100.0]), np.array([20.0]),
               survivor_df=np.array([60.0]), assessment_cap=np.array([60.0]), cash=np.array([1000.0]),
               vm_gain=np.array([500.0]), sitg=10.0, equity=90.0)  # fmt: skip
    assert r.by_layer == pytest.approx(
        {"defaulter_im": 100, "defaulter_df": 20, "sitg": 10, "mutualized_df": 60, "assessments": 60, "vmgh": 250,
         "ccp_equity": 0}  # fmt: skip
    )
    assert list(r.by_layer) == EMIR
    assert (r.loss, r.uncovered) == (500.0, 0.0)
    np.testing.assert_allclose(r.im_used, [100.0])
    np.testing.assert_allclose(r.df_used, [20.0])
    np.testing.assert_allclose(r.df_charged, [60.0])
    np.testing.assert_allclose(r.assessment_paid, [60.0])
    np.testing.assert_allclose(r.vmgh_charged, [250.0])
    assert r.ccp_left == {"sitg": 0.0, "sitg2": 0.0, "insurance_fund": 0.0, "equity": 90.0}


def test_pro_rata_assessments_and_a_missed_call() -> None:
    # Loss 1000 - IM 200 = 800; SITG 40 -> 760; both funds (100 + 300) -> 360;
    # assessments: caps 100 and 300 (total 400), rate 360/400 = 0.9, calls 90 and 270;
    # the first member has 50 in cash: pays 50, misses 40 -> 320 paid, 40 left;
    # equity 100 -> 40 used, 60 left.
    layers = ["defaulter_im", "defaulter_df", "sitg", "mutualized_df", "assessments", "ccp_equity"]
    args = dict(survivor_df=np.array([100.0, 300.0]), assessment_cap=np.array([100.0, 300.0]),
                cash=np.array([50.0, 1000.0]), sitg=40.0)  # fmt: skip
    r = wf.run(layers, np.array([1000.0]), np.array([200.0]), **args, equity=100.0)
    assert r.by_layer == pytest.approx(
        {"defaulter_im": 200, "defaulter_df": 0, "sitg": 40, "mutualized_df": 400, "assessments": 320, "ccp_equity": 40}
    )
    np.testing.assert_allclose(r.df_charged, [100.0, 300.0])
    np.testing.assert_allclose(r.assessment_paid, [50.0, 270.0])
    np.testing.assert_allclose(r.assessment_unpaid, [40.0, 0.0])
    assert r.missed_call.tolist() == [True, False]
    assert r.uncovered == pytest.approx(0.0, abs=1e-9)
    assert r.ccp_left["equity"] == pytest.approx(60.0)
    # With equity 10, 30 is left uncovered: the CCP fails.
    r = wf.run(layers, np.array([1000.0]), np.array([200.0]), **args, equity=10.0)
    assert r.uncovered == pytest.approx(30.0)
    assert sum(r.by_layer.values()) + r.uncovered == pytest.approx(r.loss)  # conservation


def test_adl_by_rank_and_a_close_out_gain() -> None:
    # Insurance fund 30 of a loss of 100, then ADL: the higher rank (2.0) gives its
    # whole gain 50, the other 20.
    r = wf.run(["insurance_fund", "adl"], np.array([100.0]), insurance_fund=30.0,
               adl_gain=np.array([50.0, 50.0]), adl_rank=np.array([1.0, 2.0]))  # fmt: skip
    assert r.by_layer == pytest.approx({"insurance_fund": 30.0, "adl": 70.0})
    np.testing.assert_allclose(r.adl_charged, [20.0, 50.0])
    # A defaulter whose book gains 50 on close-out gets it back with its IM and DF.
    g = wf.run(["defaulter_im", "defaulter_df"], np.array([-50.0]), np.array([10.0]), np.array([5.0]))
    np.testing.assert_allclose(g.estate_return, [65.0])
    assert g.loss == 0.0


def test_adl_rank() -> None:
    # Gain 10 on margin 100, notional 1000: PnL% 0.1 x leverage 1000/110.
    assert wf.adl_rank(10.0, 100.0, 1000.0) == pytest.approx(0.1 * 1000 / 110)
    # Loss 10: PnL% -0.1 / leverage 1000/90.
    assert wf.adl_rank(-10.0, 100.0, 1000.0) == pytest.approx(-0.1 * 90 / 1000)


def test_adl_by_quantity_at_the_bankruptcy_price() -> None:
    # BitMEX ADL (bitmex.com/app/autoDeleveraging): five shorts against a liquidated
    # long of 55 contracts, bankruptcy price 104, mark 100. BitMEX scores (PnL% on the
    # entry value x effective leverage on the mark value): A 0.2 x 2 = 0.4, B 1/6 x 10/3,
    # C 1/11 x 7.5, D 0, E -1/9 / 10. Order C, B, A, D, E: C closes 30, B 20, A 5 of
    # 10, each giving up 104 - 100 = 4 per contract against the mark.
    q = np.array([10.0, 20.0, 30.0, 25.0, 15.0])
    entry = np.array([125.0, 120.0, 110.0, 100.0, 90.0])
    mark = np.full(5, 100.0)
    margin = np.array([250.0, 200.0, 100.0, 500.0, 300.0])
    r = wf.deleverage("long", 55.0, 104.0, q, entry, mark, margin)
    assert r["rank"].tolist() == [3, 2, 1, 4, 5]
    np.testing.assert_allclose(r["quantity"], [5.0, 20.0, 30.0, 0.0, 0.0])
    np.testing.assert_allclose(r["remaining"], [5.0, 0.0, 0.0, 25.0, 15.0])
    np.testing.assert_allclose(r["loss_vs_mark"], [20.0, 80.0, 120.0, 0.0, 0.0])
    np.testing.assert_allclose(r["price"], 104.0)
    assert (r["closed"], r["unfilled"], r["total_loss_vs_mark"]) == pytest.approx((55.0, 0.0, 220.0))
    assert wf.adl_priority("short", 20.0, 120.0, 100.0, 200.0) == pytest.approx(5 / 9)
    assert wf.adl_priority("short", 20.0, 120.0, 100.0, 200.0, "leverage") == pytest.approx(10 / 3)
    # By effective leverage: E (10), C (7.5), D (5) first.
    lev = wf.deleverage("long", 55.0, 104.0, q, entry, mark, margin, ranking="leverage")
    np.testing.assert_allclose(lev["quantity"], [0.0, 0.0, 30.0, 10.0, 15.0])
    # The waterfall's ADL layer charges the same: loss 300, IM 50, insurance fund 30,
    # 220 for ADL at 4 per contract.
    ranks = np.array([wf.adl_priority("short", *a) for a in zip(q, entry, mark, margin)])
    w = wf.run(["defaulter_im", "insurance_fund", "adl"], np.array([300.0]), np.array([50.0]),
               insurance_fund=30.0, adl_rank=ranks, adl_quantity=q, adl_mark_price=mark,
               adl_bankruptcy_price=np.full(5, 104.0))  # fmt: skip
    np.testing.assert_allclose(w.adl_charged, r["loss_vs_mark"])
    np.testing.assert_allclose(w.adl_closed, r["quantity"])
    np.testing.assert_allclose(w.adl_quantity_left, r["remaining"])
    with pytest.raises(ValueError, match="ranking"):
        wf.deleverage("long", 1.0, 104.0, q, entry, mark, margin, ranking="size")
    with pytest.raises(ValueError, match="side"):
        wf.deleverage("up", 1.0, 104.0, q, entry, mark, margin)


def test_vmgh_caps() -> None:
    # Gains 100 and 300, loss 300: max_rate 0.5 takes 0.5 x 400 = 200 (50, 150) and
    # leaves 100 to equity; a per-call cap of 120 takes 30 and 90.
    args = dict(vm_gain=np.array([100.0, 300.0]), equity=1000.0)
    r = wf.run(["vmgh", "ccp_equity"], np.array([300.0]), **args, vmgh_max_rate=0.5)
    assert r.by_layer == pytest.approx({"vmgh": 200.0, "ccp_equity": 100.0})
    np.testing.assert_allclose(r.vmgh_charged, [50.0, 150.0])
    r = wf.run(["vmgh", "ccp_equity"], np.array([300.0]), **args, vmgh_per_call=120.0)
    np.testing.assert_allclose(r.vmgh_charged, [30.0, 90.0])
    r = wf.run(["vmgh", "ccp_equity"], np.array([300.0]), **args, vmgh_total_cap=40.0)
    assert r.by_layer["vmgh"] == pytest.approx(40.0)
    with pytest.raises(ValueError, match="vmgh_max_rate"):
        wf.run(["vmgh"], np.array([1.0]), vm_gain=np.ones(1), vmgh_max_rate=2.0)


def test_venue_liquidation_engine() -> None:
    # ADV 91,000, k 0.05: 10 contracts at mark 91 (V = 910) cost 0.05 x 910 x 0.1 = 4.55.
    # Long 10 from 100, margin 100: equity 10 < maintenance 18.2, bankruptcy 90,
    # surplus 10 - 4.55 = 5.45. Short 10 from 82, margin 82: equity -8, bankruptcy
    # 90.2, shortfall 8 + 4.55 = 12.55. Fund 4.59 -> 10.04, pays 10.04 of 12.55;
    # 2.51 / 12.55 of the 10 contracts = 2 go to ADL.
    r = wf.liquidate_venue(["long", "short"], np.array([10.0, 10.0]), np.array([100.0, 82.0]),
                           np.array([91.0, 91.0]), np.array([100.0, 82.0]), np.array([18.2, 18.2]),
                           adv=91000.0, impact=0.05, insurance_fund=4.59)  # fmt: skip
    assert r["liquidated"].tolist() == [True, True]
    np.testing.assert_allclose(r["bankruptcy_price"], [90.0, 90.2])
    np.testing.assert_allclose(r["execution_price"], [90.545, 91.455])
    np.testing.assert_allclose(r["surplus"], [5.45, 0.0], atol=1e-12)
    np.testing.assert_allclose(r["shortfall"], [0.0, 12.55], atol=1e-12)
    np.testing.assert_allclose(r["fund_paid"], [0.0, 10.04], atol=1e-12)
    np.testing.assert_allclose(r["adl_quantity"], [0.0, 2.0], atol=1e-12)
    assert r["fund_end"] == pytest.approx(0.0, abs=1e-12)


def test_cover_sizing() -> None:
    # Uncovered losses of 3 groups in 2 stress scenarios. Scenario 0: 100, 80, 70;
    # scenario 1: 90, 20, 10. Cover-1: 100. Cover-2 (EMIR): max over scenarios of
    # max(U1, U2 + U3, U1 + U2 - prefunded): 180 in scenario 0 (110 in 1); with 50
    # prefunded: max(100, 150, 130) = 150.
    u = np.array([[100.0, 90.0], [80.0, 20.0], [70.0, 10.0]])
    assert wf.size_cover(u, 1) == {"fund": 100.0, "scenario": 0, "groups": [0]}
    assert wf.size_cover(u, 2) == {"fund": 180.0, "scenario": 0, "groups": [0, 1]}
    assert wf.size_cover(u, 2, 50.0)["fund"] == 150.0
    np.testing.assert_allclose(wf.allocate_pro_rata(np.array([1.0, 3.0]), 100.0), [25.0, 75.0])
    np.testing.assert_allclose(wf.allocate_pro_rata(np.zeros(4), 100.0), [25.0] * 4)
    with pytest.raises(ValueError, match="cover"):
        wf.size_cover(u, 3)


def test_bad_input() -> None:
    assert wf.layer_names()[0] == "defaulter_im" and len(wf.layer_names()) == 11
    with pytest.raises(ValueError, match="unknown layer 'sitq'"):
        wf.run(["sitq"], np.array([1.0]))
    with pytest.raises(ValueError, match="listed twice"):
        wf.run(["sitg", "sitg"], np.array([1.0]))
    with pytest.raises(ValueError, match="im: expected 2 values"):
        wf.run(["defaulter_im"], np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="cash: expected 2 values"):
        wf.run(["assessments"], np.array([1.0]), survivor_df=np.ones(2), cash=np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        wf.run(["sitg"], np.array([1.0]), sitg=-1.0)
