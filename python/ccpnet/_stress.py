"""The outcome of deterministic stress scenarios: who defaulted when and why, and
each CCP's waterfall layer by layer, per round and per defaulter."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ccpnet import _core
from ccpnet._files import write_text_file

__all__ = ["StressResult"]

# Waterfall layers in the engine's order.
_LAYERS = tuple(_core.waterfall.layer_names())


def _day(rows: list[dict[str, Any]]) -> list[str]:
    """["day"] when the rows come from a run in time steps (they carry the day)."""
    return ["day"] if any("day" in r for r in rows) else []


class StressResult:
    """The deterministic stress scenarios of a model, as returned by :func:`ccpnet.stress`.

    The same numbers as ``ccpnet stress FILE --out DIR`` prints and writes
    (stress.json, stress_layers.csv). Every stress scenario of
    ``market.stress_scenarios`` that is not an overlay is run once through the
    cascade, with the exogenous defaults of the file and no latent draws; a file
    without stress scenarios gives one baseline (no market move). Money in USD.

    Attributes
    ----------
    summary : dict
        stress.json: per stress scenario its moves, totals, member defaults, per-CCP
        layer losses and failures, and every waterfall event.
    scenarios : pandas.DataFrame
        One row per stress scenario: totals and counts.
    defaults : pandas.DataFrame
        Who defaulted, in which cascade round and why.
    ccps : pandas.DataFrame
        One row per stress scenario and CCP: failure, uncovered loss, loss per layer.
    layers : pandas.DataFrame
        stress_layers.csv: the loss each waterfall layer took, per stress scenario,
        round and CCP (one row per layer of the CCP's waterfall, then ``uncovered``).
    defaulters : pandas.DataFrame
        Per waterfall event, each defaulter's close-out loss and how it was covered.
    adl : pandas.DataFrame
        Per waterfall event, the accounts auto-deleveraged: contracts, price, loss
        against the mark.
    lending : pandas.DataFrame
        Every borrower at a lending protocol along the stress move: liquidation calls,
        collateral seized, debt repaid, bad debt, health factor today and after.
    liquidations : pandas.DataFrame
        The accounts crypto venues' liquidation engines closed: margin, P&L, maintenance
        margin, impact cost, surplus to or shortfall from the insurance fund.
    insurance_funds : pandas.DataFrame
        Each CCP's insurance fund through every waterfall event.
    text : str
        The report ``ccpnet stress`` prints.
    model : Model
        The model that was stressed.
    """

    __slots__ = ("_core", "_summary", "_frames")

    def __init__(self, core: _core.StressRun) -> None:
        if not isinstance(core, _core.StressRun):
            raise TypeError("StressResult wraps a ccpnet._core.StressRun; use ccpnet.stress(model) to get one")
        self._core = core
        self._summary: dict[str, Any] | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    @property
    def model(self) -> _core.Model:
        """The model that was stressed."""
        return self._core.model

    @property
    def names(self) -> list[str]:
        """Names of the stress scenarios, in file order."""
        return list(self._core.names)

    @property
    def summary(self) -> dict[str, Any]:
        """stress.json as a dict: the same keys and values as ``ccpnet stress --out`` writes."""
        if self._summary is None:
            self._summary = json.loads(self._core.stress_json)
        return self._summary

    @property
    def text(self) -> str:
        """The report ``ccpnet stress`` prints: defaults by round, each waterfall layer by layer."""
        return str(self._core.text)

    def _frame(self, name: str, rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = pd.DataFrame.from_records(rows, columns=columns)
        return self._frames[name]

    @property
    def scenarios(self) -> pd.DataFrame:
        """One row per stress scenario.

        ``stress_scenario``, ``days`` (over which the moves are realised),
        ``cascade_rounds``, ``member_defaults`` and ``ccp_failures`` (counts),
        ``closeout_loss`` (close-out losses of all defaulters), ``total_loss``
        (borne by others than the defaulters) and ``uncovered_loss`` (the shortfalls
        of failed CCPs, borne by their creditors).
        """
        rows = [
            {
                "stress_scenario": s["name"],
                "days": s["days"],
                "cascade_rounds": s["cascade_rounds"],
                "member_defaults": len(s["member_defaults"]),
                "ccp_failures": sum(1 for c in s["ccps"].values() if c["failed"]),
                "closeout_loss": s["closeout_loss"],
                "total_loss": s["total_loss"],
                "uncovered_loss": s["uncovered_loss"],
            }
            for s in self.summary["stress_scenarios"]
        ]
        columns = ["stress_scenario", "days", "cascade_rounds", "member_defaults", "ccp_failures"]
        return self._frame("scenarios", rows, columns + ["closeout_loss", "total_loss", "uncovered_loss"])

    @property
    def defaults(self) -> pd.DataFrame:
        """Member defaults: ``stress_scenario``, ``member``, ``round`` (0: at the start) and
        ``cause`` (``exogenous``, ``solvency``, ``liquidity`` or ``group``), in order of round."""
        rows = [
            {"stress_scenario": s["name"], **d}
            for s in self.summary["stress_scenarios"]
            for d in s["member_defaults"]
        ]
        return self._frame("defaults", rows, ["stress_scenario", "member", "round", "cause"])

    @property
    def ccps(self) -> pd.DataFrame:
        """One row per stress scenario and CCP.

        ``stress_scenario``, ``ccp``, ``failed``, ``failure_round`` (missing when the CCP
        survived), ``uncovered`` (what its creditors shared: its loss left after its last
        layer, plus the net cost of replacing its link positions at its standing linked
        CCPs, plus later claims that reached it after it failed), then the loss each
        layer took over all rounds, one column per layer (missing when the layer is not
        in that CCP's waterfall).
        """
        if "ccps" not in self._frames:
            rows = []
            for s in self.summary["stress_scenarios"]:
                for ccp, e in s["ccps"].items():
                    rows.append(
                        {
                            "stress_scenario": s["name"],
                            "ccp": ccp,
                            "failed": e["failed"],
                            "failure_round": e.get("failure_round"),
                            "uncovered": e["uncovered"],
                            **e["layer_losses"],
                        }
                    )
            present = {k for r in rows for k in r}
            columns = ["stress_scenario", "ccp", "failed", "failure_round", "uncovered"]
            frame = pd.DataFrame.from_records(rows, columns=columns + [x for x in _LAYERS if x in present])
            frame["failure_round"] = frame["failure_round"].astype("Int64")
            self._frames["ccps"] = frame
        return self._frames["ccps"]

    @property
    def layers(self) -> pd.DataFrame:
        """Loss per waterfall layer, per stress scenario, cascade round and CCP (stress_layers.csv).

        ``stress_scenario``, ``round``, ``ccp``, ``layer``, ``amount``: one row per layer of
        the CCP's waterfall in its order, then one per recovery tool of the CCP in its order,
        then ``uncovered``, for each round in which the
        CCP ran its waterfall; in the round a CCP fails, then ``link_replacement`` when
        replacing its link positions at its standing linked CCPs cost (or gained) something:
        what its creditors share is the round's ``uncovered`` (of its members' and its links'
        waterfalls) plus that, at least 0.
        """
        rows = []
        for s in self.summary["stress_scenarios"]:
            for e in s["waterfalls"]:
                base = {"stress_scenario": s["name"], "round": e["round"], "ccp": e["ccp"]}
                rows += [{**base, "layer": k, "amount": v} for k, v in e["layers"].items()]
                rows += [{**base, "layer": k, "amount": v} for k, v in e.get("recovery", {}).items()]
                rows.append({**base, "layer": "uncovered", "amount": e["uncovered"]})
                if e["link_replacement"] != 0.0:
                    rows.append({**base, "layer": "link_replacement", "amount": e["link_replacement"]})
        return self._frame("layers", rows, ["stress_scenario", "round", "ccp", "layer", "amount"])

    @property
    def defaulters(self) -> pd.DataFrame:
        """Each defaulter in each waterfall event and how its loss was covered.

        ``stress_scenario``, ``round``, ``ccp``, ``account`` (member id, ``link:<CCP>``,
        ``rest_of_market``, or ``<member> clients``: the member's clients' accounts closed
        out with it, as far as their own margin covered them), ``closeout_loss`` (negative:
        a gain), ``im_used``, ``df_used`` (its own margin and fund contribution used),
        ``left_to_mutual_layers`` (what the mutual layers had to cover), ``estate_return``
        (its resources beyond its loss, returned), ``liquidated`` (closed by a lending
        protocol or a crypto venue's liquidation engine, its owner not necessarily in
        default) and ``to_insurance_fund`` (a venue liquidation: the margin its loss left,
        kept by the insurance fund instead of returned).
        """
        rows = [
            {"stress_scenario": s["name"], "round": e["round"], "ccp": e["ccp"], **d}
            for s in self.summary["stress_scenarios"]
            for e in s["waterfalls"]
            for d in e["defaulters"]
        ]
        columns = ["stress_scenario", "round", "ccp", "account", "closeout_loss", "im_used", "df_used"]
        more = ["left_to_mutual_layers", "estate_return", "liquidated", "to_insurance_fund"]
        return self._frame("defaulters", rows, columns + more)

    @property
    def adl(self) -> pd.DataFrame:
        """The accounts the ``adl`` layer deleveraged, per waterfall event.

        ``stress_scenario``, ``round``, ``ccp``, ``account``, ``contracts`` (closed at
        ``price``, the defaulted position's bankruptcy price; both 0 when the account
        gave up its whole gain, the rule for multi-asset accounts), ``loss_vs_mark``
        (what it gave up against the mark), ``rank`` (1: deleveraged first) and
        ``priority`` (its ranking score, ``ccps[].adl.ranking``).
        """
        rows = [
            {"stress_scenario": s["name"], "round": e["round"], "ccp": e["ccp"], **a}
            for s in self.summary["stress_scenarios"]
            for e in s["waterfalls"]
            for a in e.get("adl", [])
        ]
        columns = ["stress_scenario", "round", "ccp", "account", "contracts", "price", "loss_vs_mark"]
        return self._frame("adl", rows, columns + ["rank", "priority"])

    @property
    def liquidations(self) -> pd.DataFrame:
        """The accounts crypto venues' liquidation engines closed, per stress scenario.

        ``stress_scenario``, ``account``, ``ccp`` (the venue), ``margin`` (the account's
        IM), ``pnl`` (at the mark after the move), ``maintenance_margin`` (the tiered
        maintenance rates on its mark values; equity = margin + pnl fell below it),
        ``impact_cost`` (square-root cost of closing it in the market), ``surplus`` (what
        the close left above the bankruptcy price: to the insurance fund),
        ``shortfall`` (what it lacked: from the insurance fund, then ADL), and for a
        single-contract account its ``bankruptcy_price`` and ``execution_price`` (0
        otherwise). In time steps, ``day``: the end of the step at whose mark it was closed.
        """
        rows = [
            {"stress_scenario": s["name"], **line}
            for s in self.summary["stress_scenarios"]
            for line in s.get("venue_liquidations", [])
        ]
        columns = ["stress_scenario", "account", "ccp", *_day(rows), "margin", "pnl", "maintenance_margin"]
        more = ["impact_cost", "surplus", "shortfall", "bankruptcy_price", "execution_price"]
        return self._frame("liquidations", rows, columns + more)

    @property
    def insurance_funds(self) -> pd.DataFrame:
        """Each CCP's insurance fund through every waterfall event.

        ``stress_scenario``, ``round``, ``ccp``, ``start`` (before the round), ``surpluses``
        (what the round's venue liquidations left to it), ``paid`` (what it paid) and
        ``end``: ``end = start + surpluses - paid``. In time steps, ``day``: the end of the
        step whose liquidations and defaults the round closes out.
        """
        rows = []
        for s in self.summary["stress_scenarios"]:
            for e in s["waterfalls"]:
                f = e["insurance_fund"]
                paid = f["start"] + f["surpluses"] - f["end"]
                day = {"day": e["day"]} if "day" in e else {}
                row = {"stress_scenario": s["name"], "round": e["round"], **day, "ccp": e["ccp"]}
                rows.append({**row, **f, "paid": paid})
        columns = ["stress_scenario", "round", *_day(rows), "ccp", "start", "surpluses", "paid", "end"]
        return self._frame("insurance_funds", rows, columns)

    @property
    def lending(self) -> pd.DataFrame:
        """Every borrower's account at a lending protocol along each stress move.

        ``stress_scenario``, ``account`` (the member), ``ccp`` (the protocol),
        ``calls`` (liquidation calls along the path, each bounded by the close factor),
        ``health_factor_start`` (today) and ``health_factor_after`` (at the end of the
        move, after the calls; NaN without debt left), ``collateral_seized`` and
        ``debt_repaid`` (USD at execution), ``bad_debt`` (written off when the last
        collateral was seized) and ``closing_bad_debt`` (what closing the rest at the
        end would write off, the protocol's loss if the member defaults). In time steps, one
        row per step with calls, its ``day`` (the step's end) and the health factor at the
        step's start.
        """
        rows = [
            {"stress_scenario": s["name"], **{k: (float("nan") if v is None else v) for k, v in line.items()}}
            for s in self.summary["stress_scenarios"]
            for line in s.get("lending", [])
        ]
        columns = ["stress_scenario", "account", "ccp", *_day(rows), "calls", "health_factor_start"]
        columns.append("health_factor_after")
        amounts = ["collateral_seized", "debt_repaid", "bad_debt", "closing_bad_debt"]
        return self._frame("lending", rows, columns + amounts)

    def report(self, path: str | os.PathLike[str]) -> Path:
        """Write report.html to ``path``: the page ``ccpnet stress --report`` writes.

        Overview of the stress scenarios, then each one's story: member defaults by round and
        cause, each CCP's waterfall layer by layer, and the contagion paths on the network.
        A self-contained page (inline style and SVG figures, nothing loaded from elsewhere).

        Returns
        -------
        pathlib.Path
        """
        return write_text_file(path, self._core.report())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restress, (self.model,))

    def __repr__(self) -> str:
        s = self.scenarios
        return (
            f"<ccpnet.StressResult '{self.model.name}': {len(s)} stress scenarios, "
            f"{int(s['member_defaults'].sum())} member defaults, {int(s['ccp_failures'].sum())} CCP failures>"
        )


def _restress(model: _core.Model) -> StressResult:
    # Stress tests are deterministic and cheap: a pickle holds the model only.
    return StressResult(_core.stress(model))
