"""Continuous uniform distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist.distribution import Distribution, check_condition


class Uniform(Distribution):
    """Uniform distribution on the interval ``[low, high]``.

    ``p(x) = 1 / (high - low)`` for ``low <= x <= high``, else 0. ``low`` and ``high``
    broadcast to ``batch_shape``. The mode is not unique, so ``mode`` raises.

    Example:
        >>> d = jdist.Uniform(low=0.0, high=jnp.array([1.0, 2.0]))
        >>> d.rsample(jax.random.key(0), (4,)).shape
        (4, 2)
    """

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low, high, *, validate_args: bool = False) -> None:
        super().__init__({"low": low, "high": high}, validate_args=validate_args)

    def _validate_parameters(self) -> None:
        ok = jnp.less(self.low, self.high)
        check_condition(
            ok,
            lambda: (
                f"Uniform: parameters `low` {jnp.shape(self.low)} and `high` "
                f"{jnp.shape(self.high)} violate constraint low < high"
            ),
        )

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def _width(self):
        return self.high - self.low

    def _rsample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.low + self._width * u

    def _log_prob(self, value):
        return jnp.broadcast_to(-jnp.log(self._width), jnp.shape(value * self._width))

    def _cdf(self, value):
        return jnp.clip((value - self.low) / self._width, 0.0, 1.0)

    def _log_survival_function(self, value):
        # log1p(-(x - low)/width): exact just above low, where (high - x)/width rounds.
        return jnp.log1p(-jnp.clip((value - self.low) / self._width, 0.0, 1.0))

    def _icdf(self, value):
        return self.low + value * self._width

    def _mean(self):
        return 0.5 * (self.low + self.high)

    def _mode(self):
        raise NotImplementedError("Uniform has no unique mode (every point of [low, high] is one)")

    def _variance(self):
        return jnp.square(self._width) / 12.0

    def _entropy(self):
        return jnp.log(self._width)
