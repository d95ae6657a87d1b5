"""Elementwise (scalar) transforms: Exp, Affine, Sigmoid, Tanh, Softplus, Power, Abs and
the CDF of a distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import log1mexp
from jdist.transforms._base import (
    Transform,
    as_float,
    broadcast_shapes,
    param_leaf,
    shape_of,
    static_or_array_sign,
    sum_rightmost,
)

LOG_2 = math.log(2.0)


def _below_one(dtype):
    """The largest float below 1 in ``dtype`` (``1 - 2⁻²⁴`` in float32)."""
    return 1.0 - jnp.finfo(dtype).epsneg


class ExpTransform(Transform):
    """``y = exp(x)``: real → positive; ``log|dy/dx| = x``.

    Example:
        >>> t = ExpTransform()
        >>> y, log_det = t.forward_and_log_det(jnp.array([0.0, 2.0]))   # e^x, x
        >>> t.inverse(y)                                                 # [0., 2.]
    """

    bijective = True
    domain = constraints.real
    codomain = constraints.positive
    sign = 1

    def _forward(self, x):
        return jnp.exp(x)

    def _inverse(self, y):
        return jnp.log(y)

    def _log_abs_det_jacobian(self, x, y):
        return as_float(x)

    def _expected_log_det(self, shape, dtype, mean):
        return jnp.broadcast_to(mean(), shape)


class AffineTransform(Transform):
    """``y = loc + scale * x`` elementwise; ``log|det J| = Σ log|scale|`` over the
    ``event_dim`` rightmost dims (``event_dim`` is static, ``loc``/``scale`` are leaves).

    Example:
        >>> t = AffineTransform(loc=1.0, scale=jnp.array([2.0, -3.0]))
        >>> t(jnp.ones(2))                          # [3., -2.]
        >>> t.log_abs_det_jacobian(jnp.ones(2), None)   # [log 2, log 3]
    """

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0) -> None:
        self._set_fields(
            {"loc": param_leaf(loc), "scale": param_leaf(scale)}, {"event_dim": int(event_dim)}
        )

    def __repr__(self) -> str:
        return f"AffineTransform(event_dim={self.event_dim})"

    @property
    def domain(self):  # type: ignore[override]
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    codomain = domain

    @property
    def sign(self):
        return static_or_array_sign(self.scale)

    def _forward(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def _log_abs_det_jacobian(self, x, y):
        shape = broadcast_shapes(shape_of(x), shape_of(self.scale))
        log_scale = jnp.log(jnp.abs(as_float(self.scale) * jnp.ones((), as_float(x).dtype)))
        return sum_rightmost(jnp.broadcast_to(log_scale, shape), self.event_dim)

    def _expected_log_det(self, shape, dtype, mean):
        return self._log_abs_det_jacobian(jnp.zeros(shape, dtype), None)

    def forward_shape(self, shape):
        return broadcast_shapes(shape, shape_of(self.loc), shape_of(self.scale))

    inverse_shape = forward_shape


class SigmoidTransform(Transform):
    """``y = 1 / (1 + e^{-x})``: real → unit interval; ``log|dy/dx| = -softplus(-x) -
    softplus(x)``.

    Clipping (as torch): the forward output is clipped to ``[tiny, 1 - epsneg]`` of its
    dtype, so it never rounds to exactly 0 or 1, and the inverse clips its input to the same
    range, so ``inverse(0)`` and ``inverse(1)`` are finite.

    Example:
        >>> t = SigmoidTransform()
        >>> y, log_det = t.forward_and_log_det(jnp.array([0.0]))   # 0.5, log 1/4
        >>> t.inverse(y)                                           # 0.
    """

    bijective = True
    domain = constraints.real
    codomain = constraints.unit_interval
    sign = 1

    def _forward(self, x):
        x = as_float(x)
        info = jnp.finfo(x.dtype)
        return jnp.clip(jax.nn.sigmoid(x), info.tiny, _below_one(x.dtype))

    def _inverse(self, y):
        y = as_float(y)
        y = jnp.clip(y, jnp.finfo(y.dtype).tiny, _below_one(y.dtype))
        return jnp.log(y) - jnp.log1p(-y)

    def _log_abs_det_jacobian(self, x, y):
        return -jax.nn.softplus(-x) - jax.nn.softplus(x)


class TanhTransform(Transform):
    """``y = tanh(x)``: real → (-1, 1), the squashing of squashed-Gaussian policies.

    ``log|dy/dx| = log(1 - tanh²x) = 2 (log 2 - x - softplus(-2x))``, which stays exact
    for large ``|x|`` (e.g. -38.6 at ``x = 20``) where ``log(1 - y²)`` gives ``-inf``.

    Clipping: the inverse clips ``y`` to ``[-(1 - epsneg), 1 - epsneg]`` of its dtype
    (``1 - 2⁻²⁴`` in float32) before ``atanh``, so ``inverse(±1)`` is finite (±8.67 in
    float32, ±18.7 in float64) instead of ±inf. Use ``forward_and_log_det`` (or
    ``TransformedDistribution.sample_and_log_prob``) to avoid inverting at all.

    Example:
        >>> t = TanhTransform()
        >>> y, log_det = t.forward_and_log_det(jnp.array([0.0, 20.0]))   # [0, 1], [0, -38.6]
        >>> t.inverse(jnp.array([0.5]))                                  # atanh(0.5)
    """

    bijective = True
    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    sign = 1

    def _forward(self, x):
        return jnp.tanh(x)

    def _inverse(self, y):
        y = as_float(y)
        bound = _below_one(y.dtype)
        return jnp.arctanh(jnp.clip(y, -bound, bound))

    def _log_abs_det_jacobian(self, x, y):
        return 2.0 * (LOG_2 - x - jax.nn.softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """``y = log(1 + e^x)``: real → positive; ``log|dy/dx| = -softplus(-x)``; inverse
    ``x = y + log(1 - e^{-y})`` (accurate for small and large ``y``).

    Clipping: the forward output is kept at or above the dtype's smallest normal number
    (where ``e^x`` underflows, below ``x ≈ -87`` in float32), so it stays positive, and the
    inverse clips its input to the same bound, so ``inverse(0)`` is finite.

    Example:
        >>> t = SoftplusTransform()
        >>> t(jnp.array([0.0]))                  # log 2
        >>> t.inverse(jnp.array([jnp.log(2.0)]))   # 0.
    """

    bijective = True
    domain = constraints.real
    codomain = constraints.positive
    sign = 1

    def _forward(self, x):
        x = as_float(x)
        return jnp.maximum(jax.nn.softplus(x), jnp.finfo(x.dtype).tiny)

    def _inverse(self, y):
        y = as_float(y)
        y = jnp.maximum(y, jnp.finfo(y.dtype).tiny)
        return y + log1mexp(y)

    def _log_abs_det_jacobian(self, x, y):
        return -jax.nn.softplus(-x)


class PowerTransform(Transform):
    """``y = x ** exponent`` on the positive reals; ``log|dy/dx| = log|exponent| +
    (exponent - 1) log x``. ``exponent`` is a leaf (may be an array).

    Example:
        >>> t = PowerTransform(2.0)
        >>> t(jnp.array([3.0]))                            # 9.
        >>> t.log_abs_det_jacobian(jnp.array([3.0]), None)  # log 6
    """

    bijective = True
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent) -> None:
        self._set_fields({"exponent": param_leaf(exponent)}, {})

    @property
    def sign(self):
        return static_or_array_sign(self.exponent)

    def _forward(self, x):
        return jnp.power(x, self.exponent)

    def _inverse(self, y):
        return jnp.power(y, 1.0 / self.exponent)

    def _log_abs_det_jacobian(self, x, y):
        return jnp.log(jnp.abs(self.exponent)) + (self.exponent - 1.0) * jnp.log(x)

    def forward_shape(self, shape):
        return broadcast_shapes(shape, shape_of(self.exponent))

    inverse_shape = forward_shape


class AbsTransform(Transform):
    """``y = |x|``: real → nonnegative, *not* injective; ``inverse(y) = y`` (the positive
    branch). ``log|dy/dx| = 0`` almost everywhere, but ``TransformedDistribution``
    refuses ``log_prob`` through it (the density would need both branches; use
    ``HalfNormal`` and friends).

    Example:
        >>> t = AbsTransform()
        >>> t(jnp.array([-2.0, 3.0]))   # [2., 3.]
    """

    bijective = False
    domain = constraints.real
    codomain = constraints.positive

    def _forward(self, x):
        return jnp.abs(x)

    def _inverse(self, y):
        return y

    def _log_abs_det_jacobian(self, x, y):
        return jnp.zeros_like(as_float(x))


class CumulativeDistributionTransform(Transform):
    """``y = distribution.cdf(x)``: the support of a scalar distribution → [0, 1];
    ``log|dy/dx| = distribution.log_prob(x)``; inverse ``distribution.icdf(y)``. The
    distribution is a pytree child, so its parameters are leaves.

    Example:
        >>> t = CumulativeDistributionTransform(jdist.Normal(0.0, 1.0))
        >>> t(jnp.array([0.0]))            # 0.5
        >>> t.inverse(jnp.array([0.975]))  # 1.96
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution) -> None:
        self._set_fields({"distribution": distribution}, {})

    def __repr__(self) -> str:
        return f"CumulativeDistributionTransform({self.distribution!r})"

    @property
    def domain(self):  # type: ignore[override]
        return self.distribution.support

    def _forward(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def _log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def forward_shape(self, shape):
        return broadcast_shapes(shape, self.distribution.batch_shape)

    inverse_shape = forward_shape
