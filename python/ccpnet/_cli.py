"""The `ccpnet` console command of an installed package: runs the bundled executable.

`pip install .` puts the C++ command line tool at ccpnet/bin/ccpnet; this entry
point replaces the Python process with it, so arguments, output, signals and
exit codes are the tool's own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def executable() -> Path:
    """The command line tool that ships with this package (ccpnet/bin/ccpnet)."""
    return Path(__file__).resolve().parent / "bin" / "ccpnet"


def main() -> None:
    exe = executable()
    if not os.access(exe, os.X_OK):
        sys.exit(f"ccpnet: the command line tool is not installed with this package ({exe}); "
                 "install the package with pip, or use build/bin/ccpnet from a CMake build")
    os.execv(exe, [str(exe), *sys.argv[1:]])


if __name__ == "__main__":
    main()
