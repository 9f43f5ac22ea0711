"""Files the package writes: whole or not at all.

A page, figure or scenario skeleton is written to a temporary file next to its
destination and renamed over it, so that an interrupted or failed write never
leaves half a file, and a file that was there stays as it was until the new
one is complete (the CLI's outputs follow the same rule).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_text_file"]


def write_text_file(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    out = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return out
