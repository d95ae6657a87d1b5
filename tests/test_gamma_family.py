"""Gamma, Chi2, InverseGamma, Beta, Kumaraswamy, StudentT and FisherSnedecor: every member
against scipy.stats (torch / 40-digit mpmath where scipy lacks the family or underflows),
in float32 and float64, at ordinary and extreme parameters and far tails; samplers (KS and
moments); and the implicit reparameterization gradients of ``rsample``:

(a) per sample, against ``dx/dθ = -∂F(x; θ)/∂θ / p(x; θ)`` with ``∂F/∂θ`` a 5-point finite
    difference of scipy's CDF at the sampled point (families that are one monotone transform
    of one gamma or uniform draw: Gamma, Chi2, InverseGamma, Kumaraswamy);
(b) in expectation, ``d/dθ E[f(X)]`` from N = 20,000 pathwise derivatives against a closed
    form, within 4 standard errors (all families; for Beta, StudentT and FisherSnedecor the
    per-sample derivative of the gamma-ratio construction differs from the CDF formula, and
    only its expectation is fixed).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import torch
from scipy import optimize, stats
from scipy import special as sp

import jdist
from jdist._math import log_float_max
from jdist.distributions.gamma import log_standard_gamma
from tests.conftest import ATOL, RTOL, assert_close, cast_like
from tests.stats_checks import ks_check, moments_check

N = 20_000


@pytest.fixture(autouse=True)
def _mp_precision():
    """40-digit references; mpmath's precision is global, so set it per test."""
    with mpmath.workdps(40):
        yield


# --------------------------------------------------------------------------------- helpers
def _points(ref, params_cols, dtype, lower_q, upper_q, lo=None, hi=None):
    """Quantile points per parameter column (rows: quantiles), rounded to ``dtype`` and kept
    inside the normal floats of the support."""
    with np.errstate(all="ignore"):
        x = np.concatenate(
            [ref.ppf(np.asarray(lower_q)[:, None]), ref.isf(np.asarray(upper_q)[:, None])]
        )
    info = np.finfo(dtype)
    lo = info.tiny * 16 if lo is None else lo
    hi = float(info.max) / 16 if hi is None else hi
    x = np.clip(np.nan_to_num(x, nan=1.0, posinf=hi, neginf=lo), lo, hi)
    return cast_like(x, dtype)


def _log_ref(scipy_log, mp_log, x, cols):
    """scipy's log CDF/SF, or a 40-digit mpmath value where scipy under/overflows."""
    with np.errstate(all="ignore"):
        out = np.array(scipy_log(x), np.float64)
    out = np.broadcast_to(out, np.broadcast_shapes(out.shape, x.shape)).copy()
    bad = ~np.isfinite(out) | (out < -700)
    for i, j in zip(*np.nonzero(bad), strict=True):
        out[i, j] = float(mp_log(x[i, j], *[c[j] for c in cols]))
    return out


def _members(d, x):
    """Every value-taking member at ``x`` and the moments. Evaluated eagerly: the incomplete
    gamma/beta computations are jitted inside jdist, so families and members that share
    parameter and value shapes (8 parameter columns, 10 points, in every test here) share
    one compilation."""
    out = {
        "log_prob": d.log_prob(x),
        "cdf": d.cdf(x),
        "sf": d.survival_function(x),
        "logcdf": d.log_cdf(x),
        "logsf": d.log_survival_function(x),
        "entropy": d.entropy(),
    }
    for name in ("mean", "variance", "mode"):
        out[name] = getattr(d, name)
    return out


def _check_cdfs(got, x, dtype, cdf, sf, logcdf, logsf, rtol_scale=1.0):
    for name, ref in [("cdf", cdf), ("sf", sf), ("logcdf", logcdf), ("logsf", logsf)]:
        assert_close(got[name], ref, dtype, rtol_scale=rtol_scale, what=name)


def _fd(f, theta, rel=1e-3):
    """5-point central difference of ``f`` at ``theta`` and an error estimate (the change
    when the step doubles, which bounds the O(h⁴) truncation error by a factor 15)."""

    def stencil(h):
        return (f(theta - 2 * h) - 8 * f(theta - h) + 8 * f(theta + h) - f(theta + 2 * h)) / (
            12 * h
        )

    h = rel * theta
    d1 = stencil(h)
    return d1, np.abs(stencil(2 * h) - d1)


@functools.partial(jax.jit, static_argnames=("cls", "n"))
def _pathwise(cls, params, key, n):
    """``n`` draws of ``cls(*params).rsample`` and their per-sample derivatives w.r.t. every
    parameter (stacked on a leading axis): forward mode along each basis tangent, vmapped, in
    one compilation. Each draw depends on its own parameter column only, so a tangent of ones
    gives the per-sample derivative."""

    def draw(*ps):
        return cls(*ps).rsample(key, (n,))

    k = len(params)
    basis = tuple(
        jnp.stack([jnp.full_like(p, float(i == j)) for j in range(k)]) for i, p in enumerate(params)
    )
    dx = jax.vmap(lambda *t: jax.jvp(draw, params, t)[1])(*basis)
    return draw(*params), dx


@functools.partial(jax.jit, static_argnames=("cls",))
def _log_prob_of_draws_and_grads(cls, params, key):
    """``log_prob`` of N draws and the reverse-mode gradient of its sum w.r.t. the parameters
    (through rsample): finite even where draws are clamped (their cotangent, possibly
    infinite, must not be propagated: a clamp by multiplication would give 0 · inf = NaN)."""

    def loss(ps):
        d = cls(*ps)
        lp = d.log_prob(d.rsample(key, (N,)))
        return jnp.sum(lp), lp

    (_, lp), grads = jax.value_and_grad(loss, has_aux=True)(params)
    return lp, grads


def _mc_check(grads, expected):
    """Mean of per-sample pathwise derivatives within 4 standard errors of ``expected``."""
    grads = np.asarray(grads, np.float64)
    assert np.all(np.isfinite(grads))
    mean = grads.mean(0)
    se = grads.std(0) / np.sqrt(grads.shape[0])
    assert np.all(np.abs(mean - expected) <= 4 * se + 1e-12 * np.abs(expected)), (
        mean,
        expected,
        se,
    )


def _lgamma_scale(args, dtype):
    """Tolerance scale for log densities built from ``lgamma`` terms that cancel to O(1): the
    measured absolute error of ``jax.scipy.special.gammaln`` at the arguments used (about
    1e-6 near 1 and 2 in float32, above the 1e-6 ATOL for a log density near 0), summed over
    the three lgamma terms of a log-beta function."""
    args = cast_like(np.concatenate([np.ravel(a) for a in args]), dtype)
    err = np.abs(
        np.asarray(jax.scipy.special.gammaln(jnp.asarray(args, dtype)), np.float64)
        - sp.gammaln(args)
    )
    return 1.0 + 3.0 * float(err.max()) / ATOL[dtype]


LOWER_Q = [1e-300, 1e-200, 1e-30, 1e-10, 1e-3, 0.3, 0.5]
UPPER_Q = [1e-300, 1e-30, 1e-6]


# ------------------------------------------------------------------ Gamma, Chi2, InverseGamma
GAMMA_A = np.array([1e-3, 0.3, 1.0, 7.5, 150.0, 1e4, 0.05, 30.0])
GAMMA_RATE = np.array([2.0, 1.0, 0.5, 3.0, 1e-2, 10.0, 1.0, 0.1])


def _mp_gamma_logcdf(x, a, scale):
    return mpmath.log(mpmath.gammainc(a, 0, mpmath.mpf(x) / scale, regularized=True))


def _mp_gamma_logsf(x, a, scale):
    return mpmath.log(mpmath.gammainc(a, mpmath.mpf(x) / scale, mpmath.inf, regularized=True))


def test_gamma_against_scipy(dtype):
    a, rate = cast_like(GAMMA_A, dtype), cast_like(GAMMA_RATE, dtype)
    d = jdist.Gamma(jnp.asarray(a, dtype), jnp.asarray(rate, dtype))
    ref = stats.gamma(a, scale=1 / rate)
    x = _points(ref, [a, rate], dtype, LOWER_Q, UPPER_Q)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    assert_close(got["log_prob"], ref.logpdf(x), dtype, what="log_prob")
    cols = (a, 1 / rate)
    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, _mp_gamma_logcdf, x, cols),
        _log_ref(ref.logsf, _mp_gamma_logsf, x, cols),
    )
    assert_close(np.asarray(got["mean"]), ref.mean(), dtype, what="mean")
    assert_close(np.asarray(got["variance"]), ref.var(), dtype, what="variance")
    assert_close(got["entropy"], ref.entropy(), dtype, what="entropy")
    assert_close(got["mode"], np.maximum(a - 1, 0) / rate, dtype, what="mode")
    # Boundary x = 0: +inf / log rate / -inf for a < 1 / = 1 / > 1 (torch's convention).
    want0 = np.where(a < 1, np.inf, np.where(a == 1, np.log(rate), -np.inf))
    assert_close(d.log_prob(jnp.zeros(8, dtype)), want0, dtype, what="log_prob(0)")
    with pytest.raises(NotImplementedError, match="icdf"):
        d.icdf(jnp.asarray(0.5, dtype))


def test_chi2_against_scipy(dtype):
    df = cast_like([2e-3, 0.6, 2.0, 15.0, 300.0, 2e4, 1.0, 60.0], dtype)
    d = jdist.Chi2(jnp.asarray(df, dtype))
    ref = stats.chi2(df)
    x = _points(ref, [df], dtype, LOWER_Q, UPPER_Q)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    assert_close(got["log_prob"], ref.logpdf(x), dtype, what="log_prob")
    cols = (df / 2, np.full_like(df, 2.0))
    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, _mp_gamma_logcdf, x, cols),
        _log_ref(ref.logsf, _mp_gamma_logsf, x, cols),
    )
    assert_close(np.asarray(got["mean"]), ref.mean(), dtype, what="mean")
    assert_close(np.asarray(got["variance"]), ref.var(), dtype, what="variance")
    assert_close(got["entropy"], ref.entropy(), dtype, what="entropy")
    assert_close(got["mode"], np.maximum(df - 2, 0), dtype, what="mode")


def test_inverse_gamma_against_scipy(dtype):
    a = cast_like([1e-3, 0.7, 1.5, 3.0, 150.0, 1e4, 2.5, 0.05], dtype)
    rate = cast_like([1.0, 2.0, 0.5, 1.0, 10.0, 1e4, 0.1, 3.0], dtype)
    d = jdist.InverseGamma(jnp.asarray(a, dtype), jnp.asarray(rate, dtype))
    ref = stats.invgamma(a, scale=rate)
    x = _points(ref, [a, rate], dtype, LOWER_Q, UPPER_Q)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    assert_close(got["log_prob"], ref.logpdf(x), dtype, what="log_prob")

    def mp_logcdf(x, a, r):
        return _mp_gamma_logsf(r / mpmath.mpf(x), a, 1.0)

    def mp_logsf(x, a, r):
        return _mp_gamma_logcdf(r / mpmath.mpf(x), a, 1.0)

    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, mp_logcdf, x, (a, rate)),
        _log_ref(ref.logsf, mp_logsf, x, (a, rate)),
    )
    # Diverging moments are inf (as torch); scipy returns inf for the mean and nan/inf beyond.
    mean = np.where(a > 1, rate / np.where(a > 1, a - 1, 1), np.inf)
    var = np.where(
        a > 2, rate**2 / (np.where(a > 2, a - 1, 1) ** 2 * np.where(a > 2, a - 2, 1)), np.inf
    )
    assert_close(np.asarray(got["mean"]), mean, dtype, what="mean")
    assert_close(np.asarray(got["variance"]), var, dtype, what="variance")
    assert_close(np.asarray(got["mean"])[a > 1], ref.mean()[a > 1], dtype, what="mean vs scipy")
    assert_close(
        np.asarray(got["variance"])[a > 2], ref.var()[a > 2], dtype, what="variance vs scipy"
    )
    assert_close(got["entropy"], ref.entropy(), dtype, what="entropy")
    assert_close(got["mode"], rate / (a + 1), dtype, what="mode")


# ------------------------------------------------------------------------ Beta, Kumaraswamy
BETA_A = np.array([1e-3, 0.5, 1.0, 3.0, 0.05, 1e4, 1e4, 2.0])
BETA_B = np.array([1e-3, 2.0, 1.0, 5.0, 50.0, 1e4, 0.7, 1.0])


def _fraction_scale(a, b, dtype):
    """Tolerance scale for the incomplete beta function at large shape parameters: its
    continued fraction is a product of up to n = 1024 factors, each rounded (relative error
    <= eps), so the result carries up to n·eps; the fraction needs hundreds of steps only
    where max(a, b) >~ 100 (Numerical Recipes §6.4: O(sqrt(max(a, b))) steps near the mean).
    Below that, n·eps < RTOL in both dtypes."""
    eps = float(np.finfo(dtype).eps)
    return np.where(np.maximum(a, b) >= 100, max(1.0, 1024 * eps / RTOL[dtype]), 1.0)


def _mp_beta_logcdf(x, a, b):
    return mpmath.log(mpmath.betainc(a, b, 0, mpmath.mpf(x), regularized=True))


def _mp_beta_logsf(x, a, b):
    return mpmath.log(mpmath.betainc(a, b, mpmath.mpf(x), 1, regularized=True))


def test_beta_against_scipy(dtype):
    a, b = cast_like(BETA_A, dtype), cast_like(BETA_B, dtype)
    d = jdist.Beta(jnp.asarray(a, dtype), jnp.asarray(b, dtype))
    ref = stats.beta(a, b)
    eps = float(np.finfo(dtype).epsneg)
    x = _points(ref, [a, b], dtype, LOWER_Q, UPPER_Q, hi=1 - eps)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    scale = _lgamma_scale([a, b, a + b], dtype)
    assert_close(got["log_prob"], ref.logpdf(x), dtype, rtol_scale=scale, what="log_prob")
    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, _mp_beta_logcdf, x, (a, b)),
        _log_ref(ref.logsf, _mp_beta_logsf, x, (a, b)),
        rtol_scale=_fraction_scale(a, b, dtype),
    )
    assert_close(np.asarray(got["mean"]), ref.mean(), dtype, what="mean")
    assert_close(np.asarray(got["variance"]), ref.var(), dtype, what="variance")
    assert_close(got["entropy"], ref.entropy(), dtype, what="entropy")
    # Boundaries: +inf / finite / -inf at an end whose exponent is < 0 / 0 / > 0.
    lp0 = d.log_prob(jnp.zeros(8, dtype))
    lp1 = d.log_prob(jnp.ones(8, dtype))
    assert_close(lp0, np.where(a < 1, np.inf, np.where(a == 1, np.log(b), -np.inf)), dtype)
    assert_close(lp1, np.where(b < 1, np.inf, np.where(b == 1, np.log(a), -np.inf)), dtype)
    with pytest.raises(NotImplementedError, match="icdf"):
        d.icdf(jnp.asarray(0.5, dtype))


def test_beta_mode_follows_torch(dtype):
    a = np.array([0.5, 2.0, 0.5, 1.0, 1.0, 1.0, 3.0, 2.0, 3.0, 0.5])
    b = np.array([2.0, 0.5, 0.5, 1.0, 3.0, 0.5, 1.0, 5.0, 3.0, 1.0])
    got = np.asarray(jdist.Beta(jnp.asarray(a, dtype), jnp.asarray(b, dtype)).mode, np.float64)
    want = torch.distributions.Beta(torch.tensor(a), torch.tensor(b)).mode.numpy()
    # torch computes 0/0 = NaN where one concentration is exactly 1 and the other < 1; the
    # density is unbounded at one end there, which is the mode (documented deviation).
    deviates = ((a == 1) & (b < 1)) | ((b == 1) & (a < 1))
    assert np.all(np.isnan(want[deviates]))
    np.testing.assert_array_equal(got[deviates], np.where(b[deviates] < 1, 1.0, 0.0))
    same = ~deviates
    np.testing.assert_array_equal(np.isnan(got[same]), np.isnan(want[same]))
    assert np.isnan(got).sum() == 1  # a = b = 1 only: every point is a mode
    ok = same & ~np.isnan(want)
    assert_close(got[ok], want[ok], dtype, what="mode")


KUMA_A = np.array([1e-3, 0.5, 1.0, 2.0, 30.0, 1e4, 5.0, 0.2])
KUMA_B = np.array([1.0, 2.0, 1e-3, 3.0, 0.5, 2.0, 1e4, 0.3])


def _mp_kuma(fn, a, b, x):
    """40-digit closed forms: F(x) = 1 - (1 - x^a)^b and friends."""
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    sf = (1 - x**a) ** b
    return {"cdf": 1 - sf, "sf": sf, "logcdf": mpmath.log(1 - sf), "logsf": mpmath.log(sf)}[fn]


def _mp_kuma_moment(a, b, k):
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return b * mpmath.beta(1 + k / a, b)


def test_kumaraswamy_against_torch_and_mpmath(dtype):
    a, b = cast_like(KUMA_A, dtype), cast_like(KUMA_B, dtype)
    d = jdist.Kumaraswamy(jnp.asarray(a, dtype), jnp.asarray(b, dtype))
    # Points: quantiles of the closed-form icdf (40 digits), rounded to dtype.
    q = np.array([1e-30, 1e-6, 0.01, 0.3, 0.5, 0.9, 1 - 1e-6])
    x = np.array(
        [
            [
                float((1 - (1 - mpmath.mpf(qq)) ** (1 / mpmath.mpf(bb))) ** (1 / mpmath.mpf(aa)))
                for aa, bb in zip(a, b, strict=True)
            ]
            for qq in q
        ]
    )
    info = np.finfo(dtype)
    x = cast_like(np.clip(x, info.tiny * 16, 1 - info.epsneg), dtype)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    tk = torch.distributions.Kumaraswamy(torch.tensor(a), torch.tensor(b))
    with torch.no_grad():
        lp_ref = tk.log_prob(torch.tensor(x)).numpy()
        entropy_ref = tk.entropy().numpy()
    # torch's log_prob goes through transforms; where x^a underflows or rounds to 1 it loses
    # accuracy, so compare it only where 1e-300 < 1 - x^a < 1 - 1e-12 in float64.
    xa = x**a
    fine = (xa > 1e-300) & (1 - xa > 1e-12)
    assert_close(np.asarray(got["log_prob"])[fine], lp_ref[fine], dtype, what="log_prob")
    mp = {
        fn: np.array(
            [
                [float(_mp_kuma(fn, a[j], b[j], x[i, j])) for j in range(len(a))]
                for i in range(len(q))
            ]
        )
        for fn in ("cdf", "sf", "logcdf", "logsf")
    }
    _check_cdfs(got, x, dtype, mp["cdf"], mp["sf"], mp["logcdf"], mp["logsf"])
    # icdf: the quantile function is well conditioned in u except near u = 1 (condition
    # number |(1-u) log(1-u)| / (a b ...) stays O(1) at the points used here).
    u = cast_like(np.array([0.0, 1e-6, 0.3, 0.5, 0.9, 1.0])[:, None], dtype)
    want = np.array(
        [
            [
                float((1 - (1 - mpmath.mpf(uu)) ** (1 / mpmath.mpf(bb))) ** (1 / mpmath.mpf(aa)))
                for aa, bb in zip(a, b, strict=True)
            ]
            for uu in u[:, 0]
        ]
    )
    got_q = np.asarray(d.icdf(jnp.asarray(u, dtype)), np.float64)
    # d log x / d log u-type condition number of the quantile function: |u f'(u) / f(u)|
    # with f the icdf, ≈ 1/(a b) near u = 0; its relative error bound is cond · RTOL.
    cond = np.maximum(1.0, 1.0 / (a * b))
    ok = want > 1e-300
    assert_close(
        got_q[ok], want[ok], dtype, rtol_scale=np.broadcast_to(cond, want.shape)[ok], what="icdf"
    )
    m1 = np.array([float(_mp_kuma_moment(aa, bb, 1)) for aa, bb in zip(a, b, strict=True)])
    m2 = np.array([float(_mp_kuma_moment(aa, bb, 2)) for aa, bb in zip(a, b, strict=True)])
    var = np.array(
        [
            float(_mp_kuma_moment(aa, bb, 2) - _mp_kuma_moment(aa, bb, 1) ** 2)
            for aa, bb in zip(a, b, strict=True)
        ]
    )
    assert_close(np.asarray(got["mean"]), m1, dtype, what="mean")
    # The variance is -m2 expm1(g), g = 2 log m1 - log m2, each log m_k = log b + log B(1+k/a, b)
    # carrying an absolute rounding error ~eps (|log b| + |log B|); the relative error of the
    # variance is that times |e^g / expm1(g)| = m1²/var (for a >= 20 a series in 1/a is used,
    # where this bound is not needed: we apply it below a = 20 only).
    eps = float(np.finfo(dtype).eps)
    g_err = (
        2
        * eps
        * (np.abs(np.log(b)) + np.abs(sp.betaln(1 + 1 / a, b)) + np.abs(sp.betaln(1 + 2 / a, b)))
    )
    scale = np.where(a < 20, np.maximum(1.0, g_err * m1**2 / var / RTOL[dtype]), 1.0)
    assert_close(np.asarray(got["variance"]), var, dtype, rtol_scale=scale, what="variance")
    assert np.all(m2 >= var)
    assert_close(got["entropy"], entropy_ref, dtype, what="entropy")


def test_kumaraswamy_mode_is_the_density_argmax(dtype):
    # torch's Kumaraswamy.mode returns NaN for every parameter (log1p(-b) for b > 1);
    # ours is ((a-1)/(ab-1))^(1/a), checked against a fine grid, plus the Beta conventions.
    a = np.array([2.0, 5.0, 1.5, 0.5, 3.0, 1.0, 3.0, 1.0, 0.5])
    b = np.array([3.0, 1.5, 20.0, 2.0, 0.5, 3.0, 1.0, 1.0, 0.5])
    got = np.asarray(
        jdist.Kumaraswamy(jnp.asarray(a, dtype), jnp.asarray(b, dtype)).mode, np.float64
    )
    for j in range(3):  # interior modes: numerical maximization of the log density

        def neg_logpdf(x, j=j):
            return -((a[j] - 1) * np.log(x) + (b[j] - 1) * np.log1p(-(x ** a[j])))

        res = optimize.minimize_scalar(
            neg_logpdf, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}
        )
        assert abs(got[j] - res.x) < 1e-6, (j, got[j], res.x)
    np.testing.assert_array_equal(got[3:7], [0.0, 1.0, 0.0, 1.0])
    assert np.isnan(got[7]) and got[8] == 1.0


# -------------------------------------------------------------------- StudentT, FisherSnedecor
T_DF = np.array([0.5, 1.0, 2.5, 30.0, 1e3, 1e5, 1e8, 4.0])
T_LOC = np.array([0.0, -3.0, 1.0, 0.5, 100.0, 0.0, -2.0, 1e3])
T_SCALE = np.array([1.0, 0.1, 2.0, 1.0, 3.0, 1e-2, 1.0, 50.0])
T_STD = np.array([-1e20, -1e4, -40.0, -5.0, -1.0, -1e-3, 0.0, 0.7, 3.0, 40.0])[:, None]


def _mp_t_logcdf(x, df, loc, scale):
    t = (mpmath.mpf(x) - loc) / scale
    df = mpmath.mpf(df)
    half_tail = mpmath.betainc(df / 2, 0.5, 0, df / (df + t * t), regularized=True) / 2
    return mpmath.log(half_tail if t < 0 else 1 - half_tail)


def test_student_t_against_scipy(dtype):
    df, loc, scale = (cast_like(v, dtype) for v in (T_DF, T_LOC, T_SCALE))
    d = jdist.StudentT(*(jnp.asarray(v, dtype) for v in (df, loc, scale)))
    ref = stats.t(df, loc, scale)
    x = cast_like(loc + T_STD * scale, dtype)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    assert_close(
        got["log_prob"],
        ref.logpdf(x),
        dtype,
        rtol_scale=_lgamma_scale([df / 2, df / 2 + 0.5], dtype),
        what="log_prob",
    )

    def mp_logsf(x, df, loc, scale):
        return _mp_t_logcdf(2 * loc - mpmath.mpf(x), df, loc, scale)

    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, _mp_t_logcdf, x, (df, loc, scale)),
        _log_ref(ref.logsf, mp_logsf, x, (df, loc, scale)),
    )
    assert_close(got["entropy"], ref.entropy(), dtype, what="entropy")
    assert_close(got["mode"], loc, dtype, what="mode")
    # Undefined moments follow torch: mean NaN for df <= 1; variance inf for 1 < df <= 2 and
    # NaN for df <= 1.
    mean, var = np.asarray(got["mean"], np.float64), np.asarray(got["variance"], np.float64)
    np.testing.assert_array_equal(np.isnan(mean), df <= 1)
    np.testing.assert_array_equal(np.isnan(var), df <= 1)
    np.testing.assert_array_equal(np.isinf(var), (df > 1) & (df <= 2))
    assert_close(mean[df > 1], ref.mean()[df > 1], dtype, what="mean")
    assert_close(var[df > 2], ref.var()[df > 2], dtype, what="variance")
    # df -> inf approaches the Normal: |log t_ν(z) - log φ(z)| <= (z⁴ + 2z² + 1)/(4ν) (expanding
    # (1 + z²/ν)^(-(ν+1)/2) and the normalizing constant), and the entropies differ by < 1/ν.
    big = df >= 1e5
    n = stats.norm(loc[big], scale[big])
    z = T_STD
    slack = (z**4 + 2 * z**2 + 1) / (4 * df[big])
    lp_err = np.abs(np.asarray(got["log_prob"], np.float64)[:, big] - n.logpdf(x[:, big]))
    assert np.all(lp_err <= ATOL[dtype] + RTOL[dtype] * np.abs(n.logpdf(x[:, big])) + slack)
    h_err = np.abs(np.asarray(got["entropy"], np.float64)[big] - n.entropy())
    assert np.all(h_err <= ATOL[dtype] + RTOL[dtype] * np.abs(n.entropy()) + 1 / df[big])
    torch_t = torch.distributions.StudentT(torch.tensor(df), torch.tensor(loc), torch.tensor(scale))
    np.testing.assert_array_equal(np.isnan(mean), np.isnan(torch_t.mean.numpy()))
    np.testing.assert_array_equal(np.isinf(var), np.isinf(torch_t.variance.numpy()))


F_D1 = np.array([0.5, 1.0, 3.0, 2.0, 100.0, 1e4, 7.0, 40.0])
F_D2 = np.array([0.5, 1.0, 5.0, 30.0, 3.0, 1e4, 2.5, 4.0])


def _mp_f_logcdf(x, d1, d2):
    d1, d2, x = mpmath.mpf(d1), mpmath.mpf(d2), mpmath.mpf(x)
    return mpmath.log(mpmath.betainc(d1 / 2, d2 / 2, 0, d1 * x / (d1 * x + d2), regularized=True))


def _mp_f_logsf(x, d1, d2):
    d1, d2, x = mpmath.mpf(d1), mpmath.mpf(d2), mpmath.mpf(x)
    return mpmath.log(mpmath.betainc(d2 / 2, d1 / 2, 0, d2 / (d1 * x + d2), regularized=True))


def test_fisher_snedecor_against_scipy(dtype):
    d1, d2 = cast_like(F_D1, dtype), cast_like(F_D2, dtype)
    d = jdist.FisherSnedecor(jnp.asarray(d1, dtype), jnp.asarray(d2, dtype))
    ref = stats.f(d1, d2)
    x = _points(ref, [d1, d2], dtype, LOWER_Q, UPPER_Q)
    xj = jnp.asarray(x, dtype)
    got = _members(d, xj)
    scale = _lgamma_scale([d1 / 2, d2 / 2, (d1 + d2) / 2], dtype)
    assert_close(got["log_prob"], ref.logpdf(x), dtype, rtol_scale=scale, what="log_prob")
    _check_cdfs(
        got,
        x,
        dtype,
        ref.cdf(x),
        ref.sf(x),
        _log_ref(ref.logcdf, _mp_f_logcdf, x, (d1, d2)),
        _log_ref(ref.logsf, _mp_f_logsf, x, (d1, d2)),
    )
    assert_close(got["entropy"], ref.entropy(), dtype, rtol_scale=scale, what="entropy")
    # Diverging moments are inf (torch: NaN for the mean); variance NaN where the mean is inf.
    mean, var = np.asarray(got["mean"], np.float64), np.asarray(got["variance"], np.float64)
    np.testing.assert_array_equal(np.isinf(mean), d2 <= 2)
    np.testing.assert_array_equal(np.isnan(var), d2 <= 2)
    np.testing.assert_array_equal(np.isinf(var), (d2 > 2) & (d2 <= 4))
    assert_close(mean[d2 > 2], ref.mean()[d2 > 2], dtype, what="mean")
    assert_close(var[d2 > 4], ref.var()[d2 > 4], dtype, what="variance")
    # Mode: (d1 - 2)/d1 · d2/(d2 + 2), and 0 where d1 <= 2 (the density is largest at 0;
    # torch: NaN).
    assert_close(got["mode"], np.maximum(d1 - 2, 0) / d1 * d2 / (d2 + 2), dtype, what="mode")


# ------------------------------------------------- draws and gradients (float32, N = 20,000)
# One compilation per family gives the draws (rsample and sample coincide) and their per-sample
# derivatives w.r.t. every parameter; each test checks the sampler (KS, moments), (b) the Monte
# Carlo gradient of a closed-form expectation, and (a) where it applies the per-sample implicit
# formula. Every parameter set includes tiny and huge shape parameters.
def _kuma_cdf(a, b):
    return lambda x: -np.expm1(b * np.log1p(-np.power(x, a)))


TOP_UNIT = 1.0 - float(np.finfo(np.float32).epsneg)  # largest float32 below 1
# InverseGamma's clamp, exp(log_float_max) (less a margin for the rounding of exp).
TOP_POSITIVE = float(np.exp(np.float32(log_float_max(np.float32)))) * (1 - 1e-5)


def _ks_clamped(x, cdf, top=None):
    """KS test of draws that may be clamped to the smallest normal float (and, with ``top``,
    to that upper value); each clamp is an atom holding the mass beyond it. A randomized
    probability integral transform (uniform within each atom's CDF range, fixed seed) is
    uniform exactly when the draws follow ``cdf``; it is KS-tested against U(0, 1)."""
    tiny = float(np.finfo(np.float32).tiny)
    rng = np.random.default_rng(0)
    u = cdf(x)
    u = np.where(x <= tiny, rng.uniform(0.0, 1.0, x.shape) * cdf(tiny), u)
    if top is not None:
        f_top = cdf(top)
        u = np.where(x >= top, f_top + rng.uniform(0.0, 1.0, x.shape) * (1.0 - f_top), u)
    ks_check(u, stats.uniform.cdf)


def _per_sample_check(got, ref_fn, x, ok, dtype, what, upper=None):
    """Per-sample derivatives against the finite-difference implicit formula ``ref_fn(x) ->
    (ref, fd_error)`` at the draws ``x`` (``ok``: draws not clamped). The tolerance adds the
    FD error estimate and the effect of rounding the draw to ``dtype`` (jdist differentiates
    at the unrounded draw): ``|x ∂ref/∂x| eps``, the condition number of the formula in x."""
    got = np.asarray(got, np.float64)[ok]
    assert np.all(np.isfinite(got)), what
    ref, ref_err = (np.asarray(v)[ok] for v in ref_fn(x))
    h = 1e-6 if upper is None else 1e-6 * np.minimum(1.0, (upper - x) / x)  # stay in support
    with np.errstate(all="ignore"):
        up, down = (np.asarray(ref_fn(x * (1 + s))[0])[ok] for s in (h, -h))
    h_ok = np.broadcast_to(h, x.shape)[ok]
    rounding = np.nan_to_num(np.abs(up - down) / (2 * h_ok)) * float(np.finfo(dtype).eps)
    tol = ATOL[dtype] + RTOL[dtype] * np.abs(ref) + 10 * ref_err + rounding
    bad = ~(np.abs(got - ref) <= tol)
    assert not np.any(bad), (what, got[bad][:5], ref[bad][:5], tol[bad][:5])


def _mc(cls, *params):
    """N draws and their per-sample derivatives w.r.t. each parameter, in float64 numpy."""
    params = tuple(jnp.asarray(p, jnp.float32) for p in params)
    x, dx = _pathwise(cls, params, jax.random.key(7), N)
    lp, grads = _log_prob_of_draws_and_grads(cls, params, jax.random.key(7))
    assert np.all(np.isfinite(np.asarray(lp)))  # every draw (clamped ones too)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads), grads
    return np.asarray(x, np.float64), np.asarray(dx, np.float64)


def _check_draws(x, cdfs, moment_cols, mean, var, top=None):
    for j, cdf in enumerate(cdfs):
        _ks_clamped(x[:, j], cdf, top)
    cols = np.asarray(moment_cols)
    moments_check(x[:, cols], np.asarray(mean)[cols], np.asarray(var)[cols])


def _gamma_implicit(alpha, y, dy_dx):
    """``dx/dα = -∂P(α, y)/∂α / (p_Y(y) dy/dx)`` for ``y`` a Gamma(α, 1) variable and ``x`` a
    monotone function of it; ∂P/∂α by finite differences of the side (P or Q) below 1/2."""
    alpha = np.broadcast_to(alpha, y.shape)
    lower = sp.gammainc(alpha, y) < 0.5
    d_f, d_err = _fd(lambda al: np.where(lower, sp.gammainc(al, y), -sp.gammaincc(al, y)), alpha)
    dens = stats.gamma(alpha).pdf(y) * dy_dx
    with np.errstate(all="ignore"):
        return -d_f / dens, d_err / np.abs(dens)


def test_gamma_draws_and_gradients():
    a, rate = np.array([1e-3, 0.5, 3.0, 25.0, 1e4]), np.array([1.0, 2.0, 0.5, 1.0, 1e-2])
    x, dx = _mc(jdist.Gamma, a, rate)
    a32, r32 = cast_like(a, np.float32), cast_like(rate, np.float32)
    _check_draws(
        x,
        [stats.gamma(aa, scale=1 / r).cdf for aa, r in zip(a32, r32, strict=True)],
        range(5),
        a32 / r32,
        a32 / r32**2,
    )
    _mc_check(dx[0], 1 / r32)  # d/dα E[x] = 1/β
    _mc_check(dx[1], -a32 / r32**2)  # d/dβ E[x] = -α/β²
    ok = x > np.finfo(np.float32).tiny  # draws below the smallest normal float are clamped
    assert np.all(dx[:, ~ok] == 0)
    _per_sample_check(
        dx[0], lambda x: _gamma_implicit(a32, r32 * x, r32), x, ok, np.float32, "dx/dα"
    )


def test_chi2_draws_and_gradients():
    df = np.array([0.01, 3.0, 100.0])
    x, dx = _mc(jdist.Chi2, df)
    k = cast_like(df, np.float32)
    _check_draws(x, [stats.chi2(v).cdf for v in k], range(3), k, 2 * k)
    _mc_check(dx[0], 1.0)  # d/dk E[x] = 1
    ok = x > np.finfo(np.float32).tiny
    # α = k/2, so dx/dk = (dx/dα) / 2.
    ref_fn = lambda x: [0.5 * v for v in _gamma_implicit(k / 2, x / 2, 0.5)]  # noqa: E731
    _per_sample_check(dx[0], ref_fn, x, ok, np.float32, "dx/ddf")


def test_inverse_gamma_draws_and_gradients():
    # α = 0.01: 40 % of the draws overflow and are clamped near the largest float.
    a, rate = np.array([0.3, 2.0, 6.0, 1e3, 0.01]), np.array([2.0, 2.0, 2.0, 1e3, 2.0])
    x, dx = _mc(jdist.InverseGamma, a, rate)
    a32, r32 = cast_like(a, np.float32), cast_like(rate, np.float32)
    ig = stats.invgamma(a32, scale=r32)
    _check_draws(
        x,
        [stats.invgamma(aa, scale=r).cdf for aa, r in zip(a32, r32, strict=True)],
        [2, 3],
        ig.mean(),
        ig.var(),
        top=TOP_POSITIVE,
    )
    c = slice(0, 4)  # clamped draws carry no gradient of log x: not an estimate of it
    _mc_check((dx[0] / x)[:, c], -sp.polygamma(1, a32[c]))  # E[log X] = log β - ψ(α)
    # Clamped draws (near the largest float) are excluded, and so are draws within a factor
    # 1e8 of it, whose derivative x d(-log G)/dα itself exceeds the float32 range.
    ok = x < float(np.finfo(np.float32).max) * 1e-8

    def ref_fn(x):  # X = β/Y decreases in Y: dx/dα = -(dy/dα) / |dy/dx|, |dy/dx| = β/x²
        ref, err = _gamma_implicit(a32, r32 / x, r32 / x**2)
        return -ref, err

    _per_sample_check(dx[0], ref_fn, x, ok, np.float32, "dx/dα")


def test_beta_draws_and_gradients():
    a = np.array([1e-3, 0.01, 0.5, 3.0, 1e3, 0.05])
    b = np.array([1e-3, 0.01, 2.0, 5.0, 1e3, 50.0])
    x, dx = _mc(jdist.Beta, a, b)
    a32, b32 = cast_like(a, np.float32), cast_like(b, np.float32)
    ref = stats.beta(a32, b32)
    _check_draws(
        x,
        [stats.beta(p, q).cdf for p, q in zip(a32, b32, strict=True)],
        range(6),
        ref.mean(),
        ref.var(),
        top=TOP_UNIT,
    )
    n = a32 + b32
    _mc_check(dx[0], b32 / n**2)  # d/dα E[x] = β / (α + β)²
    _mc_check(dx[1], -a32 / n**2)
    # E[log x] = ψ(α) - ψ(α + β), where draws are not clamped at 0 (the clamped log x carries
    # no gradient); columns 2-4.
    c = slice(2, 5)
    _mc_check((dx[0] / x)[:, c], sp.polygamma(1, a32[c]) - sp.polygamma(1, n[c]))
    _mc_check((dx[1] / x)[:, c], -sp.polygamma(1, n[c]))


def test_kumaraswamy_draws_and_gradients():
    a, b = np.array([0.5, 2.0, 30.0, 1e-2, 1e-3]), np.array([2.0, 3.0, 0.5, 0.5, 1e4])
    x, dx = _mc(jdist.Kumaraswamy, a, b)
    a32, b32 = cast_like(a, np.float32), cast_like(b, np.float32)
    m1 = np.exp(np.log(b32) + sp.betaln(1 + 1 / a32, b32))
    m2 = np.exp(np.log(b32) + sp.betaln(1 + 2 / a32, b32))
    _check_draws(
        x,
        [_kuma_cdf(p, q) for p, q in zip(a32, b32, strict=True)],
        range(4),
        m1,
        m2 - m1**2,
        TOP_UNIT,
    )

    def mean(aa, bb):  # E[X] = b B(1 + 1/a, b)
        return np.exp(np.log(bb) + sp.betaln(1 + 1 / aa, bb))

    _mc_check(dx[0], _fd(lambda aa: mean(aa, b32), a32)[0])
    _mc_check(dx[1], _fd(lambda bb: mean(a32, bb), b32)[0])
    _kumaraswamy_per_sample(x, dx, a32, b32, np.float32)


def _kumaraswamy_per_sample(x, dx, a, b, dtype):
    info = np.finfo(dtype)
    ok = (x > info.tiny) & (x < 1 - info.epsneg)

    def ref_fn(x, which):
        log1m_xa = np.log1p(-np.power(x, a))
        pdf = np.exp(np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * log1m_xa)
        # F = 1 - (1 - x^a)^b, formed with expm1/log1p.
        if which == 0:
            d_f, d_err = _fd(
                lambda aa: -np.expm1(b * np.log1p(-np.power(x, aa))), np.broadcast_to(a, x.shape)
            )
        else:
            d_f, d_err = _fd(lambda bb: -np.expm1(bb * log1m_xa), np.broadcast_to(b, x.shape))
        with np.errstate(all="ignore"):
            return -d_f / pdf, d_err / pdf

    for which in (0, 1):
        ref = functools.partial(ref_fn, which=which)
        _per_sample_check(dx[which], ref, x, ok, dtype, f"Kumaraswamy d/dθ{which}", upper=1.0)


def test_student_t_draws_and_gradients():
    df, loc, scale = (
        np.array([0.5, 3.0, 30.0, 1e4, 2e-3]),  # df = 2e-3: most draws clamp at ±max
        np.array([0.0, 1.0, -2.0, 5.0, 0.0]),
        np.array([1.0, 0.5, 2.0, 3.0, 1.0]),
    )
    x, dx = _mc(jdist.StudentT, df, loc, scale)
    nu, l32, s32 = (cast_like(v, np.float32) for v in (df, loc, scale))
    ref = stats.t(nu, l32, s32)
    cdfs = [stats.t(*p).cdf for p in zip(nu, l32, s32, strict=True)][:4]
    _check_draws(x, cdfs, [2, 3], ref.mean(), ref.var())
    # E[log1p(T²/ν)] = ψ((ν+1)/2) - ψ(ν/2) for the standardized T (1/(1 + T²/ν) ~ Beta(ν/2, 1/2));
    # the pathwise derivative of log1p(z²/ν) includes its explicit dependence on ν.
    z, dz = ((x - l32) / s32)[:, :4], (dx[0] / s32)[:, :4]
    v = nu[:4]
    grad = (2 * z * dz / v - z**2 / v**2) / (1 + z**2 / v)
    _mc_check(grad, 0.5 * (sp.polygamma(1, (v + 1) / 2) - sp.polygamma(1, v / 2)))
    assert np.all(dx[1][:, :4] == 1.0)  # dx/dloc
    unclamped = np.abs(x) < float(np.finfo(np.float32).max) / 2
    assert_close(dx[2][unclamped], ((x - l32) / s32)[unclamped], np.float32, what="dx/dscale")


def test_fisher_snedecor_draws_and_gradients():
    # (1e-3, 1): most draws underflow and are clamped at the smallest normal float.
    d1, d2 = np.array([0.5, 3.0, 10.0, 1e3, 1e-3]), np.array([0.5, 5.0, 30.0, 1e3, 1.0])
    x, dx = _mc(jdist.FisherSnedecor, d1, d2)
    a, b = cast_like(d1, np.float32), cast_like(d2, np.float32)
    ref = stats.f(a, b)
    cdfs = [stats.f(p, q).cdf for p, q in zip(a, b, strict=True)]
    _check_draws(x, cdfs, [2, 3], ref.mean(), ref.var())
    # E[log X] = log(d2/d1) + ψ(d1/2) - ψ(d2/2) (columns without clamped draws).
    c = slice(0, 4)
    _mc_check((dx[0] / x)[:, c], (-1 / a + 0.5 * sp.polygamma(1, a / 2))[c])
    _mc_check((dx[1] / x)[:, c], (1 / b - 0.5 * sp.polygamma(1, b / 2))[c])


def test_per_sample_gradients_float64():
    """(a) at 16 draws per column in float64 (float32 is covered at 20,000 draws above):
    Gamma (both gradient regimes: series below α = 20, quadrature above) and Kumaraswamy."""
    with jax.enable_x64(True):
        _per_sample_gradients(np.float64)


def _per_sample_gradients(dtype):
    a = cast_like([1e-3, 0.3, 1.0, 7.5, 25.0, 150.0, 1e4, 3.0], dtype)
    rate = cast_like([1.0, 2.0, 0.5, 3.0, 1.0, 0.1, 1e-2, 1.0], dtype)
    x, dx = _pathwise(
        jdist.Gamma, (jnp.asarray(a, dtype), jnp.asarray(rate, dtype)), jax.random.key(1), 16
    )
    x, dx = np.asarray(x, np.float64), np.asarray(dx, np.float64)
    ok = x > np.finfo(dtype).tiny
    _per_sample_check(
        dx[0], lambda x: _gamma_implicit(a, rate * x, rate), x, ok, dtype, "Gamma dx/dα"
    )
    assert_close(dx[1][ok], (-x / rate)[ok], dtype, what="Gamma dx/dβ")
    ka, kb = cast_like(KUMA_A, dtype), cast_like(KUMA_B, dtype)
    x, dx = _pathwise(
        jdist.Kumaraswamy, (jnp.asarray(ka, dtype), jnp.asarray(kb, dtype)), jax.random.key(4), 16
    )
    _kumaraswamy_per_sample(np.asarray(x, np.float64), np.asarray(dx, np.float64), ka, kb, dtype)


@jax.jit
def _log_gamma_jvp(alpha):
    def draw(al):
        return log_standard_gamma(jax.random.key(5), al, al.shape, al.dtype)

    return jax.jvp(draw, (alpha,), (jnp.ones_like(alpha),))


def test_log_gamma_gradient_where_draws_underflow(dtype):
    """Concentration 1e-3: log x is far below log(tiny); d log x/dα against a 40-digit
    evaluation of -∂P(α, x)/∂α / (x p(x)) at x = exp(log x)."""
    alpha = jnp.full((12,), 1e-3, dtype)
    log_x, dlog_x = _log_gamma_jvp(alpha)
    log_x, dlog_x = np.asarray(log_x, np.float64), np.asarray(dlog_x, np.float64)
    a = mpmath.mpf(float(cast_like(1e-3, dtype)))
    ref = []
    for lx in log_x:
        xm = mpmath.exp(mpmath.mpf(lx))
        d_p = mpmath.diff(lambda al, xm=xm: mpmath.gammainc(al, 0, xm, regularized=True), a)
        x_pdf = mpmath.exp(a * mpmath.mpf(lx) - xm - mpmath.loggamma(a))
        ref.append(float(-d_p / x_pdf))
    assert np.min(log_x) < math.log(float(np.finfo(dtype).tiny))  # the regime under test
    assert_close(dlog_x, ref, dtype, what="d log x / dα")


def test_cdf_gradients_wrt_shape_parameters():
    """The incomplete gamma/beta evaluations are differentiable w.r.t. their shape parameters
    (JAX's betainc is not): against central differences of scipy (float64 only, to keep the
    test budget: the float32 path is the same code)."""
    with jax.enable_x64(True):
        _check_cdf_gradients(np.float64)


def _check_cdf_gradients(dtype):
    a = cast_like([0.3, 2.0, 150.0], dtype)
    b = cast_like([0.5, 3.0, 120.0], dtype)
    x = cast_like([0.2, 0.35, 0.55], dtype)
    y = cast_like([0.1, 1.5, 140.0], dtype)
    aj, bj = jnp.asarray(a, dtype), jnp.asarray(b, dtype)

    def total(a_, b_):
        return jnp.sum(jdist.Beta(a_, b_).cdf(jnp.asarray(x, dtype))) + jnp.sum(
            jdist.Gamma(a_, 1.0).log_cdf(jnp.asarray(y, dtype))
        )

    ga, gb = jax.grad(total, argnums=(0, 1))(aj, bj)
    for got, (want, err), what in [
        (ga, _fd(lambda t: sp.betainc(t, b, x) + np.log(sp.gammainc(t, y)), a, 1e-2), "d/da"),
        (gb, _fd(lambda t: sp.betainc(a, t, x), b, 1e-2), "d/db"),
    ]:
        got = np.asarray(got, np.float64)
        tol = ATOL[dtype] + RTOL[dtype] * np.abs(want) + 10 * err  # FD error estimate added
        assert np.all(np.abs(got - want) <= tol), (what, got, want, tol)


def test_log_tails_near_one_keep_relative_accuracy(dtype):
    """log Q or log(1 - tail) where the other tail is tiny: -1e-11 ... -1e-28, not 0."""
    tiny = float(cast_like(1e-30, dtype))
    cases = [
        (
            jdist.Gamma,
            (0.3, 1.0),
            "log_survival_function",
            tiny,
            lambda x: mpmath.log(mpmath.gammainc(0.3, 0, x, regularized=True) * -1 + 1),
        ),
        (
            jdist.InverseGamma,
            (0.7, 2.0),
            "log_cdf",
            1e30,
            lambda x: mpmath.log(1 - mpmath.gammainc(0.7, 0, 2 / x, regularized=True)),
        ),
        (
            jdist.StudentT,
            (30.0,),
            "log_cdf",
            40.0,
            lambda x: mpmath.log(1 - _mp_student_t_sf(30, x)),
        ),
    ]
    for family, params, member, x, reference in cases:
        d = family(*(jnp.asarray(v, dtype) for v in params))
        got = getattr(d, member)(jnp.asarray(x, dtype))
        x64 = float(cast_like(x, dtype))
        assert_close(got, float(reference(mpmath.mpf(x64))), dtype, rtol_scale=10.0, what=member)


def _mp_student_t_sf(df, t):
    """P(T > t) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2."""
    return mpmath.betainc(df / 2, 0.5, 0, df / (df + t * t), regularized=True) / 2
