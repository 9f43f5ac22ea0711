"""Systemic measures: each node's contribution to the system's loss by leave-one-out.

A member's contribution is what the system loses with its interbank exposures (as lender
and as borrower) minus what it loses without them (``interbank.exclude``, the rest of the
network as built); a link's, with the link minus without it (the CCPs' books rebalanced
over the other links). Every variant runs on the base's seed and scenarios (common random
numbers), so each contribution is a paired difference with a tight 95% interval. The
contributions of several nodes need not add up to the loss: the channels interact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ccpnet._compare import Comparison

if TYPE_CHECKING:
    import pandas as pd

    from ccpnet._core import Model


def _link_name(link: dict[str, Any]) -> str:
    return "-".join(str(c) for c in link["between"])


def _variants(
    data: dict[str, Any], member_ids: Sequence[str], link_indices: Sequence[int]
) -> list[tuple[dict[str, Any], str, str]]:
    """The leave-one-out variants: (variant, node, kind)."""
    out: list[tuple[dict[str, Any], str, str]] = []
    excluded = list((data.get("interbank") or {}).get("exclude") or [])
    for m in member_ids:
        setting = f"interbank.exclude={json.dumps(excluded + [m])}"
        out.append(({"name": f"without member {m}", "set": [setting]}, m, "member"))
    links = list(data.get("links") or [])
    for i in link_indices:
        rest = links[:i] + links[i + 1 :]
        name = _link_name(links[i])
        out.append(({"name": f"without link {name}", "set": [f"links={json.dumps(rest)}"]}, name, "link"))
    return out


def _largest_members(model: Model, top: int) -> list[str]:
    ids = list(model.member_ids)
    capital = list(model.member_capital)
    order = sorted(range(len(ids)), key=lambda i: (-capital[i], i))
    return [ids[i] for i in order[:top]]


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

    data = model.to_dict()
    if members is None:
        members = _largest_members(model, top) if data.get("interbank") else []
    elif members and not data.get("interbank"):
        raise ValueError("members' contributions need an interbank network: the model has no interbank section")
    n_links = len(data.get("links") or [])
    indices = list(range(n_links)) if links is True else ([] if links is False else list(links))
    for i in indices:
        if not 0 <= i < n_links:
            raise ValueError(f"link {i} does not exist: the model has {n_links} links")
    variants = _variants(data, list(members), indices)
    columns = ["node", "kind", "metric", "with_node", "without_node", "contribution", "lower", "upper", "share"]
    if not variants:
        return pd.DataFrame(columns=columns)
    setting = {"variants": json.dumps([v for v, _, _ in variants])}
    loo = model.with_overrides(setting)
    comparison = Comparison(_core.compare(loo, scenarios, seed, threads, progress=progress))
    if metric not in comparison.metrics:
        raise ValueError(f"unknown compared metric {metric!r}; known: {', '.join(comparison.metrics)}")
    means = comparison.variants.set_index("variant")[metric]
    diffs = comparison.differences
    diffs = diffs[diffs["metric"] == metric].set_index("variant")
    base = float(means.iloc[0])
    rows = []
    for variant, node, kind in variants:
        d = diffs.loc[variant["name"]]
        contribution = -float(d["mean"])
        rows.append(
            {
                "node": node,
                "kind": kind,
                "metric": metric,
                "with_node": base,
                "without_node": float(means[variant["name"]]),
                "contribution": contribution,
                "lower": -float(d["hi"]),
                "upper": -float(d["lo"]),
                "share": contribution / base if base else 0.0,
            }
        )
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return frame.sort_values("contribution", ascending=False, kind="stable").reset_index(drop=True)
