"""``biject_to`` and ``transform_to``: from a constraint to a transform whose codomain is it.

As in ``torch.distributions.constraint_registry``: ``biject_to(c)`` is a bijection from
unconstrained reals (of ``c.event_dim`` dims) onto ``c``, for unconstrained optimisation
and HMC (its log-det is well defined); ``transform_to(c)`` only promises to map onto
``c`` and may be cheaper or not injective (``SoftmaxTransform`` for the simplex).

Differences from torch: ``biject_to`` also covers ``lower_cholesky`` and
``positive_definite`` (``LowerCholeskyTransform`` / ``PositiveDefiniteTransform`` are
bijections on lower-triangular matrices; the upper triangle of the input is ignored), and
``positive``/``nonnegative`` (``greater_than(0)`` with a Python ``0``) map to a bare
``ExpTransform`` (torch composes it with an identity affine map; same values).

Example:
    >>> import optax
    >>> t = jdist.biject_to(jdist.Gamma.arg_constraints["concentration"])   # ExpTransform
    >>> u = t.inv(jnp.array(2.0))              # unconstrained parameter for optax
    >>> jdist.Gamma(t(u), 1.0).log_prob(1.0)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jdist import constraints, transforms
from jdist.constraints import Constraint

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]

Factory = Callable[[Constraint], transforms.Transform]


class ConstraintRegistry:
    """Maps constraint types to factories ``factory(constraint) -> Transform``.

    ``registry(constraint)`` looks up ``type(constraint)`` and then its base classes.
    Register with ``registry.register(constraint_or_type, factory)`` or as a decorator.

    Example:
        >>> reg = ConstraintRegistry()
        >>> @reg.register(jdist.constraints.positive)
        ... def _(c): return jdist.transforms.SoftplusTransform()
        >>> reg(jdist.constraints.positive)(jnp.array(0.0))   # log 2
    """

    def __init__(self) -> None:
        self._registry: dict[type, Factory] = {}

    def register(self, constraint: Constraint | type, factory: Factory | None = None):
        """Register ``factory`` for the type of ``constraint`` (an instance or a
        ``Constraint`` subclass); returns ``factory``, or a decorator when it is omitted."""
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, Constraint):
            key = type(constraint)
        elif isinstance(constraint, type) and issubclass(constraint, Constraint):
            key = constraint
        else:
            raise TypeError(
                f"register: expected a Constraint instance or subclass, got {constraint!r}"
            )
        self._registry[key] = factory
        return factory

    def __call__(self, constraint: Constraint) -> transforms.Transform:
        """The transform registered for ``constraint``'s type (or nearest base class)."""
        for cls in type(constraint).__mro__:
            factory = self._registry.get(cls)
            if factory is not None:
                return factory(constraint)
        raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints")


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _is(value, number: float) -> bool:
    return isinstance(value, (int, float, np.number)) and value == number


def _both(constraint):
    def decorate(factory):
        biject_to.register(constraint, factory)
        transform_to.register(constraint, factory)
        return factory

    return decorate


@_both(constraints.real)
def _to_real(constraint):
    return transforms.identity_transform


@biject_to.register(constraints.independent(constraints.real, 1))
def _biject_to_independent(constraint):
    return transforms.IndependentTransform(
        biject_to(constraint.base), constraint.reinterpreted_batch_ndims
    )


@transform_to.register(constraints.independent(constraints.real, 1))
def _transform_to_independent(constraint):
    return transforms.IndependentTransform(
        transform_to(constraint.base), constraint.reinterpreted_batch_ndims
    )


@_both(constraints.positive)  # also nonnegative, greater_than, greater_than_eq (same type)
def _to_greater_than(constraint):
    if _is(constraint.lower_bound, 0):
        return transforms.ExpTransform()
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound, 1.0)]
    )


@_both(constraints.less_than(0.0))
def _to_less_than(constraint):
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound, -1.0)]
    )


@_both(constraints.unit_interval)
@_both(constraints.half_open_interval(0.0, 1.0))
def _to_interval(constraint):
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if _is(lower, 0) and _is(upper, 1):
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform(
        [transforms.SigmoidTransform(), transforms.AffineTransform(lower, upper - lower)]
    )


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint):
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint):
    return transforms.SoftmaxTransform()


@_both(constraints.lower_cholesky)
def _to_lower_cholesky(constraint):
    return transforms.LowerCholeskyTransform()


@_both(constraints.positive_definite)
def _to_positive_definite(constraint):
    return transforms.PositiveDefiniteTransform()


@transform_to.register(constraints.positive_semidefinite)
def _transform_to_positive_semidefinite(constraint):
    return transforms.PositiveDefiniteTransform()


@_both(constraints.corr_cholesky)
def _to_corr_cholesky(constraint):
    return transforms.CorrCholeskyTransform()


@biject_to.register(constraints.cat([constraints.real]))
def _biject_to_cat(constraint):
    return transforms.CatTransform(
        [biject_to(c) for c in constraint.constraints], constraint.axis, constraint.lengths
    )


@transform_to.register(constraints.cat([constraints.real]))
def _transform_to_cat(constraint):
    return transforms.CatTransform(
        [transform_to(c) for c in constraint.constraints], constraint.axis, constraint.lengths
    )


@biject_to.register(constraints.stack([constraints.real]))
def _biject_to_stack(constraint):
    return transforms.StackTransform(
        [biject_to(c) for c in constraint.constraints], constraint.axis
    )


@transform_to.register(constraints.stack([constraints.real]))
def _transform_to_stack(constraint):
    return transforms.StackTransform(
        [transform_to(c) for c in constraint.constraints], constraint.axis
    )
