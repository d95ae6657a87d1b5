"""Gumbel (type-I extreme value) and logistic distributions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist._math import log1mexp, log_float_max, quantile_with_ends
from jdist.distributions._loc_scale import LocScaleFamily

EULER_GAMMA = 0.57721566490153286061

# Below z = -30 the Gumbel CDF exp(-e^{-z}) < exp(-1e13) is exactly 0 in every float type;
# clamping there keeps 0 · inf out of the chain rule when e^{-z} overflows.
_GUMBEL_Z_MIN = -30.0
# Above z = 20, log(1 - exp(-u)) with u = e^{-z} < 2.1e-9 equals -z - u/2 to O(u²) ≈ 4e-18
# (relative), and this form survives u underflowing to 0.
_GUMBEL_Z_ASYMPTOTIC = 20.0


class Gumbel(LocScaleFamily):
    """Gumbel (maximum) distribution with location ``loc`` and scale ``scale``.

    ``p(x) = exp(-(z + e^{-z})) / scale`` with ``z = (x - loc) / scale``; the CDF is
    ``exp(-e^{-z})``. ``loc`` and ``scale`` broadcast to ``batch_shape``. ``log_cdf`` is
    ``-e^{-z}`` exactly and ``log_survival_function`` uses ``log1mexp`` with an
    asymptotic form far in the upper tail, so both are accurate at ``z = ±100``.

    Example:
        >>> d = jdist.Gumbel(loc=0.0, scale=jnp.array([1.0, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2)
        >>> d.log_survival_function(x).shape
        (3, 2)
    """

    _standard_sampler = staticmethod(jax.random.gumbel)

    def _exp_minus_z(self, z):
        """``(e^{-z}, overflow)``, saturated at the largest float where it overflows, so
        that a -inf result has a finite (unused) derivative, never ``0 · inf = NaN``."""
        log_max = log_float_max(self.dtype)
        overflow = -z > log_max
        return jnp.exp(jnp.where(overflow, -log_max, z) * -1.0), overflow

    def _log_prob(self, value):
        z = self._standardize(value)
        u, overflow = self._exp_minus_z(z)
        return jnp.where(overflow, -jnp.inf, -(z + u) - jnp.log(self.scale))

    def _cdf(self, value):
        z = jnp.maximum(self._standardize(value), _GUMBEL_Z_MIN)
        return jnp.exp(-jnp.exp(-z))

    def _log_cdf(self, value):
        u, overflow = self._exp_minus_z(self._standardize(value))
        return jnp.where(overflow, -jnp.inf, -u)

    def _survival_function(self, value):
        z = jnp.maximum(self._standardize(value), _GUMBEL_Z_MIN)
        return -jnp.expm1(-jnp.exp(-z))

    def _log_survival_function(self, value):
        z = self._standardize(value)
        far = z > _GUMBEL_Z_ASYMPTOTIC
        z_far = jnp.where(far, z, _GUMBEL_Z_ASYMPTOTIC)
        z_near = jnp.clip(z, _GUMBEL_Z_MIN, _GUMBEL_Z_ASYMPTOTIC)
        return jnp.where(far, -z_far - 0.5 * jnp.exp(-z_far), log1mexp(jnp.exp(-z_near)))

    def _icdf(self, value):
        def interior(p):
            # -log p, via log1p(p - 1) above 1/2 where p - 1 is exact.
            upper = p > 0.5
            p_lo = jnp.where(upper, 0.5, p)
            p_hi = jnp.where(upper, p, 1.0)
            neg_log_p = -jnp.where(upper, jnp.log1p(p_hi - 1.0), jnp.log(p_lo))
            return self.loc - self.scale * jnp.log(neg_log_p)

        return quantile_with_ends(value, interior, -jnp.inf, jnp.inf)

    def _mean(self):
        return self.loc + EULER_GAMMA * self.scale

    def _mode(self):
        return self.loc

    def _variance(self):
        return (math.pi**2 / 6.0) * jnp.square(self.scale)

    def _stddev(self):
        return (math.pi / math.sqrt(6.0)) * self.scale

    def _entropy(self):
        return jnp.log(self.scale) + (EULER_GAMMA + 1.0)


class Logistic(LocScaleFamily):
    """Logistic distribution with location ``loc`` and scale ``scale`` (beyond torch).

    ``p(x) = e^{-z} / (scale (1 + e^{-z})²)`` with ``z = (x - loc) / scale``; the CDF is
    ``sigmoid(z)``. ``loc`` and ``scale`` broadcast to ``batch_shape``. Log-CDFs are
    ``-softplus(∓z)``, exact in both tails.

    Example:
        >>> d = jdist.Logistic(loc=0.0, scale=jnp.array([1.0, 2.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2)
        >>> d.log_cdf(x).shape
        (3, 2)
    """

    _standard_sampler = staticmethod(jax.random.logistic)

    def _log_prob(self, value):
        a = jnp.abs(self._standardize(value))
        return -a - 2.0 * jnp.log1p(jnp.exp(-a)) - jnp.log(self.scale)

    def _cdf(self, value):
        return jax.nn.sigmoid(self._standardize(value))

    def _log_cdf(self, value):
        return -jax.nn.softplus(-self._standardize(value))

    def _survival_function(self, value):
        return jax.nn.sigmoid(-self._standardize(value))

    def _log_survival_function(self, value):
        return -jax.nn.softplus(self._standardize(value))

    def _icdf(self, value):
        return quantile_with_ends(
            value,
            lambda p: self.loc + self.scale * (jnp.log(p) - jnp.log1p(-p)),
            -jnp.inf,
            jnp.inf,
        )

    def _mean(self):
        return self.loc

    def _mode(self):
        return self.loc

    def _variance(self):
        return (math.pi**2 / 3.0) * jnp.square(self.scale)

    def _stddev(self):
        return (math.pi / math.sqrt(3.0)) * self.scale

    def _entropy(self):
        return jnp.log(self.scale) + 2.0
