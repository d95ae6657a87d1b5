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

import jax
import jax.numpy as jnp

__all__ = [
    "Constraint",
    "boolean",
    "cat",
    "corr_cholesky",
    "half_open_interval",
    "is_dependent",
    "lower_cholesky",
    "lower_triangular",
    "multinomial",
    "one_hot",
    "positive_definite",
    "positive_semidefinite",
    "square",
    "stack",
    "symmetric",
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


class _HalfOpenInterval(Constraint):
    """Half-open interval ``[lower_bound, upper_bound)``."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value < self.upper_bound)

    def __repr__(self) -> str:
        return f"in [{self.lower_bound}, {self.upper_bound})"


class _OneHot(Constraint):
    event_dim = 1
    is_discrete = True

    def check(self, value):
        return jnp.all((value == 0) | (value == 1), axis=-1) & (jnp.sum(value, axis=-1) == 1)

    def __repr__(self) -> str:
        return "one_hot"


class _Multinomial(Constraint):
    """Nonnegative integer vectors whose last axis sums to at most ``upper_bound``."""

    event_dim = 1
    is_discrete = True

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return jnp.all((value >= 0) & _is_whole(value), axis=-1) & (
            jnp.sum(value, axis=-1) <= self.upper_bound
        )

    def __repr__(self) -> str:
        return f"multinomial (nonnegative integers summing to <= {self.upper_bound})"


def _matrix_tol(value):
    return 1e-6 if jnp.finfo(jnp.asarray(value).dtype).bits > 32 else 1e-4


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        n, m = jnp.shape(value)[-2:]
        return jnp.full(jnp.shape(value)[:-2], n == m)

    def __repr__(self) -> str:
        return "square"


class _Symmetric(_Square):
    def check(self, value):
        value = jnp.asarray(value)
        tol = _matrix_tol(value) * (1 + jnp.max(jnp.abs(value), axis=(-2, -1)))
        close = jnp.max(jnp.abs(value - jnp.swapaxes(value, -1, -2)), axis=(-2, -1)) <= tol
        return super().check(value) & close

    def __repr__(self) -> str:
        return "symmetric"


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        value = jnp.asarray(value)
        sym = super().check(value)
        eig = jnp.linalg.eigvalsh(value)
        return sym & jnp.all(eig >= 0, axis=-1)

    def __repr__(self) -> str:
        return "positive_semidefinite"


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        value = jnp.asarray(value)
        sym = super().check(value)
        chol = jnp.linalg.cholesky(value)
        return sym & jnp.all(jnp.isfinite(chol), axis=(-2, -1))

    def __repr__(self) -> str:
        return "positive_definite"


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        value = jnp.asarray(value)
        return jnp.all(jnp.tril(value) == value, axis=(-2, -1))

    def __repr__(self) -> str:
        return "lower_triangular"


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value):
        value = jnp.asarray(value)
        lower = jnp.all(jnp.tril(value) == value, axis=(-2, -1))
        diag = jnp.all(jnp.diagonal(value, axis1=-2, axis2=-1) > 0, axis=-1)
        return lower & diag

    def __repr__(self) -> str:
        return "lower_cholesky"


class _CorrCholesky(_LowerCholesky):
    """Cholesky factors of correlation matrices: lower_cholesky with unit-norm rows."""

    def check(self, value):
        value = jnp.asarray(value)
        norms = jnp.linalg.norm(value, axis=-1)
        unit = jnp.all(jnp.abs(norms - 1) <= _matrix_tol(value), axis=-1)
        return super().check(value) & unit

    def __repr__(self) -> str:
        return "corr_cholesky"


class _Cat(Constraint):
    """Applies ``constraints[i]`` to the i-th slice (of ``lengths[i]``) along ``axis``."""

    def __init__(self, constraints_seq, axis: int = 0, lengths=None):
        self.constraints = list(constraints_seq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.constraints)
        self.axis = axis
        self.event_dim = max(c.event_dim for c in self.constraints)

    def check(self, value):
        value = jnp.asarray(value)
        parts, start = [], 0
        for c, n in zip(self.constraints, self.lengths, strict=True):
            piece = jax.lax.slice_in_dim(value, start, start + n, axis=self.axis)
            parts.append(c.check(piece))
            start += n
        return jnp.concatenate(parts, axis=self.axis if self.axis < 0 else self.axis)

    def __repr__(self) -> str:
        return f"cat({self.constraints!r}, axis={self.axis})"


class _Stack(Constraint):
    """Applies ``constraints[i]`` to the i-th entry along ``axis``."""

    def __init__(self, constraints_seq, axis: int = 0):
        self.constraints = list(constraints_seq)
        self.axis = axis
        self.event_dim = max(c.event_dim for c in self.constraints)

    def check(self, value):
        value = jnp.asarray(value)
        n = value.shape[self.axis]
        parts = [
            c.check(jnp.take(value, i, axis=self.axis))
            for c, i in zip(self.constraints, range(n), strict=True)
        ]
        return jnp.stack(parts, axis=self.axis)

    def __repr__(self) -> str:
        return f"stack({self.constraints!r}, axis={self.axis})"


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
one_hot = _OneHot()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()


def is_dependent(constraint: Constraint) -> bool:
    """Whether ``constraint`` depends on parameters (cannot be checked on its own)."""
    return isinstance(constraint, _Dependent)


def half_open_interval(lower_bound, upper_bound) -> Constraint:
    """Values in ``[lower_bound, upper_bound)``."""
    return _HalfOpenInterval(lower_bound, upper_bound)


def multinomial(upper_bound) -> Constraint:
    """Nonnegative integer count vectors summing to at most ``upper_bound``."""
    return _Multinomial(upper_bound)


def cat(constraints_seq, axis: int = 0, lengths=None) -> Constraint:
    """Concatenation of constraints along ``axis`` (slices of ``lengths``)."""
    return _Cat(constraints_seq, axis, lengths)


def stack(constraints_seq, axis: int = 0) -> Constraint:
    """Stack of constraints along ``axis``, one per entry."""
    return _Stack(constraints_seq, axis)


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
