"""Analytic KL divergences between univariate continuous families (registered on import).

Pairs: every pair of torch.distributions 2.13's KL registry among Beta, Cauchy,
ContinuousBernoulli, Exponential, Gamma (and so Chi2, a Gamma subclass), Gumbel, HalfNormal,
Laplace, Normal, Pareto and Uniform (70 pairs), plus LogNormal–LogNormal and
HalfCauchy–HalfCauchy (torch reaches both through TransformedDistribution).
Logistic–Logistic is not registered: its KL has no closed form in elementary functions.

Conventions (torch's): ``inf`` where ``p`` is not absolutely continuous with respect to ``q``
(``p`` puts mass where ``q`` has none) or where a moment that the divergence needs diverges
(e.g. ``Pareto`` with ``alpha <= 1`` against an ``Exponential``), broadcast to the batch
shape, never NaN, with zero (not NaN) gradients. The formulas are torch's (sources cited at
each function), rearranged so that no large terms cancel: divergences are written as sums
of terms that are each ``>= 0`` where possible, with ``x - 1 - log x``, ``e^x - 1 - x``,
``log Γ``'s Bregman divergence and Stirling's series evaluated without cancellation (e.g.
Gamma–Gamma and Beta–Beta with concentrations of 1e5 and more, Normal–Normal with nearly equal
scales, Laplace–Laplace with far-apart locations); tested to 1e-10 against 50-digit mpmath
at such parameters, where torch's direct formulas lose up to all digits.

Differences from torch at the boundaries of the supports: ``ContinuousBernoulli`` against
``Uniform(0, 1)`` (either way round) is finite here (torch says ``inf`` when an end of the
uniform coincides with an end of [0, 1]). ``Uniform(0, h)`` against ``Beta`` or ``Gamma``:
the same finite value as torch, but the derivative w.r.t. ``low`` at ``low = 0`` is a finite
number here (the ``0 log 0 = 0`` convention; torch: NaN), where the one-sided derivative is
infinite unless the exponent of ``x`` in ``q``'s density is 0.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy import special

from jdist._math import (
    HALF_LOG_2PI,
    _lgamma1p,
    digamma_minus_log,
    lgamma_stirling_remainder,
    log1mexp,
    log1pmx,
    log_float_max,
)
from jdist.distribution import broadcast_shapes
from jdist.distributions import (
    Beta,
    Cauchy,
    ContinuousBernoulli,
    Exponential,
    Gamma,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
)
from jdist.distributions.continuous_bernoulli import _langevin
from jdist.kl._registry import register_kl

__all__: list[str] = []

_EULER_GAMMA = 0.5772156649015329
_LOG_2 = math.log(2.0)
_HALF_LOG_HALF_PI = 0.5 * math.log(0.5 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------- plumbing
def _setup(p, q):
    """``(shape, dtype)`` of the result: broadcast batch shapes, promoted float dtype."""
    shape = broadcast_shapes(p.batch_shape, q.batch_shape, what="KL batch shapes")
    return shape, jnp.result_type(p.dtype, q.dtype)


def _get(d, name, dtype):
    return jnp.asarray(getattr(d, name), dtype)


def _finish(value, shape, dtype):
    return jnp.broadcast_to(jnp.asarray(value, dtype), shape)


def _neg_entropy(d, dtype):
    return -jnp.asarray(d.entropy(), dtype)


# ------------------------------------------------------------------- numerical pieces
def _expm1mx(x):
    """``e^x - 1 - x >= 0``; by its Taylor series (16 terms, error < 1e-19) below |x| = 1/2,
    where ``expm1(x) - x`` would lose ``log10(2/|x|)`` digits. Where ``e^x`` overflows the
    result is ``inf`` with a zero (not ``inf``, which would make NaN of a masked entry)
    derivative."""
    big = x > log_float_max(jnp.result_type(x))
    small = jnp.abs(x) < 0.5
    xs = jnp.where(small, x, 0.0)
    inner = jnp.ones_like(xs)
    for k in range(17, 2, -1):  # Σ_{k>=2} x^k / k! = (x²/2)(1 + (x/3)(1 + (x/4)(...)))
        inner = 1.0 + xs * inner / k
    series = 0.5 * xs * xs * inner
    xb = jnp.where(small | big, 1.0, x)
    return jnp.where(small, series, jnp.where(big, jnp.inf, jnp.expm1(xb) - xb))


def _log_ratio(a, b):
    """``log(a / b)`` for ``a, b > 0``: ``log1p((a - b)/b)`` near 1, without overflow far."""
    near = jnp.abs(a - b) < 0.5 * b
    near_value = jnp.log1p(jnp.where(near, (a - b) / b, 0.0))
    return jnp.where(near, near_value, jnp.log(a) - jnp.log(b))


def _tm1mlog(a, b):
    """``t - 1 - log t >= 0`` for ``t = a / b`` (``a, b > 0``), accurate near ``t = 1``."""
    near = jnp.abs(a - b) < 0.5 * b
    near_value = -log1pmx(jnp.where(near, (a - b) / b, 0.0))
    af, bf = jnp.where(near, 2.0, a), jnp.where(near, 1.0, b)
    return jnp.where(near, near_value, af / bf - 1.0 - (jnp.log(af) - jnp.log(bf)))


def _scale_divergence(sp, sq):
    """``(r² - 1)/2 - log r >= 0`` for ``r = sp / sq`` (the scale part of Normal–Normal):
    ``u²/2 - log1pmx(u)`` with ``u = r - 1`` near ``r = 1``."""
    near = jnp.abs(sp - sq) < 0.5 * sq
    u = jnp.where(near, (sp - sq) / sq, 0.0)
    near_value = 0.5 * u * u - log1pmx(u)
    spf, sqf = jnp.where(near, 2.0, sp), jnp.where(near, 1.0, sq)
    r = spf / sqf
    return jnp.where(near, near_value, 0.5 * (r * r - 1.0) - (jnp.log(spf) - jnp.log(sqf)))


def _lgamma_bregman(x, y):
    """``lgamma(y) - lgamma(x) - (y - x) ψ(x) >= 0`` (the Bregman divergence of ``lgamma``),
    for ``x, y > 0``. With Stirling's ``lgamma(z) = (z - 1/2) log z - z + log(2π)/2 + s(z)``
    and ``ψ(z) = log z + δ(z)`` it is ``y log(y/x) - (y - x) - log(y/x)/2 + s(y) - s(x)
    - (y - x) δ(x)``, whose terms are far smaller than the direct form's (which cancels
    terms of size ``y log y``), with ``y log(y/x) - (y - x) = x (log1pmx(r) + r log1p(r))``,
    ``r = (y - x)/x``, near ``y = x``."""
    diff = y - x
    near = jnp.abs(diff) < 0.5 * x
    r = jnp.where(near, diff / x, 0.0)
    log1p_r = jnp.log1p(r)
    xf, yf = jnp.where(near, 1.0, x), jnp.where(near, 2.0, y)
    log_t = jnp.where(near, log1p_r, jnp.log(yf) - jnp.log(xf))
    main = jnp.where(near, x * (log1pmx(r) + r * log1p_r), y * log_t - diff)
    s = lgamma_stirling_remainder
    return main - 0.5 * log_t + (s(y) - s(x)) - diff * digamma_minus_log(x)


def _gamma_cross_entropy(aq, bq, mean, log_mean, d):
    """``(-E_p[log Gamma(aq, bq)(x)] - log E_p[x], size)`` for a ``p`` on ``(0, inf)`` given
    ``E[x] = mean``, ``log_mean = log E[x]`` and ``d = E[log x] - log E[x] <= 0``; ``size`` is
    the sum of the magnitudes of the terms (a bound on the cancellation).

    The cross-entropy is ``lgamma(aq) - aq log bq - (aq - 1) E[log x] + bq E[x]``. Below
    ``aq = 10`` it is evaluated so; from there with Stirling's series, as
    ``-aq (log t - t + 1 + d) - log(aq)/2 + log(2π)/2 + s(aq) + log E[x] + d``,
    ``t = bq E[x] / aq``, where no terms of size ``aq log aq`` cancel."""
    log_bm = jnp.log(bq) + log_mean  # log(bq E[x])
    # Stirling form. log t - t + 1: log1pmx(t - 1) near t = 1, elsewhere from the logs (t - 1
    # itself can be -1 + 1e-9, whose rounding would swamp log t).
    v = (bq * mean - aq) / aq
    near = jnp.abs(v) < 0.5
    dev = jnp.where(near, log1pmx(jnp.where(near, v, 0.0)), (log_bm - jnp.log(aq)) - v)
    s_aq = lgamma_stirling_remainder(aq)
    half_log_aq = 0.5 * jnp.log(aq)
    stirling = -aq * (dev + d) - half_log_aq + HALF_LOG_2PI + s_aq + d
    stirling_size = aq * (jnp.abs(dev) + jnp.abs(d)) + jnp.abs(half_log_aq) + jnp.abs(s_aq)
    # Direct form (small aq).
    lg = special.gammaln(aq)
    direct = lg - aq * log_bm - (aq - 1.0) * d + bq * mean
    direct_size = jnp.abs(lg) + aq * jnp.abs(log_bm) + jnp.abs((aq - 1.0) * d) + bq * mean
    big = aq >= 10.0
    return jnp.where(big, stirling, direct), jnp.where(big, stirling_size, direct_size)


def _gamma_gamma(ap, bp, aq, bq):
    """KL(Gamma(ap, bp) || Gamma(aq, bq)), torch's ``aq log(bp/bq) + lgamma(aq) - lgamma(ap)
    + (ap - aq) ψ(ap) + (bq - bp) ap/bp``, in whichever of two exact rearrangements has the
    smaller terms: ``B(ap, aq) + ap (t - 1 - log t) - (aq - ap) log t`` (``t = bq/bp``, ``B``
    the Bregman divergence of ``lgamma``; exact near ``p = q``), or ``-H(p)`` plus the
    cross-entropy (for laws far apart, e.g. ``ap = 1e6`` against ``aq = 1e-3``, where ``B``
    is huge)."""
    log_t = _log_ratio(bq, bp)
    breg = _lgamma_bregman(ap, aq)
    scale = ap * _tm1mlog(bq, bp)
    shape_term = (aq - ap) * log_t
    bregman = breg + scale - shape_term
    bregman_size = breg + scale + jnp.abs(shape_term)
    # -H(p) + log E[x] = log(ap)/2 - log(2π)/2 - s(ap) - (1 - ap) δ(ap) (rate-free).
    d = digamma_minus_log(ap)
    s_ap = lgamma_stirling_remainder(ap)
    tail = (1.0 - ap) * d
    neg_h = 0.5 * jnp.log(ap) - HALF_LOG_2PI - s_ap - tail
    ce, ce_size = _gamma_cross_entropy(aq, bq, ap / bp, jnp.log(ap) - jnp.log(bp), d)
    cross = neg_h + ce
    cross_size = jnp.abs(0.5 * jnp.log(ap)) + jnp.abs(s_ap) + jnp.abs(tail) + ce_size
    return jnp.where(bregman_size <= cross_size, bregman, cross)


def _beta_cross_entropy(a, b, e_log_x, e_log_y):
    """``(-E_p[log Beta(a, b)(x)], size)`` for a ``p`` on [0, 1], given
    ``e_log_x = E[log x] - log(a/n)`` and ``e_log_y = E[log(1 - x)] - log(b/n)``
    (``n = a + b``): with Stirling's ``log B(a, b) = (a - 1/2) log(a/n) + (b - 1/2) log(b/n)
    - log(n)/2 + log(2π)/2 + s(a) + s(b) - s(n)`` it is ``(log(a/n) + log(b/n) - log n)/2 +
    log(2π)/2 + s(a) + s(b) - s(n) - (a - 1) e_log_x - (b - 1) e_log_y``: no terms of size
    ``n log n`` cancel."""
    n = a + b
    s = lgamma_stirling_remainder
    logs = 0.5 * (-jnp.log1p(b / a) - jnp.log1p(a / b) - jnp.log(n))
    rem = s(a) + s(b) - s(n)
    tx, ty = (a - 1.0) * e_log_x, (b - 1.0) * e_log_y
    value = logs + HALF_LOG_2PI + rem - tx - ty
    size = jnp.abs(logs) + HALF_LOG_2PI + jnp.abs(rem) + jnp.abs(tx) + jnp.abs(ty)
    return value, size


def _normal_cross_entropy(loc, scale, mean, variance):
    """``-E_p[log Normal(loc, scale)(x)] = log(2π)/2 + log scale + (var + (mean - loc)²) /
    (2 scale²)``."""
    z = (mean - loc) / scale
    return HALF_LOG_2PI + jnp.log(scale) + 0.5 * (variance / (scale * scale) + z * z)


_PHI_TERMS = 17  # 0.1^16 / (17 · 18) < 1e-18


def _uniform_log_gap(t, u):
    """``φ = E[log x] - log high <= 0`` for ``x ~ Uniform(low, high)``, ``0 <= low < high``,
    given ``t = low/high`` and ``u = 1 - t = (high - low)/high``: ``-1 - t log t / u``, and
    ``-Σ_{k>=1} u^k / (k (k+1))`` below ``u = 0.1`` (the closed form's derivative cancels
    there)."""
    small = u < 0.1
    us = jnp.where(small, u, 0.0)
    series = jnp.zeros_like(us)
    for k in range(_PHI_TERMS, 0, -1):
        series = (1.0 / (k * (k + 1)) + series) * us
    tf, uf = jnp.where(small, 0.5, t), jnp.where(small, 0.5, u)
    xlogx = jnp.where(tf > 0, tf * jnp.log(jnp.where(tf > 0, tf, 1.0)), 0.0)
    return jnp.where(small, -series, -1.0 - xlogx / uf)


def _uniform_log_mean_gap(t, u):
    """``E[log x] - log E[x] <= 0`` for ``x ~ Uniform(low, high)``, ``0 <= low < high`` (same
    ``t``, ``u`` as :func:`_uniform_log_gap`): ``φ(u) - log1p(-u/2)``, and below ``u = 0.1``
    the series ``Σ_{k>=2} (2^{-k}/k - 1/(k(k+1))) u^k`` (``-u²/24 - ...``)."""
    small = u < 0.1
    us = jnp.where(small, u, 0.0)
    series = jnp.zeros_like(us)
    for k in range(_PHI_TERMS, 1, -1):
        series = (0.5**k / k - 1.0 / (k * (k + 1)) + series) * us
    series = series * us
    uf = jnp.where(small, 0.5, u)
    direct = _uniform_log_gap(t, uf) - jnp.log1p(-0.5 * uf)
    return jnp.where(small, series, direct)


def _cb_log_density_parts(d, dtype):
    """``(A, y)`` with ``log p(x) = A + (2x - 1) y`` for a ContinuousBernoulli (``y`` half its
    logits, ``A = log C - log 2 - log cosh y`` its log density at 1/2)."""
    a = jnp.asarray(d._log_prob(jnp.asarray(0.5, d.dtype)), dtype)
    return a, jnp.asarray(d._half_logits(), dtype)


def _cb_slope(d, dtype):
    """``2 E[x] - 1`` of a ContinuousBernoulli, formed without the rounding of ``E[x]`` near
    1/2 (the same expressions as its ``mean``: torch's Taylor polynomial inside ``lims``, the
    Langevin function ``L(y)`` outside)."""
    inside, x = d._taylor_region()
    lang, _ = _langevin(d._half_logits())
    taylor = 2.0 * (1.0 / 3.0 + 16.0 / 45.0 * jnp.square(x)) * x
    return jnp.asarray(jnp.where(inside, taylor, lang), dtype)


def _cb_cross_entropy(q, slope, dtype):
    """``-E_p[log q(x)] = -A_q - (2 E_p[x] - 1) y_q`` for a ContinuousBernoulli ``q``, given
    ``slope = 2 E_p[x] - 1``."""
    a, y = _cb_log_density_parts(q, dtype)
    return -a - slope * y


# ----------------------------------------------------------------- same-family pairs
@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    """``(r² - 1)/2 - log r + ((μp - μq)/σq)²/2``, ``r = σp/σq`` (torch's formula, Wikipedia
    "Normal distribution", KL section), scale part without cancellation."""
    shape, dtype = _setup(p, q)
    mp, sp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, sq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    d = (mp - mq) / sq
    return _finish(_scale_divergence(sp, sq) + 0.5 * d * d, shape, dtype)


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    """KL is invariant under the common bijection ``exp``: the Normal KL of the logs (torch
    reaches it through TransformedDistribution)."""
    shape, dtype = _setup(p, q)
    mp, sp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, sq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    d = (mp - mq) / sq
    return _finish(_scale_divergence(sp, sq) + 0.5 * d * d, shape, dtype)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    """``(r² - 1)/2 - log r``, ``r = σp/σq``: the Normal KL of the zero-mean base laws
    (torch's ``_kl_halfnormal_halfnormal``)."""
    shape, dtype = _setup(p, q)
    return _finish(
        _scale_divergence(_get(p, "scale", dtype), _get(q, "scale", dtype)), shape, dtype
    )


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    """``log(((σp + σq)² + (μp - μq)²) / (4 σp σq))`` (Chyzak & Nielsen 2019,
    arXiv:1905.10965; torch), as ``log1p(((r - 1)² + d²) / (4r))`` with ``r = σp/σq``,
    ``d = (μp - μq)/σq``, accurate near ``p = q``."""
    shape, dtype = _setup(p, q)
    mp, sp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, sq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    # ((r - 1)² + d²)/(4r) as ((sp - sq)/sq · (sp - sq)/sp + Δ/sq · Δ/sp)/4: no division by
    # the (possibly huge) 4r, whose float32 reverse-mode rule underflows.
    diff, delta = sp - sq, mp - mq
    z = 0.25 * ((diff / sq) * (diff / sp) + (delta / sq) * (delta / sp))
    return _finish(jnp.log1p(z), shape, dtype)


@register_kl(HalfCauchy, HalfCauchy)
def _kl_halfcauchy_halfcauchy(p, q):
    """``log((σp + σq)² / (4 σp σq))``: ``log p/q`` depends on ``x²`` only, so this is the
    Cauchy KL of the zero-location base laws (torch: via TransformedDistribution)."""
    shape, dtype = _setup(p, q)
    sp, sq = _get(p, "scale", dtype), _get(q, "scale", dtype)
    diff = sp - sq
    return _finish(jnp.log1p(0.25 * (diff / sq) * (diff / sp)), shape, dtype)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    """``-log r + |Δ|/bq + r e^{-|Δ|/bp} - 1`` (Gil 2011, MSc thesis, Queen's University;
    torch), ``r = bp/bq``, as ``(r - 1 - log r) + r (e^{-a} - 1 + a)`` with ``a = |Δ|/bp``,
    both terms ``>= 0``; for ``a > 1`` the second as ``|Δ|/bq + r expm1(-a)``."""
    shape, dtype = _setup(p, q)
    mp, bp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, bq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    dist = jnp.abs(mp - mq)
    a = dist / bp
    r = bp / bq
    small = a <= 1.0
    loc_term = jnp.where(
        small, r * _expm1mx(jnp.where(small, -a, 0.0)), dist / bq + r * jnp.expm1(-a)
    )
    return _finish(_tm1mlog(bp, bq) + loc_term, shape, dtype)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    """torch's formula ``-log r + (μp - μq)/βq + γ r + e^c - 1 - γ``, ``r = βp/βq``,
    ``c = (μq - μp)/βq + lgamma(1 + r)``, written as ``expm1mx(c) + lgamma(r) + (r - 1) γ``
    (the latter the Bregman divergence of ``lgamma`` from 1), both terms ``>= 0``."""
    shape, dtype = _setup(p, q)
    mp, bp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, bq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    r = bp / bq
    c = (mq - mp) / bq + _lgamma1p(r)
    return _finish(_expm1mx(c) + _lgamma_bregman(jnp.ones_like(r), r), shape, dtype)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    """``t - 1 - log t``, ``t = λq/λp`` (torch's formula)."""
    shape, dtype = _setup(p, q)
    return _finish(_tm1mlog(_get(q, "rate", dtype), _get(p, "rate", dtype)), shape, dtype)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    """torch's ``αq log(βp/βq) + lgamma(αq) - lgamma(αp) + (αp - αq) ψ(αp) + (βq - βp) αp/βp``
    (Penny 2001, "KL-divergences of Normal, Gamma, Dirichlet and Wishart densities"),
    rearranged without cancellation (see ``_gamma_gamma``). Also Chi2 (a Gamma subclass)."""
    shape, dtype = _setup(p, q)
    value = _gamma_gamma(
        _get(p, "concentration", dtype),
        _get(p, "rate", dtype),
        _get(q, "concentration", dtype),
        _get(q, "rate", dtype),
    )
    return _finish(value, shape, dtype)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    """torch's ``log B(αq, βq) - log B(αp, βp) + Σ (αp - αq) ψ(αp) + ... - (np - nq) ψ(np)``
    (Kurt, "KL divergence between two Dirichlet and Beta distributions") in whichever exact
    form has smaller terms: ``D(αp, αq) + D(βp, βq) - D(np, nq)`` with ``D`` the Bregman
    divergence of ``lgamma`` (the linear terms cancel exactly since ``Δα + Δβ = Δn``;
    accurate near ``p = q``), or ``-H(p)`` plus the cross-entropy in Stirling form."""
    shape, dtype = _setup(p, q)
    ap, bp = _get(p, "concentration1", dtype), _get(p, "concentration0", dtype)
    aq, bq = _get(q, "concentration1", dtype), _get(q, "concentration0", dtype)
    np_, nq = ap + bp, aq + bq
    d_a, d_b, d_n = _lgamma_bregman(ap, aq), _lgamma_bregman(bp, bq), _lgamma_bregman(np_, nq)
    bregman = d_a + d_b - d_n
    # Far apart (e.g. Beta(1e5, 2e5) against Beta(1, 1)) the D's are huge: -H(p) + CE(p, q)
    # with E[log x] - log(aq/nq) = log(ap/np) - log(aq/nq) + δ(ap) - δ(np).
    dml = digamma_minus_log
    e_x = jnp.log1p(bq / aq) - jnp.log1p(bp / ap) + dml(ap) - dml(np_)
    e_y = jnp.log1p(aq / bq) - jnp.log1p(ap / bp) + dml(bp) - dml(np_)
    ce, ce_size = _beta_cross_entropy(aq, bq, e_x, e_y)
    neg_h = _neg_entropy(p, dtype)
    value = jnp.where(d_a + d_b + d_n <= ce_size + jnp.abs(neg_h), bregman, neg_h + ce)
    return _finish(value, shape, dtype)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    """``E_p[log p - log q] = A_p - A_q + (2 E_p[x] - 1)(y_p - y_q)`` with
    ``log p(x) = A + (2x - 1) y`` (torch's ``mean (η_p - η_q) + log C_p + log(1 - λ_p) -
    log C_q - log(1 - λ_q)`` in half-logits ``y = η/2``)."""
    shape, dtype = _setup(p, q)
    a_p, y_p = _cb_log_density_parts(p, dtype)
    a_q, y_q = _cb_log_density_parts(q, dtype)
    return _finish(a_p - a_q + _cb_slope(p, dtype) * (y_p - y_q), shape, dtype)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    """``log(αp/αq) + αq log(sp/sq) + αq/αp - 1`` (Gil 2011; torch), ``inf`` for
    ``sp < sq``."""
    shape, dtype = _setup(p, q)
    sp, ap = _get(p, "scale", dtype), _get(p, "alpha", dtype)
    sq, aq = _get(q, "scale", dtype), _get(q, "alpha", dtype)
    ok = sp >= sq
    sp_ok = jnp.where(ok, sp, sq)
    value = _tm1mlog(aq, ap) + aq * _log_ratio(sp_ok, sq)
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    """``log((hq - lq) / (hp - lp))``, ``inf`` unless ``[lp, hp] ⊆ [lq, hq]`` (torch)."""
    shape, dtype = _setup(p, q)
    lp, hp = _get(p, "low", dtype), _get(p, "high", dtype)
    lq, hq = _get(q, "low", dtype), _get(q, "high", dtype)
    ok = (lq <= lp) & (hp <= hq)
    return _finish(jnp.where(ok, _log_ratio(hq - lq, hp - lp), jnp.inf), shape, dtype)


# ------------------------------------------------------------------------ infinite pairs
@register_kl(Beta, Pareto)
@register_kl(ContinuousBernoulli, Pareto)
@register_kl(Exponential, Beta)
@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Exponential, Pareto)
@register_kl(Exponential, Uniform)
@register_kl(Gamma, Beta)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gamma, Pareto)
@register_kl(Gamma, Uniform)
@register_kl(Gumbel, Beta)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
@register_kl(Normal, Beta)
@register_kl(Normal, ContinuousBernoulli)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
@register_kl(Pareto, Beta)
@register_kl(Pareto, ContinuousBernoulli)
@register_kl(Pareto, Uniform)
def _kl_infinite(p, q):
    """``inf``: ``p`` puts mass where ``q``'s density is 0 (torch's ``_kl_*_infinity``)."""
    shape, dtype = _setup(p, q)
    return jnp.full(shape, jnp.inf, dtype)


# ------------------------------------------------------------------ Beta against others
def _beta_moments(p, dtype):
    a, b = _get(p, "concentration1", dtype), _get(p, "concentration0", dtype)
    n = a + b
    return a, b, n, a / n


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p, q):
    """``-H(p) - A_q - (2 E_p[x] - 1) y_q`` (torch's ``-H(p) - E[x] η_q - log(1 - λ_q) -
    log C_q``)."""
    shape, dtype = _setup(p, q)
    a, b, n, _ = _beta_moments(p, dtype)
    # 2 E[x] - 1 = (a - b)/n, without rounding E[x].
    value = _neg_entropy(p, dtype) + _cb_cross_entropy(q, (a - b) / n, dtype)
    return _finish(value, shape, dtype)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    """``-H(p) - log λ + λ E_p[x]`` (torch)."""
    shape, dtype = _setup(p, q)
    rate = _get(q, "rate", dtype)
    mean = _beta_moments(p, dtype)[3]
    return _finish(_neg_entropy(p, dtype) - jnp.log(rate) + rate * mean, shape, dtype)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    """``-H(p) + lgamma(αq) - αq log βq - (αq - 1)(ψ(a) - ψ(n)) + βq a/n`` (torch), the
    Gamma cross-entropy in Stirling form with ``E[log x] - log E[x] = δ(a) - δ(n)``,
    ``δ = ψ - log``."""
    shape, dtype = _setup(p, q)
    a, b, n, mean = _beta_moments(p, dtype)
    d = digamma_minus_log(a) - digamma_minus_log(n)
    log_mean = -jnp.log1p(b / a)
    ce, _ = _gamma_cross_entropy(
        _get(q, "concentration", dtype), _get(q, "rate", dtype), mean, log_mean, d
    )
    return _finish(_neg_entropy(p, dtype) + log_mean + ce, shape, dtype)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (Var + (E[x] - μ)²) / (2σ²)`` (torch)."""
    shape, dtype = _setup(p, q)
    a, b, n, mean = _beta_moments(p, dtype)
    var = mean * (b / n) / (n + 1.0)
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), mean, var)
    return _finish(_neg_entropy(p, dtype) + ce, shape, dtype)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    """``-H(p) + log(high - low)``, ``inf`` unless ``low <= 0`` and ``high >= 1`` (torch)."""
    shape, dtype = _setup(p, q)
    lq, hq = _get(q, "low", dtype), _get(q, "high", dtype)
    ok = (lq <= 0) & (hq >= 1)
    value = _neg_entropy(p, dtype) + jnp.log(hq - lq)
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


# ------------------------------------------------------- ContinuousBernoulli against others
@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q):
    """``-H(p) - log λ + λ E_p[x]`` (torch)."""
    shape, dtype = _setup(p, q)
    rate = _get(q, "rate", dtype)
    value = _neg_entropy(p, dtype) - jnp.log(rate) + rate * jnp.asarray(p.mean, dtype)
    return _finish(value, shape, dtype)


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (Var + (E[x] - μ)²) / (2σ²)`` (torch)."""
    shape, dtype = _setup(p, q)
    ce = _normal_cross_entropy(
        _get(q, "loc", dtype),
        _get(q, "scale", dtype),
        jnp.asarray(p.mean, dtype),
        jnp.asarray(p.variance, dtype),
    )
    return _finish(_neg_entropy(p, dtype) + ce, shape, dtype)


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q):
    """``-H(p) + log(high - low)``, ``inf`` unless ``low <= 0`` and ``high >= 1`` (torch
    also says ``inf`` when ``low == 0`` or ``high == 1``)."""
    shape, dtype = _setup(p, q)
    lq, hq = _get(q, "low", dtype), _get(q, "high", dtype)
    ok = (lq <= 0) & (hq >= 1)
    value = _neg_entropy(p, dtype) + jnp.log(hq - lq)
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


# ------------------------------------------------------ Exponential / Gamma against others
@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    """torch's ``-αq log(βq/λ) + βq/λ + lgamma(αq) + αq γ - 1 - γ``: the Gamma–Gamma KL with
    ``αp = 1``."""
    shape, dtype = _setup(p, q)
    rate = _get(p, "rate", dtype)
    value = _gamma_gamma(
        jnp.ones_like(rate), rate, _get(q, "concentration", dtype), _get(q, "rate", dtype)
    )
    return _finish(value, shape, dtype)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    """torch's ``-H(p) - log λ + λ αp/βp``: the Gamma–Gamma KL with ``αq = 1``."""
    shape, dtype = _setup(p, q)
    ap = _get(p, "concentration", dtype)
    value = _gamma_gamma(ap, _get(p, "rate", dtype), jnp.ones_like(ap), _get(q, "rate", dtype))
    return _finish(value, shape, dtype)


def _gamma_gumbel(neg_entropy, alpha, rate, q, dtype):
    """KL(Gamma(α, β) || Gumbel(μ, θ)) from ``-H(p)``: with ``k = βθ`` and ``m = μ/θ``,
    ``E[e^{-x/θ}] = (1 + 1/k)^{-α}``, and torch's formula becomes
    ``-H(p) + log θ + 1 - α log1pmx(1/k) + expm1mx(c)``, ``c = m - α log1p(1/k)``."""
    mu, theta = _get(q, "loc", dtype), _get(q, "scale", dtype)
    inv_k = 1.0 / (rate * theta)
    c = mu / theta - alpha * jnp.log1p(inv_k)
    return neg_entropy + jnp.log(theta) + 1.0 - alpha * log1pmx(inv_k) + _expm1mx(c)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    """torch's ``log k - 1 - m + e^m k/(k + 1) + 1/k`` (``k = λθ``, ``m = μ/θ``): the
    Gamma–Gumbel form with ``α = 1``."""
    shape, dtype = _setup(p, q)
    rate = _get(p, "rate", dtype)
    value = _gamma_gumbel(jnp.log(rate) - 1.0, jnp.ones_like(rate), rate, q, dtype)
    return _finish(value, shape, dtype)


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    """torch's ``(α - 1) ψ(α) - lgamma(α) - α + log k + α/k + e^m (1 + 1/k)^{-α} - m``
    (``k = βθ``, ``m = μ/θ``), see ``_gamma_gumbel``."""
    shape, dtype = _setup(p, q)
    value = _gamma_gumbel(
        _neg_entropy(p, dtype), _get(p, "concentration", dtype), _get(p, "rate", dtype), q, dtype
    )
    return _finish(value, shape, dtype)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (1/λ² + (1/λ - μ)²) / (2σ²)``, ``H(p) = 1 - log λ`` (torch)."""
    shape, dtype = _setup(p, q)
    rate = _get(p, "rate", dtype)
    mean = 1.0 / rate
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), mean, mean * mean)
    return _finish(jnp.log(rate) - 1.0 + ce, shape, dtype)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (α/β² + (α/β - μ)²) / (2σ²)`` (torch)."""
    shape, dtype = _setup(p, q)
    a, b = _get(p, "concentration", dtype), _get(p, "rate", dtype)
    mean = a / b
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), mean, mean / b)
    return _finish(_neg_entropy(p, dtype) + ce, shape, dtype)


# ----------------------------------------------------- location-scale families vs others
@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (π² βp²/6 + (μp + γ βp - μq)²) / (2σ²)``,
    ``H(p) = log βp + γ + 1`` (torch)."""
    shape, dtype = _setup(p, q)
    mp, bp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mean = mp + _EULER_GAMMA * bp
    var = (math.pi**2 / 6.0) * bp * bp
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), mean, var)
    return _finish(ce - jnp.log(bp) - (_EULER_GAMMA + 1.0), shape, dtype)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (2 b² + (μp - μq)²) / (2σ²)``, ``H(p) = 1 + log 2b``
    (torch)."""
    shape, dtype = _setup(p, q)
    mp, bp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), mp, 2.0 * bp * bp)
    return _finish(ce - jnp.log(bp) - (1.0 + _LOG_2), shape, dtype)


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    """torch's ``-log r + (μp - μq)/β + e^c - (1 + log 2π)/2`` with ``r = σ/β``,
    ``c = (μq - μp)/β + r²/2`` (``E[e^{-x/β}]`` of the normal), written as
    ``expm1mx(c) + r²/2 - log r + 1/2 - log(2π)/2``."""
    shape, dtype = _setup(p, q)
    mp, sp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, bq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    r = sp / bq
    c = (mq - mp) / bq + 0.5 * r * r
    value = _expm1mx(c) + 0.5 * r * r - _log_ratio(sp, bq) + 0.5 - HALF_LOG_2PI
    return _finish(value, shape, dtype)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    """``-log r + (σ √(2/π) e^{-z²/2} + Δ erf(z/√2)) / b - (1 + log(π/2))/2`` with
    ``r = σ/b``, ``Δ = μp - μq``, ``z = Δ/σ`` (``E|x - μq|`` of the normal; torch)."""
    shape, dtype = _setup(p, q)
    mp, sp = _get(p, "loc", dtype), _get(p, "scale", dtype)
    mq, bq = _get(q, "loc", dtype), _get(q, "scale", dtype)
    delta = mp - mq
    z = delta / sp
    mean_abs = sp * _SQRT_2_OVER_PI * jnp.exp(-0.5 * z * z) + delta * special.erf(
        z / math.sqrt(2.0)
    )
    value = mean_abs / bq - _log_ratio(sp, bq) - 0.5 - _HALF_LOG_HALF_PI
    return _finish(value, shape, dtype)


# ------------------------------------------------------------------- Pareto against others
def _pareto_parts(p, dtype, above):
    """``(scale, alpha, ok)`` with ``ok = alpha > above`` and ``alpha`` replaced by a safe
    value where not (double where: the ``inf`` entries get zero, not NaN, gradients)."""
    s, a = _get(p, "scale", dtype), _get(p, "alpha", dtype)
    ok = a > above
    return s, jnp.where(ok, a, above + 1.0), ok


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    """``-H(p) - log λ + λ α s/(α - 1)``, ``H(p) = log(s/α) + 1/α + 1``; ``inf`` for
    ``α <= 1`` (infinite mean; torch)."""
    shape, dtype = _setup(p, q)
    s, a, ok = _pareto_parts(p, dtype, 1.0)
    rate = _get(q, "rate", dtype)
    # E[x] = s α/(α - 1) written s + s/(α - 1), whose α-derivative does not cancel near 1.
    mean = s + s / (a - 1.0)
    value = jnp.log(a) - jnp.log(s * rate) - 1.0 / a - 1.0 + rate * mean
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    """``-H(p) + lgamma(αq) - αq log βq - (αq - 1)(log s + 1/α) + βq α s/(α - 1)`` (torch),
    the cross-entropy in Stirling form with ``E[log x] - log E[x] = log1pmx(-1/α)``;
    ``inf`` for ``α <= 1``."""
    shape, dtype = _setup(p, q)
    s, a, ok = _pareto_parts(p, dtype, 1.0)
    mean = s + s / (a - 1.0)
    d = log1pmx(-1.0 / a)
    ce, _ = _gamma_cross_entropy(
        _get(q, "concentration", dtype), _get(q, "rate", dtype), mean, jnp.log(mean), d
    )
    # -H(p) + log E[x] = log α - 1/α - 1 - log1p(-1/α) = log α - 1 - log1pmx(-1/α).
    value = jnp.log(a) - 1.0 - d + ce
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    """``-H(p) + log(2π σ²)/2 + (Var + (E[x] - μ)²) / (2σ²)`` with the Pareto moments
    ``E[x] = α s/(α - 1)``, ``Var = α s²/((α - 1)² (α - 2))``; ``inf`` for ``α <= 2`` (torch)."""
    shape, dtype = _setup(p, q)
    s, a, ok = _pareto_parts(p, dtype, 2.0)
    sm = s / (a - 1.0)
    var = a * sm * sm / (a - 2.0)
    ce = _normal_cross_entropy(_get(q, "loc", dtype), _get(q, "scale", dtype), s + sm, var)
    neg_entropy = jnp.log(a / s) - 1.0 / a - 1.0
    return _finish(jnp.where(ok, neg_entropy + ce, jnp.inf), shape, dtype)


# ------------------------------------------------------------------ Uniform against others
def _uniform_parts(p, dtype, low_min=None, high_max=None):
    """``(low, high, ok)``: ``ok`` where ``low_min <= low`` and ``high <= high_max``; elsewhere
    ``low, high`` are replaced by a safe interval inside the bounds (double where)."""
    low, high = _get(p, "low", dtype), _get(p, "high", dtype)
    ok = jnp.ones(jnp.shape(low * high), bool)
    if low_min is not None:
        ok = ok & (low >= low_min)
    if high_max is not None:
        ok = ok & (high <= high_max)
    lo = 0.0 if low_min is None else low_min
    hi = lo + 1.0 if high_max is None else high_max
    safe_low = 0.75 * lo + 0.25 * hi
    safe_high = 0.25 * lo + 0.75 * hi
    return jnp.where(ok, low, safe_low), jnp.where(ok, high, safe_high), ok


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    """torch's ``-log w + log B(a, b) - (a - 1) E[log x] - (b - 1) E[log(1 - x)]``
    (``w = h - l``), with Stirling's ``log B`` and ``E[log(x/π_a)] = log(h/π_a) + φ``
    (``π_a = a/n``, ``φ`` from :func:`_uniform_log_gap`), so no terms of size ``n log n``
    cancel; ``inf`` unless ``0 <= l`` and ``h <= 1``."""
    shape, dtype = _setup(p, q)
    low, high, ok = _uniform_parts(p, dtype, 0.0, 1.0)
    a, b = _get(q, "concentration1", dtype), _get(q, "concentration0", dtype)
    n = a + b
    width = high - low
    one_m_low = 1.0 - low
    e_log_x = _log_ratio(high, a / n) + _uniform_log_gap(low / high, width / high)
    e_log_y = _log_ratio(one_m_low, b / n) + _uniform_log_gap(
        (1.0 - high) / one_m_low, width / one_m_low
    )
    ce, _ = _beta_cross_entropy(a, b, e_log_x, e_log_y)
    return _finish(jnp.where(ok, ce - jnp.log(width), jnp.inf), shape, dtype)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q):
    """``-log w - A_q - (l + h - 1) y_q`` (torch's ``-H(p) - E[x] η_q - log(1 - λ_q) -
    log C_q``); ``inf`` unless ``0 <= l`` and ``h <= 1`` (torch: also at ``l == 0`` or
    ``h == 1``)."""
    shape, dtype = _setup(p, q)
    low, high, ok = _uniform_parts(p, dtype, 0.0, 1.0)
    value = -jnp.log(high - low) + _cb_cross_entropy(q, low + high - 1.0, dtype)
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    """``λ (l + h)/2 - log(λ (h - l))``, ``inf`` for ``l < 0`` (torch)."""
    shape, dtype = _setup(p, q)
    low, high, ok = _uniform_parts(p, dtype, 0.0)
    rate = _get(q, "rate", dtype)
    value = 0.5 * rate * (low + high) - jnp.log(rate * (high - low))
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    """torch's ``-log w + lgamma(α) - α log β + (1 - α) E[log x] + β (l + h)/2``, the
    cross-entropy in Stirling form; ``inf`` for ``l < 0``."""
    shape, dtype = _setup(p, q)
    low, high, ok = _uniform_parts(p, dtype, 0.0)
    mean = 0.5 * (low + high)
    width = high - low
    d = _uniform_log_mean_gap(low / high, width / high)
    log_mean = jnp.log(mean)
    ce, _ = _gamma_cross_entropy(
        _get(q, "concentration", dtype), _get(q, "rate", dtype), mean, log_mean, d
    )
    return _finish(jnp.where(ok, ce + log_mean - jnp.log(width), jnp.inf), shape, dtype)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    """torch's ``log(θ/w) + (z_h + z_l)/2 - (θ/w)(e^{-z_h} - e^{-z_l})`` (``z = (x - μ)/θ``)
    as ``expm1mx(c) + 1 + v/2 + g - log v`` with ``v = w/θ``,
    ``g = log((1 - e^{-v})/v) = log1p(-expm1mx(-v)/v)`` and ``c = -z_l + g`` (no overflow of
    ``e^{-z_l}``, and ``g ≈ -v/2`` exact for small ``v``)."""
    shape, dtype = _setup(p, q)
    low, high = _get(p, "low", dtype), _get(p, "high", dtype)
    mu, theta = _get(q, "loc", dtype), _get(q, "scale", dtype)
    v = (high - low) / theta
    log_v = jnp.log(v)
    small = v < 0.5
    vs, vb = jnp.where(small, v, 0.5), jnp.where(small, 1.0, v)
    g = jnp.where(small, jnp.log1p(-_expm1mx(-vs) / vs), log1mexp(vb) - jnp.log(vb))
    c = (mu - low) / theta + g
    return _finish(_expm1mx(c) + 1.0 + 0.5 * v + g - log_v, shape, dtype)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    """``-log w + log(2π σ²)/2 + (w²/12 + ((l + h)/2 - μ)²) / (2σ²)`` (torch)."""
    shape, dtype = _setup(p, q)
    low, high = _get(p, "low", dtype), _get(p, "high", dtype)
    width = high - low
    ce = _normal_cross_entropy(
        _get(q, "loc", dtype), _get(q, "scale", dtype), 0.5 * (low + high), width * width / 12.0
    )
    return _finish(ce - jnp.log(width), shape, dtype)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    """torch's ``(α + 1) E[log x] - log(α s^α w)`` as
    ``-log(w/h) - log α + α (log(h/s) + φ) + φ`` (``φ = E[log x] - log h``, no ``s^α``
    overflow); ``inf`` for ``l < s``."""
    shape, dtype = _setup(p, q)
    s, alpha = _get(q, "scale", dtype), _get(q, "alpha", dtype)
    low, high = _get(p, "low", dtype), _get(p, "high", dtype)
    ok = low >= s
    # Safe stand-in interval [s, 2s] where p starts below s.
    low, high = jnp.where(ok, low, s), jnp.where(ok, high, 2.0 * s)
    u = (high - low) / high
    phi = _uniform_log_gap(low / high, u)
    value = -jnp.log(u) - jnp.log(alpha) + alpha * (_log_ratio(high, s) + phi) + phi
    return _finish(jnp.where(ok, value, jnp.inf), shape, dtype)
