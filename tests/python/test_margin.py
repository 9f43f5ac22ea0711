"""ccpnet.margin: the margin building blocks against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ccpnet
import ccpnet.margin as margin

Q99 = 2.3263478740408408  # standard normal 99% quantile (tables)


def test_quantiles() -> None:
    assert margin.normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-12)
    assert margin.normal_quantile(0.99) == pytest.approx(Q99, rel=1e-12)
    assert margin.normal_cdf(0.0) == 0.5
    assert margin.normal_cdf(1.959963984540054) == pytest.approx(0.975, rel=1e-12)
    # Student t with 4 degrees of freedom: t_0.99 = 3.746947 (tables), scaled by sqrt(2/4).
    assert margin.unit_student_t_quantile(0.99, 4) == pytest.approx(3.746947 * math.sqrt(0.5), rel=1e-6)
    with pytest.raises(ValueError, match="degrees of freedom"):
        margin.unit_student_t_quantile(0.99, 2)
    with pytest.raises(ValueError):
        margin.normal_quantile(1.5)


def test_parametric() -> None:
    # One asset: 2 x sqrt(4 days) x sqrt(0.02^2 x 1000^2) = 4 x 20 = 80.
    assert margin.parametric_im(np.array([1000.0]), np.array([[0.0004]]), 4, 2.0) == pytest.approx(80.0)
    # Two assets, sigma 0.1 and 0.2, correlation 0.5, values 100 and -50:
    # variance 100^2 0.01 + 50^2 0.04 - 2 x 100 x 50 x 0.5 x 0.1 x 0.2 = 100, sd 10.
    sigma = np.array([0.1, 0.2])
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    cov = np.outer(sigma, sigma) * corr
    v = np.array([100.0, -50.0])
    assert margin.parametric_im(v, cov, 1, Q99) == pytest.approx(10 * Q99, rel=1e-12)
    factor = np.diag(sigma) @ np.linalg.cholesky(corr)
    rows = margin.parametric_im_rows(np.array([[100.0, -50.0], [100.0, 50.0]]), factor, 1, Q99)
    # Second row: variance 100 + 100 + 100 = 300.
    np.testing.assert_allclose(rows, [10 * Q99, math.sqrt(300) * Q99], rtol=1e-12)
    with pytest.raises(ValueError, match="covariance"):
        margin.parametric_im(v, np.eye(3), 1, Q99)


def test_historical() -> None:
    # Prices 100, 110, 99, 118.8: 1-day returns +10%, -10%, +20%; a position of 1000
    # gains 100, loses 100, gains 200. Losses from the worst: 100, -100, -200.
    prices = np.array([[100.0], [110.0], [99.0], [118.8]])
    r = margin.overlapping_log_returns(prices, 1)
    np.testing.assert_allclose(r[:, 0], np.log([1.1, 0.9, 1.2]), rtol=1e-12)
    pnl = margin.historical_pnl(r, np.array([1000.0]))
    np.testing.assert_allclose(pnl, [100.0, -100.0, 200.0], rtol=1e-12)
    # alpha 0.5: k = ceil(3 x 0.5) = 2; VaR the 2nd worst loss -100; ES (100 - 100) / 2 = 0.
    assert margin.tail_count(3, 0.5) == 2
    assert margin.historical_var(pnl, 0.5) == pytest.approx(-100.0)
    assert margin.historical_es(pnl, 0.5) == pytest.approx(0.0, abs=1e-12)
    # alpha 0.99: k = 1, the worst loss 100. n = 100 at 0.99 is k = 1 too (not 2).
    assert margin.historical_var(pnl, 0.99) == pytest.approx(100.0)
    assert margin.tail_count(100, 0.99) == 1
    risk = margin.historical_risk(prices, np.array([1000.0]), 0.99, 2)
    # 2-day windows: 100 -> 99 (-1%), 110 -> 118.8 (+8%): P&L -10 and +80.
    assert risk == pytest.approx({"var": 10.0, "expected_shortfall": 10.0, "observations": 2})
    im = margin.historical_im_rows(np.array([[1000.0], [-1000.0]]), r, 0.99, "es")
    # The short position loses 200 on the +20% day.
    np.testing.assert_allclose(im, [100.0, 200.0], rtol=1e-12)
    assert margin.historical_im_rows(np.array([[1000.0]]), r, 0.5)[0] == 0.0  # max(0, VaR -100)
    with pytest.raises(ValueError, match="measure"):
        margin.historical_im_rows(np.array([[1000.0]]), r, 0.5, "cvar")


def test_tiered() -> None:
    tiers = [(1.0e6, 0.02), (math.inf, 0.05)]
    # 2% of the first 1m, 5% of the next 2m.
    assert margin.tiered_margin(3.0e6, tiers) == pytest.approx(20_000 + 100_000)
    assert margin.tiered_margin(5.0e5, tiers) == pytest.approx(10_000)
    rows = margin.tiered_margin_rows(np.array([[3.0e6, -5.0e5], [0.0, 0.0]]), tiers)
    np.testing.assert_allclose(rows, [130_000, 0.0])
    with pytest.raises(ValueError, match=r"tiers\[1\]"):
        margin.tiered_margin(1.0, [(1.0e6, 0.02), (5.0e5, 0.05)])


def test_scenario_grid_linear() -> None:
    # Scan range 3 x 0.1 = 0.3: the long loses 1000 (1 - e^-0.3) = 259.1818, the short
    # 1000 (e^0.3 - 1) = 349.8588 (e^0.3 = 1.3498588075760032).
    im = margin.scenario_grid_linear_rows(np.array([[1000.0, -1000.0]]), np.array([0.1, 0.1]))
    assert im[0] == pytest.approx(1000 * (1 - 1 / 1.3498588075760032) + 349.8588075760032, rel=1e-12)


def test_anti_procyclicality() -> None:
    # max(m, 1.25 min(m, m_ref)): calm 100 -> 125; rising 110 -> 125; 150 -> 150.
    assert margin.apc_buffer_margin(100.0, 100.0) == pytest.approx(125.0)
    np.testing.assert_allclose(margin.apc_buffer_margin(np.array([110.0, 150.0]), np.array([100.0, 100.0])), [125, 150])
    assert margin.apc_weighted_vol(0.2, 0.4, 0.25) == pytest.approx(math.sqrt(0.75 * 0.04 + 0.25 * 0.16))
    assert margin.apc_floor_margin(80.0, 100.0) == 100.0
    np.testing.assert_array_equal(margin.apc_floor_margin(np.array([80.0, 120.0]), np.array([100.0, 100.0])), [100, 120])
    with pytest.raises(ValueError, match="buffer"):
        margin.apc_buffer_margin(1.0, 1.0, -0.1)


def test_concentration_and_collateral() -> None:
    # 0.5 x 1m x sqrt(1m / 100m) = 50,000.
    cost = margin.liquidation_cost(np.array([[1.0e6]]), np.array([1.0e8]), np.array([0.5]))
    assert cost[0] == pytest.approx(50_000.0)
    # 50m at 10% of a 100m ADV takes 5 days; 10m would take 1, less than the 2-day MPOR.
    assert margin.liquidation_horizon_days(5.0e7, 1.0e8, 0.1, 2) == pytest.approx(5.0)
    assert margin.liquidation_horizon_days(1.0e7, 1.0e8, 0.1, 2) == pytest.approx(2.0)
    # 2 x 0.02 x 50m x (sqrt 5 - sqrt 2) = 2m x 0.8218544 = 1,643,708.8.
    addon = margin.concentration_addon_rows(np.array([[5.0e7]]), np.array([0.02]), np.array([1.0e8]), 2, 2.0, 0.1)
    assert addon[0] == pytest.approx(2.0e6 * (math.sqrt(5) - math.sqrt(2)), rel=1e-12)
    # 100 (1 - 0.1) + 200 (1 - 0.5) = 190; after BTC halves: 45 + 100 = 145.
    assert margin.collateral_value(np.array([100.0, 200.0]), np.array([0.1, 0.5])) == pytest.approx(190.0)
    shocked = margin.shocked_collateral_rows(np.array([[100.0, 200.0]]), np.array([0.1, 0.5]), np.log([0.5, 1.0]))
    assert shocked[0] == pytest.approx(145.0)
    assert margin.collateral_haircut(0.02, 4, 2.0) == pytest.approx(1 - math.exp(-0.08))
    with pytest.raises(ValueError, match="haircut"):
        margin.collateral_value(np.array([100.0]), np.array([1.0]))


def test_engine_margin_is_the_building_block() -> None:
    # A CCP's parametric IM in the engine is parametric_im on the account's values.
    text = """\
name: one account
market:
  assets:
    - {id: A, price: 100, volatility: 0.365}
    - {id: B, price: 50, volatility: 0.73}
  correlation: [[1.0, 0.5], [0.5, 1.0]]
  shocks: {model: gaussian}
ccps:
  - {id: C, capital: 1.0e6, margin: {model: parametric, confidence: 0.99, mpor_days: 2}}
members:
  - {id: M1, capital: 1.0e6, positions: {C: {A: 10, B: -20}}}
  - {id: M2, capital: 1.0e6, positions: {C: {A: -10, B: 20}}}
"""
    model = ccpnet.Model.from_text(text)
    daily = np.array([0.365, 0.73]) / math.sqrt(365.0)
    cov = np.outer(daily, daily) * np.array([[1.0, 0.5], [0.5, 1.0]])
    expected = margin.parametric_im(np.array([1000.0, -1000.0]), cov, 2, Q99)
    np.testing.assert_allclose(model.initial_margin, [expected, expected], rtol=1e-12)
