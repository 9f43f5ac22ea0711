"""The standard figures of a run (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure`. Without ``ax`` the
figure is created on its own (not through pyplot, so nothing is registered
globally and nothing is shown); in Jupyter it displays when it is the value of a
cell. With ``ax`` the plot is drawn there and ``ax.figure`` is returned.

- :func:`loss_distribution`: the distribution of the system loss (or of one CCP's)
  with the VaR and the expected shortfall marked.
- :func:`waterfall_depletion`: mean loss taken by each waterfall layer, per CCP.
- :func:`network`: CCPs, members, memberships and links; size is capital, colour
  is how often the node defaults.
- :func:`compare`: variants side by side with confidence intervals (a
  :class:`ccpnet.Comparison` or a table).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ccpnet import _core
from ccpnet._compare import Comparison
from ccpnet._result import Result

__all__ = ["compare", "loss_distribution", "network", "var_es", "waterfall_depletion"]

# Waterfall layers in the engine's order (ccps.csv: loss_<layer>).
LAYERS = tuple(_core.waterfall.layer_names())


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _usd(x: float) -> str:
    """Compact dollars: 1.2e9 -> '$1.2bn'."""
    a = abs(x)
    for scale, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if a >= scale:
            return f"${x / scale:.3g}{unit}"
    return f"${x:.3g}"


def var_es(losses: np.ndarray, confidence: float) -> tuple[float, float]:
    """Value at risk and expected shortfall of a loss sample, as the engine computes them.

    VaR is the ``confidence`` quantile with linear interpolation between order
    statistics (numpy's default); ES is the mean of the ``ceil(n (1 - confidence))``
    largest losses.
    """
    x = np.asarray(losses, dtype=float)
    if x.size == 0:
        return 0.0, 0.0
    var = float(np.quantile(x, confidence))
    k = max(1, math.ceil(x.size * (1.0 - confidence) - 1e-9))
    tail = np.sort(x)[-k:][::-1]
    es = float(np.sum(tail) / k)
    return var, es


def loss_distribution(
    result: Result,
    *,
    column: str = "total_loss",
    confidence: float = 0.99,
    bins: int = 60,
    log: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of a per-scenario loss with its VaR and expected shortfall marked.

    Parameters
    ----------
    result : Result
        A run that kept its scenarios.
    column : str
        A loss column of ``result.scenarios``: ``total_loss`` (the system's loss beyond
        the defaulters' own resources), ``uncovered_loss``, ``closeout_loss`` or
        ``loss_<CCP>``.
    confidence : float
        Level of the VaR and ES marks (0.99: the summary's p99 and es99).
    bins : int
        Histogram bins.
    log : bool
        Logarithmic count axis (losses are rare and heavy-tailed).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a level in (0, 1), found {confidence}")
    frame = result.scenarios
    if column not in frame.columns or not (column.endswith("_loss") or column.startswith("loss_")):
        losses = [c for c in frame.columns if c.endswith("_loss") or c.startswith("loss_")]
        raise ValueError(f"column: expected one of {', '.join(losses)}, found {column!r}")
    x = frame[column].to_numpy(dtype=float)
    system = result.summary["system"]
    if column == "total_loss" and confidence == 0.99 and result.completed == x.size:
        var, es = system["p99_total_loss"], system["es99_total_loss"]  # the engine's numbers
    else:
        var, es = var_es(x, confidence)
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
    upper = max(float(x.max(initial=0.0)), es, 1.0)
    ax.hist(x, bins=np.linspace(0.0, upper * 1.001, bins + 1), color="#4c72b0", alpha=0.85, log=log, label="scenarios")
    pct = f"{100 * confidence:g}%"
    ax.axvline(var, color="#dd8452", linestyle="--", linewidth=1.6, label=f"VaR {pct}: {_usd(var)}")
    ax.axvline(es, color="#c44e52", linestyle="-", linewidth=1.6, label=f"ES {pct}: {_usd(es)}")
    share = float(np.mean(x > 0.0)) if x.size else 0.0
    ax.set_xlabel(f"{column} (USD)")
    ax.set_ylabel("scenarios")
    ax.set_title(f"{result.summary['scenario']}: {column}, {x.size} scenarios ({100 * share:.3g}% with a loss)")
    ax.legend(loc="upper right")
    return fig


def waterfall_depletion(result: Result, *, ax: Axes | None = None) -> Figure:
    """Mean loss taken by each waterfall layer, stacked per CCP, with the uncovered rest.

    Layers are stacked in the engine's order (defaulter's margin and fund first);
    only layers that some CCP uses are shown. The expected uncovered loss (beyond
    the last layer) is stacked on top, hatched.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ccps = result.ccps
    summary = result.summary["ccps"]
    used = [layer for layer in LAYERS if any(layer in summary[c]["layer_losses"] for c in ccps["ccp"])]
    fig, ax = _figure_and_axes(ax, (max(5.0, 1.2 * len(ccps) + 3.0), 4.5))
    x = np.arange(len(ccps))
    bottom = np.zeros(len(ccps))
    cmap = colormaps["viridis"]
    for i, layer in enumerate(used):
        heights = ccps[f"loss_{layer}"].to_numpy(dtype=float)
        ax.bar(x, heights, bottom=bottom, width=0.6, color=cmap(i / max(1, len(used) - 1)), label=layer)
        bottom += heights
    uncovered = np.array([summary[c]["expected_uncovered_loss"] for c in ccps["ccp"]], dtype=float)
    ax.bar(x, uncovered, bottom=bottom, width=0.6, color="white", edgecolor="#c44e52", hatch="//", label="uncovered")
    ax.set_xticks(x, list(ccps["ccp"]))
    ax.set_ylabel("mean loss per scenario (USD)")
    ax.set_title(f"{result.summary['scenario']}: waterfall depletion")
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return fig


def _layout(model: _core.Model) -> tuple[np.ndarray, np.ndarray]:
    """CCPs on a circle; members on small rings around the centre of their CCPs."""
    n_ccps = len(model.ccp_ids)
    start = np.pi if n_ccps == 2 else np.pi / 2.0  # two CCPs side by side, more from the top
    angles = 2.0 * np.pi * np.arange(n_ccps) / max(1, n_ccps) + start
    radius = 0.0 if n_ccps == 1 else 1.0
    ccp_xy = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])

    memberships: dict[int, set[int]] = {}
    for kind, ccp, owner in zip(model.account_kind, model.account_ccp, model.account_owner):
        if kind == "member":
            memberships.setdefault(int(owner), set()).add(int(ccp))
    groups: dict[tuple[int, ...], list[int]] = {}
    for m in range(len(model.member_ids)):
        groups.setdefault(tuple(sorted(memberships.get(m, ()))), []).append(m)

    member_xy = np.zeros((len(model.member_ids), 2))
    spacing = 2.0 * np.pi / max(1, n_ccps)
    for ccps, members in groups.items():
        centre = ccp_xy[list(ccps)].mean(axis=0) if ccps else np.zeros(2)
        if len(ccps) == 1:
            # An arc on the outer side of the CCP.
            outward = math.atan2(centre[1], centre[0]) if radius else np.pi / 2.0
            ring = 0.35 if n_ccps > 1 else 0.8
            span = min(spacing * 0.8, np.pi * 1.6) if n_ccps > 1 else 2.0 * np.pi
            offsets = (np.arange(len(members)) + 0.5) / len(members) - 0.5
            theta = outward + span * offsets
        else:
            ring = 0.12 * math.sqrt(len(members))
            theta = 2.0 * np.pi * np.arange(len(members)) / len(members) + 0.3 * len(ccps)
        for k, m in enumerate(members):
            member_xy[m] = centre + ring * np.array([math.cos(theta[k]), math.sin(theta[k])])
    return ccp_xy, member_xy


def _sizes(capital: np.ndarray, smallest: float, largest: float) -> np.ndarray:
    capital = np.asarray(capital, dtype=float)
    top = capital.max(initial=0.0)
    if top <= 0.0:
        return np.full(capital.shape, smallest)
    return smallest + (largest - smallest) * np.clip(capital, 0.0, None) / top


def network(
    data: Result | _core.Model,
    *,
    labels: bool | None = None,
    cmap: str = "Reds",
    ax: Axes | None = None,
) -> Figure:
    """The system: CCPs (squares), members (circles), memberships and links.

    Marker area grows with capital. With a :class:`Result`, colour is how often each
    node defaults: P(fail) for a CCP, P(default) for a member; with a :class:`Model`
    nodes are grey. CCPs sit on a circle; each member sits near the CCPs it clears at
    (members of several CCPs between them). Links are thick blue lines.

    Parameters
    ----------
    data : Result or Model
    labels : bool, optional
        Label members (default: when there are at most 30).
    cmap : str
        Colour map of the default frequency.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(data, Result):
        model = data.model
        ccp_p = data.ccps["p_fail"].to_numpy(dtype=float)
        member_p = data.members.groupby("member", sort=False)["p_default"].first()
        member_p = member_p.reindex(model.member_ids).fillna(0.0).to_numpy(dtype=float)
    elif isinstance(data, _core.Model):
        model, ccp_p, member_p = data, None, None
    else:
        raise TypeError(f"network: expected a Result or a Model, found {type(data).__name__}")

    ccp_xy, member_xy = _layout(model)
    fig, ax = _figure_and_axes(ax, (7.5, 7.5))
    # Markers shrink as the system grows, so that nodes stay apart.
    shrink = min(1.0, math.sqrt(30.0 / max(1, len(model.member_ids))))
    ccp_shrink = min(1.0, 4.0 / max(1, len(model.ccp_ids)))

    edges = [
        (member_xy[int(owner)], ccp_xy[int(ccp)])
        for kind, ccp, owner in zip(model.account_kind, model.account_ccp, model.account_owner)
        if kind == "member"
    ]
    many = len(edges) > 200
    memberships = LineCollection(edges, colors="#b0b0b0", linewidths=0.3 if many else 0.6, zorder=1)
    memberships.set_alpha(0.4 if many else 1.0)
    ax.add_collection(memberships)
    links = [(ccp_xy[a], ccp_xy[b]) for a, b in model.links]
    ax.add_collection(LineCollection(links, colors="#1f5fa8", linewidths=3.0, zorder=2))

    colours: dict[str, Any]
    if ccp_p is not None and member_p is not None:
        top = max(float(np.max(ccp_p, initial=0.0)), float(np.max(member_p, initial=0.0)), 1e-12)
        norm = Normalize(vmin=0.0, vmax=top)
        colours = {"cmap": cmap, "norm": norm}
        member_c: Any = member_p
        ccp_c: Any = ccp_p
    else:
        colours = {}
        member_c = "#9a9a9a"
        ccp_c = "#6a6a6a"
    members = ax.scatter(
        member_xy[:, 0],
        member_xy[:, 1],
        s=_sizes(model.member_capital, 20.0 * shrink, 400.0 * shrink),
        c=member_c,
        marker="o",
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
        label="member",
        **colours,
    )
    ax.scatter(
        ccp_xy[:, 0],
        ccp_xy[:, 1],
        s=_sizes(model.ccp_capital, 200.0 * ccp_shrink, 1400.0 * ccp_shrink),
        c=ccp_c,
        marker="s",
        edgecolors="black",
        linewidths=1.2,
        zorder=4,
        label="CCP",
        **colours,
    )
    for (x, y), name in zip(ccp_xy, model.ccp_ids):
        ax.annotate(name, (x, y), xytext=(0, 16), textcoords="offset points", ha="center", weight="bold", zorder=5)
    if labels if labels is not None else len(model.member_ids) <= 30:
        for (x, y), name in zip(member_xy, model.member_ids):
            ax.annotate(name, (x, y), xytext=(0, -12), textcoords="offset points", ha="center", fontsize="small")
    if colours:
        fig.colorbar(members, ax=ax, shrink=0.7, label="P(default) of members, P(fail) of CCPs")

    ax.legend(
        handles=[
            Line2D([], [], marker="s", linestyle="", color="#6a6a6a", label="CCP"),
            Line2D([], [], marker="o", linestyle="", color="#9a9a9a", label="member"),
            Line2D([], [], color="#1f5fa8", linewidth=3.0, label="link"),
            Line2D([], [], color="#b0b0b0", linewidth=0.6, label="membership"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=4,
        frameon=False,
        fontsize="small",
    )
    # A square window around everything, whatever the shape of the layout.
    everything = np.vstack([ccp_xy, member_xy]) if len(member_xy) else ccp_xy
    centre = (everything.min(axis=0) + everything.max(axis=0)) / 2.0
    half = float((everything.max(axis=0) - everything.min(axis=0)).max()) / 2.0 + 0.35
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(
        f"{model.name}\n{len(model.ccp_ids)} CCPs, {len(model.member_ids)} members, {len(links)} links",
        fontsize="medium",
    )
    return fig


def compare(table: pd.DataFrame | Comparison, *, axes: np.ndarray | None = None) -> Figure:
    """Variants side by side: a mean and its confidence interval per metric.

    Parameters
    ----------
    table : pandas.DataFrame or Comparison
        Columns ``variant``, ``metric``, ``mean``, ``lo``, ``hi`` (one row per variant
        and metric), or the result of :func:`ccpnet.compare`, whose paired differences
        to the base (:attr:`Comparison.differences`) are drawn.
    axes : array of matplotlib Axes, optional
        One per metric, in order of first appearance.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric, variants on the vertical axis, intervals as error bars.
    """
    if isinstance(table, Comparison):
        table = table.differences
    needed = ["variant", "metric", "mean", "lo", "hi"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"compare: the table needs the columns {needed}; missing {missing}")
    if (table["lo"] > table["mean"]).any() or (table["mean"] > table["hi"]).any():
        raise ValueError("compare: every row needs lo <= mean <= hi")
    metrics = list(dict.fromkeys(table["metric"]))
    variants = list(dict.fromkeys(table["variant"]))
    if axes is None:
        fig = Figure(figsize=(4.0 * len(metrics) + 1.5, 0.45 * len(variants) + 2.0), layout="constrained")
        panels = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0])
    else:
        panels = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if len(panels) != len(metrics):
            raise ValueError(f"compare: {len(metrics)} metrics need {len(metrics)} axes, found {len(panels)}")
        fig = panels[0].figure
    y = {v: i for i, v in enumerate(variants)}
    for ax, metric in zip(panels, metrics):
        rows = table[table["metric"] == metric]
        pos = np.array([y[v] for v in rows["variant"]], dtype=float)
        mean = rows["mean"].to_numpy(dtype=float)
        err = np.vstack([mean - rows["lo"].to_numpy(dtype=float), rows["hi"].to_numpy(dtype=float) - mean])
        ax.errorbar(mean, pos, xerr=err, fmt="o", color="#1f5fa8", ecolor="#1f5fa8", capsize=4, label=metric)
        if (rows["lo"] < 0.0).any() and (rows["hi"] > 0.0).any():
            ax.axvline(0.0, color="#b0b0b0", linewidth=0.8, zorder=0)  # no difference
        ax.set_title(str(metric))
        ax.set_yticks(range(len(variants)), variants)
        ax.grid(axis="x", alpha=0.3)
    panels[0].invert_yaxis()
    return fig
