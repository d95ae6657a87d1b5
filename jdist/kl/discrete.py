"""Analytic KL divergences between discrete families (registered on import).

Pairs (as torch.distributions 2.13, with the differences noted at each function):
Bernoulli–Bernoulli, Bernoulli–Poisson, Binomial–Binomial, Categorical–Categorical (also
``Greedy`` / ``EpsilonGreedy``, which subclass ``Categorical``), OneHotCategorical–
OneHotCategorical (also ``OneHotCategoricalStraightThrough``), Geometric–Geometric,
Poisson–Poisson, Poisson–Bernoulli and Poisson–Binomial.

Conventions shared by all of them: ``0 · log 0 = 0`` (outcomes ``p`` cannot produce add
nothing), ``+inf`` where ``p`` gives mass to an outcome ``q`` excludes, never NaN, and
gradients that are finite (zero through the ``inf``/``0`` branches, by double ``where``;
at an exact boundary such as ``probs = 0`` the true derivative is infinite and the gradient
is that of the expression with the vanishing ``0 log 0`` term held at 0).
For Categorical, "has mass" is decided from log-probabilities (``log p > -inf``), not from
probabilities that may have underflowed: ``Categorical(logits=[0, -1000])`` has mass on
outcome 1 (torch, which tests ``probs == 0``, gives 0 in float64 against a ``q`` with
``-inf`` there; here it is ``inf``), and a ``q`` whose probability underflows but whose
logit is finite gives a finite KL here where torch says ``inf``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jdist._math import bd0
from jdist.distribution import broadcast_shapes
from jdist.distributions.bernoulli import Bernoulli
from jdist.distributions.binomial import Binomial, _log_p_q
from jdist.distributions.categorical import Categorical, OneHotCategorical
from jdist.distributions.geometric import Geometric
from jdist.distributions.poisson import Poisson
from jdist.kl._registry import register_kl

__all__: list[str] = []

# The exact Binomial–Binomial sum (total_count of p below q's) evaluates at most this many
# masses (support length × batch size), as ``Binomial.entropy``.
BINOMIAL_KL_MAX_TERMS = 1 << 24


def _safe_log(x):
    """``log x`` with ``log 0 = -inf`` and a zero (not infinite) gradient at 0."""
    pos = x > 0
    return jnp.where(pos, jnp.log(jnp.where(pos, x, 1.0)), -jnp.inf)


def _weighted_log_ratio(w, log_a, log_b):
    """``w (log a - log b)`` where ``w = a`` is a probability known with its log ``log_a``:
    0 where ``log_a = -inf`` (``0 log 0``), ``+inf`` where ``log_b = -inf < log_a``; gradients
    finite everywhere (the unused branches see only finite stand-ins)."""
    has = log_a > -jnp.inf
    lacks = log_b == -jnp.inf
    ok = has & ~lacks
    diff = jnp.where(ok, log_a, 0.0) - jnp.where(ok, log_b, 0.0)
    return jnp.where(ok, w * diff, jnp.where(has, jnp.inf, 0.0))


def _binary_kl(p, q):
    """Per-trial ``KL(Bernoulli(p) || Bernoulli(q))`` for two ``ProbsLogitsMixin`` binary
    families, as a sum of two nonnegative deviances (Loader 2000):

        KL = bd0(p, q) + bd0(1 - p, 1 - q),   bd0(x, m) = x log(x/m) - x + m >= 0

    (the ``-x + m`` parts cancel between the two), with ``p``, ``1 - p``, ``log q`` and
    ``log(1 - q)`` to full relative accuracy (from logits without cancellation, e.g. logits
    of ±200) and, when both come from logits, the difference ``p - q`` from them (``σ(a) - σ(b) =
    σ(b) σ(-a) expm1(a - b)``). So the KL keeps its relative accuracy when ``p ≈ q``, where
    the textbook ``p log(p/q) + (1-p) log((1-p)/(1-q))`` cancels (torch loses all digits at
    logits 40 vs 40 + 1e-6)."""
    pp, pq, _, _ = _log_p_q(p)
    qp, qq, log_qp, log_qq = _log_p_q(q)
    delta = pp - qp
    if p._given_logits and q._given_logits:
        # σ(a) - σ(b) = σ(b) σ(-a) expm1(a - b) = -σ(a) σ(-b) expm1(b - a): the form whose
        # expm1 argument is <= 0 (no overflow), accurate also where both round to 1.
        a = jnp.asarray(p._logits, pp.dtype)
        b = jnp.asarray(q._logits, pp.dtype)
        a, b = jnp.broadcast_arrays(a, b)
        up = a >= b
        hi, lo = jnp.where(up, a, b), jnp.where(up, b, a)
        mag = -jax.nn.sigmoid(hi) * jax.nn.sigmoid(-lo) * jnp.expm1(lo - hi)
        delta = jnp.where(up, mag, -mag)
    return _deviance(pp, qp, delta, log_qp) + _deviance(pq, qq, -delta, log_qq)


def _deviance(x, m, delta, log_m):
    """Loader's ``bd0(x, m) = x log(x/m) + m - x`` (``delta = x - m``), also for ``x`` or ``m``
    of 0 (``m``, or ``inf`` where ``m = 0 < x``), NaN-free in value and gradient."""
    x, m, delta, log_m = jnp.broadcast_arrays(x, m, delta, log_m)
    return bd0(x, m, delta, log_m)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    """``p log(p/q) + (1-p) log((1-p)/(1-q))``; ``inf`` where ``q`` is 0 or 1 and ``p`` is not
    the same point mass."""
    return _binary_kl(p, q)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    """``Σ_{x∈{0,1}} p(x) (log p(x) - log q(x))`` with ``log q(0) = -λ``,
    ``log q(1) = log λ - λ`` (torch: ``-H(p) - p log λ + λ``); ``inf`` for ``λ = 0 < p``."""
    pp, pq, log_pp, log_pq = _log_p_q(p)
    rate = jnp.asarray(q.rate, q.dtype)
    return _weighted_log_ratio(pq, log_pq, -rate) + _weighted_log_ratio(
        pp, log_pp, _safe_log(rate) - rate
    )


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _binomial_kl_by_summation(p, q, shape, needed):
    """``Σ_k p(k) (log p(k) - log q(k))`` over ``k = 0, ..., max(n_p)`` (the maximum over the
    ``needed`` entries): exact, for concrete ``total_count`` (the window length is a shape)."""
    n_p = np.broadcast_to(np.asarray(p.total_count, np.float64), shape)
    width = int(np.max(n_p[np.broadcast_to(needed, shape)], initial=0.0)) + 1
    batch = int(np.prod(shape, dtype=np.int64))
    if width * batch > BINOMIAL_KL_MAX_TERMS:
        raise NotImplementedError(
            "KL(Binomial || Binomial) with p.total_count < q.total_count has no closed form; "
            f"it is summed exactly over p's support, here {width} values for each of {batch} "
            "batch elements, more than jdist.kl.discrete.BINOMIAL_KL_MAX_TERMS = "
            f"{BINOMIAL_KL_MAX_TERMS}; use jdist.kl_divergence_mc"
        )
    dtype = jnp.result_type(p.dtype, q.dtype)
    k = jnp.arange(width, dtype=dtype).reshape((width,) + (1,) * len(shape))
    log_p = jnp.broadcast_to(p.log_prob(k), (width,) + shape)
    log_q = jnp.broadcast_to(q.log_prob(k), (width,) + shape)
    mass = jnp.exp(jnp.where(log_p > -jnp.inf, log_p, -jnp.inf))
    return jnp.sum(_weighted_log_ratio(mass, log_p, log_q), axis=0)


def _times_count(n, x):
    """``n x`` with ``0 · inf = 0`` (``n = 0`` trials) and no ``0 · inf`` in the gradient."""
    finite = jnp.isfinite(x)
    return jnp.where(finite, n * jnp.where(finite, x, 0.0), jnp.where(n > 0, x, 0.0))


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    """KL between Binomials, for any pair of ``total_count`` (``n_p``, ``n_q``):

    * ``n_p == n_q``: ``n · KL(Bernoulli(p) || Bernoulli(q))`` (0 for ``n = 0``);
    * ``n_p > n_q``: ``inf`` (``p`` reaches ``n_p``, which ``q`` cannot), except for
      ``probs_p == 0`` (a point mass at 0: ``-n_q log(1 - q)``); torch says ``inf`` there too;
    * ``n_p < n_q``: no closed form (torch raises ``NotImplementedError``). Here it is the
      exact sum over ``p``'s support when ``total_count`` is concrete (not traced; e.g.
      closed over inside ``jit``), differentiable w.r.t. ``probs``/``logits``. With traced
      ``total_count`` those entries are NaN, and ``checkify.checkify`` reports them
      (a traced value cannot raise).
    """
    shape = broadcast_shapes(p.batch_shape, q.batch_shape, what="KL batch shapes")
    dtype = jnp.result_type(p.dtype, q.dtype)
    n_p = jnp.asarray(p.total_count, dtype)
    n_q = jnp.asarray(q.total_count, dtype)
    per_trial = _binary_kl(p, q)
    same = _times_count(n_p, per_trial)
    # p a point mass at 0 (probs == 0): -n_q log(1 - q) = n_q · KL_per_trial (p = 0 term).
    at_zero = _times_count(n_q, per_trial)
    log_pp = _log_p_q(p)[2]
    more = jnp.where(log_pp == -jnp.inf, at_zero, jnp.inf)
    result = jnp.broadcast_to(jnp.where(n_p > n_q, more, same), shape)
    fewer = n_p < n_q
    traced = _is_traced(p.total_count) or _is_traced(q.total_count)
    if traced:
        checkify.check(
            ~jnp.any(fewer),
            "KL(Binomial || Binomial): p.total_count < q.total_count has no closed form and "
            "total_count is traced (NaN returned); close over total_count to sum exactly",
            debug=True,
        )
        return jnp.where(fewer, jnp.nan, result)
    # Concrete counts (also when closed over inside jit, where jnp results are staged):
    # decide with numpy whether any entry needs the exact sum.
    fewer_now = np.asarray(p.total_count, np.float64) < np.asarray(q.total_count, np.float64)
    if not np.any(fewer_now):
        return result
    return jnp.where(fewer, _binomial_kl_by_summation(p, q, shape, fewer_now), result)


def _categorical_kl(p, q):
    k_p, k_q = p.num_categories, q.num_categories
    if k_p != k_q:
        raise ValueError(
            f"KL({type(p).__name__} || {type(q).__name__}): the numbers of categories differ, "
            f"{k_p} and {k_q} (parameter shapes {jnp.shape(p._raw)} and {jnp.shape(q._raw)})"
        )
    return jnp.sum(_weighted_log_ratio(p.probs, _log_probs(p), _log_probs(q)), axis=-1)


def _log_probs(d):
    """Normalised log-probabilities with ``log 0 = -inf`` and finite gradients there (the
    ``logits`` property of a ``probs``-given family differentiates ``log 0``)."""
    if d._given_logits:
        return jax.nn.log_softmax(d._logits, axis=-1)
    probs = d._probs
    return _safe_log(probs) - jnp.log(jnp.sum(probs, axis=-1, keepdims=True))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    """``Σ_i p_i (log p_i - log q_i)`` from normalised logits: masked logits of ``-inf``
    count as ``0 log 0 = 0`` in ``p`` and as ``inf`` where ``q`` lacks mass ``p`` has; no NaN,
    in values or gradients. Also covers the ``Greedy`` / ``EpsilonGreedy`` subclasses."""
    return _categorical_kl(p, q)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    """As Categorical–Categorical (the one-hot encoding changes nothing)."""
    return _categorical_kl(p, q)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    """``log(p/q) + ((1-p)/p) log((1-p)/(1-q))``, i.e. the per-trial Bernoulli KL divided by
    ``p`` (the expected number of trials), computed as such so that it keeps its relative
    accuracy when ``p ≈ q`` (torch's ``-H(p) - log(1-q)/p - logit(q)`` cancels); ``inf`` for
    ``q = 1 > p``."""
    per_trial = _binary_kl(p, q)
    if p._given_logits:  # 1/p = 1 + exp(-logits)
        inv_p = 1.0 + jnp.exp(-jnp.asarray(p._logits, per_trial.dtype))
    else:
        inv_p = 1.0 / jnp.asarray(p._probs, per_trial.dtype)
    # 0 · inf (a vanishing KL where 1/p overflows) is 0; an infinite KL stays inf, with
    # no inf · 0 in the gradient.
    plain = (per_trial > 0) & (per_trial < jnp.inf)
    scaled = jnp.where(plain, per_trial, 1.0) * jnp.where(plain, inv_p, 1.0)
    return jnp.where(plain, scaled, per_trial)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    """``λp log(λp/λq) - λp + λq``, as Loader's deviance ``bd0(λp, λq)`` (a series near
    ``λp = λq``, where torch's direct form cancels): full relative accuracy everywhere;
    ``λq`` for ``λp = 0``, ``inf`` for ``λq = 0 < λp``."""
    dtype = jnp.result_type(p.dtype, q.dtype)
    lp, lq = jnp.broadcast_arrays(jnp.asarray(p.rate, dtype), jnp.asarray(q.rate, dtype))
    return _deviance(lp, lq, lp - lq, _safe_log(lq))


def _poisson_infinite(p, q, log_q_zero):
    """A Poisson puts mass on every count; a Bernoulli or Binomial does not: ``inf``, except
    for ``rate = 0`` (a point mass at 0: ``-log q(0)``; torch says ``inf`` there too)."""
    shape = broadcast_shapes(p.batch_shape, q.batch_shape, what="KL batch shapes")
    rate = jnp.asarray(p.rate, jnp.result_type(p.dtype, q.dtype))
    finite = log_q_zero > -jnp.inf
    at_zero = jnp.where(finite, -jnp.where(finite, log_q_zero, 0.0), jnp.inf)
    return jnp.broadcast_to(jnp.where(rate > 0, jnp.inf, at_zero), shape)


@register_kl(Poisson, Bernoulli)
def _kl_poisson_bernoulli(p, q):
    """``inf`` (counts above 1), or ``-log(1 - q)`` for a zero rate."""
    return _poisson_infinite(p, q, _log_p_q(q)[3])


@register_kl(Poisson, Binomial)
def _kl_poisson_binomial(p, q):
    """``inf`` (counts above ``total_count``), or ``-n log(1 - q)`` for a zero rate."""
    n = jnp.asarray(q.total_count, q.dtype)
    return _poisson_infinite(p, q, -_times_count(n, -_log_p_q(q)[3]))
