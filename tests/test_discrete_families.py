"""Binomial, Geometric, NegativeBinomial and Poisson against scipy.stats (and mpmath at the
extremes where scipy's own log-mass formulas lose digits), in float32 and float64, at ordinary
and extreme parameters and far tails; samplers by chi-square and moments at fixed keys;
edge cases (support, boundaries, gradients, traced parameters)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special as sp_special
from scipy import stats

import jdist
from tests.conftest import ATOL, RTOL, assert_close, cast_like
from tests.stats_checks import chi2_check, moments_check

N = 20_000
Z = np.array([-30.0, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, 30.0])[:, None]  # standard scores


def _members(d, x):
    """Every value-taking member (called eagerly: the CDFs share one compiled tail sum)."""
    return {
        "log_prob": d.log_prob(x),
        "cdf": d.cdf(x),
        "log_cdf": d.log_cdf(x),
        "sf": d.survival_function(x),
        "log_sf": d.log_survival_function(x),
    }


def _check_members(got, ref, dtype, *, where=None, what=""):
    """``got`` (from :func:`_members`) against ``{name: (scipy value, scipy probability)}``
    at the points ``where`` (a boolean mask, or a dict of masks by name).

    Log-values are compared where scipy's probability does not underflow (scipy takes the
    log of an underflowed 0; jdist's stay finite there, below log(1e-300))."""
    tiny = np.finfo(dtype).tiny
    for name, (value, prob) in ref.items():
        g = np.asarray(got[name], np.float64)
        mask = where.get(name, True) if isinstance(where, dict) else where
        mask = np.broadcast_to(True if mask is None else mask, g.shape)
        if name.startswith("log"):
            ok = mask & (prob > 1e-300)
            assert_close(g[ok], value[ok], dtype, what=f"{what} {name}")
            assert np.all(g[prob <= 1e-300] < np.log(1e-300) + 1), (what, name)
        else:
            ok = mask & (value > 100 * tiny)  # below that float32 is denormal or flushed to 0
            assert_close(g[ok], value[ok], dtype, what=f"{what} {name}")
            assert np.all(g[value <= 100 * tiny] <= 1e-280 + 100 * tiny), (what, name)


def _scipy_members(frozen, x):
    cdf, sf = frozen.cdf(x), frozen.sf(x)
    with np.errstate(divide="ignore"):
        return {
            "log_prob": (np.log(frozen.pmf(x)), frozen.pmf(x)),
            "cdf": (cdf, cdf),
            "log_cdf": (np.log(cdf), cdf),
            "sf": (sf, sf),
            "log_sf": (np.log(sf), sf),
        }


def _grid(mean, sd, low, high):
    """Integer points at the standard scores Z (spread at least 1), clipped to the support."""
    return np.unique(np.floor(np.clip(mean + Z * np.maximum(sd, 1.0), low, high)), axis=0)


# ------------------------------------------------------------------------------- Poisson
POISSON_RATES = np.array([1e-8, 1e-3, 1.0, 30.0, 1e3, 1e6])


def test_poisson_against_scipy(dtype):
    rate = cast_like(POISSON_RATES, dtype)
    x = cast_like(_grid(rate, np.sqrt(rate), 0, np.inf), dtype)
    d = jdist.Poisson(jnp.asarray(rate, dtype))
    got = _members(d, jnp.asarray(x, dtype))
    ref = _scipy_members(stats.poisson(rate), x)
    # scipy's Poisson pmf is exp(k log λ - λ - lgamma(k + 1)): at λ = 1e6 its terms of size
    # 1e7 leave 1e-9 absolute errors (that column is checked against mpmath below), and its
    # CDFs are good to 1e-10 there only within 3 standard deviations.
    big = rate > 1e5
    near = np.abs(x - rate) <= 3 * np.sqrt(rate) + 1
    where = {name: ~big | near for name in ref}
    where["log_prob"] = np.broadcast_to(~big, x.shape)
    _check_members(got, ref, dtype, where=where, what="Poisson")
    assert_close(d.mean, rate, dtype, what="mean")
    assert_close(d.variance, rate, dtype, what="variance")
    np.testing.assert_array_equal(d.mode, np.floor(rate).astype(dtype))
    # Reference entropy: scipy's sum below 1e3; above, the published asymptotic series
    # (Evans et al. 1988), whose truncation error 9/(80 λ⁴) is below 1e-13 there.
    asymptotic = (
        0.5 * np.log(2 * np.pi * np.e * rate) - 1 / (12 * rate) - 1 / (24 * rate**2)
    ) - 19 / (360 * rate**3)
    small = rate < 1e3
    entropy = np.where(small, [stats.poisson.entropy(r) if r < 1e3 else 0 for r in rate], 0)
    entropy = np.where(small, entropy, asymptotic)
    assert_close(d.entropy(), entropy, dtype, what="entropy")
    assert_close(jax.jit(lambda d: d.entropy())(d), entropy, dtype, what="jit entropy")


# ------------------------------------------------------------------------------ Binomial
BINOMIAL_CASES = np.array(
    [
        (10, 0.3),
        (1e6, 0.5),
        (1e6, 1e-6),
        (1e6, 1 - 1e-6),
        (1e6, 1e-3),
        (20, 1e-8),
        (20, 1 - 1e-8),
        (0, 0.5),
        (1, 0.2),
    ]
)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_binomial_against_scipy(param, dtype):
    n = cast_like(BINOMIAL_CASES[:, 0], dtype)
    if param == "probs":
        arg = cast_like(BINOMIAL_CASES[:, 1], dtype)
        p = arg
    else:
        arg = cast_like(sp_special.logit(BINOMIAL_CASES[:, 1]), dtype)
        p = sp_special.expit(arg)
    q = 1 - p if param == "probs" else sp_special.expit(-arg)
    x = cast_like(_grid(n * p, np.sqrt(n * p * q), 0, n), dtype)
    d = jdist.Binomial(jnp.asarray(n, dtype), **{param: jnp.asarray(arg, dtype)})
    got = _members(d, jnp.asarray(x, dtype))
    frozen = stats.binom(n, p)
    _check_members(got, _scipy_members(frozen, x), dtype, what=f"Binomial({param})")
    assert_close(d.mean, n * p, dtype, what="mean")
    assert_close(d.variance, n * p * q, dtype, what="variance")
    small = n <= 20
    modes = [
        np.argmax(stats.binom.pmf(np.arange(ni + 1), ni, pi)) for ni, pi in zip(n, p, strict=True)
    ]
    np.testing.assert_array_equal(np.asarray(d.mode)[small], np.asarray(modes)[small])
    # scipy sums pmf·log(pmf) over the whole support (with pmf from Boost).
    assert_close(d.entropy(), frozen.entropy(), dtype, what="entropy")


def test_binomial_enumerate_support_and_traced_entropy():
    d = jdist.Binomial(jnp.asarray([4.0, 4.0]), probs=jnp.asarray([0.3, 0.9]))
    values = d.enumerate_support()
    assert values.shape == (5, 2) and jnp.issubdtype(values.dtype, jnp.integer)
    np.testing.assert_allclose(jnp.exp(d.log_prob(values)).sum(0), 1.0, rtol=1e-6)
    assert d.enumerate_support(expand=False).shape == (5, 1)
    with pytest.raises(ValueError, match="same total_count"):
        jdist.Binomial(jnp.asarray([3.0, 4.0]), probs=0.5).enumerate_support()
    with pytest.raises(ValueError, match="traced"):
        jax.jit(lambda d: d.enumerate_support())(d)
    with pytest.raises(NotImplementedError, match="traced"):
        jax.jit(lambda d: d.entropy())(d)
    with pytest.raises(NotImplementedError, match="ENTROPY_MAX_TERMS"):
        jdist.Binomial(jnp.full((300,), 1e9), probs=0.5).entropy()
    # Concrete total_count with traced probs: summed over the whole support under jit.
    expected = stats.binom(4, np.array([0.3, 0.9])).entropy()
    got = jax.jit(lambda p: jdist.Binomial(4.0, probs=p).entropy())(jnp.asarray([0.3, 0.9]))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


# ---------------------------------------------------------------------- NegativeBinomial
NB_CASES = np.array(
    [
        (1.0, 0.5),
        (10.0, 0.999),
        (1e-3, 0.88),
        (1e6, 0.5),
        (1e6, 0.0067),
        (0.5, 0.9999),
        (3.0, 1e-6),
        (2.5, 0.3),
    ]
)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_negative_binomial_against_scipy(param, dtype):
    r = cast_like(NB_CASES[:, 0], dtype)
    if param == "probs":
        arg = cast_like(NB_CASES[:, 1], dtype)
        p, q = arg, 1 - arg
    else:
        arg = cast_like(sp_special.logit(NB_CASES[:, 1]), dtype)
        p, q = sp_special.expit(arg), sp_special.expit(-arg)
    mean, sd = r * p / q, np.sqrt(r * p) / q
    x = cast_like(_grid(mean, sd, 0, np.inf), dtype)
    d = jdist.NegativeBinomial(jnp.asarray(r, dtype), **{param: jnp.asarray(arg, dtype)})
    got = _members(d, jnp.asarray(x, dtype))
    frozen = stats.nbinom(r, q)  # scipy's p is the probability of the counted-to event
    _check_members(got, _scipy_members(frozen, x), dtype, what=f"NegativeBinomial({param})")
    assert_close(d.mean, mean, dtype, what="mean")
    assert_close(d.variance, mean / q, dtype, what="variance")
    np.testing.assert_array_equal(d.mode, np.maximum(np.floor((r - 1) * p / q), 0))
    # scipy's nbinom.entropy stops early for wide masses: sum its (Boost) pmf directly.
    k = np.arange(int(np.max(mean + 60 * sd)) + 100)[:, None]
    pmf = frozen.pmf(k)
    entropy = np.sum(sp_special.entr(pmf), axis=0)
    assert_close(d.entropy(), entropy, dtype, rtol_scale=10, what="entropy")
    with pytest.raises(NotImplementedError, match="traced"):
        jax.jit(lambda d: d.entropy())(d)


# ----------------------------------------------------------------------------- Geometric
GEOMETRIC_PROBS = np.array([1e-6, 0.01, 0.5, 0.99, 1.0])


def test_geometric_against_scipy(dtype):
    p = cast_like(GEOMETRIC_PROBS, dtype)
    x = cast_like(np.array([0, 1, 5, 100, 1e4, 1e6, 1e7])[:, None], dtype)
    d = jdist.Geometric(probs=jnp.asarray(p, dtype))
    got = _members(d, jnp.asarray(x, dtype))
    frozen = stats.geom(p, loc=-1)  # scipy counts trials, torch failures before a success
    ref = _scipy_members(frozen, x)
    with np.errstate(divide="ignore"):
        ref["log_prob"] = (frozen.logpmf(x), frozen.pmf(x))
        ref["log_sf"] = (frozen.logsf(x), frozen.sf(x))
    _check_members(got, ref, dtype, what="Geometric")
    assert_close(d.mean, (1 - p) / p, dtype, what="mean")
    assert_close(d.variance, (1 - p) / p**2, dtype, what="variance")
    np.testing.assert_array_equal(d.mode, 0.0)
    assert_close(d.entropy(), (sp_special.entr(p) + sp_special.entr(1 - p)) / p, dtype)
    u = cast_like(np.array([0.0, 1e-9, 0.3, 0.5, 0.999, 1.0])[:, None], dtype)
    expected = np.where(p == 1.0, 0.0, np.maximum(frozen.ppf(u), 0))
    assert_close(d.icdf(jnp.asarray(u, dtype)), expected, dtype, what="icdf")


def test_geometric_logits_against_closed_forms(dtype):
    """Logits up to ±30, where 1 - expit(l) in float64 (scipy's input) has lost digits: the
    references are the closed forms in float64 with log p = -softplus(-l), log q = -softplus(l)."""
    lg = cast_like([-30.0, -13.8, -4.6, 0.0, 4.6, 13.8, 30.0], dtype)
    log_p, log_q = -np.logaddexp(0, -lg), -np.logaddexp(0, lg)
    x = cast_like(np.array([0, 1, 5, 100, 1e4, 1e6, 1e7])[:, None], dtype)
    d = jdist.Geometric(logits=jnp.asarray(lg, dtype))
    got = _members(d, jnp.asarray(x, dtype))
    log_sf = (x + 1) * log_q
    with np.errstate(divide="ignore"):
        ref = {
            "log_prob": (x * log_q + log_p, np.exp(x * log_q + log_p)),
            "cdf": (-np.expm1(log_sf), -np.expm1(log_sf)),
            "log_cdf": (np.log(-np.expm1(log_sf)), -np.expm1(log_sf)),
            "sf": (np.exp(log_sf), np.exp(log_sf)),
            "log_sf": (log_sf, np.exp(log_sf)),
        }
    _check_members(got, ref, dtype, what="Geometric(logits)")
    p, q = np.exp(log_p), np.exp(log_q)
    assert_close(d.mean, q / p, dtype, what="mean")
    assert_close(d.variance, q / p**2, dtype, what="variance")
    assert_close(d.entropy(), -(q * log_q + p * log_p) / p, dtype, what="entropy")


# -------------------------------------------------------------- extremes against mpmath
def _mp_log_probs():
    """mpmath (40 digits) log masses at the extreme points, with the derived condition
    number cond = Σ |θ ∂f/∂θ| of each over its float parameters θ."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    out = []

    def add(family, params, k, value, cond):
        out.append((family, params, k, float(value), float(cond)))

    for lam, z in [(1e6, -30), (1e6, 0), (1e6, 3), (1e6, 30), (1e9, 5), (1e-8, 0)]:
        k = float(np.floor(lam + z * np.sqrt(lam)))
        value = k * mp.log(lam) - lam - mp.loggamma(k + 1)
        add("Poisson", dict(rate=lam), k, value, abs(k - lam))
    for n, p, z in [(1e9, 0.5, 0), (1e9, 0.5, 10), (1e9, 1e-6, -3), (1e6, 0.25, 30)]:
        k = float(np.floor(n * p + z * np.sqrt(n * p * (1 - p))))
        lp, lq = mp.log(mp.mpf(p)), mp.log1p(-mp.mpf(p))
        value = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
        add(
            "Binomial",
            dict(total_count=n, probs=p),
            k,
            value + k * lp + (n - k) * lq,
            abs(k - n * p) / (1 - p),
        )
    for n, logit, k in [
        (10, 100.0, 10),
        (10, 100.0, 9),
        (10, -100.0, 0),
        (10, -100.0, 3),
        (1e6, 25.0, 1e6 - 2),
    ]:
        lp, lq = -mp.log1p(mp.exp(-logit)), -mp.log1p(mp.exp(logit))
        value = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
        p = 1 / (1 + np.exp(-logit))
        add(
            "Binomial",
            dict(total_count=n, logits=logit),
            k,
            value + k * lp + (n - k) * lq,
            abs(k - n * p),
        )
    for r, p, k in [
        (1e6, 0.5, 1e6 + 4000),
        (1e9, 0.3, float(np.floor(1e9 * 0.3 / 0.7))),
        (1e-3, 0.5, 40.0),
        (1e-8, 0.9, 7.0),
        (3.0, 1 - 1e-6, 3e6),
    ]:
        value = (
            mp.loggamma(k + r)
            - mp.loggamma(r)
            - mp.loggamma(k + 1)
            + k * mp.log(p)
            + r * mp.log1p(-mp.mpf(p))
        )
        dr = r * (mp.digamma(k + r) - mp.digamma(r) + mp.log1p(-mp.mpf(p)))
        add(
            "NegativeBinomial",
            dict(total_count=r, probs=p),
            k,
            value,
            abs(k - r * p / (1 - p)) + abs(dr),
        )
    return out


def test_extreme_log_probs_against_mpmath(dtype):
    """log_prob at counts and rates up to 1e9, logits ±100, total_count 1e-8 to 1e9.

    Tolerance: the reference tolerance plus 8 eps · cond, where cond = Σ |θ ∂f/∂θ| is the
    absolute condition number of the log mass with respect to relative perturbations of its
    parameters — the forward error of an evaluation that is exact for parameters perturbed
    by a few ulps (e.g. 0.3 absolute at n = 1e9, 10 sd from the mean, in float32)."""
    eps = float(np.finfo(dtype).eps)
    for family, params, k, expected, cond in _mp_log_probs():
        kw = {name: jnp.asarray(value, dtype) for name, value in params.items()}
        if dtype == np.float32 and any(float(np.float32(v)) != v for v in params.values()):
            continue  # the mpmath reference is for the exact float64 parameters
        got = float(getattr(jdist, family)(**kw).log_prob(jnp.asarray(k, dtype)))
        tol = ATOL[dtype] + RTOL[dtype] * abs(expected) + 8 * eps * cond
        assert abs(got - expected) <= tol, (family, params, k, got, expected, tol)


# ----------------------------------------------------------------------------- samplers
def _binned_chi2(samples, cdf, edges):
    """Chi-square over the bins (-inf, e0], (e0, e1], ..., (e_last, inf) of integer edges."""
    edges = np.unique(edges)
    index = np.searchsorted(edges, np.asarray(samples), side="left")
    chi2_check(index, np.diff(np.concatenate([[0.0], cdf(edges), [1.0]])))


def _quantile_edges(frozen):
    return frozen.ppf(np.linspace(0.0005, 0.9995, 60))


def test_poisson_sampler():
    rates = np.array([1e-8, 1e-3, 1.0, 9.99, 10.0, 1e3, 1e6])
    x = jdist.Poisson(jnp.asarray(rates, jnp.float32)).sample(jax.random.key(1), (N,))
    assert x.dtype == jnp.int32 and x.shape == (N, len(rates))
    x = np.asarray(x, np.int64)
    assert np.all(x[:, 0] == 0)  # P(X > 0) = 1e-8
    for j, lam in enumerate(cast_like(rates, np.float32)):
        _binned_chi2(x[:, j], stats.poisson(lam).cdf, _quantile_edges(stats.poisson(lam)))
    # (at rate 1e-8 all 20000 draws are 0: its sample variance has no spread to compare)
    moments_check(x[:, 1:], cast_like(rates[1:], np.float32), cast_like(rates[1:], np.float32))


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_binomial_sampler(param):
    n = np.array([1e6, 1e6, 1e6, 1e6, 20, 100, 7])
    p = np.array([1e-6, 0.5, 1 - 1e-6, 1e-3, 0.3, 0.97, 1.0])
    arg = cast_like(
        p if param == "probs" else sp_special.logit(np.minimum(p, 1 - 1e-7)), np.float32
    )
    d = jdist.Binomial(jnp.asarray(n, jnp.float32), **{param: jnp.asarray(arg, jnp.float32)})
    x = np.asarray(d.sample(jax.random.key(2), (N,)), np.int64)
    # The success probability the float32 parameter stands for (1 - p is not rounded).
    p, q = (arg, 1 - arg) if param == "probs" else (sp_special.expit(arg), sp_special.expit(-arg))
    assert np.all((x >= 0) & (x <= n)) and np.all(x[:, -1] == 7)
    for j in range(len(n) - 1):
        frozen = stats.binom(n[j], p[j])
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x[:, :-1], (n * p)[:-1], (n * p * q)[:-1])


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_negative_binomial_sampler(param):
    r = np.array([1e-3, 0.5, 1.0, 10.0, 1e4, 1e6])
    p = np.array([0.9, 0.9, 0.5, 0.5, 0.3, 0.01])
    arg = p if param == "probs" else sp_special.logit(p)
    d = jdist.NegativeBinomial(
        jnp.asarray(r, jnp.float32), **{param: jnp.asarray(arg, jnp.float32)}
    )
    x = np.asarray(d.sample(jax.random.key(3), (N,)), np.int64)
    p32 = np.asarray(d.probs, np.float64)
    r32 = cast_like(r, np.float32)
    for j in range(len(r)):
        frozen = stats.nbinom(r32[j], 1 - p32[j])
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x, r32 * p32 / (1 - p32), r32 * p32 / (1 - p32) ** 2)


def test_geometric_sampler():
    p = np.array([1e-6, 0.01, 0.5, 0.9, 1.0])
    d = jdist.Geometric(probs=jnp.asarray(p, jnp.float32))
    x = np.asarray(d.sample(jax.random.key(4), (N,)), np.int64)
    assert np.all(x[:, -1] == 0)
    p32 = cast_like(p, np.float32)
    for j in range(len(p) - 1):
        frozen = stats.geom(p32[j], loc=-1)
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x[:, :-1], (1 - p32[:-1]) / p32[:-1], (1 - p32[:-1]) / p32[:-1] ** 2)


def test_samples_are_int64_under_x64_and_saturate():
    with jax.enable_x64(True):
        k = jdist.Poisson(jnp.asarray([3.0, 5e9])).sample(jax.random.key(0), (4,))
        assert k.dtype == jnp.int64 and np.all(np.abs(k[:, 1] - 5e9) < 10 * np.sqrt(5e9))
    k = jdist.Poisson(jnp.asarray([3e9], jnp.float32)).sample(jax.random.key(0), (2,))
    assert np.all(k == np.iinfo(np.int32).max)


# ------------------------------------------------------------------------------ edges
def test_out_of_support_is_minus_inf():
    bad = jnp.asarray([-1.0, 0.5, 2.5, -jnp.inf, jnp.inf])
    for d in (
        jdist.Binomial(2.0, probs=0.5),
        jdist.Geometric(probs=0.5),
        jdist.NegativeBinomial(2.0, probs=0.5),
        jdist.Poisson(2.0),
    ):
        lp = d.log_prob(bad)
        assert np.all(lp == -np.inf), (type(d).__name__, lp)
        assert np.isfinite(d.log_prob(jnp.asarray(1, jnp.int32)))
        # A masked-out -inf contributes a zero, not a NaN, gradient.
        g = jax.grad(lambda d, lp=lp: jnp.sum(jnp.where(lp > -jnp.inf, d.log_prob(bad), 0.0)))(d)
        assert all(np.all(leaf == 0) for leaf in jax.tree.leaves(g))
    assert jdist.Binomial(2.0, probs=0.5).log_prob(3.0) == -np.inf
    assert jdist.Binomial(2.0, probs=0.5).cdf(3.0) == 1.0
    assert jdist.Poisson(2.0).cdf(-0.5) == 0.0


def test_boundary_parameters_are_exact_and_differentiable():
    # Poisson at rate -> 0: log_prob(0) = -rate exactly, never NaN.
    rate = jnp.asarray([0.0, 1e-30, 1e-8])
    d = jdist.Poisson(rate)
    np.testing.assert_array_equal(d.log_prob(jnp.zeros(3)), -rate)
    assert d.log_prob(jnp.asarray([1.0, 1.0, 1.0]))[0] == -np.inf
    np.testing.assert_array_equal(d.entropy()[0], 0.0)
    g = jax.grad(lambda r: jnp.sum(jdist.Poisson(r).log_prob(jnp.zeros(3))))(rate)
    np.testing.assert_array_equal(g, -1.0)
    # Binomial / Geometric / NegativeBinomial at probs 0 and 1, logits ±100.
    for p in (0.0, 1.0):
        b = jdist.Binomial(5.0, probs=jnp.asarray(p))
        assert b.log_prob(5.0 * p) == 0.0
        gb = jax.grad(lambda q, k=5.0 * p: jdist.Binomial(5.0, probs=q).log_prob(k))(jnp.asarray(p))
        assert np.isfinite(gb)
    g = jdist.Geometric(probs=jnp.asarray(1.0))
    assert g.log_prob(0.0) == 0.0 and g.log_prob(1.0) == -np.inf and g.entropy() == 0.0
    assert np.isfinite(jax.grad(lambda q: jdist.Geometric(probs=q).log_prob(0.0))(1.0))
    logits = jnp.asarray([-100.0, 100.0])
    values = jnp.asarray([0.0, 1.0, 3.0, 10.0])[:, None]
    for make in (
        lambda lg: jdist.Binomial(10.0, logits=lg),
        lambda lg: jdist.NegativeBinomial(3.0, logits=lg),
        lambda lg: jdist.Geometric(logits=lg),
    ):
        lp = make(logits).log_prob(values)
        assert np.all(np.isfinite(lp)), lp  # e.g. log P(X = 3) = -700 for Binomial(10, σ(-100))
        grad = jax.grad(lambda lg, make=make: jnp.sum(make(lg).log_prob(values)))(logits)
        assert np.all(np.isfinite(grad))
    assert np.all(
        np.isfinite(jax.grad(lambda lg: jnp.sum(jdist.Geometric(logits=lg).entropy()))(logits))
    )


def test_validation():
    with pytest.raises(ValueError, match="probs"):
        jdist.Geometric(probs=jnp.asarray([0.0, 0.5]), validate_args=True)
    with pytest.raises(ValueError, match="probs"):
        jdist.NegativeBinomial(2.0, probs=jnp.asarray(1.0), validate_args=True)
    with pytest.raises(ValueError, match="total_count"):
        jdist.Binomial(jnp.asarray(2.5), probs=0.5, validate_args=True)
    with pytest.raises(ValueError, match="rate"):
        jdist.Poisson(jnp.asarray(-1.0), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        jdist.Binomial(3.0, probs=0.5, validate_args=True).log_prob(4.0)
    with pytest.raises(ValueError, match="exactly one"):
        jdist.NegativeBinomial(1.0, probs=0.5, logits=0.0)


def test_gradients_against_closed_forms():
    with jax.enable_x64(True):
        p, n, k = 0.3, 20.0, jnp.asarray([0.0, 3.0, 6.0, 19.0])
        # d cdf/dp = -n P_{n-1}(X = k) for the Binomial; d cdf/dλ = -P(X = k) for Poisson.
        g = jax.jacfwd(lambda q: jdist.Binomial(n, probs=q).cdf(k))(p)
        np.testing.assert_allclose(g, -n * stats.binom.pmf(k, n - 1, p), rtol=1e-10)
        g = jax.grad(lambda lg: jnp.sum(jdist.Binomial(n, logits=lg).log_cdf(k)))(0.4)
        pl = sp_special.expit(0.4)
        dlog = -n * stats.binom.pmf(k, n - 1, pl) * pl * (1 - pl) / stats.binom.cdf(k, n, pl)
        np.testing.assert_allclose(g, np.sum(dlog), rtol=1e-10)
        g = jax.grad(lambda r: jnp.sum(jdist.Poisson(r).survival_function(k)))(7.5)
        np.testing.assert_allclose(g, np.sum(stats.poisson.pmf(k, 7.5)), rtol=1e-10)
        # NegativeBinomial: d cdf/dp = -(r + k) P(X = k) / (1 - p).
        r = 2.5
        g = jax.jacfwd(lambda q: jdist.NegativeBinomial(r, probs=q).cdf(k))(p)
        np.testing.assert_allclose(
            g, -(r + k) * stats.nbinom.pmf(k, r, 1 - p) / (1 - p), rtol=1e-10
        )
        # log_prob with respect to total_count: ψ(n + 1) - ψ(n - k + 1) + log(1 - p).
        g = jax.vmap(jax.grad(lambda m, x: jdist.Binomial(m, probs=p).log_prob(x)), (None, 0))(
            n, jnp.asarray([0.0, 5.0, 20.0])
        )
        ks = np.array([0.0, 5.0, 20.0])
        expected = sp_special.digamma(n + 1) - sp_special.digamma(n - ks + 1) + np.log(1 - p)
        np.testing.assert_allclose(g, expected, rtol=1e-10)
        g = jax.grad(lambda s: jdist.NegativeBinomial(s, probs=p).log_prob(4.0))(r)
        expected = sp_special.digamma(4 + r) - sp_special.digamma(r) + np.log(1 - p)
        np.testing.assert_allclose(g, expected, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="total_count"):
        jax.grad(lambda m: jdist.Binomial(m, probs=0.5).cdf(3.0))(10.0)


def test_cdfs_under_jit_and_vmap():
    d = jdist.Poisson(jnp.asarray([[1.0, 40.0], [300.0, 5.0]]))
    x = jnp.asarray([[0.0, 40.0], [250.0, 9.0]])
    stacked = jax.tree.map(lambda a: jnp.stack([a, a]), d)
    out = jax.jit(jax.vmap(lambda d: d.log_cdf(x)))(stacked)
    np.testing.assert_allclose(out[1], stats.poisson.logcdf(x, d.rate), rtol=1e-5)
