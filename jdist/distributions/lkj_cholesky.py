"""LKJCholesky: the LKJ distribution over Cholesky factors of correlation matrices.

Lewandowski, Kurowicka & Joe (2009), "Generating random correlation matrices based on vines
and extended onion method", J. Multivariate Analysis 100: the correlation matrix
``M = L Lᵀ`` has density ``∝ det(M)^(η-1)``. With respect to Lebesgue measure on the
strictly lower entries of ``L``, and the Jacobian ``∏ᵢ Lᵢᵢ^(d-i)`` (1-based ``i``) of
``L ↦ L Lᵀ``, the density of ``L`` factorizes over rows: row ``k`` (0-based, ``k >= 1``)
has off-diagonal part ``w ∈ ℝᵏ``, ``|w| < 1``, ``Lₖₖ = √(1 - |w|²)``, and density
``∝ (1 - |w|²)^(bₖ - 1)``, ``bₖ = η + (d - 1 - k)/2``. So ``|w|² ~ Beta(k/2, bₖ)`` and
``w/|w|`` is uniform on the sphere: the onion method (§3.2 of the paper), drawn for the
Cholesky factor directly. The normalizer is ``∏ₖ π^(k/2) Γ(bₖ) / Γ(bₖ + k/2)``, the
paper's eq. (16)/(17) (``bₖ + k/2 = η + (d-1)/2`` for every row).

torch 2.x draws ``|w|² ~ Beta(k - ½, bₖ)`` instead of ``Beta(k/2, bₖ)``, which agrees only
for ``k = 1``: its samples for ``d >= 3`` do not follow its own ``log_prob`` (the marginal of
``M₂₀`` has variance 0.30 instead of 1/4 at ``d = 3``, ``η = 1``). jdist uses ``k/2``.
"""

from __future__ import annotations

import math
import operator

import jax
import jax.numpy as jnp
import numpy as np

from jdist import constraints
from jdist._math import digamma_minus_log, lgamma_stirling_remainder
from jdist.distribution import Distribution
from jdist.distributions.gamma import log_standard_gamma

__all__ = ["LKJCholesky"]

_LOG_PI = math.log(math.pi)


def _log_gamma_ratio(b, h):
    """``lgamma(b) - lgamma(b + h)`` for ``b > 0``, ``h >= 0``, by Stirling's series:
    ``-(b - ½) log1p(h/b) - h log(b + h) + h + s(b) - s(b + h)`` (no cancellation of the
    ``O(b log b)`` terms for large ``b``)."""
    s = lgamma_stirling_remainder
    return -(b - 0.5) * jnp.log1p(h / b) - h * jnp.log(b + h) + h + s(b) - s(b + h)


def _digamma_difference(b, h):
    """``ψ(b) - ψ(b + h)``, as ``-log1p(h/b) + (ψ - log)(b) - (ψ - log)(b + h)``."""
    dml = digamma_minus_log
    return -jnp.log1p(h / b) + dml(b) - dml(b + h)


class LKJCholesky(Distribution):
    """LKJ distribution over lower Cholesky factors ``L`` of ``dim × dim`` correlation
    matrices, with ``concentration`` η > 0: ``L Lᵀ`` has density ``∝ det(L Lᵀ)^(η-1)``.

    ``dim`` (>= 2) is static; ``concentration`` broadcasts to ``batch_shape``;
    ``event_shape == (dim, dim)``. As torch, ``log_prob`` is the density of ``L`` w.r.t.
    Lebesgue measure on its strictly lower entries,
    ``Σₖ (2η - 2 + d - 1 - k) log Lₖₖ - log Z`` (module docstring), and there is no
    ``rsample``. ``sample`` is the onion method of Lewandowski, Kurowicka & Joe (2009, §3.2)
    — with the correct ``Beta(k/2, ·)`` radial law, unlike torch 2.x (see the module
    docstring). ``mean``, ``variance`` and ``entropy`` (w.r.t. the same measure) are closed
    forms from the row laws: diagonal ``E Lₖₖ = B(bₖ + ½, k/2) / B(bₖ, k/2)``, off-diagonal
    mean 0 and variance ``1 / (2 bₖ + k)``. ``mode`` is the identity for η > 1 and NaN for
    η <= 1 (not unique at η = 1, unbounded density for η < 1).

    Example:
        >>> d = jdist.LKJCholesky(3, concentration=2.0)
        >>> low = d.sample(jax.random.key(0), (5,))   # (5, 3, 3); low @ low.T is a correlation
        >>> d.log_prob(low).shape
        (5,)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, *, validate_args: bool = False) -> None:
        dim = operator.index(dim)
        if dim < 2:
            raise ValueError(f"LKJCholesky: `dim` must be an integer >= 2, got {dim}")
        super().__init__(
            {"concentration": concentration}, validate_args=validate_args, static={"dim": dim}
        )

    @property
    def event_shape(self):
        return (self.dim, self.dim)

    def _rows(self, dtype):
        """``(k, h, b)`` per row ``k = 0..d-1``: ``h = k/2`` and ``bₖ`` (shape ``batch + (d,)``)."""
        d = self.dim
        k = np.arange(d)
        eta = jnp.asarray(self.concentration, dtype)[..., None]
        return k, jnp.asarray(k / 2, dtype), eta + jnp.asarray((d - 1 - k) / 2, dtype)

    def _sample(self, key, sample_shape):
        d, dtype = self.dim, self.dtype
        k, h, b = self._rows(dtype)
        shape = sample_shape + self.batch_shape + (d,)
        key_a, key_b, key_u = jax.random.split(key, 3)
        # |w|² = G_a / (G_a + G_b) ~ Beta(k/2, bₖ); row 0 (no off-diagonal part) uses a dummy 1.
        log_ga = log_standard_gamma(key_a, jnp.where(k > 0, h, 1.0), shape, dtype)
        log_gb = log_standard_gamma(key_b, b, shape, dtype)
        log_total = jnp.logaddexp(log_ga, log_gb)
        radius = jnp.exp(0.5 * (log_ga - log_total))
        diag = jnp.exp(0.5 * (log_gb - log_total))  # √(1 - |w|²) without cancellation
        diag = jnp.where(k > 0, jnp.maximum(diag, jnp.finfo(dtype).tiny), 1.0)
        z = jnp.tril(jax.random.normal(key_u, shape + (d,), dtype), -1)
        norm = jnp.sqrt(jnp.sum(jnp.square(z), axis=-1, keepdims=True))
        direction = z / jnp.where(norm > 0, norm, 1.0)
        return (radius[..., None] * direction) + diag[..., None] * jnp.eye(d, dtype=dtype)

    def _log_normalizer(self, h, b):
        # log Z = Σ_{k>=1} [k/2 log π + lgamma(bₖ) - lgamma(bₖ + k/2)]
        terms = h[1:] * _LOG_PI + _log_gamma_ratio(b[..., 1:], h[1:])
        return jnp.sum(terms, axis=-1)

    def _log_prob(self, value):
        _, h, b = self._rows(self.dtype)
        log_diag = jnp.log(jnp.diagonal(value, axis1=-2, axis2=-1)[..., 1:])
        unnormalized = jnp.sum(2.0 * (b[..., 1:] - 1.0) * log_diag, axis=-1)
        return unnormalized - self._log_normalizer(h, b)

    def _diag_mean(self, h, b):
        # E √(1 - y), y ~ Beta(h, b): Γ(b + ½) Γ(b + h) / (Γ(b) Γ(b + h + ½)).
        ratio = _log_gamma_ratio(b + h, 0.5) - _log_gamma_ratio(b, 0.5)
        return jnp.where(h > 0, jnp.exp(ratio), 1.0), ratio

    def _mean(self):
        _, h, b = self._rows(self.dtype)
        mean, _ = self._diag_mean(h, b)
        return mean[..., None] * jnp.eye(self.dim, dtype=self.dtype)

    def _mode(self):
        eye = jnp.eye(self.dim, dtype=self.dtype)
        eta = jnp.asarray(self.concentration, self.dtype)[..., None, None]
        return jnp.where(eta > 1, eye, jnp.nan)

    def _variance(self):
        k, h, b = self._rows(self.dtype)
        _, ratio = self._diag_mean(h, b)
        one_minus = b / (b + h)  # E[1 - y]
        # Var √(1-y) = E[1-y] (1 - (E√(1-y))² / E[1-y]), the ratio taken in log space.
        log_ratio = jnp.minimum(2.0 * ratio - jnp.log(one_minus), 0.0)
        diag = jnp.where(k > 0, -one_minus * jnp.expm1(log_ratio), 0.0)
        off = 1.0 / (2.0 * b + 2.0 * h)  # E[y] / k = 1 / (2 bₖ + k)
        lower = jnp.tril(jnp.ones((self.dim, self.dim), dtype=bool), -1)
        return jnp.where(lower, off[..., :, None], 0.0) + diag[..., None] * jnp.eye(
            self.dim, dtype=self.dtype
        )

    def _entropy(self):
        # H = log Z - Σₖ (2bₖ - 2) E[log Lₖₖ], and 2 log Lₖₖ = log(1 - y) has mean
        # ψ(bₖ) - ψ(bₖ + k/2).
        _, h, b = self._rows(self.dtype)
        expected = (b[..., 1:] - 1.0) * _digamma_difference(b[..., 1:], h[1:])
        return self._log_normalizer(h, b) - jnp.sum(expected, axis=-1)
