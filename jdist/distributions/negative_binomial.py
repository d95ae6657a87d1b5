"""Negative binomial distribution (successes before ``total_count`` failures)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jdist import constraints
from jdist._math import (
    count_dtype,
    log1mexp,
    log_binomial_pmf,
    log_sum_decreasing,
)
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits
from jdist.distributions._tails import LogTailPair
from jdist.distributions.binomial import (
    _CHERNOFF_LOG_TAIL,
    ENTROPY_MAX_TERMS,
    _bisect,
    _log_p_q,
    entropy_window_width,
    summed_entropy,
)
from jdist.distributions.poisson import sample_poisson

__all__ = ["NegativeBinomial"]

# Tail sums longer than this fall back to quadrature of I_q(r, k + 1).
_TAIL_SUM_MAX_ITER = 1 << 22


class _ProbUnitHalfOpen(constraints.Constraint):
    """``0 <= p < 1``: at ``p = 1`` the failures never come."""

    def check(self, value):
        return (value >= 0) & (value < 1)

    def __repr__(self) -> str:
        return "in [0, 1)"


def _log_pmf(k, r, p, q, log_p, log_q):
    """``log(Γ(k + r) / (Γ(r) k!) p^k q^r)`` as ``r / (r + k)`` times the binomial mass of ``r``
    failures in ``r + k`` trials (Loader 2000, as R's dnbinom), for real ``r >= 0``."""
    r_pos = r > 0
    rs = jnp.where(r_pos, r, 1.0)
    n = rs + k
    inner = jnp.log(rs) - jnp.log(n) + log_binomial_pmf(rs, n, q, p, log_q, log_p)
    # r = 0: all mass at 0.
    return jnp.where(r_pos, inner, jnp.where(k == 0, 0.0, -jnp.inf))


@jax.jit
def _tail_sums(k, r, p, q, log_p, log_q):
    """``(log P(X <= k), log P(X > k), slow)``, each tail summed outward from ``k``; ``slow``
    marks lanes that would need more than ``_TAIL_SUM_MAX_ITER`` terms (spread
    ``sqrt(r p) / q`` beyond ~5e5)."""
    lower = k + 1.0 <= r * p / q
    k_lo = jnp.where(lower, k, 0.0)

    def down(i):  # P(k - i) / P(k - i + 1) = j / ((j - 1 + r) p) with j = k - i + 1
        j = k_lo - i + 1.0
        return jnp.where(j > 0, j / jnp.where(j > 0, (j - 1.0 + r) * p, 1.0), 0.0)

    log_f, ok_f = log_sum_decreasing(
        _log_pmf(k_lo, r, p, q, log_p, log_q),
        down,
        lower,
        _TAIL_SUM_MAX_ITER,
        log_term=lambda i: _log_pmf(jnp.maximum(k_lo - i, 0.0), r, p, q, log_p, log_q),
    )
    k_up = jnp.where(lower, 0.0, k) + 1.0

    def up(i):  # P(j + 1) / P(j) = (j + r) p / (j + 1) with j = k + i
        return (k_up + i - 1.0 + r) * p / (k_up + i)

    log_s, ok_s = log_sum_decreasing(
        _log_pmf(k_up, r, p, q, log_p, log_q),
        up,
        ~lower,
        _TAIL_SUM_MAX_ITER,
        ratio_bound=lambda i: jnp.maximum(up(i), p),  # ratios tend to p (from below if r < 1)
        log_term=lambda i: _log_pmf(k_up + i, r, p, q, log_p, log_q),
    )
    tail_f = jnp.where(lower, log_f, log1mexp(-log_s))
    tail_s = jnp.where(lower, log1mexp(-log_f), log_s)
    return tail_f, tail_s, jnp.where(lower, ~ok_f, ~ok_s)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_LOG_CUTOFF = 45.0  # the integrand is cut where it falls below exp(-45) of its value at q


@jax.jit
def _beta_tail_quadrature(k, r, p, q, log_p, log_q, lower):
    """``log P(X <= k)`` (``lower``) or ``log P(X > k)`` as the Beta(r, k + 1) integral below
    or above ``q`` (``P(X <= k) = I_q(r, k + 1)``), by 64-point Gauss–Legendre quadrature,
    for masses too wide for tail sums. With ``t = q e^(∓u)`` the integrand relative to its
    value at ``t = q`` is ``exp(h(u))``,

        lower: h(u) = -r u + k log1p(q (1 - e^-u) / p),
        upper: h(u) =  r u + k log1p(-q (e^u - 1) / p),

    smooth and decreasing beyond its peak (at ``u = 0`` in the tail). It is integrated up to
    where ``h = -45`` (bisection), which resolves both of its scales, ``1/r`` and ``1/(k q)``."""
    sign = jnp.where(lower, -1.0, 1.0)

    def h(u, k=k, r=r, p=p, q=q, lower=lower, sign=sign):
        inner = jnp.where(lower, -jnp.expm1(-u), -jnp.expm1(u)) * q / p
        return sign * r * u + k * jnp.log1p(jnp.maximum(inner, -1.0))

    top = jnp.where(lower, (_LOG_CUTOFF + 1.0 + k * q / p) / r, -log_q)
    lo, hi = jnp.zeros_like(top), top
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        inside = h(mid) > -_LOG_CUTOFF
        lo, hi = jnp.where(inside, mid, lo), jnp.where(inside, hi, mid)
    nodes = jnp.asarray(0.5 * (_GL_NODES + 1.0), q.dtype)
    weights = jnp.asarray(0.5 * _GL_WEIGHTS, q.dtype)
    expand = [x[..., None] for x in (k, r, p, q, lower, sign)]
    values = h(hi[..., None] * nodes, *expand)
    log_integral = jax.nn.logsumexp(values, axis=-1, b=weights) + jnp.log(hi)
    # log(q β(q)) for the Beta(r, k + 1) density β: r log q + k log p - log B(r, k + 1).
    n = r + k + 1.0
    log_front = log_binomial_pmf(r, n, q, p, log_q, log_p)
    log_at_q = jnp.log(k + 1.0) - jnp.log(n) + log_front - log_p + jnp.log(r)
    return log_at_q + log_integral


@jax.custom_jvp
def _log_cdf_pair(k, r, p, q, log_p, log_q):
    """``(log P(X <= k), log P(X > k))`` for integer-valued ``k >= 0``, ``r > 0``, ``p > 0``:
    tail sums, and quadrature of ``I_q(r, k + 1)`` on lanes whose tail sum is too long.
    Called eagerly, the quadrature is only compiled and run when some lane needs it."""
    tail_f, tail_s, slow = _tail_sums(k, r, p, q, log_p, log_q)
    if not isinstance(slow, jax.core.Tracer) and not bool(jnp.any(slow)):
        return tail_f, tail_s
    lower = k + 1.0 <= r * p / q
    log_tail = _beta_tail_quadrature(k, r, p, q, log_p, log_q, lower)
    quad_f = jnp.where(lower, log_tail, log1mexp(-log_tail))
    quad_s = jnp.where(lower, log1mexp(-log_tail), log_tail)
    return jnp.where(slow, quad_f, tail_f), jnp.where(slow, quad_s, tail_s)


def _log_cdf_pair_jvp(primals, tangents):
    k, r, p, q, log_p, log_q = primals
    symbolic_zero = jax.custom_derivatives.SymbolicZero
    if not isinstance(tangents[1], symbolic_zero):
        raise NotImplementedError(
            "NegativeBinomial CDFs are not differentiable with respect to total_count; apply "
            "jax.lax.stop_gradient to it (or differentiate with respect to probs/logits)"
        )
    zero = jnp.zeros_like(p)
    dlog_p, dlog_q = (zero if isinstance(t, symbolic_zero) else t for t in tangents[4:])
    log_f, log_s = _log_cdf_pair(k, r, p, q, log_p, log_q)
    # P(X <= k) = I_q(r, k + 1): dP/dlogit = -(r + k) p P(X = k), dlogit = dlog p - dlog q.
    log_g = jnp.log(r + k) + log_p + _log_pmf(k, r, p, q, log_p, log_q)
    dlogit = dlog_p - dlog_q
    d_f = -jnp.exp(jnp.where(log_f > -jnp.inf, log_g - log_f, -jnp.inf)) * dlogit
    d_s = jnp.exp(jnp.where(log_s > -jnp.inf, log_g - log_s, -jnp.inf)) * dlogit
    return (log_f, log_s), (d_f, d_s)


_log_cdf_pair.defjvp(_log_cdf_pair_jvp, symbolic_zeros=True)


class NegativeBinomial(LogTailPair, ProbsLogitsMixin, Distribution):
    """Negative binomial distribution: the number of successes before ``total_count``
    failures in independent trials with success probability ``probs`` (torch's convention;
    scipy's ``nbinom(n, p)`` is this with ``n = total_count``, ``p = 1 - probs``).

    ``P(X = k) = Γ(k + r) / (Γ(r) k!) p^k (1 - p)^r`` for ``k = 0, 1, ...``, ``r =
    total_count >= 0`` (real), ``p`` in ``[0, 1)``. ``total_count`` broadcasts with exactly one
    of ``probs``/``logits`` to ``batch_shape``. Samples are integer counts (int32, int64 under
    x64; saturating at the dtype's maximum) drawn as Poisson(Gamma(r) p / (1 - p)).
    ``log_prob`` keeps full relative accuracy for ``total_count`` from 1e-3 to 1e6 and logits
    of ±30; the CDFs sum the smaller tail (quadrature for very wide masses) and are
    differentiable with respect to ``probs``/``logits``, not ``total_count``. ``entropy()``
    is an exact sum over the support where the parameters are concrete (not traced) and the
    sum is small enough, else ``NotImplementedError`` (torch has none).

    Example:
        >>> d = jdist.NegativeBinomial(total_count=5.0, probs=jnp.array([0.3, 0.9]))
        >>> k = d.sample(jax.random.key(0), (3,))   # int32, shape (3, 2)
        >>> d.log_prob(k).shape
        (3, 2)
    """

    arg_constraints = {
        "total_count": constraints.nonnegative,
        "probs": _ProbUnitHalfOpen(),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer
    _is_binary = True

    def __init__(
        self, total_count, probs=None, logits=None, *, validate_args: bool = False
    ) -> None:
        params = {"total_count": total_count, **probs_or_logits("NegativeBinomial", probs, logits)}
        super().__init__(params, validate_args=validate_args)

    def _r(self):
        return jnp.asarray(self.total_count, self.dtype)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        _, _, log_p, log_q = _log_p_q(self)
        r = jnp.broadcast_to(self._r(), shape)
        key_gamma, key_poisson = jax.random.split(key)
        log_gamma = jax.random.loggamma(key_gamma, jnp.where(r > 0, r, 1.0), shape, self.dtype)
        rate = jnp.where(r > 0, jnp.exp(log_gamma + log_p - log_q), 0.0)
        return sample_poisson(key_poisson, rate)

    def _log_prob(self, value):
        value = jnp.asarray(value, self.dtype)
        ok = (value >= 0) & (value < jnp.inf)  # +inf passes the support check: -inf here
        return jnp.where(
            ok, _log_pmf(jnp.where(ok, value, 0.0), self._r(), *_log_p_q(self)), -jnp.inf
        )

    def _log_cdf_pair(self, value):
        k = jax.lax.stop_gradient(jnp.floor(jnp.asarray(value, self.dtype)))
        args = jnp.broadcast_arrays(k, self._r(), *_log_p_q(self))
        k, r, p = args[0], args[1], args[2]
        below = k < 0
        point = (r <= 0) | (p <= 0)  # all mass at 0
        use = ~below & ~point
        safe = [jnp.where(use, v, s) for v, s in zip(args, (0.0, 1.0, 0.5, 0.5), strict=False)]
        safe += [jnp.where(use, v, -0.6931471805599453) for v in args[4:]]
        log_f, log_s = _log_cdf_pair(*safe)
        log_f = jnp.where(below, -jnp.inf, jnp.where(point, 0.0, log_f))
        log_s = jnp.where(below, 0.0, jnp.where(point, -jnp.inf, log_s))
        return log_f, log_s

    def _odds(self):
        """``p / (1 - p)``."""
        if self._given_logits:
            return jnp.exp(jnp.asarray(self._logits, self.dtype))
        p = jnp.asarray(self._probs, self.dtype)
        return p / (1.0 - p)

    def _mean(self):
        return self._r() * self._odds()

    def _mode(self):
        return jnp.maximum(jnp.floor((self._r() - 1.0) * self._odds()), 0.0)

    def _variance(self):
        _, q, _, _ = _log_p_q(self)
        return self._r() * self._odds() / q

    def _entropy(self):
        leaves = (self.total_count, self._raw)
        if not all(not isinstance(x, jax.core.Tracer) for x in leaves):
            raise NotImplementedError(
                "NegativeBinomial has no closed-form entropy: it is summed over the support "
                "window holding the mass, which needs concrete parameters, but they are traced "
                "(inside jit/vmap/grad); compute the entropy outside the transformation"
            )
        r = np.broadcast_to(np.asarray(self.total_count, np.float64), self.batch_shape)
        p = np.broadcast_to(np.asarray(self.probs, np.float64), self.batch_shape)
        start, width = _window(r, p)
        batch = int(np.prod(self.batch_shape, dtype=np.int64))
        if width * batch > ENTROPY_MAX_TERMS:
            raise NotImplementedError(
                f"NegativeBinomial has no closed-form entropy; it is summed exactly over the "
                f"support window holding the mass, here {width} values for each of {batch} "
                f"batch elements, more than jdist.distributions.binomial.ENTROPY_MAX_TERMS = "
                f"{ENTROPY_MAX_TERMS}"
            )

        start = jnp.asarray(start, count_dtype())
        return summed_entropy(self, start, entropy_window_width(width))


def _window(r, p):
    """``(start, width)``: windows holding all but ``exp(-50)`` of each mass, from the
    Chernoff bound ``P(X >= k) <= exp(-bd0(k, (k + r) p) - bd0(r, (k + r) q))`` for ``k`` above
    the mean (and its mirror below)."""
    q = 1.0 - p

    def rate(k):
        n = k + r
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(k > 0, k * np.log(k / (n * p)) + n * p - k, n * p)
            t2 = np.where(r > 0, r * np.log(r / (n * q)) + n * q - r, n * q)
        return np.nan_to_num(t1 + t2, nan=np.inf)

    mean = np.where(p > 0, r * p / q, 0.0)
    sd = np.sqrt(r * p) / q
    lo = _bisect(rate, np.zeros_like(mean), mean)
    outer = mean + 10.0 * sd + 10.0
    for _ in range(200):  # grow until the bound is crossed
        short = rate(outer) <= _CHERNOFF_LOG_TAIL
        if not np.any(short):
            break
        outer = np.where(short, 2.0 * outer, outer)
    hi = _bisect(rate, outer, mean)
    start = np.maximum(np.floor(lo) - 1, 0)
    stop = np.ceil(hi) + 1
    return start.astype(np.int64), int(np.max(stop - start, initial=0)) + 1
