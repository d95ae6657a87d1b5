"""Multinomial distribution: counts of ``total_count`` independent categorical draws."""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
from jax.scipy import special

from jdist import constraints
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits
from jdist.distributions.categorical import _entropy_from

__all__ = ["Multinomial"]


def _as_count(total_count) -> int:
    try:
        n = operator.index(total_count)
    except TypeError:
        raise TypeError(
            "Multinomial: `total_count` must be a Python int (as in torch; it sets the number "
            f"of categorical draws per sample), got {type(total_count).__name__}"
        ) from None
    if n < 0:
        raise ValueError(f"Multinomial: `total_count` must be >= 0, got {n}")
    return int(n)


@jax.jit
def _count(index, categories):
    # Fused under jit: the (total_count, ..., K) comparison is never materialized.
    return jnp.sum(index[..., None] == categories, axis=0, dtype=jnp.int32)


class Multinomial(ProbsLogitsMixin, Distribution):
    """Multinomial distribution: counts over ``K`` categories of ``total_count`` draws.

    Exactly one of ``probs`` (normalized along the last axis) or ``logits`` of shape
    ``batch_shape + (K,)``; ``event_shape == (K,)``. ``total_count`` is a Python int, static
    configuration as in torch (no batched counts); sampling therefore works inside ``jit``.
    Samples are ``int32`` count vectors (index-valued, as ``Categorical``); ``log_prob``
    accepts integer or float counts::

        log p(x) = lgamma(Σxᵢ + 1) - Σ lgamma(xᵢ + 1) + Σ xᵢ log pᵢ

    with ``0 · log 0 = 0``, so categories of probability 0 (logits ``-inf``) with zero counts
    are fine. As torch, ``log_prob`` uses ``n = Σxᵢ`` and the support admits ``Σxᵢ <=
    total_count`` (``constraints.multinomial``); for ``Σxᵢ == total_count`` it is the
    multinomial pmf. ``mean = n p``, ``variance = n p (1-p)``; ``mode`` by Finucan's greedy
    rule (start from ``floor(n pᵢ)`` — every mode is at least that — and add the remaining
    units one at a time where ``log pᵢ - log(mᵢ + 1)`` is largest); ``entropy`` exactly by
    enumerating each count's binomial marginal (cost ``O(total_count · K)``, as torch).

    Example:
        >>> d = jdist.Multinomial(10, probs=jnp.array([0.2, 0.3, 0.5]))
        >>> x = d.sample(jax.random.key(0), (4,))   # (4, 3) int32, rows sum to 10
        >>> d.log_prob(x).shape
        (4,)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    _param_event_ndims = {"_probs": 1, "_logits": 1}

    def __init__(
        self, total_count: int = 1, probs=None, logits=None, *, validate_args: bool = False
    ) -> None:
        super().__init__(
            probs_or_logits("Multinomial", probs, logits),
            validate_args=validate_args,
            static={"total_count": _as_count(total_count)},
        )

    @property
    def num_categories(self) -> int:
        """Number of categories ``K`` (static)."""
        return jnp.shape(self._raw)[-1]

    @property
    def event_shape(self):
        return (self.num_categories,)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    def _sample(self, key, sample_shape):
        n, k = self.total_count, self.num_categories
        logits = self._logits if self._given_logits else jnp.log(self._probs)
        shape = (n,) + sample_shape + self.batch_shape
        index = jax.random.categorical(key, logits, axis=-1, shape=shape)
        return _count(index, jnp.arange(k, dtype=index.dtype))

    def _log_prob(self, value):
        x = jnp.asarray(value).astype(self.dtype)
        logits = self.logits
        zero = x == 0
        powers = jnp.where(zero, 0.0, x * jnp.where(zero, 0.0, logits))
        return (
            special.gammaln(jnp.sum(x, axis=-1) + 1.0)
            - jnp.sum(special.gammaln(x + 1.0), axis=-1)
            + jnp.sum(powers, axis=-1)
        )

    def _mean(self):
        return self.total_count * self.probs

    def _variance(self):
        p = self.probs
        return self.total_count * p * (1.0 - p)

    def _mode(self):
        n, k = self.total_count, self.num_categories
        p, log_p = self.probs, self.logits
        start = jnp.floor(n * p)
        neg_inf = jnp.asarray(-jnp.inf, log_p.dtype)

        def step(_, m):
            # Add where the next unit gains most, or (after rounding overshoot) remove where the
            # last unit gained least; each mᵢ >= floor(n pᵢ) - 1 so K steps always suffice.
            left = n - jnp.sum(m, axis=-1, keepdims=True)
            gain = jnp.where(p > 0, log_p - jnp.log(m + 1.0), neg_inf)
            last = jnp.where(m > 0, log_p - jnp.log(jnp.maximum(m, 1.0)), -neg_inf)
            add = jax.nn.one_hot(jnp.argmax(gain, axis=-1), k, dtype=m.dtype)
            remove = jax.nn.one_hot(jnp.argmin(last, axis=-1), k, dtype=m.dtype)
            return m + jnp.where(left > 0, add, 0.0) - jnp.where(left < 0, remove, 0.0)

        return jax.lax.fori_loop(0, k, step, start).astype(jnp.int32)

    def _entropy(self):
        # H = n H(p) - log n! + Σᵢ E[log xᵢ!],  xᵢ ~ Binomial(n, pᵢ), summed over xᵢ = 2..n.
        n = self.total_count
        p, log_p = self.probs, self.logits
        cat_entropy = _entropy_from(p, log_p)
        if n < 2:
            return n * cat_entropy
        dtype = p.dtype
        counts = jnp.arange(2, n + 1, dtype=dtype).reshape((-1,) + (1,) * p.ndim)
        inside = (p > 0) & (p < 1)
        p_in = jnp.where(inside, p, 0.5)
        log_binom = (
            special.gammaln(n + 1.0)
            - special.gammaln(counts + 1.0)
            - special.gammaln(n - counts + 1.0)
            + counts * jnp.where(inside, log_p, 0.0)
            + (n - counts) * jnp.log1p(-p_in)
        )
        expected = jnp.sum(jnp.exp(log_binom) * special.gammaln(counts + 1.0), axis=0)
        # pᵢ == 1: xᵢ = n surely; pᵢ == 0: xᵢ = 0 surely.
        expected = jnp.where(inside, expected, jnp.where(p >= 1, special.gammaln(n + 1.0), 0.0))
        lgamma_n1 = special.gammaln(jnp.asarray(n + 1.0, dtype))
        return n * cat_entropy - lgamma_n1 + jnp.sum(expected, axis=-1)
