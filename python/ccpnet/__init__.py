"""ccpnet: contagion across interoperable central counterparties.

Build a model from a scenario file or plain data, run it, read the results as
pandas tables::

    import ccpnet
    m = ccpnet.load("scenarios/two_ccp_peer.yaml")          # or ccpnet.Model.from_dict(d)
    r = ccpnet.run(m, scenarios=100_000, seed=7, threads=4)
    r.summary["system"]["p_any_ccp_fail"]
    r.scenarios                                             # one row per scenario
    r.ccps, r.members                                       # per-entity aggregates
    r.metrics                                               # every declared metric (ccpnet.metrics())
    s = ccpnet.stress(m)                                    # the file's stress scenarios, layer by layer
    c = ccpnet.compare(m, scenarios=20_000)                 # its variants on common random numbers
    c.differences                                           # paired differences with 95% intervals
    ccpnet.sweep(m, {"market.assets.BTC.volatility": [0.4, 0.6], "topology": ["none", "mesh"]})  # a tidy DataFrame

Submodules (imported on first use): :mod:`ccpnet.plot` (the report's figures),
:mod:`ccpnet.dask` (runs over a Dask cluster), and building blocks on numpy
arrays: :mod:`ccpnet.clearing` (Eisenberg-Noe, Rogers-Veraart, DebtRank),
:mod:`ccpnet.margin` (margin models) and :mod:`ccpnet.waterfall` (the default
waterfall, auto-deleveraging, a venue's liquidation engine, default-fund sizing).
"""

from __future__ import annotations

import importlib
import json
import numbers
import os
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ccpnet import _core
from ccpnet._core import (
    SCENARIO_CHUNK,
    Model,
    ScenarioError,
    SimulationError,
    __version__,
    load,
)
from ccpnet._compare import Comparison
from ccpnet._contributions import contributions
from ccpnet._graph import to_networkx as _to_networkx
from ccpnet._tables import ccps as _ccps
from ccpnet._tables import link_table as _link_table
from ccpnet._tables import members as _members
from ccpnet._result import Result
from ccpnet._stress import StressResult
from ccpnet._text import scenario_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCENARIO_CHUNK",
    "Comparison",
    "Model",
    "Result",
    "ScenarioError",
    "SimulationError",
    "StressResult",
    "__version__",
    "compare",
    "contributions",
    "library",
    "load",
    "metrics",
    "reverse",
    "run",
    "scenario_text",
    "stress",
    "sweep",
]

_SUBMODULES = ("clearing", "dask", "margin", "plot", "waterfall")

# Model is the compiled class; its NetworkX export is plain Python.
Model.to_networkx = _to_networkx  # type: ignore[attr-defined]
# Labelled tables of the model's arrays (ids as the index), like Result.ccps and Result.members.
Model.ccps = property(_ccps)  # type: ignore[attr-defined]
Model.members = property(_members)  # type: ignore[attr-defined]
Model.link_table = property(_link_table)  # type: ignore[attr-defined]


def library(name: str) -> os.PathLike[str]:
    """The path of a scenario of ccpnet's library (``scenarios/<name>.yaml``).

    Looked up in the directory ``$CCPNET_SCENARIOS`` when it is set, else in the
    ``scenarios`` folder of the ccpnet repository that holds the current directory (a
    notebook started anywhere in the repository finds it). ``name`` with or without
    ``.yaml``.

    Examples
    --------
    >>> model = ccpnet.load(ccpnet.library("cover2_linked"))

    Raises
    ------
    FileNotFoundError
        No such scenario, or no library found; the message says where it looked and
        which scenarios it has.
    """
    from pathlib import Path

    file = name if name.endswith(".yaml") else name + ".yaml"
    if os.environ.get("CCPNET_SCENARIOS"):
        folders = [Path(os.environ["CCPNET_SCENARIOS"])]
    else:
        here = Path.cwd().resolve()
        folders = [
            f / "scenarios"
            for f in [here, *here.parents]
            if (f / "scenarios").is_dir() and (f / "python" / "ccpnet").is_dir()
        ][:1]
    if not folders:
        raise FileNotFoundError(
            "no ccpnet scenario library: set CCPNET_SCENARIOS to its folder, or start from inside the ccpnet "
            f"repository (looked from {Path.cwd()} up)"
        )
    path = folders[0] / file
    if not path.is_file():
        names = sorted(p.stem for p in folders[0].glob("*.yaml"))
        raise FileNotFoundError(f"no scenario {file!r} in {folders[0]} (it has: {', '.join(names)})")
    return path


def metrics() -> pd.DataFrame:
    """The metrics of a run, as the engine declares them (once, for every output).

    One row per metric in declaration order: ``name``, ``unit`` (USD, count,
    scenarios: a 0/1 flag whose mean is a probability, fraction, mixed, days), ``level``
    (system, ccp, ccp_layer, ccp_ledger, member_cause, ccp_settlement, chain,
    bridge, ccp_recovery; in time steps: steps, ccp_steps, member_steps, step_days,
    member_days),
    ``aggregation`` (how per-scenario values combine: sum, count, max),
    ``compare`` (compared between variants by :func:`compare`), ``optional``,
    ``title`` and ``doc``. :attr:`Result.metrics` has their values.
    """
    import pandas as pd

    return pd.DataFrame.from_records(_core.metric_declarations())


def run(
    model: Model | str | os.PathLike[str],
    scenarios: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    batch: int | None = None,
    *,
    first: int = 0,
    count: int | None = None,
    keep_scenarios: bool = True,
    progress: bool = False,
    interrupt: str = "raise",
) -> Result:
    """Run the Monte Carlo simulation of a model.

    Parameters
    ----------
    model : Model or path
        A model, or a scenario file to load.
    scenarios : int, optional
        Number of scenarios (default: the scenario's ``simulation.scenarios``).
        Like ``ccpnet run -n``: set as an override and validated.
    seed : int, optional
        Master seed (default: the scenario's ``seed``). Like ``ccpnet run --seed``.
    threads : int, optional
        Worker threads, 0 for all cores (default: ``simulation.threads``).
    batch : int, optional
        Scenarios per batch (default: ``simulation.batch``).
    first, count : int, optional
        Run only scenarios ``[first, first + count)`` of the run, e.g. to split it
        over machines; merge the parts with :meth:`Result.merge`.
    keep_scenarios : bool
        Keep the per-scenario rows (``Result.scenarios``); False keeps memory flat for
        very long runs (the summary and tables are unaffected).
    progress : bool
        A progress bar on stderr when it is a terminal.
    interrupt : {'raise', 'partial'}
        On Ctrl-C the run stops after the current window of scenarios; then raise
        KeyboardInterrupt (default) or return the partial result
        (``Result.partial`` is True, its numbers cover the scenarios run).

    Returns
    -------
    Result
        The same numbers as ``ccpnet run`` for the same scenario, seed and scenario
        count, for any thread count and batch size.

    Raises
    ------
    ScenarioError
        The scenario, seed or scenario count is not valid.
    SimulationError
        The run failed.

    Notes
    -----
    The GIL is released while the engine runs.
    """
    if not isinstance(model, Model):
        model = load(model)
    core = _core.run(
        model,
        scenarios,
        seed,
        threads,
        batch,
        first=first,
        count=count,
        keep_scenarios=keep_scenarios,
        progress=progress,
        interrupt=interrupt,
    )
    return Result(core)


def stress(model: Model | str | os.PathLike[str]) -> StressResult:
    """Run the deterministic stress scenarios of a model, layer by layer.

    Every stress scenario of ``market.stress_scenarios`` that is not an overlay is run
    once through the cascade, with the file's exogenous defaults and no latent draws
    (a file without stress scenarios: one baseline with no market move).

    Parameters
    ----------
    model : Model or path
        A model, or a scenario file to load.

    Returns
    -------
    StressResult
        The numbers ``ccpnet stress`` prints and writes: who defaulted in which round
        and why, each CCP's losses per waterfall layer per round and per defaulter, and
        which CCPs failed.

    Raises
    ------
    ScenarioError
        The scenario is not valid.
    SimulationError
        The stress test failed.

    Notes
    -----
    The GIL is released while the engine runs.
    """
    if not isinstance(model, Model):
        model = load(model)
    return StressResult(_core.stress(model))


def compare(
    model: Model | str | os.PathLike[str],
    scenarios: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    *,
    progress: bool = False,
    keep_per_scenario: bool = False,
) -> Comparison:
    """Run a model and its variants on common random numbers, with paired differences.

    Each entry of the scenario's ``variants`` (overrides in ``set``, a link ``topology``)
    is applied to the base scenario and run with the same seed and scenario count, so
    every scenario has the same market move and latent defaults in every variant.

    Parameters
    ----------
    model : Model or path
        A model with ``variants``, or a scenario file to load.
    scenarios : int, optional
        Scenarios per variant (default: ``simulation.scenarios``), like
        ``ccpnet compare -n``: set as an override and validated.
    seed : int, optional
        Master seed (default: the scenario's ``seed``), like ``--set seed=S``.
    threads : int, optional
        Worker threads, 0 for all cores (default: ``simulation.threads``).
    progress : bool
        A progress bar on stderr when it is a terminal.
    keep_per_scenario : bool
        Keep every compared value of every scenario of every variant, for
        :attr:`Comparison.per_scenario`: memory proportional to the scenarios. Off by
        default: the paired statistics are folded scenario by scenario, in memory
        independent of the scenario count.

    Returns
    -------
    Comparison
        The numbers ``ccpnet compare`` prints and writes: each metric per variant, the
        paired difference to the base with its 95% interval, and each variant's summary.
        They do not depend on the thread count.

    Raises
    ------
    ScenarioError
        The scenario, a variant's overrides, the seed or the scenario count is not valid.
    SimulationError
        A run failed.
    KeyboardInterrupt
        Ctrl-C: the comparison stops after the current window of scenarios.

    Notes
    -----
    The GIL is released while the engine runs.
    """
    if not isinstance(model, Model):
        model = load(model)
    return Comparison(
        _core.compare(model, scenarios, seed, threads, progress=progress, keep_per_scenario=keep_per_scenario)
    )


def reverse(
    model: Model | str | os.PathLike[str],
    ccp: str,
    direction: str = "",
    max_multiple: float = 20.0,
    *,
    search: bool = False,
    layer: str | None = None,
    max_sigma: float = 20.0,
    refine: int = 12,
    report: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Reverse stress test: the smallest shock that fails a CCP (``ccpnet reverse``).

    Along one direction (the default): the stress direction (a stress scenario of the
    model, by name; empty: the first, or every asset down 10% when there is none) is
    scaled by a multiple of its log-moves; bisection finds where each layer of the
    CCP's waterfall is first used and exhausted and where the CCP fails.

    With ``search=True`` (``ccpnet reverse --search``): the most plausible move, in
    standard deviations of the scenarios' log-returns over the CCP's MPOR (the
    Mahalanobis norm; the Hasofer-Lind index of the design point), that fails the CCP
    or exhausts ``layer``, over the file's stress scenarios, each asset alone, the moves
    most likely to hurt the largest books and pairs of them, then a pattern search.

    Parameters
    ----------
    model : Model or path
        A model, or a scenario file to load.
    ccp : str
        The CCP's id.
    direction : str, optional
        The stress scenario giving the direction (default: the first).
    max_multiple : float
        The largest multiple searched.
    search : bool
        Search over many directions for the most plausible move (keyword only).
    layer : str, optional
        With ``search``: the move that exhausts this waterfall layer instead of failing the CCP.
    max_sigma : float
        With ``search``: the standard deviations searched along each direction.
    refine : int
        With ``search``: pattern-search iterations from the closest direction (0: none).
    report : path, optional
        Also write the page ``ccpnet reverse --report`` writes (report.html) to this path.

    Returns
    -------
    dict
        Along one direction: ``ccp``, ``direction`` (name, days, moves, vol_moves),
        ``max_multiple``, ``tolerance``, ``layers`` (a list of {layer, first_used,
        exhausted}: multiples, None when not reached), ``failure`` (the multiple, None
        when the CCP survives ``max_multiple``). With ``search``: ``ccp``, ``target``,
        ``days``, ``directions`` (name, family, radius, form_probability, moves, closest
        first; radius None when not reached), ``design_point`` (the first of them, None
        when none reaches it) and ``evaluations``. Both: ``text`` (what ``ccpnet
        reverse`` prints).

    Raises
    ------
    KeyError
        No CCP ``ccp`` in the model.
    ScenarioError
        No stress scenario ``direction``.
    """
    if not isinstance(model, Model):
        model = load(model)
    if search:
        document, text, page = _core.reverse_search(model, ccp, layer or "", max_sigma, refine)
    else:
        if layer is not None:
            raise ValueError("layer: only with search=True")
        document, text, page = _core.reverse(model, ccp, direction, max_multiple)
    out: dict[str, Any] = json.loads(document)
    out["text"] = text
    if report is not None:
        with open(report, "w", encoding="utf-8") as f:
            f.write(page)
    return out


def _yaml_value(value: Any) -> str:
    # A grid value as the YAML text an override takes (the CLI's --grid text).
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return json.dumps(value)  # lists and mappings: JSON is YAML


def sweep(
    model: Model | str | os.PathLike[str],
    grid: Mapping[str, Sequence[Any]],
    *,
    variants: bool = False,
    scenarios: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool = False,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> pd.DataFrame:
    """Run a model over a cartesian grid of key values on common random numbers.

    The same as ``ccpnet sweep FILE --grid KEY=V1,V2 ...``: every point of the grid
    (and, with ``variants``, each of the file's variants at every point) runs on the
    model's seed and scenario count, so differences between points are paired.

    Parameters
    ----------
    model : Model or path
        A model, or a scenario file to load.
    grid : mapping of str to sequence
        Key path (as ``--set`` takes it) to its values, e.g.
        ``{"market.assets.BTC.volatility": [0.4, 0.6, 0.8], "topology": ["none", "hub", "mesh"]}``.
        The key ``topology`` rewires the CCPs (none, peer, hub, mesh, single). Values are
        numbers, booleans, strings (YAML text) or lists and mappings.
    variants : bool
        Also run the file's variants at every point (not with a ``topology`` axis).
    scenarios, seed, threads, progress
        As for :func:`run`.
    out : path, optional
        Also write the directory ``ccpnet sweep --out`` writes (sweep.csv, sweep.json,
        manifest.json). Ctrl-C then writes the grid points finished so far and their
        exact state before raising KeyboardInterrupt.
    resume : bool
        Go on with the sweep interrupted into ``out``: its finished points are kept, and
        the result is what one uninterrupted sweep gives (the same scenario, overrides,
        grid and version only).

    Returns
    -------
    pandas.DataFrame
        The tidy table of ``sweep.csv``: one row per point x metric x item. One column
        per grid key (holding the values as given), then ``variant``, ``metric``,
        ``level``, ``item``, ``unit``, ``value``, ``standard_error``, ``lower``,
        ``upper`` (the 95% interval) and ``interval`` (wilson, clt, order_statistics,
        or empty for a maximum). ``attrs["summaries"]`` has each point's summary.json
        and ``attrs["warnings"]`` the warnings.

    Raises
    ------
    ScenarioError
        A grid value, the seed or the scenario count is not valid.
    SimulationError
        A run failed.
    """
    import pandas as pd

    if not isinstance(model, Model):
        model = load(model)
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Mapping):
        raise TypeError("grid: expected a mapping {key.path: [values]}")
    axes, originals = [], []
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"grid {key}: expected a sequence of values, found {type(values).__name__}")
        texts = [_yaml_value(v) for v in values]
        axes.append((str(key), texts))
        originals.append(dict(zip(texts, values)))
    done = _core.sweep(model, axes, variants, scenarios, seed, threads, progress,
                       "" if out is None else os.fspath(out), resume)  # fmt: skip
    frame = pd.DataFrame(done["columns"])
    for (key, _), original in zip(axes, originals):
        frame[key] = frame[key].map(original)
    frame.attrs["summaries"] = json.loads(done["json"])["points"]
    frame.attrs["warnings"] = list(done["warnings"])
    return frame


def __getattr__(name: str) -> ModuleType:
    # Submodules are imported on first use: matplotlib and dask are heavy.
    if name in _SUBMODULES:
        try:
            return importlib.import_module(f"ccpnet.{name}")
        except ModuleNotFoundError as e:
            if name in ("clearing", "margin", "waterfall") and e.name == f"ccpnet.{name}":
                return getattr(_core, name)  # the compiled building blocks, without the Python layer
            raise
    raise AttributeError(f"module 'ccpnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public API only: not the modules this file imports for its own use.
    return sorted(set(__all__) | set(_SUBMODULES))
