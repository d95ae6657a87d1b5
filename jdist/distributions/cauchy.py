"""Cauchy and half-Cauchy distributions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import quantile_with_ends, standardize
from jdist.distribution import Distribution
from jdist.distributions._loc_scale import LocScaleFamily

LOG_PI = math.log(math.pi)
LOG_2_OVER_PI = math.log(2.0 / math.pi)


def _log1p_square(z):
    """``log(1 + z²)``, without overflow of ``z²`` for huge ``|z|``:
    ``2 log|z| + log1p(1 / z²)`` when ``|z| > 1``."""
    a = jnp.abs(z)
    big = a > 1
    a_big = jnp.where(big, a, 2.0)
    a_small = jnp.where(big, 0.0, a)
    return jnp.where(
        big,
        2.0 * jnp.log(a_big) + jnp.log1p(jnp.square(jnp.reciprocal(a_big))),
        jnp.log1p(jnp.square(a_small)),
    )


def _log_or_log1p_minus(small_side, p_direct, p_other):
    """``log p`` where ``small_side`` (p is the small tail, computed directly), else
    ``log1p(-q)`` with ``q = 1 - p`` computed directly: accurate in both tails."""
    safe_p = jnp.where(small_side, p_direct, 1.0)
    safe_q = jnp.where(small_side, 0.0, p_other)
    return jnp.where(small_side, jnp.log(safe_p), jnp.log1p(-safe_q))


class Cauchy(LocScaleFamily):
    """Cauchy (Lorentz) distribution with location ``loc`` and scale ``scale``.

    ``p(x) = 1 / (π scale (1 + ((x - loc) / scale)²))``. ``loc`` and ``scale`` broadcast
    to ``batch_shape``. The CDF is ``atan2(1, -z) / π`` (no cancellation in the lower
    tail) and the quantile function switches to ``±cot`` forms in both tails.

    Moments: the mean does not exist (``E|X| = ∞`` and the integral has no value), so
    ``mean`` raises ``NotImplementedError`` rather than returning NaN (torch returns
    nan). The second moment diverges, so ``variance`` is ``inf`` (as in torch).

    Example:
        >>> d = jdist.Cauchy(loc=0.0, scale=jnp.array([1.0, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2)
        >>> d.log_prob(x).shape
        (3, 2)
    """

    _standard_sampler = staticmethod(jax.random.cauchy)

    def _log_prob(self, value):
        return -_log1p_square(self._standardize(value)) - jnp.log(self.scale) - LOG_PI

    # P(Z <= z) = 1/2 + atan(z)/π = atan2(1, -z)/π, and P(Z > z) = atan2(1, z)/π.
    def _cdf(self, value):
        return jnp.arctan2(1.0, -self._standardize(value)) / math.pi

    def _survival_function(self, value):
        return jnp.arctan2(1.0, self._standardize(value)) / math.pi

    def _log_cdf(self, value):
        z = self._standardize(value)
        lower = jnp.arctan2(1.0, -z) / math.pi
        upper = jnp.arctan2(1.0, z) / math.pi
        return _log_or_log1p_minus(z <= 0, lower, upper)

    def _log_survival_function(self, value):
        z = self._standardize(value)
        lower = jnp.arctan2(1.0, -z) / math.pi
        upper = jnp.arctan2(1.0, z) / math.pi
        return _log_or_log1p_minus(z >= 0, upper, lower)

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: self.loc + self.scale * self._standard_quantile(p), -jnp.inf, jnp.inf
        )

    @staticmethod
    def _standard_quantile(p):
        # tan(π(p - 1/2)) near the median; -cot(πp) and cot(π(1 - p)) in the tails, so
        # that tiny p (or 1 - p, exact for p >= 1/2) keep their relative accuracy.
        lo, hi = p < 0.25, p > 0.75
        mid = ~(lo | hi)
        p_mid = jnp.where(mid, p, 0.5)
        p_lo = jnp.where(lo, p, 0.25)
        p_hi = jnp.where(hi, p, 0.75)
        return jnp.where(
            mid,
            jnp.tan(math.pi * (p_mid - 0.5)),
            jnp.where(
                lo,
                -1.0 / jnp.tan(math.pi * p_lo),
                1.0 / jnp.tan(math.pi * (1.0 - p_hi)),
            ),
        )

    def _mean(self):
        raise NotImplementedError(
            "Cauchy has no mean: E|X| diverges, so the mean is undefined (torch returns nan)"
        )

    def _mode(self):
        return self.loc

    def _variance(self):
        return jnp.full(self.batch_shape, jnp.inf, self.dtype)

    def _entropy(self):
        return jnp.log(4.0 * math.pi * self.scale)


class HalfCauchy(Distribution):
    """Half-Cauchy distribution: ``|X|`` for ``X ~ Cauchy(0, scale)``.

    ``p(x) = 2 / (π scale (1 + (x / scale)²))`` for ``x >= 0``. ``scale`` has shape
    ``batch_shape``. ``mean`` and ``variance`` diverge and are ``inf`` (as in torch).

    Example:
        >>> d = jdist.HalfCauchy(scale=jnp.array([1.0, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2), x >= 0
        >>> d.cdf(x).shape
        (3, 2)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, *, validate_args: bool = False) -> None:
        super().__init__({"scale": scale}, validate_args=validate_args)

    def _z(self, value):
        return standardize(jnp.where(value > 0, value, 0.0), 0.0, self.scale)

    def _rsample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self._icdf(u)

    def _log_prob(self, value):
        return LOG_2_OVER_PI - jnp.log(self.scale) - _log1p_square(self._z(value))

    # P(X <= x) = (2/π) atan(z) and P(X > x) = (2/π) atan2(1, z), each free of cancellation.
    def _cdf(self, value):
        return jnp.arctan(self._z(value)) * (2.0 / math.pi)

    def _survival_function(self, value):
        return jnp.arctan2(1.0, self._z(value)) * (2.0 / math.pi)

    def _log_cdf(self, value):
        z = self._z(value)
        pos = z > 0
        z_pos = jnp.where(pos, z, 1.0)
        lower = jnp.arctan(z_pos) * (2.0 / math.pi)
        upper = jnp.arctan2(1.0, z_pos) * (2.0 / math.pi)
        return jnp.where(pos, _log_or_log1p_minus(z_pos <= 1, lower, upper), -jnp.inf)

    def _log_survival_function(self, value):
        z = self._z(value)
        lower = jnp.arctan(z) * (2.0 / math.pi)
        upper = jnp.arctan2(1.0, z) * (2.0 / math.pi)
        return _log_or_log1p_minus(z >= 1, upper, lower)

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: self.scale * self._standard_quantile(p), 0.0, jnp.inf
        )

    @staticmethod
    def _standard_quantile(p):
        # tan(πp/2) for p <= 1/2 and cot(π(1 - p)/2) above (1 - p exact there).
        lower = p <= 0.5
        p_lo = jnp.where(lower, p, 0.5)
        p_hi = jnp.where(lower, 0.5, p)
        return jnp.where(
            lower,
            jnp.tan(0.5 * math.pi * p_lo),
            1.0 / jnp.tan(0.5 * math.pi * (1.0 - p_hi)),
        )

    def _mean(self):
        return jnp.full(self.batch_shape, jnp.inf, self.dtype)

    def _mode(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def _variance(self):
        return jnp.full(self.batch_shape, jnp.inf, self.dtype)

    def _entropy(self):
        return jnp.log(2.0 * math.pi * self.scale)
