"""Model.to_networkx, Result.summary_table, Comparison.per_scenario as a property."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import ccpnet

from conftest import SCENARIOS


@pytest.fixture(scope="module")
def two_ccp_model(two_ccp: Path) -> ccpnet.Model:
    return ccpnet.load(two_ccp)


def test_to_networkx_has_ccps_members_memberships_and_links(two_ccp_model: ccpnet.Model) -> None:
    nx = pytest.importorskip("networkx")
    g = two_ccp_model.to_networkx()
    assert isinstance(g, nx.Graph)
    kinds = nx.get_node_attributes(g, "kind")
    assert sorted(n for n, k in kinds.items() if k == "ccp") == ["CCP_A", "CCP_B"]
    assert sorted(n for n, k in kinds.items() if k == "member") == ["M1", "M2", "M3"]
    # The file (SPEC 5.3): M1 at CCP_A {BTC: 100, ETH: -500}, M2 at CCP_A {BTC: -60} and
    # CCP_B {ETH: 500}, M3 at CCP_B {BTC: -40}; BTC 60,000 and ETH 3,000 USD.
    notional = {("M1", "CCP_A"): 100 * 60000 + 500 * 3000, ("M2", "CCP_A"): 60 * 60000,
                ("M2", "CCP_B"): 500 * 3000, ("M3", "CCP_B"): 40 * 60000}  # fmt: skip
    memberships = {(u, v) if kinds[u] == "member" else (v, u): d for u, v, d in g.edges(data=True)
                   if d["kind"] == "membership"}  # fmt: skip
    assert {k: d["notional"] for k, d in memberships.items()} == notional
    # CCP_B's tiered margin, 2% up to 1e6 of notional and 5% above (by tier, by hand):
    # M2 1.5e6 -> 20,000 + 25,000; M3 2.4e6 -> 20,000 + 70,000.
    assert memberships["M2", "CCP_B"]["initial_margin"] == pytest.approx(45000.0)
    assert memberships["M3", "CCP_B"]["initial_margin"] == pytest.approx(90000.0)
    assert g.nodes["M1"]["group"] == "G1" and g.nodes["M1"]["capital"] == 5.0e8
    # One peer link; the IM the two CCPs hold on each other's link accounts is the rest of their IM.
    links = [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == "link"]
    assert len(links) == 1 and {links[0][0], links[0][1]} == {"CCP_A", "CCP_B"}
    member_im = sum(d["initial_margin"] for d in memberships.values())
    ccp_im = g.nodes["CCP_A"]["initial_margin"] + g.nodes["CCP_B"]["initial_margin"]
    assert links[0][2]["inter_ccp_margin"] == pytest.approx(ccp_im - member_im, rel=1e-12)
    assert links[0][2]["inter_ccp_margin"] > 0


def test_to_networkx_overlays_a_result(two_ccp_model: ccpnet.Model) -> None:
    pytest.importorskip("networkx")
    r = ccpnet.run(two_ccp_model, scenarios=3000)
    g = two_ccp_model.to_networkx(r)
    ccps = r.ccps.set_index("ccp")
    for ccp in ("CCP_A", "CCP_B"):
        assert g.nodes[ccp]["p_fail"] == ccps.loc[ccp, "p_fail"]
        assert g.nodes[ccp]["expected_loss"] == ccps.loc[ccp, "expected_loss"]
    assert g.nodes["M1"]["p_default"] == 1.0  # the file's exogenous defaulter, every scenario
    m2 = r.members[r.members["member"] == "M2"]
    assert g.nodes["M2"]["expected_loss"] == pytest.approx(m2["expected_loss"].sum())
    assert g.edges["M2", "CCP_B"]["expected_loss"] == m2.set_index("ccp").loc["CCP_B", "expected_loss"]


def test_summary_table_is_the_summary_flat() -> None:
    r = ccpnet.run(SCENARIOS / "crypto_hub.yaml", scenarios=5000)
    t = r.summary_table()
    assert list(t.columns) == ["scope", "entity", "figure", "unit", "value", "standard_error", "lower", "upper"]
    assert not t.duplicated(["scope", "entity", "figure"]).any()
    row = t.set_index(["scope", "entity", "figure"])
    system, hub = r.summary["system"], r.summary["ccps"]["HUB"]
    assert row.loc[("system", "", "p_any_ccp_fail"), "value"] == system["p_any_ccp_fail"]
    assert row.loc[("system", "", "p_any_ccp_fail"), "unit"] == "probability"
    assert [row.loc[("system", "", "p_any_ccp_fail"), c] for c in ("lower", "upper")] == system["p_any_ccp_fail_ci95"]
    assert row.loc[("ccp", "HUB", "layer_losses.sitg"), "value"] == hub["layer_losses"]["sitg"]
    assert row.loc[("ccp", "HUB", "layer_losses.sitg"), "standard_error"] == hub["layer_losses_se"]["sitg"]
    assert row.loc[("ccp", "HUB", "df_depletion.p99"), "unit"] == "fraction"
    assert math.isnan(row.loc[("ccp", "HUB", "default_fund"), "lower"])  # an input: no interval
    estimated = t.dropna(subset=["lower"])
    assert len(estimated) > 50
    assert ((estimated["lower"] <= estimated["value"] + 1e-12) & (estimated["value"] <= estimated["upper"] + 1e-12)).all()


def test_per_scenario_is_a_property_mapping_variants_to_frames() -> None:
    c = ccpnet.compare(SCENARIOS / "full_mesh.yaml", scenarios=300, keep_per_scenario=True)
    per = c.per_scenario
    assert list(per) == c.names and len(per) == len(c.names)
    base = per["base"]
    assert isinstance(base, pd.DataFrame) and len(base) == 300
    pd.testing.assert_frame_equal(per[0], base)
    pd.testing.assert_frame_equal(per("base"), base)  # the former method's call still works
    with pytest.raises(KeyError):
        per["nope"]


def test_reverse_from_python_is_the_cli_s(ccpnet_exe: Path) -> None:
    import json
    import subprocess

    cover2 = SCENARIOS / "cover2_linked.yaml"
    r = ccpnet.reverse(cover2, "CCP_A")
    done = subprocess.run([str(ccpnet_exe), "reverse", str(cover2), "--ccp", "CCP_A", "--json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    cli = json.loads(done.stdout)
    assert {k: v for k, v in r.items() if k != "text"} == cli
    text = subprocess.run([str(ccpnet_exe), "reverse", str(cover2), "--ccp", "CCP_A"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert r["text"] == text
    # The waterfall is used in order: each layer starts where the one before it is exhausted.
    layers = [x for x in r["layers"] if x["first_used"] is not None]
    assert len(layers) >= 3
    for before, after in zip(layers, layers[1:]):
        assert after["first_used"] == before["exhausted"]
    with pytest.raises(KeyError, match="no CCP 'NOPE'"):
        ccpnet.reverse(cover2, "NOPE")
    with pytest.raises(ccpnet.ScenarioError):
        ccpnet.reverse(cover2, "CCP_A", direction="no such stress scenario")


def test_reverse_search_from_python_is_the_cli_s(ccpnet_exe: Path, tmp_path: Path) -> None:
    import json
    import subprocess

    mesh = SCENARIOS / "full_mesh.yaml"
    r = ccpnet.reverse(mesh, "CCP_EU", search=True, refine=4, report=tmp_path / "page.html")
    done = subprocess.run([str(ccpnet_exe), "reverse", str(mesh), "--ccp", "CCP_EU", "--search", "--refine", "4",
                           "--report", "--out", str(tmp_path / "cli")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert r["text"] + f"outputs: {tmp_path / 'cli'}/\n" == done.stdout
    assert json.loads((tmp_path / "cli" / "reverse.json").read_text()) == {k: v for k, v in r.items() if k != "text"}
    page = (tmp_path / "page.html").read_text()
    assert "The most plausible move that makes CCP_EU fail" in page
    assert page.replace(str(mesh), "") == (tmp_path / "cli" / "report.html").read_text().replace(str(mesh), "")
    # The closest direction first; every radius reached is at most max_sigma; the design point is the first row.
    radii = [d["radius"] for d in r["directions"] if d["radius"] is not None]
    assert radii == sorted(radii) and radii[-1] <= 20.0
    assert r["design_point"] == r["directions"][0]
    # A layer is exhausted no further out than the failure that needs it exhausted.
    layer = ccpnet.reverse(mesh, "CCP_EU", search=True, layer="mutualized_df", refine=4)
    assert layer["target"] == "mutualized_df"
    assert layer["design_point"]["radius"] <= r["design_point"]["radius"] * (1 + 1e-3)
    with pytest.raises(ValueError, match="only with search"):
        ccpnet.reverse(mesh, "CCP_EU", layer="sitg")
    with pytest.raises(ccpnet.ScenarioError, match="not a layer"):
        ccpnet.reverse(mesh, "CCP_EU", search=True, layer="adl")


def test_model_tables_are_labelled_by_id(two_ccp_model: ccpnet.Model) -> None:
    ccps, members, links = two_ccp_model.ccps, two_ccp_model.members, two_ccp_model.link_table
    assert list(ccps.index) == ["CCP_A", "CCP_B"] and ccps.index.name == "ccp"
    assert ccps.loc["CCP_A", "capital"] == 2.0e8 and ccps.loc["CCP_B", "capital"] == 1.0e8  # the file
    assert list(members.index) == ["M1", "M2", "M3"] and members.index.name == "member"
    assert members.loc["M1", "group"] == "G1" and members.loc["M3", "liquidity"] == 4.0e7
    # M3 clears at CCP_B only: tiered IM on 2.4e6 notional = 20,000 + 70,000 (by hand).
    assert members.loc["M3", "initial_margin"] == pytest.approx(90000.0)
    accounts = two_ccp_model.accounts
    m2 = accounts[(accounts["kind"] == "member") & (accounts["owner"] == "M2")]
    assert members.loc["M2", "initial_margin"] == pytest.approx(m2["initial_margin"].sum())
    assert len(links) == 1 and {links.loc[0, "ccp"], links.loc[0, "other_ccp"]} == {"CCP_A", "CCP_B"}
    # What the CCPs hold beyond their members' IM is the link margin.
    assert links.loc[0, "inter_ccp_margin"] == pytest.approx(
        ccps["initial_margin"].sum() - members["initial_margin"].sum(), rel=1e-12)  # fmt: skip
