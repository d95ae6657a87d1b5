"""MultivariateNormal, and the one-of-three matrix parameterization it shares with Wishart.

A family built on :class:`TrilScaleMixin` is given exactly one of ``covariance_matrix`` (Σ),
``precision_matrix`` (P = Σ⁻¹) or ``scale_tril`` (L, Σ = L Lᵀ) and stores it as given. All
numerics go through one lower-triangular factor ``F`` computed on demand:

* ``scale_tril`` given: ``F = L``; ``covariance_matrix`` given: ``F = cholesky(Σ)``. Then
  ``Σ = F Fᵀ``, whitening is a triangular solve and coloring a triangular product.
* ``precision_matrix`` given: ``F`` lower with ``P = Fᵀ F``, from the Cholesky factor of the
  row-and-column-reversed precision, ``J P J = C Cᵀ`` (J the reversal permutation):
  ``P = (J C J)(J C J)ᵀ`` with ``J C J`` upper triangular, so ``F = (J C J)ᵀ``
  (the construction of torch's ``_precision_to_scale_tril``). Then whitening
  ``L⁻¹ x = F x`` is a product and coloring ``L z = F⁻¹ z`` a triangular solve, so neither
  ``log_prob`` nor ``rsample`` ever inverts a matrix.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import LOG_2PI, matvec, tril_solve
from jdist.distribution import Distribution

__all__ = ["MultivariateNormal"]

_SCALE_NAMES = ("_covariance_matrix", "_precision_matrix", "_scale_tril")


def one_scale_param(name: str, covariance_matrix, precision_matrix, scale_tril) -> dict:
    """``{"_<which>": matrix}`` for exactly one given matrix, or a ``ValueError``."""
    given = {
        n: m
        for n, m in zip(
            _SCALE_NAMES, (covariance_matrix, precision_matrix, scale_tril), strict=True
        )
        if m is not None
    }
    if len(given) != 1:
        raise ValueError(
            f"{name}: pass exactly one of `covariance_matrix`, `precision_matrix` or "
            f"`scale_tril` (got {len(given)})"
        )
    ((key, matrix),) = given.items()
    if isinstance(matrix, (list, tuple)):
        matrix = jnp.asarray(matrix)
    shape = jnp.shape(matrix)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(
            f"{name}: `{key[1:]}` must be a square matrix with optional leading batch dims, "
            f"got shape {tuple(shape)}"
        )
    return {key: matrix}


def _reverse(m):
    return jnp.flip(m, axis=(-2, -1))


def precision_factor(precision: jax.Array) -> jax.Array:
    """Lower-triangular ``F`` with ``precision = Fᵀ F`` (see the module docstring)."""
    return jnp.swapaxes(_reverse(jnp.linalg.cholesky(_reverse(precision))), -1, -2)


def tril_inverse(tril: jax.Array) -> jax.Array:
    """``tril⁻¹`` for a lower-triangular matrix, column by column with triangular solves."""
    n = tril.shape[-1]
    rows = tril_solve(tril[..., None, :, :], jnp.eye(n, dtype=tril.dtype))
    return jnp.swapaxes(rows, -1, -2)


def apply_to_columns(f, tril, a):
    """The matrices ``[f(tril, a[..., :, j]) for j]`` (``f`` maps vectors), e.g. ``L⁻¹ A``."""
    return jnp.swapaxes(f(tril[..., None, :, :], jnp.swapaxes(a, -1, -2)), -1, -2)


class TrilScaleMixin:
    """Lazily derived ``scale_tril`` / ``covariance_matrix`` / ``precision_matrix`` from
    whichever one was given, and the whitening/coloring maps built on one triangular factor.
    """

    @property
    def _scale_name(self) -> str:
        return next(n for n in _SCALE_NAMES if n in self._param_names)

    @property
    def _dim(self) -> int:
        return jnp.shape(getattr(self, self._scale_name))[-1]

    def _factor(self):
        """``(F, inverse)``: ``Σ = F Fᵀ`` (``inverse`` False) or ``Σ⁻¹ = Fᵀ F`` (True)."""
        name = self._scale_name
        if name == "_scale_tril":
            return self._scale_tril, False
        if name == "_covariance_matrix":
            return jnp.linalg.cholesky(self._covariance_matrix), False
        return precision_factor(self._precision_matrix), True

    def _matrix_shape(self):
        return self.batch_shape + (self._dim, self._dim)

    @property
    def scale_tril(self) -> jax.Array:
        """Lower Cholesky factor ``L`` of the covariance (``Σ = L Lᵀ``),
        shape ``batch_shape + (n, n)``."""
        f, inverse = self._factor()
        return jnp.broadcast_to(tril_inverse(f) if inverse else f, self._matrix_shape())

    @property
    def covariance_matrix(self) -> jax.Array:
        """Covariance (scale) matrix ``Σ``, shape ``batch_shape + (n, n)``."""
        if self._scale_name == "_covariance_matrix":
            cov = self._covariance_matrix
        else:
            low = self.scale_tril
            cov = low @ jnp.swapaxes(low, -1, -2)
        return jnp.broadcast_to(cov, self._matrix_shape())

    @property
    def precision_matrix(self) -> jax.Array:
        """Precision matrix ``Σ⁻¹``, shape ``batch_shape + (n, n)`` (formed from triangular
        solves against the Cholesky factor when not given)."""
        name = self._scale_name
        if name == "_precision_matrix":
            prec = self._precision_matrix
        else:
            f, _ = self._factor()
            f_inv = tril_inverse(f)
            prec = jnp.swapaxes(f_inv, -1, -2) @ f_inv
        return jnp.broadcast_to(prec, self._matrix_shape())

    @staticmethod
    def _half_log_det(f, inverse):
        """``log det Σ / 2`` from the factor."""
        s = jnp.sum(jnp.log(jnp.diagonal(f, axis1=-2, axis2=-1)), axis=-1)
        return -s if inverse else s

    @staticmethod
    def _whiten(f, inverse, x):
        """``L⁻¹ x`` for vectors ``x``."""
        return matvec(f, x) if inverse else tril_solve(f, x)

    @staticmethod
    def _color(f, inverse, z):
        """``L z`` for vectors ``z``."""
        return tril_solve(f, z) if inverse else matvec(f, z)

    def _covariance_diagonal(self):
        if self._scale_name == "_covariance_matrix":
            return jnp.diagonal(self._covariance_matrix, axis1=-2, axis2=-1)
        f, inverse = self._factor()
        low = tril_inverse(f) if inverse else f
        return jnp.sum(jnp.square(low), axis=-1)


class MultivariateNormal(TrilScaleMixin, Distribution):
    """Multivariate normal with mean ``loc`` and one of ``covariance_matrix`` (Σ),
    ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, Σ = L Lᵀ).

    ``p(x) = exp(-½ (x - μ)ᵀ Σ⁻¹ (x - μ)) / √((2π)ⁿ det Σ)``. ``loc`` has shape
    ``(..., n)``, the matrix ``(..., n, n)``; their batch dims broadcast to ``batch_shape``
    and ``event_shape == (n,)``. The given matrix is stored as is; everything goes through
    one triangular factor (Cholesky of Σ, or of the reversed precision), with triangular
    solves and no explicit inverse in ``log_prob``, ``rsample`` or ``entropy``, so
    ill-conditioned covariances lose only what their condition number implies. The other two
    matrices are derived lazily by the ``scale_tril``, ``covariance_matrix`` and
    ``precision_matrix`` properties.

    Example:
        >>> d = jdist.MultivariateNormal(jnp.zeros(2), covariance_matrix=jnp.eye(2))
        >>> x = d.rsample(jax.random.key(0), (5,))   # (5, 2), differentiable
        >>> d.log_prob(x).shape
        (5,)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True
    _param_event_ndims = {
        "loc": 1,
        "_covariance_matrix": 2,
        "_precision_matrix": 2,
        "_scale_tril": 2,
    }

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        *,
        validate_args: bool = False,
    ) -> None:
        params = one_scale_param(
            "MultivariateNormal", covariance_matrix, precision_matrix, scale_tril
        )
        if isinstance(loc, (list, tuple)):
            loc = jnp.asarray(loc)
        loc_shape = tuple(jnp.shape(loc))
        (matrix,) = params.values()
        n = jnp.shape(matrix)[-1]
        if len(loc_shape) < 1 or loc_shape[-1] != n:
            raise ValueError(
                f"MultivariateNormal: `loc` of shape {loc_shape} must end with the matrix "
                f"dimension {n} (matrix shape {tuple(jnp.shape(matrix))})"
            )
        super().__init__({"loc": loc, **params}, validate_args=validate_args)

    @property
    def event_shape(self):
        return (self._dim,)

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape + self.event_shape
        eps = jax.random.normal(key, shape, self.dtype)
        f, inverse = self._factor()
        return self.loc + self._color(f, inverse, eps)

    def _log_prob(self, value):
        f, inverse = self._factor()
        z = self._whiten(f, inverse, value - self.loc)
        maha = jnp.sum(jnp.square(z), axis=-1)
        return -0.5 * (self._dim * LOG_2PI + maha) - self._half_log_det(f, inverse)

    def _mean(self):
        return self.loc

    def _mode(self):
        return self.loc

    def _variance(self):
        return self._covariance_diagonal()

    def _entropy(self):
        f, inverse = self._factor()
        return 0.5 * self._dim * (1.0 + LOG_2PI) + self._half_log_det(f, inverse)
