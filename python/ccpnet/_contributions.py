"""Systemic measures: each node's contribution to the system's loss by leave-one-out.

A member's contribution is what the system loses with its interbank exposures (as lender
and as borrower) minus what it loses without them (``interbank.exclude``, the rest of the
network as built); a link's, with the link minus without it (the CCPs' books rebalanced
over the other links, what none nets taken by the CCP's members directly). Every variant
runs on the base's seed and scenarios (common random numbers), so each contribution is a
paired difference with a tight 95% interval. The contributions of several nodes need not
add up to the loss: the channels interact. The engine computes them
(sim/contributions.cpp), as ``ccpnet contributions FILE`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from ccpnet._core import Model


def contributions(
    model: Model,
    members: Sequence[str] | None = None,
    links: Sequence[int] | bool = True,
    *,
    top: int = 10,
    metric: str = "total_loss",
    scenarios: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Each member's and link's contribution to a system metric, by leave-one-out.

    Parameters
    ----------
    model : Model
        The system; its own ``variants`` are replaced by the leave-one-out ones.
    members : sequence of member ids, optional
        Members whose interbank exposures are left out one at a time (the model needs an
        ``interbank`` section). Default: the ``top`` members with the largest capital
        when the model has an interbank network, none otherwise.
    links : True, False or sequence of int
        Links (positions in ``links``) left out one at a time; True: every link.
    top : int
        How many members by default.
    metric : str
        A compared metric (``ccpnet.metrics()``, ``compare`` true): ``total_loss``,
        ``interbank_loss``, ``client_loss``, ...
    scenarios, seed, threads, progress
        As :func:`ccpnet.compare`.

    Returns
    -------
    pandas.DataFrame
        One row per node: ``node``, ``kind`` (member or link), ``metric``, ``with_node``
        (the base's mean), ``without_node`` (the variant's), ``contribution`` (their
        paired difference, base minus variant), ``lower`` and ``upper`` (its 95%
        interval), ``share`` (contribution over the base's mean), largest first.
    """
    import pandas as pd

    from ccpnet import _core

    chosen_links = None if links is True else ([] if links is False else [int(i) for i in links])
    chosen_members = None if members is None else [str(m) for m in members]
    rows = _core.contributions(
        model, chosen_members, chosen_links, top, metric, scenarios, seed, threads, progress=progress
    )
    columns = ["node", "kind", "metric", "with_node", "without_node", "contribution", "lower", "upper", "share"]
    return pd.DataFrame.from_records(rows, columns=columns)
