"""Constraints on parameters and on the support of distributions.

A constraint is a small immutable object with ``check(value)`` returning a boolean
array of shape ``value.shape[:value.ndim - event_dim]``, and an ``event_dim`` telling
how many rightmost dimensions form one constrained event (``simplex`` has
``event_dim == 1``). Names follow ``torch.distributions.constraints``.

Example:
    >>> import jax.numpy as jnp
    >>> from jdist import constraints
    >>> constraints.positive.check(jnp.array([1.0, -1.0]))
    Array([ True, False], dtype=bool)
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = [
    "Constraint",
    "boolean",
    "dependent",
    "greater_than",
    "greater_than_eq",
    "independent",
    "integer_interval",
    "interval",
    "less_than",
    "nonnegative",
    "nonnegative_integer",
    "positive",
    "positive_integer",
    "real",
    "real_vector",
    "simplex",
    "unit_interval",
]


def _is_whole(value):
    """``value == floor(value)``, skipped (constant True) for integer and bool arrays."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not jnp.issubdtype(dtype, jnp.inexact):
        return True
    return value == jnp.floor(value)


class Constraint:
    """Base class: a region of valid values.

    Subclasses implement ``check(value) -> bool array`` and set ``event_dim`` and
    ``is_discrete``.
    """

    event_dim: int = 0
    is_discrete: bool = False

    def check(self, value):
        """Boolean array: which events of ``value`` satisfy the constraint."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_")


class _Real(Constraint):
    """Any finite-or-infinite real number that is not NaN."""

    def check(self, value):
        return value == value  # False only for NaN

    def __repr__(self) -> str:
        return "real"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound, *, inclusive: bool = False):
        self.lower_bound = lower_bound
        self.inclusive = inclusive

    def check(self, value):
        return value >= self.lower_bound if self.inclusive else value > self.lower_bound

    def __repr__(self) -> str:
        op = ">=" if self.inclusive else ">"
        return f"{op} {self.lower_bound}"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self) -> str:
        return f"< {self.upper_bound}"


class _Interval(Constraint):
    """Closed interval ``[lower_bound, upper_bound]``."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"in [{self.lower_bound}, {self.upper_bound}]"


class _IntegerInterval(Constraint):
    """Integers in ``[lower_bound, upper_bound]`` (bounds may be arrays)."""

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        return _is_whole(value) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"integer in [{self.lower_bound}, {self.upper_bound}]"


class _IntegerGreaterThanEq(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _is_whole(value) & (value >= self.lower_bound)

    def __repr__(self) -> str:
        return f"integer >= {self.lower_bound}"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)

    def __repr__(self) -> str:
        return "boolean (0 or 1)"


class _Simplex(Constraint):
    """Nonnegative vectors along the last axis summing to one (to 1e-6 relative)."""

    event_dim = 1

    def check(self, value):
        value = jnp.asarray(value)
        tol = 1e-6 if jnp.finfo(value.dtype).bits > 32 else 1e-5
        return jnp.all(value >= 0, axis=-1) & (jnp.abs(jnp.sum(value, axis=-1) - 1) < tol)

    def __repr__(self) -> str:
        return "simplex (nonnegative, last axis sums to 1)"


class _Independent(Constraint):
    """Reinterprets ``reinterpreted_batch_ndims`` batch dims of ``base`` as event dims."""

    def __init__(self, base: Constraint, reinterpreted_batch_ndims: int):
        self.base = base
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.event_dim = base.event_dim + reinterpreted_batch_ndims
        self.is_discrete = base.is_discrete

    def check(self, value):
        ok = self.base.check(value)
        if self.reinterpreted_batch_ndims:
            ok = jnp.all(ok, axis=tuple(range(-self.reinterpreted_batch_ndims, 0)))
        return ok

    def __repr__(self) -> str:
        return f"independent({self.base!r}, {self.reinterpreted_batch_ndims})"


class _Dependent(Constraint):
    """Placeholder for supports that depend on parameters; ``check`` is not defined."""

    def check(self, value):
        raise ValueError("cannot check a dependent constraint; use the distribution's support")

    def __repr__(self) -> str:
        return "dependent"


real = _Real()
real_vector = _Independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThan(0.0, inclusive=True)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
nonnegative_integer = _IntegerGreaterThanEq(0)
positive_integer = _IntegerGreaterThanEq(1)
simplex = _Simplex()
dependent = _Dependent()


def greater_than(lower_bound) -> Constraint:
    """Values strictly greater than ``lower_bound``."""
    return _GreaterThan(lower_bound)


def greater_than_eq(lower_bound) -> Constraint:
    """Values greater than or equal to ``lower_bound``."""
    return _GreaterThan(lower_bound, inclusive=True)


def less_than(upper_bound) -> Constraint:
    """Values strictly less than ``upper_bound``."""
    return _LessThan(upper_bound)


def interval(lower_bound, upper_bound) -> Constraint:
    """Values in the closed interval ``[lower_bound, upper_bound]``."""
    return _Interval(lower_bound, upper_bound)


def integer_interval(lower_bound, upper_bound) -> Constraint:
    """Integers in ``[lower_bound, upper_bound]``."""
    return _IntegerInterval(lower_bound, upper_bound)


def independent(base: Constraint, reinterpreted_batch_ndims: int) -> Constraint:
    """``base`` applied elementwise, with the rightmost dims checked jointly as one event."""
    return _Independent(base, reinterpreted_batch_ndims)
