"""Exponential and Laplace distributions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import log1mexp, quantile_with_ends
from jdist.distribution import Distribution
from jdist.distributions._loc_scale import LocScaleFamily

LOG_2 = math.log(2.0)


class Exponential(Distribution):
    """Exponential distribution with rate ``rate`` (mean ``1 / rate``).

    ``p(x) = rate · exp(-rate · x)`` for ``x >= 0``. ``rate`` has shape ``batch_shape``.
    The CDF is computed as ``-expm1(-rate x)`` and its log with ``log1mexp``, so both
    tails are accurate (``log_survival_function(1e4) == -1e4 · rate`` exactly).

    Example:
        >>> d = jdist.Exponential(rate=jnp.array([0.5, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2), differentiable in rate
        >>> d.log_survival_function(x).shape
        (3, 2)
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, *, validate_args: bool = False) -> None:
        super().__init__({"rate": rate}, validate_args=validate_args)

    def _hazard(self, value):
        """Cumulative hazard ``rate · max(x, 0)`` (clamped so the CDF is 0 below 0)."""
        return self.rate * jnp.where(value > 0, value, 0.0)

    def _rsample(self, key, sample_shape):
        e = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return e / self.rate

    def _log_prob(self, value):
        return jnp.log(self.rate) - self.rate * value

    def _cdf(self, value):
        return -jnp.expm1(-self._hazard(value))

    def _log_cdf(self, value):
        return log1mexp(self._hazard(value))

    def _survival_function(self, value):
        return jnp.exp(-self._hazard(value))

    def _log_survival_function(self, value):
        return -self._hazard(value)

    def _icdf(self, value):
        return quantile_with_ends(value, lambda p: -jnp.log1p(-p) / self.rate, 0.0, jnp.inf)

    def _mean(self):
        return 1.0 / self.rate

    def _mode(self):
        return jnp.zeros_like(self.rate, dtype=self.dtype)

    def _variance(self):
        # (1/rate)² rather than 1/rate², which underflows to 0 for rate < 1e-19 in float32.
        return jnp.square(1.0 / self.rate)

    def _stddev(self):
        return 1.0 / self.rate

    def _entropy(self):
        return 1.0 - jnp.log(self.rate)


class Laplace(LocScaleFamily):
    """Laplace (double exponential) distribution with location ``loc`` and scale ``scale``.

    ``p(x) = exp(-|x - loc| / scale) / (2 scale)``. ``loc`` and ``scale`` broadcast to
    ``batch_shape``. CDF, survival function, their logs and the quantile function are
    evaluated on the side of ``loc`` where no cancellation occurs.

    Example:
        >>> d = jdist.Laplace(loc=0.0, scale=jnp.array([1.0, 3.0]))
        >>> x = d.rsample(jax.random.key(0), (4,))   # (4, 2)
        >>> d.log_cdf(x).shape
        (4, 2)
    """

    _standard_sampler = staticmethod(jax.random.laplace)

    def _log_prob(self, value):
        z = self._standardize(value)
        # -|z| written as -z sign(z): its derivative at the kink z = 0 is 0, not ±1.
        return -z * jnp.sign(z) - jnp.log(2.0 * self.scale)

    @staticmethod
    def _log_lower_tail(z):
        """``log P(Z <= z)`` for the standard Laplace: ``z - log 2`` below 0, else
        ``log1p(-exp(-z) / 2)``; each branch evaluated at a safe argument."""
        neg = z < 0
        return jnp.where(
            neg,
            jnp.where(neg, z, 0.0) - LOG_2,
            jnp.log1p(-0.5 * jnp.exp(-jnp.where(neg, 0.0, z))),
        )

    @staticmethod
    def _lower_tail(z):
        neg = z < 0
        return jnp.where(
            neg,
            0.5 * jnp.exp(jnp.where(neg, z, 0.0)),
            1.0 - 0.5 * jnp.exp(-jnp.where(neg, 0.0, z)),
        )

    def _cdf(self, value):
        return self._lower_tail(self._standardize(value))

    def _log_cdf(self, value):
        return self._log_lower_tail(self._standardize(value))

    def _survival_function(self, value):
        return self._lower_tail(-self._standardize(value))

    def _log_survival_function(self, value):
        return self._log_lower_tail(-self._standardize(value))

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: self.loc + self.scale * self._standard_quantile(p), -jnp.inf, jnp.inf
        )

    @staticmethod
    def _standard_quantile(p):
        # p <= 1/2: log(2p); p > 1/2: -log(2(1 - p)), where 1 - p is exact (Sterbenz), so
        # both tails keep full relative accuracy.
        lower = p <= 0.5
        p_lo = jnp.where(lower, p, 0.5)
        p_hi = jnp.where(lower, 0.5, p)
        return jnp.where(lower, jnp.log(2.0 * p_lo), -jnp.log(2.0 * (1.0 - p_hi)))

    def _mean(self):
        return self.loc

    def _mode(self):
        return self.loc

    def _variance(self):
        return 2.0 * jnp.square(self.scale)

    def _stddev(self):
        return math.sqrt(2.0) * self.scale

    def _entropy(self):
        return 1.0 + jnp.log(2.0 * self.scale)
