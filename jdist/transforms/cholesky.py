"""Matrix transforms: LowerCholesky (real matrices → Cholesky factors), PositiveDefinite
(→ ``L Lᵀ``) and CorrCholesky (reals → Cholesky factors of correlation matrices).

Log-det-Jacobians are with respect to the free coordinates: the lower triangle (with
diagonal) of the input for LowerCholesky and PositiveDefinite, and of the output for
PositiveDefinite (a symmetric matrix is fixed by its lower triangle); the strictly lower
triangle of the output for CorrCholesky (its diagonal is fixed by unit row norms).
Triangles are flattened row by row, like ``numpy.tril_indices``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jdist import constraints
from jdist.transforms._base import Transform, as_float

LOG_2 = math.log(2.0)


def _square_n(shape, name: str) -> int:
    shape = tuple(shape)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {shape}")
    return shape[-1]


def _diag(x):
    return jnp.diagonal(x, axis1=-2, axis2=-1)


def _with_diag(x, diag):
    """``x`` below the diagonal, ``diag`` on it, zero above (no ``0 * inf``)."""
    n = x.shape[-1]
    eye = np.eye(n, dtype=bool)
    return jnp.where(eye, diag[..., None, :], jnp.tril(x, -1))


class LowerCholeskyTransform(Transform):
    """Real matrix → lower-triangular matrix with positive diagonal: keeps the strictly
    lower triangle of ``x`` and exponentiates its diagonal; the upper triangle is ignored.

    A bijection between lower-triangular matrices and ``constraints.lower_cholesky``, with
    ``log|det J| = Σ_i x_ii`` on the lower-triangle coordinates.

    Example:
        >>> t = LowerCholeskyTransform()
        >>> t(jnp.zeros((3, 3)))        # identity
        >>> t.inverse(jnp.eye(3))       # zeros
    """

    bijective = True
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _forward(self, x):
        x = as_float(x)
        _square_n(x.shape, "LowerCholeskyTransform")
        return _with_diag(x, jnp.exp(_diag(x)))

    def _inverse(self, y):
        y = as_float(y)
        _square_n(y.shape, "LowerCholeskyTransform")
        return _with_diag(y, jnp.log(_diag(y)))

    def _log_abs_det_jacobian(self, x, y):
        return jnp.sum(_diag(as_float(x)), axis=-1)


class PositiveDefiniteTransform(Transform):
    """Real matrix → symmetric positive-definite matrix ``L Lᵀ`` with
    ``L = LowerCholeskyTransform()(x)``; inverse via the Cholesky factorization.

    On the lower-triangle coordinates of ``x`` and of ``y``, ``L ↦ L Lᵀ`` has Jacobian
    ``2ⁿ Π_i L_ii^{n-i}`` (i = 0..n-1; Muirhead 1982, "Aspects of Multivariate Statistical
    Theory", Thm 2.1.9), and ``x ↦ L`` adds ``Σ_i x_ii``, so
    ``log|det J| = n log 2 + Σ_i (n - i + 1) x_ii``.

    Example:
        >>> t = PositiveDefiniteTransform()
        >>> t(jnp.zeros((2, 2)))                           # identity
        >>> t.inverse(jnp.array([[4.0, 2.0], [2.0, 2.0]]))   # [[log 2, 0], [1, 0]]
    """

    bijective = True
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _forward(self, x):
        lower = LowerCholeskyTransform()._forward(x)
        return lower @ jnp.swapaxes(lower, -1, -2)

    def _inverse(self, y):
        y = as_float(y)
        _square_n(y.shape, "PositiveDefiniteTransform")
        return LowerCholeskyTransform()._inverse(jnp.linalg.cholesky(y))

    def _log_abs_det_jacobian(self, x, y):
        x = as_float(x)
        n = _square_n(x.shape, "PositiveDefiniteTransform")
        weights = jnp.arange(n + 1, 1, -1, dtype=x.dtype)
        return n * LOG_2 + jnp.sum(weights * _diag(x), axis=-1)


def _corr_n(length: int) -> int:
    """``n`` with ``n (n - 1) / 2 == length``; ``ValueError`` if there is none."""
    n = int(round((1 + math.sqrt(1 + 8 * length)) / 2))
    if n * (n - 1) // 2 != length:
        raise ValueError(
            f"CorrCholeskyTransform: the last axis must have n(n-1)/2 entries for some n, "
            f"got {length}"
        )
    return n


class CorrCholeskyTransform(Transform):
    """``n(n-1)/2`` reals → Cholesky factor ``L`` of an ``n × n`` correlation matrix.

    Canonical partial correlations ``z = tanh(x)`` fill the strictly lower triangle row by
    row; then ``L_ij = z_ij √(1 - Σ_{k<j} L_ik²)`` and ``L_ii = √(1 - Σ_{k<i} L_ik²)``, i.e.
    ``L_ij = z_ij Π_{k<j} √(1 - z_ik²)`` (Lewandowski, Kurowicka & Joe 2009, §2.4; Stan
    Reference Manual, "Cholesky factors of correlation matrices"). Everything is computed
    from ``log(1 - z²) = 2 (log 2 - x - softplus(-2x))``, exact for large ``|x|``.

    ``log|det J| = Σ_{i>j} [log(1 - z_ij²) + ½ Σ_{k<j} log(1 - z_ik²)]`` w.r.t. the strictly
    lower triangle of ``L`` (tanh, then a triangular stick-breaking map per row).
    Clipping: the diagonal is kept at or above the dtype's smallest normal number (it
    underflows only for inputs beyond ~±50 in float32), so ``L`` stays a valid Cholesky
    factor; the inverse clips the partial correlations to ``±(1 - epsneg)`` before ``atanh``.

    Example:
        >>> t = CorrCholeskyTransform()
        >>> L = t(jnp.array([0.5, -0.2, 1.0]))    # (3, 3), rows of unit norm
        >>> t.inverse(L)                          # [0.5, -0.2, 1.0]
    """

    bijective = True
    domain = constraints.real_vector
    codomain = constraints.corr_cholesky

    def _parts(self, x):
        x = as_float(x)
        n = _corr_n(x.shape[-1])
        rows, cols = np.tril_indices(n, -1)
        batch = x.shape[:-1]
        log1mz2 = 2.0 * (LOG_2 - x - jax.nn.softplus(-2.0 * x))
        zeros = jnp.zeros(batch + (n, n), x.dtype)
        z = zeros.at[..., rows, cols].set(jnp.tanh(x))
        c = zeros.at[..., rows, cols].set(log1mz2)
        before = jnp.cumsum(c, axis=-1) - c  # Σ_{k<j} log(1 - z_ik²)
        return n, z, c, before

    def _forward(self, x):
        n, z, _, before = self._parts(x)
        scale = jnp.exp(0.5 * before)
        diag = jnp.maximum(scale, jnp.finfo(scale.dtype).tiny)
        return jnp.where(np.eye(n, dtype=bool), diag, z * scale)

    def _inverse(self, y):
        y = as_float(y)
        n = _square_n(y.shape, "CorrCholeskyTransform")
        rows, cols = np.tril_indices(n, -1)
        # Remaining squared norm of row i from column j on: Σ_{k>=j} L_ik² = 1 - Σ_{k<j} L_ik²,
        # as a reverse cumulative sum (no cancellation near the end of a row).
        rest = jnp.flip(jnp.cumsum(jnp.flip(y * y, -1), axis=-1), -1)
        rest = jnp.maximum(rest[..., rows, cols], jnp.finfo(y.dtype).tiny)
        bound = 1.0 - jnp.finfo(y.dtype).epsneg
        z = jnp.clip(y[..., rows, cols] / jnp.sqrt(rest), -bound, bound)
        return jnp.arctanh(z)

    def _log_abs_det_jacobian(self, x, y):
        n, _, c, before = self._parts(x)
        strict = np.tril(np.ones((n, n), dtype=bool), -1)
        return jnp.sum(jnp.where(strict, c + 0.5 * before, 0.0), axis=(-2, -1))

    def forward_shape(self, shape):
        shape = tuple(shape)
        if not shape:
            raise ValueError("CorrCholeskyTransform: input needs at least one dimension")
        n = _corr_n(shape[-1])
        return shape[:-1] + (n, n)

    def inverse_shape(self, shape):
        n = _square_n(shape, "CorrCholeskyTransform")
        return tuple(shape)[:-2] + (n * (n - 1) // 2,)
