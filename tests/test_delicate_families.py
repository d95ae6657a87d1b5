"""VonMises, TruncatedNormal and ContinuousBernoulli: every member against high-precision
references, samplers (KS + moments) and reparameterization gradients.

References are the closed forms evaluated in 40-digit ``mpmath`` (the von Mises CDF by
quadrature): ``scipy.stats.vonmises.cdf`` uses a crude normal approximation from κ = 50 on
(errors up to 1e-4), ``scipy.stats.truncnorm`` loses the variance and entropy in the tails
(1e-7 to 1e-2, or NaN), and torch's ContinuousBernoulli clamps ``probs`` (logits ±50 behave
like ±36 in float64, ±16 in float32) and returns ``cdf(x) = x`` near λ = 1/2. The
``*_mpmath_reference_matches_*`` tests check those formulas against scipy/torch where the
latter are accurate. Tolerances are conftest's RTOL/ATOL (with ATOL absolute, for values
whose magnitude underflows the dtype or cancels to ~0); sampler checks come from
tests/stats_checks.py; Monte Carlo gradient checks allow 4 standard errors.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import torch
from scipy import stats

import jdist
from tests.conftest import ATOL, RTOL, assert_close, cast_like
from tests.stats_checks import ks_check, moments_check

DPS = 40
N = 20_000
PI = math.pi


def _mp_map(f, *arrays):
    """``f`` elementwise over broadcast float64 arrays, at DPS digits, as float64."""
    arrays = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in arrays))
    with mp.workdps(DPS):
        flat = zip(*(a.ravel() for a in arrays), strict=True)
        out = [float(f(*(mp.mpf(float(v)) for v in vals))) for vals in flat]
    return np.asarray(out, np.float64).reshape(arrays[0].shape)


def _members(d, x, *members, q=None, jit=True):
    """The moments, entropy and the named members at ``x`` (``icdf`` at ``q``). With ``jit``
    in one jitted call (one compilation instead of one per member); without, for families
    whose members already share module-level jitted kernels (TruncatedNormal)."""

    def run(d, x, q):
        out = {"mean": d.mean, "mode": d.mode, "variance": d.variance, "entropy": d.entropy()}
        out.update({m: getattr(d, m)(x) for m in members})
        if q is not None:
            out["icdf"] = d.icdf(q)
        return out

    out = jax.jit(run)(d, x, q) if jit else run(d, x, q)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def _jvps(f, primals):
    """``f(*primals)`` and its tangents w.r.t. each argument in turn (all-ones tangent for
    that argument, zeros for the others), from one linearization."""
    out, f_lin = jax.linearize(f, *primals)
    tangents = []
    for k in range(len(primals)):
        t = tuple(jnp.ones_like(p) if i == k else jnp.zeros_like(p) for i, p in enumerate(primals))
        tangents.append(np.asarray(f_lin(*t), np.float64))
    return np.asarray(out, np.float64), tangents


def _mc_check(per_sample, expected, what, dtype):
    """Monte Carlo mean of per-sample gradients within 4 standard errors of ``expected`` (plus
    ATOL: gradients like 1e-16 whose per-sample values are too heavy-tailed for the standard
    error to be estimated are negligible next to the O(1) ones)."""
    per_sample = np.asarray(per_sample, np.float64)
    mean = per_sample.mean(0)
    se = per_sample.std(0) / np.sqrt(per_sample.shape[0])
    assert np.all(np.abs(mean - expected) <= 4 * se + ATOL[dtype]), (
        what,
        mean,
        expected,
        se,
    )


# ====================================================================== VonMises
KAPPAS = np.array([1e-4, 0.5, 10.0, 1e3, 1e4])
VM_LOCS = np.array([0.3, -2.9])  # the second one puts the wrap point inside the bulk
VM_K = np.tile(KAPPAS, 2)
VM_LOC = np.repeat(VM_LOCS, len(KAPPAS))


def _vm_log_prob(x, loc, kappa):
    return kappa * (mp.cos(x - loc) - 1) - mp.log(2 * mp.pi * mp.besseli(0, kappa) * mp.exp(-kappa))


def _vm_ratio(kappa):
    return mp.besseli(1, kappa) / mp.besseli(0, kappa)


def _vm_entropy(kappa):
    return mp.log(2 * mp.pi * mp.besseli(0, kappa)) - kappa * _vm_ratio(kappa)


def _vm_cdf(x, loc, kappa, weight=None):
    """``∫_{-π}^x w(t) p(t) dt`` by quadrature, split around the (wrapped) mode."""
    if x <= -mp.pi:
        return mp.mpf(0)
    x = min(x, mp.pi)
    weight = weight or (lambda t: 1)
    width = 1 / mp.sqrt(kappa) if kappa > 1 else mp.mpf(1)
    mode = loc - 2 * mp.pi * mp.floor((loc + mp.pi) / (2 * mp.pi))
    cuts = {mode + k * width for k in range(-12, 13)} | {-mp.pi, x}
    nodes = sorted(c for c in cuts if -mp.pi <= c <= x)
    log_norm = mp.log(2 * mp.pi * mp.besseli(0, kappa))
    return mp.quad(lambda t: weight(t) * mp.exp(kappa * mp.cos(t - loc) - log_norm), nodes)


def _vm_points(dtype):
    """Points (9, K): the edges ±π and the mode ± multiples of min(1/√κ, 1), wrapped."""
    sigma = np.minimum(1 / np.sqrt(VM_K), 1.0)
    k = np.array([-4.0, -1.0, -0.2, 0.0, 0.5, 2.0, 5.0])[:, None]
    x = np.mod(VM_LOC + k * sigma + PI, 2 * PI) - PI
    x = np.concatenate([np.full((1, len(VM_K)), -PI), x, np.full((1, len(VM_K)), PI)])
    return np.clip(cast_like(x, dtype), -PI, PI)


def test_von_mises_against_references(dtype):
    kappa, loc = cast_like(VM_K, dtype), cast_like(VM_LOC, dtype)
    d = jdist.VonMises(jnp.asarray(loc, dtype), jnp.asarray(kappa, dtype))
    x = _vm_points(dtype)
    got = _members(d, jnp.asarray(x, dtype), "log_prob", "cdf")
    assert_close(got["log_prob"], _mp_map(_vm_log_prob, x, loc, kappa), dtype, what="log_prob")
    # The cdf of X in [-π, π): reference by quadrature from -π.
    assert_close(got["cdf"], _mp_map(_vm_cdf, x, loc, kappa), dtype, what="cdf")
    one_minus = _mp_map(lambda k: 1 - _vm_ratio(k), kappa)
    assert_close(got["variance"], one_minus, dtype, what="circular variance")
    assert_close(got["entropy"], _mp_map(_vm_entropy, kappa), dtype, what="entropy")
    assert_close(got["mean"], loc, dtype, what="mean")
    assert_close(got["mode"], loc, dtype, what="mode")
    with pytest.raises(NotImplementedError):
        d.icdf(jnp.asarray(0.5, dtype))
    # Outside [-π, π] the density is 0 (the support is the circle's representative).
    assert np.all(d.log_prob(jnp.asarray(4.0, dtype)) == -np.inf)


def test_von_mises_mpmath_reference_matches_scipy():
    """The mpmath formulas against scipy where scipy is accurate (κ < 50 for the cdf)."""
    k, loc = VM_K[VM_K < 50], VM_LOC[VM_K < 50]
    x = _vm_points(np.float64)[:, VM_K < 50]
    np.testing.assert_allclose(
        _mp_map(_vm_log_prob, x, loc, k), stats.vonmises.logpdf(x, k, loc=loc), rtol=1e-12
    )
    ref = stats.vonmises.cdf(x, k, loc=loc) - stats.vonmises.cdf(-PI, k, loc=loc)
    np.testing.assert_allclose(_mp_map(_vm_cdf, x, loc, k), ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(_mp_map(_vm_entropy, VM_K), stats.vonmises.entropy(VM_K), rtol=1e-10)


def test_von_mises_sampler_and_gradients(dtype):
    """Best-Fisher draws: KS and moments of cos(x - loc) for κ from 1e-4 to 1e4. Implicit
    reparameterization gradients: Monte Carlo d/dκ E[cos(x - loc)] = A'(κ) = 1 - A/κ - A²
    and d/dloc E[sin x] = A cos(loc) (A = I1/I0); per sample (float64), dx/dκ against
    -(∂F/∂κ)(z)/p(z) for the centred draw z = x - loc and the CDF F of VonMises(0, κ), ∂F/∂κ
    by central differences of scipy.stats.vonmises.cdf for κ < 50 (exact there) and by
    40-digit quadrature of ∫_{-π}^z (cos t - A) p(t) dt above (scipy approximates there)."""
    kappa, loc = cast_like(VM_K, dtype), cast_like(VM_LOC, dtype)
    params = (jnp.asarray(loc, dtype), jnp.asarray(kappa, dtype))
    x, (dx_dloc, dx_dkappa) = _jvps(
        lambda loc, k: jdist.VonMises(loc, k).rsample(jax.random.key(0), (N,)), params
    )
    assert np.all((x >= -PI) & (x < PI))
    for j in range(len(VM_K)):
        ref = stats.vonmises(kappa[j], loc=loc[j])
        ks_check(x[:, j], lambda v, ref=ref: ref.cdf(v) - ref.cdf(-PI))
    a = _mp_map(_vm_ratio, kappa)
    a_prime = _mp_map(lambda k: 1 - _vm_ratio(k) / k - _vm_ratio(k) ** 2, kappa)
    moments_check(np.cos(x - loc), a, a_prime)  # Var cos(x - loc) = 1 - A/κ - A² = A'
    _mc_check(-np.sin(x - loc) * dx_dkappa, a_prime, "dE[cos(x - loc)]/dκ", dtype)
    _mc_check(np.cos(x) * dx_dloc, a * np.cos(loc), "dE[sin x]/dloc", dtype)
    assert np.all(dx_dloc == 1) and np.all(np.isfinite(dx_dkappa))
    if dtype is not np.float64:
        return
    z, tangent = (np.mod(x[:4] - loc + PI, 2 * PI) - PI), dx_dkappa[:4]
    pdf = stats.vonmises.pdf(z, kappa)
    small = kappa < 50
    h = 1e-4 * np.maximum(kappa, 1e-2)
    dF = (stats.vonmises.cdf(z, kappa + h) - stats.vonmises.cdf(z, kappa - h)) / (2 * h)
    np.testing.assert_allclose(tangent[:, small], -dF[:, small] / pdf[:, small], rtol=1e-6)

    def dF_dkappa(z, kappa):
        a = _vm_ratio(kappa)
        return _vm_cdf(z, 0, kappa, weight=lambda t: mp.cos(t) - a)

    big = ~small
    expected = -_mp_map(dF_dkappa, z[:2, big], kappa[big]) / pdf[:2, big]
    np.testing.assert_allclose(tangent[:2, big], expected, rtol=1e-7)


# =============================================================== TruncatedNormal
TN = np.array(
    [  # loc, scale, low, high
        (0.0, 1.0, -1.0, 2.0),
        (0.0, 1.0, 8.0, 9.0),
        (0.0, 1.0, -40.0, -39.0),
        (0.0, 1.0, -np.inf, -30.0),
        (0.0, 1.0, 30.0, np.inf),
        (0.0, 1.0, -np.inf, np.inf),
        (1.0, 2.0, -3.0, np.inf),
        (0.0, 1.0, 8.0, 8.001),
        (0.0, 1.0, -1e-3, 1e-3),
        (-40.0, 1.0, 0.0, 1e-3),
        (0.0, 1.0, -0.1, 3.0),
        (5.0, 0.1, 5.5, 9.0),
        (0.0, 1.0, 0.0, np.inf),
        (0.0, 1.0, 1.9, 2.0),
        (3.0, 1e-3, -np.inf, 2.99),
    ]
).T
TN_FRACTIONS = np.array([0.0, 1e-3, 0.1, 0.5, 0.9, 0.999, 1.0])[:, None]
TN_Q = np.array([0.0, 1e-30, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-6, 1.0])[:, None]


def _tn_parts(loc, scale, low, high):
    a, b = (low - loc) / scale, (high - loc) / scale
    upper = a + b > 0  # the upper-tail form Φ(-a) - Φ(-b) there (no cancellation)
    mass = mp.ncdf(-a) - mp.ncdf(-b) if upper else mp.ncdf(b) - mp.ncdf(a)
    return a, b, upper, mass


def _tn_logpdf(x, loc, scale, low, high):
    if not low <= x <= high:
        return -mp.inf
    _, _, _, mass = _tn_parts(loc, scale, low, high)
    z = (x - loc) / scale
    return -z * z / 2 - mp.log(mp.sqrt(2 * mp.pi) * scale * mass)


def _tn_cdf(x, loc, scale, low, high, survival=False):
    a, b, upper, mass = _tn_parts(loc, scale, low, high)
    z = min(max((x - loc) / scale, a), b)
    if upper:
        lower, rest = mp.ncdf(-a) - mp.ncdf(-z), mp.ncdf(-z) - mp.ncdf(-b)
    else:
        lower, rest = mp.ncdf(z) - mp.ncdf(a), mp.ncdf(b) - mp.ncdf(z)
    return (rest if survival else lower) / mass


def _tn_log_cdf(x, loc, scale, low, high, survival=False):
    v = _tn_cdf(x, loc, scale, low, high, survival)
    if v > 0.5:
        return mp.log1p(-_tn_cdf(x, loc, scale, low, high, not survival))
    return mp.log(v) if v > 0 else -mp.inf


def _tn_moments(loc, scale, low, high):
    a, b, _, mass = _tn_parts(loc, scale, low, high)
    pa, pb = (mp.npdf(v) if mp.isfinite(v) else mp.mpf(0) for v in (a, b))
    apa, bpb = (v * mp.npdf(v) if mp.isfinite(v) else mp.mpf(0) for v in (a, b))
    m = (pa - pb) / mass
    var = 1 + (apa - bpb) / mass - m * m
    entropy = mp.log(mp.sqrt(2 * mp.pi * mp.e) * scale * mass) + (apa - bpb) / (2 * mass)
    return loc + scale * m, scale * scale * var, entropy


def _central_difference(f, k, p):
    """∂f/∂p_k by 40-digit central differences (step 1e-15 relative)."""
    h = mp.mpf(10) ** -15 * max(1, abs(p[k]))
    up, down = list(p), list(p)
    up[k] += h
    down[k] -= h
    return (f(*up) - f(*down)) / (2 * h)


def _tn_points(params, dtype):
    loc, scale, low, high = params
    far = np.where(np.isfinite(high), high - 5 * scale, loc - 5 * scale)
    lo = np.where(np.isfinite(low), low, far)
    hi = np.where(np.isfinite(high), high, lo + 5 * scale + np.maximum(loc - lo, 0))
    return cast_like(lo + TN_FRACTIONS * (hi - lo), dtype)


def test_truncated_normal_against_references(dtype):
    params = [cast_like(p, dtype) for p in TN]
    d = jdist.TruncatedNormal(*(jnp.asarray(p, dtype) for p in params))
    x = _tn_points(params, dtype)
    q = cast_like(TN_Q, dtype)
    members = ("log_prob", "cdf", "survival_function", "log_cdf", "log_survival_function")
    got = _members(d, jnp.asarray(x, dtype), *members, q=jnp.asarray(q, dtype), jit=False)
    assert_close(got["log_prob"], _mp_map(_tn_logpdf, x, *params), dtype, what="log_prob")
    cdf = _mp_map(_tn_cdf, x, *params)
    sf = _mp_map(lambda *v: _tn_cdf(*v, survival=True), x, *params)
    assert_close(got["cdf"], cdf, dtype, what="cdf")
    assert_close(got["survival_function"], sf, dtype, what="sf")
    log_cdf = _mp_map(_tn_log_cdf, x, *params)
    log_sf = _mp_map(lambda *v: _tn_log_cdf(*v, survival=True), x, *params)
    assert_close(got["log_cdf"], log_cdf, dtype, what="log_cdf")
    assert_close(got["log_survival_function"], log_sf, dtype, what="log_sf")
    moments = [_mp_map(lambda *v, i=i: _tn_moments(*v)[i], *params) for i in range(3)]
    assert_close(got["mean"], moments[0], dtype, what="mean")
    assert_close(got["variance"], moments[1], dtype, what="variance")
    assert_close(got["entropy"], moments[2], dtype, what="entropy")
    assert_close(got["mode"], np.clip(params[0], params[2], params[3]), dtype, what="mode")
    # icdf: exact ends at q = 0, 1; inside, the error in x implied by |F(x) - q| / p(x).
    xq = got["icdf"]
    np.testing.assert_array_equal(xq[0], params[2])
    np.testing.assert_array_equal(xq[-1], params[3])
    inner = xq[1:-1]
    assert np.all((inner >= params[2]) & (inner <= params[3]))
    back = _mp_map(_tn_cdf, inner, *params)
    dens = np.exp(_mp_map(_tn_logpdf, inner, *params))
    err = np.abs(back - q[1:-1]) / dens
    assert np.all(err <= RTOL[dtype] * np.abs(inner) + ATOL[dtype] * params[1]), err


def test_truncated_normal_mpmath_reference_matches_scipy():
    """The mpmath formulas against scipy.stats.truncnorm at ordinary windows (finite ones:
    scipy's entropy is NaN with an infinite end)."""
    params = [p[[0, 10, 13]] for p in TN]
    loc, scale, low, high = params
    ref = stats.truncnorm((low - loc) / scale, (high - loc) / scale, loc, scale)
    x = _tn_points(params, np.float64)[1:-1]
    np.testing.assert_allclose(_mp_map(_tn_logpdf, x, *params), ref.logpdf(x), rtol=1e-12)
    np.testing.assert_allclose(_mp_map(_tn_cdf, x, *params), ref.cdf(x), rtol=1e-11)
    # scipy's own moments cancel a little on the narrow [1.9, 2] window (2e-12 there).
    for i, member in enumerate((ref.mean, ref.var, ref.entropy)):
        np.testing.assert_allclose(
            _mp_map(lambda *v, i=i: _tn_moments(*v)[i], *params), member(), rtol=1e-10
        )


def test_truncated_normal_sampler_and_gradients(dtype):
    """Inverse-CDF draws: KS (in standard units, against scipy) and moments (of x - low, or
    high - x, which keeps the sample variance free of cancellation). Gradients w.r.t. loc,
    scale, low, high: Monte Carlo d/dθ E[x] = ∂mean/∂θ (40-digit central differences of the
    closed form), and per sample (float64) dx/dθ = -(∂F/∂θ)(x)/p(x)."""
    params = [cast_like(p, dtype) for p in TN]
    x, tangents = _jvps(
        lambda *p: jdist.TruncatedNormal(*p).rsample(jax.random.key(1), (N,)),
        tuple(jnp.asarray(p, dtype) for p in params),
    )
    loc, scale, low, high = params
    assert np.all((x >= low) & (x <= high))
    for j in range(len(loc)):
        ref = stats.truncnorm((low[j] - loc[j]) / scale[j], (high[j] - loc[j]) / scale[j])
        ks_check((x[:, j] - loc[j]) / scale[j], ref.cdf)
    mean, var, _ = (_mp_map(lambda *v, i=i: _tn_moments(*v)[i], *params) for i in range(3))
    end = np.where(np.isfinite(low), low, np.where(np.isfinite(high), high, loc))
    moments_check(x - end, mean - end, var)
    for k in range(4):
        finite = np.isfinite(params[k])
        assert np.all(np.isfinite(tangents[k])) and np.all(tangents[k][:, ~finite] == 0)
        dmean = _mp_map(
            lambda *p, k=k: _central_difference(lambda *v: _tn_moments(*v)[0], k, p), *params
        )
        _mc_check(tangents[k][:, finite], dmean[finite], f"dE[x]/dθ_{k}", dtype)
    if dtype is not np.float64:
        return
    xs = x[:3]
    dens = np.exp(_mp_map(_tn_logpdf, xs, *params))
    for k in range(4):
        finite = np.isfinite(params[k])
        d_cdf = _mp_map(
            lambda x, *p, k=k: _central_difference(lambda *v: _tn_cdf(x, *v), k, p), xs, *params
        )
        np.testing.assert_allclose(
            tangents[k][:3, finite], (-d_cdf / dens)[:, finite], rtol=1e-8, atol=1e-10
        )


def test_truncated_normal_gradients_finite_everywhere():
    """Gradients (reverse mode, which is where an untaken branch's 0 * inf would surface) of
    log_prob, log_cdf, log_sf and the moments w.r.t. every parameter at all the windows
    above (infinite ends, far tails, narrow windows), in one jitted float32 call. (cdf and
    survival_function are exp of log_cdf and log_sf; rsample's are checked above.)"""
    params = tuple(jnp.asarray(p, jnp.float32) for p in TN)
    x = jnp.asarray(_tn_points(TN, np.float32)[1:-1], jnp.float32)

    def total(*p):
        d = jdist.TruncatedNormal(*p)
        members = (d.log_prob(x), d.log_cdf(x), d.log_survival_function(x))
        return sum(jnp.sum(m) for m in members) + jnp.sum(d.mean + d.variance + d.entropy())

    for g in jax.jit(jax.grad(total, argnums=(0, 1, 2, 3)))(*params):
        assert np.all(np.isfinite(g))


# =========================================================== ContinuousBernoulli
CB_PROBS = np.array([1e-6, 0.01, 0.3, 0.4985, 0.4995, 0.5, 0.5003, 0.51, 0.9, 1 - 1e-6])
CB_LOGITS = np.array([-50.0, -10.0, -1e-3, -1e-5, 0.0, 2e-6, 0.3, 5.0, 50.0])
CB_X = np.array([0.0, 1e-6, 0.2, 0.5, 0.77, 1 - 1e-6, 1.0])[:, None]


def _cb_members(eta):
    """``(log C, mean, variance)`` in η = logit(λ) (Loaiza-Ganem & Cunningham 2019, §3)."""
    if eta == 0:
        return mp.log(2), mp.mpf(1) / 2, mp.mpf(1) / 12
    lam = 1 / (1 + mp.exp(-eta))
    log_c = mp.log(eta / (2 * lam - 1))
    mean = lam / (2 * lam - 1) - 1 / eta
    var = lam * (lam - 1) / (1 - 2 * lam) ** 2 + 1 / eta**2
    return log_c, mean, var


def _cb_cdf(x, eta):
    return mp.expm1(x * eta) / mp.expm1(eta) if eta else x


def _cb_reference(eta, x):
    """(log_prob, cdf, icdf, mean, variance, entropy) for logits ``eta`` (as mpf-able)."""

    def log_prob(x, e):
        return _cb_members(e)[0] + x * e - mp.log1p(mp.exp(e))

    def entropy(e):
        log_c, mean, _ = _cb_members(e)
        return -(log_c + mean * e - mp.log1p(mp.exp(e)))

    icdf = _mp_map(lambda u, e: mp.log1p(u * mp.expm1(e)) / e if e else u, x, eta)
    return (
        _mp_map(log_prob, x, eta),
        _mp_map(_cb_cdf, x, eta),
        icdf,
        _mp_map(lambda e: _cb_members(e)[1], eta),
        _mp_map(lambda e: _cb_members(e)[2], eta),
        _mp_map(entropy, eta),
    )


def _logit(p):
    with mp.workdps(DPS):
        return np.array([float(mp.log(mp.mpf(float(v))) - mp.log1p(-mp.mpf(float(v)))) for v in p])


def test_continuous_bernoulli_against_references(dtype):
    probs, logits = cast_like(CB_PROBS, dtype), cast_like(CB_LOGITS, dtype)
    x = cast_like(CB_X, dtype)

    def run(probs, logits, x):
        out = []
        for d in (jdist.ContinuousBernoulli(probs=probs), jdist.ContinuousBernoulli(logits=logits)):
            v = jnp.broadcast_to(x, x.shape[:1] + d.batch_shape)
            out.append(
                (d.log_prob(v), d.cdf(v), d.icdf(v), d.mean, d.variance, d.entropy(), d.mode)
            )
        return out

    got = jax.jit(run)(jnp.asarray(probs, dtype), jnp.asarray(logits, dtype), jnp.asarray(x, dtype))
    names = ("log_prob", "cdf", "icdf", "mean", "variance", "entropy")
    for eta, values in zip((_logit(probs), logits), got, strict=True):
        ref = _cb_reference(eta, x)
        for name, actual, expected in zip(names, values, ref, strict=False):
            assert_close(actual, expected, dtype, what=name)
        assert_close(values[-1], ref[3] > 0.5, dtype, what="mode")
    d = jdist.ContinuousBernoulli(probs=jnp.asarray(probs, dtype))
    assert np.all(d.log_prob(jnp.asarray([[-0.1], [1.1]], dtype)) == -np.inf)


def test_continuous_bernoulli_tails_against_mpmath(dtype):
    """survival_function, log_cdf and log_survival_function in both tails, where the other
    tail is 1 - 1e-27 (a log1p(-cdf) would give -inf or 0: e.g. log S(0.5) = -25 at
    logits -50)."""
    logits, x = cast_like(CB_LOGITS, dtype), cast_like(CB_X[1:-1], dtype)
    d = jdist.ContinuousBernoulli(logits=jnp.asarray(logits, dtype))
    v = jnp.broadcast_to(jnp.asarray(x, dtype), x.shape[:1] + d.batch_shape)
    sf = _mp_map(lambda x, e: _cb_cdf(1 - x, -e), x, logits)
    log_cdf = _mp_map(lambda x, e: mp.log(_cb_cdf(x, e)), x, logits)
    log_sf = _mp_map(lambda x, e: mp.log(_cb_cdf(1 - x, -e)), x, logits)
    # The relative condition number of F in x is x f(x) / F(x) <= x |η| + 1, up to 51 here.
    for member, expected in (
        ("survival_function", sf),
        ("log_cdf", log_cdf),
        ("log_survival_function", log_sf),
    ):
        assert_close(getattr(d, member)(v), expected, dtype, rtol_scale=51.0, what=member)


def test_continuous_bernoulli_mpmath_reference_matches_torch():
    """The mpmath formulas against torch (float64) where torch is exact: away from λ = 1/2
    (its lims) and from the probabilities its clamping changes."""
    probs = np.array([0.01, 0.3, 0.45, 0.6, 0.9, 0.999])
    t = torch.distributions.ContinuousBernoulli(probs=torch.tensor(probs, dtype=torch.float64))
    log_prob, cdf, icdf, mean, var, entropy = _cb_reference(_logit(probs), CB_X)
    xt = torch.tensor(np.broadcast_to(CB_X, (len(CB_X), len(probs))).copy())
    np.testing.assert_allclose(log_prob, t.log_prob(xt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(cdf, t.cdf(xt).numpy(), rtol=1e-12, atol=1e-15)
    # torch's icdf is log1p(-λ + u(2λ - 1)) - log1p(-λ), a difference of two logs of size
    # |log(1 - λ)| <= 7 here, which keeps ~1e-11 of its value at u = 1e-6.
    np.testing.assert_allclose(icdf, t.icdf(xt).numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mean, t.mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var, t.variance.numpy(), rtol=1e-10)
    np.testing.assert_allclose(entropy, t.entropy().numpy(), rtol=1e-12)


def test_continuous_bernoulli_sampler_and_gradients(dtype):
    """Inverse-CDF draws: KS and moments. Gradients w.r.t. the logits η: Monte Carlo
    d/dη E[x] = Var(x) (η is the natural parameter), and per sample (float64)
    dx/dη = -(∂F/∂η)(x)/p(x) by 40-digit differentiation of the closed-form CDF."""
    logits = cast_like(np.array([-50.0, -3.0, -1e-3, 0.0, 0.4, 8.0, 50.0]), dtype)
    x, (dx,) = _jvps(
        lambda e: jdist.ContinuousBernoulli(logits=e).rsample(jax.random.key(4), (N,)),
        (jnp.asarray(logits, dtype),),
    )
    assert np.all((x >= 0) & (x <= 1)) and np.all(np.isfinite(dx))
    for j, eta in enumerate(logits):
        cdf = (lambda v: v) if eta == 0 else (lambda v, e=eta: np.expm1(v * e) / np.expm1(e))
        ks_check(x[:, j], cdf)
    mean, var = (_mp_map(lambda e, i=i: _cb_members(e)[i], logits) for i in (1, 2))
    moments_check(x, mean, var)
    _mc_check(dx, var, "dE[x]/dη", dtype)
    if dtype is not np.float64:
        return

    def implicit(x, eta):
        d_eta = mp.diff(lambda e: _cb_cdf(x, e), eta)
        return -d_eta / mp.diff(lambda t: _cb_cdf(t, eta), x)

    np.testing.assert_allclose(dx[:4], _mp_map(implicit, x[:4], logits), rtol=1e-8, atol=1e-12)
