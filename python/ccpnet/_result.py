"""The outcome of a run: summary, per-scenario rows and per-entity tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ccpnet import _core
from ccpnet._files import write_text_file

__all__ = ["Result"]


class Result:
    """The outcome of a Monte Carlo run, as returned by :func:`ccpnet.run`.

    The same numbers as the output directory of ``ccpnet run`` for the same scenario,
    seed and scenario count, whatever the threads, batch size or Dask split.

    Attributes
    ----------
    summary : dict
        summary.json: run metadata, per-CCP and system metrics; each estimate ``X`` with
        its standard error ``X_se`` and 95% interval ``X_ci95`` (see ``summary["intervals"]``).
    scenarios : pandas.DataFrame
        scenarios.csv: one row per scenario, in index order.
    defaults : pandas.DataFrame
        defaults.csv: one row per member default and per CCP failure, with its day.
    term_structure : pandas.DataFrame
        In time steps, per day a step ends on: P(some member has defaulted by then),
        P(some CCP has failed by then), the mean number of defaults on the day.
    ccps : pandas.DataFrame
        ccps.csv: one row per CCP.
    members : pandas.DataFrame
        members.csv: one row per member and CCP where it holds an account.
    metrics : pandas.DataFrame
        Every metric the engine declares (:func:`ccpnet.metrics`), one row per value.
    arrays : dict of numpy.ndarray
        The columns of ``scenarios`` as numpy arrays that share memory with the engine's
        buffers (no copy was made).
    partial : bool
        True when the run was interrupted and covers only its first scenarios.
    model : Model
        The model that ran (with the run's seed and scenario count).
    """

    __slots__ = ("_core", "_summary", "_scenarios", "_defaults", "_ccps", "_members", "_metrics")

    def __init__(self, core: _core.RunResult) -> None:
        if not isinstance(core, _core.RunResult):
            raise TypeError("Result wraps a ccpnet._core.RunResult; use ccpnet.run(model) to get one")
        self._core = core
        self._summary: dict[str, Any] | None = None
        self._scenarios: pd.DataFrame | None = None
        self._defaults: pd.DataFrame | None = None
        self._ccps: pd.DataFrame | None = None
        self._members: pd.DataFrame | None = None
        self._metrics: pd.DataFrame | None = None

    @property
    def model(self) -> _core.Model:
        """The model that ran (with the run's seed and scenario count)."""
        return self._core.model

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json as a dict: the same keys and values as ``ccpnet run`` writes."""
        if self._summary is None:
            self._summary = json.loads(self._core.summary_json)
        return self._summary

    @property
    def scenarios(self) -> pd.DataFrame:
        """One row per scenario, the columns of scenarios.csv.

        ``scenario``, ``market_factor``, ``member_defaults``, ``ccp_failures``,
        ``cascade_rounds``, ``closeout_loss``, ``total_loss``, ``uncovered_loss``, then
        ``loss_<CCP>`` and ``failed_<CCP>`` (0/1) for each CCP. Losses in USD.
        The frame's columns share memory with the engine's buffers.

        Raises ValueError when the run was made with ``keep_scenarios=False``.
        """
        if self._scenarios is None:
            self._scenarios = pd.DataFrame(self._core.scenario_columns(), copy=False)
        return self._scenarios

    @property
    def defaults(self) -> pd.DataFrame:
        """One row per member default and per CCP failure, the rows of defaults.csv.

        ``scenario``, ``kind`` (``member`` or ``ccp``), ``id``, ``group`` (a member's
        default group), ``day`` (in time steps the end of the step it happened in, 0 at
        the start; 0 in one period), ``round`` (of the cascade, counted through the
        steps) and ``cause`` (a member's default cause; for a CCP ``members`` or
        ``links``: what exhausted its waterfall), in scenario order, then in the order
        they happened. A scenario has as many member rows as its ``member_defaults``.
        Kept whether or not the output directory has the file (``outputs.defaults``).

        Raises ValueError when the run was made with ``keep_scenarios=False``.
        """
        if self._defaults is None:
            self._defaults = pd.DataFrame(self._core.default_columns())
        return self._defaults

    @property
    def term_structure(self) -> pd.DataFrame:
        """In time steps, one row per day a step ends on (day 0, the start, first).

        ``day``, ``p_member_default_by_day`` (some member has defaulted by the end of
        that day's step), ``p_ccp_failure_by_day`` (some CCP has failed by then), both
        with Wilson intervals, and ``mean_member_defaults_on_day`` (members defaulting in
        that day's step, a mean with a CLT interval); each with its 95% interval in
        ``_lower`` and ``_upper``. summary.json's ``term_structure``. Empty in one period.
        """
        return pd.DataFrame(self._core.term_structure_columns())

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The per-scenario columns as numpy arrays, without copies."""
        return dict(self._core.scenario_columns())

    @property
    def ccps(self) -> pd.DataFrame:
        """One row per CCP, the columns of ccps.csv (probabilities, mean losses per layer)."""
        if self._ccps is None:
            self._ccps = pd.DataFrame(self._core.ccp_columns())
        return self._ccps

    @property
    def members(self) -> pd.DataFrame:
        """One row per member and CCP where it holds an account, the columns of members.csv."""
        if self._members is None:
            self._members = pd.DataFrame(self._core.member_columns())
        return self._members

    @property
    def metrics(self) -> pd.DataFrame:
        """Every metric the engine declares (:func:`ccpnet.metrics`), one row per value.

        ``metric``, ``level`` (system, ccp, ccp_layer, ...), ``item`` (the CCP, layer,
        member and cause... of the value; empty for a system metric), ``unit``,
        ``aggregation`` (sum, count or max), ``total`` over the scenarios and ``value``
        per scenario (the mean, a probability for a 0/1 flag, or the maximum), then its
        ``standard_error`` and 95% interval ``lower``, ``upper``, made by the method in
        ``interval``: ``wilson`` (Wilson score, a probability), ``clt`` (mean +- 1.96
        standard errors, cut at 0), or empty (a maximum has none).
        """
        if self._metrics is None:
            self._metrics = pd.DataFrame(self._core.metric_columns())
        return self._metrics

    def summary_table(self) -> pd.DataFrame:
        """summary.json as one flat, tidy table: one row per figure of the system or a CCP.

        ``scope`` (system or ccp), ``entity`` (the CCP's id; empty for the system),
        ``figure`` (the key in summary.json; ``layer_losses.sitg``, ``df_depletion.p99``
        for nested ones), ``unit`` (probability, fraction, count or USD), ``value``,
        ``standard_error``, ``lower`` and ``upper`` (its 95% interval; NaN where the
        figure has none, e.g. an input such as ``default_fund`` or ``es99_total_loss``;
        an upper end no scenario bounds is +inf).
        """
        rows: list[dict[str, Any]] = []
        summary = self.summary
        self._flatten(rows, "system", "", summary["system"], "")
        for ccp, figures in summary["ccps"].items():
            self._flatten(rows, "ccp", ccp, figures, "")
        columns = ["scope", "entity", "figure", "unit", "value", "standard_error", "lower", "upper"]
        return pd.DataFrame.from_records(rows, columns=columns)

    @staticmethod
    def _flatten(rows: list[dict[str, Any]], scope: str, entity: str, figures: dict[str, Any], prefix: str) -> None:
        def end(x: Any, infinite: float) -> float:
            return infinite if x is None else float(x)

        for key, value in figures.items():
            if key.endswith(("_se", "_ci95")):
                continue
            se, ci = figures.get(f"{key}_se"), figures.get(f"{key}_ci95")
            if isinstance(value, dict):
                if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()) and ci:
                    # A map of figures with its maps of errors and intervals (layer_losses, ledger).
                    for k, v in value.items():
                        rows.append(Result._row(scope, entity, f"{prefix}{key}.{k}", v, (se or {}).get(k), ci.get(k)))
                else:
                    Result._flatten(rows, scope, entity, value, f"{prefix}{key}.")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                rows.append(Result._row(scope, entity, prefix + key, value, se, ci))

    @staticmethod
    def _row(scope: str, entity: str, figure: str, value: Any, se: Any, ci: Any) -> dict[str, Any]:
        name = figure.rsplit(".", 1)[-1]
        if name.startswith("p_") or figure.startswith("p_") or ".p_" in figure:
            unit = "probability"
        elif figure.startswith("df_depletion") or figure == "ledger_max_relative_error":
            unit = "fraction"
        elif figure in ("mean_member_defaults", "mean_ccp_failures", "mean_cascade_rounds"):
            unit = "count"
        else:
            unit = "USD"
        nan = float("nan")
        return {
            "scope": scope,
            "entity": entity,
            "figure": figure,
            "unit": unit,
            "value": float(value),
            "standard_error": nan if se is None else float(se),
            "lower": nan if ci is None else (0.0 if ci[0] is None else float(ci[0])),
            "upper": nan if ci is None else (float("inf") if ci[1] is None else float(ci[1])),
        }

    @property
    def chains(self) -> pd.DataFrame:
        """One row per settlement chain, the columns of chains.csv: calibrated and realised
        finality, probabilities of congestion and halts, mean fails, losses and late VM
        inflows per scenario. Empty when the scenario has no settlement layer."""
        return pd.DataFrame(self._core.chain_columns())

    @property
    def clients(self) -> pd.DataFrame:
        """One row per client account (``members[].clients``), the columns of clients.csv:
        its clearing member, CCP, segregation, backups, IM and expected loss by channel
        (``loss_client_margin``: its margin used when its member's default closed it out).
        Empty when no member has clients."""
        return pd.DataFrame(self._core.client_columns())

    @property
    def bridges(self) -> pd.DataFrame:
        """One row per bridge, the columns of bridges.csv: exploit probability and mean loss.
        Empty when the scenario has no settlement layer."""
        return pd.DataFrame(self._core.bridge_columns())

    @property
    def partial(self) -> bool:
        """True when the run was interrupted (Ctrl-C) and covers only its first scenarios."""
        return bool(self._core.partial)

    @property
    def completed(self) -> int:
        """Number of scenarios run."""
        return int(self._core.completed)

    @property
    def requested(self) -> int:
        """Number of scenarios asked for."""
        return int(self._core.requested)

    @property
    def first(self) -> int:
        """Index of the first scenario."""
        return int(self._core.first)

    @property
    def threads(self) -> int:
        """Worker threads used (the largest over the parts of a merged result)."""
        return int(self._core.threads)

    @property
    def seconds(self) -> float:
        """Wall time of the run in seconds (a merged result: the sum over its parts)."""
        return float(self._core.seconds)

    @property
    def has_scenarios(self) -> bool:
        """Whether the per-scenario rows were kept (``keep_scenarios=True``)."""
        return bool(self._core.has_scenarios)

    def write(self, directory: str | os.PathLike[str], *, report: bool = False) -> Path:
        """Write the output directory ``ccpnet run --out`` writes, byte for byte.

        summary.json, scenarios.csv, ccps.csv, members.csv (chains.csv and bridges.csv
        with a settlement layer, defaults.csv in time steps or with ``outputs.defaults``), scenario.resolved.yaml, manifest.json and run.json
        (this result's threads and timing: the one file not in the manifest's hashes),
        with ``report=True`` also report.html. The same rules as the command line: the
        directory is written atomically, and an existing one is replaced only when its
        manifest lists every file in it (never the working directory or a parent).

        Raises
        ------
        ValueError
            The run did not keep its scenarios (``keep_scenarios=False``).
        ScenarioError
            The directory may not be written (not ccpnet's, the working directory, ...).
        """
        return Path(self._core.write(os.fspath(directory), report))

    def report(self, path: str | os.PathLike[str]) -> Path:
        """Write report.html of the run to ``path``, the page ``ccpnet run --report`` writes.

        A self-contained page (inline style and SVG figures, nothing loaded from
        elsewhere): the headline figures with their 95% intervals, the loss
        distribution, the CCP and system tables, waterfall depletion, the network, the
        largest contributors, the inputs and the methodology. Its figures are those of
        :mod:`ccpnet.plot`.

        Returns
        -------
        pathlib.Path
        """
        return write_text_file(path, self._core.report())

    def to_state(self) -> dict[str, Any]:
        """Everything needed to merge this result with results of other scenario ranges."""
        return self._core.to_state()

    @classmethod
    def merge(cls, model: _core.Model, parts: Iterable[Result | dict[str, Any]]) -> Result:
        """Merge the results of disjoint, chunk-aligned scenario ranges of one run.

        Parameters
        ----------
        model : Model
            The model that ran.
        parts : iterable of Result or state dicts
            Results of ``ccpnet.run(model, first=..., count=...)`` or their
            :meth:`to_state`. Ranges start and end on multiples of
            :data:`ccpnet.SCENARIO_CHUNK` (the last may end anywhere).

        Returns
        -------
        Result
            Bit for bit the result of a single run over the union of the ranges.
        """
        states = [p.to_state() if isinstance(p, Result) else p for p in parts]
        return cls(_core.merge(model, states))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Result, (self._core,))

    def __repr__(self) -> str:
        s = self.summary
        system = s["system"]
        state = " (partial)" if self.partial else ""
        return (
            f"<ccpnet.Result '{s['scenario']}': {s['scenarios']} scenarios{state}, seed {s['seed']}, "
            f"P(any CCP fails) {system['p_any_ccp_fail']:.4g}, "
            f"ES99 total loss {system['es99_total_loss']:.4g} USD>"
        )
