"""ccpnet: contagion across interoperable central counterparties.

Build a model from a scenario file or plain data, run it, read the results as
pandas tables::

    import ccpnet
    m = ccpnet.load("scenarios/two_ccp_peer.yaml")          # or ccpnet.Model.from_dict(d)
    r = ccpnet.run(m, scenarios=100_000, seed=7, threads=4)
    r.summary["system"]["p_any_ccp_fail"]
    r.scenarios                                             # one row per scenario
    r.ccps, r.members                                       # per-entity aggregates

Submodules (imported on first use): :mod:`ccpnet.plot` (standard figures),
:mod:`ccpnet.dask` (runs over a Dask cluster), :mod:`ccpnet.clearing` (clearing
building blocks on numpy arrays).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from ccpnet import _core
from ccpnet._core import (
    SCENARIO_CHUNK,
    Model,
    ScenarioError,
    SimulationError,
    __version__,
    load,
)
from ccpnet._result import Result
from ccpnet._text import scenario_text

__all__ = [
    "SCENARIO_CHUNK",
    "Model",
    "Result",
    "ScenarioError",
    "SimulationError",
    "__version__",
    "load",
    "run",
    "scenario_text",
]

_SUBMODULES = ("clearing", "dask", "plot")


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


def __getattr__(name: str) -> ModuleType:
    # Submodules are imported on first use: matplotlib and dask are heavy.
    if name in _SUBMODULES:
        try:
            return importlib.import_module(f"ccpnet.{name}")
        except ModuleNotFoundError as e:
            if name == "clearing" and e.name == "ccpnet.clearing":
                return _core.clearing  # the compiled building blocks, without the Python layer
            raise
    raise AttributeError(f"module 'ccpnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
