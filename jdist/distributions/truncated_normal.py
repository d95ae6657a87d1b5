"""Normal distribution truncated to an interval ``[low, high]`` (either end may be infinite).

Numerics. With ``α = (low - loc)/scale``, ``β = (high - loc)/scale``, everything is computed
in a *frame* reflected (``s -> -s``) so that the window's midpoint is ``>= 0``; then, with
``a <= b`` the frame's ends and ``w = (high - low)/scale`` the width (formed directly, never
as ``b - a``):

* "tail frame" (``a >= 0``, or a narrow window ``w (|a| + |b|) <= 4``): the mass and moments
  are taken relative to the left end, ``M_k = ∫_0^w t^k e^{-a t - t²/2} dt = ∫_a^b (s-a)^k
  φ(s)/φ(a) ds``, so ``Z = φ(a) M_0``, mean ``= a + M_1/M_0``, variance ``= M_2/M_0 -
  (M_1/M_0)²``: no huge ``φ(a)`` or ``a²`` ever meets its complement (a [40, 41] window keeps
  float32 accuracy). Narrow windows use 20-point Gauss–Legendre quadrature (the integrand
  ``e^{-a t - t²/2}`` varies by at most ``e^{±2}``); wide ones use Mills-ratio continued
  fractions: with ``T_0(x) = Φ(-x)/φ(x) = 1/(x + 1/(x + 2/(x + ...)))`` (Laplace) and its tails
  ``T_k = 1/(x + (k+1) T_{k+1})``, ``∫_0^∞ t^k e^{-x t - t²/2} dt = k! T_0 ... T_k``, and the
  part beyond ``w`` is ``e^{-D}`` times the same integrals at ``b`` (``D = w (a + b)/2``).
* "straddle frame" (``a < 0 <= b``, wide): ``Z = (erf(b/√2) - erf(a/√2))/2``, a sum of two
  positive terms, and the textbook moments (Johnson, Kotz & Balakrishnan, "Continuous
  Univariate Distributions", vol. 1, §10.1), which do not cancel there.

The quantile function inverts ``Φ`` in log space (:func:`_ndtri_exp`), then in the tail frame
refines the offset ``t`` from the window's end by Newton steps on ``log M_0(a, t)`` (or on the
log upper mass), so ``icdf`` and ``rsample`` keep relative accuracy in ``x - low`` even where
``|x| << |loc|``.

Derivatives: ``log_prob``, ``log_cdf``/``log_sf`` and ``icdf`` (hence ``rsample``) carry
closed-form JVPs (the implicit function theorem for ``icdf``: ``dx = -dF/p(x)``), written with
the same log-space ratios, so they are exact, NaN-free at infinite ends, and spare XLA from
differentiating the case analysis above.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero
from jax.scipy import special

from jdist import constraints
from jdist._math import HALF_LOG_2PI, LOG_2PI, log1mexp, standardize
from jdist.distribution import Distribution, check_condition

__all__ = ["TruncatedNormal"]

_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_NARROW = 4.0  # quadrature where w (|a| + |b|) <= 4, i.e. exponent range <= 2
_MILLS_SWITCH = 2.0  # continued fraction for T_k(x) from x = 2 on
_CF_TERMS = {32: 40, 64: 100}  # converged to 3e-10 / 1e-16 at x = 2
_NEWTON_STEPS = 3
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_GL_X, _GL_W = (_GL_X + 1.0) / 2.0, _GL_W / 2.0  # on [0, 1]


def _stacked(f, *calls):
    """``[f(*args) for args in calls]`` as one call on stacked arguments: one copy of ``f``'s
    graph instead of several keeps XLA's compile time down."""
    n = len(calls[0])
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for args in calls for v in args))
    stacked = [jnp.stack([jnp.broadcast_to(args[i], shape) for args in calls]) for i in range(n)]
    out = f(*stacked)
    if isinstance(out, tuple):
        return [tuple(o[k] for o in out) for k in range(len(calls))]
    return [out[k] for k in range(len(calls))]


def _log_phi(x):
    return -0.5 * jnp.square(x) - HALF_LOG_2PI


@jax.custom_jvp
def _ndtri_exp(y):
    """``Φ⁻¹(exp(y))`` for ``y <= 0``, also where ``exp(y)`` underflows (``y`` to ``-1e30``)."""
    dtype = y.dtype
    log_tiny = math.log(float(jnp.finfo(dtype).tiny)) + 1.0
    upper = y > -math.log(2.0)
    tail = y < log_tiny
    x_up = -special.ndtri(-jnp.expm1(jnp.where(upper, y, -1.0)))
    x_mid = special.ndtri(jnp.exp(jnp.where(upper | tail, -1.0, y)))
    # Far tail: start from log Φ(x) ≈ -x²/2 - log(-x) - log(2π)/2 and polish by Newton on
    # log Φ, whose derivative is φ(x)/Φ(x) (log_ndtr is accurate there: asymptotic series).
    y_t = jnp.where(tail, y, log_tiny - 1.0)
    t = -2.0 * y_t - LOG_2PI
    x = -jnp.sqrt(t - jnp.log(t))

    def newton(_, x):
        log_cdf = special.log_ndtr(x)
        return x - (log_cdf - y_t) * jnp.exp(log_cdf - _log_phi(x))

    x = jax.lax.fori_loop(0, 4, newton, x)
    x = jnp.where(y == -jnp.inf, -jnp.inf, x)
    return jnp.where(upper, x_up, jnp.where(tail, x, x_mid))


@_ndtri_exp.defjvp
def _ndtri_exp_jvp(primals, tangents):
    (y,), (dy,) = primals, tangents
    x = _ndtri_exp(y)
    # dx/dy = Φ(x)/φ(x) = exp(y - log φ(x)).
    return x, dy * jnp.exp(y - _log_phi(x))


def _mills_tails(x):
    """``(T_0, T_1, T_2, T_3)`` at ``x >= 0`` (``x = inf`` gives zeros); module docstring."""
    dtype = x.dtype
    cf = x >= _MILLS_SWITCH
    # Below the switch: T_0 = √(2π) e^{x²/2} Φ(-x) and the recurrence 1 - x T_k = (k+1) T_k T_{k+1}
    # forward (it loses at most a factor 25 to cancellation at x = 2 up to T_2).
    xs = jnp.where(cf, 0.0, x)
    small = [_SQRT_2PI * jnp.exp(0.5 * jnp.square(xs)) * special.ndtr(-xs)]
    for k in range(3):
        small.append((1.0 - xs * small[-1]) / ((k + 1) * small[-1]))
    xc = jnp.where(cf, x, _MILLS_SWITCH)
    n_terms = _CF_TERMS[jnp.finfo(dtype).bits]

    def body(i, t):
        k = (n_terms - i).astype(dtype)
        return 1.0 / (xc + (k + 1.0) * t)

    big = [jax.lax.fori_loop(0, n_terms - 3, body, jnp.zeros_like(xc))]  # T_4
    for k in (3, 2, 1, 0):
        big.insert(0, 1.0 / (xc + (k + 1.0) * big[0]))
    return tuple(jnp.where(cf, b, v) for b, v in zip(big[:4], small, strict=True))


@jax.custom_jvp
def _mills(x):
    """``(P_0, P_1, P_2)``, ``P_k = ∫_0^∞ t^k e^{-x t - t²/2} dt = k! T_0 ... T_k``."""
    t0, t1, t2, _ = _mills_tails(x)
    return t0, t0 * t1, 2.0 * t0 * t1 * t2


@_mills.defjvp
def _mills_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    t0, t1, t2, t3 = _mills_tails(x)
    p1, p2 = t0 * t1, 2.0 * t0 * t1 * t2
    p3 = 3.0 * p2 * t3
    return (t0, p1, p2), (-p1 * dx, -p2 * dx, -p3 * dx)  # P_k' = -P_{k+1}


def _mills01(x):
    """``(T_0, T_1)`` at ``x >= 0`` (``x = inf`` gives zeros): ``T_0 = √(2π) e^{x²/2} Φ(-x)``
    below 5 (where rounding ``x²/2`` costs at most 13 ulps), 24 continued-fraction terms
    above (converged to 2e-16 there)."""
    cf = x >= 5.0
    xs = jnp.where(cf, 0.0, x)
    t0s = _SQRT_2PI * jnp.exp(0.5 * jnp.square(xs)) * special.ndtr(-xs)
    xc = jnp.where(cf, x, 5.0)
    t1c = jax.lax.fori_loop(0, 23, lambda i, t: (24 - i).astype(xc.dtype) / (xc + t), 0.0 * xc)
    t1c = 1.0 / (xc + t1c)
    t0c = 1.0 / (xc + t1c)
    return jnp.where(cf, t0c, t0s), jnp.where(cf, t1c, (1.0 - xs * t0s) / t0s)


@jax.custom_jvp
def _mills0(x):
    """``T_0(x) = Φ(-x)/φ(x)`` at ``x >= 0`` (``x = inf`` gives 0)."""
    return _mills01(x)[0]


@_mills0.defjvp
def _mills0_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    t0, t1 = _mills01(x)
    return t0, -t0 * t1 * dx  # T_0' = x T_0 - 1 = -T_0 T_1


def _is_narrow(a, w):
    return w * (jnp.abs(a) + jnp.abs(a + w)) <= _NARROW


def _quadrature_moments(a, w):
    """``(M_0, M_1, M_2)`` by Gauss–Legendre on ``t = w u``, ``u`` in [0, 1]."""
    u = jnp.asarray(_GL_X, a.dtype)
    weights = jnp.asarray(_GL_W, a.dtype)
    a_, w_ = a[..., None], w[..., None]
    e = weights * jnp.exp(-a_ * w_ * u - 0.5 * jnp.square(w_ * u))
    m0 = jnp.sum(e, -1)
    m1 = jnp.sum(e * u, -1)
    m2 = jnp.sum(e * u * u, -1)
    return w * m0, jnp.square(w) * m1, w * jnp.square(w) * m2


def _moments(a, w, order: int = 2):
    """``(M_0, M_1, M_2)`` of the window ``[a, a + w]`` relative to ``φ(a)`` (module docstring),
    for ``a >= 0`` or a narrow window; ``order < 2`` leaves the higher ones as zeros."""
    narrow = _is_narrow(a, w)
    q = _quadrature_moments(jnp.where(narrow, a, 0.0), jnp.where(narrow, w, 0.0))
    # Wide: ∫_0^∞ minus e^{-D} times the integrals of (w + s)^k at b = a + w.
    aw = jnp.where(narrow, 1.0, a)
    ww = jnp.where(narrow, 10.0, w)
    finite = ww < jnp.inf
    wf = jnp.where(finite, ww, 1.0)
    bf = aw + wf
    decay = jnp.where(finite, jnp.exp(-wf * (aw + 0.5 * wf)), 0.0)  # e^{-D}
    if order == 0:
        a0, b0 = _stacked(_mills0, (aw,), (bf,))
        return (jnp.where(narrow, q[0], a0 - decay * b0),)
    (a0, a1, a2), (b0, b1, b2) = _stacked(_mills, (aw,), (bf,))
    wide = (
        a0 - decay * b0,
        a1 - decay * (wf * b0 + b1),
        a2 - decay * (jnp.square(wf) * b0 + 2.0 * wf * b1 + b2),
    )
    return tuple(jnp.where(narrow, qk, wk) for qk, wk in zip(q, wide[: order + 1], strict=False))


def _safe_log(x):
    pos = x > 0
    return jnp.where(pos, jnp.log(jnp.where(pos, x, 1.0)), -jnp.inf)


def _log_m0(a, w):
    return _safe_log(_moments(a, w, order=0)[0])


def _log_ndtr_or_zero_mass(x):
    """``log Φ(x)``, ``-inf`` (with a zero gradient) at ``x = -inf``."""
    finite = x > -jnp.inf
    return jnp.where(finite, special.log_ndtr(jnp.where(finite, x, 0.0)), -jnp.inf)


def _log_erf_mass(lo, hi):
    """``log(Φ(hi) - Φ(lo))`` for ``lo <= 0 <= hi`` (two positive terms, no cancellation)."""
    return jnp.log(0.5 * (special.erf(hi / _SQRT_2) - special.erf(lo / _SQRT_2)))


# ------------------------------------------------------------------------ frame
# The members below are jitted module functions of the parameters ``p = (loc, scale, low,
# high)`` (arrays of one dtype), so eager calls do not re-trace their loops each time.


def _frame(p):
    """``(a, b, w, flip, tail)``: the frame's ends, the width, whether it is reflected, and
    whether it is a tail frame (module docstring). Infinite ends stay infinite without
    entering any arithmetic, so their gradients are zeros rather than NaN."""
    loc, scale, low, high = p
    lo_fin, hi_fin = jnp.isfinite(low), jnp.isfinite(high)
    low_s, high_s = jnp.where(lo_fin, low, 0.0), jnp.where(hi_fin, high, 0.0)
    # (standardize: derivatives through z, not scale⁻², which overflows for tiny scales.)
    alpha = jnp.where(lo_fin, standardize(low_s, loc, scale), -jnp.inf)
    beta = jnp.where(hi_fin, standardize(high_s, loc, scale), jnp.inf)
    w = jnp.where(lo_fin & hi_fin, standardize(high_s, low_s, scale), jnp.inf)
    flip = alpha + beta < 0
    a = jnp.where(flip, -beta, alpha)
    b = jnp.where(flip, -alpha, beta)
    tail = (a >= 0) | _is_narrow(jnp.where(jnp.isfinite(a), a, 0.0), w)
    return a, b, w, flip, tail


def _tail_inputs(a, w, tail):
    return jnp.where(tail, a, 0.0), jnp.where(tail, w, 1.0)


def _offsets(p, value, flip):
    """``z' = ±(x - loc)/scale`` in the frame and its distances to the frame's ends, formed
    from ``x - low`` and ``high - x``."""
    loc, scale, low, high = p
    lo_fin, hi_fin = jnp.isfinite(low), jnp.isfinite(high)
    x = jnp.clip(value, low, high)
    zf = jnp.where(flip, loc - x, x - loc) / scale
    from_low = jnp.where(lo_fin, (x - jnp.where(lo_fin, low, 0.0)) / scale, jnp.inf)
    to_high = jnp.where(hi_fin, (jnp.where(hi_fin, high, 0.0) - x) / scale, jnp.inf)
    return zf, jnp.where(flip, to_high, from_low), jnp.where(flip, from_low, to_high)


def _log_z_straddle(a, b, tail):
    return _log_erf_mass(jnp.where(tail, -1.0, a), jnp.where(tail, 1.0, b))


def _std_log_prob(p, value):
    """``log(φ(z)/Z)``: the log density of the standardized variable (no ``-log scale``)."""
    a, b, w, flip, tail = _frame(p)
    zf, from_a, _ = _offsets(p, value, flip)
    at, wt = _tail_inputs(a, w, tail)
    # log φ(z') - log φ(a) = -(z' - a)(z' + a)/2, with z' - a formed from x - low.
    in_tail = -0.5 * jnp.where(tail, from_a, 0.0) * (zf + at) - _log_m0(at, wt)
    in_straddle = _log_phi(zf) - _log_z_straddle(a, b, tail)
    return jnp.where(tail, in_tail, in_straddle)


def _end_densities(p, value):
    """``log(φ(z)/Z)`` at ``value`` and at both ends (``-inf`` at an infinite end), and the
    standardized tangents ``dz``, ``dα``, ``dβ`` as functions of the parameter tangents."""
    loc, scale, low, high = p
    lp_x, lp_lo, lp_hi = _stacked(lambda v: _std_log_prob(p, v), (value,), (low,), (high,))
    lo_fin, hi_fin = jnp.isfinite(low), jnp.isfinite(high)
    alpha = jnp.where(lo_fin, (jnp.where(lo_fin, low, 0.0) - loc) / scale, 0.0)
    beta = jnp.where(hi_fin, (jnp.where(hi_fin, high, 0.0) - loc) / scale, 0.0)
    z = (value - loc) / scale

    def tangents(dp, dvalue):
        dloc, dscale, dlow, dhigh = dp
        dz = (dvalue - dloc - z * dscale) / scale
        dalpha = jnp.where(lo_fin, (dlow - dloc - alpha * dscale) / scale, 0.0)
        dbeta = jnp.where(hi_fin, (dhigh - dloc - beta * dscale) / scale, 0.0)
        return dz, dalpha, dbeta

    return (lp_x, lp_lo, lp_hi), z, tangents


def _ratio(log_num, log_den):
    """``exp(log_num - log_den)``, 0 where the denominator is 0 (a constant tail)."""
    ok = log_den > -jnp.inf
    return jnp.where(ok, jnp.exp(log_num - jnp.where(ok, log_den, 0.0)), 0.0)


# log_prob, log_cdf and log_sf carry closed-form derivatives (with Z = Φ(β) - Φ(α),
# ∂ log Z/∂α = -φ(α)/Z, ∂ log Z/∂β = φ(β)/Z, and likewise for the partial masses), which
# are exact and spare XLA the differentiation of the frame's case analysis.
@jax.custom_jvp
def _log_prob_fn(p, value):
    return _std_log_prob(p, value) - jnp.log(p[1])


@_log_prob_fn.defjvp
def _log_prob_jvp(primals, tangents):
    p, value = primals
    (lp_x, lp_lo, lp_hi), z, tangent_fn = _end_densities(p, value)
    dp, dvalue = tangents
    dz, dalpha, dbeta = tangent_fn(dp, dvalue)
    d_log_z = jnp.exp(lp_hi) * dbeta - jnp.exp(lp_lo) * dalpha
    return lp_x - jnp.log(p[1]), -z * dz - dp[1] / p[1] - d_log_z


@jax.custom_jvp
def _log_cdf_sf_fn(p, value):
    """``(log P(X <= x), log P(X > x))``."""
    a, b, w, flip, tail = _frame(p)
    zf, from_a, to_b = _offsets(p, value, flip)
    at, wt = _tail_inputs(a, w, tail)
    # Tail frame: masses relative to φ(a); both sub-windows inherit the frame's case.
    zt = jnp.where(tail, zf, at)
    from_at = jnp.where(tail, from_a, 0.0)
    # Straddle frame: the sub-window on the far side of 0 from z' is reflected to a tail
    # window; the other one straddles 0 and uses erf.
    neg = zf <= 0
    zs = jnp.where(tail, 0.0, zf)
    lo_ref = jnp.where(tail | ~neg, 0.0, -zf)
    up_ref = jnp.where(tail | neg, 0.0, zf)
    log_z_tail, log_m_lower, log_m_upper, log_m_lo_ref, log_m_up_ref = _stacked(
        _log_m0,
        (at, wt),
        (at, from_at),
        (zt, jnp.where(tail, to_b, 0.0)),
        (lo_ref, jnp.where(tail | ~neg, 1.0, from_a)),
        (up_ref, jnp.where(tail | neg, 1.0, to_b)),
    )
    lower_t = log_m_lower - log_z_tail
    upper_t = -0.5 * from_at * (zt + at) + log_m_upper - log_z_tail
    log_z, lower_erf, upper_erf = _stacked(
        _log_erf_mass,
        (jnp.where(tail, -1.0, a), jnp.where(tail, 1.0, b)),
        (jnp.where(tail, -1.0, a), jnp.where(tail | neg, 1.0, zs)),
        (jnp.where(tail | ~neg, -1.0, zs), jnp.where(tail, 1.0, b)),
    )
    lower_ref = _log_phi(lo_ref) + log_m_lo_ref
    upper_ref = _log_phi(up_ref) + log_m_up_ref
    lower_s = jnp.where(neg, lower_ref, lower_erf) - log_z
    upper_s = jnp.where(neg, upper_erf, upper_ref) - log_z
    lower = jnp.minimum(jnp.where(tail, lower_t, lower_s), 0.0)
    upper = jnp.minimum(jnp.where(tail, upper_t, upper_s), 0.0)
    # The larger of the two is more accurate as log(1 - exp(the smaller one)).
    log_half = -math.log(2.0)
    lower = jnp.where(upper < log_half, log1mexp(-jnp.minimum(upper, log_half)), lower)
    upper = jnp.where(lower < log_half, log1mexp(-jnp.minimum(lower, log_half)), upper)
    return jnp.where(flip, upper, lower), jnp.where(flip, lower, upper)


@_log_cdf_sf_fn.defjvp
def _log_cdf_sf_jvp(primals, tangents):
    # With L = Φ(z) - Φ(α), U = Φ(β) - Φ(z): d log(L/Z) = φ(z)/L dz - φ(α) U/(L Z) dα
    # - φ(β)/Z dβ and d log(U/Z) = -φ(z)/U dz + φ(β) L/(U Z) dβ + φ(α)/Z dα.
    p, value = primals
    log_cdf, log_sf = _log_cdf_sf_fn(p, value)
    (lp_x, lp_lo, lp_hi), _, tangent_fn = _end_densities(p, value)
    dp, dvalue = tangents
    dz, dalpha, dbeta = tangent_fn(dp, dvalue)
    inside = (value > p[2]) & (value < p[3])
    dz = jnp.where(inside, dz, 0.0)
    d_cdf = (
        _ratio(lp_x, log_cdf) * dz
        - _ratio(lp_lo + log_sf, log_cdf) * dalpha
        - jnp.where(log_cdf > -jnp.inf, jnp.exp(lp_hi), 0.0) * dbeta
    )
    d_sf = (
        -_ratio(lp_x, log_sf) * dz
        + _ratio(lp_hi + log_cdf, log_sf) * dbeta
        + jnp.where(log_sf > -jnp.inf, jnp.exp(lp_lo), 0.0) * dalpha
    )
    return (log_cdf, log_sf), (d_cdf, d_sf)


def _newton_step(t, a, w, lq, l1q, log_m0, tail):
    """One Newton step for the offset ``t`` solving ``M_0(a, t) = q M_0(a, w)`` (lower half,
    in ``log t``) or the upper-mass equation (in ``log(w - t)``, or ``t`` if ``w = inf``)."""
    lower_half = lq <= -math.log(2.0)
    finite_w = w < jnp.inf
    rest = jnp.where(finite_w, w - t, 1.0)
    log_dens = -t * (a + 0.5 * t)  # log e^{-a t - t²/2}
    # The lower mass M_0(a, t) or the upper one e^{-a t - t²/2} M_0(a + t, w - t).
    log_mass = _log_m0(jnp.where(lower_half, a, a + t), jnp.where(lower_half, t, w - t))
    log_mass = jnp.where(lower_half, log_mass, log_dens + log_mass)
    h = log_mass - jnp.where(lower_half, lq, l1q) - log_m0
    ok = tail & jnp.isfinite(h)
    log_slope = log_dens - jnp.where(ok, log_mass, 0.0)
    log_var = jnp.where(lower_half, jnp.log(t), jnp.where(finite_w, jnp.log(rest), 0.0))
    slope = jnp.exp(log_slope + log_var)  # dh / d(Newton variable), > 0
    ok = ok & (slope > 0) & (slope < jnp.inf)
    step = jnp.where(ok, h / jnp.where(ok, slope, 1.0), 0.0)
    shrink = jnp.exp(-jnp.clip(step, -40.0, 40.0))
    new = jnp.where(lower_half, t * shrink, jnp.where(finite_w, w - rest * shrink, t + step))
    return jnp.clip(new, 0.0, w)


@jax.custom_jvp
def _icdf_fn(p, q):
    loc, scale, low, high = p
    a, b, w, flip, tail = _frame(p)
    inside = (q > 0) & (q < 1)
    qs = jnp.where(inside, q, 0.5)
    log_q, log_1mq = jnp.log(qs), jnp.log1p(-qs)
    # In the frame the quantile level is q (or 1 - q when reflected).
    lq = jnp.where(flip, log_1mq, log_q)
    l1q = jnp.where(flip, log_q, log_1mq)
    at, wt = _tail_inputs(a, w, tail)
    log_m0 = _log_m0(at, wt)

    # Initial guess x' by inverting Φ in log space.
    # Upper tail (a >= 0): Φ(-x') = φ(a) ((1 - q) M_0 + e^{-D} T_0(b)).
    # (There a >= 0 is a tail frame, so M_0 is log_m0's.)
    a_up = jnp.where(a >= 0, a, 0.0)
    w_up = jnp.where(a >= 0, w, 1.0)
    finite = w_up < jnp.inf
    wf = jnp.where(finite, w_up, 1.0)
    log_rest = jnp.where(finite, -wf * (a_up + 0.5 * wf) + jnp.log(_mills0(a_up + wf)), -jnp.inf)
    y_up = _log_phi(a_up) + jnp.logaddexp(l1q + log_m0, log_rest)
    # Straddling 0: Φ(x') = Φ(a) + q Z below 0, Φ(-x') = Φ(-b) + (1 - q) Z above.
    a_s = jnp.where(a >= 0, -1.0, a)
    b_s = jnp.where(a >= 0, 1.0, b)
    log_z = _log_erf_mass(a_s, b_s)
    below = lq + log_z <= jnp.log(0.5 * special.erf(-a_s / _SQRT_2))
    log_ends = _log_ndtr_or_zero_mass(jnp.where(below, a_s, -b_s))
    y_s = jnp.logaddexp(log_ends, jnp.where(below, lq, l1q) + log_z)
    x_up, x_s = _stacked(_ndtri_exp, (y_up,), (y_s,))
    x_up, x_lo, x_hi = -x_up, x_s, -x_s
    x0 = jnp.where(a >= 0, x_up, jnp.where(below, x_lo, x_hi))

    # Tail frame: Newton on the offset t = x' - a (module docstring) in the variable that
    # makes the equation nearly linear: log t (lower half), log(w - t) (upper half of a
    # finite window) or t (upper half of an infinite one). Seeded from x' or, where that
    # rounded onto an end of the window, from first-order masses.
    finite_w = wt < jnp.inf
    t = jnp.clip(jnp.where(tail, x0, at) - at, 0.0, wt)
    seed_low = jnp.minimum(jnp.exp(lq + log_m0), wt)
    wf = jnp.where(finite_w, wt, 1.0)
    seed_up = wf - jnp.minimum(jnp.exp(l1q + log_m0 + wf * (at + 0.5 * wf)), wf)
    t = jnp.where(t <= 0, seed_low, jnp.where(t >= wt, seed_up, t))
    t = jax.lax.fori_loop(
        0, _NEWTON_STEPS, lambda _, t: _newton_step(t, at, wt, lq, l1q, log_m0, tail), t
    )
    from_tail = jnp.where(flip, high - scale * t, low + scale * t)
    from_straddle = loc + scale * jnp.where(flip, -x0, x0)
    x = jnp.clip(jnp.where(tail, from_tail, from_straddle), low, high)
    return jnp.where(q <= 0, low, jnp.where(q >= 1, high, x))


@partial(_icdf_fn.defjvp, symbolic_zeros=True)
def _icdf_jvp(primals, tangents):
    """Implicit differentiation of ``F(x) = u``: with ``s = (x - loc)/scale``,
    ``∂s/∂α = (1 - u) φ(α)/φ(s)`` and ``∂s/∂β = u φ(β)/φ(s)``, so
    ``dx = (1 - g_a - g_b) dloc + (s (1 - g_a - g_b) + g_a (s - α) - g_b (β - s)) dscale
    + g_a dlow + g_b dhigh + du / p(x)`` with ``g_a``, ``g_b`` those two ratios, formed in log
    space from ``x - low`` and ``high - x``."""
    p, q = primals
    dp, dq = tangents
    dloc, dscale, dlow, dhigh = (_instantiate(t, v) for t, v in zip(dp, p, strict=True))
    x = _icdf_fn(p, q)
    loc, scale, low, high = p
    lo_fin, hi_fin = jnp.isfinite(low), jnp.isfinite(high)
    low_s, high_s = jnp.where(lo_fin, low, 0.0), jnp.where(hi_fin, high, 0.0)
    s = (x - loc) / scale
    from_low, to_high = (x - low_s) / scale, (high_s - x) / scale
    alpha, beta = (low_s - loc) / scale, (high_s - loc) / scale
    # log(φ(α)/φ(s)) and log(φ(β)/φ(s)), -inf at an infinite end.
    ra = jnp.where(lo_fin, 0.5 * from_low * (s + alpha), -jnp.inf)
    rb = jnp.where(hi_fin, -0.5 * to_high * (beta + s), -jnp.inf)
    below, above = q < 1, q > 0
    ga = jnp.where(below, jnp.exp(jnp.log1p(-jnp.where(below, q, 0.0)) + ra), 0.0)
    gb = jnp.where(above, jnp.exp(jnp.log(jnp.where(above, q, 1.0)) + rb), 0.0)
    # dx/dloc = 1 - g_a - g_b = (1 - u)(1 - e^{ra}) + u (1 - e^{rb}): with expm1 where the
    # ratios are near 1 (narrow windows, where dx/dloc is small and the sum would cancel).
    small_a, small_b = jnp.abs(ra) < 1, jnp.abs(rb) < 1
    term_a = jnp.where(small_a, -(1.0 - q) * jnp.expm1(jnp.where(small_a, ra, 0.0)), 1.0 - q - ga)
    term_b = jnp.where(small_b, -q * jnp.expm1(jnp.where(small_b, rb, 0.0)), q - gb)
    c = term_a + term_b
    dx_dscale = s * c + ga * jnp.where(lo_fin, from_low, 0.0) - gb * jnp.where(hi_fin, to_high, 0.0)
    dx = c * dloc + dx_dscale * dscale + ga * dlow + gb * dhigh
    if not isinstance(dq, SymbolicZero):  # rsample never needs dx/du = 1/p(x)
        inside = (q > 0) & (q < 1)
        dx = dx + jnp.where(inside, jnp.exp(-_log_prob_fn(p, x)), 0.0) * dq
    return x, dx


def _instantiate(tangent, primal):
    return jnp.zeros_like(primal) if isinstance(tangent, SymbolicZero) else tangent


_icdf_jit = jax.jit(_icdf_fn)
_log_prob_jit = jax.jit(_log_prob_fn)
_log_cdf_sf_jit = jax.jit(_log_cdf_sf_fn)


@jax.jit
def _moments_fn(p):
    """``(mean, variance, entropy)``."""
    loc, scale, low, high = p
    a, b, w, flip, tail = _frame(p)
    at, wt = _tail_inputs(a, w, tail)
    m0, m1, m2 = _moments(at, wt)
    e1, e2 = m1 / m0, m2 / m0
    var_t = e2 - jnp.square(e1)
    ent_t = at * e1 + 0.5 * e2 + jnp.log(m0)
    # The mean is low + scale E[t] (high - scale E[t] when reflected): no cancellation.
    mean_t = jnp.where(flip, high - scale * e1, low + scale * e1)
    # Straddle frame (a < 0 < b, wide): textbook moments of the standard truncated normal.
    fa, fb = jnp.isfinite(a) & ~tail, jnp.isfinite(b) & ~tail
    a_s, b_s = jnp.where(fa, a, 0.0), jnp.where(fb, b, 0.0)
    phi_a = jnp.where(fa, jnp.exp(_log_phi(a_s)), 0.0)
    phi_b = jnp.where(fb, jnp.exp(_log_phi(b_s)), 0.0)
    log_z = _log_z_straddle(a, b, tail)
    z = jnp.exp(log_z)
    m_s = (phi_a - phi_b) / z
    e2_s = 1.0 + (a_s * phi_a - b_s * phi_b) / z
    var_s = e2_s - jnp.square(m_s)
    ent_s = 0.5 * e2_s + HALF_LOG_2PI + log_z
    mean_s = loc + scale * jnp.where(flip, -m_s, m_s)
    mean = jnp.where(tail, mean_t, mean_s)
    var = jnp.square(scale) * jnp.where(tail, var_t, var_s)
    ent = jnp.where(tail, ent_t, ent_s) + jnp.log(scale)
    return mean, var, ent


class TruncatedNormal(Distribution):
    """Normal distribution ``N(loc, scale²)`` truncated to ``[low, high]``.

    ``p(x) = φ((x - loc)/scale) / (scale Z)`` for ``low <= x <= high``, with ``φ`` the standard
    normal density and ``Z = Φ(β) - Φ(α)``, ``α = (low - loc)/scale``, ``β = (high - loc)/scale``.
    ``low = -inf`` and/or ``high = inf`` are allowed. All parameters broadcast to
    ``batch_shape``. Accurate far in the tails (e.g. a [8, 9] or [-40, -39] window of a standard
    Normal) and for very narrow windows. ``rsample`` inverts the CDF.

    Example:
        >>> d = jdist.TruncatedNormal(0.0, 1.0, low=jnp.array([-1.0, 8.0]), high=jnp.inf)
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable
        >>> d.log_prob(x).shape
        (5, 2)
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "low": constraints.dependent,
        "high": constraints.dependent,
    }
    has_rsample = True

    def __init__(self, loc, scale, low, high, *, validate_args: bool = False) -> None:
        super().__init__(
            {"loc": loc, "scale": scale, "low": low, "high": high}, validate_args=validate_args
        )

    def _validate_parameters(self) -> None:
        super()._validate_parameters()
        ok = jnp.less(self.low, self.high)
        check_condition(
            ok,
            lambda: (
                f"TruncatedNormal: parameters `low` {jnp.shape(self.low)} and `high` "
                f"{jnp.shape(self.high)} violate constraint low < high"
            ),
        )

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    def _p(self, *values):
        """The parameters (and ``values``) as arrays of ``dtype``, broadcast together."""
        dtype = self.dtype
        arrays = [jnp.asarray(v, dtype) for v in (self.loc, self.scale, self.low, self.high)]
        arrays += [jnp.asarray(v, dtype) for v in values]
        arrays = jnp.broadcast_arrays(*arrays)
        return tuple(arrays[:4]), arrays[4:]

    def _rsample(self, key, sample_shape):
        dtype = self.dtype
        shape = sample_shape + self.batch_shape
        u = jax.random.uniform(key, shape, dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)
        return self._icdf(u)

    def _log_prob(self, value):
        p, (value,) = self._p(value)
        return _log_prob_jit(p, value)

    def _log_cdf(self, value):
        p, (value,) = self._p(value)
        return _log_cdf_sf_jit(p, value)[0]

    def _log_survival_function(self, value):
        p, (value,) = self._p(value)
        return _log_cdf_sf_jit(p, value)[1]

    def _cdf(self, value):
        return jnp.exp(self._log_cdf(value))

    def _survival_function(self, value):
        return jnp.exp(self._log_survival_function(value))

    def _icdf(self, value):
        p, (value,) = self._p(value)
        return _icdf_jit(p, value)

    def _mean(self):
        return _moments_fn(self._p()[0])[0]

    def _mode(self):
        loc, _, low, high = self._p()[0]
        return jnp.clip(loc, low, high)

    def _variance(self):
        return _moments_fn(self._p()[0])[1]

    def _entropy(self):
        return _moments_fn(self._p()[0])[2]
