"""The standard figures: the figures of the report, drawn by the engine.

Every function returns a :class:`Figure`, an SVG drawing made by the same code
that draws ``report.html`` (``ccpnet run --report``, ``stress``, ``compare``), so
that a figure in a notebook is the figure of the report. In Jupyter a figure
displays when it is the value of a cell; :meth:`Figure.save` writes it to an
``.svg`` file (or an ``.html`` page).

- :func:`loss_distribution`: the distribution of the system loss (or of one CCP's
  or another loss column) on a log scale, histogram and exceedance curve, with the
  VaR and the expected shortfall marked.
- :func:`waterfall_depletion`: mean loss taken by each waterfall layer, per CCP.
- :func:`network`: CCPs, members, memberships and links, coloured by how often
  each node defaults.
- :func:`term_structure`: in time steps, P(some member has defaulted) and P(some
  CCP has failed) by each day, with their 95% intervals.
- :func:`stress_waterfalls`, :func:`stress_network`: one stress scenario's
  waterfalls and contagion paths.
- :func:`compare`: the paired differences of variants to the base with their 95%
  intervals.
- :func:`arrange`: figures side by side in a grid.

:func:`var_es` and :func:`money` are the engine's value at risk, expected
shortfall and amount formatting.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ccpnet import _core
from ccpnet._compare import Comparison
from ccpnet._files import write_text_file
from ccpnet._result import Result
from ccpnet._stress import StressResult

__all__ = [
    "Figure",
    "arrange",
    "compare",
    "loss_distribution",
    "money",
    "network",
    "stress_network",
    "stress_waterfalls",
    "term_structure",
    "var_es",
    "waterfall_depletion",
]

_figures = _core.figures
# Each figure's SVG element ids start with their own prefix, so that figures
# shown together in one notebook do not share ids.
_prefixes = itertools.count(1)
_VIEW_BOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def _prefix() -> str:
    return f"f{next(_prefixes)}-"


class Figure:
    """An SVG figure drawn by the engine, as the report shows it.

    Attributes
    ----------
    svg : str
        The ``<svg>`` element, its style inside (self-contained, no scripts).
    width, height : float
        Its size in its own units (pixels at 100%).
    """

    __slots__ = ("svg", "width", "height")

    def __init__(self, svg: str) -> None:
        match = _VIEW_BOX.search(svg)
        if not svg.startswith("<svg") or match is None:
            raise ValueError("Figure: expected an <svg> element with a viewBox")
        self.svg = svg
        self.width = float(match.group(1))
        self.height = float(match.group(2))

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div style="max-width:{self.width:g}px">{self.svg}</div>'

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure to ``path``: an SVG file, or with a ``.html`` suffix a page holding it.

        Returns
        -------
        pathlib.Path
        """
        out = Path(path)
        text = self.svg
        if out.suffix.lower() in (".html", ".htm"):
            text = f'<!DOCTYPE html>\n<html lang="en">\n<meta charset="utf-8">\n<body>\n{self._repr_html_()}\n</body>\n</html>\n'
        return write_text_file(out, text)

    def __repr__(self) -> str:
        return f"<ccpnet.plot.Figure {self.width:g} x {self.height:g}>"


def money(x: float) -> str:
    """An amount as the report writes it: three significant digits, k / m / bn / tn ("12.3m")."""
    return str(_figures.money(float(x)))


def var_es(losses: np.ndarray, confidence: float) -> tuple[float, float]:
    """Value at risk and expected shortfall of a loss sample, as the engine computes them.

    VaR is the ``confidence`` quantile with linear interpolation between order
    statistics (numpy's default); ES is the mean of the ``ceil(n (1 - confidence))``
    largest losses.
    """
    var, es = _figures.var_es(np.asarray(losses, dtype=float), float(confidence))
    return float(var), float(es)


def loss_distribution(result: Result, *, column: str = "total_loss", confidence: float = 0.99) -> Figure:
    """The distribution of a per-scenario loss: histogram and exceedance curve, log scale.

    The report's figure: the share of all scenarios in each bin of equal width on a
    log scale (scenarios without a loss cannot be shown and are counted in the
    shares), and the probability that the loss exceeds each level, with the VaR and
    the expected shortfall at ``confidence`` marked.

    Parameters
    ----------
    result : Result
        A run; a column other than ``total_loss`` (or another confidence) needs its
        scenarios kept.
    column : str
        A loss column of ``result.scenarios``: ``total_loss`` (the system's loss beyond
        the defaulters' own resources), ``uncovered_loss``, ``closeout_loss`` or
        ``loss_<CCP>``.
    confidence : float
        Level of the VaR and ES marks (0.99: the summary's p99 and es99).

    Returns
    -------
    Figure
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a level in (0, 1), found {confidence}")
    if column == "total_loss" and confidence == 0.99:
        return Figure(result._core.figure("loss_distribution", _prefix()))
    frame = result.scenarios
    if column not in frame.columns or not (column.endswith("_loss") or column.startswith("loss_")):
        losses = [c for c in frame.columns if c.endswith("_loss") or c.startswith("loss_")]
        raise ValueError(f"column: expected one of {', '.join(losses)}, found {column!r}")
    values = frame[column].to_numpy(dtype=float)
    return Figure(_figures.loss_distribution(values, confidence, column, _prefix()))


def waterfall_depletion(result: Result, *, beyond_defaulters: bool = False) -> Figure:
    """Mean loss per scenario absorbed by each waterfall layer, one bar per CCP.

    Layers in the order the CCP uses them, then what no layer covered (hatched red);
    P(fail) under each CCP. With ``beyond_defaulters``, without the defaulters' own
    initial margin and fund contribution (the part that reaches the CCP's capital and
    the surviving members).

    Returns
    -------
    Figure
    """
    name = "waterfall_depletion_beyond_defaulters" if beyond_defaulters else "waterfall_depletion"
    return Figure(result._core.figure(name, _prefix()))


def network(data: Result | _core.Model) -> Figure:
    """The system: CCPs on an inner circle, members around them, memberships and links.

    Circle area grows with capital. With a :class:`Result`, colour is how often each
    node defaults: P(fail) for a CCP, P(default) for a member; with a :class:`Model`
    nodes are grey. Beyond 60 members, members clearing at the same CCPs are drawn as
    one dashed circle.

    Returns
    -------
    Figure
    """
    if isinstance(data, Result):
        return Figure(data._core.figure("network", _prefix()))
    if isinstance(data, _core.Model):
        return Figure(_figures.network(data, _prefix()))
    raise TypeError(f"network: expected a Result or a Model, found {type(data).__name__}")


def term_structure(result: Result) -> Figure:
    """A run in time steps: P(some member has defaulted) and P(some CCP has failed) by
    each day a step ends on, with their 95% Wilson intervals shaded
    (:attr:`Result.term_structure`). Raises ValueError for a one-period run.

    Returns
    -------
    Figure
    """
    return Figure(result._core.figure("term_structure", _prefix()))


def _stress_index(stress: StressResult, scenario: str | int) -> int:
    names = stress.names
    if isinstance(scenario, str):
        if scenario not in names:
            raise KeyError(f"no stress scenario {scenario!r}; the stress scenarios are {names}")
        return names.index(scenario)
    return int(scenario)


def stress_waterfalls(stress: StressResult, scenario: str | int = 0) -> Figure:
    """Loss absorbed by each waterfall layer per CCP in one stress scenario (name or index).

    Failed CCPs are shaded red; the hatched segment is what no layer covered.
    """
    return Figure(stress._core.figure("waterfalls", _stress_index(stress, scenario), _prefix()))


def stress_network(stress: StressResult, scenario: str | int = 0) -> Figure:
    """Who defaults and how it spreads in one stress scenario (name or index).

    Members coloured by the cause of their default; arrows: a defaulter's book closed
    out at a CCP, a failed CCP's link account closed out by a linked CCP.
    """
    return Figure(stress._core.figure("network", _stress_index(stress, scenario), _prefix()))


def compare(
    table: pd.DataFrame | Comparison,
    *,
    units: Mapping[str, str] | None = None,
    axis: str = "variant minus base",
) -> Figure:
    """Variants against the base: a paired difference and its 95% interval per metric.

    Parameters
    ----------
    table : Comparison or pandas.DataFrame
        The result of :func:`ccpnet.compare` (the report's figure: its metrics in its
        order), or a table with columns ``variant``, ``metric``, ``mean``, ``lo``,
        ``hi`` (one row per variant and metric), e.g. :attr:`Comparison.differences`.
    units : mapping, optional
        For a table: the unit of each metric, ``USD``, ``probability`` or ``count``
        (default: a metric whose name starts with ``p_`` or ``any_`` is a probability,
        one with ``loss`` in it USD, any other a count).
    axis : str
        For a table: the name of the x axis.

    Returns
    -------
    Figure
        One panel per metric, one under the other; dots blue when the whole interval
        is below 0, red above, grey across.
    """
    if isinstance(table, Comparison):
        return Figure(table._core.figure(_prefix()))
    needed = ["variant", "metric", "mean", "lo", "hi"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"compare: the table needs the columns {needed}; missing {missing}")
    units = dict(units or {})

    def unit(metric: str) -> str:
        if metric in units:
            return units[metric]
        if metric.startswith(("p_", "any_")):
            return "probability"
        return "USD" if "loss" in metric else "count"

    panels = []
    for metric, rows in table.groupby("metric", sort=False):
        data = [(str(r.variant), float(r.mean), float(r.lo), float(r.hi)) for r in rows.itertuples()]
        panels.append((str(metric), unit(str(metric)), data))
    return Figure(_figures.dot_whiskers(panels, axis, _prefix()))


def arrange(figures: Iterable[Figure], columns: int = 2) -> Figure:
    """Figures in a grid of ``columns``, row by row, as one figure."""
    figures = list(figures)
    if not figures:
        raise ValueError("arrange: no figures")
    if columns < 1:
        raise ValueError(f"columns: expected at least 1, found {columns}")
    return Figure(_figures.arrange([(f.width, f.height, f.svg) for f in figures], columns))
