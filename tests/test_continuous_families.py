"""Closed-form continuous families (Exponential, Laplace, Cauchy, HalfCauchy, HalfNormal,
LogNormal, Gumbel, Logistic, Pareto, Weibull, GeneralizedPareto, Deterministic).

References: densities, CDFs, survival functions and quantiles are the textbook formulas
evaluated in 80-digit ``mpmath`` (scipy's float64 formulas cancel in some tails, e.g.
``pareto.cdf = 1 - x**-b``); ``test_mpmath_reference_matches_scipy`` checks those formulas
against ``scipy.stats`` at ordinary points. Moments and entropies come from ``scipy.stats``.
Every check runs in float32 and float64, at ordinary and extreme parameters and far tails.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import special as sp
from scipy import stats

import jdist
from tests.conftest import RTOL, cast_like
from tests.stats_checks import ks_check, moments_check

INF = mp.inf


@pytest.fixture(autouse=True)
def _mp_precision():
    """80-digit references; mpmath's precision is global, so set it per test (a module-level
    setting would leak into, and be overridden by, other test modules)."""
    with mp.workdps(80):
        yield


@dataclasses.dataclass(frozen=True)
class Spec:
    """One family: parameters (parallel lists, batched into one distribution), the points
    to evaluate at, 80-digit reference formulas, and the scipy frozen distribution."""

    name: str
    make: Callable  # make(**params as jnp arrays) -> jdist distribution
    params: dict
    points: Callable  # points(**params as float64 arrays) -> (m, K) values
    logpdf: Callable  # mpmath scalar formulas of (x, **params)
    cdf: Callable
    sf: Callable
    ppf: Callable  # ppf(q, **params)
    scipy: Callable  # scipy(**params) -> frozen scipy.stats distribution
    mode: Callable  # closed-form mode, checked against scipy's density below
    # Location added last by the quantile function (its rounding bounds icdf's accuracy).
    shift: Callable = lambda **p: 0.0
    # The quantity u(x, **params) whose log the implementation takes first, where that
    # rounding (an ulp of log u) limits the accuracy: see _input_condition.
    log_arg: Callable | None = None

    def __repr__(self) -> str:
        return self.name


def _mlog(v):
    return mp.log(v) if v > 0 else -INF


def _log_tail(tail, other, x, p):
    """log(tail(x)) in mpmath, as log1p(-other(x)) where the tail is near 1 (there an
    80-digit tail would round to 1 and lose a log_cdf like -1e-138); float64 cdf/sf would
    underflow far out, hence the logs are taken here."""
    t = tail(x, **p)
    return _mlog(t) if t < 0.5 else mp.log1p(-other(x, **p))


def _z(x, loc, scale):
    return (mp.mpf(x) - loc) / scale


def _col(z):
    return np.asarray(z, np.float64)[:, None]


# ------------------------------------------------------------------ reference formulas
def _weibull_logpdf(x, scale, concentration):
    z, k = mp.mpf(x) / scale, mp.mpf(concentration)
    if z < 0:
        return -INF
    if z == 0:
        return mp.log(k / scale) if k == 1 else (INF if k < 1 else -INF)
    return mp.log(k / scale) + (k - 1) * mp.log(z) - z**k


def _gpd_hazard(z, xi):
    """-log sf for the standardized GPD (inf past the upper end, 0 below 0)."""
    if z <= 0:
        return mp.mpf(0)
    if xi == 0:
        return z
    if xi < 0 and z >= -1 / xi:
        return INF
    return mp.log1p(xi * z) / xi


def _gpd_logpdf(x, loc, scale, concentration):
    z, xi = _z(x, loc, scale), mp.mpf(concentration)
    if z < 0 or (xi < 0 and z > -1 / xi):
        return -INF
    if xi == 0:
        return -mp.log(scale) - z
    return -mp.log(scale) - (1 + 1 / xi) * mp.log1p(xi * z)


def _gpd_ppf(q, loc, scale, concentration):
    if q == 1:
        return loc - scale / concentration if concentration < 0 else INF
    xi, h = mp.mpf(concentration), -mp.log1p(-mp.mpf(q))
    return loc + scale * (h if xi == 0 else mp.expm1(xi * h) / xi)


SPECS = [
    Spec(
        "Exponential",
        lambda rate: jdist.Exponential(rate),
        dict(rate=[1e-6, 0.1, 1.0, 3.0, 1e6]),
        lambda rate: _col([-1.0, 0.0, 1e-8, 1e-3, 0.5, 1.0, 5.0, 30.0, 1e4]) / rate,
        lambda x, rate: mp.log(rate) - rate * x if x >= 0 else -INF,
        lambda x, rate: -mp.expm1(-rate * mp.mpf(x)) if x >= 0 else mp.mpf(0),
        lambda x, rate: mp.exp(-rate * mp.mpf(x)) if x >= 0 else mp.mpf(1),
        lambda q, rate: -mp.log1p(-mp.mpf(q)) / rate,
        lambda rate: stats.expon(scale=1 / rate),
        lambda rate: 0 * rate,
    ),
    Spec(
        "Laplace",
        lambda loc, scale: jdist.Laplace(loc, scale),
        dict(loc=[0.0, -3.0, 1e4, 2.0], scale=[1.0, 1e-3, 1e3, 1e-20]),
        lambda loc, scale: loc + scale * _col([-100, -5, -1, -1e-3, 0, 0.3, 2, 20, 100]),
        lambda x, loc, scale: -mp.log(2 * scale) - abs(_z(x, loc, scale)),
        lambda x, loc, scale: mp.exp(z) / 2 if (z := _z(x, loc, scale)) < 0 else 1 - mp.exp(-z) / 2,
        lambda x, loc, scale: mp.exp(-z) / 2 if (z := _z(x, loc, scale)) > 0 else 1 - mp.exp(z) / 2,
        lambda q, loc, scale: (
            loc + scale * mp.log(2 * mp.mpf(q))
            if q < 0.5
            else loc - scale * mp.log(2 * (1 - mp.mpf(q)))
        ),
        lambda loc, scale: stats.laplace(loc, scale),
        lambda loc, scale: loc + 0 * scale,
        shift=lambda loc, scale: loc,
    ),
    Spec(
        "Cauchy",
        lambda loc, scale: jdist.Cauchy(loc, scale),
        dict(loc=[0.0, 2.0, -1e3], scale=[1.0, 1e-4, 1e5]),
        lambda loc, scale: loc + scale * _col([-1e20, -1e6, -30, -1, 0, 0.5, 3, 1e4, 1e25]),
        lambda x, loc, scale: -mp.log(mp.pi * scale * (1 + _z(x, loc, scale) ** 2)),
        lambda x, loc, scale: mp.atan2(1, -_z(x, loc, scale)) / mp.pi,
        lambda x, loc, scale: mp.atan2(1, _z(x, loc, scale)) / mp.pi,
        lambda q, loc, scale: (
            loc + scale * mp.tan(mp.pi * (mp.mpf(q) - mp.mpf(0.5)))
            if 0 < q < 1
            else (q - 0.5) * INF
        ),
        lambda loc, scale: stats.cauchy(loc, scale),
        lambda loc, scale: loc + 0 * scale,
        shift=lambda loc, scale: loc,
    ),
    Spec(
        "HalfCauchy",
        lambda scale: jdist.HalfCauchy(scale),
        dict(scale=[1.0, 1e-10, 1e10]),
        lambda scale: scale * _col([-1.0, 0.0, 1e-8, 0.3, 1.0, 5.0, 1e5, 1e25]),
        lambda x, scale: (
            mp.log(2 / (mp.pi * scale * (1 + (mp.mpf(x) / scale) ** 2))) if x >= 0 else -INF
        ),
        lambda x, scale: 2 / mp.pi * mp.atan(mp.mpf(x) / scale) if x >= 0 else mp.mpf(0),
        lambda x, scale: 2 / mp.pi * mp.atan2(1, mp.mpf(x) / scale) if x >= 0 else mp.mpf(1),
        lambda q, scale: scale * mp.tan(mp.pi * mp.mpf(q) / 2) if q < 1 else INF,
        lambda scale: stats.halfcauchy(scale=scale),
        lambda scale: 0 * scale,
    ),
    Spec(
        "HalfNormal",
        lambda scale: jdist.HalfNormal(scale),
        dict(scale=[1.0, 1e-5, 1e5]),
        lambda scale: scale * _col([-1.0, 0.0, 1e-8, 0.5, 1.0, 3.0, 10.0, 40.0]),
        lambda x, scale: (
            mp.log(mp.sqrt(2 / mp.pi) / scale) - (mp.mpf(x) / scale) ** 2 / 2 if x >= 0 else -INF
        ),
        lambda x, scale: mp.erf(mp.mpf(x) / scale / mp.sqrt(2)) if x >= 0 else mp.mpf(0),
        lambda x, scale: mp.erfc(mp.mpf(x) / scale / mp.sqrt(2)) if x >= 0 else mp.mpf(1),
        lambda q, scale: scale * mp.sqrt(2) * mp.erfinv(mp.mpf(q)),
        lambda scale: stats.halfnorm(scale=scale),
        lambda scale: 0 * scale,
    ),
    Spec(
        "LogNormal",
        lambda loc, scale: jdist.LogNormal(loc, scale),
        dict(loc=[0.0, -3.0, 5.0, 0.5], scale=[1.0, 0.1, 3.0, 1e-3]),
        lambda loc, scale: np.concatenate(
            [_col([-1.0, 0.0]) + 0 * loc, np.exp(loc + scale * _col([-25, -8, -1, 0, 2, 9, 25]))]
        ),
        lambda x, loc, scale: (
            -((mp.log(x) - loc) ** 2) / (2 * scale**2) - mp.log(scale * x * mp.sqrt(2 * mp.pi))
            if x > 0
            else -INF
        ),
        lambda x, loc, scale: mp.ncdf((mp.log(x) - loc) / scale) if x > 0 else mp.mpf(0),
        lambda x, loc, scale: mp.ncdf(-(mp.log(x) - loc) / scale) if x > 0 else mp.mpf(1),
        lambda q, loc, scale: mp.exp(loc + scale * mp.sqrt(2) * mp.erfinv(2 * mp.mpf(q) - 1)),
        lambda loc, scale: stats.lognorm(s=scale, scale=np.exp(loc)),
        lambda loc, scale: np.exp(loc - scale**2),
        log_arg=lambda x, loc, scale: x,
    ),
    Spec(
        "Gumbel",
        lambda loc, scale: jdist.Gumbel(loc, scale),
        dict(loc=[0.0, -2.0, 100.0], scale=[1.0, 1e-3, 50.0]),
        lambda loc, scale: loc + scale * _col([-100, -20, -3, -1, 0, 1, 5, 30, 100]),
        lambda x, loc, scale: -mp.log(scale) - (z := _z(x, loc, scale)) - mp.exp(-z),
        lambda x, loc, scale: mp.exp(-mp.exp(-_z(x, loc, scale))),
        lambda x, loc, scale: -mp.expm1(-mp.exp(-_z(x, loc, scale))),
        lambda q, loc, scale: loc - scale * mp.log(-mp.log(mp.mpf(q))),
        lambda loc, scale: stats.gumbel_r(loc, scale),
        lambda loc, scale: loc + 0 * scale,
        shift=lambda loc, scale: loc,
    ),
    Spec(
        "Logistic",
        lambda loc, scale: jdist.Logistic(loc, scale),
        dict(loc=[0.0, 5.0, -1e3], scale=[1.0, 1e-3, 100.0]),
        lambda loc, scale: loc + scale * _col([-100, -30, -2, 0, 0.5, 3, 30, 100]),
        lambda x, loc, scale: -mp.log(scale) - (z := _z(x, loc, scale)) - 2 * mp.log1p(mp.exp(-z)),
        lambda x, loc, scale: 1 / (1 + mp.exp(-_z(x, loc, scale))),
        lambda x, loc, scale: 1 / (1 + mp.exp(_z(x, loc, scale))),
        lambda q, loc, scale: (
            loc + scale * mp.log(mp.mpf(q) / (1 - mp.mpf(q))) if 0 < q < 1 else (q - 0.5) * INF
        ),
        lambda loc, scale: stats.logistic(loc, scale),
        lambda loc, scale: loc + 0 * scale,
        shift=lambda loc, scale: loc,
    ),
    Spec(
        "Pareto",
        lambda scale, alpha: jdist.Pareto(scale, alpha),
        dict(scale=[1.0, 1e-3, 1e3, 2.0], alpha=[3.0, 0.5, 50.0, 1.5]),
        lambda scale, alpha: scale * _col([0.5, 1.0, 1 + 1e-6, 1.01, 2.0, 10.0, 1e3, 1e10]),
        lambda x, scale, alpha: (
            mp.log(alpha) + alpha * mp.log(scale) - (alpha + 1) * mp.log(x) if x >= scale else -INF
        ),
        lambda x, scale, alpha: (
            -mp.expm1(-alpha * mp.log(mp.mpf(x) / scale)) if x >= scale else mp.mpf(0)
        ),
        lambda x, scale, alpha: (mp.mpf(scale) / x) ** alpha if x >= scale else mp.mpf(1),
        lambda q, scale, alpha: scale * (1 - mp.mpf(q)) ** (-1 / mp.mpf(alpha)) if q < 1 else INF,
        lambda scale, alpha: stats.pareto(b=alpha, scale=scale),
        lambda scale, alpha: scale + 0 * alpha,
    ),
    Spec(
        "Weibull",
        lambda scale, concentration: jdist.Weibull(scale, concentration),
        dict(scale=[1.0, 1e-3, 1e3, 2.0, 1.0], concentration=[0.1, 50.0, 1.0, 2.0, 0.5]),
        lambda scale, concentration: (
            scale * _col([-1.0, 0.0, 1e-6, 0.01, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0])
        ),
        _weibull_logpdf,
        lambda x, scale, concentration: (
            -mp.expm1(-((mp.mpf(x) / scale) ** concentration)) if x >= 0 else mp.mpf(0)
        ),
        lambda x, scale, concentration: (
            mp.exp(-((mp.mpf(x) / scale) ** concentration)) if x >= 0 else mp.mpf(1)
        ),
        lambda q, scale, concentration: (
            scale * (-mp.log1p(-mp.mpf(q))) ** (1 / mp.mpf(concentration))
        ),
        lambda scale, concentration: stats.weibull_min(c=concentration, scale=scale),
        lambda scale, concentration: np.where(
            concentration > 1,
            scale * (np.maximum(concentration - 1, 0) / concentration) ** (1 / concentration),
            0.0,
        ),
        log_arg=lambda x, scale, concentration: x / scale,
    ),
    Spec(
        "GeneralizedPareto",
        lambda loc, scale, concentration: jdist.GeneralizedPareto(loc, scale, concentration),
        dict(
            loc=[0.0, 1.0, -5.0, 0.0, 2.0, 0.0, 0.5, 0.0],
            scale=[1.0, 0.5, 2.0, 1e-3, 1e3, 1.0, 3.0, 1.0],
            concentration=[0.0, 0.3, -0.4, 1e-9, 2.0, -1.0, -1e-7, -1.5],
        ),
        lambda loc, scale, concentration: (
            loc + scale * _col([-1.0, 0.0, 1e-8, 0.1, 0.9, 2.4, 10.0, 1e4])
        ),
        _gpd_logpdf,
        lambda x, loc, scale, concentration: (
            -mp.expm1(-_gpd_hazard(_z(x, loc, scale), mp.mpf(concentration)))
        ),
        lambda x, loc, scale, concentration: mp.exp(
            -_gpd_hazard(_z(x, loc, scale), mp.mpf(concentration))
        ),
        _gpd_ppf,
        lambda loc, scale, concentration: stats.genpareto(c=concentration, loc=loc, scale=scale),
        lambda loc, scale, concentration: np.where(
            concentration < -1, loc - scale / np.minimum(concentration, -1.0), loc
        ),
        shift=lambda loc, scale, concentration: loc,
    ),
]
SPEC_IDS = [s.name for s in SPECS]
BY_NAME = {s.name: s for s in SPECS}
QUANTILES = np.array([0.0, 1e-30, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1.0])[:, None]


def _params(spec, dtype):
    """Parameters rounded to ``dtype``: float64 arrays and the matching jnp arrays."""
    p64 = {k: cast_like(v, dtype) for k, v in spec.params.items()}
    return p64, {k: jnp.asarray(v, dtype) for k, v in p64.items()}


def _mp_eval(f, x, p64):
    """Apply an mpmath formula elementwise over broadcast (x, params); float64 result
    (NaN where x is NaN, without calling f)."""
    x = np.asarray(x, np.float64)
    shape = np.broadcast_shapes(x.shape, *(np.shape(v) for v in p64.values()))
    xb = np.broadcast_to(x, shape)
    pb = {k: np.broadcast_to(v, shape) for k, v in p64.items()}
    out = np.empty(shape)
    for idx in np.ndindex(shape):
        if np.isnan(xb[idx]):
            out[idx] = np.nan
            continue
        out[idx] = float(f(float(xb[idx]), **{k: mp.mpf(float(v[idx])) for k, v in pb.items()}))
    return out


def _input_condition(spec, f, x, p64, dtype):
    """Tolerance scale for a member ``f`` of a family whose implementation starts from
    ``log u`` (``spec.log_arg``; 1 otherwise).

    Rounding ``log u`` to an ulp is a relative perturbation of ``x`` of up to
    ``eps (1 + |log u|)``, amplified by the relative condition number ``|x f'(x) / f(x)|``
    of ``f``; no algorithm that rounds ``log u`` can do better. The tolerance gets room
    for two such ulps on top of RTOL: ``1 + 2 eps κ / RTOL``.
    """
    if spec.log_arg is None:
        return 1.0

    def kappa(v, **p):
        value = f(v, **p)
        if not v > 0 or value == 0 or not mp.isfinite(value):
            return 0.0
        slope = mp.diff(lambda t: f(t, **p), mp.mpf(v))
        log_u = mp.log(spec.log_arg(mp.mpf(v), **p))
        return (1 + abs(log_u)) * abs(v * slope / value)

    eps = np.finfo(dtype).eps
    return 1.0 + 2.0 * eps * _mp_eval(kappa, x, p64) / RTOL[dtype]


def _check(actual, expected, dtype, what, rtol_scale=1.0):
    """|actual - expected| <= RTOL |expected| (relative only: tails such as log_cdf(x) ≈ -1e-20
    must keep their digits), against the reference rounded to ``dtype`` (so a float64
    value that overflows float32, e.g. Gumbel log_cdf(-100) = -e^100, is expected as -inf
    there). Reference values below the smallest normal number are compared absolutely."""
    with np.errstate(over="ignore", under="ignore"):
        expected = np.asarray(expected, np.float64).astype(dtype).astype(np.float64)
    actual = np.asarray(actual, np.float64)
    actual, expected = np.broadcast_arrays(actual, expected)
    assert not np.any(np.isnan(actual)), f"{what}: NaN in {actual}"
    with np.errstate(invalid="ignore"):
        err = np.abs(actual - expected)
    tiny = np.finfo(dtype).tiny
    ok = (actual == expected) | (err <= RTOL[dtype] * rtol_scale * np.abs(expected))
    ok |= (np.abs(expected) < tiny) & (err <= tiny)
    assert np.all(ok), (
        f"{what}: relative error {(err / np.abs(expected))[~ok][:5]} at "
        f"actual={actual[~ok][:5]} expected={expected[~ok][:5]}"
    )


GRAD_QUANTILES = np.array([1e-6, 0.05, 0.5, 0.95, 1 - 1e-6])[:, None]
_GRADIENT_MEMBERS = ("log_prob", "log_cdf", "log_survival_function")


@jax.jit
def _evaluate(d, x, q):
    """Every member at once, under one jit (op-by-op dispatch would dominate the runtime).

    The parameters are expanded to ``x.shape``, so each point has its own copy and one
    reverse pass gives all per-point partial derivatives: a pass each for log_prob,
    log_cdf and log_survival_function, and one for the sum of all other members. Each
    pass puts cotangent 0 on infinite entries, which must not poison the rest with
    ``0 · inf = NaN`` (separate passes, so that one member's zero cotangents do not meet
    another's infinite partials, e.g. Weibull log_prob = inf at 0 for k < 1). ``mean`` is
    None where it raises NotImplementedError (Cauchy). ``prob`` and ``stddev`` (derived by
    the base from log_prob and variance) stay out of the passes; the derivative of
    ``stddev = sqrt(variance)`` is infinite where the variance underflows to 0 (Laplace
    scale 1e-20 in float32).
    """

    def members(dist):
        out = {
            "cdf": dist.cdf(x),
            "survival_function": dist.survival_function(x),
            "icdf": dist.icdf(q),
            "mode": dist.mode,
            "variance": dist.variance,
            "entropy": dist.entropy(),
        }
        try:
            out["mean"] = dist.mean
        except NotImplementedError:
            out["mean"] = None
        return out

    def finite(v):
        return jnp.isfinite(v).astype(v.dtype)

    expanded = d.expand(x.shape)
    values, grads = {"stddev": d.stddev, "prob": expanded.prob(x)}, {}
    for m in _GRADIENT_MEMBERS:
        values[m], pullback = jax.vjp(lambda dist, m=m: getattr(dist, m)(x), expanded)
        (grads[m],) = pullback(finite(values[m]))
    others, pullback = jax.vjp(members, expanded)
    (grads["others"],) = pullback(jax.tree.map(finite, others))
    return {**values, **others}, grads


@functools.cache
def _evaluated(name, dtype):
    """Evaluate a family once per dtype (the three tests below share it): parameters,
    reference points, gradient points (quantiles GRAD_QUANTILES), icdf inputs, member
    values and per-point gradients, all as float64 numpy arrays."""
    spec = BY_NAME[name]
    p64, pj = _params(spec, dtype)
    d = spec.make(**pj)
    x_ref = cast_like(spec.points(**p64), dtype)
    x_grad = cast_like(_mp_eval(spec.ppf, GRAD_QUANTILES, p64), dtype)
    x = np.concatenate([x_ref, x_grad])
    q = cast_like(np.resize(QUANTILES[:, 0], x.shape[0])[:, None], dtype)
    values, grads = _evaluate(d, jnp.asarray(x, dtype), jnp.asarray(q, dtype))
    values = {k: None if v is None else np.asarray(v, np.float64) for k, v in values.items()}
    grads = {
        m: {n: np.asarray(getattr(g, n), np.float64) for n in d._param_names}
        for m, g in grads.items()
    }
    return p64, x_ref, x_grad, q, values, grads


# --------------------------------------------------------------- reference comparison
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_members_against_reference(spec, dtype):
    p64, x, _, q, got, _ = _evaluated(spec.name, dtype)
    rows = slice(0, x.shape[0])
    formulas = {
        "log_prob": spec.logpdf,
        "prob": lambda v, **p: mp.exp(spec.logpdf(v, **p)),
        "cdf": spec.cdf,
        "survival_function": spec.sf,
        "log_cdf": lambda v, **p: _log_tail(spec.cdf, spec.sf, v, p),
        "log_survival_function": lambda v, **p: _log_tail(spec.sf, spec.cdf, v, p),
    }
    for what, formula in formulas.items():
        scale = _input_condition(spec, formula, x, p64, dtype)
        _check(got[what][rows], _mp_eval(formula, x, p64), dtype, what, rtol_scale=scale)

    # icdf: the quantile is ill-conditioned where the density is small; scale the tolerance
    # by its condition number min(q, 1 - q) / (|x| pdf(x)) (q and 1 - q are both exact
    # inputs: the algorithms work with whichever tail is small), at least 1. Errors are
    # relative to max(|x|, |loc|) as x = loc + (...) is rounded at that magnitude; results
    # below the smallest normal number are compared absolutely (flush to zero).
    xq = _mp_eval(spec.ppf, q, p64)
    got_q = got["icdf"]
    with np.errstate(all="ignore"):
        pdf_q = np.exp(_mp_eval(spec.logpdf, xq, p64))
        cond = np.minimum(q, 1 - q) / (np.abs(xq) * pdf_q)
    cond = np.where(np.isfinite(cond), np.maximum(cond, 1.0), 1.0)
    finite = np.isfinite(xq)
    assert np.all(got_q[~finite] == xq[~finite]), ("icdf at the ends", got_q, xq)
    with np.errstate(invalid="ignore"):
        err = np.abs(got_q - xq)
    size = np.maximum(np.abs(xq), np.abs(spec.shift(**p64)))
    ok = (err <= 10 * RTOL[dtype] * cond * size) | (err <= np.finfo(dtype).tiny)
    bad = finite & ~ok
    assert not np.any(bad), ("icdf", err[bad] / size[bad], cond[bad], q[np.any(bad, axis=1)])

    ref = spec.scipy(**p64)
    with np.errstate(all="ignore"):
        mean, var = (np.asarray(m, np.float64) for m in ref.stats("mv"))
    var = np.where(np.isnan(var), np.inf, var)  # scipy: nan where the variance diverges
    if spec.name == "Cauchy":
        assert got["mean"] is None  # raised NotImplementedError (checked separately)
    else:
        _check(got["mean"][0], mean, dtype, "mean")
    _check(got["variance"][0], var, dtype, "variance")
    # The base derives stddev as sqrt(variance): where the variance is subnormal in `dtype`
    # (Laplace scale 1e-20 in float32) it is flushed to 0, and so is the stddev.
    normal_var = ~(var < np.finfo(dtype).tiny)
    _check(got["stddev"][normal_var], np.sqrt(var)[normal_var], dtype, "stddev")
    _check(got["entropy"][0], ref.entropy(), dtype, "entropy")
    mode = np.broadcast_to(spec.mode(**p64), var.shape)
    _check(got["mode"][0], mode, dtype, "mode")
    # The mode maximizes scipy's density locally (independent of the closed form above).
    with np.errstate(all="ignore"):
        at = ref.logpdf(mode)
        for step in (1e-4, -1e-4):
            assert np.all(at >= ref.logpdf(mode + step * (1 + np.abs(mode))) - 1e-9), step


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_mpmath_reference_matches_scipy(spec):
    """The 80-digit reference formulas agree with scipy.stats at ordinary points."""
    p64 = {k: np.asarray(v, np.float64) for k, v in spec.params.items()}
    ref = spec.scipy(**p64)
    q = np.array([0.05, 0.3, 0.5, 0.8, 0.95])[:, None]
    x = ref.ppf(q)
    np.testing.assert_allclose(_mp_eval(spec.logpdf, x, p64), ref.logpdf(x), rtol=1e-7)
    np.testing.assert_allclose(_mp_eval(spec.cdf, x, p64), ref.cdf(x), rtol=1e-7)
    np.testing.assert_allclose(_mp_eval(spec.sf, x, p64), ref.sf(x), rtol=1e-7)
    np.testing.assert_allclose(_mp_eval(spec.ppf, q, p64), x, rtol=1e-7)


def test_cauchy_mean_is_undefined():
    d = jdist.Cauchy(0.0, 1.0)
    with pytest.raises(NotImplementedError, match="mean is undefined"):
        d.mean  # noqa: B018
    assert d.variance == np.inf and d.stddev == np.inf


# ------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_parameter_gradients_against_reference(spec, dtype):
    """Gradients of log_prob / log_cdf / log_sf w.r.t. every parameter, at the spec's
    (extreme) parameters and quantiles 1e-6 ... 1 - 1e-6, against 80-digit derivatives."""
    p64, x_ref, x, _, _, grads = _evaluated(spec.name, dtype)
    rows = slice(x_ref.shape[0], None)
    formulas = {
        "log_prob": spec.logpdf,
        "log_cdf": lambda v, **p: _log_tail(spec.cdf, spec.sf, v, p),
        "log_survival_function": lambda v, **p: _log_tail(spec.sf, spec.cdf, v, p),
    }
    # Skip x rounded onto an end of the support (there the member is infinite or has only
    # one-sided derivatives).
    lower, upper = (np.broadcast_to(b, x.shape) for b in spec.scipy(**p64).support())
    interior = (x != lower) & (x != upper)
    for member, formula in formulas.items():
        member_value = _mp_eval(formula, x, p64)
        finite = interior & np.isfinite(member_value)
        for name in p64:

            def partial(v, f=formula, name=name, **p):
                return mp.diff(lambda t: f(v, **{**p, name: t}), p[name])

            value = grads[member][name][rows]
            expected = _mp_eval(partial, np.where(finite, x, np.nan), p64)
            # The derivative is a sum of terms of the size of member / parameter, which
            # cancel where it is small (e.g. d/dscale log_prob = 0 at the HalfCauchy's
            # z = 1): the members' tolerance is taken relative to the larger of the two,
            # with 10x room for the extra roundings of the derivative.
            param = np.where(p64[name] == 0, 1.0, np.abs(p64[name]))
            size = np.maximum(np.abs(expected), np.abs(member_value) / param)
            scale = _input_condition(spec, partial, x, p64, dtype) if spec.log_arg else 1.0
            with np.errstate(invalid="ignore"):
                ok = ~finite | (np.abs(value - expected) <= 10 * RTOL[dtype] * scale * size)
            assert np.all(ok), (name, member, value[~ok], expected[~ok])


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_no_nan_values_or_gradients_anywhere(spec, dtype):
    """At the extreme parameters, far tails (Exponential log_sf at 1e4, Gumbel / Logistic
    at ±100 scales, LogNormal at ±25 sigma, Weibull with concentration 0.1 and 50, ...),
    support ends and outside the support: no member is NaN and no gradient is NaN."""
    *_, values, grads = _evaluated(spec.name, dtype)
    for name, value in values.items():
        assert value is None or not np.any(np.isnan(value)), (name, value)
    for member, per_param in grads.items():
        for name, grad in per_param.items():
            assert not np.any(np.isnan(grad)), (member, name, np.argwhere(np.isnan(grad)))


# ----------------------------------------------------------------- samplers, rsample
# Parameters for the goodness-of-fit tests (shape extremes and tiny/huge scales)...
SAMPLER_PARAMS = {
    "Exponential": dict(rate=[1e-6, 1.0, 1e6]),
    "Laplace": dict(loc=[0.0, -3.0], scale=[1.0, 1e-3]),
    "Cauchy": dict(loc=[0.0, 2.0], scale=[1.0, 1e-4]),
    "HalfCauchy": dict(scale=[1.0, 1e-10, 1e10]),
    "HalfNormal": dict(scale=[1.0, 1e-5, 1e5]),
    "LogNormal": dict(loc=[0.0, -3.0, 5.0], scale=[1.0, 0.1, 3.0]),
    "Gumbel": dict(loc=[0.0, 100.0], scale=[1.0, 50.0]),
    "Logistic": dict(loc=[0.0, 5.0], scale=[1.0, 1e-3]),
    "Pareto": dict(scale=[1.0, 1e-3, 2.0], alpha=[5.0, 0.5, 50.0]),
    "Weibull": dict(scale=[1.0, 1e-3, 2.0], concentration=[0.1, 50.0, 1.5]),
    "GeneralizedPareto": dict(
        loc=[0.0, 1.0, -5.0, 0.0], scale=[1.0, 0.5, 2.0, 1.0], concentration=[0.0, 0.3, -0.4, -1.0]
    ),
}

# ...and for the pathwise gradients: (params, f, {θ: d/dθ E[f(X)] in closed form}), with
# f chosen so that E f(X) is finite and the per-sample derivatives have finite variance.
RSAMPLE = {
    "Exponential": (dict(rate=[0.5, 2.0]), lambda x: x, dict(rate=lambda rate: -1 / rate**2)),
    "Laplace": (  # E x² = loc² + 2 scale²
        dict(loc=[0.5, -1.0], scale=[1.0, 2.0]),
        jnp.square,
        dict(scale=lambda loc, scale: 4 * scale, loc=lambda loc, scale: 2 * loc),
    ),
    # E log(1 + X²) = 2 E log|X + i| = log(loc² + (scale + 1)²): log|z + i| is harmonic in
    # the upper half-plane, where the Cauchy density is its Poisson kernel.
    "Cauchy": (
        dict(loc=[0.5, -1.0], scale=[1.0, 2.0]),
        lambda x: jnp.log1p(x * x),
        dict(
            scale=lambda loc, scale: 2 * (scale + 1) / (loc**2 + (scale + 1) ** 2),
            loc=lambda loc, scale: 2 * loc / (loc**2 + (scale + 1) ** 2),
        ),
    ),
    "HalfCauchy": (  # E log(1 + X²) = 2 log(1 + scale), as for the Cauchy
        dict(scale=[1.0, 3.0]),
        lambda x: jnp.log1p(x * x),
        dict(scale=lambda scale: 2 / (scale + 1)),
    ),
    "HalfNormal": (
        dict(scale=[1.0, 3.0]),
        lambda x: x,
        dict(scale=lambda scale: np.sqrt(2 / np.pi) + 0 * scale),
    ),
    "LogNormal": (
        dict(loc=[0.0, 0.5], scale=[0.5, 1.0]),
        lambda x: x,
        dict(
            scale=lambda loc, scale: scale * np.exp(loc + scale**2 / 2),
            loc=lambda loc, scale: np.exp(loc + scale**2 / 2),
        ),
    ),
    "Gumbel": (
        dict(loc=[0.0, 3.0], scale=[1.0, 2.0]),
        lambda x: x,
        dict(
            scale=lambda loc, scale: np.euler_gamma + 0 * scale, loc=lambda loc, scale: 1 + 0 * loc
        ),
    ),
    "Logistic": (  # E x² = loc² + scale² π²/3
        dict(loc=[0.0, 3.0], scale=[1.0, 2.0]),
        jnp.square,
        dict(scale=lambda loc, scale: 2 * scale * np.pi**2 / 3, loc=lambda loc, scale: 2 * loc),
    ),
    "Pareto": (
        dict(scale=[1.0, 2.0], alpha=[5.0, 8.0]),
        lambda x: x,
        dict(
            alpha=lambda scale, alpha: -scale / (alpha - 1) ** 2,
            scale=lambda scale, alpha: alpha / (alpha - 1),
        ),
    ),
    "Weibull": (
        dict(scale=[1.0, 2.0, 1.0], concentration=[0.7, 2.0, 50.0]),
        lambda x: x,
        dict(
            concentration=lambda scale, concentration: (
                -scale
                * sp.gamma(1 + 1 / concentration)
                * sp.psi(1 + 1 / concentration)
                / concentration**2
            ),
            scale=lambda scale, concentration: sp.gamma(1 + 1 / concentration),
        ),
    ),
    "GeneralizedPareto": (
        dict(loc=[0.0, 1.0, 0.0], scale=[1.0, 2.0, 1.0], concentration=[-0.3, 0.0, 0.2]),
        lambda x: x,
        dict(
            concentration=lambda loc, scale, concentration: scale / (1 - concentration) ** 2,
            scale=lambda loc, scale, concentration: 1 / (1 - concentration),
            loc=lambda loc, scale, concentration: 1 + 0 * loc,
        ),
    ),
}
N_SAMPLES = 20_000


@functools.partial(jax.jit, static_argnums=2)
def _draw(d, key, f):
    """``sample(key, (N,))`` and the per-sample pathwise derivatives of ``f(rsample)``
    w.r.t. every parameter (parameters expanded to one copy per draw, one reverse pass)."""
    samples = d.sample(key, (N_SAMPLES,))
    expanded = d.expand((N_SAMPLES,) + d.batch_shape)
    grads = jax.grad(lambda dist: jnp.sum(f(dist.rsample(key))))(expanded)
    return samples, grads


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_sampler_and_rsample_gradients(spec, dtype):
    """Samples pass a Kolmogorov-Smirnov test and match the mean and variance; the mean of
    the per-sample derivatives of f(rsample) is within 5 standard errors of the closed form
    d/dθ E[f(X)] for every parameter θ."""
    rs_params, f, closed_forms = RSAMPLE[spec.name]
    n_ks = len(next(iter(SAMPLER_PARAMS[spec.name].values())))
    params = {
        k: cast_like(np.concatenate([SAMPLER_PARAMS[spec.name][k], rs_params[k]]), dtype)
        for k in rs_params
    }
    d = spec.make(**{k: jnp.asarray(v, dtype) for k, v in params.items()})
    samples, grads = _draw(d, jax.random.key(11), f)
    assert samples.dtype == dtype and samples.shape == (N_SAMPLES,) + d.batch_shape
    samples = np.asarray(samples, np.float64)
    for i in range(d.batch_shape[0]):
        ref = spec.scipy(**{k: v[i] for k, v in params.items()})
        ks_check(samples[:, i], ref.cdf)
        mean, var, kurtosis = (float(m) for m in ref.stats("mvk"))
        # The sample variance's standard error needs a finite, moderate fourth moment.
        if np.isfinite(kurtosis) and kurtosis < 50:
            moments_check(samples[:, i : i + 1], mean, var)
    rs = {k: v[n_ks:] for k, v in params.items()}
    for name, closed_form in closed_forms.items():
        g = np.asarray(getattr(grads, name), np.float64)[:, n_ks:]
        assert np.all(np.isfinite(g)), name
        se = g.std(0) / np.sqrt(N_SAMPLES)
        want = closed_form(**rs)
        assert np.all(np.abs(g.mean(0) - want) < 5 * se + 1e-6 * np.abs(want)), (
            name,
            g.mean(0),
            want,
            se,
        )


# ---------------------------------------------------------------- supports, dtypes
def test_parameter_dependent_supports():
    pareto = jdist.Pareto(jnp.asarray([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(pareto.support.check(jnp.asarray([0.99, 2.0])), [False, True])
    gpd = jdist.GeneralizedPareto(1.0, 2.0, jnp.asarray([-0.5, 0.0, 0.5]))  # ends 5, inf, inf
    check = gpd.support.check(jnp.asarray([[5.0, 1e30, 1e30], [5.001, 0.999, 1.0]]))
    np.testing.assert_array_equal(check, [[True, True, True], [False, False, True]])
    np.testing.assert_array_equal(gpd.log_prob(jnp.asarray([5.001, 0.999, 0.999])), -np.inf)
    np.testing.assert_array_equal(gpd.cdf(jnp.asarray([5.001, 0.999, 0.999])), [1.0, 0.0, 0.0])
    strict = jdist.GeneralizedPareto(1.0, 2.0, -0.5, validate_args=True)
    with pytest.raises(ValueError, match="support"):
        strict.log_prob(6.0)
    with pytest.raises(ValueError, match="support"):
        jdist.Pareto(1.0, 3.0, validate_args=True).log_prob(0.5)
    with pytest.raises(ValueError, match="alpha"):
        jdist.Pareto(1.0, -3.0, validate_args=True)


def test_python_scalar_parameters_are_weak():
    """Python-float parameters are weakly typed: alone they give the default float dtype
    (float64 under x64); next to a float32 array they never upgrade it, even under x64."""
    key = jax.random.key(0)

    @jax.jit
    def draw(dists):
        out = []
        for d in dists:
            x = d.sample(key, (2,))
            out.append((x, d.log_prob(x), d.entropy(), d.batch_shape))
        return out

    with jax.enable_x64(True):
        for array_dtype in (jnp.float32, None):
            dists = []
            for spec in SPECS:
                first = {k: float(v[0]) for k, v in spec.params.items()}
                name = next(iter(first))
                if array_dtype is not None:
                    first[name] = jnp.asarray(first[name], array_dtype)
                dists.append(spec.make(**first))
            want = array_dtype or jnp.float64
            for spec, (x, lp, h, batch) in zip(SPECS, draw(dists), strict=True):
                assert batch == () and x.shape == (2,), spec.name
                assert x.dtype == lp.dtype == want, (spec.name, x.dtype, lp.dtype)
                # An entropy depending only on Python-float parameters (Laplace: scale) is a
                # weakly typed scalar: it adopts the dtype of whatever it meets.
                assert h.dtype == want or h.weak_type, (spec.name, h.dtype)


# --------------------------------------------------------------------- Deterministic
def test_deterministic(dtype):
    value = jnp.asarray([0.5, -2.0, 1e30], dtype)
    d = jdist.Deterministic(value)
    hit = value[None] + jnp.zeros((2, 1), dtype)
    miss = jnp.asarray([0.4, -1.0, -1e30], dtype)
    np.testing.assert_array_equal(d.log_prob(hit), 0.0)
    np.testing.assert_array_equal(d.log_prob(miss), -np.inf)
    np.testing.assert_array_equal(d.prob(miss), 0.0)
    np.testing.assert_array_equal(d.cdf(miss), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(d.cdf(value), 1.0)
    np.testing.assert_array_equal(d.log_cdf(miss), [-np.inf, 0.0, -np.inf])
    np.testing.assert_array_equal(d.survival_function(miss), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(d.survival_function(value), 0.0)
    np.testing.assert_array_equal(d.log_survival_function(miss), [0.0, -np.inf, 0.0])
    q = jnp.asarray([[0.0], [0.3], [1.0]], dtype)
    np.testing.assert_array_equal(d.icdf(q), np.broadcast_to(value, (3, 3)))
    for member in (d.mean, d.mode):
        np.testing.assert_array_equal(member, value)
    for member in (d.variance, d.stddev, d.entropy()):
        np.testing.assert_array_equal(member, 0.0)
        assert member.dtype == dtype
    x = d.sample(jax.random.key(0), (4,))
    assert x.dtype == dtype
    np.testing.assert_array_equal(x, np.broadcast_to(value, (4, 3)))
    assert d.log_prob(x).dtype == dtype
    # rsample is the identity in `value`: gradient 1 per draw.
    g = jax.grad(lambda v: jnp.sum(jdist.Deterministic(v).rsample(jax.random.key(1), (5,))))(value)
    np.testing.assert_array_equal(g, 5.0)
    np.testing.assert_array_equal(
        jax.jacfwd(lambda v: jdist.Deterministic(v).rsample(jax.random.key(1)))(value),
        np.eye(3),
    )
    np.testing.assert_array_equal(d.support.check(miss), False)
    with pytest.raises(ValueError, match="support"):
        jdist.Deterministic(value, validate_args=True).log_prob(miss)
    assert d.expand((2, 3)).batch_shape == (2, 3)
    # Integer values: float samples, log_prob accepts integers.
    di = jdist.Deterministic(jnp.asarray([1, 2]))
    assert jnp.issubdtype(di.sample(jax.random.key(0)).dtype, jnp.floating)
    np.testing.assert_array_equal(di.log_prob(jnp.asarray([1, 3])), [0.0, -np.inf])
