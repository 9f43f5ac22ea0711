"""The standard figures build and hold the expected artists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import ccpnet
import ccpnet.plot


@pytest.fixture(scope="module")
def result(two_ccp: Path) -> ccpnet.Result:
    return ccpnet.run(ccpnet.load(two_ccp), scenarios=20_000)


def saves(fig: Figure, tmp_path: Path) -> None:
    out = tmp_path / "figure.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_loss_distribution(result: ccpnet.Result, tmp_path: Path) -> None:
    fig = ccpnet.plot.loss_distribution(result)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.patches) == 60  # histogram bars
    marks = {line.get_label().split(":")[0]: line.get_xdata()[0] for line in ax.get_lines()}
    system = result.summary["system"]
    assert marks == {"VaR 99%": system["p99_total_loss"], "ES 99%": system["es99_total_loss"]}
    assert [t.get_text().split(":")[0] for t in ax.get_legend().get_texts()] == ["scenarios", "VaR 99%", "ES 99%"]
    saves(fig, tmp_path)


def test_loss_distribution_of_one_ccp(result: ccpnet.Result) -> None:
    fig = ccpnet.plot.loss_distribution(result, column="loss_CCP_A", confidence=0.999, bins=10, log=False)
    (ax,) = fig.axes
    var, es = ccpnet.plot.var_es(result.scenarios["loss_CCP_A"].to_numpy(), 0.999)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0].startswith("VaR 99.9%") and labels[1].startswith("ES 99.9%")
    assert ax.get_lines()[0].get_xdata()[0] == var and var <= es
    with pytest.raises(ValueError, match="column"):
        ccpnet.plot.loss_distribution(result, column="member_defaults")
    with pytest.raises(ValueError, match="confidence"):
        ccpnet.plot.loss_distribution(result, confidence=99)


def test_var_es_matches_the_engine(result: ccpnet.Result) -> None:
    var, es = ccpnet.plot.var_es(result.scenarios["total_loss"].to_numpy(), 0.99)
    system = result.summary["system"]
    assert var == pytest.approx(system["p99_total_loss"], rel=1e-12, abs=1e-9)
    assert es == pytest.approx(system["es99_total_loss"], rel=1e-12)


def test_waterfall_depletion(result: ccpnet.Result, tmp_path: Path) -> None:
    fig = ccpnet.plot.waterfall_depletion(result)
    (ax,) = fig.axes
    used = {layer for c in result.summary["ccps"].values() for layer in c["layer_losses"]}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # From the top of the stack down.
    assert legend == ["uncovered"] + [layer for layer in ccpnet.plot.LAYERS[::-1] if layer in used]
    assert len(ax.patches) == len(legend) * len(result.ccps)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CCP_A", "CCP_B"]
    # The stacks add up to the mean loss taken by the layers.
    top = max(p.get_y() + p.get_height() for p in ax.patches if p.get_x() < 0.5)
    layers = result.summary["ccps"]["CCP_A"]["layer_losses"]
    assert top == pytest.approx(sum(layers.values()) + result.summary["ccps"]["CCP_A"]["expected_uncovered_loss"])
    saves(fig, tmp_path)


def test_network_of_a_result(result: ccpnet.Result, tmp_path: Path) -> None:
    fig = ccpnet.plot.network(result)
    ax, colorbar = fig.axes
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_segments()) for c in lines] == [4, 1]  # memberships, links
    members, ccps = points
    assert len(members.get_offsets()) == 3 and len(ccps.get_offsets()) == 2
    # Colour is the default frequency: M1 defaults in every scenario.
    np.testing.assert_array_equal(members.get_array(), [1.0, 0.0, 0.0])
    sizes = members.get_sizes()
    assert sizes[0] > sizes[1] > sizes[2]  # capital 5e8 > 3e8 > 2e8
    assert {t.get_text() for t in ax.texts} == {"CCP_A", "CCP_B", "M1", "M2", "M3"}
    assert "P(default)" in colorbar.get_ylabel()
    saves(fig, tmp_path)


def test_network_of_a_model(result: ccpnet.Result) -> None:
    fig = ccpnet.plot.network(result.model, labels=False)
    (ax,) = fig.axes
    assert {t.get_text() for t in ax.texts} == {"CCP_A", "CCP_B"}
    with pytest.raises(TypeError):
        ccpnet.plot.network("model")  # type: ignore[arg-type]


def test_compare(tmp_path: Path) -> None:
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
    assert [ax.get_title() for ax in fig.axes] == ["p_any_ccp_fail", "es99_total_loss"]
    for ax in fig.axes:
        (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars.lines[0].get_xdata()) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["no link", "peer", "hub"]
    saves(fig, tmp_path)
    with pytest.raises(ValueError, match="missing"):
        ccpnet.plot.compare(table.drop(columns="lo"))
    with pytest.raises(ValueError, match="lo <= mean <= hi"):
        ccpnet.plot.compare(table.assign(lo=table["hi"] + 1))


def test_drawing_into_given_axes(result: ccpnet.Result) -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert ccpnet.plot.loss_distribution(result, ax=left) is fig
    assert ccpnet.plot.waterfall_depletion(result, ax=right) is fig
    assert len(fig.axes) == 2
