"""Building models: files, dicts, text, overrides; errors; the model's numbers."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import MINIMAL, REPO, scenario_files

import ccpnet


class _Yaml12(yaml.SafeLoader):
    """PyYAML reading numbers as YAML 1.2 does: 2.0e8 and 1e6 are numbers (YAML 1.1: strings)."""


_Yaml12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def yaml_dict(text: str) -> dict:
    return yaml.load(text, Loader=_Yaml12)


def test_package_exports() -> None:
    for name in ["load", "Model", "run", "Result", "ScenarioError", "SimulationError", "__version__"]:
        assert hasattr(ccpnet, name), name
    assert issubclass(ccpnet.ScenarioError, ValueError)
    assert issubclass(ccpnet.SimulationError, RuntimeError)
    assert ccpnet.SCENARIO_CHUNK == 4096
    assert ccpnet.__version__.count(".") == 2
    assert ccpnet.plot.__name__ == "ccpnet.plot"
    assert ccpnet.dask.__name__ == "ccpnet.dask"
    assert ccpnet.clearing is not None
    assert {"plot", "dask", "clearing"} <= set(dir(ccpnet))
    assert not {"os", "importlib", "ModuleType", "annotations"} & set(dir(ccpnet))
    with pytest.raises(AttributeError):
        ccpnet.no_such_thing  # noqa: B018


def test_everything_public_has_a_docstring() -> None:
    for obj in [ccpnet, ccpnet.load, ccpnet.run, ccpnet.Model, ccpnet.Result, ccpnet.ScenarioError]:
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, obj
    for name in dir(ccpnet.Model):
        if not name.startswith("_"):
            assert getattr(ccpnet.Model, name).__doc__, f"Model.{name}"
    for name in dir(ccpnet.Result):
        if not name.startswith("_"):
            assert getattr(ccpnet.Result, name).__doc__, f"Result.{name}"
    for module in [ccpnet.plot, ccpnet.dask]:
        assert module.__doc__
        for name in module.__all__:
            assert getattr(module, name).__doc__, f"{module.__name__}.{name}"


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.name)
def test_every_library_scenario_loads(path: Path) -> None:
    m = ccpnet.load(path)
    assert m.name
    assert m.source_name == str(path)
    assert len(m.ccp_ids) >= 1 and len(m.asset_ids) >= 1
    assert m.initial_margin.shape == m.default_fund.shape == (len(m.account_kind),)
    assert (m.initial_margin >= 0).all() and (m.default_fund >= 0).all()


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.name)
def test_dict_round_trip(path: Path) -> None:
    m = ccpnet.load(path)
    d = m.to_dict()
    again = ccpnet.Model.from_dict(d)
    assert again.source_name == "<dict>"
    assert again.to_dict() == d
    assert again.sha256 == m.sha256
    np.testing.assert_array_equal(again.initial_margin, m.initial_margin)
    np.testing.assert_array_equal(again.default_fund, m.default_fund)
    # The same file read as YAML 1.2 and given as a dict is the same model.
    assert ccpnet.Model.from_dict(yaml_dict(path.read_text())).sha256 == m.sha256


def test_to_dict_is_plain_data(two_ccp: Path) -> None:
    d = ccpnet.load(two_ccp).to_dict()
    assert d["name"] == "two CCPs, one peer link"
    assert d["seed"] == 7 and isinstance(d["seed"], int)
    assert d["simulation"]["scenarios"] == 100000
    assert d["market"]["assets"][0]["volatility"] == 0.6
    assert d["market"]["correlation"]["matrix"] == [[1.0, 0.8], [0.8, 1.0]]
    ccp_b = d["ccps"][1]
    assert ccp_b["kind"] == "crypto_venue"
    assert ccp_b["margin"]["tiers"][-1]["up_to"] == float("inf")
    assert d["members"][1]["positions"]["CCP_B"] == {"ETH": 500}
    # Defaults are filled in: every key of the resolved scenario.
    assert d["members"][1]["group"] == "M2"


def test_from_dict_accepts_numpy(two_ccp: Path) -> None:
    d = yaml_dict(two_ccp.read_text())
    d["market"]["correlation"] = np.array([[1.0, 0.8], [0.8, 1.0]])
    d["seed"] = np.int64(7)
    d["ccps"][0]["capital"] = np.float64(2.0e8)
    assert ccpnet.Model.from_dict(d).sha256 == ccpnet.load(two_ccp).sha256


def test_unknown_key_in_dict_names_path_line_and_suggestion(two_ccp: Path) -> None:
    d = yaml_dict(two_ccp.read_text())
    d["ccps"][0]["capitl"] = 1.0e8
    with pytest.raises(ccpnet.ScenarioError) as info:
        ccpnet.Model.from_dict(d)
    e = info.value
    (message,) = e.errors
    assert message.startswith("<dict>:")
    assert message.endswith(": ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)")
    (record,) = e.diagnostics
    assert record["file"] == "<dict>" and record["path"] == "ccps[0].capitl"
    assert record["message"] == "unknown key 'capitl' (did you mean 'capital'?)"
    # The line is that of the key in the text the dict was written as.
    line = ccpnet.scenario_text(d).splitlines()[record["line"] - 1]
    assert line.strip().startswith('"capitl":')
    assert message.startswith(f"<dict>:{record['line']}:{record['column']}: ")
    assert str(e) == message


def test_every_error_is_reported(two_ccp: Path) -> None:
    d = yaml_dict(two_ccp.read_text())
    d["market"]["assets"][0]["volatility"] = -1
    d["ccps"][1]["kind"] = "crypto_venu"
    d["members"][0]["positions"]["CCP_C"] = {"BTC": 1}
    with pytest.raises(ccpnet.ScenarioError) as info:
        ccpnet.Model.from_dict(d)
    text = "\n".join(info.value.errors)
    assert "market.assets[0].volatility: expected a value in [0, 20]" in text
    assert "ccps[1].kind: expected one of traditional, crypto_venue, lending_protocol, found 'crypto_venu' " in text
    assert "(did you mean 'crypto_venue'?)" in text
    assert all(e.startswith("<dict>:") for e in info.value.errors)
    assert str(info.value) == text


def test_yaml_errors_are_located(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(MINIMAL.replace("capital: 1.0e8", "capital: 1.0e8\n    capitl: 2"))
    with pytest.raises(ccpnet.ScenarioError) as info:
        ccpnet.load(f)
    assert info.value.errors == [f"{f}:8:5: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)"]
    assert info.value.diagnostics == [
        {
            "file": str(f),
            "line": 8,
            "column": 5,
            "path": "ccps[0].capitl",
            "message": "unknown key 'capitl' (did you mean 'capital'?)",
        }
    ]


def test_from_dict_is_as_strict_as_a_file(two_ccp: Path) -> None:
    base = yaml_dict(two_ccp.read_text())

    def error_of(change: object) -> str:
        d = copy.deepcopy(base)
        change(d)  # type: ignore[operator]
        with pytest.raises(ccpnet.ScenarioError) as info:
            ccpnet.Model.from_dict(d)
        assert all(e.startswith("<dict>:") for e in info.value.errors)
        return str(info.value)

    # A str is a string, as a quoted value in a file (PyYAML 1.1 reads 2.0e8 as one).
    text = error_of(lambda d: d["ccps"][0].__setitem__("capital", "1e8"))
    assert "ccps[0].capital: expected a number, found the quoted string '1e8'" in text
    assert "expected an integer" in error_of(lambda d: d["simulation"].__setitem__("scenarios", True))
    assert "a NUL byte" in error_of(lambda d: d.__setitem__("name", "a\x00b"))
    assert "a control character" in error_of(lambda d: d.__setitem__("name", "a\x1bb"))
    assert "not valid UTF-8" in error_of(lambda d: d.__setitem__("name", "a\ud800b"))
    cycle = error_of(lambda d: d["market"].__setitem__("self", d["market"]))
    assert cycle == "<dict>:1:1: market.self: expected plain data, found a mapping that contains itself (a cycle)"
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert "nested too deeply" in error_of(lambda d: d.__setitem__("description", deep))
    # A count is not a bool.
    m = ccpnet.Model.from_dict(base)
    with pytest.raises(ccpnet.ScenarioError, match="simulation.scenarios"):
        ccpnet.run(m, scenarios=True)


def test_missing_file_and_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        ccpnet.load(tmp_path / "absent.yaml")
    assert missing.value.filename == str(tmp_path / "absent.yaml")
    with pytest.raises(ccpnet.ScenarioError, match="it is a directory"):
        ccpnet.load(tmp_path)  # there, but not a file to read
    with pytest.raises(TypeError, match="expected a dict"):
        ccpnet.Model.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys are strings"):
        ccpnet.Model.from_dict({1: "a"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"market: cannot write a object into a scenario"):
        ccpnet.Model.from_dict({"name": "x", "market": object()})


def test_from_text_and_source_name() -> None:
    m = ccpnet.Model.from_text(MINIMAL, "mine.yaml")
    assert m.name == "minimal" and m.source_name == "mine.yaml" and m.source_text == MINIMAL
    with pytest.raises(ccpnet.ScenarioError, match=r"^mine\.yaml:1:1: "):
        ccpnet.Model.from_text("name: [", "mine.yaml")


def test_overrides(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp, overrides=["simulation.scenarios=5000", "ccps.CCP_A.capital=3e8"])
    assert m.scenarios == 5000
    assert m.ccp_capital[0] == 3e8
    assert m.overrides == ["simulation.scenarios=5000", "ccps.CCP_A.capital=3e8"]
    same = ccpnet.load(two_ccp, overrides={"simulation.scenarios": 5000, "ccps.CCP_A.capital": 3e8})
    assert same.sha256 == m.sha256
    listed = ccpnet.load(two_ccp, overrides={"market.correlation": [[1.0, 0.5], [0.5, 1.0]]})
    assert listed.to_dict()["market"]["correlation"]["matrix"] == [[1.0, 0.5], [0.5, 1.0]]
    with pytest.raises(ccpnet.ScenarioError) as info:
        ccpnet.load(two_ccp, overrides=["ccps.CCP_A.capital=-1"])
    # A value from an override is located by the override, not by a line of the file.
    assert info.value.errors == [
        "--set ccps.CCP_A.capital=-1:0:0: ccps[0].capital: expected a value >= 0 (USD), found -1"
    ]
    with pytest.raises(ccpnet.ScenarioError, match="expected KEY.PATH=VALUE"):
        ccpnet.load(two_ccp, overrides=["no equals sign"])
    with pytest.raises(TypeError, match="found one str"):
        ccpnet.load(two_ccp, overrides="seed=3")  # type: ignore[arg-type]


def test_with_overrides_leaves_the_original(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp)
    m2 = m.with_overrides(seed=5, scenarios=1000)
    assert (m.seed, m.scenarios) == (7, 100000)
    assert (m2.seed, m2.scenarios) == (5, 1000)
    assert m2.overrides == ["seed=5", "simulation.scenarios=1000"]
    assert m.with_overrides() is m
    with pytest.raises(ccpnet.ScenarioError, match="simulation.scenarios"):
        m.with_overrides(scenarios=0)
    with pytest.raises(TypeError):
        m.with_overrides(seed=1.5)  # type: ignore[arg-type]


def test_model_numbers(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp)
    assert m.ccp_ids == ["CCP_A", "CCP_B"]
    assert m.member_ids == ["M1", "M2", "M3"]
    assert m.asset_ids == ["BTC", "ETH"]
    assert [m.group_ids[g] for g in m.member_group] == ["G1", "M2", "M3"]
    np.testing.assert_array_equal(m.member_capital, [5.0e8, 3.0e8, 2.0e8])
    np.testing.assert_array_equal(m.ccp_capital, [2.0e8, 1.0e8])
    assert m.links.tolist() == [[0, 1]]
    assert m.initial_margin.dtype == np.float64 and m.account_ccp.dtype == np.int64
    accounts = m.accounts
    assert isinstance(accounts, pd.DataFrame)
    assert list(accounts.columns) == [
        "kind",
        "ccp",
        "owner",
        "initial_margin",
        "default_fund",
        "notional",
        "liquidation_cost",
    ]
    members = accounts[accounts.kind == "member"]
    assert list(zip(members.owner, members.ccp)) == [("M1", "CCP_A"), ("M2", "CCP_A"), ("M2", "CCP_B"), ("M3", "CCP_B")]
    np.testing.assert_array_equal(accounts.initial_margin.to_numpy(), m.initial_margin)
    # CCP_B's tiered margin: 2% of the notional up to $1m, 5% of the rest.
    b = accounts[(accounts.ccp == "CCP_B") & (accounts.kind == "member")]
    assert b.initial_margin.tolist() == pytest.approx([0.02e6 + 0.05 * 0.5e6, 0.02e6 + 0.05 * 1.4e6], rel=1e-12)
    np.testing.assert_allclose(
        m.ccp_initial_margin, [m.initial_margin[m.account_ccp == c].sum() for c in range(2)], rtol=1e-15
    )
    assert "two CCPs, one peer link" in repr(m)


def test_models_pickle_and_are_independent(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp, overrides=["seed=3"])
    again = pickle.loads(pickle.dumps(m))
    assert again is not m
    assert again.sha256 == m.sha256 and again.overrides == ["seed=3"] and again.source_name == str(two_ccp)
    assert copy.deepcopy(m).sha256 == m.sha256


def test_one_scenario(two_ccp: Path) -> None:
    m = ccpnet.load(two_ccp)
    s = m.scenario(12)
    assert s["scenario"] == 12
    assert [d["member"] for d in s["defaults"]][:1] == ["M1"]
    assert s["defaults"][0]["cause"] == "exogenous"
    assert set(s["ccps"]) == {"CCP_A", "CCP_B"}
    assert list(s["ccps"]["CCP_A"]["layer_losses"])[:2] == ["defaulter_im", "defaulter_df"]
    row = ccpnet.run(m, scenarios=64).scenarios.iloc[12]
    assert row.total_loss == s["total_loss"]
    assert row.market_factor == s["market_factor"]
    with pytest.raises(ValueError):
        m.scenario(-1)


def test_scenario_text() -> None:
    data = {
        "name": 'a "quoted" name',
        "seed": np.uint64(3),
        "capital": "2.0e8",  # a str stays a string (PyYAML's reading of 2.0e8 too)
        "id": "123",
        "up_to": float("inf"),
        "matrix": np.eye(2),
        "nested": {"flag": True, "none": None, "empty": {}, "list": []},
        "records": [{"id": "A"}],
    }
    assert ccpnet.scenario_text(data) == (
        "{\n"
        '  "name": "a \\"quoted\\" name",\n'
        '  "seed": 3,\n'
        '  "capital": "2.0e8",\n'
        '  "id": "123",\n'
        '  "up_to": .inf,\n'
        '  "matrix": [\n'
        "    [1.0, 0.0],\n"
        "    [0.0, 1.0]\n"
        "  ],\n"
        '  "nested": {\n'
        '    "flag": true,\n'
        '    "none": null,\n'
        '    "empty": {},\n'
        '    "list": []\n'
        "  },\n"
        '  "records": [\n'
        "    {\n"
        '      "id": "A"\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    # It is YAML: the data reads back.
    assert yaml.safe_load(ccpnet.scenario_text({"a": [1, -0.5], "b": {"c": "d"}})) == {"a": [1, -0.5], "b": {"c": "d"}}



TRADES_SCENARIO = """\
name: trades beside another directory
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
    - {id: ETH, price: 3000, volatility: 0.8}
ccps:
  - {id: A, capital: 1e8}
  - {id: B, capital: 1e8}
  - {id: C, capital: 1e8}
members:
  - {id: M1, capital: 1e8}
  - {id: M2, capital: 1e8}
  - {id: M3, capital: 1e8}
links:
  - {between: [A, B]}
  - {between: [B, C]}
trades_file: ../trades/trades.csv
"""


def test_data_files_outside_the_scenario_directory_need_consent(tmp_path: Path) -> None:
    """As ``ccpnet --allow-outside-data``: refused by default, then kept by derived models."""
    (tmp_path / "trades").mkdir()
    (tmp_path / "trades" / "trades.csv").write_text((REPO / "tests/data/trades/trades.csv").read_text())
    (tmp_path / "scenario").mkdir()
    path = tmp_path / "scenario" / "s.yaml"
    path.write_text(TRADES_SCENARIO)
    with pytest.raises(ccpnet.ScenarioError, match="leads out of it"):
        ccpnet.load(path)
    m = ccpnet.load(path, allow_outside_data=True)
    assert m.with_overrides(seed=11).seed == 11
    assert pickle.loads(pickle.dumps(m)).to_dict() == m.to_dict()
    with pytest.raises(ccpnet.ScenarioError, match="leads out of it"):
        ccpnet.Model.from_text(TRADES_SCENARIO, str(path))
    assert ccpnet.Model.from_text(TRADES_SCENARIO, str(path), allow_outside_data=True).to_dict() == m.to_dict()


def test_library_finds_the_scenarios_from_anywhere_in_the_repository(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.delenv("CCPNET_SCENARIOS", raising=False)
    monkeypatch.chdir(REPO / "notebooks")
    assert Path(ccpnet.library("cover2_linked")) == REPO / "scenarios" / "cover2_linked.yaml"
    assert ccpnet.library("full_mesh.yaml") == ccpnet.library("full_mesh")
    with pytest.raises(FileNotFoundError, match="no scenario 'nope.yaml'.*cover2_linked"):
        ccpnet.library("nope")
    monkeypatch.chdir(tmp_path)  # outside the repository
    with pytest.raises(FileNotFoundError, match="CCPNET_SCENARIOS"):
        ccpnet.library("cover2_linked")
    monkeypatch.setenv("CCPNET_SCENARIOS", str(REPO / "scenarios"))
    assert ccpnet.load(ccpnet.library("cover2_linked")).name
