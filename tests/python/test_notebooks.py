"""The notebooks in notebooks/ run from top to bottom and draw their figures.

Each notebook is executed in a fresh ``python3`` kernel with notebooks/ as the
working directory, as a reader would run it. The kernel imports the same ccpnet
package as this test (its directory is put first on the kernel's PYTHONPATH) and
runs on the same interpreter: if the ``python3`` kernel spec points elsewhere, a
spec for this interpreter is written to a temporary JUPYTER_PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

import ccpnet

NOTEBOOKS = REPO / "notebooks"
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell


def notebook_files() -> list[Path]:
    """Every notebook of the repository, in reading order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _kernel_interpreter(name: str) -> str | None:
    """The interpreter the kernel spec ``name`` starts, resolved; None without such a spec."""
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return None
    program = spec.argv[0]
    # jupyter_client starts a spec whose program is plain "python", "python3" or
    # "python3.X" with the interpreter it runs in.
    major, minor = sys.version_info[:2]
    if program in {"python", f"python{major}", f"python{major}.{minor}"}:
        program = sys.executable
    return os.path.realpath(shutil.which(program) or program)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of the notebook kernels."""
    here = os.path.realpath(sys.executable)
    with pytest.MonkeyPatch.context() as patch:
        if _kernel_interpreter(KERNEL) != here:
            kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
            (kernels / KERNEL).mkdir(parents=True)
            spec = {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
            (kernels / KERNEL / "kernel.json").write_text(json.dumps(spec, indent=1))
            paths = [str(kernels.parent), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
            patch.setenv("JUPYTER_PATH", os.pathsep.join(paths))
        assert _kernel_interpreter(KERNEL) == here, f"kernel {KERNEL!r} does not start {sys.executable}"

        env = dict(os.environ)
        package_dir = str(Path(ccpnet.__file__).resolve().parent.parent)
        inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != package_dir]
        env["PYTHONPATH"] = os.pathsep.join([package_dir, *inherited])
        env.pop("MPLBACKEND", None)  # the notebooks draw with the inline backend
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiet ipykernel's debugger start-up note
        yield env


def test_there_are_notebooks() -> None:
    names = [p.name for p in notebook_files()]
    assert len(names) >= 4, names
    assert (NOTEBOOKS / "README.md").is_file()
    readme = (NOTEBOOKS / "README.md").read_text()
    for name in names:
        assert name in readme, f"notebooks/README.md does not list {name}"


@pytest.mark.parametrize("path", notebook_files(), ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    assert nb.cells and nb.cells[0].cell_type == "markdown", "a notebook opens with what question it answers"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} is stored with outputs"
            assert cell.execution_count is None, f"cell {i} is stored with an execution count"


def _text(output: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", ""))


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_files(), ids=lambda p: p.name)
def test_notebook_runs_and_draws(path: Path, kernel_env: dict[str, str]) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=kernel_env)  # raises CellExecutionError, naming the cell, on any error

    outputs = [(i, o) for i, cell in enumerate(nb.cells) if cell.cell_type == "code" for o in cell.outputs]
    errors = [i for i, o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: cells {errors} raised"
    warnings = [(i, _text(o)) for i, o in outputs if o.output_type == "stream" and o.name == "stderr"]
    warnings = [(i, text) for i, text in warnings if "Warning" in text]
    assert not warnings, f"{path.name}: cells wrote warnings: {warnings}"
    # matplotlib's figures (PNG) and ccpnet.plot's, the report's figures (SVG)
    figures = [i for i, o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
    assert figures, f"{path.name} drew no figure"
