"""ccpnet.clearing against plain numpy implementations and worked examples.

The numpy references below follow the definitions, not the C++ algorithms:
the greatest clearing vector is the limit of the decreasing iteration
p <- Phi(p) from pbar (Eisenberg and Noe 2001; the Rogers-Veraart map is
monotone and its solvent set closed, so the same holds with default costs),
and DebtRank is the round-by-round recursion of its papers.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccpnet import clearing

# ------------------------------------------------------------------ numpy references


def relative_liabilities(L: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Pi = L / denominator, row by row (0 where the denominator is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator[:, None] > 0, L / denominator[:, None], 0.0)


def greatest_fixed_point(pi: np.ndarray, cap: np.ndarray, assets: np.ndarray) -> np.ndarray:
    """Limit of p <- min(cap, max(0, assets + Pi' p)) from p = cap."""
    p = cap.copy()
    for _ in range(200_000):
        nxt = np.minimum(cap, np.maximum(0.0, assets + pi.T @ p))
        if np.all(np.abs(nxt - p) <= 1e-15 * cap):
            return nxt
        p = nxt
    raise AssertionError("reference iteration did not converge")


def numpy_eisenberg_noe(L, e, d=None, senior=False):
    """Total payments of the greatest Eisenberg-Noe clearing vector."""
    owed = L.sum(axis=1)
    d = np.zeros_like(owed) if d is None else d
    if not senior:
        return greatest_fixed_point(relative_liabilities(L, owed + d), owed + d, e)
    pi = relative_liabilities(L, owed)
    q = greatest_fixed_point(pi, owed, e - d)
    return np.minimum(d, np.maximum(0.0, e + pi.T @ q)) + q


def numpy_rogers_veraart(L, e, alpha, beta, d=None):
    """Limit of the Rogers-Veraart map from pbar."""
    pbar = L.sum(axis=1) + (0.0 if d is None else d)
    pi = relative_liabilities(L, pbar)
    p = pbar.copy()
    for _ in range(200_000):
        received = pi.T @ p
        nxt = np.where(e + received >= pbar, pbar, alpha * e + beta * received)
        if np.all(np.abs(nxt - p) <= 1e-15 * pbar):
            return nxt
        p = nxt
    raise AssertionError("reference iteration did not converge")


def numpy_debtrank(W, h0, linear=False, value=None):
    """(final distress, DebtRank) by the recursions of Battiston et al. (2012) / Bardoscia et al. (2015)."""
    n = len(h0)
    v = np.full(n, 1.0 / n) if value is None else np.asarray(value, float) / np.sum(value)
    h = np.array(h0, dtype=float)
    if linear:
        previous = np.zeros(n)
        while True:
            nxt = np.minimum(1.0, h + W.T @ (h - previous))
            previous, h = h, nxt
            if np.max(np.abs(h - previous)) <= 1e-15:
                break
    else:
        distressed = h > 0
        inactive = np.zeros(n, dtype=bool)
        while distressed.any():
            h = np.minimum(1.0, h + W.T @ np.where(distressed, h, 0.0))
            inactive |= distressed
            distressed = (h > 0) & ~inactive
    return h, float(v @ (h - h0))


def random_network(n: int, degree: float, seed: int):
    """Directed Erdos-Renyi liabilities, external debt and thinly capitalised, shocked external assets."""
    rng = np.random.default_rng(seed)
    links = (rng.random((n, n)) < degree / (n - 1)) & ~np.eye(n, dtype=bool)
    L = np.where(links, rng.uniform(1.0, 10.0, (n, n)), 0.0)
    d = rng.uniform(0.0, 20.0, n)
    outside = np.maximum(1.0, L.sum(axis=1) + d - L.sum(axis=0) + rng.uniform(0.0, 5.0, n))
    e = outside * (1.0 - 0.3 * rng.random(n))
    return L, e, d


def assert_default_set(result, pbar):
    """Banks outside the default set pay pbar (up to the rounding of its row sum), banks inside pay less."""
    solvent = ~result.defaulted
    np.testing.assert_allclose(result.payments[solvent], pbar[solvent], rtol=1e-14)
    assert (result.payments[result.defaulted] < pbar[result.defaulted]).all()


def assert_close_to(actual, expected, scale, rel=1e-9):
    """|actual - expected| <= rel * scale, element by element (scale: pbar, the natural size of a payment)."""
    np.testing.assert_array_less(np.abs(np.asarray(actual) - expected), rel * np.asarray(scale) + 1e-300)


# ------------------------------------------------------------------ worked examples

# Three-bank network of the NEVA course exercises (Barucca et al., Mathematical Finance 2020;
# github.com/paolobarucca/neva, Exercise2.m). The numbers expected below are worked by hand in
# tests/models/test_clearing.cpp.
NEVA_L = np.array([[0.0, 4.0, 0.0], [0.0, 0.0, 3.0], [2.0, 0.0, 0.0]])
NEVA_DEBT = np.array([17.0, 18.0, 8.0])
SHOCKED = np.array([18.0, 17.5, 9.0])


def test_neva_example_pari_passu():
    r = clearing.eisenberg_noe(NEVA_L, SHOCKED, external_debt=NEVA_DEBT)
    np.testing.assert_allclose(r.payments, [20.0, 21.0, 10.0], rtol=1e-14)
    np.testing.assert_allclose(r.equity, [0.0, 6.5 / 21, 2.0], rtol=1e-12, atol=1e-14)
    assert r.defaulted.tolist() == [True, False, False]
    assert r.converged and r.iterations == 2


def test_neva_example_senior_external_debt_brings_down_bank_1():
    r = clearing.eisenberg_noe(NEVA_L, SHOCKED, external_debt=NEVA_DEBT, senior=True)
    np.testing.assert_allclose(r.payments, [20.0, 20.5, 10.0], rtol=1e-14)
    assert r.defaulted.tolist() == [True, True, False]
    np.testing.assert_allclose(r.equity[2], 1.5, rtol=1e-14)


def test_neva_example_rogers_veraart():
    r = clearing.rogers_veraart(NEVA_L, SHOCKED, 0.5, 0.8, external_debt=NEVA_DEBT)
    np.testing.assert_allclose(r.payments, [10.6, 8.75 + 33.92 / 21, 10.0], rtol=1e-14)
    assert r.defaulted.tolist() == [True, True, False]


def test_network_risk_measures_debtrank_example():
    # README of carloscinelli/NetworkRiskMeasures: additional stress a 0.9285714, b 0.25, c 0.6642857
    # for the default of each bank; 16.07% and final stress (0.15, 0.26, 0.30) for a 10% shock on all.
    W = np.array([[0.0, 1.0, 1.0], [0.5, 0.0, 1.0], [0.0, 0.6, 0.0]])
    sizes = [10.0, 100.0, 30.0]
    published = [0.9285714, 0.25, 0.6642857]
    for bank, expected in enumerate(published):
        h0 = np.zeros(3)
        h0[bank] = 1.0
        assert clearing.debtrank(W, h0, value=sizes).debtrank == pytest.approx(expected, abs=5e-8)
    r = clearing.debtrank(W, [0.1, 0.1, 0.1], value=sizes)
    np.testing.assert_allclose(r.distress, [0.15, 0.26, 0.30], rtol=1e-14)
    assert r.debtrank == pytest.approx(0.1607, abs=5e-5)


# ------------------------------------------------------------------ random networks against numpy


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("senior", [False, True])
def test_eisenberg_noe_equals_numpy(seed, senior):
    L, e, d = random_network(50, 4.0, seed)
    e[seed] = -2.0  # outside losses: the floor at zero matters
    expected = numpy_eisenberg_noe(L, e, d, senior)
    pbar = L.sum(axis=1) + d
    assert (expected < pbar).any()
    for matrix in (L, sp.csr_matrix(L), sp.csc_matrix(L)):
        r = clearing.eisenberg_noe(matrix, e, external_debt=d, senior=senior)
        assert r.converged
        assert_close_to(r.payments, expected, pbar)
        assert_default_set(r, pbar)
        owed = L.sum(axis=1)
        interbank = np.maximum(0.0, r.payments - d) if senior else r.payments * owed / pbar
        received = relative_liabilities(L, owed).T @ interbank
        assert_close_to(r.equity, np.maximum(0.0, e + received - pbar), pbar)


def test_eisenberg_noe_without_external_debt_equals_numpy():
    L, e, _ = random_network(80, 6.0, 99)
    expected = numpy_eisenberg_noe(L, e)
    assert_close_to(clearing.eisenberg_noe(sp.csr_matrix(L), e).payments, expected, L.sum(axis=1))


@pytest.mark.parametrize("senior", [False, True])
def test_batch_equals_numpy_and_one_by_one(senior):
    L, e, d = random_network(60, 5.0, 7)
    rng = np.random.default_rng(8)
    E = e[:, None] * rng.uniform(0.6, 1.1, (60, 25))
    pbar = L.sum(axis=1) + d
    for matrix in (L, sp.csr_matrix(L)):
        batch = clearing.eisenberg_noe_batch(matrix, E, external_debt=d, senior=senior)
        assert batch.converged
        assert batch.payments.shape == (60, 25)
        assert batch.iterations.shape == (25,)
        for s in range(E.shape[1]):
            expected = numpy_eisenberg_noe(L, E[:, s], d, senior)
            assert_close_to(batch.payments[:, s], expected, pbar)
            one = clearing.eisenberg_noe(matrix, E[:, s], external_debt=d, senior=senior)
            assert_close_to(batch.payments[:, s], one.payments, pbar)


@pytest.mark.parametrize("seed", range(4))
def test_rogers_veraart_equals_numpy(seed):
    L, e, d = random_network(50, 4.0, 100 + seed)
    alpha, beta = 0.7, 0.9
    expected = numpy_rogers_veraart(L, e, alpha, beta, d)
    pbar = L.sum(axis=1) + d
    for matrix in (L, sp.csr_matrix(L)):
        r = clearing.rogers_veraart(matrix, e, alpha, beta, external_debt=d)
        assert_close_to(r.payments, expected, pbar)
        assert_default_set(r, pbar)
        assert r.defaulted.tolist() == (expected < pbar * (1 - 1e-12)).tolist()
    en = clearing.eisenberg_noe(L, e, external_debt=d)
    assert (r.payments <= en.payments + 1e-12).all()
    assert_close_to(clearing.rogers_veraart(L, e, 1.0, 1.0, d).payments, en.payments, pbar)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("linear", [False, True])
def test_debtrank_equals_numpy(seed, linear):
    rng = np.random.default_rng(200 + seed)
    n = 40
    exposures = np.where(rng.random((n, n)) < 0.1, rng.uniform(0.0, 3.0, (n, n)), 0.0)
    np.fill_diagonal(exposures, 0.0)
    equity = rng.uniform(2.0, 10.0, n)
    W = np.minimum(1.0, exposures.T / equity[None, :])  # W[i, j] = min(1, exposure of j to i / equity of j)
    h0 = np.where(rng.random(n) < 0.2, rng.random(n), 0.0)
    value = rng.uniform(1.0, 5.0, n)
    expected_h, expected_r = numpy_debtrank(W, h0, linear, value)
    r = clearing.debtrank(W, h0, linear=linear, value=value)
    assert r.converged
    np.testing.assert_allclose(r.distress, expected_h, rtol=1e-12, atol=1e-13)
    assert r.debtrank == pytest.approx(expected_r, rel=1e-12, abs=1e-14)


def random_impact(n, degree, seed, max_impact=0.8):
    """A sparse random impact matrix W (scipy CSR, ~`degree` links per bank) and bank sizes."""
    rng = np.random.default_rng(seed)
    links = sp.random(n, n, density=degree / (n - 1), format="coo", random_state=rng)
    keep = links.row != links.col
    W = sp.csr_matrix((max_impact * links.data[keep], (links.row[keep], links.col[keep])), shape=(n, n))
    return W, rng.uniform(1.0, 5.0, n)


def random_shocks(n, shocks, seed):
    """n x shocks initial distress: ~5% of the banks hit U(0, 1) per shock; column 0 empty, column 1 a default."""
    rng = np.random.default_rng(seed)
    H0 = np.where(rng.random((n, shocks)) < 0.05, rng.random((n, shocks)), 0.0)
    H0[:, 0] = 0.0
    H0[seed % n, 1] = 1.0
    return H0


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("linear", [False, True])
def test_debtrank_sparse_equals_dense(seed, linear):
    W, value = random_impact(200, 5.0, 300 + seed, max_impact=1.2 if seed == 2 else 0.8)
    H0 = random_shocks(200, 6, seed)
    dense = W.toarray()
    for s in range(H0.shape[1]):
        expected = clearing.debtrank(dense, H0[:, s], linear=linear, value=value)
        for matrix in (W, sp.csc_matrix(W), sp.coo_matrix(W)):
            r = clearing.debtrank(matrix, H0[:, s], linear=linear, value=value)
            assert r.converged and r.iterations == expected.iterations
            np.testing.assert_allclose(r.distress, expected.distress, rtol=0, atol=1e-12)
            assert r.debtrank == pytest.approx(expected.debtrank, rel=0, abs=1e-12)
        reference_h, reference_r = numpy_debtrank(dense, H0[:, s], linear, value)
        np.testing.assert_allclose(expected.distress, reference_h, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("linear", [False, True])
def test_debtrank_batch_equals_one_at_a_time(linear):
    W, value = random_impact(150, 5.0, 400)
    H0 = random_shocks(150, 19, 4)
    for shocks in (H0, np.asfortranarray(H0)):
        batch = clearing.debtrank(W, shocks, linear=linear, value=value)
        assert isinstance(batch, clearing.BatchDebtRankResult)
        assert batch.distress.shape == (150, 19)
        assert batch.debtrank.shape == (19,) and batch.iterations.shape == (19,)
        assert batch.converged
        for s in range(H0.shape[1]):
            one = clearing.debtrank(W, H0[:, s], linear=linear, value=value)
            np.testing.assert_array_equal(batch.distress[:, s], one.distress)
            assert batch.debtrank[s] == one.debtrank
            assert batch.iterations[s] == one.iterations
    np.testing.assert_array_equal(clearing.debtrank(W.toarray(), H0, linear=linear, value=value).distress,
                                  batch.distress)
    assert "19 shocks" in repr(batch)


def test_debtrank_rejects_shocks_of_another_shape():
    with pytest.raises(ValueError, match=r"one shock \(length n\) or n x S shocks"):
        clearing.debtrank(np.zeros((2, 2)), np.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match=r"one row per bank \(one column per shock\): got 3 rows, expected 2"):
        clearing.debtrank(np.zeros((2, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="initial distress of bank 1 in shock 2 is 1.5"):
        clearing.debtrank(sp.csr_matrix((2, 2)), np.array([[0, 0, 0], [0, 0, 1.5]]))
    from ccpnet._core import clearing as core

    assert len(core.debtrank_batch.__doc__) > 200


# ------------------------------------------------------------------ interface


def test_accepts_any_layout_and_format():
    L, e, d = random_network(30, 3.0, 5)
    reference = clearing.eisenberg_noe(L, e, external_debt=d).payments
    coo = sp.coo_matrix(L)
    duplicated = sp.csr_matrix(  # the same matrix with every entry split in two: not canonical
        (np.repeat(coo.data / 2, 2), (np.repeat(coo.row, 2), np.repeat(coo.col, 2))), shape=L.shape
    )
    for matrix in (np.asfortranarray(L), L.tolist(), sp.csr_array(L), coo, sp.lil_matrix(L), duplicated):
        np.testing.assert_allclose(clearing.eisenberg_noe(matrix, e, external_debt=d).payments, reference, rtol=1e-13)
    E = np.stack([e, 0.8 * e], axis=1)
    for scenarios in (E, np.asfortranarray(E), E[:, ::-1][:, ::-1]):
        np.testing.assert_allclose(clearing.eisenberg_noe_batch(L, scenarios, d).payments[:, 0], reference, rtol=1e-9)
    np.testing.assert_array_equal(clearing.eisenberg_noe(np.rint(L).astype(int), e).payments,
                                  clearing.eisenberg_noe(np.rint(L), e).payments)


def test_results_are_numpy_arrays():
    r = clearing.eisenberg_noe(NEVA_L, SHOCKED, external_debt=NEVA_DEBT)
    assert isinstance(r.payments, np.ndarray) and r.payments.dtype == np.float64 and r.payments.shape == (3,)
    assert r.defaulted.dtype == np.bool_
    assert "1 defaulted" in repr(r)
    b = clearing.eisenberg_noe_batch(NEVA_L, np.stack([SHOCKED, SHOCKED + 3], axis=1), NEVA_DEBT)
    assert b.payments.shape == (3, 2) and b.iterations.dtype.kind == "i"
    assert "2 scenarios" in repr(b)
    assert isinstance(clearing.debtrank(np.zeros((2, 2)), [0.5, 0.0]).debtrank, float)


def test_bad_input_raises_value_error_with_the_reason():
    with pytest.raises(ValueError, match="liability matrix must be square"):
        clearing.eisenberg_noe(np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match=r"bank 1 owes bank 2 a negative amount \(-3\)"):
        clearing.eisenberg_noe(sp.csr_matrix(np.array([[0, 1, 0], [0, 0, -3.0], [0, 0, 0]])), np.zeros(3))
    with pytest.raises(ValueError, match="external assets must have one entry per bank: got 2, expected 3"):
        clearing.eisenberg_noe(NEVA_L, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"external debt of bank 0 is negative"):
        clearing.eisenberg_noe(NEVA_L, SHOCKED, external_debt=[-1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="one row per bank"):
        clearing.eisenberg_noe_batch(NEVA_L, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"alpha .* must be in \[0, 1\], got 2"):
        clearing.rogers_veraart(NEVA_L, SHOCKED, 2.0, 0.5)
    with pytest.raises(ValueError, match="initial distress of bank 1 is 1.5"):
        clearing.debtrank(np.zeros((2, 2)), [0.0, 1.5])


def test_compiled_functions_carry_docstrings():
    from ccpnet._core import clearing as core

    for name in ("eisenberg_noe", "eisenberg_noe_batch", "rogers_veraart", "debtrank"):
        assert "Returns" in getattr(clearing, name).__doc__
        assert len(getattr(core, name).__doc__) > 200


def test_iteration_limit_is_reported():
    L, e, d = random_network(60, 5.0, 7)
    E = e[:, None] * np.array([[0.6, 1.5]])  # a stressed scenario and a calm one
    capped = clearing.eisenberg_noe_batch(L, E, d, max_iterations=2)
    assert not capped.converged
    assert capped.iterations.tolist()[0] == 2
    full = clearing.eisenberg_noe_batch(L, E, d)
    assert full.converged and full.iterations[0] > 2
    assert not clearing.eisenberg_noe(L, E[:, 0], d, max_iterations=1).converged
    with pytest.raises(ValueError, match="max_iterations must be >= 1"):
        clearing.eisenberg_noe(L, e, max_iterations=0)
