"""The ``Transform`` base class, its inverse, and shape/sign helpers shared by transforms.

Semantics follow ``torch.distributions.transforms``: ``domain`` and ``codomain`` are
constraints whose ``event_dim`` says how many rightmost dimensions one application acts
on jointly, and ``log_abs_det_jacobian(x, y)`` has the shape of ``x`` with the domain's
event dims removed. Transforms are immutable pytrees (``jdist._pytree.Pytree``): numeric
parameters are leaves, shapes and event dims are static.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from jdist import constraints
from jdist._math import float_dtype
from jdist._pytree import Pytree

Array = jax.Array
Shape = tuple[int, ...]


def sum_rightmost(x, n: int):
    """Sum ``x`` over its ``n`` rightmost dimensions (``x`` unchanged when ``n == 0``)."""
    if n <= 0:
        return x
    return jnp.sum(x, axis=tuple(range(-n, 0)))


def as_float(x) -> Array:
    """``x`` as a floating JAX array (integers become the default float dtype)."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(float_dtype())


def param_leaf(x):
    """Store a numeric parameter as given, except containers become arrays and Python ints
    become floats (so that it is differentiable)."""
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return float(x)
    if isinstance(x, (list, tuple)):
        return as_float(x)
    return x


def shape_of(x) -> Shape:
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """Numpy broadcasting of static shapes; ``ValueError`` naming them when they clash."""
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        listed = ", ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"shapes do not broadcast: {listed}") from None


def is_static_number(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


class Transform(Pytree):
    """Base class of invertible (or at least differentiable) maps ``y = f(x)``.

    Subclasses implement ``_forward``, ``_inverse``, ``_log_abs_det_jacobian`` and set
    ``domain``, ``codomain`` and ``bijective``. The public surface is written once, here:
    ``t(x)``/``t.forward(x)``, ``t.inverse(y)``, ``t.inv`` (the inverse as a transform),
    ``log_abs_det_jacobian(x, y) = log|det ∂y/∂x|`` (shape of ``x`` without the domain's
    event dims), ``forward_and_log_det(x)``, ``inverse_and_log_det(y)``,
    ``forward_shape``/``inverse_shape``.

    Example:
        >>> t = jdist.transforms.ExpTransform()
        >>> y, log_det = t.forward_and_log_det(jnp.array([0.0, 1.0]))   # y = e^x, log_det = x
        >>> t.inverse(y)                                                  # back to [0., 1.]
    """

    bijective: ClassVar[bool] = False
    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real

    def __init__(self) -> None:
        self._set_fields({}, {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ----------------------------------------------------------- public surface
    def __call__(self, x) -> Array:
        """``y = f(x)``."""
        return self._forward(x)

    def forward(self, x) -> Array:
        """``y = f(x)`` (same as calling the transform)."""
        return self._forward(x)

    def inverse(self, y) -> Array:
        """``x = f⁻¹(y)`` (a right inverse for transforms that are not bijective)."""
        return self._inverse(y)

    @property
    def inv(self) -> Transform:
        """The inverse as a transform: ``t.inv(y) == t.inverse(y)``, ``t.inv.inv`` is ``t``."""
        return _InverseTransform(self)

    @property
    def sign(self):
        """+1 or -1 (or an array of them): whether a scalar transform increases or decreases."""
        raise NotImplementedError(f"{type(self).__name__} is not a monotone scalar transform")

    def log_abs_det_jacobian(self, x, y=None) -> Array:
        """``log|det ∂y/∂x|`` at ``x`` (``y = f(x)``, computed when not given), shape of
        ``x`` less the event dims."""
        if y is None:
            y = self._forward(x)
        return self._log_abs_det_jacobian(x, y)

    def forward_and_log_det(self, x) -> tuple[Array, Array]:
        """``(f(x), log|det ∂f/∂x|)``, sharing work where the transform allows."""
        y = self._forward(x)
        return y, self._log_abs_det_jacobian(x, y)

    def inverse_and_log_det(self, y) -> tuple[Array, Array]:
        """``(f⁻¹(y), log|det ∂f⁻¹/∂y|) = (x, -log|det ∂f/∂x|)``."""
        x = self._inverse(y)
        return x, -self._log_abs_det_jacobian(x, y)

    def forward_shape(self, shape: Sequence[int]) -> Shape:
        """Shape of ``f(x)`` for ``x`` of shape ``shape``."""
        return tuple(shape)

    def inverse_shape(self, shape: Sequence[int]) -> Shape:
        """Shape of ``f⁻¹(y)`` for ``y`` of shape ``shape``."""
        return tuple(shape)

    # ------------------------------------------------------------------ hooks
    def _forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def _log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(f"{type(self).__name__} has no log-det-Jacobian")

    def _expected_log_det(self, shape: Shape, dtype, mean) -> Array:
        """``E[log|det ∂f/∂x|]`` over ``x`` of shape ``shape`` with mean ``mean()`` (a
        callable), where it depends on the mean only (affine and exp maps); used for
        closed-form entropies."""
        raise NotImplementedError(
            f"{type(self).__name__}: the expected log-det-Jacobian has no closed form"
        )


class _InverseTransform(Transform):
    """``t.inv``: swaps forward and inverse, domain and codomain, negates the log-det."""

    def __init__(self, transform: Transform) -> None:
        self._set_fields({"base": transform}, {})

    def __repr__(self) -> str:
        return f"{self.base!r}.inv"

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base.bijective

    @property
    def domain(self):  # type: ignore[override]
        return self.base.codomain

    @property
    def codomain(self):  # type: ignore[override]
        return self.base.domain

    @property
    def sign(self):
        return self.base.sign

    @property
    def inv(self) -> Transform:
        return self.base

    def _forward(self, x):
        return self.base._inverse(x)

    def _inverse(self, y):
        return self.base._forward(y)

    def _log_abs_det_jacobian(self, x, y):
        return -self.base._log_abs_det_jacobian(y, x)

    def forward_and_log_det(self, x):
        return self.base.inverse_and_log_det(x)

    def inverse_and_log_det(self, y):
        return self.base.forward_and_log_det(y)

    def forward_shape(self, shape):
        return self.base.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self.base.forward_shape(shape)


def static_or_array_sign(value) -> Any:
    """``sign(value)`` as a Python int for Python numbers, else a JAX array."""
    if is_static_number(value):
        return int(np.sign(value))
    return jnp.sign(value)
