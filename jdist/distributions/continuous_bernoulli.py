"""Continuous Bernoulli distribution (Loaiza-Ganem & Cunningham 2019, "The continuous
Bernoulli: fixing a pervasive error in variational autoencoders", NeurIPS).

Everything is written in ``y = logits/2``: with ``λ = probs``, ``2λ - 1 = tanh(y)`` and
``log(λ/(1-λ)) = 2y``, so the normalizing constant is ``C = 2 y coth(y)``, the mean
``1/2 + L(y)/2`` and the variance ``(1/y² - 1/sinh² y)/4 = L'(y)/4``, where
``L(y) = coth(y) - 1/y`` is the Langevin function. Near ``λ = 1/2`` (``y -> 0``) these are
0/0 forms; inside torch's ``lims`` (default ``(0.499, 0.501)``) the same Taylor polynomials
in ``λ - 1/2`` as torch are used, and for ``|y| < 1/2`` outside them the Bernoulli-number
series of ``L`` (``L(y) = Σ_n 2^{2n} B_{2n} y^{2n-1} / (2n)!``, Abramowitz & Stegun 4.5.67),
where the direct differences would still lose up to ``log10(3/y²)`` digits. Logits of ±50
(``λ`` rounding to 0 or 1 in float32) stay exact because ``λ`` itself is never formed there.

The CDF ``F(x) = expm1(2xy)/expm1(2y)`` and its inverse are exact everywhere, including inside
``lims`` (torch returns the uniform ``F(x) = x`` there, which is off by up to ``|λ - 1/2|/2``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import quantile_with_ends
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits

__all__ = ["ContinuousBernoulli"]

_LOG_2 = math.log(2.0)
_SERIES_BELOW = 0.5  # |y| below which L(y) and L'(y) use the series (ratio (y/π)² < 0.026)


def _langevin_coeffs(n_terms: int) -> tuple[float, ...]:
    """``c_n`` with ``L(y) = Σ_{n>=1} c_n y^{2n-1}``: ``c_n = 2^{2n} B_{2n} / (2n)!``."""
    bern = [Fraction(1)]  # B_0, B_1, ... from Σ_{k<=m} binom(m+1, k) B_k = 0
    for m in range(1, 2 * n_terms + 1):
        bern.append(-sum(math.comb(m + 1, k) * bern[k] for k in range(m)) / (m + 1))
    return tuple(
        float(Fraction(4**n) * bern[2 * n] / math.factorial(2 * n)) for n in range(1, n_terms + 1)
    )


_L_COEFFS = _langevin_coeffs(12)  # 1/3, -1/45, 2/945, -1/4725, ...


def _horner(coeffs, z):
    out = 0.0
    for c in reversed(coeffs):
        out = out * z + c
    return out


def _langevin(y):
    """``(L(y), L'(y)) = (coth y - 1/y, 1/y² - 1/sinh² y)`` without cancellation near 0."""
    small = jnp.abs(y) < _SERIES_BELOW
    ys = jnp.where(small, y, 0.0)
    y2 = jnp.square(ys)
    series = ys * _horner(_L_COEFFS, y2)
    series_d = _horner(tuple((2 * n + 1) * c for n, c in enumerate(_L_COEFFS)), y2)
    yb = jnp.where(small, 1.0, y)
    e = jnp.exp(-2.0 * jnp.abs(yb))
    # 1/sinh² y = 4 e^{-2|y|} / (1 - e^{-2|y|})², free of overflow for large |y|.
    direct = 1.0 / jnp.tanh(yb) - 1.0 / yb
    direct_d = 1.0 / jnp.square(yb) - 4.0 * e / jnp.square(jnp.expm1(-2.0 * jnp.abs(yb)))
    return jnp.where(small, series, direct), jnp.where(small, series_d, direct_d)


def _log_cosh(y):
    """``log cosh y``: ``log1p(2 sinh²(y/2))`` below 1, ``|y| + log1p(e^{-2|y|}) - log 2`` above."""
    small = jnp.abs(y) < 1.0
    near = jnp.log1p(2.0 * jnp.square(jnp.sinh(0.5 * jnp.where(small, y, 0.0))))
    ya = jnp.abs(jnp.where(small, 1.0, y))
    return jnp.where(small, near, ya + jnp.log1p(jnp.exp(-2.0 * ya)) - _LOG_2)


def _cdf(x, eta):
    """``F(x; η) = expm1(x η) / expm1(η)`` on [0, 1] (η = logits), without overflow."""
    zero = jnp.abs(eta) < math.sqrt(jnp.finfo(eta.dtype).eps)
    pos = (eta > 0) & ~zero
    e = jnp.where(zero, 1.0, eta)
    # η > 0: divided through by e^η so nothing overflows.
    e_pos = jnp.where(pos, e, 1.0)
    e_neg = jnp.where(pos, -1.0, e)
    f_pos = jnp.exp(e_pos * (x - 1.0)) * jnp.expm1(-x * e_pos) / jnp.expm1(-e_pos)
    f_neg = jnp.expm1(x * e_neg) / jnp.expm1(e_neg)
    # Below sqrt(eps), F = x + x (x - 1) η / 2 to working precision (and keeps dF/dη).
    near = x + 0.5 * x * (x - 1.0) * jnp.where(zero, eta, 0.0)
    return jnp.where(zero, near, jnp.where(pos, f_pos, f_neg))


def _log_cdf_small(x, eta):
    """``log F(x; η)`` in log space, accurate where F underflows (used where F < 1/2):
    η > 0: η (x - 1) + log(1 - e^{-x η}) - log(1 - e^{-η}); η < 0: log(1 - e^{x η}) -
    log(1 - e^{η}). ``-inf`` at x = 0."""
    zero = jnp.abs(eta) < math.sqrt(jnp.finfo(eta.dtype).eps)
    pos = (eta > 0) & ~zero
    inside = x > 0
    xs = jnp.where(inside, x, 1.0)
    e_pos = jnp.where(pos, eta, 1.0)
    e_neg = jnp.where(pos | zero, -1.0, eta)
    log_pos = e_pos * (xs - 1.0) + jnp.log(-jnp.expm1(-xs * e_pos)) - jnp.log(-jnp.expm1(-e_pos))
    log_neg = jnp.log(-jnp.expm1(xs * e_neg)) - jnp.log(-jnp.expm1(e_neg))
    log_near = jnp.log(_cdf(xs, jnp.where(zero, eta, 0.0)))
    value = jnp.where(zero, log_near, jnp.where(pos, log_pos, log_neg))
    return jnp.where(inside, value, -jnp.inf)


def _log_tail(tail, other_tail, log_tail_small):
    """``log tail``: ``log1p(-other_tail)`` where the tail is near 1, else its log-space form."""
    big = tail > 0.5
    return jnp.where(big, jnp.log1p(-jnp.where(big, other_tail, 0.0)), log_tail_small)


class ContinuousBernoulli(ProbsLogitsMixin, Distribution):
    """Continuous Bernoulli distribution on [0, 1], given ``probs`` (λ) or ``logits``.

    ``p(x) = C(λ) λ^x (1 - λ)^(1 - x)`` for ``0 <= x <= 1``, with
    ``C(λ) = 2 atanh(1 - 2λ) / (1 - 2λ)`` (``C(1/2) = 2``). Exactly one of ``probs``/``logits``
    (shape ``batch_shape``). ``lims`` is torch's interval around ``λ = 1/2`` where the
    normalizer, mean and variance use their Taylor expansions: two Python floats, stored as
    static configuration (a setting of the numerics, not a parameter; it never batches).
    ``probs`` of exactly 0 or 1 are treated as the nearest representable interior values (torch
    clamps them likewise). ``rsample`` inverts the CDF. ``mode`` is 1 for λ > 1/2, else 0
    (at λ = 1/2 the density is flat and 0 is returned).

    Example:
        >>> d = jdist.ContinuousBernoulli(logits=jnp.array([-3.0, 0.0, 50.0]))
        >>> x = d.rsample(jax.random.key(0), (4,))   # (4, 3), in [0, 1]
        >>> d.log_prob(x).shape
        (4, 3)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _is_binary = True

    def __init__(
        self,
        probs=None,
        logits=None,
        lims: tuple[float, float] = (0.499, 0.501),
        *,
        validate_args: bool = False,
    ) -> None:
        super().__init__(
            probs_or_logits("ContinuousBernoulli", probs, logits),
            validate_args=validate_args,
            static={"lims": (float(lims[0]), float(lims[1]))},
        )

    # ------------------------------------------------------------ parameters
    def _half_logits(self):
        """``y = logits / 2``, finite also for ``probs`` of 0 or 1."""
        if self._given_logits:
            return 0.5 * jnp.asarray(self._logits, self.dtype)
        p = jnp.asarray(self._probs, self.dtype)
        finfo = jnp.finfo(self.dtype)
        p = jnp.clip(p, finfo.tiny, 1.0 - finfo.epsneg)
        # Near 1/2 the two logs cancel; atanh(2λ - 1) keeps the digits of λ - 1/2 there.
        mid = jnp.abs(p - 0.5) < 0.25
        return jnp.where(
            mid,
            jnp.arctanh(2.0 * jnp.where(mid, p, 0.5) - 1.0),
            0.5 * (jnp.log(p) - jnp.log1p(-p)),
        )

    def _taylor_region(self):
        """``(inside lims, λ - 1/2)`` (torch's ``_outside_unstable_region`` negated)."""
        if self._given_logits:
            p = jax.nn.sigmoid(jnp.asarray(self._logits, self.dtype))
            x = 0.5 * jnp.tanh(0.5 * jnp.asarray(self._logits, self.dtype))
        else:
            p = jnp.asarray(self._probs, self.dtype)
            x = p - 0.5
        inside = (p > self.lims[0]) & (p <= self.lims[1])
        return inside, jnp.where(inside, x, 0.0)

    def _log_normalizer_minus_log2(self):
        """``log C(λ) - log 2 = log(y coth y) = log1p(y L(y))`` (torch's Taylor inside lims)."""
        y = self._half_logits()
        lang, _ = _langevin(y)
        direct = jnp.log1p(y * lang)
        inside, x = self._taylor_region()
        x2 = jnp.square(x)
        taylor = (4.0 / 3.0 + 104.0 / 45.0 * x2) * x2
        return jnp.where(inside, taylor, direct)

    # ------------------------------------------------------------- densities
    def _log_prob(self, value):
        # log C + x η - softplus(η) with softplus(2y) = y + log 2 + log cosh y: every term is
        # small near λ = 1/2, where log p itself is (no O(1) terms cancel).
        value = jnp.asarray(value, self.dtype)
        y = self._half_logits()
        return self._log_normalizer_minus_log2() - _log_cosh(y) + (2.0 * value - 1.0) * y

    def _cdf(self, value):
        return _cdf(jnp.clip(jnp.asarray(value, self.dtype), 0.0, 1.0), 2.0 * self._half_logits())

    # 1 - X ~ ContinuousBernoulli(1 - λ), i.e. η -> -η: each tail is computed directly, so a
    # small survival probability is not lost in 1 - F.
    def _survival_function(self, value):
        x = jnp.clip(jnp.asarray(value, self.dtype), 0.0, 1.0)
        return _cdf(1.0 - x, -2.0 * self._half_logits())

    def _log_cdf(self, value):
        x = jnp.clip(jnp.asarray(value, self.dtype), 0.0, 1.0)
        eta = 2.0 * self._half_logits()
        return _log_tail(_cdf(x, eta), _cdf(1.0 - x, -eta), _log_cdf_small(x, eta))

    def _log_survival_function(self, value):
        x = jnp.clip(jnp.asarray(value, self.dtype), 0.0, 1.0)
        eta = 2.0 * self._half_logits()
        return _log_tail(_cdf(1.0 - x, -eta), _cdf(x, eta), _log_cdf_small(1.0 - x, -eta))

    def _icdf(self, value):
        u = jnp.asarray(value, self.dtype)
        eta = 2.0 * self._half_logits()

        def interior(u):
            zero = jnp.abs(eta) < math.sqrt(jnp.finfo(self.dtype).eps)
            pos = (eta > 0) & ~zero
            log_u, log_1mu = jnp.log(u), jnp.log1p(-u)
            # x = log1p(u expm1(η))/η. η > 0: log1p(u expm1(η)) = softplus(log u + log expm1 η),
            # log expm1(η) = η + log(-expm1(-η)); η < 0: log1p(t) for t = u expm1(η) > -1/2,
            # else log((1 - u) + u e^η) as a logaddexp (its value is then below -log 2).
            e_pos = jnp.where(pos, eta, 1.0)
            x_pos = jax.nn.softplus(log_u + e_pos + jnp.log(-jnp.expm1(-e_pos))) / e_pos
            e_neg = jnp.where(pos | zero, -1.0, eta)
            t = u * jnp.expm1(e_neg)
            near = t > -0.5
            log_mass = jnp.where(
                near,
                jnp.log1p(jnp.where(near, t, 0.0)),
                jnp.logaddexp(log_1mu, log_u + e_neg),
            )
            x_neg = log_mass / e_neg
            # Below sqrt(eps): x = u + u (1 - u) η / 2 (the inverse of F's expansion).
            near = u + 0.5 * u * (1.0 - u) * jnp.where(zero, eta, 0.0)
            return jnp.clip(jnp.where(zero, near, jnp.where(pos, x_pos, x_neg)), 0.0, 1.0)

        zero = jnp.zeros((), self.dtype)
        return quantile_with_ends(u, interior, zero, zero + 1.0)

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        return self._icdf(jax.random.uniform(key, shape, self.dtype))

    # ---------------------------------------------------------------- moments
    def _mean(self):
        lang, _ = _langevin(self._half_logits())
        inside, x = self._taylor_region()
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * jnp.square(x)) * x
        return jnp.where(inside, taylor, 0.5 + 0.5 * lang)

    def _mode(self):
        return (self._half_logits() > 0).astype(self.dtype)

    def _variance(self):
        _, lang_d = _langevin(self._half_logits())
        inside, x = self._taylor_region()
        x2 = jnp.square(x)
        # torch has "- 128/945 x²" here; the series of L'(y)/4 in x gives +128/945 (checked
        # in tests against 50-digit mpmath: torch's sign is off by 2.7e-13 at |x| = 1e-3).
        taylor = 1.0 / 12.0 - (1.0 / 15.0 + 128.0 / 945.0 * x2) * x2
        return jnp.where(inside, taylor, 0.25 * lang_d)

    def _entropy(self):
        # H = -log C - η E[x] + softplus(η) = log cosh y - y L(y) - log(1 + y L(y)).
        y = self._half_logits()
        lang, _ = _langevin(y)
        y_lang = y * lang  # y coth y - 1 >= 0
        small = jnp.abs(y) < 1.0
        near = _log_cosh(y) - y_lang - jnp.log1p(y_lang)
        # |y| >= 1: log cosh y - y coth y = log1p(e^{-2|y|}) - log 2 - 2|y| / expm1(2|y|).
        ya = jnp.abs(jnp.where(small, 1.0, y))
        e = jnp.exp(-2.0 * ya)
        far = (
            jnp.log1p(e)
            - _LOG_2
            + 2.0 * ya * e / jnp.expm1(-2.0 * ya)
            + 1.0
            - jnp.log1p(jnp.where(small, 0.0, y_lang))
        )
        return jnp.where(small, near, far)
