"""Normal (Gaussian) distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy import special

from jdist import constraints
from jdist._math import HALF_LOG_2PI, log_ndtr, ndtri
from jdist.distribution import Distribution


class Normal(Distribution):
    """Normal distribution with mean ``loc`` and standard deviation ``scale``.

    ``p(x) = exp(-(x - loc)² / (2 scale²)) / (scale √(2π))``. ``loc`` and ``scale``
    broadcast to ``batch_shape``; ``event_shape == ()``.

    Example:
        >>> d = jdist.Normal(loc=jnp.zeros(3), scale=1.0)
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 3), differentiable
        >>> d.log_prob(x).shape
        (5, 3)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, *, validate_args: bool = False) -> None:
        super().__init__({"loc": loc, "scale": scale}, validate_args=validate_args)

    def _standardize(self, value):
        return (value - self.loc) / self.scale

    def _rsample(self, key, sample_shape):
        eps = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc + self.scale * eps

    def _log_prob(self, value):
        z = self._standardize(value)
        return -0.5 * z * z - jnp.log(self.scale) - HALF_LOG_2PI

    def _cdf(self, value):
        return special.ndtr(self._standardize(value))

    def _log_cdf(self, value):
        return log_ndtr(self._standardize(value))

    def _survival_function(self, value):
        return special.ndtr(-self._standardize(value))

    def _log_survival_function(self, value):
        return log_ndtr(-self._standardize(value))

    def _icdf(self, value):
        return self.loc + self.scale * ndtri(value)

    def _mean(self):
        return self.loc

    def _mode(self):
        return self.loc

    def _variance(self):
        return jnp.square(self.scale)

    def _entropy(self):
        return 0.5 + HALF_LOG_2PI + jnp.log(self.scale)
