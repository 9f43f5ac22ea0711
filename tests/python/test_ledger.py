"""The ledger, checked from the output files alone, as a user would.

Every dollar of close-out loss has exactly one final payer (sim/cascade.hpp):
per scenario and CCP, what entered (its defaulters' close-outs and the losses
that came over its links) equals what its layers absorbed plus what its
creditors bore when it failed plus what nobody bore; losses passed over links
equal losses received; and the final payers add up to the close-out loss.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SCENARIOS

EXE = os.environ.get("CCPNET_EXE", "build/bin/ccpnet")
LEDGER = ["closeout", "link_in", "link_out", "resolution_members", "resolution_links", "unallocated"]
LAYERS = [
    "defaulter_im", "defaulter_df", "sitg", "sitg2", "mutualized_df", "assessments", "vmgh",
    "insurance_fund", "adl", "lender_haircut", "ccp_equity",
    "cash_call", "tear_up", "forced_allocation",  # recovery tools (ccps[].recovery), payers like the layers
]


def run(scenario: Path, out: Path, *args: str) -> pd.DataFrame:
    subprocess.run([EXE, "run", str(scenario), "--quiet", "--out", str(out), *args], check=True)
    return pd.read_csv(out / "scenarios.csv", float_precision="round_trip")


def ccp_ids(frame: pd.DataFrame) -> list[str]:
    return [c[len("failed_"):] for c in frame.columns if c.startswith("failed_")]


def close(a: pd.Series, b: pd.Series) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))))


# Close-out by auction and every recovery tool at the three CCPs of cover2_linked.yaml, on
# waterfalls that end at the assessments (so that the tools run): the tools are payers.
AUCTION = ("{hedge_cost: 0.002, base_discount: 0.005, slope: 0.02, depth: 2.0e8, reserve_discount: 0.03, "
           "juniorisation: true, bidder_share: 0.5}")
RECOVERY = [
    arg for c in range(3) for arg in (
        "--set", f"ccps[{c}].auction={AUCTION}",
        "--set", f"ccps[{c}].recovery={{tools: [cash_call, tear_up, forced_allocation]}}",
        "--set", f"ccps[{c}].waterfall=[defaulter_im, defaulter_df, sitg, mutualized_df, assessments]",
    )
]


@pytest.mark.parametrize("name, extra", [
    ("full_mesh.yaml", []), ("crypto_hub.yaml", []), ("cover2_linked.yaml", []), ("two_ccp_peer.yaml", []),
    ("cover2_linked.yaml", RECOVERY),
])  # fmt: skip
def test_the_ledger_conserves_in_every_scenario_from_the_files(tmp_path: Path, name: str, extra: list[str]) -> None:
    frame = run(SCENARIOS / name, tmp_path / "out", "-n", "4000", "--set", "market.shocks.volatility_multiplier=3",
                *extra)
    if extra:  # the tools ran, and each has its column with the layers
        tools = [c for c in frame.columns if c.startswith(("cash_call_", "tear_up_", "forced_allocation_"))]
        assert len(tools) == 9 and (frame[tools].to_numpy() > 0).any()
    ccps = ccp_ids(frame)
    final = pd.Series(0.0, index=frame.index)
    link_in = pd.Series(0.0, index=frame.index)
    link_out = pd.Series(0.0, index=frame.index)
    closeout = pd.Series(0.0, index=frame.index)
    for c in ccps:
        layers = sum(frame[f"{l}_{c}"] for l in LAYERS if f"{l}_{c}" in frame.columns)
        absorbed = layers + frame[f"resolution_members_{c}"] + frame[f"resolution_links_{c}"] + frame[f"unallocated_{c}"]
        assert close(frame[f"closeout_{c}"] + frame[f"link_in_{c}"], absorbed), c
        final += absorbed - frame[f"link_out_{c}"]
        link_in += frame[f"link_in_{c}"]
        link_out += frame[f"link_out_{c}"]
        closeout += frame[f"closeout_{c}"]
        # A CCP fails exactly when something was left after its layers.
        left = frame[f"resolution_members_{c}"] + frame[f"resolution_links_{c}"] + frame[f"unallocated_{c}"]
        assert ((frame[f"failed_{c}"] == 1) <= (left > 0)).all(), c
    assert close(link_in, link_out)
    assert close(closeout, frame["closeout_loss"])
    assert close(final, frame["closeout_loss"])
    assert (frame["closeout_loss"] > 0).sum() > 0, "the run exercised no default"


def test_members_csv_gives_each_membership_its_losses_by_channel(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(SCENARIOS / "cover2_linked.yaml", out, "-n", "2000", "--set", "outputs.member_quantiles=true")
    members = pd.read_csv(out / "members.csv")
    channels = [c for c in members.columns if c.startswith("loss_")]
    assert "loss_mutualized_df" in channels and "loss_unpaid_vm_failed_ccp" in channels
    as_survivor = members[[c for c in channels if c not in ("loss_own_im", "loss_own_df")]].sum(axis=1)
    assert np.allclose(members["expected_loss"], as_survivor, rtol=1e-12, atol=1e-9)
    assert (members[channels] >= 0).all().all()
    # Each member's p99 loss (a sketch within 1%) is at least 0 and repeated on each of its rows.
    assert (members["member_loss_p99"] >= 0).all()
    assert (members.groupby("member")["member_loss_p99"].nunique() == 1).all()
    # Cover-2 defaults: the defaulters' own collateral is used, survivors pay the mutual layers.
    assert members["loss_own_im"].sum() > 0
    assert members["loss_mutualized_df"].sum() > 0


def test_narrow_table_when_ledger_columns_are_off(tmp_path: Path) -> None:
    frame = run(SCENARIOS / "two_ccp_peer.yaml", tmp_path / "out", "-n", "100", "--set",
                "outputs.ledger_columns=false")
    assert not any(c.startswith("link_in_") for c in frame.columns)
    assert "closeout_loss" in frame.columns
