"""Margin building blocks on numpy arrays (models/margin of the engine).

Positions are values in USD (quantity x price). Functions named ``*_rows`` take
many accounts at once: ``values`` is accounts x assets and one margin per row is
returned. Quantiles scale the models: :func:`normal_quantile`,
:func:`unit_student_t_quantile`.

- parametric (variance-covariance): :func:`parametric_im`, :func:`parametric_im_rows`
- historical simulation (VaR, ES): :func:`overlapping_log_returns`,
  :func:`historical_var`, :func:`historical_es`, :func:`historical_pnl`,
  :func:`historical_risk`, :func:`historical_im_rows`, :func:`tail_count`
- crypto venues: :func:`tiered_margin`, :func:`tiered_margin_rows`
- SPAN-like scenario grid: :func:`scenario_grid_linear_rows`
- anti-procyclicality: :func:`apc_buffer_margin`, :func:`apc_weighted_vol`,
  :func:`apc_floor_margin`
- concentration: :func:`liquidation_cost`, :func:`liquidation_horizon_days`,
  :func:`concentration_addon_rows`
- collateral: :func:`collateral_value`, :func:`shocked_collateral_rows`,
  :func:`collateral_haircut`

The functions run in C++; bad shapes or values raise ValueError.
"""

from ccpnet._core import margin as _margin

apc_buffer_margin = _margin.apc_buffer_margin
apc_floor_margin = _margin.apc_floor_margin
apc_weighted_vol = _margin.apc_weighted_vol
collateral_haircut = _margin.collateral_haircut
collateral_value = _margin.collateral_value
concentration_addon_rows = _margin.concentration_addon_rows
historical_es = _margin.historical_es
historical_im_rows = _margin.historical_im_rows
historical_pnl = _margin.historical_pnl
historical_risk = _margin.historical_risk
historical_var = _margin.historical_var
liquidation_cost = _margin.liquidation_cost
liquidation_horizon_days = _margin.liquidation_horizon_days
normal_cdf = _margin.normal_cdf
normal_quantile = _margin.normal_quantile
overlapping_log_returns = _margin.overlapping_log_returns
parametric_im = _margin.parametric_im
parametric_im_rows = _margin.parametric_im_rows
scenario_grid_linear_rows = _margin.scenario_grid_linear_rows
shocked_collateral_rows = _margin.shocked_collateral_rows
tail_count = _margin.tail_count
tiered_margin = _margin.tiered_margin
tiered_margin_rows = _margin.tiered_margin_rows
unit_student_t_quantile = _margin.unit_student_t_quantile

__all__ = [
    "apc_buffer_margin",
    "apc_floor_margin",
    "apc_weighted_vol",
    "collateral_haircut",
    "collateral_value",
    "concentration_addon_rows",
    "historical_es",
    "historical_im_rows",
    "historical_pnl",
    "historical_risk",
    "historical_var",
    "liquidation_cost",
    "liquidation_horizon_days",
    "normal_cdf",
    "normal_quantile",
    "overlapping_log_returns",
    "parametric_im",
    "parametric_im_rows",
    "scenario_grid_linear_rows",
    "shocked_collateral_rows",
    "tail_count",
    "tiered_margin",
    "tiered_margin_rows",
    "unit_student_t_quantile",
]
