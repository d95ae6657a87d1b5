"""Half-normal and log-normal distributions (closed forms derived from the Normal)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy import special

from jdist import constraints
from jdist._math import (
    HALF_LOG_2PI,
    SQRT_2,
    log_ndtr_accurate,
    ndtri,
    quantile_with_ends,
    standardize,
)
from jdist.distribution import Distribution

LOG_2 = math.log(2.0)


class HalfNormal(Distribution):
    """Half-normal distribution: ``|X|`` for ``X ~ Normal(0, scale)``.

    ``p(x) = √(2/π) / scale · exp(-x² / (2 scale²))`` for ``x >= 0``. ``scale`` has
    shape ``batch_shape``. Tails use ``erf``/``erfc`` and ``log_ndtr_accurate``, so
    ``log_survival_function`` is accurate far out (e.g. 40 scales).

    Example:
        >>> d = jdist.HalfNormal(scale=jnp.array([1.0, 0.1]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2), x >= 0
        >>> d.log_prob(x).shape
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
        eps = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return self.scale * jnp.abs(eps)

    def _log_prob(self, value):
        z = standardize(value, 0.0, self.scale)
        return LOG_2 - HALF_LOG_2PI - jnp.log(self.scale) - 0.5 * z * z

    # P(X <= x) = erf(z/√2) and P(X > x) = erfc(z/√2) = 2 Φ(-z).
    def _cdf(self, value):
        return special.erf(self._z(value) / SQRT_2)

    def _survival_function(self, value):
        return special.erfc(self._z(value) / SQRT_2)

    def _log_cdf(self, value):
        z = self._z(value)
        pos = z > 0
        small = z < 1
        z_lo = jnp.where(pos & small, z, 0.5)
        z_hi = jnp.where(small, 1.0, z)
        out = jnp.where(
            small,
            jnp.log(special.erf(z_lo / SQRT_2)),
            jnp.log1p(-special.erfc(z_hi / SQRT_2)),
        )
        return jnp.where(pos, out, -jnp.inf)

    def _log_survival_function(self, value):
        # log1p(-erf(z/√2)) near 0, where log 2 + log Φ(-z) would cancel; log_ndtr beyond.
        z = self._z(value)
        small = z < 1
        z_lo = jnp.where(small, z, 0.0)
        z_hi = jnp.where(small, 1.0, z)
        return jnp.where(
            small, jnp.log1p(-special.erf(z_lo / SQRT_2)), LOG_2 + log_ndtr_accurate(-z_hi)
        )

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: self.scale * self._standard_quantile(p), 0.0, jnp.inf
        )

    @staticmethod
    def _standard_quantile(p):
        # p < 1/2: √2 erfinv(p) (accurate for tiny p); otherwise -Φ⁻¹((1 - p)/2), with
        # 1 - p exact, so the upper tail keeps its accuracy too.
        lower = p < 0.5
        p_lo = jnp.where(lower, p, 0.25)
        p_hi = jnp.where(lower, 0.75, p)
        return jnp.where(lower, SQRT_2 * special.erfinv(p_lo), -ndtri(0.5 * (1.0 - p_hi)))

    def _mean(self):
        return self.scale * math.sqrt(2.0 / math.pi)

    def _mode(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def _variance(self):
        return jnp.square(self.scale) * (1.0 - 2.0 / math.pi)

    def _stddev(self):
        return math.sqrt(1.0 - 2.0 / math.pi) * self.scale

    def _entropy(self):
        return 0.5 * math.log(0.5 * math.pi) + 0.5 + jnp.log(self.scale)


class LogNormal(Distribution):
    """Log-normal distribution: ``exp(Y)`` for ``Y ~ Normal(loc, scale)``.

    ``p(x) = exp(-(log x - loc)² / (2 scale²)) / (x scale √(2π))`` for ``x > 0``.
    ``loc`` and ``scale`` (of the underlying normal) broadcast to ``batch_shape``.
    CDFs use ``log_ndtr_accurate`` on ``z = (log x - loc) / scale``, accurate in both tails.

    Example:
        >>> d = jdist.LogNormal(loc=0.0, scale=jnp.array([0.5, 1.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2), x > 0
        >>> d.log_cdf(x).shape
        (3, 2)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, *, validate_args: bool = False) -> None:
        super().__init__({"loc": loc, "scale": scale}, validate_args=validate_args)

    def _log_and_z(self, value):
        """``(pos, log x, z)`` with ``x`` replaced by 1 where ``x <= 0`` (double where)."""
        pos = value > 0
        log_x = jnp.log(jnp.where(pos, value, 1.0))
        return pos, log_x, standardize(log_x, self.loc, self.scale)

    def _rsample(self, key, sample_shape):
        eps = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return jnp.exp(self.loc + self.scale * eps)

    def _log_prob(self, value):
        _, log_x, z = self._log_and_z(value)
        return -0.5 * z * z - jnp.log(self.scale) - HALF_LOG_2PI - log_x

    def _cdf(self, value):
        pos, _, z = self._log_and_z(value)
        return jnp.where(pos, special.ndtr(z), 0.0)

    def _log_cdf(self, value):
        pos, _, z = self._log_and_z(value)
        return jnp.where(pos, log_ndtr_accurate(z), -jnp.inf)

    def _survival_function(self, value):
        pos, _, z = self._log_and_z(value)
        return jnp.where(pos, special.ndtr(-z), 1.0)

    def _log_survival_function(self, value):
        pos, _, z = self._log_and_z(value)
        return jnp.where(pos, log_ndtr_accurate(-z), 0.0)

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: jnp.exp(self.loc + self.scale * ndtri(p)), 0.0, jnp.inf
        )

    def _mean(self):
        return jnp.exp(self.loc + 0.5 * jnp.square(self.scale))

    def _mode(self):
        return jnp.exp(self.loc - jnp.square(self.scale))

    def _variance(self):
        s2 = jnp.square(self.scale)
        return jnp.expm1(s2) * jnp.exp(2.0 * self.loc + s2)

    def _entropy(self):
        return self.loc + 0.5 + HALF_LOG_2PI + jnp.log(self.scale)
