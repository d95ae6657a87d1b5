"""Transforms that combine or reshape others: ``ComposeTransform`` (and the identity),
``IndependentTransform`` and ``ReshapeTransform``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp

from jdist import constraints
from jdist.transforms._base import Shape, Transform, as_float, sum_rightmost


class ComposeTransform(Transform):
    """Applies ``parts`` in order: ``y = parts[-1](... parts[0](x))``.

    The log-det is the sum of the parts' log-dets, each summed over the extra event dims
    that later parts introduce (so a scalar map followed by a vector map is summed over the
    vector's axis). ``ComposeTransform([])`` is the identity.

    Example:
        >>> t = ComposeTransform([ExpTransform(), AffineTransform(1.0, 2.0)])  # 1 + 2 e^x
        >>> y, log_det = t.forward_and_log_det(jnp.zeros(3))   # y = 3, log_det = log 2
        >>> t.inv(y)                                           # zeros
    """

    def __init__(self, parts: Sequence[Transform]) -> None:
        parts = tuple(parts)
        for p in parts:
            if not isinstance(p, Transform):
                raise TypeError(f"ComposeTransform: expected Transform parts, got {p!r}")
        self._set_fields({"parts": parts}, {})

    def __repr__(self) -> str:
        return f"ComposeTransform({list(self.parts)!r})"

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(p.bijective for p in self.parts)

    @property
    def domain(self):  # type: ignore[override]
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @property
    def codomain(self):  # type: ignore[override]
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def sign(self):
        sign = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self) -> Transform:
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def _forward(self, x):
        for p in self.parts:
            x = p._forward(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p._inverse(y)
        return y

    def _sum_counts(self) -> list[int]:
        """For each part, how many extra rightmost dims of its log-det to sum."""
        counts, event_dim = [], self.domain.event_dim
        for p in self.parts:
            counts.append(event_dim - p.domain.event_dim)
            event_dim += p.codomain.event_dim - p.domain.event_dim
        return counts

    def _log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return jnp.zeros_like(as_float(x))
        xs = [x]
        for p in self.parts[:-1]:
            xs.append(p._forward(xs[-1]))
        xs.append(y)
        total = 0.0
        for p, n, xi, yi in zip(self.parts, self._sum_counts(), xs[:-1], xs[1:], strict=True):
            total = total + sum_rightmost(p._log_abs_det_jacobian(xi, yi), n)
        return total

    def forward_and_log_det(self, x):
        if not self.parts:
            return x, jnp.zeros_like(as_float(x))
        total = 0.0
        for p, n in zip(self.parts, self._sum_counts(), strict=True):
            x, log_det = p.forward_and_log_det(x)
            total = total + sum_rightmost(log_det, n)
        return x, total

    def forward_shape(self, shape):
        for p in self.parts:
            shape = p.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape):
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return tuple(shape)


identity_transform = ComposeTransform([])
"""The identity map (``ComposeTransform([])``), as ``torch.distributions.transforms``."""


class IndependentTransform(Transform):
    """Treats the ``reinterpreted_batch_ndims`` rightmost batch dims of ``base_transform``
    as event dims: same map, log-det summed over those dims.

    Example:
        >>> t = IndependentTransform(ExpTransform(), 1)
        >>> y, log_det = t.forward_and_log_det(jnp.ones((4, 3)))
        >>> log_det.shape     # summed over the last axis: 3.0 each
        (4,)
    """

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int) -> None:
        n = int(reinterpreted_batch_ndims)
        if n < 0:
            raise ValueError(f"IndependentTransform: reinterpreted_batch_ndims={n} must be >= 0")
        self._set_fields({"base_transform": base_transform}, {"reinterpreted_batch_ndims": n})

    def __repr__(self) -> str:
        return f"IndependentTransform({self.base_transform!r}, {self.reinterpreted_batch_ndims})"

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def domain(self):  # type: ignore[override]
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self):  # type: ignore[override]
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def sign(self):
        return self.base_transform.sign

    def _forward(self, x):
        return self.base_transform._forward(x)

    def _inverse(self, y):
        return self.base_transform._inverse(y)

    def _log_abs_det_jacobian(self, x, y):
        return sum_rightmost(
            self.base_transform._log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims
        )

    def forward_and_log_det(self, x):
        y, log_det = self.base_transform.forward_and_log_det(x)
        return y, sum_rightmost(log_det, self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)

    def _expected_log_det(self, shape, dtype, mean):
        base = self.base_transform._expected_log_det(shape, dtype, mean)
        return sum_rightmost(base, self.reinterpreted_batch_ndims)


class ReshapeTransform(Transform):
    """Reshapes the rightmost ``in_shape`` dims to ``out_shape`` (same number of elements);
    volume preserving, so the log-det is zero.

    Example:
        >>> t = ReshapeTransform((6,), (2, 3))
        >>> t(jnp.zeros((5, 6))).shape
        (5, 2, 3)
    """

    bijective = True

    def __init__(self, in_shape: Sequence[int], out_shape: Sequence[int]) -> None:
        in_shape = tuple(int(s) for s in in_shape)
        out_shape = tuple(int(s) for s in out_shape)
        if math.prod(in_shape) != math.prod(out_shape):
            raise ValueError(
                f"ReshapeTransform: in_shape {in_shape} and out_shape {out_shape} have "
                f"different numbers of elements"
            )
        self._set_fields({}, {"in_shape": in_shape, "out_shape": out_shape})

    def __repr__(self) -> str:
        return f"ReshapeTransform({self.in_shape}, {self.out_shape})"

    @property
    def domain(self):  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self):  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.out_shape))

    @staticmethod
    def _batch(shape, event: Shape, what: str) -> Shape:
        shape = tuple(shape)
        if len(shape) < len(event) or shape[len(shape) - len(event) :] != event:
            raise ValueError(f"ReshapeTransform: shape {shape} does not end with {what} {event}")
        return shape[: len(shape) - len(event)]

    def _forward(self, x):
        x = jnp.asarray(x)
        return x.reshape(self._batch(x.shape, self.in_shape, "in_shape") + self.out_shape)

    def _inverse(self, y):
        y = jnp.asarray(y)
        return y.reshape(self._batch(y.shape, self.out_shape, "out_shape") + self.in_shape)

    def _log_abs_det_jacobian(self, x, y):
        x = as_float(x)
        return jnp.zeros(self._batch(x.shape, self.in_shape, "in_shape"), x.dtype)

    def forward_shape(self, shape):
        return self._batch(shape, self.in_shape, "in_shape") + self.out_shape

    def inverse_shape(self, shape):
        return self._batch(shape, self.out_shape, "out_shape") + self.in_shape
