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
