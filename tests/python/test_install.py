"""`pip install .` into a fresh virtual environment, then the README's quick start there.

Slow (a pip build): it runs only when CCPNET_INSTALL_TEST=1, which the ctest
test python.pip_install sets (once per ctest run). CCPNET_CMAKE_BUILD_DIR
names a CMake build tree to reuse (ctest: its own); without it pip configures
and builds build/pip from scratch, as on a fresh machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINIMAL, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CCPNET_INSTALL_TEST") != "1", reason="set CCPNET_INSTALL_TEST=1 (ctest python.pip_install)"
    ),
]


def readme_python_quick_start() -> str:
    """The first Python block of the README: the quick start a user copies."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no ```python block"
    return blocks[0]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    v = tmp_path_factory.mktemp("install") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(v)], check=True)
    env = {k: val for k, val in os.environ.items() if k != "PYTHONPATH"}
    # The README's command, offline (--no-index) and without a cached wheel.
    pip = [str(v / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", "--no-cache-dir", "-q", "."]
    done = subprocess.run(pip, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return v


def clean_env() -> dict[str, str]:
    # Nothing from the build tree: the installed package only.
    return {k: val for k, val in os.environ.items() if k not in ("PYTHONPATH", "CCPNET_EXE")}


def test_the_installed_package_runs_the_readme_quick_start(venv: Path) -> None:
    code = "import ccpnet\nprint('IMPORTED', ccpnet.__file__)\n" + readme_python_quick_start()
    code += "\nprint('P_ANY', result.summary['system']['p_any_ccp_fail_ci95'])\n"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], cwd=REPO, env=clean_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    imported = next(line for line in done.stdout.splitlines() if line.startswith("IMPORTED"))
    assert str(venv) in imported and "site-packages" in imported  # not build/python
    assert "P_ANY [" in done.stdout


def test_the_console_command_is_the_cli(venv: Path, tmp_path: Path) -> None:
    exe = venv / "bin" / "ccpnet"
    assert exe.is_file()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=clean_env())
    assert version.returncode == 0 and version.stdout.startswith("ccpnet ")
    out = tmp_path / "out"
    run = subprocess.run(
        [str(exe), "run", str(REPO / "scenarios" / "two_ccp_peer.yaml"), "-n", "3000", "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert run.returncode == 0, run.stderr
    assert "P(any CCP fails)" in run.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenarios"] == 3000
    # Exit codes pass through: invalid input is 2 with a located message.
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("capital: 1.0e8", "capital: -1"), encoding="utf-8")
    invalid = subprocess.run([str(exe), "validate", str(bad)], capture_output=True, text=True, env=clean_env())
    assert invalid.returncode == 2
    assert "bad.yaml:" in invalid.stderr
