"""Numerical helpers shared by several families (one place for each piece of math)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy import special

LOG_2PI = math.log(2.0 * math.pi)
HALF_LOG_2PI = 0.5 * LOG_2PI
SQRT_2 = math.sqrt(2.0)


def float_dtype(*values):
    """The floating dtype that arithmetic on ``values`` produces (float32 unless x64)."""
    dtype = jnp.result_type(*values) if values else jnp.result_type(float)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return dtype


def log_ndtr(x):
    """``log Φ(x)``, accurate in relative terms in both tails (see ``log_ndtr_accurate``)."""
    return log_ndtr_accurate(x)


def ndtri(p):
    """Inverse of the standard normal CDF."""
    return special.ndtri(p)


def xlogy(x, y):
    """``x * log(y)`` with ``0 * log(0) = 0`` and finite gradients where ``x == 0``."""
    safe_y = jnp.where(x == 0, jnp.ones_like(y), y)
    return jnp.where(x == 0, jnp.zeros_like(x * safe_y), x * jnp.log(safe_y))


def xlog1py(x, y):
    """``x * log1p(y)`` with ``0 * log1p(-1) = 0`` and finite gradients where ``x == 0``."""
    safe_y = jnp.where(x == 0, jnp.zeros_like(y), y)
    return jnp.where(x == 0, jnp.zeros_like(x * safe_y), x * jnp.log1p(safe_y))


def probs_to_logits(probs, *, is_binary: bool = False):
    """Logits from probabilities: ``log p`` (categorical) or ``log p - log1p(-p)`` (binary)."""
    if is_binary:
        return jnp.log(probs) - jnp.log1p(-probs)
    return jnp.log(probs)


def logits_to_probs(logits, *, is_binary: bool = False):
    """Probabilities from logits: ``sigmoid`` (binary) or ``softmax`` over the last axis."""
    if is_binary:
        return jax.nn.sigmoid(logits)
    return jax.nn.softmax(logits, axis=-1)


def log1mexp(x):
    """``log(1 - exp(-x))`` for ``x >= 0``, accurate for small and large ``x``.

    Uses ``log(-expm1(-x))`` below ``log 2`` and ``log1p(-exp(-x))`` above (Mächler 2012,
    "Accurately computing log(1 - exp(-|a|))", eq. 7); both branches are NaN-free for
    gradients (double where). ``log1mexp(inf) = 0``; ``log1mexp(0) = -inf`` with a zero
    gradient, so a clamped zero argument (e.g. a CDF below its support) never yields
    ``0 · inf = NaN`` in the chain rule.
    """
    log2 = math.log(2.0)
    small = x < log2
    pos = x > 0
    a = jnp.where(small & pos, x, log2)
    b = jnp.where(small, log2, x)
    out = jnp.where(small, jnp.log(-jnp.expm1(-a)), jnp.log1p(-jnp.exp(-b)))
    return jnp.where(pos, out, -jnp.inf)


# --------------------------------------------- Gamma / Beta numerics (Gamma, Beta, StudentT, ...)
# Stirling-type series: Abramowitz & Stegun 6.1.40 (log Γ) and 6.3.18 (ψ); coefficients are
# B_2k / (2k (2k - 1)) and B_2k / (2k). From x >= 10 the truncated series are exact to float64.
_STIRLING_COEFFS = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_DIGAMMA_COEFFS = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
_ASYMPTOTIC_FROM = 10.0
_EULER_GAMMA = 0.5772156649015329
# ζ(k), k = 2..18.
_ZETA = (
    1.6449340668482264,
    1.2020569031595942,
    1.0823232337111381,
    1.03692775514337,
    1.0173430619844492,
    1.008349277381923,
    1.0040773561979444,
    1.0020083928260821,
    1.000994575127818,
    1.0004941886041194,
    1.000246086553308,
    1.0001227133475785,
    1.0000612481350588,
    1.000030588236307,
    1.0000152822594086,
    1.0000076371976379,
    1.000003817293265,
)


def _horner(coeffs, z):
    out = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        out = out * z + c
    return out


def lgamma_stirling_remainder(x):
    """``s(x) = lgamma(x) - ((x - 1/2) log x - x + log(2π)/2)`` for ``x > 0`` (≈ 1/(12x) for
    large ``x``), without the cancellation of the direct difference."""
    big = x >= _ASYMPTOTIC_FROM
    r = 1.0 / jnp.where(big, x, _ASYMPTOTIC_FROM)
    series = r * _horner(_STIRLING_COEFFS, r * r)
    xs = jnp.where(big, 1.0, x)
    direct = special.gammaln(xs) - ((xs - 0.5) * jnp.log(xs) - xs + HALF_LOG_2PI)
    return jnp.where(big, series, direct)


def digamma_minus_log(x):
    """``ψ(x) - log x`` for ``x > 0`` (≈ -1/(2x) for large ``x``), without cancellation."""
    big = x >= _ASYMPTOTIC_FROM
    r = 1.0 / jnp.where(big, x, _ASYMPTOTIC_FROM)
    r2 = r * r
    series = -0.5 * r - r2 * _horner(_DIGAMMA_COEFFS, r2)
    xs = jnp.where(big, 1.0, x)
    return jnp.where(big, series, special.digamma(xs) - jnp.log(xs))


def log1pmx(x):
    """``log(1 + x) - x`` for ``x > -1``, accurate near 0 where it is ≈ -x²/2."""
    # For |x| < 1/2, with t = x / (2 + x): log1p(x) = 2 atanh(t) = 2 Σ t^(2k+1) / (2k+1) and
    # x - 2t = x t, so log1p(x) - x = -x t + 2 t³ Σ_k t^(2k) / (2k+3), with |t| <= 1/3.
    small = jnp.abs(x) < 0.5
    xs = jnp.where(small, x, 0.0)
    t = xs / (2.0 + xs)
    t2 = t * t
    near = -xs * t + 2.0 * t * t2 * _horner(tuple(1.0 / (2 * k + 3) for k in range(16)), t2)
    xf = jnp.where(small, 1.0, x)
    return jnp.where(small, near, jnp.log1p(xf) - xf)


def _log_t_minus_t_plus_1(log_t, t_minus_1):
    """``log t - (t - 1)`` (<= 0) from ``log t`` and ``t - 1``, accurate near ``t = 1``."""
    near = jnp.abs(t_minus_1) < 0.5
    far = log_t - jnp.where(near, 0.0, t_minus_1)
    far = jnp.where(t_minus_1 == jnp.inf, -jnp.inf, far)
    return jnp.where(near, log1pmx(jnp.where(near, t_minus_1, 0.0)), far)


def lbeta(a, b):
    """``log B(a, b)`` for ``a, b > 0``. ``jax.scipy.special.betaln`` has absolute errors of
    1e-7 in float64 (e.g. at (11, 0.3)); here: the lgamma sum below ``max(a, b) = 10``, above it
    Stirling's form ``(a - 1/2) log(a/n) + (b - 1/2) log(b/n) - log(n)/2 + log(2π)/2 + s(a) +
    s(b) - s(n)``, ``n = a + b``, with ``log(a/n) = -log1p(b/a)`` (no cancellation)."""
    big = jnp.maximum(a, b) >= _ASYMPTOTIC_FROM
    a_s, b_s = jnp.where(big, 1.0, a), jnp.where(big, 1.0, b)
    direct = special.gammaln(a_s) + special.gammaln(b_s) - special.gammaln(a_s + b_s)
    a_b, b_b = jnp.where(big, a, _ASYMPTOTIC_FROM), jnp.where(big, b, _ASYMPTOTIC_FROM)
    n = a_b + b_b
    s = lgamma_stirling_remainder
    stirling = (
        -(a_b - 0.5) * jnp.log1p(b_b / a_b)
        - (b_b - 0.5) * jnp.log1p(a_b / b_b)
        - 0.5 * jnp.log(n)
        + HALF_LOG_2PI
        + s(a_b)
        + s(b_b)
        - s(n)
    )
    return jnp.where(big, stirling, direct)


def gamma_log_kernel(a, x, log_x=None):
    """``a log x - x - lgamma(a)`` (log of ``x`` times the Gamma(a, 1) density) for ``a, x > 0``,
    accurate also for large ``a``, where the three terms nearly cancel.

    With Stirling's ``lgamma(a) = (a - 1/2) log a - a + log(2π)/2 + s(a)`` it is
    ``a (log t - t + 1) + log(a)/2 - log(2π)/2 - s(a)``, ``t = x/a`` (the "deviance" form of
    Loader 2000, "Fast and accurate computation of binomial probabilities"). ``log_x`` may be
    passed when ``x`` itself can underflow (e.g. ``x = β / value``).
    """
    log_a = jnp.log(a)
    log_x = jnp.log(x) if log_x is None else log_x
    d = _log_t_minus_t_plus_1(log_x - log_a, (x - a) / a)
    return a * d + 0.5 * log_a - HALF_LOG_2PI - lgamma_stirling_remainder(a)


def beta_log_kernel(a, b, x, y, log_x=None, log_y=None):
    """``a log x + b log y - log B(a, b)`` (log of ``x y`` times the Beta(a, b) density at ``x``)
    for ``a, b > 0``, ``x + y = 1``; ``y`` is passed separately so callers can form ``1 - x``
    without cancellation. Accurate also for large ``a``, ``b``; evaluated directly below
    ``a + b = 20``. ``log_x``/``log_y`` may be passed where ``x`` or ``y`` can underflow.

    With ``n = a + b``, ``p = a/n``, ``q = b/n``, ``D(t) = log t - t + 1`` and Stirling's series
    (as in :func:`gamma_log_kernel`) it is
    ``a D(x/p) + b D(y/q) + (log a + log b - log n)/2 - log(2π)/2 - s(a) - s(b) + s(n)``.
    """
    log_x = jnp.log(x) if log_x is None else log_x
    log_y = jnp.log(y) if log_y is None else log_y
    n = a + b
    log_a, log_b, log_n = jnp.log(a), jnp.log(b), jnp.log(n)
    p, q = a / n, b / n
    # x - p = q - y: take it from the smaller of x, y, whose absolute rounding error is smaller.
    x_small = x <= y
    x_minus_p = jnp.where(x_small, x - p, q - y)
    dx = _log_t_minus_t_plus_1(log_x - (log_a - log_n), x_minus_p / p)
    dy = _log_t_minus_t_plus_1(log_y - (log_b - log_n), -x_minus_p / q)
    s = lgamma_stirling_remainder
    stirling = a * dx + b * dy + 0.5 * (log_a + log_b - log_n) - HALF_LOG_2PI - s(a) - s(b) + s(n)
    # For small a + b the direct form has no cancellation and fewer roundings.
    small = n < 20.0
    direct = a * log_x + b * log_y - lbeta(a, b)
    return jnp.where(small, direct, stirling)


def _underflow_threshold(dtype):
    return math.sqrt(float(jnp.finfo(dtype).tiny))


_LOOP_STEPS = 1024  # series / continued-fraction steps: enough for shape parameters to ~1e4


def _lentz_guard(v, fpmin):
    return jnp.where(jnp.abs(v) < fpmin, fpmin, v)


def _fixed_loop(body, state, active, dtype):
    """Run ``body(i, state) -> (state, delta_ok)`` for ``i = 1.._LOOP_STEPS``, freezing each
    lane once ``delta_ok`` (its last update changed the result by < eps). Returns the final
    state and whether each active lane converged. A fixed trip count keeps it reverse-mode
    differentiable."""

    def step(i, carry):
        st, done = carry
        new, ok = body(jnp.asarray(i, dtype), st)
        st = jax.tree.map(lambda n, o: jnp.where(done, o, n), new, st)
        return st, done | ok

    state, done = jax.lax.fori_loop(1, _LOOP_STEPS + 1, step, (state, ~active))
    return state, done & active


def _lower_gamma_series(a, x, active):
    """``log P(a, x) = a log x - x - lgamma(a) + log Σ_n x^n / (a (a+1) ... (a+n))``
    (DLMF 8.7.1, Numerical Recipes 3rd ed. §6.2 ``gser``; the prefactor in Stirling form), and
    whether the series converged. Converges fast for ``x < a + 1``."""
    eps = float(jnp.finfo(x.dtype).eps)
    term0 = 1.0 / a

    def body(i, st):
        term, total = st
        term = term * x / (a + i)
        total = total + term
        return (term, total), jnp.abs(term) < jnp.abs(total) * eps

    (_, total), conv = _fixed_loop(body, (term0, term0), active, x.dtype)
    return gamma_log_kernel(a, x) + jnp.log(total), conv


def _upper_gamma_fraction(a, x, active):
    """``log Q(a, x) = a log x - x - lgamma(a) + log CF`` with Legendre's continued fraction
    ``CF = 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))`` evaluated by the modified Lentz
    method (Numerical Recipes 3rd ed. §6.2 ``gcf``), and whether it converged. Converges fast
    for ``x > a + 1``."""
    dtype = x.dtype
    eps = float(jnp.finfo(dtype).eps)
    fpmin = float(jnp.finfo(dtype).tiny) / eps
    b0 = x + 1.0 - a
    d0 = 1.0 / _lentz_guard(b0, fpmin)

    def body(i, st):
        b, c, d, h = st
        an = -i * (i - a)
        b = b + 2.0
        d = 1.0 / _lentz_guard(an * d + b, fpmin)
        c = _lentz_guard(b + an / c, fpmin)
        delta = d * c
        return (b, c, d, h * delta), jnp.abs(delta - 1.0) < eps

    init = (b0, jnp.full_like(x, 1.0 / fpmin), d0, d0)
    (_, _, _, h), conv = _fixed_loop(body, init, active, dtype)
    return gamma_log_kernel(a, x) + jnp.log(h), conv


def _lgamma1p(a):
    """``lgamma(1 + a)`` for ``a > 0``, accurate for small ``a`` where ``1 + a`` rounds:
    ``-γ a + Σ_{k>=2} (-1)^k ζ(k) a^k / k`` (A&S 6.1.33) below 0.1."""
    small = a < 0.1
    a_s = jnp.where(small, a, 0.0)
    series = 0.0
    for k in range(18, 1, -1):
        series = series * a_s + (-1.0) ** k * _ZETA[k - 2] / k
    series = a_s * (series * a_s - _EULER_GAMMA)
    return jnp.where(small, series, special.gammaln(1.0 + jnp.where(small, 1.0, a)))


def _gammaincc_small_a(a, x):
    """``Q(a, x)`` for ``a < 1``, ``0 < x < 1``, where ``1 - P`` loses relative accuracy as
    ``Q -> 0`` with ``a``: ``Q = -expm1(a log x - lgamma(1 + a)) - w a T``,
    ``w = x^a / Γ(1 + a)``, ``T = Σ_{n>=1} (-x)^n / (n! (a + n))``, from
    ``γ(a, x) = x^a Σ_n (-x)^n / (n! (a + n))`` (DLMF 8.7.1; the split of DiDonato & Morris
    1986, "Computation of the incomplete gamma function ratios and their inverse", §2)."""
    log_w = a * jnp.log(x) - _lgamma1p(a)
    term, total = jnp.ones_like(x), jnp.zeros_like(x)
    for n in range(1, 21):
        term = term * (-x) / n
        total = total + term / (a + n)
    return -jnp.expm1(log_w) - jnp.exp(log_w) * a * total


def gammainc_parts(a, x):
    """``(P, Q, log P, log Q)`` of the regularized incomplete gamma functions
    ``P(a, x) = γ(a, x) / Γ(a)`` and ``Q = 1 - P``, each with relative accuracy, also where
    it underflows or is near 1, for ``a > 0`` and any ``x`` (``P = 0`` for ``x <= 0``).

    The smaller of ``P`` and ``Q`` comes from the series (``x < a + 1``) or the continued
    fraction (``x >= a + 1``) with the prefactor ``a log x - x - lgamma(a)`` in Stirling form
    (``jax.scipy.special.gammainc``/``gammaincc`` form it directly and lose
    ``~eps (a |log x| + x)`` relative accuracy: 1e-3 at ``a = 1e4`` in float32), in log space,
    so it does not underflow; the larger is ``1 -`` it (``log1p``). For ``a, x < 1``, ``Q``
    uses the small-``a`` split. JAX's functions are the fallback where neither converges in
    1024 steps (shape parameters beyond ~1e5 near the bulk).
    """
    dtype = float_dtype(a, x)
    return _gammainc_parts(*jnp.broadcast_arrays(jnp.asarray(a, dtype), jnp.asarray(x, dtype)))


@jax.jit  # on broadcast arguments, so calls with the same shapes share one compilation
def _gammainc_parts(a, x):
    pos = (x > 0) & (x < jnp.inf)
    xs = jnp.where(pos, x, 1.0)
    lower = xs < a + 1.0
    log_p_ser, conv_p = _lower_gamma_series(a, jnp.where(lower, xs, 0.5 * a), pos & lower)
    log_q_cf, conv_q = _upper_gamma_fraction(a, jnp.where(lower, a + 2.0, xs), pos & ~lower)
    small = pos & (a < 1) & (xs < 1)
    q_small = _gammaincc_small_a(jnp.where(small, a, 0.5), jnp.where(small, xs, 0.5))
    fallback = pos & ~conv_p & ~conv_q & ~small
    xf = jnp.where(fallback, xs, a)
    p_jax, q_jax = special.gammainc(a, xf), special.gammaincc(a, xf)

    log_p = jnp.where(conv_p, log_p_ser, 0.0)
    log_q = jnp.where(conv_q, log_q_cf, 0.0)
    # The side given directly (P below, Q above), then the other side as 1 - it.
    p = jnp.where(conv_p, jnp.exp(log_p), -jnp.expm1(log_q))
    q = jnp.where(conv_p, -jnp.expm1(log_p), jnp.exp(log_q))
    log_p_out = jnp.where(conv_p, log_p, log1mexp(-log_q))
    log_q_out = jnp.where(conv_p, log1mexp(-log_p), log_q)
    # Small a: Q (and P = 1 - Q) from the DiDonato–Morris split.
    p = jnp.where(small & (q_small < 0.5), 1.0 - q_small, p)  # else P from the series
    q = jnp.where(small, q_small, q)
    # Where Q is near 1, log Q = log1p(-P) from the series P (set above) keeps P's accuracy.
    small_q = small & (q_small < 0.5)
    log_q_out = jnp.where(small_q, jnp.log(jnp.where(small_q, q_small, 1.0)), log_q_out)
    log_p_out = jnp.where(small & (q_small < 0.5), jnp.log1p(-q_small), log_p_out)
    # JAX fallback.
    safe_log = lambda v: jnp.log(jnp.where(v > 0, v, 1.0))  # noqa: E731
    p = jnp.where(fallback, p_jax, p)
    q = jnp.where(fallback, q_jax, q)
    log_p_f = jnp.where(q_jax < 0.5, jnp.log1p(-jnp.minimum(q_jax, 0.5)), safe_log(p_jax))
    log_q_f = jnp.where(p_jax < 0.5, jnp.log1p(-jnp.minimum(p_jax, 0.5)), safe_log(q_jax))
    log_p_out = jnp.where(fallback, jnp.where(p_jax > 0, log_p_f, -jnp.inf), log_p_out)
    log_q_out = jnp.where(fallback, jnp.where(q_jax > 0, log_q_f, -jnp.inf), log_q_out)

    below = x <= 0
    above = x == jnp.inf
    p = jnp.where(below, 0.0, jnp.where(above, 1.0, p))
    q = jnp.where(below, 1.0, jnp.where(above, 0.0, q))
    log_p_out = jnp.where(below, -jnp.inf, jnp.where(above, 0.0, log_p_out))
    log_q_out = jnp.where(below, 0.0, jnp.where(above, -jnp.inf, log_q_out))
    return p, q, log_p_out, log_q_out


def log_gammainc(a, x):
    """``log P(a, x)`` (see :func:`gammainc_parts`)."""
    return gammainc_parts(a, x)[2]


def log_gammaincc(a, x):
    """``log Q(a, x) = log(1 - P(a, x))`` (see :func:`gammainc_parts`)."""
    return gammainc_parts(a, x)[3]


def _beta_fraction(a, b, x, y, log_x, log_y, active):
    """``log I_x(a, b) = a log x + b log y - log B(a, b) - log a + log CF`` with the continued
    fraction of Numerical Recipes 3rd ed. §6.4 (``betacf``, modified Lentz), the prefactor in
    Stirling form, and whether it converged. Converges fast for ``x < (a + 1)/(a + b + 2)``."""
    dtype = x.dtype
    eps = float(jnp.finfo(dtype).eps)
    fpmin = float(jnp.finfo(dtype).tiny) / eps
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    d0 = 1.0 / _lentz_guard(1.0 - qab * x / qap, fpmin)

    def body(m, st):
        c, d, h = st
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / _lentz_guard(1.0 + aa * d, fpmin)
        c = _lentz_guard(1.0 + aa / c, fpmin)
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / _lentz_guard(1.0 + aa * d, fpmin)
        c = _lentz_guard(1.0 + aa / c, fpmin)
        delta = d * c
        return (c, d, h * delta), jnp.abs(delta - 1.0) < eps

    init = (jnp.ones_like(x), d0, d0)
    (_, _, h), conv = _fixed_loop(body, init, active, dtype)
    return beta_log_kernel(a, b, x, y, log_x, log_y) - jnp.log(a) + jnp.log(h), conv


def betainc_parts(a, b, x, y, log_x=None, log_y=None):
    """``(I, J, log I, log J)`` with ``I = I_x(a, b)`` the regularized incomplete beta function
    and ``J = 1 - I = I_y(b, a)``, given ``x`` and ``y = 1 - x`` separately (so ``1 - x`` is
    never formed), each with relative accuracy also where it underflows or is near 1.
    ``log_x``/``log_y`` may be passed when they are known more accurately than ``log(x)``
    (e.g. ``log1p(-x)`` for ``y = 1 - x`` rounded: for large ``b`` the result is sensitive to
    ``b log y``).

    The side with ``x <= (a + 1)/(a + b + 2)`` comes from the continued fraction with the
    prefactor ``a log x + b log y - log B(a, b)`` in Stirling form, in log space (JAX's
    ``betainc`` forms it, and ``1 - x``, directly and loses ``~eps (a + b)`` relative accuracy:
    4e-3 at ``a = b = 5000`` in float32); the other side is ``1 -`` it (``log1p``). JAX's
    ``betainc`` is the fallback where the fraction does not converge in 1024 steps (with no
    derivative w.r.t. ``a``, ``b`` there). In float32 the fraction, a product of up to a few
    hundred rounded factors for ``max(a, b)`` ~ 1e4, carries up to ~n·eps relative error
    (2.5e-4 measured for Beta(1e4, 0.7) in its lower tail); float64 stays below 1e-11.
    """
    dtype = float_dtype(a, b, x, y)
    x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
    log_x = jnp.log(x) if log_x is None else log_x
    log_y = jnp.log(y) if log_y is None else log_y
    args = jnp.broadcast_arrays(*(jnp.asarray(v, dtype) for v in (a, b, x, y, log_x, log_y)))
    return _betainc_parts(*args)


@jax.jit  # on broadcast arguments, so calls with the same shapes share one compilation
def _betainc_parts(a, b, x, y, log_x, log_y):
    inside = (x > 0) & (y > 0)
    xs, ys = jnp.where(inside, x, 0.5), jnp.where(inside, y, 0.5)
    log_xs = jnp.where(inside, log_x, -math.log(2.0))
    log_ys = jnp.where(inside, log_y, -math.log(2.0))
    flip = xs > (a + 1.0) / (a + b + 2.0)
    a1, b1 = jnp.where(flip, b, a), jnp.where(flip, a, b)
    x1, y1 = jnp.where(flip, ys, xs), jnp.where(flip, xs, ys)
    lx1, ly1 = jnp.where(flip, log_ys, log_xs), jnp.where(flip, log_xs, log_ys)
    log_s, conv = _beta_fraction(a1, b1, x1, y1, lx1, ly1, inside)
    fallback = inside & ~conv
    # JAX's betainc has no derivative w.r.t. a, b: the fallback lanes get none (zero) rather
    # than the whole function failing to differentiate; the fraction lanes have exact ones.
    a1_f, b1_f = jax.lax.stop_gradient(a1), jax.lax.stop_gradient(b1)
    v = special.betainc(a1_f, b1_f, jnp.where(fallback, x1, 0.5))
    log_s = jnp.where(conv, log_s, jnp.log(jnp.where(v > 0, v, 1.0)))
    log_s = jnp.where(conv | (v > 0), log_s, -jnp.inf)
    # s = I_{x1}(a1, b1) is the small side; o = 1 - s.
    s_val = jnp.where(conv, jnp.exp(jnp.where(conv, log_s, 0.0)), v)
    o_val = jnp.where(conv, -jnp.expm1(jnp.where(conv, log_s, -1.0)), 1.0 - v)
    log_o = jnp.where(conv, log1mexp(-jnp.where(conv, log_s, -1.0)), jnp.log1p(-v))
    i = jnp.where(flip, o_val, s_val)
    j = jnp.where(flip, s_val, o_val)
    log_i = jnp.where(flip, log_o, log_s)
    log_j = jnp.where(flip, log_s, log_o)
    zero_x, zero_y = (x <= 0) & ~(y <= 0), y <= 0
    i = jnp.where(zero_x, 0.0, jnp.where(zero_y, 1.0, i))
    j = jnp.where(zero_x, 1.0, jnp.where(zero_y, 0.0, j))
    log_i = jnp.where(zero_x, -jnp.inf, jnp.where(zero_y, 0.0, log_i))
    log_j = jnp.where(zero_x, 0.0, jnp.where(zero_y, -jnp.inf, log_j))
    return i, j, log_i, log_j


def betainc_xy(a, b, x, y):
    """``I_x(a, b)`` given ``x`` and ``y = 1 - x`` (see :func:`betainc_parts`)."""
    return betainc_parts(a, b, x, y)[0]


def log_betainc(a, b, x, y):
    """``log I_x(a, b)`` given ``x`` and ``y = 1 - x`` (see :func:`betainc_parts`)."""
    return betainc_parts(a, b, x, y)[2]


def log_ndtr_accurate(x):
    """``log Φ(x)`` with full relative accuracy for ``x > 0`` too, as ``log1p(-Φ(-x))``.

    ``jax.scipy.special.log_ndtr`` returns ``log(Φ(x))`` for moderate positive ``x``, whose
    relative error grows like ``eps / (1 - Φ(x))`` (7% at ``x = 8`` in float64, 2e-5 at
    ``x = 3`` in float32); ``Φ(-x)`` is computed without cancellation, so ``log1p`` keeps
    every digit. Below 0 it is ``log_ndtr`` (asymptotic series far in the lower tail).
    """
    pos = x > 0
    x_pos = jnp.where(pos, x, 1.0)
    x_neg = jnp.where(pos, -1.0, x)
    return jnp.where(pos, jnp.log1p(-special.ndtr(-x_pos)), special.log_ndtr(x_neg))


@jax.custom_jvp
def _standardize(x, loc, scale):
    return (x - loc) / scale


@_standardize.defjvp
def _standardize_jvp(primals, tangents):
    x, loc, scale = primals
    dx, dloc, dscale = tangents
    z = _standardize(x, loc, scale)
    return z, (dx - dloc - z * dscale) / scale


def standardize(x, loc, scale):
    """``z = (x - loc) / scale`` with its derivatives written through ``z``:
    ``dz = (dx - dloc - z dscale) / scale``. JAX's rule for the quotient forms
    ``(x - loc) · scale⁻²``, which is ``0 · inf = NaN`` where ``scale²`` overflows its
    reciprocal (e.g. ``scale = 1e-20`` in float32) and ``x == loc``.
    """
    return _standardize_jit(x, loc, scale)


# An eager call of a custom_jvp function re-traces it (~150 µs); the jitted wrapper is
# cached (one ~6 µs dispatch, less than the two eager ops of the plain quotient), and
# inlined under an outer jit. jit also applies JAX's type promotion to the arguments.
_standardize_jit = jax.jit(_standardize)


def quantile_with_ends(q, interior, low, high):
    """A quantile function: ``interior(q)`` for ``0 < q < 1``, the support ends ``low`` at
    ``q <= 0`` and ``high`` at ``q >= 1``. ``interior`` only ever sees ``q`` in (0, 1), so an
    infinite end (``-log1p(-1)``, ``tan(π/2)``, ...) never meets a zero cotangent in the
    chain rule as ``0 · inf = NaN`` (double where)."""
    inside = (q > 0) & (q < 1)
    x = interior(jnp.where(inside, q, 0.5))
    return jnp.where(q <= 0, low, jnp.where(q >= 1, high, x))


# ---------------------------------- triangular linear algebra (MultivariateNormal, Wishart, ...)
def _solve_lower(tril, b):
    return jax.scipy.linalg.solve_triangular(tril, b, lower=True)


def tril_solve(tril, b):
    """``x`` with ``tril @ x = b``: lower-triangular ``tril`` of shape ``(..., n, n)``, vectors
    ``b`` of shape ``(..., n)``; forward substitution, never an explicit inverse.

    Batch dims broadcast; where ``tril`` is shared along a batch dim of ``b`` (size 1 or
    absent), that dim is folded into the columns of one solve rather than copied.
    """
    return jnp.vectorize(_solve_lower, signature="(n,n),(n)->(n)")(tril, b)


def matvec(a, x):
    """``a @ x`` for matrices ``(..., n, m)`` and vectors ``(..., m)``, with batch dims
    broadcast as in :func:`tril_solve` (a shared matrix is not copied along them)."""
    return jnp.vectorize(jnp.matmul, signature="(n,m),(m)->(n)")(a, x)


def log_float_max(dtype) -> float:
    """The largest ``t`` of ``dtype`` with ``exp(t)`` finite (one ulp below the rounded
    ``log(finfo.max)``, whose ``exp`` overflows); for saturating exponentials so that an
    overflowed result keeps a finite derivative (``0 · inf`` would be NaN)."""
    import numpy as np

    t = np.asarray(math.log(np.finfo(dtype).max), dtype)
    return float(np.nextafter(t, np.asarray(0, dtype)))


# ------------------------------------ Count numerics (Binomial, Poisson, NegativeBinomial, ...)
# Masses such as Poisson's k log λ - λ - log k! are differences of terms of size k log k; Loader
# (2000, "Fast and accurate computation of binomial probabilities") writes them through the
# Stirling remainder and the small "deviance" bd0 instead, keeping full relative accuracy for
# counts and rates of 1e9 and beyond, in float32 too. Tails are summed term by term.

_COUNT_MAX_ITER = 1 << 22  # tail sums take O(standard deviation) steps


def bd0(x, m, delta, log_m):
    """Loader's deviance ``x log(x/m) + m - x`` (>= 0) for ``x, m >= 0``.

    ``delta = x - m`` and ``log_m = log m`` are passed in, formed by the caller without
    cancellation (e.g. ``k q - (n - k) p`` for ``k - n p``, or ``log m`` from logits where ``m``
    underflows). Near ``x = m`` (``|v| < 0.1``, ``v = delta / (x + m)``) it is
    ``delta v + 2x Σ_{j>=1} v^(2j+1) / (2j+1)`` (Loader 2000, §2), else ``x log(x/m) - delta``
    with ``log(x/m) = log1p(delta / m)`` for ``m/2 < x < 2m``.
    """
    total = 2.0 * x - delta  # x + m, also where m underflows
    near = jnp.abs(delta) < 0.1 * total
    v = jnp.where(near, delta / jnp.where(near, total, 1.0), 0.0)
    v2 = v * v
    odd = _horner(tuple(1.0 / (2 * j + 3) for j in range(8)), v2)
    series = delta * v + 2.0 * x * v * v2 * odd
    use_log1p = (x < 2.0 * m) & (2.0 * x > m) & ~near
    ratio = jnp.where(use_log1p, delta / jnp.where(use_log1p, m, 1.0), 0.0)
    pos = x > 0
    x_pos = jnp.where(pos, x, 1.0)
    m_zero = log_m == -jnp.inf  # x > 0 at m = 0: +inf, with zero (not NaN) gradients
    log_m = jnp.where(m_zero, 0.0, log_m)
    log_ratio = jnp.where(use_log1p, jnp.log1p(ratio), jnp.log(x_pos) - log_m)
    direct = jnp.where(pos, x * jnp.where(pos, log_ratio, 0.0), 0.0) - delta
    direct = jnp.where(pos & m_zero, jnp.inf, direct)
    return jnp.where(near, series, direct)


def log_poisson_pmf(k, rate, delta=None):
    """``log(rate^k e^{-rate} / Γ(k + 1))`` for real ``k >= 0``, ``rate >= 0`` (Loader 2000,
    dpois_raw), accurate for large ``k`` and ``rate``; ``-inf`` for ``k > 0`` at ``rate == 0``
    (with finite gradients). ``delta = k - rate`` may be passed when ``k`` is not exactly
    representable (e.g. a float32 count beyond 2^24 formed as ``floor(rate) + offset``)."""
    pos = k > 0
    ks = jnp.where(pos, k, 1.0)
    delta = ks - rate if delta is None else jnp.where(pos, delta, 1.0 - rate)
    rate_pos = rate > 0
    log_rate = jnp.log(jnp.where(rate_pos, rate, 1.0))
    inner = -lgamma_stirling_remainder(ks) - bd0(ks, rate, delta, log_rate)
    inner = jnp.where(rate_pos, inner - 0.5 * (LOG_2PI + jnp.log(ks)), -jnp.inf)
    return jnp.where(pos, inner, -rate)


def count_dtype():
    """The integer dtype of count samples: int32, or int64 under ``jax_enable_x64``."""
    return jax.dtypes.canonicalize_dtype(int)


def to_count(x, dtype):
    """Integer-valued floats ``x >= 0`` as ``dtype``, saturating at its largest value."""
    top = jnp.iinfo(dtype).max
    return jnp.where(x >= float(top), top, jnp.where(x >= float(top), 0, x).astype(dtype))


def log_binomial_pmf(k, n, p, q, log_p, log_q, delta=None):
    """``log(Γ(n+1) / (Γ(k+1) Γ(n-k+1)) p^k q^(n-k))`` for real ``0 <= k <= n`` (Loader 2000,
    dbinom_raw), accurate for ``n`` up to 1e9 and beyond.

    ``q = 1 - p`` and both logs are passed separately (accurate from probs or from logits,
    also where ``p`` or ``q`` underflows). Exact at the edges ``k == 0`` (``n log q``) and
    ``k == n`` (``n log p``), with finite gradients there (double where) equal to those of
    the lgamma form, e.g. ``d/dn = ψ(n + 1) - ψ(1) + log q`` at ``k == n``. ``delta = k - n p``
    may be passed when ``k`` is not exactly representable (a float32 count beyond 2^24).
    """
    at_zero = k <= 0
    at_n = k >= n
    edge = at_zero | at_n
    ns = jnp.where(edge, 2.0, n)
    ks = jnp.where(edge, 1.0, k)
    rest = ns - ks
    if delta is None:  # k - n p, without cancellation whichever of p, q is small
        delta = ks * q - rest * p
    else:
        delta = jnp.where(edge, ks * q - rest * p, delta)
    log_n = jnp.log(ns)
    s = lgamma_stirling_remainder
    inner = (
        s(ns)
        - s(ks)
        - s(rest)
        - bd0(ks, ns * p, delta, log_n + log_p)
        - bd0(rest, ns * q, -delta, log_n + log_q)
        - 0.5 * (LOG_2PI + jnp.log(ks) + jnp.log(rest) - log_n)
    )
    pos = n > 0
    n_pos = jnp.where(pos, n, 1.0)
    # log p, log q may be -inf (p = 0 or 1): only the branch that is used may see them.
    lq, lp = jnp.where(pos & at_zero, log_q, 0.0), jnp.where(pos & at_n, log_p, 0.0)
    # ... and n log 0 = -inf must come with a zero, not a NaN (0 · inf), gradient.
    lq_ok, lp_ok = lq > -jnp.inf, lp > -jnp.inf
    lq, lp = jnp.where(lq_ok, lq, 0.0), jnp.where(lp_ok, lp, 0.0)
    zero_value = jnp.where(pos, jnp.where(lq_ok, n_pos * lq, -jnp.inf), 0.0)
    # (n - k) s vanishes at k == n but carries the derivatives of the lgamma form there:
    # s = d/dn [(n - k) log q + lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)] - log p
    #   = log q - log p + ψ(n + 1) - ψ(1). (lgamma differences are not exactly 0 at k == n
    # under XLA's fused code, and float32 lgamma(1) is not 0.)
    gap = n_pos - jnp.where(at_n & pos, k, n_pos)
    slope = jnp.where(pos & at_n, log_q, 0.0) - lp
    slope = jnp.where(jnp.isfinite(slope), slope, 0.0)  # p = 0 or 1: keep 0 · inf out
    slope = slope + special.digamma(n_pos + 1.0) + 0.5772156649015329
    n_value = jnp.where(pos, jnp.where(lp_ok, n_pos * lp + gap * slope, -jnp.inf), 0.0)
    return jnp.where(at_zero, zero_value, jnp.where(at_n, n_value, inner))


def _while_converged(body, state, done, max_iter):
    """Apply ``(state, done) = body(i, state)`` for ``i = 1, 2, ...`` on the lanes not yet
    ``done`` until all are, or ``max_iter`` steps; returns ``(state, done)``."""

    def cond(carry):
        i, _, done = carry
        return (i <= max_iter) & ~jnp.all(done)

    def step(carry):
        i, state, done = carry
        new_state, new_done = body(i, state)
        state = jax.tree.map(lambda new, old: jnp.where(done, old, new), new_state, state)
        return i + 1, state, done | new_done

    _, state, done = jax.lax.while_loop(cond, step, (jnp.ones((), jnp.int32), state, done))
    return state, done


def log_sum_decreasing(
    log_first, ratio, active, max_iter=_COUNT_MAX_ITER, ratio_bound=None, log_term=None
):
    """``(log Σ_{i>=0} t_i, converged)`` for ``t_0 = exp(log_first)``, ``t_i = t_{i-1} ratio(i)``
    with ratios decreasing in ``i`` (a tail of a unimodal mass, summed outward from its edge).

    Summed term by term (a ``while_loop``; Kahan-compensated) until a ratio is 0 or the
    geometric bound ``t r / (1 - r)`` on the rest is below half an ulp of the sum, at most
    ``max_iter`` terms. Where later ratios may be larger, ``ratio_bound(i)`` bounds all ratios
    after ``i`` instead of ``ratio(i)``. With ``log_term(i) = log t_i``, each term comes from it
    rather than from the running product, whose rounding errors add up over long sums (5e-5
    relative after 1e4 terms in float32). Inactive lanes are not iterated (sum ``log_first``).
    """
    dtype = log_first.dtype
    eps = jnp.finfo(dtype).eps

    def body(i, state):
        t, s, comp = state
        index = i.astype(dtype)
        r = ratio(index)
        if log_term is None:
            t = t * r
        else:  # a zero ratio ends a finite sum
            t = jnp.where(r > 0, jnp.exp(log_term(index) - log_first), 0.0)
        y = t - comp
        new_s = s + y
        comp = (new_s - s) - y
        rb = r if ratio_bound is None else ratio_bound(index)
        done = (t == 0) | ((rb < 1) & (t * rb < 0.5 * eps * new_s * (1 - rb)))
        return (t, new_s, comp), done

    one = jnp.ones_like(log_first)
    (_, s, _), done = _while_converged(body, (one, one, jnp.zeros_like(one)), ~active, max_iter)
    return log_first + jnp.log(s), done


def entropy_by_summation(log_prob, start, width: int):
    """``-Σ_k p(k) log p(k)`` over ``k = start + 0, ..., start + width - 1`` (``start`` has the
    batch shape): the exact entropy of a discrete mass negligible outside that window."""
    start = jnp.asarray(start)
    k = start + jnp.arange(width, dtype=start.dtype).reshape((width,) + (1,) * start.ndim)
    lp = log_prob(k)
    finite = lp > -jnp.inf
    lp_safe = jnp.where(finite, lp, 0.0)
    return -jnp.sum(jnp.where(finite, jnp.exp(lp_safe) * lp_safe, 0.0), axis=0)
