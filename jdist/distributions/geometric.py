"""Geometric distribution (number of failures before the first success)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import count_dtype, log1mexp, to_count, xlog1py, xlogy
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits
from jdist.distributions.binomial import _log_p_q

__all__ = ["Geometric"]


class _HalfOpenUnit(constraints.Constraint):
    """``0 < p <= 1``: a success probability that makes the first success certain to come."""

    def check(self, value):
        return (value > 0) & (value <= 1)

    def __repr__(self) -> str:
        return "in (0, 1]"


class Geometric(ProbsLogitsMixin, Distribution):
    """Geometric distribution: the number of failures before the first success in
    independent trials with success probability ``probs`` (torch's convention, support
    ``{0, 1, 2, ...}``; scipy's ``geom`` counts trials, i.e. is shifted by one).

    ``P(X = k) = (1 - p)^k p``. Give exactly one of ``probs`` (in ``(0, 1]``) or ``logits``;
    either has shape ``batch_shape``. Samples are integer counts (int32, int64 under x64;
    saturating at the dtype's maximum, reached only for ``p`` below ~1e-8 in int32 mode).
    ``log_prob``, the CDFs and ``entropy`` are finite and accurate for logits of ±100 and for
    ``p`` from 1e-6 to 1. ``icdf`` returns the smallest ``k`` with ``cdf(k) >= u`` (as floats,
    ``inf`` at ``u = 1``).

    Example:
        >>> d = jdist.Geometric(probs=jnp.array([0.5, 1e-3]))
        >>> k = d.sample(jax.random.key(0), (3,))    # int32, shape (3, 2)
        >>> d.log_prob(k).shape
        (3, 2)
    """

    arg_constraints = {"probs": _HalfOpenUnit(), "logits": constraints.real}
    support = constraints.nonnegative_integer
    _is_binary = True

    def __init__(self, probs=None, logits=None, *, validate_args: bool = False) -> None:
        super().__init__(probs_or_logits("Geometric", probs, logits), validate_args=validate_args)

    def _log_p_q(self):
        """``(log p, log(1 - p))`` with full relative accuracy (see ``binomial._log_p_q``)."""
        return _log_p_q(self)[2:]

    def _sample(self, key, sample_shape):
        # Inverse CDF: P(floor(E / -log(1 - p)) >= k) = P(E >= -k log(1 - p)) = (1 - p)^k
        # for E ~ Exponential(1); p = 1 gives E / inf = 0.
        shape = sample_shape + self.batch_shape
        _, log_q = self._log_p_q()
        e = jax.random.exponential(key, shape, self.dtype)
        return to_count(jnp.floor(e / -log_q), count_dtype())

    def _log_prob(self, value):
        value = jnp.asarray(value, self.dtype)
        ok = (value >= 0) & (value < jnp.inf)  # +inf passes the support check: -inf here
        k = jnp.where(ok, value, 0.0)
        if self._given_logits:
            logits = jnp.asarray(self._logits, self.dtype)
            lp = -k * jax.nn.softplus(logits) - jax.nn.softplus(-logits)
        else:
            log_p, log_q = self._log_p_q()  # log q = -inf at p = 1, with a zero gradient
            lp = jnp.where(k == 0, 0.0, k * log_q) + log_p
        return jnp.where(ok, lp, -jnp.inf)

    def _log_sf(self, value):
        """``log P(X > value) = (floor(value) + 1) log(1 - p)``, 0 below the support."""
        n = jnp.floor(jnp.asarray(value, self.dtype)) + 1.0
        _, log_q = self._log_p_q()
        n, log_q = jnp.broadcast_arrays(n, log_q)
        pos = n > 0
        return jnp.where(pos, jnp.where(pos, n, 0.0) * log_q, 0.0)

    def _cdf(self, value):
        return -jnp.expm1(self._log_sf(value))

    def _log_cdf(self, value):
        return log1mexp(-self._log_sf(value))

    def _survival_function(self, value):
        return jnp.exp(self._log_sf(value))

    def _log_survival_function(self, value):
        return self._log_sf(value)

    def _icdf(self, value):
        # Smallest k >= 0 with 1 - (1 - p)^(k+1) >= u, i.e. k + 1 >= log(1 - u) / log(1 - p).
        u = jnp.asarray(value, self.dtype)
        _, log_q = self._log_p_q()
        u, log_q = jnp.broadcast_arrays(u, log_q)
        certain = log_q == -jnp.inf  # p = 1: X = 0 for every u
        ratio = jnp.log1p(-u) / jnp.where(certain, -1.0, log_q)
        k = jnp.maximum(jnp.ceil(ratio) - 1.0, 0.0)
        return jnp.where(certain, 0.0, k)

    def _mean(self):
        if self._given_logits:
            return jnp.exp(-jnp.asarray(self._logits, self.dtype))
        p = jnp.asarray(self._probs, self.dtype)
        return (1.0 - p) / p

    def _mode(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def _variance(self):
        if self._given_logits:
            odds_inv = jnp.exp(-jnp.asarray(self._logits, self.dtype))  # (1 - p) / p
            return odds_inv * (1.0 + odds_inv)
        p = jnp.asarray(self._probs, self.dtype)
        return (1.0 - p) / (p * p)

    def _entropy(self):
        # H = -((1 - p) log(1 - p) + p log p) / p: the Bernoulli entropy per success.
        if self._given_logits:
            # With t = e^l: H = l/t + softplus(-l)(1 + 1/t) for l >= 0, and
            # H = softplus(l) + log1p(t)/t - l for l < 0 (no overflow, no cancellation).
            logits = jnp.asarray(self._logits, self.dtype)
            pos = logits >= 0
            lp = jnp.where(pos, logits, 0.0)
            ln = jnp.where(pos, 0.0, logits)
            inv_t = jnp.exp(-lp)
            h_pos = lp * inv_t + jax.nn.softplus(-lp) * (1.0 + inv_t)
            t = jnp.exp(ln)
            tiny = t < jnp.finfo(t.dtype).eps
            log1p_ratio = jnp.where(tiny, 1.0 - 0.5 * t, jnp.log1p(t) / jnp.where(tiny, 1.0, t))
            h_neg = jax.nn.softplus(ln) + log1p_ratio - ln
            return jnp.where(pos, h_pos, h_neg)
        p = jnp.asarray(self._probs, self.dtype)
        return -(xlog1py(1.0 - p, -p) + xlogy(p, p)) / p
