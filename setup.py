"""setuptools drives CMake: the extension ccpnet._core and the ccpnet executable.

pyproject.toml has the package metadata; this file only adds the build step.
The C++ build uses the Debian packages ./setup.sh installs; no download.

Environment:
  CCPNET_CMAKE_BUILD_DIR   an existing or new CMake build tree (default: build/pip)
  CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: all cores)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """Configures (once) and builds the CMake targets _core and ccpnet, then copies them in."""

    def build_extension(self, ext: Extension) -> None:
        tree = Path(os.environ.get("CCPNET_CMAKE_BUILD_DIR") or SOURCE / "build" / "pip").resolve()
        if not (tree / "CMakeCache.txt").exists():
            subprocess.run(
                [
                    "cmake", "-S", str(SOURCE), "-B", str(tree), "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release",
                    f"-DPython_EXECUTABLE={sys.executable}",
                    "-DCCPNET_TESTS=OFF", "-DCCPNET_BENCH=OFF",
                    # A package may run on another CPU than the one that built it.
                    "-DCCPNET_NATIVE=OFF",
                ],
                check=True,
            )  # fmt: skip
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(
            ["cmake", "--build", str(tree), "--target", "_core", "ccpnet", "--parallel", jobs], check=True
        )
        built = sorted((tree / "python" / "ccpnet").glob("_core*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one ccpnet/_core*.so in {tree / 'python'}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)
        # The command line tool travels inside the package: ccpnet/bin/ccpnet (ccpnet._cli runs it).
        exe = target.parent / "bin" / "ccpnet"
        exe.parent.mkdir(exist_ok=True)
        shutil.copy2(tree / "bin" / "ccpnet", exe)


setup(
    ext_modules=[CMakeExtension("ccpnet._core")],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own build directory, apart from CMake's trees.
    options={"build": {"build_base": "build/setuptools"}, "egg_info": {"egg_base": "build/setuptools"}},
)
