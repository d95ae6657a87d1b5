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


# Compiled once per family, dtype and shape (eager calls compile op by op, far slower).
_log_prob = jax.jit(lambda d, x: d.log_prob(x))
_entropy = jax.jit(lambda d: d.entropy())


def _members(d, x):
    """Every value-taking member (the CDFs eagerly: they share one compiled tail sum)."""
    return {
        "log_prob": _log_prob(d, x),
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
    """Integer points at the standard scores Z (spread at least 1), clipped to the support
    (always len(Z) rows, so that the probs and logits tests share compiled shapes)."""
    return np.floor(np.clip(mean + Z * np.maximum(sd, 1.0), low, high))


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
    assert_close(_entropy(d), entropy, dtype, what="entropy")  # jit-able, unlike Binomial's


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
        (10.0, 0.99),
        (1e-3, 0.88),
        (1e6, 0.5),
        (1e6, 0.0067),
        (0.5, 0.995),
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
    # scipy's nbinom.entropy stops early for wide masses: sum its pmf directly over mean ±
    # 40 sd, plus 80 / q beyond (the tail decays at least like p^k <= exp(-q k)).
    entropy = []
    for rj, qj, mj, sj in zip(r, q, mean, sd, strict=True):
        k = np.arange(max(0, int(mj - 40 * sj)), int(mj + 40 * sj + 80 / qj) + 100)
        entropy.append(np.sum(sp_special.entr(stats.nbinom.pmf(k, rj, qj))))
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
    with pytest.importorskip("mpmath").workdps(40):
        references = _mp_log_probs()
    for family, params, k, expected, cond in references:
        kw = {name: jnp.asarray(value, dtype) for name, value in params.items()}
        if dtype == np.float32 and any(float(np.float32(v)) != v for v in params.values()):
            continue  # the mpmath reference is for the exact float64 parameters
        got = float(getattr(jdist, family)(**kw).log_prob(jnp.asarray(k, dtype)))
        tol = ATOL[dtype] + RTOL[dtype] * abs(expected) + 8 * eps * cond
        assert abs(got - expected) <= tol, (family, params, k, got, expected, tol)


# ----------------------------------------------------------------------------- samplers
# Every sampler test draws (N, 7) counts, so the compiled samplers are shared between them.
def _binned_chi2(samples, cdf, edges):
    """Chi-square over the bins (-inf, e0], (e0, e1], ..., (e_last, inf) of integer edges."""
    edges = np.unique(edges)
    index = np.searchsorted(edges, np.asarray(samples), side="left")
    chi2_check(index, np.diff(np.concatenate([[0.0], cdf(edges), [1.0]])))


def _quantile_edges(frozen):
    return frozen.ppf(np.linspace(0.0005, 0.9995, 60))


def test_poisson_sampler():
    rates = np.array([1e-8, 1e-3, 1.0, 9.99, 10.0, 1e6, 3e9])
    x = jdist.Poisson(jnp.asarray(rates, jnp.float32)).sample(jax.random.key(1), (N,))
    assert x.dtype == jnp.int32 and x.shape == (N, len(rates))
    x = np.asarray(x, np.int64)
    assert np.all(x[:, 0] == 0)  # P(X > 0) = 1e-8
    assert np.all(x[:, -1] == np.iinfo(np.int32).max)  # beyond 2^30: saturated
    lam = cast_like(rates, np.float32)
    for j in range(1, len(rates) - 1):
        _binned_chi2(x[:, j], stats.poisson(lam[j]).cdf, _quantile_edges(stats.poisson(lam[j])))
    # (at rate 1e-8 all draws are 0: the sample variance has no spread to compare)
    moments_check(x[:, 1:-1], lam[1:-1], lam[1:-1])


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_binomial_sampler(param):
    n = np.array([1e6, 1e6, 1e6, 1e6, 20, 100, 7])
    p = np.array([1e-6, 0.5, 1 - 1e-6, 1e-3, 0.3, 0.97, 1.0])
    arg = p if param == "probs" else sp_special.logit(np.minimum(p, 1 - 1e-7))
    arg = cast_like(arg, np.float32)
    d = jdist.Binomial(jnp.asarray(n, jnp.float32), **{param: jnp.asarray(arg, jnp.float32)})
    x = np.asarray(d.sample(jax.random.key(2), (N,)), np.int64)
    # The probabilities the float32 parameters stand for (1 - p is not rounded from logits).
    p, q = (arg, 1 - arg) if param == "probs" else (sp_special.expit(arg), sp_special.expit(-arg))
    assert np.all((x >= 0) & (x <= n)) and np.all(x[:, -1] == 7)
    for j in range(len(n) - 1):
        frozen = stats.binom(n[j], p[j])
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x[:, :-1], (n * p)[:-1], (n * p * q)[:-1])


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_negative_binomial_sampler(param):
    r = np.array([1e-3, 0.5, 1.0, 10.0, 1e4, 1e6, 0.0])
    p = np.array([0.9, 0.9, 0.5, 0.5, 0.3, 0.01, 0.5])
    arg = cast_like(p if param == "probs" else sp_special.logit(p), np.float32)
    d = jdist.NegativeBinomial(
        jnp.asarray(r, jnp.float32), **{param: jnp.asarray(arg, jnp.float32)}
    )
    x = np.asarray(d.sample(jax.random.key(3), (N,)), np.int64)
    assert np.all(x[:, -1] == 0)  # total_count 0: all mass at 0
    p, q = (arg, 1 - arg) if param == "probs" else (sp_special.expit(arg), sp_special.expit(-arg))
    r = cast_like(r, np.float32)
    for j in range(len(r) - 1):
        frozen = stats.nbinom(r[j], q[j])
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x[:, :-1], (r * p / q)[:-1], (r * p / q**2)[:-1])


def test_geometric_sampler():
    p = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999, 1.0])
    d = jdist.Geometric(probs=jnp.asarray(p, jnp.float32))
    x = np.asarray(d.sample(jax.random.key(4), (N,)), np.int64)
    assert np.all(x[:, -1] == 0)
    p = cast_like(p, np.float32)[:-1]
    for j in range(len(p)):
        frozen = stats.geom(p[j], loc=-1)
        _binned_chi2(x[:, j], frozen.cdf, _quantile_edges(frozen))
    moments_check(x[:, :-1], (1 - p) / p, (1 - p) / p**2)


def test_samples_are_int64_under_x64():
    with jax.enable_x64(True):
        k = jdist.Poisson(jnp.asarray([3.0, 5e9])).sample(jax.random.key(0), (4,))
        assert k.dtype == jnp.int64 and np.all(np.abs(k[:, 1] - 5e9) < 10 * np.sqrt(5e9))


# ------------------------------------------------------------------------------ edges
@jax.jit
def _log_prob_and_grads(d, x):
    """``(log_prob(x), gradient of Σ log_prob(x) masked to its finite entries)``: one
    compilation per family and shape. A masked-out -inf must give a zero, not NaN, gradient."""

    def total(d):
        lp = d.log_prob(x)
        return jnp.sum(jnp.where(lp > -jnp.inf, lp, 0.0)), lp

    grads, lp = jax.grad(total, has_aux=True)(d)
    return lp, grads


def _finite_grads(grads):
    return all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(grads))


# Out-of-support values (rows 0-4: all -inf) and in-support ones, for boundary parameters
# (columns); one compilation per family and parameterization.
_EDGE_VALUES = jnp.asarray([-1.0, 0.5, 2.5, -jnp.inf, jnp.inf, 0.0, 1.0, 3.0, 10.0])[:, None]


def test_out_of_support_and_boundary_parameters():
    logits = jnp.asarray([0.0, -100.0, 100.0])  # ±100: e.g. log P(X = 3) = -700 is finite
    ok, no = True, False
    # (distribution, which of the in-support rows 0, 1, 3, 10 have positive mass, by column)
    cases = {
        "Binomial(probs)": (
            jdist.Binomial(jnp.asarray([2.0, 10.0, 10.0]), probs=jnp.asarray([0.5, 0.0, 1.0])),
            [[ok, ok, no], [ok, no, no], [no, no, no], [no, no, ok]],
        ),
        "Binomial(logits)": (
            jdist.Binomial(jnp.asarray([2.0, 10.0, 10.0]), logits=logits),
            [[ok, ok, ok], [ok, ok, ok], [no, ok, ok], [no, ok, ok]],
        ),
        "Geometric(probs)": (
            jdist.Geometric(probs=jnp.asarray([0.5, 1e-6, 1.0])),
            [[ok, ok, ok], [ok, ok, no], [ok, ok, no], [ok, ok, no]],
        ),
        "Geometric(logits)": (jdist.Geometric(logits=logits), [[ok] * 3] * 4),
        "NegativeBinomial(probs)": (
            jdist.NegativeBinomial(3.0, probs=jnp.asarray([0.5, 0.0, 0.9])),
            [[ok, ok, ok], [ok, no, ok], [ok, no, ok], [ok, no, ok]],
        ),
        "NegativeBinomial(logits)": (jdist.NegativeBinomial(3.0, logits=logits), [[ok] * 3] * 4),
        "Poisson": (
            jdist.Poisson(jnp.asarray([0.0, 1e-30, 1e-8])),
            [[ok, ok, ok], [no, ok, ok], [no, ok, ok], [no, ok, ok]],
        ),
    }
    for name, (d, positive) in cases.items():
        lp, grads = _log_prob_and_grads(d, _EDGE_VALUES)
        lp = np.asarray(lp)
        assert np.all(lp[:5] == -np.inf), (name, lp)
        np.testing.assert_array_equal(np.isfinite(lp[5:]), positive, err_msg=name)
        assert not np.any(np.isnan(lp)) and _finite_grads(grads), name
        # Point masses (probs 0 or 1, rate 0) are exact: log_prob 0 at the point.
        lone = np.sum(positive, axis=0) == 1
        np.testing.assert_array_equal(lp[5:][:, lone][np.asarray(positive)[:, lone]], 0.0)
    # Poisson at rate -> 0: log_prob(0) = -rate exactly (not NaN), d/drate = -1.
    poisson = cases["Poisson"][0]
    lp, grads = _log_prob_and_grads(poisson, _EDGE_VALUES[5:6])
    np.testing.assert_array_equal(lp[0], -poisson.rate)
    np.testing.assert_array_equal(grads.rate, -1.0)
    assert _entropy(poisson)[0] == 0.0 and _entropy(cases["Geometric(probs)"][0])[2] == 0.0
    g = jax.jit(jax.grad(lambda lg: jnp.sum(jdist.Geometric(logits=lg).entropy())))(logits)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(
        jdist.Binomial(2.0, probs=0.5).cdf(_EDGE_VALUES[:5, 0]), [0, 0.25, 1, 0, 1]
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
    k = jnp.asarray([0.0, 3.0, 6.0, 19.0])
    p, n, r = 0.3, 20.0, 2.5
    with jax.enable_x64(True):
        # d cdf/dp = -n P_{n-1}(X = k) for the Binomial, -(r + k) P(X = k) / (1 - p) for the
        # NegativeBinomial; d sf/dλ = P(X = k) for the Poisson.
        g = jax.jit(jax.jacfwd(lambda q: jdist.Binomial(n, probs=q).cdf(k)))(p)
        np.testing.assert_allclose(g, -n * stats.binom.pmf(k, n - 1, p), rtol=1e-10)
        g = jax.jit(jax.grad(lambda lg: jnp.sum(jdist.Binomial(n, logits=lg).log_cdf(k))))(0.4)
        pl = sp_special.expit(0.4)
        dlog = -n * stats.binom.pmf(k, n - 1, pl) * pl * (1 - pl) / stats.binom.cdf(k, n, pl)
        np.testing.assert_allclose(g, np.sum(dlog), rtol=1e-10)
        g = jax.jit(jax.grad(lambda lam: jnp.sum(jdist.Poisson(lam).survival_function(k))))(7.5)
        np.testing.assert_allclose(g, np.sum(stats.poisson.pmf(k, 7.5)), rtol=1e-10)
        g = jax.jit(jax.jacfwd(lambda q: jdist.NegativeBinomial(r, probs=q).cdf(k)))(p)
        expected = -(r + k) * stats.nbinom.pmf(k, r, 1 - p) / (1 - p)
        np.testing.assert_allclose(g, expected, rtol=1e-10)
        # log_prob with respect to total_count: ψ(n + 1) - ψ(n - k + 1) + log(1 - p) for the
        # Binomial (at k = n too), ψ(k + r) - ψ(r) + log(1 - p) for the NegativeBinomial.
        ks = jnp.asarray([0.0, 5.0, 20.0])
        g = _log_prob_and_grads(jdist.Binomial(jnp.full(3, n), probs=p), ks)[1].total_count
        expected = sp_special.digamma(n + 1) - sp_special.digamma(n - ks + 1) + np.log(1 - p)
        np.testing.assert_allclose(g, expected, rtol=1e-10)
        g = _log_prob_and_grads(jdist.NegativeBinomial(jnp.full(3, r), probs=p), ks)[1].total_count
        expected = sp_special.digamma(ks + r) - sp_special.digamma(r) + np.log(1 - p)
        np.testing.assert_allclose(g, expected, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="total_count"):
        jax.grad(lambda m: jdist.Binomial(m, probs=0.5).cdf(3.0))(10.0)


def test_cdfs_under_jit_and_vmap():
    d = jdist.Poisson(jnp.asarray([[1.0, 40.0], [300.0, 5.0]]))
    x = jnp.asarray([[0.0, 40.0], [250.0, 9.0]])
    stacked = jax.tree.map(lambda a: jnp.stack([a, a]), d)
    out = jax.jit(jax.vmap(lambda d: d.log_cdf(x)))(stacked)
    np.testing.assert_allclose(out[1], stats.poisson.logcdf(x, d.rate), rtol=1e-5)
