"""ccpnet.calibrate: scenario skeletons from CCPs' public quantitative disclosures.

The Python side of ``ccpnet calibrate``: a disclosure file in the long layout of
the CCP12 template of the CPMI-IOSCO public quantitative disclosures (one row per
figure: ``ccp, clearing_service, as_of_date, reference, field, currency, value``)
becomes a scenario with each CCP's disclosed capital, minimum capital, SITG,
prefunded default fund and initial margin, and a member population consistent
with the disclosed number of members and IM concentration. What disclosures do
not say (asset mix, positions, links) is assumed, and the scenario's comments say
how. ``scenarios/data/pqd_example.csv`` is an example with invented numbers::

    import ccpnet.calibrate
    text = ccpnet.calibrate.scenario_text("scenarios/data/pqd_example.csv")
    model = ccpnet.calibrate.model("scenarios/data/pqd_example.csv")
    ccpnet.run(model, scenarios=10_000)
"""

from __future__ import annotations

import os
from pathlib import Path

from ccpnet import _core
from ccpnet._files import write_text_file

__all__ = ["model", "scenario_text", "write"]


def scenario_text(disclosures: str | os.PathLike[str], source_name: str | None = None) -> str:
    """The scenario skeleton (YAML) ``ccpnet calibrate`` writes for a disclosure file.

    ``source_name`` is how its comments name the file (default: the path as given).
    Raises :class:`ccpnet.ScenarioError` with every error located in the file.
    """
    path = os.fspath(disclosures)
    return str(_core.calibrate_disclosures(path, source_name or path))


def write(disclosures: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Write the skeleton to ``output`` (as ``ccpnet calibrate FILE -o OUTPUT``); returns its path."""
    return write_text_file(output, scenario_text(disclosures))


def model(disclosures: str | os.PathLike[str]) -> _core.Model:
    """The skeleton built into a :class:`ccpnet.Model`, ready to run."""
    path = os.fspath(disclosures)
    return _core.Model.from_text(scenario_text(path), source_name=f"calibrate {path}")
