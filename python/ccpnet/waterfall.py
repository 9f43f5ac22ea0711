"""The default waterfall and default-fund sizing on numpy arrays (models/waterfall
and models/default_fund of the engine).

- :func:`run`: one CCP's waterfall over the losses of the members defaulting in a
  round, layer by layer, with what each defaulter and each survivor paid.
- :func:`layer_names`: the layers, in the engine's order.
- :func:`size_cover`: Cover-1 / Cover-2 default fund over stress scenarios;
  :func:`allocate_pro_rata` splits it among contributors.
- :func:`adl_rank`: auto-deleveraging priority of a position from aggregates;
  :func:`adl_priority`: the venues' ranking on entry and mark values.
- :func:`deleverage`: auto-deleveraging by quantity at the bankruptcy price.
- :func:`liquidate_venue`: a venue's liquidation engine and insurance fund over a
  sequence of accounts.
"""

from ccpnet._core import waterfall as _waterfall

WaterfallResult = _waterfall.WaterfallResult
adl_priority = _waterfall.adl_priority
adl_rank = _waterfall.adl_rank
allocate_pro_rata = _waterfall.allocate_pro_rata
deleverage = _waterfall.deleverage
layer_names = _waterfall.layer_names
liquidate_venue = _waterfall.liquidate_venue
run = _waterfall.run
size_cover = _waterfall.size_cover

__all__ = [
    "WaterfallResult",
    "adl_priority",
    "adl_rank",
    "allocate_pro_rata",
    "deleverage",
    "layer_names",
    "liquidate_venue",
    "run",
    "size_cover",
]
