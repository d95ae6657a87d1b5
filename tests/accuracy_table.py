"""Accuracy table of jdist's univariate families against high-precision references (issue 3).

Run from the repository root::

    python -m tests.accuracy_table            # prints the table, writes docs/accuracy.md
    python -m tests.accuracy_table --no-write # prints only
    python -m tests.accuracy_table --family Gamma --family Beta

For each univariate family it finds which members of DESIGN §2 the family implements (calling the
member does not raise ``NotImplementedError``) and measures each member's largest relative error
``|got - ref| / |ref|`` against a reference, in float32 and float64, over ordinary and
extreme-but-valid parameters and points (far tails included). Parameters and points are rounded
to the dtype first and the reference is computed at the rounded values, so the error measured is
jdist's own. It measures and asserts nothing: pytest does not collect it (no ``test_`` prefix);
the pass/fail checks live in the test modules whose grids and reference formulas it imports.

The method (grids, references, condition numbers) is written into the report: see ``METHOD``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import pathlib
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
from scipy import special as sp
from scipy import stats

import jdist
from tests import test_continuous_families as tcf
from tests import test_delicate_families as tdl
from tests import test_discrete_families as tdf
from tests import test_gamma_family as tgf
from tests import test_reference as tref
from tests.conftest import cast_like

MEMBERS = (
    "log_prob",
    "prob",
    "cdf",
    "log_cdf",
    "survival_function",
    "log_survival_function",
    "icdf",
    "mean",
    "mode",
    "variance",
    "stddev",
    "entropy",
    "enumerate_support",
)
VALUE_MEMBERS = MEMBERS[:6]
DTYPES = (np.float32, np.float64)
DTYPE_NAMES = {np.float32: "f32", np.float64: "f64"}
EPS = {t: float(np.finfo(t).eps) for t in DTYPES}
# The brief's bar for an accuracy bug, away from ill-conditioned points...
BUG_THRESHOLD = {np.float32: 1e-4, np.float64: 1e-9}
# ...where "ill-conditioned" means: the error is within ULPS·eps·(1 + κ), κ the condition number.
ULPS = 100
# Condition numbers are estimated at the TOP_K worst points of each (family, member, dtype) and
# at every point whose error exceeds ULPS·eps (at most MAX_CONDITIONED of those).
TOP_K = 3
MAX_CONDITIONED = 30
QUANTILES = tcf.QUANTILES  # 0, 1e-30, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1
INF = mp.inf
PI = math.pi


# =========================================================================== reference helpers
def _mp_ref(formula, dps=40):
    """Reference from a scalar mpmath formula ``formula(v, **params)``, elementwise over the
    broadcast (values, parameters) at ``dps`` digits (``v`` is 0 for parameter-only members)."""

    def ref(v, p):
        with mp.workdps(dps):
            return tcf._mp_eval(formula, 0.0 if v is None else v, p)

    return ref


def _mp_moment(formula, dps=40):
    """Reference from a scalar mpmath formula of the parameters only."""
    return _mp_ref(lambda _v, **p: formula(**p), dps)


def _sqrt_of(ref):
    """stddev = sqrt(variance) from a variance reference (NaN stays NaN, inf stays inf)."""
    return lambda v, p: np.sqrt(ref(v, p))


def _scipy_ref(frozen, method):
    """``getattr(frozen(**params), method)(v)`` (or ``()`` for parameter-only members)."""

    def ref(v, p):
        with np.errstate(all="ignore"):
            f = getattr(frozen(**p), method)
            return np.asarray(f() if v is None else f(v), np.float64)

    return ref


def _mlog(v):
    return mp.log(v) if v > 0 else -INF


def _xlog(k, log_v):
    """k · log v with 0 · (-inf) = 0."""
    return mp.mpf(0) if k == 0 else k * log_v


def _log1pexp(v):
    return mp.log1p(mp.exp(v))


def _log_pq(probs=None, logits=None):
    """(log p, log(1 - p)) from ``probs`` or ``logits`` at the working precision."""
    if logits is not None:
        return -_log1pexp(-logits), -_log1pexp(logits)
    return _mlog(probs), (mp.log1p(-probs) if probs < 1 else -INF)


@functools.cache
def _gamma_pq(a, x):
    """Regularized incomplete gamma (P(a, x), Q(a, x)) at 40 digits: the smaller of the two
    computed directly (mpmath's series for P fails to converge for x >> a ~ 1e6), the other as
    its complement; scipy where mpmath fails."""
    with mp.workdps(40):
        a, x = mp.mpf(a), mp.mpf(x)
        if x <= 0:
            return mp.mpf(0), mp.mpf(1)
        if x == INF:
            return mp.mpf(1), mp.mpf(0)
        try:
            if x < a:
                lower = mp.gammainc(a, 0, x, regularized=True)
                return lower, 1 - lower
            upper = mp.gammainc(a, x, INF, regularized=True)
            return 1 - upper, upper
        except (mp.libmp.NoConvergence, ValueError):
            fa, fx = float(a), float(x)
            return mp.mpf(sp.gammainc(fa, fx)), mp.mpf(sp.gammaincc(fa, fx))


def _beta_cf(a, b, x, y):
    """I_x(a, b) for x < (a + 1) / (a + b + 2), y = 1 - x, by its continued fraction (DLMF
    8.17.22; modified Lentz), which converges in O(sqrt(max(a, b))) steps there."""
    tiny = mp.mpf(10) ** (-(mp.mp.dps + 50))
    eps = mp.mpf(10) ** (-mp.mp.dps)
    c, d = mp.mpf(1), 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 200_000):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    else:
        raise mp.libmp.NoConvergence("incomplete beta continued fraction")
    log_front = a * mp.log(x) + b * mp.log(y) - mp.log(a) - _lbeta(a, b)
    return mp.exp(log_front) * h


@functools.cache
def _beta_i(a, b, x, y):
    """Regularized incomplete beta (I_x(a, b), I_y(b, a) = 1 - I_x(a, b)), y = 1 - x.

    The smaller of ``x``, ``y`` is taken as given (callers form it without cancellation) and
    the other is recomputed from it with enough digits to be exact; both tails are then
    computed directly (no ``1 - tail`` cancellation) at 40 digits beyond that. Where both
    shapes exceed 500 (Binomial n = 1e6, Beta(1e4, 1e4)) mpmath's betainc does not converge:
    there the tail below the continued fraction's switch point comes from
    :func:`_beta_cf` and the other tail, at least ~1/2, as its complement."""
    small = min(mp.mpf(x), mp.mpf(y))
    if small <= 0:
        return (mp.mpf(0), mp.mpf(1)) if x <= 0 else (mp.mpf(1), mp.mpf(0))
    extra = max(0, int(-mp.log10(small)))
    with mp.workdps(40 + extra):
        a, b = mp.mpf(a), mp.mpf(b)
        if x <= y:
            x = mp.mpf(x)
            y = 1 - x
        else:
            y = mp.mpf(y)
            x = 1 - y
        if min(a, b) <= 500:
            try:
                lower = mp.betainc(a, b, 0, x, regularized=True)
                return lower, mp.betainc(b, a, 0, y, regularized=True)
            except (mp.libmp.NoConvergence, ValueError):
                pass
        try:
            if x < (a + 1) / (a + b + 2):
                lower = _beta_cf(a, b, x, y)
                return lower, 1 - lower
            upper = _beta_cf(b, a, y, x)
            return 1 - upper, upper
        except mp.libmp.NoConvergence:
            fa, fb, fx, fy = (float(v) for v in (a, b, x, y))
        return mp.mpf(sp.betainc(fa, fb, fx)), mp.mpf(sp.betainc(fb, fa, fy))


def _tails(pair, member):
    """cdf / sf / log_cdf / log_sf from a (lower, upper) pair of tail probabilities."""
    lower, upper = pair
    if member == "cdf":
        return lower
    if member == "survival_function":
        return upper
    # The log of a probability near 1 from its (directly computed, small) complement: at 40
    # digits, log(1 - 1e-36) keeps 4 digits.
    value, other = (lower, upper) if member == "log_cdf" else (upper, lower)
    return mp.log1p(-other) if other < value else _mlog(value)


def _tail_refs(pair_of, dps=40):
    """The four CDF members from ``pair_of(x, **params) -> (lower, upper)`` (mpmath)."""
    return {
        m: _mp_ref(lambda x, m=m, **p: _tails(pair_of(x, **p), m), dps)
        for m in ("cdf", "survival_function", "log_cdf", "log_survival_function")
    }


def _density_refs(logpdf, dps=40):
    return {
        "log_prob": _mp_ref(logpdf, dps),
        "prob": _mp_ref(lambda x, **p: mp.exp(logpdf(x, **p)), dps),
    }


def _moment_refs(mean=None, variance=None, entropy=None, mode=None, dps=40):
    out = {}
    for name, f in (("mean", mean), ("variance", variance), ("entropy", entropy), ("mode", mode)):
        if f is not None:
            out[name] = _mp_moment(f, dps)
    if variance is not None:
        out["stddev"] = _sqrt_of(out["variance"])
    return out


def _discrete_entropy(log_pmf, lo, hi, max_terms=5000):
    """-Σ_{k=lo}^{hi} p_k log p_k at the working precision: term by term over up to ``max_terms``
    points; over wider windows (a pmf smooth on the scale of its width, >~ 100) by the
    Euler–Maclaurin formula, whose derivative terms vanish with the summand at both ends (far in
    the tails): the integral of the analytic continuation (loggamma) plus the end-point halves."""

    def g(k):
        lp = log_pmf(k)
        return -mp.exp(lp) * lp if lp > -INF else mp.mpf(0)

    lo, hi = max(0, math.floor(lo)), math.ceil(hi)
    head = min(hi, lo + max_terms)
    total = mp.fsum(g(mp.mpf(k)) for k in range(lo, head + 1))
    if head == hi:
        return total
    # Sum over k >= a = head + 1 = integral + g(a)/2 - g'(a)/12 + g^(3)(a)/720 - ..., with g and
    # its derivatives negligible at the far end; a is max_terms past the start, where the pmf
    # varies on a scale of at least sqrt(max_terms).
    a = mp.mpf(head + 1)
    nodes = [mp.mpf(v) for v in np.linspace(head + 1, hi, 41)]
    corrections = g(a) / 2 - mp.diff(g, a, 1) / 12 + mp.diff(g, a, 3) / 720
    return total + mp.quad(g, nodes) + corrections


# =============================================================================== the cases
@dataclasses.dataclass
class Case:
    """One family (or one parameterization of it) on one grid of parameters and points.

    ``params``: name -> float64 array ``(K,)`` (``(K, n)`` for Categorical), before rounding.
    ``points(p, dtype)``: ``(m, K)`` evaluation points from the rounded parameters.
    ``refs``: member -> ``ref(v, p)``, elementwise over broadcast values ``v`` (points for the
    densities and CDFs, quantile levels for ``icdf``, ``None`` for moments) and parameters.
    """

    family: str
    label: str
    make: Callable
    params: dict
    points: Callable
    refs: dict
    quantiles: np.ndarray = dataclasses.field(default_factory=lambda: QUANTILES)
    discrete: bool = False  # integer points: no condition number in the value
    exact: tuple = ()  # parameters that are exact counts: no condition number in them
    integer_members: tuple = ()  # integer-valued members: no condition number at all
    log_arg: Callable | None = None  # see tcf.Spec.log_arg
    enum: Callable | None = None  # enum(p) -> (distribution, expected enumerate_support)
    jit: bool = True  # evaluate all members under one jit (else eagerly)
    vector_params: bool = False  # parameters with an event axis: no condition number


def _rows(x):
    return np.asarray(x, np.float64)[:, None]


# ------------------------------------------------------------------ Normal, Uniform (scipy)
def _normal():
    loc = np.concatenate([np.atleast_1d(np.asarray(d["loc"], float)) for d in tref.NORMAL_PARAMS])
    scale = np.concatenate(
        [np.atleast_1d(np.asarray(d["scale"], float)) for d in tref.NORMAL_PARAMS]
    )

    def frozen(loc, scale):
        return stats.norm(loc, scale)

    methods = dict(
        log_prob="logpdf",
        prob="pdf",
        cdf="cdf",
        log_cdf="logcdf",
        survival_function="sf",
        log_survival_function="logsf",
        icdf="ppf",
        mean="mean",
        variance="var",
        stddev="std",
        entropy="entropy",
    )
    refs = {m: _scipy_ref(frozen, s) for m, s in methods.items()}
    refs["mode"] = lambda v, p: p["loc"] + 0 * p["scale"]
    return Case(
        "Normal",
        "loc, scale",
        lambda loc, scale: jdist.Normal(loc, scale),
        dict(loc=loc, scale=scale),
        lambda p, dtype: p["loc"] + tref.NORMAL_X * p["scale"],
        refs,
    )


def _uniform():
    # tests/test_reference.py's test_uniform_against_scipy parameters, side by side.
    low = np.array([0.0, -2.0, 1e-3, -1e6, 5.0])
    high = np.array([1.0, 3.0, 2e-3, 1e6, 5.0 + 1e-4])

    def frozen(low, high):
        return stats.uniform(low, high - low)  # exact: high - low of rounded values, float64

    methods = dict(
        log_prob="logpdf",
        prob="pdf",
        cdf="cdf",
        log_cdf="logcdf",
        survival_function="sf",
        log_survival_function="logsf",
        icdf="ppf",
        mean="mean",
        variance="var",
        stddev="std",
        entropy="entropy",
    )
    refs = {m: _scipy_ref(frozen, s) for m, s in methods.items()}
    t = _rows([-0.5, 0.0, 1e-6, 0.25, 0.5, 0.99, 1.0, 1.5])
    return Case(
        "Uniform",
        "low, high",
        lambda low, high: jdist.Uniform(low, high),
        dict(low=low, high=high),
        lambda p, dtype: p["low"] + t * (p["high"] - p["low"]),
        refs,
    )


# ------------------------------------------------------------------ Bernoulli, Categorical
def _bernoulli(param):
    values = {
        "probs": np.array([0.0, 1e-6, 0.3, 0.5, 0.999, 1.0]),  # tests/test_reference.py
        "logits": np.array([-200.0, -30.0, -1.0, 0.0, 2.5, 30.0, 200.0]),
    }[param]

    def logs(**p):
        return _log_pq(**p)

    def log_prob(x, **p):
        lp1, lp0 = logs(**p)
        return lp1 if x == 1 else lp0

    def entropy(**p):
        return -sum(mp.exp(v) * v for v in logs(**p) if v > -INF)

    def mode(**p):
        lp1, lp0 = logs(**p)
        return mp.mpf(1) if lp1 > lp0 else (mp.mpf(0) if lp1 < lp0 else mp.nan)

    refs = {
        **_density_refs(log_prob),
        **_moment_refs(
            mean=lambda **p: mp.exp(logs(**p)[0]),
            variance=lambda **p: mp.exp(sum(logs(**p))),
            entropy=entropy,
            mode=mode,
        ),
    }

    def enum(p):
        d = jdist.Bernoulli(**{param: jnp.asarray(p[param])})
        return d, np.broadcast_to(_rows([0.0, 1.0]), (2,) + p[param].shape)

    return Case(
        "Bernoulli",
        param,
        lambda **p: jdist.Bernoulli(**p),
        {param: values},
        lambda p, dtype: np.broadcast_to(_rows([0.0, 1.0]), (2, len(values))),
        refs,
        discrete=True,
        integer_members=("mode",),
        enum=enum,
    )


def _categorical(param):
    """Four categories; rows are batch elements (unnormalized weights, zero weights, ties,
    masked logits, logits 250 apart)."""
    values = {
        "probs": np.array(
            [
                [0.1, 0.2, 0.3, 0.4],
                [1e-30, 0.5, 0.5, 1e-20],
                [0.25, 0.25, 0.25, 0.25],
                [1.0, 2.0, 3.0, 4.0],
                [0.7, 0.2, 0.1, 0.0],
            ]
        ),
        "logits": np.array(
            [
                [0.0, 1.0, 2.0, 3.0],
                [-200.0, 0.0, 50.0, 3.0],
                [-np.inf, 1.0, 2.0, -np.inf],
                [1e-3, 2e-3, 0.0, -1e-3],
                [30.0, -30.0, 0.0, 5.0],
            ]
        ),
    }[param]
    n = values.shape[1]

    def log_probs(row):
        with mp.workdps(40):
            v = [mp.mpf(float(t)) for t in row]
            if param == "probs":
                total = mp.fsum(v)
                return [_mlog(t / total) for t in v]
            finite = [t for t in v if t > -INF]
            top = max(finite)
            lse = top + mp.log(mp.fsum(mp.exp(t - top) for t in finite))
            return [t - lse for t in v]

    def per_column(f):
        def ref(v, p):
            rows = p[param]
            cols = []
            for j in range(rows.shape[0]):
                with mp.workdps(40):
                    cols.append(f(log_probs(rows[j]), None if v is None else v[:, j]))
            return np.asarray(cols, np.float64).T

        return ref

    def value_ref(transform):
        def f(lp, ks):
            return [float(transform(lp[int(k)] if 0 <= k < n else -INF)) for k in ks]

        return per_column(f)

    def moment(f):
        return per_column(lambda lp, _: float(f(lp)))

    def mean(lp):
        return mp.fsum(k * mp.exp(t) for k, t in enumerate(lp))

    def variance(lp):
        m = mean(lp)
        return mp.fsum((k - m) ** 2 * mp.exp(t) for k, t in enumerate(lp))

    def mode(lp):
        best = max(lp)
        return lp.index(best) if lp.count(best) == 1 else mp.nan

    refs = {
        "log_prob": value_ref(lambda t: t),
        "prob": value_ref(lambda t: mp.exp(t)),
        "mean": moment(mean),
        "variance": moment(variance),
        "stddev": moment(lambda lp: mp.sqrt(variance(lp))),
        "entropy": moment(lambda lp: -mp.fsum(mp.exp(t) * t for t in lp if t > -INF)),
        "mode": moment(mode),
    }

    def enum(p):
        d = jdist.Categorical(**{param: jnp.asarray(p[param])})
        return d, np.broadcast_to(_rows(np.arange(n)), (n, p[param].shape[0]))

    return Case(
        "Categorical",
        param,
        lambda **p: jdist.Categorical(**p),
        {param: values},
        lambda p, dtype: np.broadcast_to(_rows(np.arange(n)), (n, values.shape[0])),
        refs,
        discrete=True,
        integer_members=("mode",),
        enum=enum,
        vector_params=True,
    )


# -------------------------------------------- closed-form families (tests/test_continuous_...)
_EULER = mp.euler
SPEC_MOMENTS = {  # (mean, variance, entropy): textbook closed forms, evaluated at 80 digits
    "Exponential": (
        lambda rate: 1 / rate,
        lambda rate: 1 / rate**2,
        lambda rate: 1 - mp.log(rate),
    ),
    "Laplace": (
        lambda loc, scale: loc,
        lambda loc, scale: 2 * scale**2,
        lambda loc, scale: 1 + mp.log(2 * scale),
    ),
    "Cauchy": (
        lambda loc, scale: mp.nan,
        lambda loc, scale: INF,
        lambda loc, scale: mp.log(4 * mp.pi * scale),
    ),
    "HalfCauchy": (
        lambda scale: INF,
        lambda scale: INF,
        lambda scale: mp.log(2 * mp.pi * scale),
    ),
    "HalfNormal": (
        lambda scale: scale * mp.sqrt(2 / mp.pi),
        lambda scale: scale**2 * (1 - 2 / mp.pi),
        lambda scale: mp.log(mp.pi * scale**2 / 2) / 2 + mp.mpf(1) / 2,
    ),
    "LogNormal": (
        lambda loc, scale: mp.exp(loc + scale**2 / 2),
        lambda loc, scale: mp.expm1(scale**2) * mp.exp(2 * loc + scale**2),
        lambda loc, scale: loc + mp.mpf(1) / 2 + mp.log(2 * mp.pi * scale**2) / 2,
    ),
    "Gumbel": (
        lambda loc, scale: loc + _EULER * scale,
        lambda loc, scale: (mp.pi * scale) ** 2 / 6,
        lambda loc, scale: mp.log(scale) + _EULER + 1,
    ),
    "Logistic": (
        lambda loc, scale: loc,
        lambda loc, scale: (mp.pi * scale) ** 2 / 3,
        lambda loc, scale: mp.log(scale) + 2,
    ),
    "Pareto": (
        lambda scale, alpha: alpha * scale / (alpha - 1) if alpha > 1 else INF,
        lambda scale, alpha: (
            scale**2 * alpha / ((alpha - 1) ** 2 * (alpha - 2)) if alpha > 2 else INF
        ),
        lambda scale, alpha: mp.log(scale / alpha) + 1 + 1 / alpha,
    ),
    "Weibull": (
        lambda scale, concentration: scale * mp.gamma(1 + 1 / concentration),
        lambda scale, concentration: (
            scale**2 * (mp.gamma(1 + 2 / concentration) - mp.gamma(1 + 1 / concentration) ** 2)
        ),
        lambda scale, concentration: (
            _EULER * (1 - 1 / concentration) + mp.log(scale / concentration) + 1
        ),
    ),
    "GeneralizedPareto": (
        lambda loc, scale, concentration: (
            loc + scale / (1 - concentration) if concentration < 1 else INF
        ),
        lambda loc, scale, concentration: (
            scale**2 / ((1 - concentration) ** 2 * (1 - 2 * concentration))
            if concentration < 0.5
            else INF
        ),
        lambda loc, scale, concentration: mp.log(scale) + concentration + 1,
    ),
}


def _spec_case(spec):
    mean, variance, entropy = SPEC_MOMENTS[spec.name]
    refs = {
        **_density_refs(spec.logpdf, 80),
        "cdf": _mp_ref(spec.cdf, 80),
        "survival_function": _mp_ref(spec.sf, 80),
        "log_cdf": _mp_ref(lambda v, **p: tcf._log_tail(spec.cdf, spec.sf, v, p), 80),
        "log_survival_function": _mp_ref(lambda v, **p: tcf._log_tail(spec.sf, spec.cdf, v, p), 80),
        "icdf": _mp_ref(spec.ppf, 80),
        **_moment_refs(mean=mean, variance=variance, entropy=entropy, dps=80),
        "mode": lambda v, p: np.asarray(spec.mode(**p), np.float64) + 0 * sum(p.values()),
    }
    return Case(
        spec.name,
        ", ".join(spec.params),
        spec.make,
        {k: np.asarray(v, np.float64) for k, v in spec.params.items()},
        lambda p, dtype: spec.points(**p),
        refs,
        log_arg=spec.log_arg,
    )


def _deterministic():
    value = np.array([0.5, -2.0, 1e30, 0.0, -1e-30, 7.0])
    # Rows: the value itself, and misses just below / above it.
    offsets = _rows([0.0, -0.25, 0.25])

    def hit(v, p):
        return np.asarray(v, np.float64) == p["value"]

    def below(v, p):
        return np.asarray(v, np.float64) < p["value"]

    refs = {
        "log_prob": lambda v, p: np.where(hit(v, p), 0.0, -np.inf),
        "prob": lambda v, p: np.where(hit(v, p), 1.0, 0.0),
        "cdf": lambda v, p: np.where(below(v, p), 0.0, 1.0),
        "log_cdf": lambda v, p: np.where(below(v, p), -np.inf, 0.0),
        "survival_function": lambda v, p: np.where(below(v, p), 1.0, 0.0),
        "log_survival_function": lambda v, p: np.where(below(v, p), 0.0, -np.inf),
        "icdf": lambda v, p: np.asarray(v, np.float64) * 0 + p["value"],
        "mean": lambda v, p: p["value"],
        "mode": lambda v, p: p["value"],
        "variance": lambda v, p: 0 * p["value"],
        "stddev": lambda v, p: 0 * p["value"],
        "entropy": lambda v, p: 0 * p["value"],
    }
    return Case(
        "Deterministic",
        "value",
        lambda value: jdist.Deterministic(value),
        dict(value=value),
        lambda p, dtype: p["value"] + offsets * np.maximum(1.0, np.abs(p["value"])),
        refs,
    )


# ------------------------------------------------ gamma / beta families (tests/test_gamma_...)
def _gamma_points(frozen):
    def points(p, dtype):
        cols = list(p.values())
        return tgf._points(frozen(**p), cols, dtype, tgf.LOWER_Q, tgf.UPPER_Q)

    return points


def _gamma_log_prob(x, concentration, rate):
    a, r = concentration, rate
    if x < 0:
        return -INF
    if x == 0:
        return INF if a < 1 else (mp.log(r) if a == 1 else -INF)
    return a * mp.log(r) + (a - 1) * mp.log(x) - r * x - mp.loggamma(a)


def _gamma():
    def entropy(concentration, rate):
        a = concentration
        return a - mp.log(rate) + mp.loggamma(a) + (1 - a) * mp.digamma(a)

    refs = {
        **_density_refs(_gamma_log_prob),
        **_tail_refs(lambda x, concentration, rate: _gamma_pq(concentration, rate * x)),
        **_moment_refs(
            mean=lambda concentration, rate: concentration / rate,
            variance=lambda concentration, rate: concentration / rate**2,
            entropy=entropy,
            mode=lambda concentration, rate: max(concentration - 1, 0) / rate,
        ),
    }
    return Case(
        "Gamma",
        "concentration, rate",
        lambda concentration, rate: jdist.Gamma(concentration, rate),
        dict(concentration=tgf.GAMMA_A, rate=tgf.GAMMA_RATE),
        _gamma_points(lambda concentration, rate: stats.gamma(concentration, scale=1 / rate)),
        refs,
        jit=False,
    )


def _chi2():
    def log_prob(x, df):
        return _gamma_log_prob(x, df / 2, mp.mpf(1) / 2)

    def entropy(df):
        a = df / 2
        return a + mp.log(2) + mp.loggamma(a) + (1 - a) * mp.digamma(a)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(lambda x, df: _gamma_pq(df / 2, mp.mpf(x) / 2)),
        **_moment_refs(
            mean=lambda df: df,
            variance=lambda df: 2 * df,
            entropy=entropy,
            mode=lambda df: max(df - 2, 0),
        ),
    }
    # tests/test_gamma_family.py: test_chi2_against_scipy's df.
    df = np.array([2e-3, 0.6, 2.0, 15.0, 300.0, 2e4, 1.0, 60.0])
    return Case(
        "Chi2",
        "df",
        lambda df: jdist.Chi2(df),
        dict(df=df),
        _gamma_points(lambda df: stats.chi2(df)),
        refs,
        jit=False,
    )


def _inverse_gamma():
    def log_prob(x, concentration, rate):
        a, r = concentration, rate
        if x <= 0:
            return -INF
        return a * mp.log(r) - mp.loggamma(a) - (a + 1) * mp.log(x) - r / x

    def pair(x, concentration, rate):
        lower, upper = _gamma_pq(concentration, rate / mp.mpf(x))
        return upper, lower  # X <= x  <=>  Y = rate / X >= rate / x

    def entropy(concentration, rate):
        a = concentration
        return a + mp.log(rate) + mp.loggamma(a) - (1 + a) * mp.digamma(a)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda concentration, rate: (
                rate / (concentration - 1) if concentration > 1 else INF
            ),
            variance=lambda concentration, rate: (
                rate**2 / ((concentration - 1) ** 2 * (concentration - 2))
                if concentration > 2
                else INF
            ),
            entropy=entropy,
            mode=lambda concentration, rate: rate / (concentration + 1),
        ),
    }
    # tests/test_gamma_family.py: test_inverse_gamma_against_scipy's parameters.
    a = np.array([1e-3, 0.7, 1.5, 3.0, 150.0, 1e4, 2.5, 0.05])
    rate = np.array([1.0, 2.0, 0.5, 1.0, 10.0, 1e4, 0.1, 3.0])
    return Case(
        "InverseGamma",
        "concentration, rate",
        lambda concentration, rate: jdist.InverseGamma(concentration, rate),
        dict(concentration=a, rate=rate),
        _gamma_points(lambda concentration, rate: stats.invgamma(concentration, scale=rate)),
        refs,
        jit=False,
    )


def _lbeta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def _beta():
    def log_prob(x, concentration1, concentration0):
        a, b, x = concentration1, concentration0, mp.mpf(x)
        if not 0 < x < 1:
            return -INF  # the points stay inside (0, 1)
        return (a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - _lbeta(a, b)

    def pair(x, concentration1, concentration0):
        return _beta_i(concentration1, concentration0, x, 1 - mp.mpf(x))

    def entropy(concentration1, concentration0):
        a, b = concentration1, concentration0
        return (
            _lbeta(a, b)
            - (a - 1) * mp.digamma(a)
            - (b - 1) * mp.digamma(b)
            + (a + b - 2) * mp.digamma(a + b)
        )

    def mode(concentration1, concentration0):
        a, b = concentration1, concentration0
        if a > 1 and b > 1:
            return (a - 1) / (a + b - 2)
        if a <= 1 < b:
            return mp.mpf(0)
        if b <= 1 < a:
            return mp.mpf(1)
        return mp.nan  # both <= 1: bimodal at the ends, or uniform

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda concentration1, concentration0: (
                concentration1 / (concentration1 + concentration0)
            ),
            variance=lambda concentration1, concentration0: (
                concentration1
                * concentration0
                / ((concentration1 + concentration0) ** 2 * (concentration1 + concentration0 + 1))
            ),
            entropy=entropy,
            mode=mode,
        ),
    }

    def points(p, dtype):
        a, b = p["concentration1"], p["concentration0"]
        hi = 1 - float(np.finfo(dtype).epsneg)
        return tgf._points(stats.beta(a, b), [a, b], dtype, tgf.LOWER_Q, tgf.UPPER_Q, hi=hi)

    return Case(
        "Beta",
        "concentration1, concentration0",
        lambda concentration1, concentration0: jdist.Beta(concentration1, concentration0),
        dict(concentration1=tgf.BETA_A, concentration0=tgf.BETA_B),
        points,
        refs,
        jit=False,
    )


def _kumaraswamy():
    # F(x) = 1 - (1 - x^a)^b, formed with log1p/expm1 at 40 digits (tgf._mp_kuma's 1 - sf
    # keeps only 40 - 30 digits of a cdf of 1e-30).
    def log_sf(x, a, b):
        return b * mp.log1p(-(mp.mpf(x) ** a))

    def log_prob(x, concentration1, concentration0):
        a, b, x = concentration1, concentration0, mp.mpf(x)
        if not 0 < x < 1:
            return -INF
        return mp.log(a * b) + (a - 1) * mp.log(x) + (b - 1) * mp.log1p(-(x**a))

    def pair(x, concentration1, concentration0):
        s = log_sf(x, concentration1, concentration0)
        return -mp.expm1(s), mp.exp(s)

    def icdf(u, concentration1, concentration0):
        a, b, u = concentration1, concentration0, mp.mpf(u)
        if u >= 1:
            return mp.mpf(1)
        return (-mp.expm1(mp.log1p(-u) / b)) ** (1 / a)

    def mode(concentration1, concentration0):
        a, b = concentration1, concentration0
        if a >= 1 and b >= 1:
            return ((a - 1) / (a * b - 1)) ** (1 / a) if a * b > 1 else mp.nan
        if a < 1 <= b:
            return mp.mpf(0)
        if b < 1 <= a:
            return mp.mpf(1)
        return mp.nan  # both < 1: bimodal at the ends

    def entropy(concentration1, concentration0):
        a, b = concentration1, concentration0
        harmonic_b = mp.digamma(b + 1) + _EULER
        return (1 - 1 / b) + (1 - 1 / a) * harmonic_b - mp.log(a * b)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        "icdf": _mp_ref(icdf),
        **_moment_refs(
            mean=lambda concentration1, concentration0: tgf._mp_kuma_moment(
                concentration1, concentration0, 1
            ),
            variance=lambda concentration1, concentration0: (
                tgf._mp_kuma_moment(concentration1, concentration0, 2)
                - tgf._mp_kuma_moment(concentration1, concentration0, 1) ** 2
            ),
            entropy=entropy,
            mode=mode,
        ),
    }

    def points(p, dtype):
        # tests/test_gamma_family.py: quantiles of the closed-form icdf, clipped inside (0, 1).
        q = _rows([1e-30, 1e-6, 0.01, 0.3, 0.5, 0.9, 1 - 1e-6])
        x = _mp_ref(icdf)(q, p)
        info = np.finfo(dtype)
        return np.clip(x, info.tiny * 16, 1 - info.epsneg)

    return Case(
        "Kumaraswamy",
        "concentration1, concentration0",
        lambda concentration1, concentration0: jdist.Kumaraswamy(concentration1, concentration0),
        dict(concentration1=tgf.KUMA_A, concentration0=tgf.KUMA_B),
        points,
        refs,
        jit=False,
    )


def _student_t():
    def log_prob(x, df, loc, scale):
        t = (mp.mpf(x) - loc) / scale
        return (
            mp.loggamma((df + 1) / 2)
            - mp.loggamma(df / 2)
            - mp.log(df * mp.pi) / 2
            - mp.log(scale)
            - (df + 1) / 2 * mp.log1p(t * t / df)
        )

    def pair(x, df, loc, scale):
        t = (mp.mpf(x) - loc) / scale
        if t == 0:
            return mp.mpf(1) / 2, mp.mpf(1) / 2
        # P(T < -|t|) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2, with the complement t²/(ν+t²) exact.
        u, w = df / (df + t * t), t * t / (df + t * t)
        tail, rest = _beta_i(df / 2, mp.mpf(1) / 2, u, w)
        tail, other = tail / 2, rest / 2 + mp.mpf(1) / 2
        return (tail, other) if t < 0 else (other, tail)

    def mean(df, loc, scale):
        return loc if df > 1 else mp.nan

    def variance(df, loc, scale):
        if df <= 1:
            return mp.nan
        return scale**2 * df / (df - 2) if df > 2 else INF

    def entropy(df, loc, scale):
        h = (df + 1) / 2
        return (
            h * (mp.digamma(h) - mp.digamma(df / 2))
            + mp.log(mp.sqrt(df) * mp.beta(df / 2, mp.mpf(1) / 2))
            + mp.log(scale)
        )

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=mean, variance=variance, entropy=entropy, mode=lambda df, loc, scale: loc
        ),
    }
    return Case(
        "StudentT",
        "df, loc, scale",
        lambda df, loc, scale: jdist.StudentT(df, loc, scale),
        dict(df=tgf.T_DF, loc=tgf.T_LOC, scale=tgf.T_SCALE),
        lambda p, dtype: p["loc"] + tgf.T_STD * p["scale"],
        refs,
        jit=False,
    )


def _fisher_snedecor():
    def log_prob(x, df1, df2):
        x = mp.mpf(x)
        if x <= 0:
            return -INF
        return (
            df1 / 2 * mp.log(df1 * x)
            + df2 / 2 * mp.log(df2)
            - (df1 + df2) / 2 * mp.log(df1 * x + df2)
            - mp.log(x)
            - _lbeta(df1 / 2, df2 / 2)
        )

    def pair(x, df1, df2):
        x = mp.mpf(x)
        return _beta_i(df1 / 2, df2 / 2, df1 * x / (df1 * x + df2), df2 / (df1 * x + df2))

    def variance(df1, df2):
        if df2 <= 2:
            return mp.nan
        if df2 <= 4:
            return INF
        return 2 * df2**2 * (df1 + df2 - 2) / (df1 * (df2 - 2) ** 2 * (df2 - 4))

    def entropy(df1, df2):
        a, b = df1 / 2, df2 / 2
        return (
            mp.log(df2 / df1)
            + _lbeta(a, b)
            + (1 - a) * mp.digamma(a)
            - (1 + b) * mp.digamma(b)
            + (a + b) * mp.digamma(a + b)
        )

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda df1, df2: df2 / (df2 - 2) if df2 > 2 else INF,
            variance=variance,
            entropy=entropy,
            mode=lambda df1, df2: max(df1 - 2, 0) / df1 * df2 / (df2 + 2),
        ),
    }
    return Case(
        "FisherSnedecor",
        "df1, df2",
        lambda df1, df2: jdist.FisherSnedecor(df1, df2),
        dict(df1=tgf.F_D1, df2=tgf.F_D2),
        _gamma_points(lambda df1, df2: stats.f(df1, df2)),
        refs,
        jit=False,
    )


# ------------------------------------ VonMises, TruncatedNormal, ContinuousBernoulli (tdl)
@functools.cache
def _vm_cdf(x, loc, concentration):
    with mp.workdps(tdl.DPS):
        return tdl._vm_cdf(mp.mpf(x), mp.mpf(loc), mp.mpf(concentration))


def _von_mises():
    def pair(x, loc, concentration):
        # P(X > x) = P(-X < -x), -X ~ VonMises(-loc, κ): each tail by its own quadrature.
        if x >= PI:
            return mp.mpf(1), mp.mpf(0)
        if x <= -PI:
            return mp.mpf(0), mp.mpf(1)
        x, loc, k = float(x), float(loc), float(concentration)
        return _vm_cdf(x, loc, k), _vm_cdf(-x, -loc, k)

    refs = {
        **_density_refs(lambda x, loc, concentration: tdl._vm_log_prob(x, loc, concentration)),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda loc, concentration: loc,
            mode=lambda loc, concentration: loc,
            variance=lambda loc, concentration: 1 - tdl._vm_ratio(concentration),
            entropy=lambda loc, concentration: tdl._vm_entropy(concentration),
        ),
    }

    def points(p, dtype):
        # tests/test_delicate_families.py's points; rounding ±π to float32 leaves [-π, π]
        # (float32(π) > π): the ends are replaced by the nearest float32 inside.
        x = cast_like(tdl._vm_points(dtype), dtype)
        top = float(np.nextafter(dtype(PI), dtype(0))) if dtype(PI) > PI else PI
        return np.clip(x, -top, top)

    return Case(
        "VonMises",
        "loc, concentration",
        lambda loc, concentration: jdist.VonMises(loc, concentration),
        dict(loc=tdl.VM_LOC, concentration=tdl.VM_K),
        points,
        refs,
    )


def _tn_icdf(q, loc, scale, low, high):
    """The quantile at 40 digits: Newton's method on log F (q <= 1/2) or log(1 - F) (q > 1/2),
    which converges in the far tails too, from scipy's float64 quantile."""
    q = mp.mpf(q)
    if q <= 0:
        return low
    if q >= 1:
        return high
    upper = q > 0.5
    target = mp.log1p(-q) if upper else mp.log(q)
    with np.errstate(all="ignore"):
        f = [float(v) for v in (loc, scale, low, high)]
        x0 = stats.truncnorm.ppf(float(q), (f[2] - f[0]) / f[1], (f[3] - f[0]) / f[1], f[0], f[1])
    lo_f = f[2] if np.isfinite(f[2]) else f[0] - 50 * f[1]
    hi_f = f[3] if np.isfinite(f[3]) else f[0] + 50 * f[1]
    x = mp.mpf(float(x0)) if np.isfinite(x0) and lo_f < x0 < hi_f else mp.mpf((lo_f + hi_f) / 2)
    mid = (mp.mpf(lo_f) + mp.mpf(hi_f)) / 2
    for _ in range(100):
        log_tail = tdl._tn_log_cdf(x, loc, scale, low, high, survival=upper)
        if not mp.isfinite(log_tail):  # on an end of the window: step back inside
            x = (x + mid) / 2
            continue
        dens = mp.exp(tdl._tn_logpdf(x, loc, scale, low, high) - log_tail)
        step = (log_tail - target) / dens * (-1 if upper else 1)
        x_new = min(max(x - step, low), high)
        if abs(x_new - x) <= mp.mpf(10) ** (-35) * max(abs(x), scale):
            return x_new
        x = x_new
    return mp.nan


def _truncated_normal():
    names = ("loc", "scale", "low", "high")

    @functools.cache
    def moments(*p):
        with mp.workdps(tdl.DPS):
            return tdl._tn_moments(*(mp.mpf(v) for v in p))

    def moment(i):
        return lambda loc, scale, low, high: moments(
            float(loc), float(scale), float(low), float(high)
        )[i]

    refs = {
        **_density_refs(tdl._tn_logpdf),
        "cdf": _mp_ref(tdl._tn_cdf),
        "survival_function": _mp_ref(lambda x, **p: tdl._tn_cdf(x, **p, survival=True)),
        "log_cdf": _mp_ref(tdl._tn_log_cdf),
        "log_survival_function": _mp_ref(lambda x, **p: tdl._tn_log_cdf(x, **p, survival=True)),
        "icdf": _mp_ref(_tn_icdf),
        **_moment_refs(
            mean=moment(0),
            variance=moment(1),
            entropy=moment(2),
            mode=lambda loc, scale, low, high: min(max(loc, low), high),
        ),
    }
    return Case(
        "TruncatedNormal",
        "loc, scale, low, high",
        lambda loc, scale, low, high: jdist.TruncatedNormal(loc, scale, low, high),
        dict(zip(names, tdl.TN, strict=True)),
        lambda p, dtype: tdl._tn_points([p[k] for k in names], dtype),
        refs,
        quantiles=tdl.TN_Q,
        jit=False,
    )


def _continuous_bernoulli(param):
    values = {"probs": tdl.CB_PROBS, "logits": tdl.CB_LOGITS}[param]

    def eta(**p):
        if param == "logits":
            return p["logits"]
        return mp.log(p["probs"]) - mp.log1p(-p["probs"])

    def log_prob(x, **p):
        e = eta(**p)
        return tdl._cb_members(e)[0] + x * e - _log1pexp(e)

    def pair(x, **p):
        e, x = eta(**p), mp.mpf(x)
        if e == 0:
            return x, 1 - x
        # 1 - F(x) = e^{xη} expm1((1 - x)η) / expm1(η): no cancellation near x = 1.
        return mp.expm1(x * e) / mp.expm1(e), mp.exp(x * e) * mp.expm1((1 - x) * e) / mp.expm1(e)

    def icdf(u, **p):
        e = eta(**p)
        return mp.log1p(u * mp.expm1(e)) / e if e else mp.mpf(u)

    def entropy(**p):
        e = eta(**p)
        log_c, mean, _ = tdl._cb_members(e)
        return -(log_c + mean * e - _log1pexp(e))

    def mode(**p):
        e = eta(**p)
        return mp.mpf(1) if e > 0 else (mp.mpf(0) if e < 0 else mp.nan)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        "icdf": _mp_ref(icdf),
        **_moment_refs(
            mean=lambda **p: tdl._cb_members(eta(**p))[1],
            variance=lambda **p: tdl._cb_members(eta(**p))[2],
            entropy=entropy,
            mode=mode,
        ),
    }
    return Case(
        "ContinuousBernoulli",
        param,
        lambda **p: jdist.ContinuousBernoulli(**p),
        {param: values},
        lambda p, dtype: np.broadcast_to(tdl.CB_X, (len(tdl.CB_X), len(values))),
        refs,
        quantiles=tdl.CB_X,
    )


# ------------------------------------------------------- count families (tests/test_discrete_...)
def _poisson():
    def log_prob(k, rate):
        return _xlog(k, mp.log(rate)) - rate - mp.loggamma(k + 1) if k >= 0 else -INF

    def pair(k, rate):
        lower_gamma, upper_gamma = _gamma_pq(mp.mpf(k) + 1, rate)
        return upper_gamma, lower_gamma  # P(X <= k) = Q(k + 1, λ)

    def entropy(rate):
        if rate < 2000:
            sd = mp.sqrt(rate)
            return _discrete_entropy(
                lambda k: log_prob(k, rate), rate - 40 * sd - 100, rate + 40 * sd + 100
            )
        # Evans et al. 1988 (as tests/test_discrete_families.py), truncation error 9/(80 λ⁴).
        return (
            mp.log(2 * mp.pi * mp.e * rate) / 2
            - 1 / (12 * rate)
            - 1 / (24 * rate**2)
            - 19 / (360 * rate**3)
        )

    def mode(rate):
        # Integer rates have two modes (rate - 1 and rate): ambiguous.
        return mp.floor(rate) if rate < 1 or rate != mp.floor(rate) else mp.nan

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda rate: rate, variance=lambda rate: rate, entropy=entropy, mode=mode
        ),
    }
    rate = tdf.POISSON_RATES
    return Case(
        "Poisson",
        "rate",
        lambda rate: jdist.Poisson(rate),
        dict(rate=rate),
        lambda p, dtype: tdf._grid(p["rate"], np.sqrt(p["rate"]), 0, np.inf),
        refs,
        discrete=True,
        integer_members=("mode",),
        jit=False,
    )


def _binomial(param):
    n = tdf.BINOMIAL_CASES[:, 0]
    probs = tdf.BINOMIAL_CASES[:, 1]
    value = probs if param == "probs" else sp.logit(probs)

    def log_pmf(k, total_count, lp, lq):
        if not 0 <= k <= total_count:
            return -INF
        return (
            mp.loggamma(total_count + 1)
            - mp.loggamma(k + 1)
            - mp.loggamma(total_count - k + 1)
            + _xlog(k, lp)
            + _xlog(total_count - k, lq)
        )

    def log_prob(k, total_count, **p):
        return log_pmf(mp.mpf(k), total_count, *_log_pq(**p))

    def pair(k, total_count, **p):
        if k < 0:
            return mp.mpf(0), mp.mpf(1)
        if k >= total_count:
            return mp.mpf(1), mp.mpf(0)
        lp, lq = _log_pq(**p)
        # P(X <= k) = I_{1-p}(n - k, k + 1); P(X > k) = I_p(k + 1, n - k).
        return _beta_i(total_count - k, mp.mpf(k) + 1, mp.exp(lq), mp.exp(lp))

    def entropy(total_count, **p):
        lp, lq = _log_pq(**p)
        mean, sd = total_count * mp.exp(lp), mp.sqrt(total_count * mp.exp(lp + lq))
        lo, hi = mean - 40 * sd - 100, min(total_count, mean + 40 * sd + 100)
        return _discrete_entropy(lambda k: log_pmf(k, total_count, lp, lq), lo, hi)

    def mode(total_count, **p):
        t = (total_count + 1) * mp.exp(_log_pq(**p)[0])
        if t == mp.floor(t) and 0 < t <= total_count:
            return mp.nan  # two modes, t - 1 and t
        return min(mp.floor(t), total_count)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda total_count, **p: total_count * mp.exp(_log_pq(**p)[0]),
            variance=lambda total_count, **p: total_count * mp.exp(sum(_log_pq(**p))),
            entropy=entropy,
            mode=mode,
        ),
    }

    def points(p, dtype):
        with mp.workdps(40):
            q = np.array([float(mp.exp(_log_pq(**{param: mp.mpf(v)})[0])) for v in p[param]])
        n = p["total_count"]
        return tdf._grid(n * q, np.sqrt(n * q * (1 - q)), 0, n)

    def enum(p):
        # enumerate_support needs one total_count for the batch: 10 trials.
        d = jdist.Binomial(10.0, **{param: jnp.asarray(p[param])})
        return d, np.broadcast_to(_rows(np.arange(11)), (11, len(p[param])))

    return Case(
        "Binomial",
        f"total_count, {param}",
        lambda total_count, **p: jdist.Binomial(total_count, **p),
        {"total_count": n, param: value},
        points,
        refs,
        discrete=True,
        exact=("total_count",),
        integer_members=("mode",),
        enum=enum,
        jit=False,
    )


def _negative_binomial(param):
    r = tdf.NB_CASES[:, 0]
    probs = tdf.NB_CASES[:, 1]
    value = probs if param == "probs" else sp.logit(probs)

    def log_pmf(k, total_count, lp, lq):
        if k < 0:
            return -INF
        return (
            mp.loggamma(k + total_count)
            - mp.loggamma(total_count)
            - mp.loggamma(k + 1)
            + _xlog(k, lp)
            + total_count * lq
        )

    def log_prob(k, total_count, **p):
        return log_pmf(mp.mpf(k), total_count, *_log_pq(**p))

    def pair(k, total_count, **p):
        if k < 0:
            return mp.mpf(0), mp.mpf(1)
        lp, lq = _log_pq(**p)
        # P(X <= k) = I_{1-p}(r, k + 1) (torch's p is the probability of a counted event).
        return _beta_i(total_count, mp.mpf(k) + 1, mp.exp(lq), mp.exp(lp))

    def moments(total_count, **p):
        lp, lq = _log_pq(**p)
        mean = total_count * mp.exp(lp - lq)
        return lp, lq, mean, mp.sqrt(mean) / mp.exp(lq / 2)

    def entropy(total_count, **p):
        lp, lq, mean, sd = moments(total_count, **p)
        hi = mean + 40 * sd + 80 / mp.exp(lq) + 100  # as tests/test_discrete_families.py
        lo = mean - 40 * sd - 100
        return _discrete_entropy(lambda k: log_pmf(k, total_count, lp, lq), lo, hi)

    def mode(total_count, **p):
        lp, lq = _log_pq(**p)
        t = (total_count - 1) * mp.exp(lp - lq)
        if t > 0 and t == mp.floor(t):
            return mp.nan  # two modes
        return max(mp.floor(t), 0)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        **_moment_refs(
            mean=lambda total_count, **p: moments(total_count, **p)[2],
            variance=lambda total_count, **p: moments(total_count, **p)[3] ** 2,
            entropy=entropy,
            mode=mode,
        ),
    }

    def points(p, dtype):
        with mp.workdps(40):
            stats_ = [
                moments(mp.mpf(a), **{param: mp.mpf(b)}) for a, b in zip(*p.values(), strict=True)
            ]
        mean = np.array([float(s[2]) for s in stats_])
        sd = np.array([float(s[3]) for s in stats_])
        return tdf._grid(mean, sd, 0, np.inf)

    return Case(
        "NegativeBinomial",
        f"total_count, {param}",
        lambda total_count, **p: jdist.NegativeBinomial(total_count, **p),
        {"total_count": r, param: value},
        points,
        refs,
        discrete=True,
        integer_members=("mode",),
        jit=False,
    )


def _geometric(param):
    values = {
        "probs": tdf.GEOMETRIC_PROBS,
        # tests/test_discrete_families.py: test_geometric_logits_against_closed_forms.
        "logits": np.array([-30.0, -13.8, -4.6, 0.0, 4.6, 13.8, 30.0]),
    }[param]
    ks = _rows([0, 1, 5, 100, 1e4, 1e6, 1e7])

    def log_sf(k, **p):
        return (k + 1) * _log_pq(**p)[1] if k >= 0 else mp.mpf(0)

    def log_prob(k, **p):
        lp, lq = _log_pq(**p)
        return _xlog(k, lq) + lp if k >= 0 else -INF

    def pair(k, **p):
        s = log_sf(mp.mpf(k), **p)
        return -mp.expm1(s), mp.exp(s)

    def icdf(u, **p):
        lp, lq = _log_pq(**p)
        if u <= 0 or lq == -INF:
            return mp.mpf(0)
        if u >= 1:
            return INF
        # The smallest k with F(k) = 1 - q^{k+1} >= u.
        return max(mp.ceil(mp.log1p(-mp.mpf(u)) / lq) - 1, 0)

    def entropy(**p):
        lp, lq = _log_pq(**p)
        return -(_xlog(mp.exp(lq), lq) + mp.exp(lp) * lp) / mp.exp(lp)

    refs = {
        **_density_refs(log_prob),
        **_tail_refs(pair),
        "icdf": _mp_ref(icdf),
        **_moment_refs(
            mean=lambda **p: mp.exp(_log_pq(**p)[1] - _log_pq(**p)[0]),
            variance=lambda **p: mp.exp(_log_pq(**p)[1] - 2 * _log_pq(**p)[0]),
            entropy=entropy,
            mode=lambda **p: mp.mpf(0),
        ),
    }
    return Case(
        "Geometric",
        param,
        lambda **p: jdist.Geometric(**p),
        {param: values},
        lambda p, dtype: np.broadcast_to(ks, (len(ks), len(values))),
        refs,
        quantiles=_rows([0.0, 1e-9, 0.3, 0.5, 0.999, 1 - 1e-6, 1.0]),
        discrete=True,
        integer_members=("mode", "icdf"),
        jit=False,
    )


def all_cases():
    """Every (family, parameterization) case, in the order of the table."""
    return [
        _normal(),
        _uniform(),
        _bernoulli("probs"),
        _bernoulli("logits"),
        _categorical("probs"),
        _categorical("logits"),
        *[_spec_case(spec) for spec in tcf.SPECS],
        _deterministic(),
        _gamma(),
        _chi2(),
        _inverse_gamma(),
        _beta(),
        _kumaraswamy(),
        _student_t(),
        _fisher_snedecor(),
        _von_mises(),
        _truncated_normal(),
        _continuous_bernoulli("probs"),
        _continuous_bernoulli("logits"),
        _poisson(),
        _binomial("probs"),
        _binomial("logits"),
        _negative_binomial("probs"),
        _negative_binomial("logits"),
        _geometric("probs"),
        _geometric("logits"),
    ]


FAMILY_ORDER = [
    "Normal",
    "Uniform",
    "Bernoulli",
    "Categorical",
    "Beta",
    "Cauchy",
    "Chi2",
    "ContinuousBernoulli",
    "Exponential",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "InverseGamma",
    "Kumaraswamy",
    "Laplace",
    "LogNormal",
    "Pareto",
    "StudentT",
    "VonMises",
    "Weibull",
    "Logistic",
    "TruncatedNormal",
    "Deterministic",
    "Binomial",
    "Geometric",
    "NegativeBinomial",
    "Poisson",
]


# ============================================================================== evaluation
def _call(d, member, x, q):
    if member in VALUE_MEMBERS:
        return getattr(d, member)(x)
    if member == "icdf":
        return d.icdf(q)
    if member == "entropy":
        return d.entropy()
    if member == "enumerate_support":
        return d.enumerate_support()
    return getattr(d, member)


def _evaluate(case, d, x, q):
    """Every member but enumerate_support: ``(values, not_implemented, errors)``. Under one jit
    where the case allows; members that cannot be traced (sums over a concrete support) and
    non-jitted cases are called eagerly. A member is *not implemented* if the eager call raises
    ``NotImplementedError``; any other exception is an error (reported)."""
    members = [m for m in MEMBERS if m != "enumerate_support"]
    got = {}
    if case.jit:

        def run(d, x, q):
            out = {}
            for m in members:
                try:
                    out[m] = _call(d, m, x, q)
                except Exception:  # noqa: BLE001 - retried eagerly below
                    pass
            return out

        got = dict(jax.jit(run)(d, x, q))
    missing, errors = {}, {}
    for m in members:
        if m in got:
            continue
        try:
            got[m] = _call(d, m, x, q)
        except NotImplementedError as e:
            missing[m] = str(e)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            errors[m] = f"{type(e).__name__}: {str(e)[:200]}"
    return {m: np.asarray(v, np.float64) for m, v in got.items()}, missing, errors


@dataclasses.dataclass
class Result:
    """One (case, member, dtype): relative errors at every point and what they are measured at."""

    err: np.ndarray  # relative errors (NaN where not counted)
    got: np.ndarray
    ref: np.ndarray
    values: np.ndarray | None  # the member's argument, broadcast (None for moments)
    params: dict  # rounded parameters, broadcast to err.shape
    failures: list  # (index, description)
    zero_abs: float  # largest |got| where ref == 0
    kappa: dict = dataclasses.field(default_factory=dict)  # flat index -> (κ, dominant input)
    capped: bool = False  # more points above ULPS·eps than MAX_CONDITIONED


def _relative_errors(got, ref, dtype, integer=False):
    """Relative errors (NaN where not counted) and a failure mask.

    Counted: finite, nonzero references at least the smallest normal number of ``dtype``
    (references below it are compared absolutely: a failure if off by more than that number).
    Failures: NaN where the reference is not NaN; an infinity where the reference, rounded to
    ``dtype``, is finite, or a mismatched infinity (a float64 value beyond the float32 range is
    expected as ±inf in float32); for ``integer`` members also a nonzero value where the
    reference is 0."""
    got = np.asarray(got, np.float64)
    ref = np.broadcast_to(np.asarray(ref, np.float64), got.shape)
    info = np.finfo(dtype)
    with np.errstate(all="ignore"):
        ref_d = ref.astype(dtype).astype(np.float64)
        fail = np.isnan(got) & ~np.isnan(ref)
        fail |= np.isinf(ref_d) & (got != ref_d)
        fail |= np.isinf(got) & np.isfinite(ref_d)
        tiny = np.isfinite(ref) & (np.abs(ref) < info.tiny) & (ref != 0)
        fail |= tiny & ~(np.abs(got - ref) <= info.tiny)
        counted = np.isfinite(ref_d) & (np.abs(ref) >= info.tiny) & ~fail
        err = np.where(counted, np.abs(got - ref) / np.abs(ref), np.nan)
        if integer:  # an integer-valued member must also get the zeros right
            fail |= (ref == 0) & (got != 0)
        zero = (ref == 0) & np.isfinite(got)
        zero_abs = float(np.max(np.abs(got[zero]), initial=0.0))
    return err, fail, zero_abs


def _broadcast_params(p, shape, vector):
    if vector:
        return {k: v for k, v in p.items()}
    return {k: np.broadcast_to(v, shape) for k, v in p.items()}


def _condition(case, member, call, v, p, h=1e-9):
    """Relative condition number κ of ``member`` at aligned points (``v`` 1-D or None; each
    parameter ``(n,)``, or ``(n, c)`` with an event axis, whose components count separately):
    Σ over inputs t of |t ∂f/∂t| / |f| by central differences of the reference ``call``
    (one-sided at a support end). The relative step 1e-9 keeps the difference quotient exact to
    ~1e-7 for float64 references and resolves parameters within 1e-6 of an end (probs =
    1 - 1e-6). The quantile level q counts as min(q, 1 - q) (both are exact inputs), and for
    families that take ``log u`` first (``log_arg``) the value's term is multiplied by
    (1 + |log u|), the relative size of an ulp of log u (as in
    tests/test_continuous_families.py). Exact counts (total_count), infinite or zero parameters
    and integer-valued points are skipped. Returns (κ, the input contributing most)."""
    with np.errstate(all="ignore"):
        f0 = call(v, p)
        terms = {}

        def slope(up, down):
            both = (up - down) / (2 * h)
            one_up, one_down = (up - f0) / h, (f0 - down) / h
            s = np.where(np.isfinite(both), both, np.where(np.isfinite(one_up), one_up, one_down))
            return np.abs(s / f0)

        if v is not None and member == "icdf":
            step = h * np.minimum(v, 1 - v)
            terms["q"] = slope(call(v + step, p), call(v - step, p))
        elif v is not None and not case.discrete:
            k = slope(call(v * (1 + h), p), call(v * (1 - h), p))
            if case.log_arg is not None:
                k = k * (1 + np.abs(np.log(np.abs(case.log_arg(v, **p)))))
            terms["x"] = np.where(v == 0, 0.0, k)
        for name, t in p.items():
            if name in case.exact:
                continue
            for c in [None] if t.ndim == 1 else range(t.shape[1]):
                pick = np.ones(t.shape, bool)
                if c is not None:
                    pick[:] = False
                    pick[:, c] = True
                ok = pick & np.isfinite(t) & (t != 0)
                up = {**p, name: np.where(ok, t * (1 + h), t)}
                down = {**p, name: np.where(ok, t * (1 - h), t)}
                row_ok = ok if c is None else ok[:, c]
                label = name if c is None else f"{name}[{c}]"
                terms[label] = np.where(row_ok, slope(call(v, up), call(v, down)), 0.0)
    if not terms:
        return np.zeros(np.shape(f0)), ["-"] * np.size(f0)
    stacked = np.nan_to_num(np.stack(list(terms.values())), nan=np.inf)
    kappa = np.where(np.isfinite(f0) & (f0 != 0), stacked.sum(0), np.nan)
    names = list(terms)
    dominant = [names[i] for i in np.argmax(stacked, axis=0)]
    return kappa, dominant


def measure(case, dtype):
    """All members of ``case`` in ``dtype``: ``({member: Result}, missing, errors)``."""
    p = {k: cast_like(v, dtype) for k, v in case.params.items()}
    x = cast_like(case.points(p, dtype), dtype)
    q = cast_like(case.quantiles, dtype)
    with jax.enable_x64(dtype is np.float64):
        d = case.make(**{k: jnp.asarray(v, dtype) for k, v in p.items()})
        got, missing, errors = _evaluate(case, d, jnp.asarray(x, dtype), jnp.asarray(q, dtype))
        if case.enum is not None:
            try:
                dist, expected = case.enum({k: jnp.asarray(v, dtype) for k, v in p.items()})
                got["enumerate_support"] = np.asarray(dist.enumerate_support(), np.float64)
                enum_expected = expected
            except NotImplementedError as e:
                missing["enumerate_support"] = str(e)
        else:
            try:
                d.enumerate_support()
                errors["enumerate_support"] = "implemented, but no reference here"
            except NotImplementedError as e:
                missing["enumerate_support"] = str(e)
            except Exception as e:  # noqa: BLE001
                errors["enumerate_support"] = f"{type(e).__name__}: {str(e)[:200]}"
    results = {}
    for member, value in got.items():
        if member == "enumerate_support":
            ref, v = enum_expected, None
        elif member not in case.refs:
            errors[member] = "implemented, but no reference here"
            continue
        else:
            v = x if member in VALUE_MEMBERS else (q if member == "icdf" else None)
            ref = case.refs[member](v, p)
        integer = member == "enumerate_support" or member in case.integer_members
        err, fail, zero_abs = _relative_errors(value, ref, dtype, integer)
        shape = err.shape
        vb = None if v is None else np.broadcast_to(v, shape)
        pb = _broadcast_params(p, shape, case.vector_params)
        refb = np.broadcast_to(np.asarray(ref, np.float64), shape)
        refb = np.broadcast_to(np.asarray(ref, np.float64), shape)
        failures = [
            (i, f"{_point(case, member, vb, pb, i)}: got {value[i]:.6g}, ref {refb[i]:.6g}")
            for i in zip(*np.nonzero(fail), strict=True)
        ]
        r = Result(err, value, refb, vb, pb, failures, zero_abs)
        if member != "enumerate_support" and member not in case.integer_members:
            _add_conditions(case, member, r, dtype)
        results[member] = r
    return results, missing, errors


def _add_conditions(case, member, r, dtype):
    """κ at the TOP_K worst points and at every point whose error exceeds ULPS·eps (at most
    MAX_CONDITIONED): every other point is within ULPS ulps, explained whatever its κ."""
    flat = np.nan_to_num(r.err.ravel(), nan=-1.0)
    order = np.argsort(-flat)
    floor = ULPS * EPS[dtype]
    above = [i for i in order if flat[i] > floor]
    r.capped = len(above) > MAX_CONDITIONED
    pick = list(
        dict.fromkeys([*[i for i in order[:TOP_K] if flat[i] > 0], *above[:MAX_CONDITIONED]])
    )
    if not pick:
        return
    idx = np.unravel_index(np.asarray(pick), r.err.shape)
    v = None if r.values is None else np.asarray(r.values[idx], np.float64)
    ref = case.refs[member]
    if case.vector_params:
        cols = idx[-1]
        p = {k: np.asarray(a[cols], np.float64) for k, a in r.params.items()}

        def call(v, p):
            return np.ravel(ref(None if v is None else v[None, :], p))

    else:
        p = {k: np.asarray(a[idx], np.float64) for k, a in r.params.items()}
        call = ref
    try:
        kappa, dominant = _condition(case, member, call, v, p)
    except Exception:  # noqa: BLE001 - a reference that fails off the grid: κ unknown
        kappa, dominant = np.full(len(pick), np.nan), ["?"] * len(pick)
    for j, i in enumerate(pick):
        r.kappa[int(i)] = (float(kappa[j]), dominant[j])


def _fmt(v):
    v = float(v)
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    if 1e-3 <= abs(v) < 1e8:
        return f"{v:.7g}"
    return f"{v:.4g}"


def _point(case, member, values, params, index):
    """``member(point) @ parameters`` at ``index``."""
    if case.vector_params:
        j = index[-1]
        ps = {k: "[" + ", ".join(_fmt(t) for t in v[j]) + "]" for k, v in params.items()}
    else:
        ps = {k: _fmt(v[index]) for k, v in params.items()}
    arg = "" if values is None else ("q=" if member == "icdf" else "x=") + _fmt(values[index])
    return f"{member}({arg}) @ " + ", ".join(f"{k}={v}" for k, v in ps.items())


# =============================================================================== reporting
@dataclasses.dataclass
class Worst:
    err: float
    where: str
    kappa: float
    dominant: str
    got: float
    ref: float


def _worst(case, member, r, dtype):
    if not np.any(np.isfinite(r.err)):
        return None
    i = np.unravel_index(int(np.nanargmax(r.err)), r.err.shape)
    flat = int(np.ravel_multi_index(i, r.err.shape))
    kappa, dominant = r.kappa.get(flat, (np.nan, ""))
    where = _point(case, member, r.values, r.params, i)
    return Worst(float(r.err[i]), where, kappa, dominant, float(r.got[i]), float(r.ref[i]))


def _explained(err, kappa, dtype):
    """Within ULPS ulps of eps·(1 + κ) (κ known)."""
    return bool(np.isfinite(kappa) and err <= ULPS * EPS[dtype] * (1 + kappa))


def _annotate(w, dtype):
    """Worst point with its condition number; marked ill-conditioned where the error is within
    ULPS ulps of eps·κ and κ is large."""
    if w is None:
        return "—"
    text = f"{w.err:.1e} at {w.where}"
    if np.isfinite(w.kappa):
        text += f"; κ={w.kappa:.1e}"
        if w.kappa >= 10 and _explained(w.err, w.kappa, dtype):
            text += f" (ill-conditioned in {w.dominant})"
    return text


def _unexplained(case, member, r, dtype):
    """Points whose error the conditioning does not explain, worst first: (err, text)."""
    out = []
    for flat, (kappa, _) in r.kappa.items():
        i = np.unravel_index(flat, r.err.shape)
        e = float(r.err[i])
        if not _explained(e, kappa, dtype):
            where = _point(case, member, r.values, r.params, i)
            out.append((e, f"{where}: got {r.got[i]:.10g}, ref {r.ref[i]:.10g}, κ={kappa:.1e}"))
    return sorted(out, key=lambda t: -t[0])


def _members_text(implemented):
    names = [m for m in MEMBERS if m in implemented]
    absent = [m for m in MEMBERS if m not in implemented]
    if not absent:
        return "all 13"
    if len(names) >= 8:
        return "all but " + ", ".join(absent)
    return ", ".join(names)


METHOD = """\
## Method

`python -m tests.accuracy_table` regenerates this file ({runtime:.0f} s wall-clock for this run,
on 2 CPU cores shared with other jobs; about 2 minutes of CPU time).

* **Members.** The 13 members of DESIGN §2 (`log_prob`, `prob`, `cdf`, `log_cdf`,
  `survival_function`, `log_survival_function`, `icdf`, `mean`, `mode`, `variance`, `stddev`,
  `entropy`, `enumerate_support`). A member is *implemented* if calling it does not raise
  `NotImplementedError` (Cauchy's `mean` and Uniform's `mode` raise: undefined / not unique).
  Where a family inherits the base class's `log_cdf = log(cdf)`, `survival_function = 1 - cdf`
  or `log_survival_function = log1p(-cdf)` (VonMises, ContinuousBernoulli), those count as
  implemented and are measured like the rest.
* **Grids.** The parameter grids and points of the reference tests, imported from them:
  `tests/test_reference.py` (Normal, Uniform, Bernoulli), `tests/test_continuous_families.py`
  (`SPECS`: 11 closed-form families, their points and `QUANTILES` for `icdf`, including q = 0,
  1e-30, 1e-10, 1 - 1e-6, 1), `tests/test_gamma_family.py` (quantile points from 1e-300 to
  1 - 1e-300, shapes 1e-3 to 1e4, StudentT df 0.5 to 1e8 at up to 1e20 scales),
  `tests/test_delicate_families.py` (VonMises κ 1e-4 to 1e4 with the wrap point inside the bulk;
  TruncatedNormal windows such as [8, 9], [-40, -39], [30, ∞) and [8, 8.001]; ContinuousBernoulli
  near λ = 1/2 and at logits ±50), `tests/test_discrete_families.py` (Poisson rates 1e-8 to 1e6,
  Binomial n up to 1e6 with p = 1e-8 ... 1 - 1e-8, NegativeBinomial r from 1e-3 to 1e6, Geometric
  p = 1e-6 to 1 and counts up to 1e7, points at up to ±30 standard deviations). Bernoulli: probs
  0 ... 1 and logits ±200. Categorical: 4 categories with zero weights, ties, masked (-inf) and
  widely spread logits. Deterministic: the value and misses either side. Each grid is evaluated
  in float32 and in float64: parameters and points are rounded to the dtype first and the
  reference is computed at the rounded values.
* **References.** Closed forms evaluated in mpmath (80 digits for the `SPECS` families with
  their test-suite formulas, 40 digits elsewhere), including every moment and entropy.
  Incomplete gamma/beta functions (Gamma, Chi2, InverseGamma, Beta, StudentT, FisherSnedecor,
  Poisson, Binomial, NegativeBinomial CDFs) by mpmath at 40 digits, each tail computed directly
  (no `1 - x` cancellation; the larger argument recomputed from the smaller with as many extra
  digits as needed), and the log of a probability near 1 as `log1p` of its complement. Where
  both shape parameters exceed 500 (Binomial n = 1e6, Beta(1e4, 1e4)) mpmath's series does not
  converge and the incomplete beta function's continued fraction (DLMF 8.17.22) is evaluated at
  40 digits instead (scipy's Boost `betainc` is off by 3e-13 at 1e-278 there). The VonMises CDF
  and survival function by 40-digit quadrature (scipy's is a normal approximation from κ = 50);
  TruncatedNormal quantiles by 40-digit Newton iteration on the log-CDF; ContinuousBernoulli
  from its closed form in the natural parameter (torch clamps `probs` and approximates near
  λ = 1/2). Discrete entropies by 40-digit summation of `-p log p` over the mean ± (40 standard
  deviations + 100), term by term over the first 5000 terms and by the Euler–Maclaurin formula
  (integral, end-point and first two derivative corrections) beyond. scipy.stats (float64) is
  the reference for Normal and Uniform, where it is exact to rounding. Ambiguous modes (ties:
  Bernoulli p = 1/2, integer Poisson rates, ...) have no reference.
* **Error.** Relative error |got − ref| / |ref| at every point. Points where the reference is 0
  are not counted (the largest |got| there is listed per member), nor NaN references (undefined
  moments). References below the smallest normal number of the dtype are compared absolutely
  (XLA flushes subnormals to 0). **Failures** are counted separately: NaN where the reference
  is not NaN, an infinity where the reference (rounded to the dtype) is finite, a mismatched
  infinity, and for integer-valued members (discrete modes, Geometric `icdf`,
  `enumerate_support`) a nonzero value where the reference is 0.
* **Condition number.** The relative condition number κ = Σ_t |t ∂f/∂t| / |f| over the member's
  inputs t (the point, every parameter or parameter component; for `icdf` the level counts as
  min(q, 1 − q); for LogNormal/Weibull the point's term includes the ulp of log x; exact counts
  and integer points are not perturbed) is estimated by central differences of the reference at
  the 3 worst points of each member and dtype and at every point whose error exceeds {ulps}·eps
  (at most {cap} per member, "capped" in the per-member table where there were more). Any
  algorithm that rounds its inputs or intermediate results makes errors of about eps·κ: an error
  within {ulps}·eps·(1 + κ) is *explained* by the conditioning (at the worst point with κ ≥ 10,
  marked *ill-conditioned*, with the input dominating κ named). *Not explained by κ* is the
  largest error above that bound; those above {bug32:g} (float32) or {bug64:g} (float64) are
  listed under *Unexplained errors*.
"""


def _cell(v):
    return "—" if v is None else f"{v:.1e}"


def report(cases, outcomes, runtime):
    """The markdown report, the summary table, and the lists of unexplained errors, failures
    and errors raised."""
    families = {}
    for case in cases:
        families.setdefault(case.family, []).append(case)
    summary = [
        "| family | members implemented | max rel err f32 | max rel err f64 "
        "| not explained by κ (f32 / f64) | worst point (f32; f64) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    details = [
        "| family | member | f32 | f64 | not explained by κ (f32 / f64) | worst f32 | worst f64 "
        "| failures | max abs at ref = 0 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    flagged, failure_lines, error_lines = [], [], []
    for family in FAMILY_ORDER:
        if family not in families:
            continue
        implemented = set()
        worst = {t: None for t in DTYPES}
        beyond = {t: 0.0 for t in DTYPES}
        n_fail = 0
        per_member = {}
        for case in families[family]:
            for dtype in DTYPES:
                results, missing, errors = outcomes[case.family, case.label, dtype]
                implemented |= set(results) | set(errors)
                for m, e in errors.items():
                    error_lines.append(f"{family} ({case.label}) {DTYPE_NAMES[dtype]} {m}: {e}")
                for member, r in results.items():
                    w = _worst(case, member, r, dtype)
                    slot = per_member.setdefault(
                        member,
                        {t: None for t in DTYPES}
                        | {("beyond", t): 0.0 for t in DTYPES}
                        | {"fail": 0, "zero": 0.0, "capped": False},
                    )
                    if w is not None and (slot[dtype] is None or w.err > slot[dtype].err):
                        slot[dtype] = w
                    if w is not None and (worst[dtype] is None or w.err > worst[dtype].err):
                        worst[dtype] = w
                    slot["fail"] += len(r.failures)
                    slot["zero"] = max(slot["zero"], r.zero_abs)
                    slot["capped"] |= r.capped
                    n_fail += len(r.failures)
                    for _, where in r.failures[:3]:
                        failure_lines.append(
                            f"{family} ({case.label}) {DTYPE_NAMES[dtype]}: {where}"
                        )
                    if len(r.failures) > 3:
                        failure_lines.append(
                            f"{family} ({case.label}) {DTYPE_NAMES[dtype]} {member}: "
                            f"... {len(r.failures) - 3} more"
                        )
                    unexplained = _unexplained(case, member, r, dtype)
                    if unexplained:
                        top = unexplained[0][0]
                        slot["beyond", dtype] = max(slot["beyond", dtype], top)
                        beyond[dtype] = max(beyond[dtype], top)
                    bugs = [u for u in unexplained if u[0] > BUG_THRESHOLD[dtype]]
                    if bugs:
                        more = f" ({len(bugs)} such points)" if len(bugs) > 1 else ""
                        flagged.append(
                            f"{family} ({case.label}) {DTYPE_NAMES[dtype]} {member}{more}: "
                            f"rel err {bugs[0][0]:.1e} at {bugs[0][1]}"
                        )
        labels = sorted({c.label.split(", ")[-1] for c in families[family]})
        name = family if len(families[family]) == 1 else f"{family} ({' / '.join(labels)})"
        fail_note = f"; **{n_fail} failures**" if n_fail else ""
        where = (
            f"f32: {_annotate(worst[np.float32], np.float32)}; "
            f"f64: {_annotate(worst[np.float64], np.float64)}{fail_note}"
        )
        summary.append(
            f"| {name} | {_members_text(implemented)} "
            f"| {_cell(worst[np.float32] and worst[np.float32].err)} "
            f"| {_cell(worst[np.float64] and worst[np.float64].err)} "
            f"| {_cell(beyond[np.float32])} / {_cell(beyond[np.float64])} | {where} |"
        )
        for member in MEMBERS:
            if member not in per_member:
                continue
            s = per_member[member]
            cells = [_cell(s[t] and s[t].err) for t in DTYPES]
            capped = " (capped)" if s["capped"] else ""
            beyond_cell = f"{_cell(s['beyond', np.float32])} / {_cell(s['beyond', np.float64])}"
            ws = [_annotate(s[t], t) for t in DTYPES]
            details.append(
                f"| {family} | {member} | {cells[0]} | {cells[1]} | {beyond_cell}{capped} "
                f"| {ws[0]} | {ws[1]} | {s['fail']} | {s['zero']:.1e} |"
            )
    text = [
        "# Accuracy of the univariate families",
        "",
        "Largest relative error of every implemented member against a high-precision reference,",
        "in float32 and float64, over ordinary and extreme-but-valid parameters and far tails",
        "(issue 3). Generated by `python -m tests.accuracy_table`; see *Method* below.",
        "κ is the relative condition number of the member at the point: errors up to about",
        "eps·κ (eps = 1.2e-7 in float32, 2.2e-16 in float64) are inherent to the problem, not",
        f"to the algorithm. *Not explained by κ*: the largest error above {ULPS}·eps·(1 + κ).",
        "",
        *summary,
        "",
        "## Unexplained errors",
        "",
        f"Errors above {BUG_THRESHOLD[np.float32]:g} (float32) or {BUG_THRESHOLD[np.float64]:g} "
        f"(float64) and above {ULPS}·eps·(1 + κ), by family, member and dtype (worst point):",
        "",
        *([f"* {line}" for line in flagged] or ["None."]),
        "",
        "## Failures (NaN or a wrong infinity)",
        "",
        *([f"* {line}" for line in failure_lines] or ["None."]),
        "",
        *(
            ["## Errors raised", "", *[f"* {line}" for line in error_lines], ""]
            if error_lines
            else []
        ),
        "## Per member",
        "",
        *details,
        "",
        METHOD.format(
            runtime=runtime,
            ulps=ULPS,
            cap=MAX_CONDITIONED,
            bug32=BUG_THRESHOLD[np.float32],
            bug64=BUG_THRESHOLD[np.float64],
        ),
    ]
    return "\n".join(text), summary, flagged, failure_lines, error_lines


def main(argv=None):
    """Measure every case, print the summary table and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/accuracy.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--family", action="append", help="only these families (repeatable)")
    args = parser.parse_args(argv)
    start = time.time()
    cases = [c for c in all_cases() if not args.family or c.family in args.family]
    outcomes = {}
    for case in cases:
        t0 = time.time()
        for dtype in DTYPES:
            outcomes[case.family, case.label, dtype] = measure(case, dtype)
        print(f"  {case.family} ({case.label}): {time.time() - t0:.1f} s", flush=True)
    runtime = time.time() - start
    text, summary, flagged, failures, errors = report(cases, outcomes, runtime)
    print("\n".join(summary))
    for title, lines in (("Unexplained", flagged), ("Failures", failures), ("Errors", errors)):
        if lines:
            print(f"\n{title}:")
            print("\n".join(f"  {line}" for line in lines))
    if not args.no_write:
        path = pathlib.Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        print(f"\nwrote {path} ({runtime:.0f} s)")


if __name__ == "__main__":
    main()
