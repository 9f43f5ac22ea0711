"""The standard figures are the report's figures, drawn by the engine."""

from __future__ import annotations

import re
import xml.dom.minidom
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccpnet
import ccpnet.plot
from ccpnet.plot import Figure

from conftest import SCENARIOS


@pytest.fixture(scope="module")
def result(two_ccp: Path) -> ccpnet.Result:
    return ccpnet.run(ccpnet.load(two_ccp), scenarios=20_000)


def svg_of(fig: Figure) -> xml.dom.minidom.Document:
    """The figure as a well-formed XML document (an .svg file on its own)."""
    assert isinstance(fig, Figure)
    assert fig._repr_svg_() == fig.svg and fig.svg in fig._repr_html_()
    return xml.dom.minidom.parseString(fig.svg)


def texts(fig: Figure) -> list[str]:
    return ["".join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE) for t in svg_of(fig).getElementsByTagName("text")]


def section(html: str, figure_id: str) -> str:
    """The SVG of the report's figure with this id."""
    start = html.index(f'<figure id="{figure_id}">')
    return html[html.index("<svg", start) : html.index("\n<figcaption>", start)]


def without_ids(svg: str) -> str:
    """The drawing without its element ids (a page and a notebook number them apart) and its style."""
    svg = re.sub(r"<style>.*?</style>", "", svg.rstrip("\n"), flags=re.S)
    return re.sub(r'(id="|aria-labelledby="|url\(#)[a-z0-9-]+', r"\1", svg)


def test_loss_distribution_marks_the_engines_var_and_es(result: ccpnet.Result, tmp_path: Path) -> None:
    fig = ccpnet.plot.loss_distribution(result)
    words = texts(fig)
    system = result.summary["system"]
    # VaR 99% is 0 here (fewer than 1% of the scenarios lose), so only the ES is marked.
    assert system["p99_total_loss"] == 0.0
    assert f"ES 99% {ccpnet.plot.money(system['es99_total_loss'])}" in words
    assert not any(w.startswith("VaR") for w in words)
    assert "P(total loss \u2265 x)" in words
    out = fig.save(tmp_path / "loss.svg")
    assert out.read_text(encoding="utf-8") == fig.svg
    html = fig.save(tmp_path / "loss.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and fig.svg in html


def test_loss_distribution_of_one_ccp(result: ccpnet.Result) -> None:
    fig = ccpnet.plot.loss_distribution(result, column="loss_CCP_A", confidence=0.999)
    var, es = ccpnet.plot.var_es(result.scenarios["loss_CCP_A"].to_numpy(), 0.999)
    assert var <= es and es > 0.0
    words = texts(fig)
    assert f"ES 99.9% {ccpnet.plot.money(es)}" in words
    assert (f"VaR 99.9% {ccpnet.plot.money(var)}" in words) == (var > 0.0)
    assert "loss_CCP_A (USD, log scale)" in words
    with pytest.raises(ValueError, match="column"):
        ccpnet.plot.loss_distribution(result, column="member_defaults")
    with pytest.raises(ValueError, match="confidence"):
        ccpnet.plot.loss_distribution(result, confidence=99)


def test_var_es_matches_the_engine(result: ccpnet.Result) -> None:
    var, es = ccpnet.plot.var_es(result.scenarios["total_loss"].to_numpy(), 0.99)
    system = result.summary["system"]
    assert var == system["p99_total_loss"]
    assert es == system["es99_total_loss"]
    # By hand: 0, 1, ..., 99: the 0.9 quantile interpolates 89.1, the ES is the mean of the 10 largest.
    var, es = ccpnet.plot.var_es(np.arange(100.0), 0.9)
    assert var == pytest.approx(89.1) and es == pytest.approx(94.5)


def test_money_is_the_reports() -> None:
    assert [ccpnet.plot.money(x) for x in (0.0, 1234.0, 1.234e9, -3.5e5, float("nan"))] == [
        "0",
        "1.23k",
        "1.23bn",
        "\u2212350k",
        "\u2013",
    ]


def test_the_figures_are_the_reports(result: ccpnet.Result, tmp_path: Path) -> None:
    html = result.report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert without_ids(section(html, "fig-waterfalls")) == without_ids(ccpnet.plot.waterfall_depletion(result).svg)
    assert without_ids(section(html, "fig-network")) == without_ids(ccpnet.plot.network(result).svg)


def test_waterfall_depletion(result: ccpnet.Result) -> None:
    words = texts(ccpnet.plot.waterfall_depletion(result))
    assert {"CCP_A", "CCP_B", "mean loss per scenario (USD)", "Defaulter IM"} <= set(words)
    # The bar's total is the mean loss taken by the layers and the uncovered rest.
    a = result.summary["ccps"]["CCP_A"]
    assert ccpnet.plot.money(sum(a["layer_losses"].values()) + a["expected_uncovered_loss"]) in words
    beyond = texts(ccpnet.plot.waterfall_depletion(result, beyond_defaulters=True))
    assert "Defaulter IM" not in beyond


def test_network_of_a_result_and_of_a_model(result: ccpnet.Result) -> None:
    words = texts(ccpnet.plot.network(result))
    assert {"CCP_A", "CCP_B", "M1", "M2", "M3", "peer link"} <= set(words)
    assert "P(default) 100%" in words  # M1 defaults in every scenario (the file's exogenous default)
    grey = texts(ccpnet.plot.network(result.model))
    assert {"CCP_A", "CCP_B", "M1"} <= set(grey) and not any(w.startswith("P(") for w in grey)
    with pytest.raises(TypeError):
        ccpnet.plot.network("model")  # type: ignore[arg-type]


def test_stress_figures_and_report(tmp_path: Path) -> None:
    stress = ccpnet.stress(ccpnet.load(SCENARIOS / "cover2_linked.yaml"))
    html = stress.report(tmp_path / "stress.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and all(f">{name}</a>" in html for name in stress.names)
    last = stress.names[-1]
    assert texts(ccpnet.plot.stress_waterfalls(stress, last)) == texts(
        ccpnet.plot.stress_waterfalls(stress, len(stress.names) - 1)
    )
    assert "loss absorbed (USD)" in texts(ccpnet.plot.stress_waterfalls(stress))
    assert "CCP fails" in texts(ccpnet.plot.stress_network(stress, 0))
    with pytest.raises(KeyError, match="no stress scenario"):
        ccpnet.plot.stress_waterfalls(stress, "nope")
    with pytest.raises(IndexError):
        ccpnet.plot.stress_network(stress, 99)


def test_compare_of_a_table() -> None:
    table = pd.DataFrame(
        {
            "variant": ["no link", "peer", "hub"] * 2,
            "metric": ["p_any_ccp_fail"] * 3 + ["es99_total_loss"] * 3,
            "mean": [0.01, 0.02, 0.015, 1.0e6, 2.0e6, -1.0e5],
            "lo": [0.005, 0.01, 0.01, 0.5e6, 1.5e6, -3.0e5],
            "hi": [0.015, 0.03, 0.02, 1.5e6, 2.5e6, 1.0e5],
        }
    )
    fig = ccpnet.plot.compare(table)
    words = texts(fig)
    assert words.count("no link") == 2 and words.count("hub") == 2
    assert "+2.00 pp" in words  # peer: +0.02 as a probability, in percentage points
    assert "\u2212100k" in words  # hub: -1e5 USD
    titles = [t.firstChild.data for t in svg_of(fig).getElementsByTagName("title") if t.getAttribute("id")]
    assert titles == ["p_any_ccp_fail", "es99_total_loss"]
    with pytest.raises(ValueError, match="missing"):
        ccpnet.plot.compare(table.drop(columns="lo"))
    with pytest.raises(ValueError, match="lo <= mean <= hi"):
        ccpnet.plot.compare(table.assign(lo=table["hi"] + 1))


def test_arrange(result: ccpnet.Result) -> None:
    a, b = ccpnet.plot.waterfall_depletion(result), ccpnet.plot.network(result)
    grid = ccpnet.plot.arrange([a, b], columns=1)
    assert grid.width == max(a.width, b.width) and grid.height == a.height + b.height
    svg_of(grid)
    # Figures drawn one after the other never share an element id.
    ids = [e.getAttribute("id") for e in svg_of(grid).getElementsByTagName("*") if e.getAttribute("id")]
    assert len(ids) == len(set(ids)) > 0
    with pytest.raises(ValueError):
        ccpnet.plot.arrange([])


def test_saving_writes_whole_files_or_none(result: ccpnet.Result, tmp_path: Path) -> None:
    # A figure replacing a file writes it whole; a write that cannot happen leaves the
    # directory as it was (no partial file, no temporary left behind).
    fig = ccpnet.plot.network(result)
    target = tmp_path / "figure.svg"
    target.write_text("old", encoding="utf-8")
    fig.save(target)
    assert target.read_text(encoding="utf-8") == fig.svg
    with pytest.raises(FileNotFoundError):
        fig.save(tmp_path / "missing" / "figure.svg")
    with pytest.raises(IsADirectoryError):
        fig.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.svg"]
