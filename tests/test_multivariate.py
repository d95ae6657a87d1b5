"""Multivariate families: Dirichlet, Multinomial, MultivariateNormal, LowRankMultivariateNormal,
Wishart, LKJCholesky.

References: scipy.stats (dirichlet, multinomial, multivariate_normal, wishart, beta), torch
(LowRankMultivariateNormal and LKJCholesky log_prob), and 50-digit mpmath where float64 scipy
is itself limited (ill-conditioned covariances). Each member is checked in float32 and
float64; samplers by KS / chi-square tests and moments at fixed keys; reparameterized
gradients by Monte Carlo against closed forms, within 4 standard errors.
"""

from __future__ import annotations

import itertools
import time

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import torch
from scipy import special as sp
from scipy import stats

import jdist
from tests.conftest import ATOL, RTOL, assert_close, cast_like
from tests.stats_checks import chi2_check, ks_check, moments_check

EPS = {np.float32: float(np.finfo(np.float32).eps), np.float64: float(np.finfo(np.float64).eps)}


def _np(x):
    return np.asarray(x, np.float64)


def _members(d, x):
    """log_prob, entropy, mean, variance in one compiled call (fewer eager dispatches)."""
    return jax.jit(lambda d, x: (d.log_prob(x), d.entropy(), d.mean, d.variance))(d, x)


def _mc_grad_check(per_sample, expected, what):
    """Per-sample gradients ``(N, ...)``: their mean within 4 standard errors of ``expected``."""
    g = _np(per_sample)
    se = g.std(0) / np.sqrt(g.shape[0])
    err = np.abs(g.mean(0) - expected)
    assert np.all(err <= 4 * se + 1e-6), (what, g.mean(0), expected, se)


def _random_cov(rng, n, eigenvalues=None):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = rng.uniform(0.5, 2.0, n) if eigenvalues is None else np.asarray(eigenvalues)
    cov = (q * lam) @ q.T
    return 0.5 * (cov + cov.T)


# ------------------------------------------------------------------------------- Dirichlet
DIRICHLET_PARAMS = [
    [0.5, 2.0, 3.0],
    [0.01, 0.02, 0.05],
    [1e4, 2e4, 3e3],
    [1e6, 2e5, 5e5],
    [1.0] * 3,
]


def _mp_dirichlet_logpdf(a, x):
    with mpmath.workdps(40):
        a, x = ([mpmath.mpf(float(v)) for v in u] for u in (a, x))
        terms = sum((ai - 1) * mpmath.log(xi) for ai, xi in zip(a, x, strict=True))
        return float(terms + mpmath.loggamma(sum(a)) - sum(mpmath.loggamma(ai) for ai in a))


@pytest.mark.parametrize("alpha", DIRICHLET_PARAMS, ids=str)
def test_dirichlet_against_scipy(alpha, dtype):
    a = cast_like(alpha, dtype)
    # Points: the mean and two scipy draws, rounded to `dtype` (so off the simplex by rounding;
    # the reference is the textbook formula at exactly those points).
    pts = np.concatenate([(a / a.sum())[None], stats.dirichlet(a).rvs(2, random_state=0)])
    x = cast_like(np.maximum(pts, 1e-30), dtype)
    d = jdist.Dirichlet(jnp.asarray(a, dtype))
    lp, ent, mean, var = _members(d, jnp.asarray(x, dtype))

    def formula(z):
        return np.sum(sp.xlogy(a - 1, z), -1) + sp.gammaln(a.sum()) - sp.gammaln(a).sum()

    exact = pts / pts.sum(-1, keepdims=True)  # float64 points on the simplex: scipy agrees
    assert_close(formula(exact), stats.dirichlet(a).logpdf(exact.T), np.float64, rtol_scale=1e3)
    ref = np.array([_mp_dirichlet_logpdf(a, xi) for xi in x])  # at exactly the rounded points
    # log p changes by Σ (αᵢ - 1) δᵢ under relative perturbations δᵢ of xᵢ, so one rounding
    # of the inputs or of Σ xᵢ costs up to eps Σ αᵢ absolute: that is the tolerance's floor.
    tol = 10 * RTOL[dtype] * np.abs(ref) + ATOL[dtype] + EPS[dtype] * a.sum()
    assert np.all(np.abs(_np(lp) - ref) <= tol), (_np(lp) - ref, tol)
    ref_d = stats.dirichlet(a)
    assert_close(ent, ref_d.entropy(), dtype, rtol_scale=10, what="entropy")
    assert_close(mean, ref_d.mean(), dtype, what="mean")
    assert_close(var, ref_d.var(), dtype, what="variance")


def test_dirichlet_mode_follows_torch():
    cases = {
        (2.0, 3.0, 1.0): [1 / 3, 2 / 3, 0.0],
        (2.0, 0.5, 0.5): [1.0, 0.0, 0.0],  # interior formula on a face
        (0.5, 0.3, 0.9): [1.0, 0.0, 0.0],  # all < 1: torch's first vertex
        (0.5, 1.0, 0.9): [0.0, 1.0, 0.0],  # all <= 1 (torch: NaN), as Beta(1, b<1)
    }
    for alpha, want in cases.items():
        np.testing.assert_allclose(jdist.Dirichlet(jnp.array(alpha)).mode, want, rtol=1e-6)
        if min(alpha) < 1 and max(alpha) < 1 or max(alpha) > 1:
            t = torch.distributions.Dirichlet(torch.tensor(alpha, dtype=torch.float64)).mode
            np.testing.assert_allclose(t.numpy(), want, rtol=1e-6)
    assert np.all(np.isnan(jdist.Dirichlet(jnp.ones(3)).mode))


def test_dirichlet_boundary_and_support():
    d = jdist.Dirichlet(jnp.array([0.5, 1.0, 2.0]))
    x = jnp.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0], [0.5, 0.6, 0.1]])
    lp = _np(jax.jit(lambda d, x: d.log_prob(x))(d, x))
    np.testing.assert_array_equal(lp[[0, 2, 3]], [np.inf, -np.inf, -np.inf])
    assert np.isfinite(lp[1])


@pytest.mark.parametrize("alpha", [[0.1, 1.0, 4.0], [30.0, 2.5, 0.7]], ids=str)
def test_dirichlet_sampler_marginals(alpha):
    a = np.asarray(alpha)
    x = jdist.Dirichlet(jnp.asarray(a, jnp.float32)).sample(jax.random.key(11), (20000,))
    np.testing.assert_allclose(np.sum(_np(x), -1), 1.0, atol=1e-5)
    for i in range(len(a)):
        ks_check(x[:, i], stats.beta(a[i], a.sum() - a[i]).cdf)


def test_dirichlet_rsample_gradient_of_mean():
    a = jnp.array([0.7, 2.0, 5.0])

    def draws(alpha):
        return jdist.Dirichlet(alpha).rsample(jax.random.key(3), (20000,))

    jac = jax.jit(jax.jacfwd(draws))(a)  # (N, K, K): ∂xᵢ/∂αⱼ per draw
    a0 = float(a.sum())
    expected = (np.eye(3) * a0 - _np(a)[:, None]) / a0**2  # ∂(αᵢ/α₀)/∂αⱼ
    _mc_grad_check(jac, expected, "d E[x] / d alpha")


# ----------------------------------------------------------------------------- Multinomial
MULTINOMIAL_CASES = [(10, [0.2, 0.3, 0.5]), (5, [0.0, 0.4, 0.6]), (30, [1e-6, 0.5, 0.499999])]


@pytest.mark.parametrize("n, probs", MULTINOMIAL_CASES, ids=str)
def test_multinomial_against_scipy(n, probs, dtype):
    p = cast_like(probs, dtype)
    p = p / p.sum()
    for d in (
        jdist.Multinomial(n, probs=jnp.asarray(p, dtype)),
        jdist.Multinomial(n, logits=jnp.asarray(np.log(np.maximum(p, 1e-300)), dtype)),
    ):
        ref = stats.multinomial(n, p)
        x = np.array([c for c in itertools.product(range(n + 1), repeat=3) if sum(c) == n][::7])
        lp, ent, mean, var = _members(d, jnp.asarray(x))
        assert_close(lp, ref.logpmf(x), dtype, rtol_scale=10, what="log_prob")
        # H = n H(p) - log n! + Σ E log xᵢ!: terms of size log n! cancel to H.
        scale = max(1.0, sp.gammaln(n + 1) / ref.entropy())
        assert_close(ent, ref.entropy(), dtype, rtol_scale=10 * scale, what="entropy")
        assert_close(mean, n * p, dtype, what="mean")
        assert_close(var, np.diag(ref.cov()), dtype, what="variance")
        assert_close(d.log_prob(jnp.asarray(x, dtype)), lp, dtype, what="float counts")


def test_multinomial_masked_categories_and_grad():
    logits = jnp.array([0.0, -jnp.inf, 1.0])
    d = jdist.Multinomial(4, logits=logits)
    lp = jax.jit(lambda d: d.log_prob(jnp.array([[2, 0, 2], [2, 1, 1]])))(d)
    assert np.isfinite(lp[0]) and lp[1] == -np.inf

    @jax.jit
    def grads(lg):
        def lp(lg):
            return jdist.Multinomial(4, logits=lg).log_prob(jnp.array([2, 0, 2]))

        return jax.grad(lp)(lg), jax.grad(lambda lg: jdist.Multinomial(4, logits=lg).entropy())(lg)

    assert all(np.all(np.isfinite(g)) for g in grads(logits))
    assert np.all(d.sample(jax.random.key(0), (50,))[:, 1] == 0)


def test_multinomial_mode_is_a_maximizer():
    rng = np.random.default_rng(0)
    for n, k in [(7, 3), (10, 4), (3, 5), (12, 2)]:
        p = rng.dirichlet(np.ones(k))
        d = jdist.Multinomial(n, probs=jnp.asarray(p))
        mode = np.asarray(d.mode)
        assert mode.sum() == n and mode.dtype == np.int32
        comps = np.array([c for c in itertools.product(range(n + 1), repeat=k) if sum(c) == n])
        best = stats.multinomial(n, p).logpmf(comps).max()
        np.testing.assert_allclose(stats.multinomial(n, p).logpmf(mode), best, rtol=1e-12)


def test_multinomial_sampler_chi2_and_jit():
    p = np.array([0.2, 0.3, 0.5])
    d = jdist.Multinomial(3, probs=jnp.asarray(p))
    x = jax.jit(lambda dist, key: dist.sample(key, (20000,)))(d, jax.random.key(5))
    assert x.dtype == jnp.int32 and np.all(np.sum(x, -1) == 3)
    outcomes = [c for c in itertools.product(range(4), repeat=3) if sum(c) == 3]
    index = {c: i for i, c in enumerate(outcomes)}
    codes = np.array([index[tuple(r)] for r in np.asarray(x)])
    chi2_check(codes, stats.multinomial(3, p).pmf(np.array(outcomes)))


def test_multinomial_total_count_must_be_int():
    with pytest.raises(TypeError, match="total_count"):
        jdist.Multinomial(2.5, probs=jnp.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="total_count"):
        jdist.Multinomial(-1, probs=jnp.array([0.5, 0.5]))


# ----------------------------------------------------------------------- MultivariateNormal
def _mvn(kind, loc, cov, dtype):
    m = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov)}.get(kind)
    if kind == "scale_tril":
        m = np.linalg.cholesky(cov)
    m = cast_like(m, dtype)
    given = {kind: jnp.asarray(m, dtype)}
    ref_cov = {
        "covariance_matrix": m,
        "precision_matrix": np.linalg.inv(m),
        "scale_tril": m @ m.T,
    }[kind]
    return jdist.MultivariateNormal(jnp.asarray(loc, dtype), **given), ref_cov


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_mvn_against_scipy(kind, dtype):
    rng = np.random.default_rng(1)
    loc = cast_like(rng.normal(size=4), dtype)
    d, cov = _mvn(kind, loc, _random_cov(rng, 4, [0.01, 0.3, 1.0, 20.0]), dtype)
    ref = stats.multivariate_normal(loc, cov)
    x = cast_like(ref.rvs(5, random_state=2), dtype)
    lp, ent, mean, var = _members(d, jnp.asarray(x, dtype))
    cond = np.linalg.cond(cov)  # 2e3: rounding of the factor is amplified by up to cond
    assert_close(lp, ref.logpdf(x), dtype, rtol_scale=cond / 10, what="log_prob")
    assert_close(ent, ref.entropy(), dtype, rtol_scale=10, what="entropy")
    assert_close(mean, loc, dtype, what="mean")
    assert_close(d.mode, loc, dtype, what="mode")
    assert_close(var, np.diag(cov), dtype, rtol_scale=cond / 10, what="variance")
    s = cond / 10
    assert_close(d.covariance_matrix, cov, dtype, rtol_scale=s, what="covariance_matrix")
    assert_close(d.scale_tril, np.linalg.cholesky(cov), dtype, rtol_scale=s, what="scale_tril")
    prec, scale = np.linalg.inv(cov), np.abs(np.linalg.inv(cov)).max()
    assert_close(d.precision_matrix / scale, prec / scale, dtype, rtol_scale=s, what="precision")


def _mp_mvn_logpdf(x, loc, kind, matrix):
    """50-digit log density at the exact float64 inputs (the given matrix, never inverted
    in float64): Mahalanobis term and log det from whichever matrix parameterizes it."""
    with mpmath.workdps(50):
        n = len(loc)
        diff = mpmath.matrix(
            [mpmath.mpf(float(a)) - mpmath.mpf(float(b)) for a, b in zip(x, loc, strict=True)]
        )
        m = mpmath.matrix(np.asarray(matrix).tolist())
        if kind == "precision_matrix":
            maha, log_det = (diff.T * m * diff)[0], -mpmath.log(mpmath.det(m))
        elif kind == "covariance_matrix":
            maha, log_det = (diff.T * mpmath.lu_solve(m, diff))[0], mpmath.log(mpmath.det(m))
        else:  # scale_tril
            z = mpmath.lu_solve(m, diff)
            maha = sum(v**2 for v in z)
            log_det = 2 * sum(mpmath.log(m[i, i]) for i in range(n))
        return float(-0.5 * (n * mpmath.log(2 * mpmath.pi) + maha + log_det))


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_mvn_ill_conditioned_float64(kind):
    """Condition number 1e6 in float64, against a 50-digit reference at the exact inputs.

    Cholesky is backward stable (Higham 2002, "Accuracy and Stability of Numerical
    Algorithms", Thm. 10.3): the computed factor is exact for Σ + δΣ with
    |δΣ| <= c n eps |Σ|, which moves xᵀΣ⁻¹x by at most about cond(Σ) c n eps relative, and
    log det Σ by about n · cond(Σ) eps. With cond = 1e6 that is ~1e-9: tolerance
    10 n cond eps (|log p| + n).
    """
    with jax.enable_x64(True):
        rng = np.random.default_rng(7)
        n = 5
        cov = _random_cov(rng, n, np.logspace(-6, 0, n))
        loc = rng.normal(size=n)
        matrix = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov)}.get(
            kind, np.linalg.cholesky(cov)
        )
        d = jdist.MultivariateNormal(jnp.asarray(loc), **{kind: jnp.asarray(matrix)})
        xs = stats.multivariate_normal(loc, cov).rvs(4, random_state=3)
        xs = np.concatenate([xs, loc[None] + 1e-3 * rng.normal(size=(1, n))])
        ref = np.array([_mp_mvn_logpdf(x, loc, kind, matrix) for x in xs])
        got = _np(d.log_prob(jnp.asarray(xs)))
        cond = np.linalg.cond(cov)
        assert 5e5 < cond < 2e6
        tol = 10 * n * cond * EPS[np.float64] * (np.abs(ref) + n)
        assert np.all(np.abs(got - ref) <= tol), (got - ref, tol)
        # scipy (eigendecomposition of the covariance) is accurate to the same order.
        if kind == "covariance_matrix":
            sc = stats.multivariate_normal(loc, cov).logpdf(xs)
            assert np.all(np.abs(sc - ref) <= 10 * tol), sc - ref


def test_mvn_broadcasting_validation_and_sampler():
    rng = np.random.default_rng(4)
    cov = np.stack([_random_cov(rng, 3) for _ in range(2)])
    d = jdist.MultivariateNormal(jnp.zeros(3), covariance_matrix=jnp.asarray(cov, jnp.float32))
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    x = d.sample(jax.random.key(1), (20000,))
    assert x.shape == (20000, 2, 3) and d.log_prob(jnp.zeros(3)).shape == (2,)
    for b in range(2):
        low = np.linalg.cholesky(cov[b])
        maha = np.sum(np.square(np.linalg.solve(low, _np(x[:, b]).T)), 0)
        ks_check(maha, stats.chi2(3).cdf)
        moments_check(_np(x[:, b]), 0.0, np.diag(cov[b]))
    with pytest.raises(ValueError, match="exactly one"):
        jdist.MultivariateNormal(jnp.zeros(3))
    with pytest.raises(ValueError, match="exactly one"):
        jdist.MultivariateNormal(jnp.zeros(3), jnp.eye(3), scale_tril=jnp.eye(3))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        jdist.MultivariateNormal(jnp.zeros(4), jnp.eye(3))


def test_mvn_rsample_gradient():
    low = jnp.array([[1.0, 0.0], [0.5, 2.0]])
    loc = jnp.array([0.3, -1.0])

    def sq_norms(params):
        d = jdist.MultivariateNormal(params[0], scale_tril=params[1])
        return jnp.sum(jnp.square(d.rsample(jax.random.key(2), (20000,))), -1)

    g_loc, g_low = jax.jit(jax.jacfwd(sq_norms))((loc, low))  # E|x|² = |μ|² + ‖L‖²_F
    _mc_grad_check(g_loc, 2 * _np(loc), "dE|x|²/dloc")
    _mc_grad_check(jnp.tril(g_low), 2 * _np(low), "dE|x|²/dL")


# ---------------------------------------------------------------- LowRankMultivariateNormal
def _low_rank(dtype, n=5, r=2, ratio=1.0, seed=0):
    rng = np.random.default_rng(seed)
    w = cast_like(rng.normal(size=(n, r)), dtype)
    diag = cast_like(rng.uniform(0.5, 2.0, n) / ratio, dtype)
    loc = cast_like(rng.normal(size=n), dtype)
    d = jdist.LowRankMultivariateNormal(*(jnp.asarray(v, dtype) for v in (loc, w, diag)))
    return d, loc, w, diag, w @ w.T + np.diag(diag)


@pytest.mark.parametrize("ratio", [1.0, 1e4], ids=["ordinary", "low_rank_dominated"])
def test_low_rank_mvn_against_scipy_and_torch(ratio, dtype):
    d, loc, w, diag, cov = _low_rank(dtype, ratio=ratio)
    ref = stats.multivariate_normal(loc, cov)
    x = cast_like(ref.rvs(6, random_state=1), dtype)
    lp, ent, mean, var = _members(d, jnp.asarray(x, dtype))
    # Inherent conditioning of xᵀΣ⁻¹x under relative rounding: ~√cond(Σ) (the difference
    # form |x̃|² - |L_C⁻¹W̃ᵀx̃|² of torch would lose cond(Σ) instead).
    scale = np.sqrt(np.linalg.cond(cov))
    assert_close(lp, ref.logpdf(x), dtype, rtol_scale=scale, what="log_prob")
    assert_close(ent, ref.entropy(), dtype, rtol_scale=10, what="entropy")
    assert_close(mean, loc, dtype, what="mean")
    assert_close(var, np.diag(cov), dtype, what="variance")
    assert_close(d.covariance_matrix, cov, dtype, what="covariance_matrix")
    s = np.linalg.cond(cov)
    prec = np.linalg.inv(cov)
    m = np.abs(prec).max()
    assert_close(d.precision_matrix / m, prec / m, dtype, rtol_scale=s, what="precision")
    assert_close(d.scale_tril, np.linalg.cholesky(cov), dtype, rtol_scale=s, what="tril")
    with torch.no_grad():
        t = torch.distributions.LowRankMultivariateNormal(
            *(torch.tensor(v, dtype=torch.float64) for v in (loc, w, diag))
        ).log_prob(torch.tensor(x))
    assert_close(lp, t.numpy(), dtype, rtol_scale=scale, what="log_prob vs torch")


def test_low_rank_mvn_sampler():
    d, loc, _, _, cov = _low_rank(np.float32, n=4)
    x = _np(d.sample(jax.random.key(9), (20000,)))
    maha = np.sum((x - loc) * np.linalg.solve(cov, (x - loc).T).T, -1)
    ks_check(maha, stats.chi2(4).cdf)
    moments_check(x, loc, np.diag(cov))
    g = jax.grad(lambda dd: jnp.sum(dd.rsample(jax.random.key(0), (3,)) ** 2))(d)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(g))


def _avals(jaxpr):
    """Every intermediate shape in a jaxpr, including nested (pjit, custom_jvp, ...) ones."""
    for eqn in jaxpr.eqns:
        yield from (v.aval.shape for v in eqn.outvars)
        for p in eqn.params.values():
            for sub in p if isinstance(p, (tuple, list)) else (p,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _avals(inner)


def test_low_rank_mvn_log_prob_is_linear_in_dimension():
    n, r = 10_000, 4
    rng = np.random.default_rng(0)
    d = jdist.LowRankMultivariateNormal(
        jnp.asarray(rng.normal(size=n), jnp.float32),
        jnp.asarray(rng.normal(size=(n, r)), jnp.float32),
        jnp.asarray(rng.uniform(0.5, 2.0, n), jnp.float32),
    )
    x = jnp.asarray(rng.normal(size=(3, n)), jnp.float32)
    f = jax.jit(lambda dist, v: (dist.log_prob(v), dist.entropy()))
    shapes = list(_avals(jax.make_jaxpr(f)(d, x).jaxpr))
    assert shapes and not [s for s in shapes if sum(dim >= n for dim in s) >= 2]
    hlo = f.lower(d, x).compile().as_text()
    assert f"{n},{n}" not in hlo
    jax.block_until_ready(f(d, x))
    start = time.perf_counter()
    lp, _ = jax.block_until_ready(f(d, x))
    assert time.perf_counter() - start < 2.0  # a dense 10⁴ × 10⁴ Cholesky would take far longer
    d_small = jdist.LowRankMultivariateNormal(d.loc[:300], d.cov_factor[:300], d.cov_diag[:300])
    ref = stats.multivariate_normal(_np(d_small.loc), _np(d_small.covariance_matrix))
    assert_close(
        d_small.log_prob(x[:, :300]), ref.logpdf(_np(x[:, :300])), np.float32, rtol_scale=10
    )
    assert np.all(np.isfinite(lp))


# ---------------------------------------------------------------------------------- Wishart
WISHART_DF = [3.5, 10.0, 1e4]


@pytest.mark.parametrize("df", WISHART_DF, ids=str)
@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_against_scipy(kind, df, dtype):
    rng = np.random.default_rng(3)
    cov0 = _random_cov(rng, 3)
    m = {"covariance_matrix": cov0, "precision_matrix": np.linalg.inv(cov0)}.get(kind)
    m = cast_like(np.linalg.cholesky(cov0) if m is None else m, dtype)
    cov = {"covariance_matrix": m, "precision_matrix": np.linalg.inv(m)}.get(kind, m @ m.T)
    d = jdist.Wishart(jnp.asarray(df, dtype), **{kind: jnp.asarray(m, dtype)})
    ref = stats.wishart(df, cov)
    # Well-conditioned evaluation points near the bulk (cond(X) enters log det X's accuracy).
    x = df * cov + np.sqrt(df) * np.stack([np.zeros((3, 3)), 0.3 * cov0, -0.2 * np.eye(3)])
    x = cast_like(x, dtype)
    lp, ent, mean, var = _members(d, jnp.asarray(x, dtype))
    cond = max(np.linalg.cond(cov), max(np.linalg.cond(xi) for xi in x))
    assert_close(lp, [ref.logpdf(xi) for xi in x], dtype, rtol_scale=cond, what="log_prob")
    assert_close(ent, ref.entropy(), dtype, rtol_scale=cond, what="entropy")
    assert_close(mean, ref.mean(), dtype, rtol_scale=cond, what="mean")
    assert_close(var, ref.var(), dtype, rtol_scale=cond, what="variance")
    mode = d.mode
    if df > 4:
        assert_close(mode, ref.mode(), dtype, rtol_scale=cond, what="mode")
    else:
        assert np.all(np.isnan(mode))  # ν <= p + 1: no interior mode (torch: NaN)


def test_wishart_sampler():
    rng = np.random.default_rng(5)
    cov = _random_cov(rng, 3)
    df = 4.5
    d = jdist.Wishart(df, precision_matrix=jnp.asarray(np.linalg.inv(cov), jnp.float32))
    x = _np(jax.jit(lambda d: d.sample(jax.random.key(4), (20000,)))(d))
    np.testing.assert_allclose(x, np.swapaxes(x, -1, -2), atol=1e-4)
    for v in (np.array([1.0, 0.0, 0.0]), np.array([0.3, -1.0, 2.0])):
        # vᵀXv / vᵀΣv ~ χ²(ν) (Anderson 2003, Thm. 7.3.5)
        ks_check(np.einsum("i,nij,j->n", v, x, v) / (v @ cov @ v), stats.chi2(df).cdf)
    ref = stats.wishart(df, cov)
    moments_check(x.reshape(-1, 9), ref.mean().ravel(), ref.var().ravel())


def test_wishart_rsample_gradients():
    low = jnp.array([[1.0, 0.0, 0.0], [0.5, 1.5, 0.0], [-0.3, 0.2, 0.8]])

    def traces(params):
        df, tril = params
        x = jdist.Wishart(df, scale_tril=tril).rsample(jax.random.key(8), (10000,))
        return jnp.trace(x, axis1=-2, axis2=-1)

    df = jnp.asarray(4.5)
    g_df, g_low = jax.jit(jax.jacfwd(traces))((df, low))  # E tr X = ν ‖L‖²_F
    _mc_grad_check(g_df, float(jnp.sum(low**2)), "dE trX/d df")
    _mc_grad_check(jnp.tril(g_low), 2 * 4.5 * _np(low), "dE trX/dL")


# ------------------------------------------------------------------------------ LKJCholesky
def _random_corr_cholesky(rng, dim, size):
    a = rng.normal(size=(size, dim, dim + 1))
    cov = a @ np.swapaxes(a, -1, -2)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return np.linalg.cholesky(cov / sd[..., :, None] / sd[..., None, :])


def test_lkj_log_prob_against_torch(dtype):
    rng = np.random.default_rng(2)
    etas = cast_like([0.3, 1.0, 2.5, 1e3], dtype)
    for dim in (2, 3, 5):
        d = jdist.LKJCholesky(dim, jnp.asarray(etas, dtype))
        x = cast_like(_random_corr_cholesky(rng, dim, 4), dtype)
        t = torch.distributions.LKJCholesky(dim, torch.tensor(etas), validate_args=False)
        with torch.no_grad():
            ref = t.log_prob(torch.tensor(x)).numpy()
        lp = jax.jit(lambda d, x: d.log_prob(x))(d, jnp.asarray(x, dtype))
        # float64 torch forms lgamma(η + (d-1)/2) ~ 6e3 at η = 1e3 and cancels it: ~1e-12.
        assert_close(lp, ref, dtype, rtol_scale=100, what=f"log_prob dim={dim}")


def test_lkj_dim2_is_a_scaled_beta(dtype):
    """For dim = 2, L = [[1, 0], [r, √(1-r²)]] with (r + 1)/2 ~ Beta(η, η)."""
    etas = cast_like([0.5, 1.0, 4.0], dtype)
    d = jdist.LKJCholesky(2, jnp.asarray(etas, dtype))
    r = cast_like([-0.9, 0.1, 0.6], dtype)
    low = np.zeros((3, 2, 2))
    low[:, 0, 0], low[:, 1, 0], low[:, 1, 1] = 1.0, r, np.sqrt(1 - r**2)
    lp, ent, mean, var = _members(d, jnp.asarray(low, dtype))
    beta = stats.beta(etas, etas, loc=-1, scale=2)
    assert_close(lp, beta.logpdf(r), dtype, rtol_scale=10, what="log_prob")
    assert_close(ent, beta.entropy(), dtype, rtol_scale=10, what="entropy")
    assert_close(mean[:, 1, 0], 0.0, dtype, what="mean r")
    assert_close(var[:, 1, 0], beta.var(), dtype, rtol_scale=10, what="var r")
    diag_mean = [
        stats.beta(e, e, loc=-1, scale=2).expect(lambda v: np.sqrt(1 - v * v)) for e in etas
    ]
    assert_close(mean[:, 1, 1], diag_mean, dtype, rtol_scale=100, what="mean L11")


def test_lkj_sampler_marginals_and_moments():
    """Off-diagonal correlations are Beta(η - 1 + d/2, η - 1 + d/2) on [-1, 1] (Lewandowski et
    al. 2009, §3.2); mean, variance and entropy agree with the same draws."""
    dim, etas = 4, np.array([0.5, 1.0, 3.0])
    d = jdist.LKJCholesky(dim, jnp.asarray(etas, jnp.float32))
    low = jax.jit(lambda d: d.sample(jax.random.key(21), (20000,)))(d)  # (N, 3, 4, 4)
    corr = _np(low @ jnp.swapaxes(low, -1, -2))
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-5)
    lower = [4, 8, 9, 12, 13, 14] + [5, 10, 15]  # strictly lower entries, then rows 1..3's diag
    lp, ent, mean, var = _members(d, low)
    for b, eta in enumerate(etas):
        a = eta - 1 + dim / 2
        for i, j in [(1, 0), (2, 0), (3, 1), (3, 2)]:
            ks_check((corr[:, b, i, j] + 1) / 2, stats.beta(a, a).cdf)
        flat = _np(low[:, b]).reshape(-1, dim * dim)[:, lower]
        moments_check(flat, _np(mean[b]).ravel()[lower], _np(var[b]).ravel()[lower])
        lp_b = _np(lp[:, b])
        assert abs(-lp_b.mean() - float(ent[b])) <= 5 * lp_b.std() / np.sqrt(len(lp_b)) + 1e-6


def test_lkj_mode_and_dim_validation():
    np.testing.assert_array_equal(jdist.LKJCholesky(3, 2.0).mode, np.eye(3))
    assert np.all(np.isnan(jdist.LKJCholesky(3, 0.5).mode))
    with pytest.raises(ValueError, match="dim"):
        jdist.LKJCholesky(1)


def test_validate_args_names_parameter_and_constraint():
    with pytest.raises(ValueError, match="df"):
        jdist.Wishart(jnp.asarray(1.5), jnp.eye(3), validate_args=True)
    indefinite = jnp.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="covariance_matrix"):
        jdist.MultivariateNormal(jnp.zeros(2), indefinite, validate_args=True)
    with pytest.raises(ValueError, match="concentration"):
        jdist.Dirichlet(jnp.array([1.0, -1.0]), validate_args=True)
    with pytest.raises(ValueError, match="cov_diag"):
        jdist.LowRankMultivariateNormal(
            jnp.zeros(2), jnp.ones((2, 1)), -jnp.ones(2), validate_args=True
        )
    with pytest.raises(ValueError, match="support"):
        jdist.LKJCholesky(3, validate_args=True).log_prob(jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="support"):
        jdist.Multinomial(2, probs=jnp.array([0.5, 0.5]), validate_args=True).log_prob(
            jnp.array([2, 1])
        )
