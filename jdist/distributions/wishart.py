"""Wishart distribution over positive-definite matrices."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import (
    HALF_LOG_2PI,
    LOG_2PI,
    digamma_minus_log,
    gamma_log_kernel,
    lgamma_stirling_remainder,
)
from jdist.distribution import Distribution
from jdist.distributions.gamma import log_standard_gamma
from jdist.distributions.multivariate_normal import (
    TrilScaleMixin,
    apply_to_columns,
    one_scale_param,
)

__all__ = ["Wishart"]

_LOG_2 = math.log(2.0)
_LOG_PI = math.log(math.pi)


class Wishart(TrilScaleMixin, Distribution):
    """Wishart distribution ``W_p(df, Σ)`` over ``p × p`` positive-definite matrices, with
    degrees of freedom ``df > p - 1`` and one of ``covariance_matrix`` (the scale Σ),
    ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, Σ = L Lᵀ), as torch.

    ``p(X) = det(X)^((ν-p-1)/2) exp(-tr(Σ⁻¹X)/2) / (2^(νp/2) det(Σ)^(ν/2) Γ_p(ν/2))``.
    ``df`` broadcasts with the matrix's batch dims to ``batch_shape``;
    ``event_shape == (p, p)``. ``rsample`` uses the Bartlett decomposition (Bartlett 1933;
    Anderson 2003, "An Introduction to Multivariate Statistical Analysis", Thm. 7.2.1):
    ``X = (L A)(L A)ᵀ`` with ``A`` lower triangular, ``Aᵢᵢ = √χ²(ν - i)`` and ``N(0, 1)``
    below the diagonal; it is differentiable w.r.t. the scale (pathwise) and ``df``
    (implicitly reparameterized gamma draws). Unlike torch there is no retry loop for
    numerically singular draws (``ν - p + 1`` tiny): diagonal draws are clamped to the
    smallest normal float instead (such draws, frequent in float32 for ``df < p``, may be
    numerically singular, with ``log_prob == -inf``). ``log_prob`` works on
    ``T = L⁻¹ chol(X)`` (triangular solves; ``log det X`` and ``tr(Σ⁻¹X) = ‖T‖²_F``) in a
    Gamma-kernel form accurate also for large ``df``; ``entropy`` uses Stirling's series so
    the ``O(ν log ν)`` terms cancel exactly. ``mode = (ν - p - 1) Σ`` for ``ν > p + 1`` and
    NaN otherwise (no interior mode), as torch. ``variance`` is elementwise:
    ``ν (Σᵢⱼ² + Σᵢᵢ Σⱼⱼ)``.

    Example:
        >>> d = jdist.Wishart(df=5.0, covariance_matrix=jnp.eye(3))
        >>> x = d.rsample(jax.random.key(0), (2,))   # (2, 3, 3), differentiable
        >>> d.log_prob(x).shape
        (2,)
    """

    support = constraints.positive_definite
    has_rsample = True
    _param_event_ndims = {
        "df": 0,
        "_covariance_matrix": 2,
        "_precision_matrix": 2,
        "_scale_tril": 2,
    }

    def __init__(
        self,
        df,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        *,
        validate_args: bool = False,
    ) -> None:
        params = one_scale_param("Wishart", covariance_matrix, precision_matrix, scale_tril)
        super().__init__({"df": df, **params}, validate_args=validate_args)

    @property
    def arg_constraints(self):  # type: ignore[override]
        return {
            "df": constraints.greater_than(self._dim - 1),
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
        }

    @property
    def event_shape(self):
        return (self._dim, self._dim)

    def _rsample(self, key, sample_shape):
        p = self._dim
        dtype = self.dtype
        key_chi, key_normal = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        dfs = jnp.asarray(self.df, dtype)[..., None] - jnp.arange(p, dtype=dtype)
        log_g = log_standard_gamma(key_chi, 0.5 * dfs, shape + (p,), dtype)
        diag = jnp.maximum(jnp.exp(0.5 * (_LOG_2 + log_g)), jnp.finfo(dtype).tiny)  # √χ²
        noise = jnp.tril(jax.random.normal(key_normal, shape + (p, p), dtype), -1)
        a = noise + diag[..., None] * jnp.eye(p, dtype=dtype)
        f, inverse = self._factor()
        la = apply_to_columns(lambda t, c: self._color(t, inverse, c), f, a)
        return la @ jnp.swapaxes(la, -1, -2)

    def _log_prob(self, value):
        # With T = L⁻¹ chol(X) (lower, the Bartlett factor of X), log det X = log det Σ +
        # 2 Σ log Tᵢᵢ and tr(Σ⁻¹X) = ‖T‖²_F, so with aᵢ = (ν - i)/2, cᵢ = (p + 1 - i)/2:
        #   log p(X) = Σᵢ [aᵢ log tᵢ - tᵢ - lgamma(aᵢ) - 2 cᵢ log Tᵢᵢ] - ½ Σ_{i>j} Tᵢⱼ²
        #              - (p + 1)/2 log det Σ - p(p - 1)/4 log 2π,      tᵢ = Tᵢᵢ²/2,
        # whose first term (a Gamma(aᵢ) log kernel) is evaluated without the O(ν log ν)
        # cancellation of the textbook form.
        p = self._dim
        chol_x = jnp.linalg.cholesky(value)
        ok = jnp.all(jnp.isfinite(chol_x), axis=(-2, -1), keepdims=True)
        chol_x = jnp.where(ok, chol_x, jnp.eye(p, dtype=chol_x.dtype))  # masked by the support
        f, inverse = self._factor()
        t = apply_to_columns(lambda m, c: self._whiten(m, inverse, c), f, chol_x)
        t_diag = jnp.diagonal(t, axis1=-2, axis2=-1)
        i = jnp.arange(p, dtype=t.dtype)
        a = 0.5 * (jnp.asarray(self.df, t.dtype)[..., None] - i)
        c = 0.5 * (p + 1.0 - i)
        per_i = gamma_log_kernel(a, 0.5 * jnp.square(t_diag)) - 2.0 * c * jnp.log(t_diag)
        off = jnp.sum(jnp.square(jnp.tril(t, -1)), axis=(-2, -1))
        return (
            jnp.sum(per_i, axis=-1)
            - 0.5 * off
            - (p + 1.0) * self._half_log_det(f, inverse)
            - 0.25 * p * (p - 1) * LOG_2PI
        )

    def _df(self):
        return jnp.asarray(self.df, self.dtype)[..., None, None]

    def _mean(self):
        return self._df() * self.covariance_matrix

    def _mode(self):
        factor = self._df() - self._dim - 1.0
        return jnp.where(factor > 0, factor, jnp.nan) * self.covariance_matrix

    def _variance(self):
        cov = self.covariance_matrix
        diag = jnp.diagonal(cov, axis1=-2, axis2=-1)
        return self._df() * (jnp.square(cov) + diag[..., :, None] * diag[..., None, :])

    def _entropy(self):
        # H = (p+1)(p log 2 / 2 + log det L) + log Γ_p(ν/2) - (ν-p-1)/2 ψ_p(ν/2) + νp/2
        # (Γ_p, ψ_p multivariate gamma and digamma). With aⱼ = (ν - j)/2 and cⱼ = (p + 1 - j)/2
        # (so (ν-p-1)/2 = aⱼ - cⱼ) each lgamma(aⱼ) - (aⱼ - cⱼ) ψ(aⱼ) is, by Stirling's series,
        # (cⱼ - ½) log aⱼ - aⱼ + ½ log 2π + s(aⱼ) - (aⱼ - cⱼ)(ψ - log)(aⱼ), and Σⱼ (νp/2p - aⱼ)
        # = p(p-1)/4: no O(ν log ν) terms are formed.
        p, nu = self._dim, jnp.asarray(self.df, self.dtype)
        f, inverse = self._factor()
        j = jnp.arange(p, dtype=nu.dtype)
        a = 0.5 * (nu[..., None] - j)
        c = 0.5 * (p + 1.0 - j)
        per_j = (
            (c - 0.5) * jnp.log(a)
            + HALF_LOG_2PI
            + lgamma_stirling_remainder(a)
            - (a - c) * digamma_minus_log(a)
        )
        return (
            (p + 1.0) * (0.5 * p * _LOG_2 + self._half_log_det(f, inverse))
            + 0.25 * p * (p - 1) * (_LOG_PI + 1.0)
            + jnp.sum(per_j, axis=-1)
        )
