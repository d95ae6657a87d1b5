"""Analytic KL divergences between multivariate and structural families (registered on
import): Dirichlet–Dirichlet, the four (LowRank)MultivariateNormal pairs, Wishart–Wishart,
Independent–Independent and TransformedDistribution–TransformedDistribution, plus
``Independent(Normal, 1)`` against ``MultivariateNormal`` both ways (beyond torch).

With the 9 discrete pairs and the 72 of ``univariate.py`` jdist registers 91 pairs.

How torch.distributions' 87 registered pairs (torch 2.13) map to jdist
------------------------------------------------------------------------
* 70 univariate continuous pairs: the 59 pairs of distinct families (Beta, Exponential,
  Gamma, Gumbel, Laplace, Normal, Pareto, Uniform, ContinuousBernoulli against each other)
  and the same-family pairs Beta, ContinuousBernoulli, Exponential, Gamma, Gumbel,
  HalfNormal, Laplace, Normal, Pareto, Uniform and Cauchy: ``jdist/kl/univariate.py``
  (which adds HalfCauchy and LogNormal pairs; jdist's ``Chi2`` subclasses ``Gamma``, so
  Chi2 pairs dispatch to the Gamma ones, as in torch).
* 9 discrete pairs, Bernoulli–Bernoulli, Bernoulli–Poisson, Binomial–Binomial,
  Categorical–Categorical, OneHotCategorical–OneHotCategorical, Geometric–Geometric,
  Poisson–Poisson, Poisson–Bernoulli, Poisson–Binomial: ``jdist/kl/discrete.py``.
* 7 multivariate and structural pairs, Dirichlet–Dirichlet, MultivariateNormal–
  MultivariateNormal, LowRank–LowRank, MVN–LowRank, LowRank–MVN, Independent–Independent,
  TransformedDistribution–TransformedDistribution: here.
* ExponentialFamily–ExponentialFamily (1): torch computes the KL between two members of
  one exponential family as the Bregman divergence of the log-normalizer (autograd through
  ``_log_normalizer`` at the natural parameters). jdist has no ExponentialFamily base. The
  torch families deriving from it are Bernoulli, Beta, ContinuousBernoulli, Dirichlet,
  Exponential, Gamma, Normal, Poisson (each with its own closed-form pair, which torch's
  dispatch prefers, registered in jdist too), Chi2 (through Gamma) and Wishart, the only
  one torch covers through that entry alone: Wishart–Wishart is registered here in closed
  form. (torch's Bregman entry sums the scalar natural parameter's term over the event dims,
  which for a batch of Wisharts sums over batch dims, so its batched Wishart KL is wrong,
  and it detaches p's natural parameters, so its gradient w.r.t. p's parameters is zero;
  the closed form here agrees with its unbatched values.)

Beyond torch, here: ``Independent(Normal, 1)`` against ``MultivariateNormal`` both ways.

Numerics: no explicit inverse; the full-covariance pairs work with triangular solves
against the Cholesky factors (or the precision factors, when a precision matrix is given)
and write ``tr(Σq⁻¹Σp) - n - log det(Σq⁻¹Σp)`` as a sum of nonnegative terms, so the KL
keeps its relative accuracy when ``p ≈ q``. Pairs whose ``q`` is low-rank use the Woodbury
identity and the matrix determinant lemma, at cost linear in the dimension for fixed rank.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jdist._math import (
    _log_t_minus_t_plus_1,
    bd0,
    digamma_minus_log,
    lgamma_stirling_remainder,
    matvec,
)
from jdist.distributions.dirichlet import Dirichlet
from jdist.distributions.independent import Independent
from jdist.distributions.low_rank_multivariate_normal import (
    LowRankMultivariateNormal,
    _cho_solve,
)
from jdist.distributions.multivariate_normal import MultivariateNormal
from jdist.distributions.normal import Normal
from jdist.distributions.transformed_distribution import TransformedDistribution, _flat_parts
from jdist.distributions.wishart import Wishart
from jdist.kl._registry import kl_divergence, register_kl
from jdist.transforms._base import sum_rightmost

__all__: list[str] = []


# ----------------------------------------------------------------------------- helpers
def _solve_single(a, b, trans):
    return jax.scipy.linalg.solve_triangular(a, b, trans=trans, lower=True)


def _solve(a, b, trans: int = 0):
    """``a⁻¹ b`` (``trans=0``) or ``a⁻ᵀ b`` (``trans=1``) for lower-triangular ``a``
    ``(..., n, n)`` and matrices ``b`` ``(..., n, m)``, batch dims broadcast."""
    return jnp.vectorize(lambda x, y: _solve_single(x, y, trans), signature="(n,n),(n,m)->(n,m)")(
        a, b
    )


def _sq_norm(x, ndim: int = 2):
    """Sum of squares over the ``ndim`` rightmost axes."""
    return jnp.sum(jnp.square(x), axis=tuple(range(-ndim, 0)))


def _log_diag(f):
    return jnp.log(jnp.diagonal(f, axis1=-2, axis2=-1))


def _scale_log_diag(f, inverse):
    """``log L_ii`` of the covariance's Cholesky factor ``L`` from a jdist factor ``F``:
    ``L = F`` (covariance or scale_tril given) or ``L = F⁻¹`` (precision given)."""
    d = _log_diag(f)
    return -d if inverse else d


def _check_event(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(
            f"KL({type(p).__name__} || {type(q).__name__}): event shapes differ, "
            f"{p.event_shape} and {q.event_shape}"
        )


def _relative_tril(p_factor, q_factor):
    """Lower-triangular ``M = L_q⁻¹ L_p`` (``Σ = L Lᵀ``) from the jdist factors
    ``(F, inverse)`` of p and q, with triangular solves or products only (the four cases of
    covariance-type and precision-type factors; see ``TrilScaleMixin``)."""
    (fp, inv_p), (fq, inv_q) = p_factor, q_factor
    fp, fq = jnp.tril(fp), jnp.tril(fq)
    if not inv_p and not inv_q:  # L_q⁻¹ L_p
        return _solve(fq, fp)
    if not inv_p and inv_q:  # L_q⁻¹ = F_q
        return fq @ fp
    if inv_p and not inv_q:  # L_p = F_p⁻¹: M = (F_p L_q)⁻¹
        prod = fp @ fq
        eye = jnp.broadcast_to(jnp.eye(prod.shape[-1], dtype=prod.dtype), prod.shape)
        return _solve(prod, eye)
    # M = F_q F_p⁻¹, i.e. Mᵀ = F_p⁻ᵀ F_qᵀ.
    return jnp.swapaxes(_solve(fp, jnp.swapaxes(fq, -1, -2), trans=1), -1, -2)


def _gaussian_core(m, log_m_diag):
    """``tr(M Mᵀ) - n - log det(M Mᵀ)`` for lower-triangular ``M`` with ``log M_ii`` given,
    as ``Σ_{i>j} M_ij² + Σ_i (M_ii² - 1 - log M_ii²)``: nonnegative terms, no cancellation."""
    off = _sq_norm(jnp.tril(m, -1))
    two_log = 2.0 * log_m_diag
    diag = -_log_t_minus_t_plus_1(two_log, jnp.expm1(two_log))
    return off + jnp.sum(diag, axis=-1)


# ------------------------------------------------------------------------- Dirichlet
@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    """KL(Dir(a) || Dir(b)) = lgamma(a₀) - lgamma(b₀) - Σ (lgamma(aᵢ) - lgamma(bᵢ))
    + Σ (aᵢ - bᵢ)(ψ(aᵢ) - ψ(a₀)), rewritten with Stirling's series (lgamma(x) =
    (x - ½) log x - x + ½ log 2π + s(x), ψ(x) = log x + (ψ - log)(x)) so that the O(a log a)
    terms cancel analytically:

        b₀ Σ rᵢ log(rᵢ/qᵢ) + ½ (Σ log(aᵢ/bᵢ) - log(a₀/b₀)) + s(a₀) - s(b₀) - Σ (s(aᵢ) - s(bᵢ))
        + Σ (aᵢ - bᵢ)(ψ - log)(aᵢ) - (a₀ - b₀)(ψ - log)(a₀),

    with ``q = a/a₀``, ``r = b/b₀`` (the first term is ``b₀`` times a categorical KL >= 0).
    Accurate for concentrations from 1e-3 to 1e4 and beyond, in float32 too."""
    _check_event(p, q)
    a = jnp.asarray(p.concentration)
    b = jnp.asarray(q.concentration)
    a, b = jnp.broadcast_arrays(a, b)
    a0 = jnp.sum(a, axis=-1)
    b0 = jnp.sum(b, axis=-1)
    log_a, log_b = jnp.log(a), jnp.log(b)
    log_a0, log_b0 = jnp.log(a0), jnp.log(b0)
    log_q = log_a - log_a0[..., None]
    log_r = log_b - log_b0[..., None]
    r = b / b0[..., None]
    s, dml = lgamma_stirling_remainder, digamma_minus_log
    return (
        b0 * jnp.sum(r * (log_r - log_q), axis=-1)
        + 0.5 * (jnp.sum(log_a - log_b, axis=-1) - (log_a0 - log_b0))
        + s(a0)
        - s(b0)
        - jnp.sum(s(a) - s(b), axis=-1)
        + jnp.sum((a - b) * dml(a), axis=-1)
        - (a0 - b0) * dml(a0)
    )


# ------------------------------------------------------------- multivariate normals
@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    """½ [tr(Σq⁻¹Σp) + (μq - μp)ᵀ Σq⁻¹ (μq - μp) - n + log det Σq - log det Σp]
    (e.g. Rasmussen & Williams 2006, "Gaussian Processes for Machine Learning", eq. A.23),
    with ``M = L_q⁻¹ L_p`` from triangular solves: ``½ [Σ_{i>j} M_ij² + Σ_i (M_ii² - 1 -
    log M_ii²) + |L_q⁻¹ (μq - μp)|²]``, every term nonnegative."""
    _check_event(p, q)
    fp, fq = p._factor(), q._factor()
    m = _relative_tril(fp, fq)
    log_m_diag = _scale_log_diag(*fp) - _scale_log_diag(*fq)
    z = q._whiten(fq[0], fq[1], q.loc - p.loc)
    return 0.5 * (_gaussian_core(m, log_m_diag) + _sq_norm(z, 1))


class _LowRankQ:
    """The pieces of a low-rank ``q`` (Σq = W Wᵀ + D) that ``KL(· || q)`` needs: the
    whitened factor ``W̃ = D^{-1/2} W``, the Cholesky factor ``L_C`` of the capacitance
    ``C = I + W̃ᵀ W̃`` and ``A = L_C⁻¹ W̃ᵀ D^{-1/2}`` (``r × n``), so that by Woodbury
    ``Σq⁻¹ = D⁻¹ - Aᵀ A`` (Woodbury 1950; Higham 2002, §26.3). O(n r²)."""

    def __init__(self, q):
        self.w, self.chol_cap, self.sqrt_d = q._capacitance()
        self.d = q.cov_diag
        wt_scaled = jnp.swapaxes(self.w / self.sqrt_d[..., None], -1, -2)  # W̃ᵀ D^{-1/2}
        self.a = _solve(self.chol_cap, wt_scaled)
        self.log_det = 2.0 * q._half_log_det(self.chol_cap)

    def mahalanobis(self, x):
        """``xᵀ Σq⁻¹ x = |ρ|² + |u|²`` (sum of squares, as LowRankMultivariateNormal.log_prob)."""
        xt = x / self.sqrt_d
        u = _cho_solve(self.chol_cap, matvec(jnp.swapaxes(self.w, -1, -2), xt))
        rho = xt - matvec(self.w, u)
        return _sq_norm(rho, 1) + _sq_norm(u, 1)

    def trace_with_root(self, s):
        """``tr(Σq⁻¹ S Sᵀ) = ‖D^{-1/2} S‖² - ‖A S‖²`` for ``S`` of shape ``(..., n, m)``."""
        return _sq_norm(s / self.sqrt_d[..., None]) - _sq_norm(self.a @ s)

    def trace_with_diag(self, d):
        """``tr(Σq⁻¹ diag(d)) = Σ d/D - Σ_ij A_ij² d_j``: O(n r)."""
        return jnp.sum(d / self.d, axis=-1) - jnp.sum(
            jnp.square(self.a) * d[..., None, :], (-2, -1)
        )


def _finish(trace, maha, log_det_q, log_det_p, n):
    return 0.5 * (trace + maha - n + log_det_q - log_det_p)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    """Gaussian KL with Σp = Wp Wpᵀ + Dp, Σq = Wq Wqᵀ + Dq: ``tr(Σq⁻¹Σp) = tr(Σq⁻¹ Dp) +
    ‖Dq^{-1/2} Wp‖² - ‖A Wp‖²`` (Woodbury), log-determinants by the matrix determinant lemma
    (Harville 1997, Thm. 18.1.1). Cost O(n (r_p + r_q) r_q), memory O(n (r_p + r_q)): no
    ``n × n`` array."""
    _check_event(p, q)
    lq = _LowRankQ(q)
    _, chol_cap_p, _ = p._capacitance()
    trace = lq.trace_with_diag(p.cov_diag) + lq.trace_with_root(p.cov_factor)
    log_det_p = 2.0 * p._half_log_det(chol_cap_p)
    return _finish(trace, lq.mahalanobis(q.loc - p.loc), lq.log_det, log_det_p, p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q):
    """Gaussian KL with dense Σp = Lp Lpᵀ and low-rank Σq: ``tr(Σq⁻¹Σp) = ‖Dq^{-1/2} Lp‖² -
    ‖A Lp‖²`` (with ``Lp = F⁻¹`` by transposed triangular solves when ``p`` has a precision
    matrix), the rest as LowRank–LowRank. O(n² r) (p is dense)."""
    _check_event(p, q)
    lq = _LowRankQ(q)
    fp, inv_p = p._factor()
    fp = jnp.tril(fp)
    if not inv_p:
        trace = lq.trace_with_root(fp)
    else:  # ‖B F⁻¹‖_F = ‖F⁻ᵀ Bᵀ‖_F for B = D^{-1/2} and B = A
        eye = jnp.eye(fp.shape[-1], dtype=fp.dtype)
        trace = _sq_norm(_solve(fp, eye / lq.sqrt_d[..., None, :], 1))
        trace = trace - _sq_norm(_solve(fp, jnp.swapaxes(lq.a, -1, -2), 1))
    log_det_p = 2.0 * jnp.sum(_scale_log_diag(fp, inv_p), axis=-1)
    return _finish(trace, lq.mahalanobis(q.loc - p.loc), lq.log_det, log_det_p, p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q):
    """Gaussian KL with low-rank Σp and dense Σq = Lq Lqᵀ: ``tr(Σq⁻¹Σp) = ‖Lq⁻¹ Wp‖² +
    ‖Lq⁻¹ Dp^{1/2}‖²`` (triangular solves; products with the precision factor when ``q`` has a
    precision matrix). O(n³) (q is dense)."""
    _check_event(p, q)
    fq, inv_q = q._factor()
    fq = jnp.tril(fq)
    n = p.event_shape[0]
    sqrt_dp = jnp.sqrt(p.cov_diag)
    if inv_q:  # Lq⁻¹ = Fq
        trace = _sq_norm(fq @ p.cov_factor) + jnp.sum(
            jnp.square(fq) * p.cov_diag[..., None, :], axis=(-2, -1)
        )
    else:
        diag = jnp.eye(n, dtype=sqrt_dp.dtype) * sqrt_dp[..., None, :]
        trace = _sq_norm(_solve(fq, p.cov_factor)) + _sq_norm(_solve(fq, diag))
    _, chol_cap_p, _ = p._capacitance()
    log_det_p = 2.0 * p._half_log_det(chol_cap_p)
    log_det_q = 2.0 * jnp.sum(_scale_log_diag(fq, inv_q), axis=-1)
    maha = _sq_norm(q._whiten(fq, inv_q, q.loc - p.loc), 1)
    return _finish(trace, maha, log_det_q, log_det_p, n)


def _diag_normal(d):
    """``(loc, scale)`` of ``Independent(Normal, 1)``, else ``None``."""
    if d.reinterpreted_batch_ndims != 1 or not isinstance(d.base_dist, Normal):
        return None
    base = d.base_dist
    shape = base.batch_shape
    return jnp.broadcast_to(base.loc, shape), jnp.broadcast_to(base.scale, shape)


def _require_diag_normal(d, other):
    parts = _diag_normal(d)
    if parts is None:
        raise NotImplementedError(
            f"no analytic KL divergence between Independent({type(d.base_dist).__name__}, "
            f"{d.reinterpreted_batch_ndims}) and {type(other).__name__}: only "
            "Independent(Normal, 1) has one; use jdist.kl_divergence_mc(p, q, key, num_samples)"
        )
    return parts


@register_kl(Independent, MultivariateNormal)
def _kl_diag_normal_mvn(p, q):
    """``Independent(Normal(μ, σ), 1)`` against a MultivariateNormal (beyond torch): the
    MVN–MVN formula with ``L_p = diag(σ)``."""
    _check_event(p, q)
    loc, scale = _require_diag_normal(p, q)
    n = scale.shape[-1]
    tril = jnp.eye(n, dtype=scale.dtype) * scale[..., None, :]
    fq = q._factor()
    m = _relative_tril((tril, False), fq)
    log_m_diag = jnp.log(scale) - _scale_log_diag(*fq)
    z = q._whiten(fq[0], fq[1], q.loc - loc)
    return 0.5 * (_gaussian_core(m, log_m_diag) + _sq_norm(z, 1))


@register_kl(MultivariateNormal, Independent)
def _kl_mvn_diag_normal(p, q):
    """A MultivariateNormal against ``Independent(Normal(μ, σ), 1)`` (beyond torch): the
    MVN–MVN formula with ``L_q = diag(σ)`` (``M = L_p / σ`` row-wise, no solve)."""
    _check_event(p, q)
    loc, scale = _require_diag_normal(q, p)
    fp = p._factor()
    n = scale.shape[-1]
    tril = jnp.eye(n, dtype=scale.dtype) * scale[..., None, :]
    m = _relative_tril(fp, (tril, False))
    log_m_diag = _scale_log_diag(*fp) - jnp.log(scale)
    z = (loc - p.loc) / scale
    return 0.5 * (_gaussian_core(m, log_m_diag) + _sq_norm(z, 1))


# --------------------------------------------------------------------------- Wishart
def _gamma_shape_kl(a, b):
    """``lgamma(b) - lgamma(a) + (a - b) ψ(a)`` (the shape part of KL(Gamma(a) || Gamma(b))),
    by Stirling's series: ``bd0(b, a) - ½ log(b/a) + s(b) - s(a) + (a - b)(ψ - log)(a)``
    with Loader's deviance ``bd0(b, a) = b log(b/a) + a - b >= 0``; no O(a log a) cancellation
    for large shapes."""
    log_a, log_b = jnp.log(a), jnp.log(b)
    s, dml = lgamma_stirling_remainder, digamma_minus_log
    return bd0(b, a, b - a, log_a) - 0.5 * (log_b - log_a) + s(b) - s(a) + (a - b) * dml(a)


@register_kl(Wishart, Wishart)
def _kl_wishart_wishart(p, q):
    """KL(W_d(νp, Σp) || W_d(νq, Σq)) = (νq/2)(log det Σq - log det Σp)
    + (νp/2)(tr(Σq⁻¹Σp) - d) + log Γ_d(νq/2) - log Γ_d(νp/2) + ((νp - νq)/2) ψ_d(νp/2)
    (from E log det X = ψ_d(ν/2) + d log 2 + log det Σ and E X = νΣ; e.g. Penny 2001,
    "KL-divergences of Normal, Gamma, Dirichlet and Wishart densities"). With
    ``M = L_q⁻¹ L_p`` the matrix part is ``(νp/2)[Σ_{i>j} M_ij² + Σ_i (M_ii² - 1 -
    log M_ii²)] + (νp - νq) Σ_i log M_ii``, and the multivariate gamma part is
    ``Σ_j [lgamma(b_j) - lgamma(a_j) + (a_j - b_j) ψ(a_j)]``, ``a_j = (νp - j)/2``,
    ``b_j = (νq - j)/2``, each evaluated without O(ν log ν) cancellation. torch has no
    explicit pair (it goes through ExponentialFamily; see the module docstring)."""
    _check_event(p, q)
    dtype = jnp.result_type(p.dtype, q.dtype)
    nu_p = jnp.asarray(p.df, dtype)
    nu_q = jnp.asarray(q.df, dtype)
    fp, fq = p._factor(), q._factor()
    m = _relative_tril(fp, fq)
    log_m_diag = _scale_log_diag(*fp) - _scale_log_diag(*fq)
    matrix_part = 0.5 * nu_p * _gaussian_core(m, log_m_diag) + (nu_p - nu_q) * jnp.sum(
        log_m_diag, axis=-1
    )
    j = jnp.arange(p.event_shape[-1], dtype=dtype)
    a = 0.5 * (nu_p[..., None] - j)
    b = 0.5 * (nu_q[..., None] - j)
    return matrix_part + jnp.sum(_gamma_shape_kl(a, b), axis=-1)


# ------------------------------------------------------------------------ structural
@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    """The base KL summed over the reinterpreted dims (which must agree, as torch)."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "KL(Independent || Independent) needs equal reinterpreted_batch_ndims, got "
            f"{p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims}"
        )
    _check_event(p, q)
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _same_transforms(p, q):
    """``True``/``False`` when the transforms can be compared now (same types and static
    configuration, equal parameters by broadcasting ``==`` as torch's ``__eq__``), or a
    traced boolean when some parameters are traced (compared inside the computation)."""
    parts_p, parts_q = _flat_parts(p.transform), _flat_parts(q.transform)
    if len(parts_p) != len(parts_q):
        return False
    traced = []
    for tp, tq in zip(parts_p, parts_q, strict=True):
        leaves_p, def_p = jax.tree.flatten(tp)
        leaves_q, def_q = jax.tree.flatten(tq)
        if type(tp) is not type(tq) or def_p != def_q:
            return False
        for a, b in zip(leaves_p, leaves_q, strict=True):
            if a is b:
                continue
            if _is_traced(a) or _is_traced(b):
                traced.append(jnp.all(jnp.asarray(a) == jnp.asarray(b)))
                continue
            a, b = np.asarray(a), np.asarray(b)
            try:
                if not np.all(a == b):
                    return False
            except ValueError:
                return False
    if not traced:
        return True
    return jnp.all(jnp.stack(traced))


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    """KL is invariant under a common bijection: with the same transforms (same types and
    equal parameters) and event shapes, the KL of the bases, summed over the base dims that
    the transforms make event dims. Different transforms: ``NotImplementedError`` (as
    torch). Transforms whose parameters are traced (inside jit/vmap) and are not the same
    arrays are compared inside the computation: NaN where they differ, reported by
    ``checkify.checkify``."""
    if p.event_shape != q.event_shape:
        raise NotImplementedError(
            "KL(TransformedDistribution || TransformedDistribution) needs equal event shapes, "
            f"got {p.event_shape} and {q.event_shape}"
        )
    same = _same_transforms(p, q)
    if same is False:
        raise NotImplementedError(
            "KL(TransformedDistribution || TransformedDistribution) has a closed form only "
            f"for identical transforms; got {p.transforms!r} and {q.transforms!r}; use "
            "jdist.kl_divergence_mc(p, q, key, num_samples)"
        )
    _, sum_p = p._stage_sums()
    _, sum_q = q._stage_sums()
    if sum_p != sum_q:
        raise NotImplementedError(
            "KL(TransformedDistribution || TransformedDistribution): the base distributions "
            f"have different event ranks ({len(p.base_dist.event_shape)} and "
            f"{len(q.base_dist.event_shape)})"
        )
    kl = sum_rightmost(kl_divergence(p._expanded_base(), q._expanded_base()), sum_p)
    if same is True:
        return kl
    checkify.check(
        same,
        "KL(TransformedDistribution || TransformedDistribution): the transforms' parameters "
        "differ (NaN returned)",
        debug=True,
    )
    return jnp.where(same, kl, jnp.nan)
