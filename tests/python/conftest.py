"""Shared fixtures of the Python package tests.

The package is imported from the build tree (PYTHONPATH=build/python); the CLI
binary to compare against is named by CCPNET_EXE.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # before anything imports pyplot


@contextlib.contextmanager
def ctrl_c_soon(first: float = 0.3, every: float = 5.0) -> Iterator[None]:
    """Ctrl-C (SIGINT to this process) `first` seconds in, then every `every` seconds
    until the block ends, with Python's default handler (KeyboardInterrupt) whatever an
    earlier test or library installed: a run that does not stop keeps being asked to.
    Signals still pending when the block ends are absorbed, not raised in later code.
    Call from the main thread (only it handles signals)."""
    done = threading.Event()

    def send() -> None:
        wait = first
        while not done.wait(wait):
            os.kill(os.getpid(), signal.SIGINT)
            wait = every

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, lambda *_: None)
        done.set()
        sender.join()
        signal.signal(signal.SIGINT, previous)

REPO = Path(os.environ.get("CCPNET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SCENARIOS = REPO / "scenarios"

# A small valid scenario, to make invalid ones from.
MINIMAL = """\
name: minimal
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
ccps:
  - id: A
    capital: 1.0e8
members:
  - id: M1
    capital: 1.0e6
    positions: {A: {BTC: 1}}
  - id: M2
    capital: 1.0e6
    positions: {A: {BTC: -1}}
"""


def scenario_files() -> list[Path]:
    """Every scenario of the library."""
    return sorted(SCENARIOS.glob("*.yaml"))


@pytest.fixture(scope="session")
def two_ccp() -> Path:
    """The two-CCP example of the specification."""
    return SCENARIOS / "two_ccp_peer.yaml"


@pytest.fixture(scope="session")
def ccpnet_exe() -> Path:
    """The ccpnet command-line binary."""
    exe = os.environ.get("CCPNET_EXE")
    if not exe:
        pytest.skip("CCPNET_EXE is not set (ctest sets it)")
    path = Path(exe)
    assert path.is_file(), f"CCPNET_EXE={exe} does not exist"
    return path
