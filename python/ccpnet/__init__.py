"""ccpnet: contagion across interoperable central counterparties."""

from ccpnet._core import __version__

__all__ = ["__version__"]
