"""The location-scale base: ``X = loc + scale · Z`` with ``Z`` a standard law."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from jdist import constraints
from jdist._math import standardize
from jdist.distribution import Distribution


class LocScaleFamily(Distribution):
    """Base of the real-valued location-scale families (Normal, Cauchy, Laplace, Gumbel,
    Logistic): parameters ``loc`` (real) and ``scale`` (positive), broadcast to
    ``batch_shape``; ``rsample`` is ``loc + scale · Z`` with ``Z`` drawn by the subclass's
    ``_standard_sampler`` (a ``jax.random`` function ``(key, shape, dtype) -> Array``).

    Example:
        >>> class MyFamily(LocScaleFamily):
        ...     _standard_sampler = staticmethod(jax.random.laplace)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _standard_sampler: ClassVar[Callable]

    def __init__(self, loc, scale, *, validate_args: bool = False) -> None:
        super().__init__({"loc": loc, "scale": scale}, validate_args=validate_args)

    def _standardize(self, value):
        return standardize(value, self.loc, self.scale)

    def _rsample(self, key, sample_shape):
        eps = self._standard_sampler(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc + self.scale * eps
