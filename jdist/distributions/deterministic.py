"""Deterministic (point mass) distribution."""

from __future__ import annotations

import jax.numpy as jnp

from jdist import constraints
from jdist.distribution import Distribution


class _EqualTo(constraints.Constraint):
    """The single point ``value``: ``check(x)`` is ``x == value``."""

    def __init__(self, value):
        self.value = value

    def check(self, value):
        return value == self.value

    def __repr__(self) -> str:
        return f"== {self.value}"


class Deterministic(Distribution):
    """Point mass at ``value`` (beyond torch; numpyro's ``Delta``, TFP's ``Deterministic``).

    ``P(X = value) = 1``: ``log_prob`` is 0 at ``value`` and ``-inf`` elsewhere (the
    log-mass with respect to counting measure), ``cdf`` is the step ``1[x >= value]``,
    ``icdf(p) = value`` for every ``p`` in [0, 1] (the lower end of the support at
    ``p = 0``, as for the other families). ``mean = mode = value``, ``variance = 0``,
    ``entropy = 0``. ``sample`` returns ``value`` broadcast to ``sample_shape +
    batch_shape`` in the float dtype; ``rsample`` is the identity, so its gradient with
    respect to ``value`` is 1. ``value`` has shape ``batch_shape``.

    Example:
        >>> d = jdist.Deterministic(value=jnp.array([0.5, 2.0]))
        >>> d.sample(jax.random.key(0), (3,))        # [[0.5, 2.0]] * 3
        >>> d.log_prob(jnp.array([0.5, 1.0]))        # [0., -inf]
    """

    arg_constraints = {"value": constraints.real}
    has_rsample = True

    def __init__(self, value, *, validate_args: bool = False) -> None:
        super().__init__({"value": value}, validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return _EqualTo(self.value)

    def _point(self):
        return jnp.asarray(self.value, self.dtype)

    def _rsample(self, key, sample_shape):
        point = self._point()
        return jnp.broadcast_to(point, sample_shape + self.batch_shape)

    def _log_prob(self, value):
        hit = value == self._point()
        return jnp.where(hit, jnp.zeros((), self.dtype), -jnp.inf)

    def _cdf(self, value):
        return jnp.where(value >= self._point(), 1.0, 0.0).astype(self.dtype)

    def _log_cdf(self, value):
        return jnp.where(value >= self._point(), 0.0, -jnp.inf).astype(self.dtype)

    def _survival_function(self, value):
        return jnp.where(value < self._point(), 1.0, 0.0).astype(self.dtype)

    def _log_survival_function(self, value):
        return jnp.where(value < self._point(), 0.0, -jnp.inf).astype(self.dtype)

    def _icdf(self, value):
        return self._point() + jnp.zeros_like(value, dtype=self.dtype)

    def _mean(self):
        return self._point()

    def _mode(self):
        return self._point()

    def _variance(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def _entropy(self):
        return jnp.zeros(self.batch_shape, self.dtype)
