"""Binomial distribution."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jdist import constraints
from jdist._math import (
    count_dtype,
    entropy_by_summation,
    log1mexp,
    log_binomial_pmf,
    log_sum_decreasing,
    to_count,
)
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits
from jdist.distributions._tails import LogTailPair

__all__ = ["Binomial"]

_INVERSION_BELOW = 10.0  # n min(p, q) below which the waiting-time sampler is used
# Exact entropy sums at most this many mass evaluations (window length × batch size).
ENTROPY_MAX_TERMS = 1 << 24
_CHERNOFF_LOG_TAIL = 50.0  # entropy windows drop tails of mass below exp(-50)


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _log_p_q(dist):
    """``(p, q, log p, log q)`` with ``q = 1 - p`` for a ``ProbsLogitsMixin`` family, each with
    full relative accuracy: from logits without cancellation; from probs, the log of the
    larger of ``p``, ``q`` as ``log1p`` of the smaller (XLA's ``log`` loses relative accuracy
    near 1: 1e-2 at ``log(1 - 1e-6)`` in float32, 1e-9 at ``log(1 - 1e-8)`` in float64)."""
    if dist._given_logits:
        logits = jnp.asarray(dist._logits, dist.dtype)
        return (
            jax.nn.sigmoid(logits),
            jax.nn.sigmoid(-logits),
            -jax.nn.softplus(-logits),
            -jax.nn.softplus(logits),
        )
    p = jnp.asarray(dist._probs, dist.dtype)
    q = 1.0 - p  # exact for p >= 1/2
    big = p > 0.5
    small = jnp.where(big, q, p)  # the smaller of p, q
    pos = small > 0  # log 0 = -inf with a zero (not NaN) gradient
    log_small = jnp.where(pos, jnp.log(jnp.where(pos, small, 1.0)), -jnp.inf)
    log_big = jnp.log1p(-small)
    return p, q, jnp.where(big, log_big, log_small), jnp.where(big, log_small, log_big)


def _sample_inversion(key, n, log_q, active):
    """Number of successes among ``n`` trials, counting geometric waiting times (trials up to
    and including each success) while their sum stays within ``n`` (Devroye 1986,
    "Non-Uniform Random Variate Generation", §X.4.3). ``n p + 1`` draws on average."""
    n = jnp.where(active, n, 0.0)

    def cond(carry):
        return ~jnp.all(carry[3])

    def body(carry):
        key, used, count, done = carry
        key, sub = jax.random.split(key)
        e = jax.random.exponential(sub, n.shape, n.dtype)
        used = used + jnp.maximum(jnp.ceil(e / -log_q), 1.0)
        success = ~done & (used <= n)
        return key, used, count + success.astype(count.dtype), done | ~success

    init = (key, jnp.zeros_like(n), jnp.zeros(n.shape, count_dtype()), ~active)
    return jax.lax.while_loop(cond, body, init)[2]


def _sample_btrs(key, n, p, q, log_p, log_q, active):
    """BTRS, transformed rejection with squeeze (Hörmann 1993, "The generation of binomial
    random variates", J. Stat. Comput. Simul. 46, algorithm BTRS), for ``n p >= 10``,
    ``p <= 1/2``. The acceptance test compares Loader-form log masses (``f(k) / f(m)``), which
    are exact in float32 too (``jax.random.binomial`` is visibly biased in float32 from
    ``n ≈ 1e6``); the draw ``floor(n p + 1/2) + j`` is added in integers."""
    dtype = p.dtype
    n = jnp.where(active, n, 100.0)
    p = jnp.where(active, p, 0.5)
    q = jnp.where(active, q, 0.5)
    log_p = jnp.where(active, log_p, -0.6931471805599453)
    log_q = jnp.where(active, log_q, -0.6931471805599453)
    spq = jnp.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    log_alpha = jnp.log((2.83 + 5.1 / b) * spq)
    v_r = 0.92 - 4.2 / b
    np_ = n * p
    base = jnp.floor(np_ + 0.5)
    frac = np_ + 0.5 - base
    m = jnp.floor(np_ + p)  # the mode floor((n + 1) p)
    # k - n p passed exactly (k = base + j may not be a float32 beyond 2^24).
    log_f_mode = log_binomial_pmf(m, n, p, q, log_p, log_q, m - np_)

    def cond(carry):
        return ~jnp.all(carry[2])

    def body(carry):
        key, offset, done = carry
        key, k_u, k_v = jax.random.split(key, 3)
        u = jax.random.uniform(k_u, n.shape, dtype) - 0.5
        v = jax.random.uniform(k_v, n.shape, dtype)
        us = 0.5 - jnp.abs(u)
        j = jnp.floor((2.0 * a / us + b) * u + frac)
        k = base + j
        squeeze = (us >= 0.07) & (v <= v_r)
        reject = (k < 0) | (k > n)
        log_hat = jnp.log(v) + log_alpha - jnp.log(a / (us * us) + b)
        k_safe = jnp.clip(k, 0.0, n)
        log_f = log_binomial_pmf(k_safe, n, p, q, log_p, log_q, j + (base - np_))
        accept = ~done & (squeeze | ~reject & (log_hat <= log_f - log_f_mode))
        return key, jnp.where(accept, j, offset), done | accept

    offset = jax.lax.while_loop(cond, body, (key, jnp.zeros_like(n), ~active))[1]
    int_dtype = count_dtype()
    return to_count(base, int_dtype) + offset.astype(int_dtype)


@jax.custom_jvp
def _log_cdf_pair_impl(k, n, p, q, log_p, log_q):
    """``(log P(X <= k), log P(X > k))`` for integer-valued ``0 <= k < n``, each summed over
    its own tail outward from ``k`` (``O(sqrt(n p q))`` terms near the mean)."""
    lower = k + 1.0 <= n * p
    k_lo = jnp.where(lower, k, 0.0)
    log_f, _ = log_sum_decreasing(
        log_binomial_pmf(k_lo, n, p, q, log_p, log_q),
        lambda i: jnp.maximum(k_lo - i + 1.0, 0.0) * q / ((n - k_lo + i) * p),
        lower,
        log_term=lambda i: log_binomial_pmf(jnp.maximum(k_lo - i, 0.0), n, p, q, log_p, log_q),
    )
    k_up = jnp.where(lower, 0.0, k) + 1.0
    log_s, _ = log_sum_decreasing(
        log_binomial_pmf(k_up, n, p, q, log_p, log_q),
        lambda i: jnp.maximum(n - k_up - i + 1.0, 0.0) * p / ((k_up + i) * q),
        ~lower & (p > 0),
        log_term=lambda i: log_binomial_pmf(jnp.minimum(k_up + i, n), n, p, q, log_p, log_q),
    )
    return (
        jnp.where(lower, log_f, log1mexp(-log_s)),
        jnp.where(lower, log1mexp(-log_f), log_s),
    )


def _log_cdf_pair_jvp(primals, tangents):
    k, n, p, q, log_p, log_q = primals
    dn = tangents[1]
    if not isinstance(dn, jax.custom_derivatives.SymbolicZero):
        raise NotImplementedError(
            "Binomial CDFs are not differentiable with respect to total_count; apply "
            "jax.lax.stop_gradient to it (or differentiate with respect to probs/logits)"
        )
    zero = jnp.zeros_like(p)
    dlog_p, dlog_q = (
        zero if isinstance(t, jax.custom_derivatives.SymbolicZero) else t for t in tangents[4:]
    )
    log_f, log_s = _log_cdf_pair_impl(k, n, p, q, log_p, log_q)
    # dP(X <= k)/dp = -(n - k) P(X = k) / q, and dp = p q dlogit with dlogit = dlog p - dlog q
    # (p, q and their logs all come from the one parameter).
    dlogit = dlog_p - dlog_q
    log_g = jnp.log(n - k) + log_p + log_binomial_pmf(k, n, p, q, log_p, log_q)
    d_f = -jnp.exp(jnp.where(log_f > -jnp.inf, log_g - log_f, -jnp.inf)) * dlogit
    d_s = jnp.exp(jnp.where(log_s > -jnp.inf, log_g - log_s, -jnp.inf)) * dlogit
    return (log_f, log_s), (d_f, d_s)


_log_cdf_pair_impl.defjvp(_log_cdf_pair_jvp, symbolic_zeros=True)
# Compiled once per shape and dtype (the while_loops would be recompiled at each eager call).
_log_cdf_pair = jax.jit(_log_cdf_pair_impl)


@jax.jit
def _sample_binomial(key, n, p, q, log_p, log_q):
    """Exact draws for integer-valued ``n``: the rarer outcome (probability ``min(p, q)``) is
    sampled by waiting times when its mean is below 10, else by BTRS, then flipped back."""
    flip = p > 0.5
    p1, q1 = jnp.where(flip, q, p), jnp.where(flip, p, q)
    log_p1, log_q1 = jnp.where(flip, log_q, log_p), jnp.where(flip, log_p, log_q)
    small = n * p1 < _INVERSION_BELOW
    key_small, key_large = jax.random.split(key)
    k_small = _sample_inversion(key_small, n, log_q1, small)
    k_large = _sample_btrs(key_large, n, p1, q1, log_p1, log_q1, ~small)
    k = jnp.where(small, k_small, k_large)
    return jnp.where(flip, to_count(n, k.dtype) - k, k)


@functools.partial(jax.jit, static_argnums=2)
def summed_entropy(dist, start, width: int):
    """Exact entropy of a count distribution over the windows ``start + [0, width)``."""

    def log_prob(k):
        return dist._mask_support(k, dist._log_prob(k))

    return entropy_by_summation(log_prob, start, width)


def entropy_window_width(width: int) -> int:
    """``width`` rounded up (to 1/8 of a power of two) so that few sizes get compiled."""
    step = max(1, (1 << max(int(width) - 1, 1).bit_length()) // 8)
    return -(-int(width) // step) * step


class Binomial(LogTailPair, ProbsLogitsMixin, Distribution):
    """Binomial distribution: successes among ``total_count`` independent trials with success
    probability ``probs``.

    ``P(X = k) = C(n, k) p^k (1 - p)^(n - k)`` for ``k = 0, ..., n``. ``total_count`` (a
    nonnegative integer, float or int array, default 1) broadcasts with exactly one of
    ``probs``/``logits`` to ``batch_shape``. Samples are integer counts (int32, int64 under
    x64; ``total_count`` must stay below 2^31 in int32 mode) from exact samplers.
    ``log_prob`` keeps full relative accuracy up to ``total_count`` 1e9, for logits of ±100
    and probabilities of 1e-8; the CDFs sum the smaller tail (``O(sqrt(n p q))`` steps) and
    are differentiable with respect to ``probs``/``logits``, not ``total_count``. There is
    no closed-form entropy: ``entropy()`` sums ``-p log p`` over the support when
    ``total_count`` is concrete (not traced) and the sum is small enough, else raises
    ``NotImplementedError``; ``enumerate_support`` needs one concrete ``total_count``.

    Example:
        >>> d = jdist.Binomial(total_count=10, probs=jnp.array([0.2, 0.7]))
        >>> k = d.sample(jax.random.key(0), (3,))     # int32, shape (3, 2)
        >>> d.log_prob(k).shape
        (3, 2)
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True
    _is_binary = True

    def __init__(
        self, total_count=1, probs=None, logits=None, *, validate_args: bool = False
    ) -> None:
        params = {"total_count": total_count, **probs_or_logits("Binomial", probs, logits)}
        super().__init__(params, validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    def _n(self):
        return jnp.asarray(self.total_count, self.dtype)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        p, q, log_p, log_q = (jnp.broadcast_to(x, shape) for x in _log_p_q(self))
        n = jnp.broadcast_to(jnp.floor(self._n()), shape)
        return _sample_binomial(key, n, p, q, log_p, log_q)

    def _log_prob(self, value):
        value = jnp.asarray(value, self.dtype)
        n = self._n()
        # Out-of-support values are masked to -inf by the base; keep them finite here.
        k = jnp.where(value > n, n, jnp.where(value < 0, 0.0, value))
        return log_binomial_pmf(k, n, *_log_p_q(self))

    def _log_cdf_pair(self, value):
        k = jax.lax.stop_gradient(jnp.floor(jnp.asarray(value, self.dtype)))
        n = self._n()
        args = jnp.broadcast_arrays(k, n, *_log_p_q(self))
        k, n = args[0], args[1]
        below, above = k < 0, k >= n
        inside = jnp.where(below | above, 0.0, k)
        n_inside = jnp.where(below | above, 1.0, n)
        log_f, log_s = _log_cdf_pair(inside, n_inside, *args[2:])
        log_f = jnp.where(below, -jnp.inf, jnp.where(above, 0.0, log_f))
        log_s = jnp.where(below, 0.0, jnp.where(above, -jnp.inf, log_s))
        return log_f, log_s

    def _mean(self):
        return self._n() * self.probs

    def _mode(self):
        n = self._n()
        return jnp.minimum(jnp.floor((n + 1.0) * self.probs), n)

    def _variance(self):
        p, q, _, _ = _log_p_q(self)
        return self._n() * p * q

    def _enumerate_support(self):
        if not _is_concrete(self.total_count):
            raise ValueError(
                "Binomial.enumerate_support needs a concrete total_count (the support size "
                "is a shape), but total_count is traced (inside jit/vmap/grad)"
            )
        n = np.unique(np.asarray(self.total_count))
        if n.size != 1:
            raise ValueError(
                "Binomial.enumerate_support needs the same total_count for every batch "
                f"element (like torch); got total_count values {n}"
            )
        size = int(n[0]) + 1
        values = jnp.arange(size, dtype=count_dtype())
        return values.reshape((size,) + (1,) * len(self.batch_shape))

    def _entropy(self):
        if not _is_concrete(self.total_count):
            raise NotImplementedError(
                "Binomial has no closed-form entropy: it is summed over the support, whose "
                "size must be concrete, but total_count is traced (inside jit/vmap/grad); "
                "compute the entropy outside the transformation or close over total_count"
            )
        n = np.broadcast_to(np.asarray(self.total_count, np.float64), self.batch_shape)
        if _is_concrete(self._raw):
            p = np.broadcast_to(np.asarray(self.probs, np.float64), self.batch_shape)
            start, width = _binomial_window(n, p)
        else:  # traced probs: the whole support
            start, width = np.zeros(n.shape, np.int64), int(np.max(n, initial=0)) + 1
        batch = int(np.prod(self.batch_shape, dtype=np.int64))
        if width * batch > ENTROPY_MAX_TERMS:
            raise NotImplementedError(
                f"Binomial has no closed-form entropy; it is summed exactly over the "
                f"support, here {width} values for each of {batch} batch elements, more than "
                f"jdist.distributions.binomial.ENTROPY_MAX_TERMS = {ENTROPY_MAX_TERMS}"
            )

        start = jnp.asarray(start, count_dtype())
        return summed_entropy(self, start, entropy_window_width(width))


def _binomial_window(n, p):
    """``(start, width)``: integer windows holding all but ``exp(-50)`` of each mass, from the
    Chernoff bound ``P(|X - np| >= |k - np|) <= exp(-bd0(k, np) - bd0(n-k, nq))``."""
    q = 1.0 - p

    def rate(k):
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
            t2 = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * q)), 0.0)
        return np.nan_to_num(t1 + t2, nan=np.inf)

    mean = n * p
    lo = _bisect(rate, np.zeros_like(mean), mean)
    hi = _bisect(rate, n, mean)
    start = np.maximum(np.floor(lo) - 1, 0)
    stop = np.minimum(np.ceil(hi) + 1, n)
    return start.astype(np.int64), int(np.max(stop - start, initial=0)) + 1


def _bisect(rate, outer, inner, iterations: int = 64):
    """The point between ``inner`` (rate 0) and ``outer`` where the Chernoff rate crosses the
    threshold (``outer`` itself where it never does)."""
    far_ok = rate(outer) <= _CHERNOFF_LOG_TAIL
    a, b = inner.copy(), outer.copy()
    for _ in range(iterations):
        mid = 0.5 * (a + b)
        beyond = rate(mid) > _CHERNOFF_LOG_TAIL
        b = np.where(beyond, mid, b)
        a = np.where(beyond, a, mid)
    return np.where(far_ok, outer, b)
