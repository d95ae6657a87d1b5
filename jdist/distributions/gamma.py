"""Gamma, Chi2 and InverseGamma distributions, and the implicitly reparameterized standard
gamma sampler that Beta, StudentT and FisherSnedecor build on.

Implicit reparameterization (Figurnov, Mohamed & Mnih 2018, "Implicit Reparameterization
Gradients", eq. 6): a draw ``x ~ Gamma(α, 1)`` with CDF ``P(α, x)`` moves with ``α`` as
``dx/dα = -∂P(α, x)/∂α / p(x; α)``. Draws come from ``jax.random.loggamma`` (Marsaglia &
Tsang, computed in log space so tiny concentrations do not underflow) and the gradient is
attached by a custom JVP rule, :func:`_log_standard_gamma`. ``jax.random.gamma``'s own
gradient is not used because it loses accuracy in two regimes that jdist covers:

* draws that underflow (``α ≲ 0.1`` in float32): ``jax.random.loggamma`` clamps the draw to
  the smallest normal float before differentiating, so ``d log x/dα`` comes out wrong. Where
  ``x`` underflows, ``P(α, x) = x^α / Γ(α + 1) (1 + O(x))`` is exact to working precision,
  which gives ``d log x/dα = (ψ(α + 1) - log x) / α``.
* large ``α`` (float32 errors of 1e-3 at ``α = 1e4`` and 5 % at ``α = 1e6``, from forming
  ``α log x - x - lgamma(α)`` directly). For ``α >= 20`` we integrate
  ``∂P/∂α = ∫_0^x (log t - ψ(α)) p(t) dt = -∫_x^∞ (log t - ψ(α)) p(t) dt`` by Gauss–Legendre
  quadrature over the tail side of ``x``, with ``p(t)/p(x) = exp((α - 1) log(t/x) - (t - x))``
  formed without cancellation.

Elsewhere (``α < 20``, ``x`` a normal float) ``jax.lax.random_gamma_grad`` is accurate to a
few ulps and is used as is.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special

from jdist import constraints
from jdist._math import (
    HALF_LOG_2PI,
    digamma_minus_log,
    gamma_log_kernel,
    gammainc_parts,
    lgamma_stirling_remainder,
    log1pmx,
    log_float_max,
)
from jdist.distribution import Distribution
from jdist.distributions._tails import TailParts

__all__ = ["Chi2", "Gamma", "InverseGamma"]

_QUADRATURE_FROM = 20.0
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_LOG_CUTOFF = 45.0  # the integrand is truncated where it falls below exp(-45) of its peak


def _dx_dalpha_quadrature(alpha, x):
    """``dx/dα`` of a Gamma(α, 1) draw ``x`` for large ``α`` (see the module docstring).

    Below the mode the integral runs over ``t = x - s``, above it over ``t = x + s``; on both
    sides the exponent ``g(s) = log p(t) - log p(x)`` is decreasing and concave-ish, bounded
    above by ``-r s - c s²``, whose root at ``-L`` gives the (closed-form) integration length.
    """
    am1 = alpha - 1.0
    lower = x < am1
    sign = jnp.where(lower, -1.0, 1.0)
    rate = jnp.abs(am1 - x) / x  # -g'(0) >= 0
    # Integration lengths from the quadratic bounds of g(s):
    #   lower: g(s) <= -rate s - (α-1) s² / (2 x²)
    #   upper: g(s) <= -rate s - (α-1) s² / (2 x (x + s))   [log1p(u) - u <= -u²/(2(1+u))]
    c_lo = am1 / (2.0 * x * x)
    s_lo = 2.0 * _LOG_CUTOFF / (rate + jnp.sqrt(rate * rate + 4.0 * c_lo * _LOG_CUTOFF))
    s_lo = jnp.minimum(s_lo, x)
    qa = am1 + 2.0 * x * rate
    qb = 2.0 * x * x * rate - 2.0 * _LOG_CUTOFF * x
    qc = 2.0 * _LOG_CUTOFF * x * x
    disc = jnp.sqrt(qb * qb + 4.0 * qa * qc)
    s_up = jnp.where(qb > 0, 2.0 * qc / (qb + disc), (disc - qb) / (2.0 * qa))
    length = jnp.where(lower, s_lo, s_up)

    dtype = x.dtype
    nodes = jnp.asarray(0.5 * (_GL_NODES + 1.0), dtype)
    weights = jnp.asarray(0.5 * _GL_WEIGHTS, dtype)
    s = length[..., None] * nodes
    u = sign[..., None] * s / x[..., None]  # t = x (1 + u)
    g = am1[..., None] * log1pmx(u) - rate[..., None] * s
    # log t - ψ(α) = log1p(u) + log(x/α) - (ψ(α) - log α)
    log_x_over_alpha = jnp.log1p((x - alpha) / alpha)
    h = jnp.log1p(u) + (log_x_over_alpha - digamma_minus_log(alpha))[..., None]
    integral = length * jnp.sum(weights * h * jnp.exp(g), axis=-1)
    return sign * integral


def _dlogx_dalpha(alpha, log_x):
    """``d log x / dα`` for ``log x`` the log of a Gamma(α, 1) draw."""
    dtype = log_x.dtype
    x = jnp.exp(log_x)
    underflow = x < jnp.finfo(dtype).tiny
    big = alpha >= _QUADRATURE_FROM
    xs = jnp.where(underflow, 1.0, x)
    a_small = jnp.where(big, 1.0, alpha)
    from_series = jax.lax.random_gamma_grad(a_small, jnp.where(big, 1.0, xs))
    a_big = jnp.where(big, alpha, _QUADRATURE_FROM)
    from_quadrature = _dx_dalpha_quadrature(a_big, jnp.where(big, xs, a_big))
    regular = jnp.where(big, from_quadrature, from_series) / xs
    a_tiny = jnp.where(underflow, alpha, 1.0)
    from_underflow = (special.digamma(a_tiny + 1.0) - jnp.where(underflow, log_x, 0.0)) / a_tiny
    return jnp.where(underflow, from_underflow, regular)


@jax.custom_jvp
def _log_standard_gamma(key, alpha):
    """``log x`` for ``x ~ Gamma(alpha, 1)`` (shape and dtype of ``alpha``), with implicit
    reparameterization gradients w.r.t. ``alpha``."""
    return jax.random.loggamma(key, alpha, alpha.shape, alpha.dtype)


@_log_standard_gamma.defjvp
def _log_standard_gamma_jvp(primals, tangents):
    key, alpha = primals
    _, alpha_dot = tangents
    log_x = _log_standard_gamma(key, alpha)
    return log_x, _dlogx_dalpha(alpha, log_x) * alpha_dot


def log_standard_gamma(key, alpha, shape, dtype):
    """``log x``, ``x ~ Gamma(alpha, 1)`` of the given shape, differentiable w.r.t. ``alpha``."""
    alpha = jnp.broadcast_to(jnp.asarray(alpha, dtype), shape)
    return _log_standard_gamma(key, alpha)


def clamp(x, lo, hi):
    """``x`` clamped to ``[lo, hi]`` by selection: clamped entries pass no cotangent back at all
    (``jnp.clip`` multiplies it by 0, which gives NaN when it is infinite, as the derivative of
    a log density at the smallest normal float can be)."""
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x))


def _exp_positive(log_x):
    """``exp(log_x)`` clamped to the positive normal floats ``[tiny, ≈max]``: draws below the
    smallest normal float (or beyond the largest) are returned as that float, so ``log_prob``
    of every draw is finite (torch clamps the same way). The clamp is applied to ``log_x``
    first, so an overflowing draw has a zero (not NaN) gradient."""
    dtype = log_x.dtype
    info = jnp.finfo(dtype)
    hi = log_float_max(dtype)
    return clamp(jnp.exp(clamp(log_x, math.log(float(info.tiny)), hi)), info.tiny, info.max)


def _with_underflow(alpha, log_y, parts):
    """``gammainc_parts`` output corrected where ``y`` itself underflows (only ``log y`` is
    representable): there ``P = y^α / Γ(α + 1) (1 + O(y))`` exactly in working precision, so
    ``log P = α log y - lgamma(α + 1)``, ``P = exp(log P)``, ``Q = 1 - P``."""
    p, q, log_p, log_q = parts
    underflow = log_y < math.log(float(jnp.finfo(log_p.dtype).tiny))
    log_p_u = alpha * jnp.where(underflow, log_y, 0.0) - special.gammaln(alpha + 1.0)
    p_u = jnp.exp(log_p_u)
    return (
        jnp.where(underflow, p_u, p),
        jnp.where(underflow, -jnp.expm1(log_p_u), q),
        jnp.where(underflow, log_p_u, log_p),
        jnp.where(underflow, jnp.log1p(-p_u), log_q),
    )


def _gamma_log_prob(alpha, rate, value):
    """Gamma(α, rate) log density; ``value`` may be 0 (where it is +inf, log rate or -inf)."""
    pos = value > 0
    x = jnp.where(pos, value, 1.0)
    log_x = jnp.log(x)
    lp = gamma_log_kernel(alpha, rate * x, jnp.log(rate) + log_x) - log_x
    at_zero = jnp.where(alpha < 1, jnp.inf, jnp.where(alpha == 1, jnp.log(rate), -jnp.inf))
    return jnp.where(pos, lp, at_zero)


class Gamma(TailParts, Distribution):
    """Gamma distribution with shape ``concentration`` (α) and inverse scale ``rate`` (β).

    ``p(x) = β^α x^(α-1) e^(-βx) / Γ(α)`` for ``x >= 0``. ``concentration`` and ``rate``
    broadcast to ``batch_shape``. ``rsample`` is differentiable w.r.t. both parameters
    (implicit reparameterization for ``concentration``, see the module docstring). Draws
    below the smallest normal float (common in float32 for ``concentration ≲ 0.1``) are
    returned as that float (``jnp.finfo(dtype).tiny``), so their ``log_prob`` is finite; the
    gradient of such a draw is 0. The log density is evaluated in the Stirling "deviance"
    form, so it stays accurate for concentrations of 1e4 and more. ``mode`` is
    ``max(α - 1, 0) / β`` (the density is unbounded at 0 for α < 1). ``icdf`` has no closed
    form and raises.

    Example:
        >>> d = jdist.Gamma(concentration=jnp.array([0.5, 2.0]), rate=1.0)
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable
        >>> d.log_prob(x).shape
        (5, 2)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, *, validate_args: bool = False) -> None:
        super().__init__(
            {"concentration": concentration, "rate": rate}, validate_args=validate_args
        )

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        log_x = log_standard_gamma(key, self.concentration, shape, self.dtype)
        return _exp_positive(log_x - jnp.log(self.rate))

    def _log_prob(self, value):
        return _gamma_log_prob(self.concentration, self.rate, value)

    def _tail_parts(self, value):
        """``(P, Q, log P, log Q)`` at ``y = β x``, also where ``y`` itself underflows."""
        pos = value > 0
        log_y = jnp.log(self.rate) + jnp.log(jnp.where(pos, value, 1.0))
        return _with_underflow(
            self.concentration, log_y, gammainc_parts(self.concentration, self.rate * value)
        )

    def _mean(self):
        return self.concentration / self.rate

    def _mode(self):
        return jnp.maximum(self.concentration - 1.0, 0.0) / self.rate

    def _variance(self):
        return self.concentration / jnp.square(self.rate)

    def _entropy(self):
        # α + lgamma(α) + (1 - α) ψ(α) - log β, with Stirling's series for lgamma and ψ:
        # = log(α)/2 + log(2π)/2 + s(α) + (1 - α)(ψ(α) - log α) - log β  (no cancellation).
        a = self.concentration
        return (
            0.5 * jnp.log(a)
            + HALF_LOG_2PI
            + lgamma_stirling_remainder(a)
            + (1.0 - a) * digamma_minus_log(a)
            - jnp.log(self.rate)
        )


class Chi2(Gamma):
    """Chi-squared distribution with ``df`` degrees of freedom: ``Gamma(df / 2, 1 / 2)``.

    ``p(x) = x^(df/2 - 1) e^(-x/2) / (2^(df/2) Γ(df/2))`` for ``x >= 0``. ``df`` (any positive
    real) has shape ``batch_shape``. ``rsample`` is differentiable w.r.t. ``df`` (implicit
    reparameterization); every member and convention is Gamma's.

    Example:
        >>> d = jdist.Chi2(df=jnp.array([1.0, 4.0]))
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable w.r.t. df
        >>> d.mean
        Array([1., 4.], dtype=float32)
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, *, validate_args: bool = False) -> None:
        Distribution.__init__(self, {"df": df}, validate_args=validate_args)

    @property
    def concentration(self):
        return 0.5 * self.df

    @property
    def rate(self):
        return 0.5


class InverseGamma(TailParts, Distribution):
    """Inverse-gamma distribution: ``1 / X`` for ``X ~ Gamma(concentration, rate)``.

    ``p(x) = β^α x^(-α-1) e^(-β/x) / Γ(α)`` for ``x > 0``, with ``α = concentration`` and
    ``β = rate`` (a scale here), broadcasting to ``batch_shape``. ``rsample`` is
    differentiable w.r.t. both (implicit reparameterization of the underlying gamma draw).
    Draws beyond the largest float (tiny concentrations in float32) are returned as
    ``jnp.finfo(dtype).max``. Moments that diverge are ``inf``: ``mean`` for α <= 1,
    ``variance`` for α <= 2 (as torch). ``icdf`` has no closed form and raises.

    Example:
        >>> d = jdist.InverseGamma(concentration=3.0, rate=jnp.array([1.0, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2)
        >>> d.mean
        Array([0.5, 1. ], dtype=float32)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, *, validate_args: bool = False) -> None:
        super().__init__(
            {"concentration": concentration, "rate": rate}, validate_args=validate_args
        )

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        log_g = log_standard_gamma(key, self.concentration, shape, self.dtype)
        return _exp_positive(jnp.log(self.rate) - log_g)

    def _log_prob(self, value):
        # y = β/x ~ Gamma(α, 1): log p(x) = log p_Y(y) + log β - 2 log x = kernel(α, y) - log x.
        ok = (value > 0) & (value < jnp.inf)
        x = jnp.where(ok, value, 1.0)
        log_x = jnp.log(x)
        y, log_y = self.rate / x, jnp.log(self.rate) - log_x
        return jnp.where(ok, gamma_log_kernel(self.concentration, y, log_y) - log_x, -jnp.inf)

    def _tail_parts(self, value):
        """``(cdf, sf, log cdf, log sf) = (Q, P, log Q, log P)`` at ``y = β/x`` (also where
        ``y`` underflows): X <= x iff β/X >= β/x, so ``F_X(x) = Q(α, β/x)``; ``β/0 = inf``
        gives ``F = 0``."""
        pos = value > 0
        x = jnp.where(pos, value, 1.0)
        y = jnp.where(pos, self.rate / x, jnp.inf)
        log_y = jnp.log(self.rate) - jnp.log(x)
        p, q, log_p, log_q = _with_underflow(
            self.concentration, log_y, gammainc_parts(self.concentration, y)
        )
        return q, p, log_q, log_p

    def _mean(self):
        a = self.concentration
        return jnp.where(a > 1, self.rate / jnp.where(a > 1, a - 1.0, 1.0), jnp.inf)

    def _mode(self):
        return self.rate / (self.concentration + 1.0)

    def _variance(self):
        a = self.concentration
        am1 = jnp.where(a > 2, a - 1.0, 2.0)
        return jnp.where(a > 2, jnp.square(self.rate / am1) / (am1 - 1.0), jnp.inf)

    def _entropy(self):
        # α + log β + lgamma(α) - (1 + α) ψ(α), in Stirling form:
        # = log β - 3 log(α)/2 + log(2π)/2 + s(α) - (1 + α)(ψ(α) - log α).
        a = self.concentration
        return (
            jnp.log(self.rate)
            - 1.5 * jnp.log(a)
            + HALF_LOG_2PI
            + lgamma_stirling_remainder(a)
            - (1.0 + a) * digamma_minus_log(a)
        )
