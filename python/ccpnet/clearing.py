"""Clearing building blocks on numpy arrays: Eisenberg-Noe, Rogers-Veraart, DebtRank.

Notation (as in the C++ library): ``L[i, j]`` is what bank ``i`` owes bank
``j``; ``e`` the external (outside the network) assets; ``external_debt`` what
each bank owes outside the network; ``pbar`` the total obligations (row sums of
``L`` plus external debt); ``Pi = L / pbar`` the relative liabilities.

``L`` may be a numpy array or any scipy.sparse matrix (converted to CSR); the
work runs in C++ with the GIL released.
"""

import numpy as np

from ccpnet._core import clearing as _clearing

ClearingResult = _clearing.ClearingResult
BatchClearingResult = _clearing.BatchClearingResult
DebtRankResult = _clearing.DebtRankResult
BatchDebtRankResult = _clearing.BatchDebtRankResult

__all__ = [
    "BatchClearingResult",
    "BatchDebtRankResult",
    "ClearingResult",
    "DebtRankResult",
    "debtrank",
    "eisenberg_noe",
    "eisenberg_noe_batch",
    "rogers_veraart",
]


def _matrix(m):
    """A float64 numpy array, or a canonical float64 scipy.sparse.csr_matrix for sparse input."""
    if hasattr(m, "tocsr") and hasattr(m, "nnz"):
        import scipy.sparse

        csr = scipy.sparse.csr_matrix(m, dtype=np.float64)
        if not csr.has_canonical_format:
            csr = csr.copy()
            csr.sum_duplicates()
        return csr
    return np.asarray(m, dtype=np.float64)


def _vector(v):
    return None if v is None else np.ascontiguousarray(v, dtype=np.float64)


def eisenberg_noe(L, e, external_debt=None, senior=False, tolerance=1e-12, max_iterations=10_000):
    """Greatest Eisenberg-Noe (2001) clearing vector.

    The greatest fixed point of ``p = min(pbar, max(0, e + Pi' p))``, computed
    by the fictitious-default algorithm.

    Args:
        L: n x n liabilities, ``L[i, j]`` owed by bank i to bank j (numpy or scipy.sparse).
        e: external assets, length n (may be negative: outside losses).
        external_debt: debt owed outside the network, length n, or None.
        senior: if True external debt is paid before interbank debt; otherwise
            all creditors of a defaulting bank recover the same fraction.
        tolerance: stop when no payment moves by more than ``tolerance * pbar[i]``.
        max_iterations: at most this many rounds (``converged`` is False if reached).

    Returns:
        ClearingResult with ``payments`` (p), ``equity``, ``defaulted`` (bool
        mask), ``iterations`` and ``converged``.
    """
    return _clearing.eisenberg_noe(
        _matrix(L), _vector(e), _vector(external_debt), bool(senior), float(tolerance), int(max_iterations)
    )


def eisenberg_noe_batch(L, E, external_debt=None, senior=False, tolerance=1e-12, max_iterations=10_000):
    """Eisenberg-Noe clearing vectors for many shocks on the same network.

    Column ``s`` of the n x S matrix ``E`` holds the external assets of
    scenario ``s``. The relative liabilities are built once and each scenario
    runs the monotone decreasing iteration ``p <- min(pbar, max(0, E[:, s] +
    Pi' p))`` from ``pbar``, propagating only the payments that changed, until
    no payment moves by more than ``1e-12 * pbar[i]``.

    Returns:
        BatchClearingResult with ``payments`` (n x S), ``iterations`` (per
        scenario) and ``converged``.
    """
    return _clearing.eisenberg_noe_batch(
        _matrix(L),
        np.asarray(E, dtype=np.float64),
        _vector(external_debt),
        bool(senior),
        float(tolerance),
        int(max_iterations),
    )


def rogers_veraart(L, e, alpha, beta, external_debt=None):
    """Greatest Rogers-Veraart (2013) clearing vector with default costs.

    A bank that cannot pay ``pbar`` in full realises a fraction ``alpha`` of its
    external assets and ``beta`` of its interbank receivables:
    ``p[i] = alpha * e[i] + beta * (Pi' p)[i]``. Computed by Rogers and
    Veraart's Greatest Clearing Vector Algorithm. ``alpha = beta = 1`` gives
    Eisenberg-Noe.

    Args:
        L: n x n liabilities (numpy or scipy.sparse).
        e: external assets, length n, non-negative.
        alpha, beta: shares realised in default, in [0, 1].
        external_debt: debt owed outside the network (pari passu), or None.

    Returns:
        ClearingResult.
    """
    return _clearing.rogers_veraart(_matrix(L), _vector(e), float(alpha), float(beta), _vector(external_debt))


def debtrank(W, h0, linear=False, value=None):
    """DebtRank of an initial distress ``h0`` on the impact matrix ``W``.

    ``W[i, j]`` is the fraction of j's equity lost when i defaults (typically
    ``min(1, exposure of j to i / equity of j)``); ``h0`` the initial relative
    equity loss of each bank, in [0, 1]: one shock (length n) or many (n x S,
    one column per shock, propagated together on the same network).

    Single-hit (Battiston et al. 2012): each bank propagates its distress once.
    Linear (``linear=True``, Bardoscia et al. 2015): every increase propagates,
    ``h(t+1) = min(1, h(t) + W' (h(t) - h(t-1)))``.

    Args:
        W: n x n impact matrix (numpy or scipy.sparse).
        h0: initial relative distress, length n, or n x S for S shocks.
        linear: use the linear variant.
        value: economic value of each bank (e.g. total assets), or None for equal weights.

    Returns:
        For one shock, DebtRankResult with ``distress`` (final h), ``debtrank``
        (value-weighted equity loss beyond h0), ``iterations`` and
        ``converged``. For n x S shocks, BatchDebtRankResult with ``distress``
        (n x S), ``debtrank`` and ``iterations`` (length S) and ``converged``
        (every shock); column s is what the one-shock call gives for ``h0[:, s]``.
    """
    shocks = np.asarray(h0, dtype=np.float64)
    if shocks.ndim == 2:
        return _clearing.debtrank_batch(_matrix(W), shocks, bool(linear), _vector(value))
    if shocks.ndim != 1:
        raise ValueError(
            f"initial distress must be one shock (length n) or n x S shocks (one column per shock), "
            f"got an array of shape {shocks.shape}"
        )
    return _clearing.debtrank(_matrix(W), np.ascontiguousarray(shocks), bool(linear), _vector(value))
