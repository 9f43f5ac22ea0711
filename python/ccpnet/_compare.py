"""The outcome of a comparison of variants on common random numbers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ccpnet import _core
from ccpnet._files import write_text_file

__all__ = ["Comparison"]


class Comparison:
    """A model and its variants run on the same scenarios, as returned by :func:`ccpnet.compare`.

    The same numbers as ``ccpnet compare FILE -n N --set seed=S --out DIR`` prints and
    writes (compare.json). Every variant (``variants`` in the scenario file: overrides
    and a link topology) runs with the base's seed and scenario count, so scenario
    ``i`` has the same market move and latent defaults in every variant, and the
    differences to the base are paired scenario by scenario.

    Attributes
    ----------
    summary : dict
        compare.json: per variant its requirements, metric means, paired differences
        and the summary.json of its run.
    variants : pandas.DataFrame
        One row per variant: initial margin, inter-CCP margin, default funds and the
        mean of every metric.
    differences : pandas.DataFrame
        One row per variant (other than the base) and metric: the mean paired
        difference to the base and its 95% interval (``lo``, ``hi``).
    summaries : dict of str to dict
        The summary.json of each variant's run, by name.
    text : str
        The table ``ccpnet compare`` prints.
    warnings : list of str
        What loading and rewiring the variants had to change.
    model : Model
        The base model (with the comparison's seed and scenario count).

    Notes
    -----
    The metrics are those the engine declares with ``compare`` (:func:`ccpnet.metrics`,
    where each has its unit and doc), in their order. Today, per scenario:
    ``total_loss`` (borne by others than the defaulters, USD), ``member_defaults``
    (count), ``any_ccp_fail`` (0 or 1, its mean is P(any CCP fails)),
    ``closeout_loss``, ``uncovered_loss``, ``liquidity_shortfall`` (cash missing of the
    members that defaulted for liquidity) and ``settlement_loss`` (principal lost and
    replacement costs of settlement fails), all USD. The interval of a difference
    ``d_i = x_i(variant) - x_i(base)`` is ``mean(d) +- 1.96 sd(d) / sqrt(n)``.
    """

    __slots__ = ("_core", "_summary", "_frames")

    def __init__(self, core: _core.ComparisonRun) -> None:
        if not isinstance(core, _core.ComparisonRun):
            raise TypeError("Comparison wraps a ccpnet._core.ComparisonRun; use ccpnet.compare(model) to get one")
        self._core = core
        self._summary: dict[str, Any] | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    @property
    def model(self) -> _core.Model:
        """The base model (with the comparison's seed and scenario count)."""
        return self._core.model

    @property
    def names(self) -> list[str]:
        """Names of the variants, ``'base'`` first."""
        return list(self._core.variant_names)

    @property
    def metrics(self) -> list[str]:
        """Names of the per-scenario metrics compared: the engine's metrics declared with
        ``compare`` (:func:`ccpnet.metrics`), in their order."""
        return list(self._core.metric_names)

    @property
    def scenarios(self) -> int:
        """Scenarios per variant."""
        return int(self._core.scenarios)

    @property
    def warnings(self) -> list[str]:
        """What loading and rewiring the variants had to change (the CLI prints these on stderr)."""
        return list(self._core.warnings)

    @property
    def text(self) -> str:
        """The table ``ccpnet compare`` prints: levels per variant, paired differences to the base."""
        return str(self._core.text)

    @property
    def summary(self) -> dict[str, Any]:
        """compare.json as a dict: the same keys and values as ``ccpnet compare --out`` writes."""
        if self._summary is None:
            self._summary = json.loads(self._core.compare_json)
        return self._summary

    @property
    def summaries(self) -> dict[str, dict[str, Any]]:
        """The summary.json of each variant's run, by variant name."""
        return {v["name"]: v["summary"] for v in self.summary["variants"]}

    @property
    def variants(self) -> pd.DataFrame:
        """One row per variant, the base first.

        ``variant``, ``total_initial_margin`` (members' IM at every CCP),
        ``inter_ccp_margin`` (IM of link accounts), ``default_funds`` (USD), then the mean
        of each metric over the scenarios (``any_ccp_fail`` is P(any CCP fails)).
        """
        if "variants" not in self._frames:
            rows = [
                {
                    "variant": v["name"],
                    "total_initial_margin": v["total_initial_margin"],
                    "inter_ccp_margin": v["inter_ccp_margin"],
                    "default_funds": v["default_funds"],
                    **v["means"],
                }
                for v in self.summary["variants"]
            ]
            columns = ["variant", "total_initial_margin", "inter_ccp_margin", "default_funds"]
            self._frames["variants"] = pd.DataFrame.from_records(rows, columns=columns + self.metrics)
        return self._frames["variants"]

    @property
    def differences(self) -> pd.DataFrame:
        """Paired differences to the base: one row per variant (not the base) and metric.

        ``variant``, ``metric``, ``mean`` (mean of variant - base over the scenarios) and
        ``lo``, ``hi`` (its 95% interval). The table :func:`ccpnet.plot.compare` draws.
        """
        if "differences" not in self._frames:
            rows = [
                {"variant": v["name"], "metric": metric, "mean": d["mean"], "lo": d["lo95"], "hi": d["hi95"]}
                for v in self.summary["variants"][1:]
                for metric, d in v["difference_to_base"].items()
            ]
            self._frames["differences"] = pd.DataFrame.from_records(
                rows, columns=["variant", "metric", "mean", "lo", "hi"]
            )
        return self._frames["differences"]

    @property
    def per_scenario(self) -> PerScenario:
        """The per-scenario metrics of each variant: ``per_scenario["base"]``, ``per_scenario[1]``.

        A read-only mapping from variant name to a DataFrame with one row per scenario
        and one column per compared metric; an index (0 is the base) works too. The
        columns share memory with the comparison (no copy). ``per_scenario(variant)``,
        the former method, still works. Only for a comparison run with
        ``ccpnet.compare(..., keep_per_scenario=True)`` (memory proportional to the
        scenarios); otherwise reading a variant raises ValueError.
        """
        return PerScenario(self._core)

    def report(self, path: str | os.PathLike[str]) -> Path:
        """Write report.html to ``path``: the page ``ccpnet compare --report`` writes.

        The variants side by side, their paired differences to the base with 95% intervals,
        and one figure per metric (:func:`ccpnet.plot.compare`).
        A self-contained page (inline style and SVG figures, nothing loaded from elsewhere).

        Returns
        -------
        pathlib.Path
        """
        return write_text_file(path, self._core.report())

    def __repr__(self) -> str:
        return (
            f"<ccpnet.Comparison '{self.model.name}': {len(self.names)} variants, "
            f"{self.scenarios} scenarios each, seed {self.model.seed}>"
        )


class PerScenario(Mapping[str, pd.DataFrame]):
    """Variant name -> its per-scenario metrics (one row per scenario); see Comparison.per_scenario."""

    __slots__ = ("_core",)

    def __init__(self, core: _core.ComparisonRun) -> None:
        self._core = core

    def __getitem__(self, variant: str | int) -> pd.DataFrame:  # type: ignore[override]
        return pd.DataFrame(self._core.per_scenario(variant), copy=False)

    def __call__(self, variant: str | int = "base") -> pd.DataFrame:
        return self[variant]

    def __iter__(self) -> Iterator[str]:
        return iter(self._core.variant_names)

    def __len__(self) -> int:
        return len(self._core.variant_names)

    def __repr__(self) -> str:
        return f"<ccpnet per-scenario metrics of {len(self)} variants: {', '.join(self)}>"
