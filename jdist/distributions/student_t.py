"""Student's t and Fisher–Snedecor (F) distributions, built on gamma draws."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import (
    beta_log_kernel,
    betainc_parts,
    digamma_minus_log,
    lbeta,
    lgamma_stirling_remainder,
    log1pmx,
    log_float_max,
    log_ndtr,
)
from jdist.distribution import Distribution
from jdist.distributions._tails import TailParts
from jdist.distributions.beta import _beta_entropy
from jdist.distributions.gamma import _exp_positive, clamp, log_standard_gamma

__all__ = ["FisherSnedecor", "StudentT"]

_HALF_LOG_PI = 0.5 * math.log(math.pi)
_LOG_HALF = math.log(0.5)


def _lgamma_half_difference(z):
    """``lgamma(z + 1/2) - lgamma(z)`` without cancellation for large ``z``:
    ``log(z)/2 + z log1pmx(1/(2z)) + s(z + 1/2) - s(z)`` (Stirling's series, s the remainder)."""
    s = lgamma_stirling_remainder
    return 0.5 * jnp.log(z) + z * log1pmx(0.5 / z) + s(z + 0.5) - s(z)


def _log1p_square(t, df):
    """``log(1 + t²/ν)`` and ``log|w|``, ``w = t/√ν``, without overflow for any finite ``t``
    (``w`` itself may overflow when ν is tiny): for ``|w| > 1`` it is
    ``2 log|w| + log1p(1/w²)`` with ``log|w| = log|t| - log(ν)/2``."""
    sqrt_df = jnp.sqrt(df)
    big = jnp.abs(t) > sqrt_df
    t_big = jnp.where(big, jnp.abs(t), 2.0 * sqrt_df)
    log_w = jnp.log(t_big) - 0.5 * jnp.log(df)
    inv_w = sqrt_df / t_big
    w_small = jnp.where(big, 0.0, t) / sqrt_df
    value = jnp.where(big, 2.0 * log_w + jnp.log1p(jnp.square(inv_w)), jnp.log1p(w_small**2))
    return value, jnp.where(big, log_w, jnp.log(jnp.abs(w_small)))


def _log_betainc_underflow(a, b, log_x, log_i):
    """``log I_x(a, b)`` where ``x`` itself underflows (only ``log x`` is representable):
    ``I_x = x^a (1 - x)^b / (a B(a, b)) (1 + O(x))`` (DLMF 8.17.8), exact in working
    precision there."""
    # Applied from well above the underflow threshold (x < 2e-30 in float32), where the
    # O(x) correction is far below eps, so that no x near the threshold is lost.
    underflow = log_x < math.log(float(jnp.finfo(log_i.dtype).tiny)) + 20.0
    return jnp.where(underflow, a * log_x - jnp.log(a) - lbeta(a, b), log_i)


def _hill_normal_deviate(t, df):
    """Signed normal deviate ``z`` with ``Φ(z) = P(T <= t)`` for large ``df`` (Hill 1970,
    "Algorithm 395: Student's t-distribution", CACM 13(10), asymptotic branch).

    Against 40-digit references the log tail probability has relative error <= 2e-15 for
    ``df >= 1e4`` and <= 1e-11 (|t| <= 10), 2e-7 (|t| <= 20) for ``df >= 50``. Written as
    ``t k(t)`` with ``k`` smooth at 0, so the gradient at ``t = 0`` is finite.
    """
    a = df - 0.5
    b = 48.0 * a * a
    w = t / jnp.sqrt(df)
    log1p_w2, _ = _log1p_square(t, df)  # log1p(t²/ν)
    small = jnp.abs(w) <= 1
    w2 = jnp.square(jnp.where(small & (w != 0), w, 1.0))
    ratio = jnp.where(small & (w != 0), jnp.log1p(w2) / w2, 1.0)  # log1p(w²)/w², smooth at 0
    t_big = jnp.where(small, 1.0, jnp.abs(t))
    k = jnp.where(
        small, jnp.sqrt(a * ratio / df), jnp.sqrt(a * jnp.where(small, 1.0, log1p_w2)) / t_big
    )
    y = a * log1p_w2
    poly = (((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b)
    return ((poly + y + 3.0) / b + 1.0) * t * k


@jax.jit  # one compilation serves cdf, log_cdf, survival_function and log_survival_function
def _student_t_cdf(df, t):
    """``P(T <= t)`` and its log for standardized ``t`` and ``df`` of the same shape."""
    # Hill's expansion for large ν where |t| < √ν; beyond, x = ν/(ν + t²) <= 1/2 and the
    # incomplete beta series converges in a few dozen terms for any ν.
    large_df = df >= (50.0 if jnp.finfo(t.dtype).bits <= 32 else 1e4)
    big = large_df & (jnp.abs(t) < jnp.sqrt(df))
    finite = jnp.isfinite(t)
    t_f = jnp.where(finite, t, 1.0)
    z = _hill_normal_deviate(t_f, jnp.where(big, df, 1e4))
    z = jnp.where(finite, z, t)
    # P(T < -|t|) = I_x(ν/2, 1/2) / 2 with x = ν/(ν + t²) = 1/(1 + w²), w = t/√ν, and the
    # complement I_y(1/2, ν/2), y = w²/(1 + w²), both formed without overflow. t == 0 is
    # excluded (I_y has an infinite slope at y = 0).
    df_s = jnp.where(big, 1.0, df)
    nonzero = finite & (t != 0)
    t_nz = jnp.where(nonzero, t, 1.0)
    log1p_w2, log_w = _log1p_square(t_nz, df_s)
    log_x = jnp.where(nonzero, -log1p_w2, 0.0)
    log_y = jnp.where(nonzero, 2.0 * log_w + log_x, 0.0)
    x = jnp.where(nonzero, jnp.exp(log_x), jnp.where(finite, 1.0, 0.0))
    y = jnp.where(nonzero, -jnp.expm1(log_x), jnp.where(finite, 0.0, 1.0))
    half = jnp.full_like(df_s, 0.5)
    i, j, log_i, _ = betainc_parts(0.5 * df_s, half, x, y, log_x, log_y)
    log_i = _log_betainc_underflow(0.5 * df_s, 0.5, log_x, log_i)
    log_tail = _LOG_HALF + log_i
    tail = jnp.exp(log_tail)  # also where I_x underflows but its half-tail does not
    # P(T <= |t|) = 1 - I/2 = (1 + J)/2.
    cdf_beta = jnp.where(t < 0, tail, 0.5 + 0.5 * j)
    # For t > 0, log(1 - tail) = log1p(-tail) keeps the tail's accuracy when it is tiny
    # (log((1 + J)/2) rounds to 0 there); (1 + J)/2 is the accurate form near t = 0.
    upper = jnp.where(tail < 0.25, jnp.log1p(-tail), _LOG_HALF + jnp.log1p(j))
    log_cdf_beta = jnp.where(t < 0, log_tail, upper)
    cdf = jnp.where(big, jax.scipy.special.ndtr(z), cdf_beta)
    log_cdf = jnp.where(big, log_ndtr(z), log_cdf_beta)
    return cdf, log_cdf


class StudentT(Distribution):
    """Student's t distribution with ``df`` (ν) degrees of freedom, ``loc`` and ``scale``.

    ``p(x) = Γ((ν+1)/2) / (Γ(ν/2) √(νπ) σ) (1 + z²/ν)^(-(ν+1)/2)``, ``z = (x - loc)/scale``;
    parameters broadcast to ``batch_shape``. ``rsample`` is the gamma mixture
    ``loc + scale · ε · sqrt(ν / (2G))``, ``ε ~ N(0, 1)``, ``G ~ Gamma(ν/2, 1)`` implicitly
    reparameterized, so it is differentiable w.r.t. ``df`` too. ``log_prob`` and ``entropy``
    use Stirling forms, so they approach the Normal's smoothly as ``df → ∞``. The CDF is the
    incomplete beta function (differentiable w.r.t. ``df``; accurate far into the tails, for
    any ``|t|`` up to the largest float), except for ``df`` >= 50 (float32) / 1e4 (float64)
    and ``|t| < √df``, where Hill's (1970) normal approximation is used (accurate to working
    precision there, where the incomplete beta converges slowly). Undefined moments
    follow torch: ``mean`` is NaN for ν <= 1 (no mean exists), ``variance`` is ``inf`` for
    1 < ν <= 2 (it diverges) and NaN for ν <= 1 (the mean is undefined). ``icdf`` has no
    closed form and raises.

    Example:
        >>> d = jdist.StudentT(df=jnp.array([1.0, 30.0]), loc=0.0, scale=2.0)
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable w.r.t. df too
        >>> d.log_prob(x).shape
        (5, 2)
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, *, validate_args: bool = False) -> None:
        super().__init__({"df": df, "loc": loc, "scale": scale}, validate_args=validate_args)

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        key_n, key_g = jax.random.split(key)
        eps = jax.random.normal(key_n, shape, self.dtype)
        half_df = 0.5 * self.df
        log_g = log_standard_gamma(key_g, half_df, shape, self.dtype)
        # sqrt(ν/(2G)), saturating (with a zero gradient) at the largest float.
        factor = _exp_positive(0.5 * (jnp.log(half_df) - log_g))
        info = jnp.finfo(self.dtype)
        return clamp(self.loc + self.scale * eps * factor, -info.max, info.max)

    def _standardize(self, value):
        return (value - self.loc) / self.scale

    def _log_prob(self, value):
        df = self.df
        z = self._standardize(value)
        return (
            _lgamma_half_difference(0.5 * df)
            - 0.5 * jnp.log(df)
            - _HALF_LOG_PI
            - jnp.log(self.scale)
            - 0.5 * (df + 1.0) * _log1p_square(z, df)[0]
        )

    def _cdf_and_log_cdf(self, t):
        """``P(T <= t)`` and its log for the standardized ``t``."""
        df, t = jnp.broadcast_arrays(jnp.asarray(self.df, self.dtype), jnp.asarray(t, self.dtype))
        return _student_t_cdf(df, t)

    def _cdf(self, value):
        return self._cdf_and_log_cdf(self._standardize(value))[0]

    def _survival_function(self, value):
        return self._cdf_and_log_cdf(-self._standardize(value))[0]

    def _log_cdf(self, value):
        return self._cdf_and_log_cdf(self._standardize(value))[1]

    def _log_survival_function(self, value):
        return self._cdf_and_log_cdf(-self._standardize(value))[1]

    def _mean(self):
        return jnp.where(self.df > 1, self.loc, jnp.nan)

    def _mode(self):
        return self.loc * jnp.ones_like(self.df)

    def _variance(self):
        df = self.df
        df_ok = jnp.where(df > 2, df, 3.0)
        var = jnp.square(self.scale) * df_ok / (df_ok - 2.0)
        return jnp.where(df > 2, var, jnp.where(df > 1, jnp.inf, jnp.nan))

    def _entropy(self):
        # log σ + (ν+1)/2 (ψ((ν+1)/2) - ψ(ν/2)) + log(ν)/2 + log B(ν/2, 1/2), with
        # ψ(z + 1/2) - ψ(z) = log1p(1/(2z)) + δ(z + 1/2) - δ(z) (δ = ψ - log) and
        # log B(z, 1/2) = log(π)/2 - (lgamma(z + 1/2) - lgamma(z)), z = ν/2.
        z = 0.5 * self.df
        d = digamma_minus_log
        psi_diff = jnp.log1p(0.5 / z) + d(z + 0.5) - d(z)
        return (
            jnp.log(self.scale)
            + (z + 0.5) * psi_diff
            + 0.5 * jnp.log(2.0 * z)
            + _HALF_LOG_PI
            - _lgamma_half_difference(z)
        )


class FisherSnedecor(TailParts, Distribution):
    """Fisher–Snedecor (F) distribution with ``df1`` (d₁) and ``df2`` (d₂) degrees of freedom.

    ``p(x) = (d₁x)^(d₁/2) d₂^(d₂/2) / (x (d₁x + d₂)^((d₁+d₂)/2) B(d₁/2, d₂/2))`` for ``x > 0``;
    parameters broadcast to ``batch_shape``. ``rsample`` is ``(G₁/(d₁/2)) / (G₂/(d₂/2))`` with
    two implicitly reparameterized gamma draws (differentiable w.r.t. both dfs), clamped into
    the positive normal floats. The log density is the Beta(d₁/2, d₂/2) density of
    ``y = d₁x/(d₁x + d₂)`` in Stirling form. Moments that diverge are ``inf``: ``mean`` for
    d₂ <= 2 (torch: NaN, but the F variable is positive so the mean is +inf), ``variance``
    for 2 < d₂ <= 4; the variance is NaN for d₂ <= 2, where the mean is infinite (as torch).
    ``mode`` is 0 for d₁ <= 2 (torch: NaN; the density is largest at 0 there). ``icdf`` has
    no closed form and raises; the CDFs are differentiable w.r.t. both dfs.

    Example:
        >>> d = jdist.FisherSnedecor(df1=jnp.array([2.0, 5.0]), df2=10.0)
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable
        >>> d.mean
        Array([1.25, 1.25], dtype=float32)
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, *, validate_args: bool = False) -> None:
        super().__init__({"df1": df1, "df2": df2}, validate_args=validate_args)

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        key1, key2 = jax.random.split(key)
        a, b = 0.5 * self.df1, 0.5 * self.df2
        log_g1 = log_standard_gamma(key1, a, shape, self.dtype)
        log_g2 = log_standard_gamma(key2, b, shape, self.dtype)
        return _exp_positive(log_g1 - log_g2 + jnp.log(b) - jnp.log(a))

    def _beta_coordinates(self, value):
        """``y = d₁x / (d₁x + d₂)`` ~ Beta(d₁/2, d₂/2), ``1 - y`` and their logs, formed in log
        space so that neither underflows to 0 before its log is taken; ``x <= 0`` maps to
        ``y = 0`` and ``x = inf`` to ``y = 1``."""
        inside = (value > 0) & (value < jnp.inf)
        log_d1x = jnp.log(self.df1) + jnp.log(jnp.where(inside, value, 1.0))
        log_d2 = jnp.log(self.df2)
        log_den = jnp.logaddexp(log_d1x, log_d2)
        log_y, log_y1 = log_d1x - log_den, log_d2 - log_den
        # The values themselves to a few ulps (ratios that saturate to 0 or 1, never NaN).
        pos = value > 0
        big = log_float_max(self.dtype)
        log_ratio = clamp(log_d2 - log_d1x, -big, big)  # d₂/(d₁x), finite with its gradient
        y = jnp.where(inside, 1.0 / (1.0 + jnp.exp(log_ratio)), jnp.where(pos, 1.0, 0.0))
        y1 = jnp.where(inside, 1.0 / (1.0 + jnp.exp(-log_ratio)), jnp.where(pos, 0.0, 1.0))
        return inside, y, y1, log_y, log_y1

    def _log_prob(self, value):
        inside, y, y1, log_y, log_y1 = self._beta_coordinates(value)
        x = jnp.where(inside, value, 1.0)
        a, b = 0.5 * self.df1, 0.5 * self.df2
        lp = beta_log_kernel(a, b, y, y1, log_y, log_y1) - jnp.log(x)
        return jnp.where(inside, lp, -jnp.inf)

    def _tail_parts(self, value):
        inside, y, y1, log_y, log_y1 = self._beta_coordinates(value)
        a, b = 0.5 * self.df1, 0.5 * self.df2
        cdf, sf, log_cdf, log_sf = betainc_parts(a, b, y, y1, log_y, log_y1)
        # Where y (or 1 - y) underflows, the tail comes from its log (see the helper).
        log_cdf = jnp.where(inside, _log_betainc_underflow(a, b, log_y, log_cdf), log_cdf)
        log_sf = jnp.where(inside, _log_betainc_underflow(b, a, log_y1, log_sf), log_sf)
        cdf = jnp.where(inside & (log_cdf < -1.0), jnp.exp(log_cdf), cdf)
        sf = jnp.where(inside & (log_sf < -1.0), jnp.exp(log_sf), sf)
        return cdf, sf, log_cdf, log_sf

    def _mean(self):
        d2 = self.df2
        d2_ok = jnp.where(d2 > 2, d2, 3.0)
        return jnp.where(d2 > 2, d2_ok / (d2_ok - 2.0), jnp.inf) * jnp.ones_like(self.df1)

    def _mode(self):
        d1, d2 = self.df1, self.df2
        return jnp.maximum(d1 - 2.0, 0.0) / d1 * d2 / (d2 + 2.0)

    def _variance(self):
        d1, d2 = self.df1, self.df2
        d2_ok = jnp.where(d2 > 4, d2, 5.0)
        var = (
            2.0
            * jnp.square(d2_ok)
            * (d1 + d2_ok - 2.0)
            / (d1 * jnp.square(d2_ok - 2.0) * (d2_ok - 4.0))
        )
        return jnp.where(d2 > 4, var, jnp.where(d2 > 2, jnp.inf, jnp.nan))

    def _entropy(self):
        # X = (d₂/d₁) Y/(1 - Y), Y ~ Beta(a, b), a = d₁/2, b = d₂/2, so
        # H(X) = H(Y) + log(d₂/d₁) - 2 E[log(1 - Y)], E[log(1 - Y)] = ψ(b) - ψ(a + b)
        #      = log(b/(a + b)) + δ(b) - δ(a + b)  (δ = ψ - log).
        a, b = 0.5 * self.df1, 0.5 * self.df2
        n = a + b
        d = digamma_minus_log
        e_log_1my = jnp.log(b) - jnp.log(n) + d(b) - d(n)
        return _beta_entropy(a, b) + jnp.log(self.df2) - jnp.log(self.df1) - 2.0 * e_log_1my
