"""Analytic KL divergences between univariate continuous families (jdist/kl/univariate.py).

Every finite (or conditionally infinite) pair, Chi2's through the Gamma functions included,
is checked on one batch per pair: 25 random entries (the conditionally infinite pairs' batches
open with entries in the infinite region) and 25 extreme-but-valid ones (tiny and huge
scales and concentrations, far-apart locations, nearly equal laws). In float64, values
equal a 50-digit mpmath evaluation of the textbook ``KL = CE(p, q) - H(p)`` (written here
independently of torch's and jdist's algebra) on all entries, and torch's on the random
ones; gradients w.r.t. every parameter of p and q equal torch's autograd gradients or,
where torch's differ, mpmath's numerical derivatives (torch's polygamma is off by ~2e-8
relative, its direct formulas cancel at extreme parameters, and its gradients are NaN at
some infinite entries). ``kl_checks.check_against_torch`` applies torch as the only
reference to whole batches, so these comparisons (with its tolerances) are made here entry
by entry. Further: Monte Carlo (``check_monte_carlo``), float32 runs, jit/vmap
(``check_jit_vmap``), the always-infinite pairs, broadcasting, and the Chi2 dispatch.
"""

from __future__ import annotations

import functools
import itertools
import math
import zlib

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import torch

import jdist
from jdist.kl import _registry, univariate
from tests.kl_checks import check_jit_vmap, check_monte_carlo

# --------------------------------------------------------------------------- the pairs
_INFINITE = {
    "Beta": ["Pareto"],
    "ContinuousBernoulli": ["Pareto"],
    "Exponential": ["Beta", "ContinuousBernoulli", "Pareto", "Uniform"],
    "Gamma": ["Beta", "ContinuousBernoulli", "Pareto", "Uniform"],
    "Gumbel": ["Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform"],
    "Laplace": ["Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform"],
    "Normal": ["Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform"],
    "Pareto": ["Beta", "ContinuousBernoulli", "Uniform"],
}
_FINITE = {
    "Beta": ["Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Normal", "Uniform"],
    "Cauchy": ["Cauchy"],
    "ContinuousBernoulli": ["ContinuousBernoulli", "Exponential", "Normal", "Uniform"],
    "Exponential": ["Exponential", "Gamma", "Gumbel", "Normal"],
    "Gamma": ["Exponential", "Gamma", "Gumbel", "Normal"],
    "Gumbel": ["Gumbel", "Normal"],
    "HalfNormal": ["HalfNormal"],
    "Laplace": ["Laplace", "Normal"],
    "Normal": ["Gumbel", "Laplace", "Normal"],
    "Pareto": ["Exponential", "Gamma", "Normal", "Pareto"],
    "Uniform": [
        "Beta",
        "ContinuousBernoulli",
        "Exponential",
        "Gamma",
        "Gumbel",
        "Normal",
        "Pareto",
        "Uniform",
    ],
}
INFINITE_PAIRS = [(p, q) for p, qs in _INFINITE.items() for q in qs]
# Finite (or conditionally infinite) torch pairs, then the two beyond torch.
TORCH_FINITE_PAIRS = [(p, q) for p, qs in _FINITE.items() for q in qs]
EXTRA_PAIRS = [("LogNormal", "LogNormal"), ("HalfCauchy", "HalfCauchy")]
# Chi2 subclasses Gamma: its pairs dispatch to the Gamma functions (a sample of them).
CHI2_PAIRS = [("Chi2", "Gamma"), ("Gamma", "Chi2"), ("Chi2", "Normal"), ("Chi2", "Exponential")]
FINITE_PAIRS = TORCH_FINITE_PAIRS + EXTRA_PAIRS + CHI2_PAIRS
ALL_PAIRS = INFINITE_PAIRS + FINITE_PAIRS


def _ids(pairs):
    return [f"{p}-{q}" for p, q in pairs]


def test_registered_pairs_match_torch():
    """Exactly torch's 70 entries among these families (plus the two extras) are registered."""
    import torch.distributions.kl as tkl

    families = {p for p, _ in ALL_PAIRS}
    torch_pairs = {
        (p.__name__, q.__name__)
        for p, q in tkl._KL_REGISTRY
        if p.__name__ in families and q.__name__ in families
    }
    assert torch_pairs == set(INFINITE_PAIRS + TORCH_FINITE_PAIRS)
    assert len(torch_pairs) == 70
    for p, q in ALL_PAIRS:
        fn = _registry._dispatch(getattr(jdist, p), getattr(jdist, q))
        assert fn.__module__ == univariate.__name__, (p, q)


# ------------------------------------------------------------------------- parameters
# Every finite pair is tested on one batch of N_RANDOM random entries followed by 25 extreme
# entries (all batches have the same length, so that JAX's per-operation compilations are
# shared between pairs; eager compilation dominates this module's run time).
N_RANDOM = 25


def _loc_scale(rng, n):
    return {"loc": rng.uniform(-3, 3, n), "scale": np.exp(rng.uniform(-1, 1, n))}


def _uniform(low, width):
    return {"low": low, "high": low + width}


def _cb_logits(rng, n):
    probs = rng.uniform(0.05, 0.95, n)
    return {"logits": np.log(probs) - np.log1p(-probs)}


RANDOM = {
    "Normal": _loc_scale,
    "Laplace": _loc_scale,
    "Gumbel": _loc_scale,
    "Cauchy": _loc_scale,
    "LogNormal": _loc_scale,
    "HalfNormal": lambda rng, n: {"scale": np.exp(rng.uniform(-1, 1, n))},
    "Chi2": lambda rng, n: {"df": np.exp(rng.uniform(-1, 3, n))},
    "HalfCauchy": lambda rng, n: {"scale": np.exp(rng.uniform(-1, 1, n))},
    "Exponential": lambda rng, n: {"rate": np.exp(rng.uniform(-1, 1, n))},
    "Gamma": lambda rng, n: {
        "concentration": np.exp(rng.uniform(-1, 1.5, n)),
        "rate": np.exp(rng.uniform(-1, 1, n)),
    },
    "Beta": lambda rng, n: {
        "concentration1": np.exp(rng.uniform(-1, 1.5, n)),
        "concentration0": np.exp(rng.uniform(-1, 1.5, n)),
    },
    "ContinuousBernoulli": _cb_logits,
    "Pareto": lambda rng, n: {
        "scale": np.exp(rng.uniform(-1, 1, n)),
        "alpha": rng.uniform(0.5, 6, n),
    },
    "Uniform": lambda rng, n: _uniform(rng.uniform(-1, 1, n), np.exp(rng.uniform(-1, 1, n))),
}


def _in_unit(rng, n):
    return _uniform(rng.uniform(0, 0.45, n), rng.uniform(0.05, 0.5, n))


def _covering_unit(rng, n):
    return {"low": rng.uniform(-0.5, -0.01, n), "high": rng.uniform(1.01, 2, n)}


def _nonnegative_uniform(rng, n):
    return _uniform(rng.uniform(-0.3, 2, n), np.exp(rng.uniform(-1, 1, n)))


# Pair-specific ranges (p generator, q generator) where the supports matter.
RANDOM_PAIR = {
    ("Uniform", "Beta"): (_in_unit, None),
    ("Uniform", "ContinuousBernoulli"): (_in_unit, None),
    ("Uniform", "Exponential"): (_nonnegative_uniform, None),
    ("Uniform", "Gamma"): (_nonnegative_uniform, None),
    ("Uniform", "Pareto"): (
        lambda rng, n: _uniform(rng.uniform(0.3, 3, n), np.exp(rng.uniform(-1, 1, n))),
        lambda rng, n: {"scale": rng.uniform(0.5, 1.5, n), "alpha": rng.uniform(0.5, 6, n)},
    ),
    ("Uniform", "Uniform"): (
        lambda rng, n: _uniform(rng.uniform(-1, 1, n), np.exp(rng.uniform(-1, 0.5, n))),
        lambda rng, n: {"low": rng.uniform(-2, 0, n), "high": rng.uniform(0.5, 3, n)},
    ),
    ("Beta", "Uniform"): (None, _covering_unit),
    ("ContinuousBernoulli", "Uniform"): (None, _covering_unit),
}

# Entries in the infinite region of the conditionally infinite pairs (supports not nested, or
# a moment the divergence needs diverges); they open those pairs' random batches.
CONDITIONAL_INFINITE = {
    ("Uniform", "Uniform"): (
        {"low": [0.0, 0.0], "high": [2.0, 2.0]},
        {"low": [0.5, -1.0], "high": [3.0, 1.0]},
    ),
    ("Pareto", "Pareto"): ({"scale": [1.0], "alpha": [2.0]}, {"scale": [2.0], "alpha": [1.0]}),
    ("Pareto", "Exponential"): ({"scale": [1.0, 1.0], "alpha": [0.5, 1.0]}, {"rate": [1.0, 2.0]}),
    ("Pareto", "Gamma"): (
        {"scale": [1.0, 1.0], "alpha": [0.5, 1.0]},
        {"concentration": [2.0, 2.0], "rate": [1.0, 2.0]},
    ),
    ("Pareto", "Normal"): (
        {"scale": [1.0, 1.0], "alpha": [1.5, 2.0]},
        {"loc": [0.0, 1.0], "scale": [1.0, 2.0]},
    ),
    ("Uniform", "Beta"): (
        {"low": [-0.1, 0.5], "high": [0.5, 1.2]},
        {"concentration1": [2.0, 0.5], "concentration0": [3.0, 0.5]},
    ),
    ("Uniform", "ContinuousBernoulli"): (
        {"low": [-0.1, 0.5], "high": [0.5, 1.2]},
        {"logits": [-0.8, 1.4]},
    ),
    ("Beta", "Uniform"): (
        {"concentration1": [2.0, 0.5], "concentration0": [3.0, 0.5]},
        {"low": [0.1, -1.0], "high": [2.0, 0.9]},
    ),
    ("ContinuousBernoulli", "Uniform"): (
        {"logits": [-0.8, 1.4]},
        {"low": [0.1, -1.0], "high": [2.0, 0.9]},
    ),
    ("Uniform", "Exponential"): ({"low": [-0.1], "high": [1.0]}, {"rate": [2.0]}),
    ("Uniform", "Gamma"): (
        {"low": [-0.1], "high": [1.0]},
        {"concentration": [0.5], "rate": [2.0]},
    ),
    ("Uniform", "Pareto"): ({"low": [0.5], "high": [3.0]}, {"scale": [1.0], "alpha": [2.0]}),
}

# Extreme-but-valid parameters, five entries per family; a pair's extreme batch is the
# Cartesian product of p's and q's lists (25 entries).
_LS_EXTREME = [
    {"loc": 0.0, "scale": 1.0},
    {"loc": 0.0, "scale": 1e-5},
    {"loc": 0.0, "scale": 1e5},
    {"loc": 30.0, "scale": 1e-2},
    {"loc": -2e3, "scale": 50.0},
]
_SCALE_EXTREME = [
    {"scale": 1e-6},
    {"scale": 1.0},
    {"scale": 3e6},
    {"scale": 1.0 + 1e-9},
    {"scale": 2e-3},
]
EXTREME = {
    "Normal": _LS_EXTREME,
    "Laplace": _LS_EXTREME,
    "Gumbel": _LS_EXTREME,
    "Cauchy": _LS_EXTREME,
    "LogNormal": _LS_EXTREME,
    "HalfNormal": _SCALE_EXTREME,
    "HalfCauchy": _SCALE_EXTREME,
    "Exponential": [
        {"rate": 1e-5},
        {"rate": 1.0},
        {"rate": 1e5},
        {"rate": 1.0 + 1e-9},
        {"rate": 3e-2},
    ],
    "Gamma": [
        {"concentration": 1e-3, "rate": 1.0},
        {"concentration": 1e4, "rate": 1e4},
        {"concentration": 1e6, "rate": 1e3},
        {"concentration": 0.5, "rate": 1e-4},
        {"concentration": 1e4 * (1 + 1e-7), "rate": 1e4},
    ],
    "Chi2": [{"df": 1e-3}, {"df": 1.0}, {"df": 2e6}, {"df": 3.0}, {"df": 2e4 * (1 + 1e-7)}],
    "Beta": [
        {"concentration1": 1e-3, "concentration0": 1e-3},
        {"concentration1": 1e5, "concentration0": 2e5},
        {"concentration1": 0.5, "concentration0": 1e4},
        {"concentration1": 1.0, "concentration0": 1.0},
        {"concentration1": 1e5 * (1 + 1e-7), "concentration0": 2e5},
    ],
    "ContinuousBernoulli": [
        {"logits": 0.002},  # inside torch's Taylor region around probs = 1/2
        {"logits": -40.0},
        {"logits": 25.0},
        {"logits": 1.5},
        {"logits": 1e-9},
    ],
    "Pareto": [
        {"scale": 1.0, "alpha": 1e4},
        {"scale": 1e-4, "alpha": 2.5},
        {"scale": 1e3, "alpha": 50.0},
        {"scale": 2.0, "alpha": 1.0001},
        {"scale": 1.0, "alpha": 0.3},
    ],
    "Uniform": [
        {"low": 0.0, "high": 1.0},
        {"low": 0.2, "high": 0.2 + 1e-7},
        {"low": 1e-4, "high": 0.9999},
        {"low": 1e3, "high": 2e3},
        {"low": -1e3, "high": 1e3},
    ],
}


def _stack(entries):
    return {k: np.array([e[k] for e in entries], np.float64) for k in entries[0]}


def _random_params(pair, n=N_RANDOM, seed=0, openers=True):
    """``(p_params, q_params)``: dicts of float64 arrays of length ``n`` (fixed seed), opened
    by the pair's entries of CONDITIONAL_INFINITE (with ``openers``)."""
    rng = np.random.default_rng(seed + zlib.crc32("-".join(pair).encode()))
    gens = RANDOM_PAIR.get(pair, (None, None))
    p = (gens[0] or RANDOM[pair[0]])(rng, n)
    q = (gens[1] or RANDOM[pair[1]])(rng, n)
    fixed_pq = CONDITIONAL_INFINITE.get(pair, ({}, {})) if openers else ({}, {})
    for params, fixed in zip((p, q), fixed_pq, strict=True):
        for k, v in fixed.items():
            params[k][: len(v)] = v
    return p, q


def _extreme_params(pair):
    combos = list(itertools.product(EXTREME[pair[0]], EXTREME[pair[1]]))
    return _stack([a for a, _ in combos]), _stack([b for _, b in combos])


def _batch(pair, probs=False):
    """Random entries (``N_RANDOM``), then the extreme ones; with ``probs``, ContinuousBernoulli
    parameters given as ``probs`` (the sigmoid of the logits) rather than ``logits``."""
    rp, rq = _random_params(pair)
    ep, eq = _extreme_params(pair)
    cat = lambda a, b: {k: np.concatenate([a[k], b[k]]) for k in a}  # noqa: E731
    pp, qp = cat(rp, ep), cat(rq, eq)
    if probs:
        pp, qp = (
            {"probs": 1.0 / (1.0 + np.exp(-prm["logits"]))} if "logits" in prm else prm
            for prm in (pp, qp)
        )
    return pp, qp


def _make(family, params, dtype=np.float64):
    arrays = {k: jnp.asarray(np.asarray(v, dtype)) for k, v in params.items()}
    return getattr(jdist, family)(**arrays)


# ------------------------------------------------------------------ mpmath reference
# Each family as (support (lo, hi), entropy, mean, variance, and where needed E[log x],
# E[log(1 - x)], E[exp(-x/θ)] and E|x - c|), evaluated with mpmath; q enters through its
# cross-entropy CE(p, q) = -E_p[log q(x)]; KL = CE - H(p).
def _mp_cb_half_logit(t):
    if "logits" in t:
        return t["logits"] / 2
    lam = t["probs"]
    return (mp.log(lam) - mp.log1p(-lam)) / 2


def _mp_cb(t):
    y = _mp_cb_half_logit(t)
    if y == 0:
        log_c, mean, var = mp.log(2), mp.mpf(1) / 2, mp.mpf(1) / 12
    else:
        log_c = mp.log(2 * y / mp.tanh(y))
        mean = (1 + mp.coth(y) - 1 / y) / 2
        var = (1 / y**2 - 1 / mp.sinh(y) ** 2) / 4
    # log p(x) = log C + 2 y x - log(1 + e^{2y})
    entropy = -log_c - 2 * y * mean + mp.log1p(mp.exp(2 * y))
    return log_c, y, mean, var, entropy


def _mp_family(fam, t):
    """Moments of family ``fam`` with mpf parameters ``t`` (a dict)."""
    inf = mp.inf
    m = {}
    if fam in ("Normal", "Laplace", "Gumbel"):
        mu, s = t["loc"], t["scale"]
        m["support"] = (-inf, inf)
        if fam == "Normal":
            m.update(mean=mu, var=s**2, H=mp.log(2 * mp.pi * mp.e * s**2) / 2)
            m["mgf_neg"] = lambda th: mp.exp(-mu / th + s**2 / (2 * th**2))

            def abs_dev(c):
                z = (mu - c) / s
                return s * mp.sqrt(2 / mp.pi) * mp.exp(-(z**2) / 2) + (mu - c) * mp.erf(
                    z / mp.sqrt(2)
                )

            m["abs_dev"] = abs_dev
        elif fam == "Laplace":
            m.update(mean=mu, var=2 * s**2, H=1 + mp.log(2 * s))
            m["abs_dev"] = lambda c: abs(mu - c) + s * mp.exp(-abs(mu - c) / s)
        else:
            m.update(mean=mu + mp.euler * s, var=(mp.pi * s) ** 2 / 6, H=mp.log(s) + mp.euler + 1)
            m["mgf_neg"] = lambda th: mp.exp(-mu / th) * mp.gamma(1 + s / th)
    elif fam in ("Exponential", "Gamma"):
        a = mp.mpf(1) if fam == "Exponential" else t["concentration"]
        b = t["rate"]
        m["support"] = (mp.mpf(0), inf)
        m.update(mean=a / b, var=a / b**2, E_log=mp.digamma(a) - mp.log(b))
        m["H"] = a - mp.log(b) + mp.loggamma(a) + (1 - a) * mp.digamma(a)
        m["mgf_neg"] = lambda th: (b / (b + 1 / th)) ** a
    elif fam == "Beta":
        a, b = t["concentration1"], t["concentration0"]
        n = a + b
        m["support"] = (mp.mpf(0), mp.mpf(1))
        m.update(mean=a / n, var=a * b / (n**2 * (n + 1)))
        m.update(E_log=mp.digamma(a) - mp.digamma(n), E_log1m=mp.digamma(b) - mp.digamma(n))
        lbeta = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(n)
        m["H"] = lbeta - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b) + (n - 2) * mp.digamma(n)
    elif fam == "ContinuousBernoulli":
        _, _, mean, var, entropy = _mp_cb(t)
        m.update(support=(mp.mpf(0), mp.mpf(1)), mean=mean, var=var, H=entropy)
    elif fam == "Pareto":
        s, a = t["scale"], t["alpha"]
        m["support"] = (s, inf)
        m["mean"] = a * s / (a - 1) if a > 1 else inf
        m["var"] = a * s**2 / ((a - 1) ** 2 * (a - 2)) if a > 2 else inf
        m.update(E_log=mp.log(s) + 1 / a, H=mp.log(s / a) + 1 / a + 1)
    elif fam == "Uniform":
        lo, hi = t["low"], t["high"]
        w = hi - lo
        m.update(support=(lo, hi), mean=(lo + hi) / 2, var=w**2 / 12, H=mp.log(w))

        def xlogx(x):
            return mp.mpf(0) if x == 0 else x * mp.log(x)

        if lo >= 0:
            m["E_log"] = (xlogx(hi) - xlogx(lo)) / w - 1
        if hi <= 1:
            m["E_log1m"] = (xlogx(1 - lo) - xlogx(1 - hi)) / w - 1
        m["mgf_neg"] = lambda th: th * (mp.exp(-lo / th) - mp.exp(-hi / th)) / w
    else:
        raise KeyError(fam)
    return m


def _mp_cross_entropy(m, fam_q, t):
    """``-E_p[log q(x)]`` from p's moments ``m`` (inf where p leaves q's support)."""
    lo, hi = m["support"]
    if fam_q == "Normal":
        mu, s = t["loc"], t["scale"]
        return mp.log(2 * mp.pi * s**2) / 2 + (m["var"] + (m["mean"] - mu) ** 2) / (2 * s**2)
    if fam_q == "Laplace":
        return mp.log(2 * t["scale"]) + m["abs_dev"](t["loc"]) / t["scale"]
    if fam_q == "Gumbel":
        mu, th = t["loc"], t["scale"]
        return mp.log(th) + (m["mean"] - mu) / th + mp.exp(mu / th) * m["mgf_neg"](th)
    if fam_q == "Exponential":
        return mp.inf if lo < 0 else -mp.log(t["rate"]) + t["rate"] * m["mean"]
    if fam_q == "Gamma":
        if lo < 0:
            return mp.inf
        a, b = t["concentration"], t["rate"]
        return mp.loggamma(a) - a * mp.log(b) - (a - 1) * m["E_log"] + b * m["mean"]
    if fam_q == "Beta":
        if lo < 0 or hi > 1:
            return mp.inf
        a, b = t["concentration1"], t["concentration0"]
        lbeta = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
        return lbeta - (a - 1) * m["E_log"] - (b - 1) * m["E_log1m"]
    if fam_q == "ContinuousBernoulli":
        if lo < 0 or hi > 1:
            return mp.inf
        log_c, y, _, _, _ = _mp_cb(t)
        return -log_c - 2 * y * m["mean"] + mp.log1p(mp.exp(2 * y))
    if fam_q == "Uniform":
        return mp.inf if (lo < t["low"] or hi > t["high"]) else mp.log(t["high"] - t["low"])
    if fam_q == "Pareto":
        s, a = t["scale"], t["alpha"]
        return mp.inf if lo < s else -mp.log(a) - a * mp.log(s) + (a + 1) * m["E_log"]
    raise KeyError(fam_q)


def _mp_kl(pair, tp, tq):
    """KL(p || q) with mpf parameter dicts."""
    fp, fq = pair
    if "Chi2" in pair:  # Chi2(df) = Gamma(df/2, 1/2)
        as_gamma = lambda t: {"concentration": t["df"] / 2, "rate": mp.mpf(1) / 2}  # noqa: E731
        tp, fp = (as_gamma(tp), "Gamma") if fp == "Chi2" else (tp, fp)
        tq, fq = (as_gamma(tq), "Gamma") if fq == "Chi2" else (tq, fq)
        pair = (fp, fq)
    if fp in ("Normal", "LogNormal") and fq == fp:
        r = tp["scale"] / tq["scale"]
        return (r**2 - 1) / 2 - mp.log(r) + ((tp["loc"] - tq["loc"]) / tq["scale"]) ** 2 / 2
    if pair == ("HalfNormal", "HalfNormal"):
        r = tp["scale"] / tq["scale"]
        return (r**2 - 1) / 2 - mp.log(r)
    if fp in ("Cauchy", "HalfCauchy"):
        sp, sq = tp["scale"], tq["scale"]
        d = tp.get("loc", 0) - tq.get("loc", 0)
        return mp.log(((sp + sq) ** 2 + d**2) / (4 * sp * sq))
    if fq in ("Pareto", "Beta", "ContinuousBernoulli", "Uniform") and fp in (
        "Normal",
        "Laplace",
        "Gumbel",
        "Exponential",
        "Gamma",
    ):
        return mp.inf
    m = _mp_family(fp, tp)
    ce = _mp_cross_entropy(m, fq, tq)
    return ce - m["H"]


def _mp_params(params, i):
    return {k: mp.mpf(float(v[i])) for k, v in params.items()}


def mp_kl_values(pair, p_params, q_params):
    n = len(next(iter(p_params.values())))
    with mp.workdps(50):
        return [_mp_kl(pair, _mp_params(p_params, i), _mp_params(q_params, i)) for i in range(n)]


def _to_float(x):
    """An mpf as a float64, ``inf`` beyond the float64 range."""
    return math.inf if x == mp.inf or abs(x) > 1.7e308 else float(x)


def mp_kl_gradient(pair, p_params, q_params, i):
    """``{("p"|"q", name): ∂KL/∂name}`` at entry ``i`` by mpmath numerical differentiation."""
    out = {}
    with mp.workdps(50):
        tp, tq = _mp_params(p_params, i), _mp_params(q_params, i)
        for side, t in (("p", tp), ("q", tq)):
            for name in t:

                def f(x, side=side, name=name):
                    a, b = dict(tp), dict(tq)
                    (a if side == "p" else b)[name] = x
                    return _mp_kl(pair, a, b)

                out[side, name] = float(mp.diff(f, t[name]))
    return out


# --------------------------------------------------------------------------- helpers
def _name(d, key):
    """jdist's leaf name for a constructor argument (``probs`` is stored as ``_probs``)."""
    return key if key in d._param_names else "_" + key


def _jdist_grads(pair, pp, qp, dtype=np.float64):
    """jdist's value and per-entry gradients ``{("p"|"q", name): array}``: the gradient of
    the sum of the finite entries (the KL is entrywise, so these are the entries' own
    derivatives; at the infinite entries they must come out 0, and a NaN anywhere in the
    backward pass of a masked entry would show as NaN)."""
    p, q = _make(pair[0], pp, dtype), _make(pair[1], qp, dtype)
    value = jdist.kl_divergence(p, q)
    mask = jnp.isfinite(value)
    gp, gq = jax.grad(
        lambda a, b: jnp.sum(jnp.where(mask, jdist.kl_divergence(a, b), 0.0)), (0, 1)
    )(p, q)
    grads = {("p", k): np.asarray(getattr(gp, _name(p, k))) for k in pp}
    grads.update({("q", k): np.asarray(getattr(gq, _name(q, k))) for k in qp})
    return np.asarray(value), grads


def _torch_grads(pair, pp, qp):
    """torch's value and per-entry gradients (of the sum of its finite entries; NaN where
    torch's autograd gives NaN)."""
    leaves = {
        (side, k): torch.tensor(v, requires_grad=True)
        for side, prm in (("p", pp), ("q", qp))
        for k, v in prm.items()
    }
    p, q = (
        getattr(torch.distributions, f)(**{k: leaves[side, k] for k in prm})
        for side, f, prm in (("p", pair[0], pp), ("q", pair[1], qp))
    )
    value = torch.distributions.kl_divergence(p, q)
    finite = torch.isfinite(value)
    if finite.any():
        value[finite].sum().backward()
    grads = {k: (np.zeros(len(t)) if t.grad is None else t.grad.numpy()) for k, t in leaves.items()}
    return value.detach().numpy(), grads


def _close(a, b, rtol, atol):
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= rtol * np.abs(b) + atol


@functools.cache
def _reference(pair, probs=False):
    """Everything the float64 and float32 tests compare against, computed once per pair."""
    pp, qp = _batch(pair, probs)
    with jax.enable_x64(True):
        value, grads = _jdist_grads(pair, pp, qp)
    mp_value = np.array([_to_float(v) for v in mp_kl_values(pair, pp, qp)])
    # (LogNormal and HalfCauchy: torch's TransformedDistribution KL, that of the base laws.)
    torch_value, torch_grads = _torch_grads(pair, pp, qp)
    return {
        "pp": pp,
        "qp": qp,
        "value": value,
        "grads": grads,
        "mp": mp_value,
        "torch": torch_value,
        "torch_grads": torch_grads,
    }


# Tolerances against torch (as tests/kl_checks.check_against_torch) and mpmath: values
# 1e-10 relative with an absolute 1e-12 for divergences near 0; gradients 1e-8 relative with
# an absolute 1e-10 · (1 + |KL| + Σ_j m_j |∂KL/∂θ_j|) / m_i for parameter i of magnitude m_i
# (see _magnitudes): value-level rounding over the parameter's scale, e.g. 16 for a
# derivative w.r.t. probs = 4e-18 that is 0 exactly (p = q), where 1/probs = 2e17.
RTOL, ATOL = 1e-10, 1e-12
RTOL_GRAD, ATOL_GRAD = 1e-8, 1e-10


# ------------------------------------------------------------------- (a) float64
@pytest.mark.parametrize("pair", FINITE_PAIRS, ids=_ids(FINITE_PAIRS))
def test_float64_against_torch_and_mpmath(pair):
    """float64, on the random and the extreme entries: values equal mpmath's (and, on the
    random entries, torch's, infinities included); gradients w.r.t. every parameter of p
    and q equal torch's or, where torch's gradient is off (e.g. ContinuousBernoulli logits
    of -40, Beta–Beta through torch's polygamma, its direct formulas cancelling at extreme
    parameters), mpmath's numerical derivatives; infinite entries have zero gradients."""
    _check_float64(pair, _reference(pair))


def _check_float64(pair, ref):
    value, grads, mp_value = ref["value"], ref["grads"], ref["mp"]
    pp, qp = ref["pp"], ref["qp"]
    rand = np.arange(len(value)) < N_RANDOM
    assert not np.any(np.isnan(value))
    for key, g in grads.items():
        assert not np.any(np.isnan(g)), (key, g)
    np.testing.assert_array_equal(np.isinf(value), np.isinf(mp_value))
    np.testing.assert_allclose(value, mp_value, rtol=RTOL, atol=ATOL)
    finite = np.isfinite(value)
    for key, g in grads.items():
        np.testing.assert_array_equal(g[~finite], 0.0, err_msg=str(key))
    t_value, t_grads = ref["torch"], ref["torch_grads"]
    np.testing.assert_array_equal(np.isinf(value[rand]), np.isinf(t_value[rand]))
    np.testing.assert_allclose(value[rand], t_value[rand], rtol=RTOL, atol=ATOL)
    mags = {("p", k): m for k, m in _magnitudes(pp).items()}
    mags.update({("q", k): m for k, m in _magnitudes(qp).items()})
    with np.errstate(invalid="ignore"):
        scale = 1.0 + np.abs(value) + sum(mags[k] * np.abs(g) for k, g in grads.items())
    atol = {k: ATOL_GRAD * scale / mags[k] for k in grads}
    off = [
        i
        for i in np.flatnonzero(finite)
        if not all(_close(g[i], t_grads[k][i], RTOL_GRAD, atol[k][i]) for k, g in grads.items())
    ]
    for i in off:
        for key, w in mp_kl_gradient(pair, pp, qp, i).items():
            got = grads[key][i]
            if math.isfinite(w):
                assert _close(got, w, RTOL_GRAD, atol[key][i]), (i, key, got, w)
            else:
                # A parameter on the boundary of q's support (Uniform low = 0 against Beta or
                # Gamma): the one-sided derivative is infinite; jdist's is finite (0 log 0).
                assert math.isfinite(got), (i, key, got, w)


# --------------------------------------------------------------- (b) Monte Carlo
def _mc_params(pair):
    pp, qp = _random_params(pair, n=4, seed=7, openers=False)
    rng = np.random.default_rng(11)
    # The log-ratio must have the moments its standard error needs: Pareto alpha in [5, 8];
    # location-scale laws close to each other (against a Gumbel, log q has a term
    # exp(-x/β), lognormal with σ = σp/βq for a normal p); finite entries only.
    for fam, prm in zip(pair, (pp, qp), strict=True):
        if fam == "Pareto":
            prm["alpha"] = rng.uniform(5, 8, 4)
            prm["scale"] = rng.uniform(0.5, 1.0, 4)
        if "loc" in prm:
            prm["loc"] = rng.uniform(-1, 1, 4)
            prm["scale"] = np.exp(rng.uniform(-0.3, 0.3, 4))
    if pair == ("Pareto", "Pareto"):  # q's support must contain p's
        qp["scale"] = pp["scale"] * rng.uniform(0.5, 1.0, 4)
    if pair == ("Uniform", "Uniform"):
        qp = {"low": pp["low"] - rng.uniform(0, 1, 4), "high": pp["high"] + rng.uniform(0, 1, 4)}
    return pp, qp


@pytest.mark.parametrize("pair", FINITE_PAIRS, ids=_ids(FINITE_PAIRS))
def test_monte_carlo(pair):
    """The analytic value is within 5 standard errors of mean(log p(x) - log q(x)), x ~ p
    (5000 draws; finite entries)."""
    with jax.enable_x64(True):
        pp, qp = _mc_params(pair)
        value, _, _ = check_monte_carlo(
            _make(pair[0], pp), _make(pair[1], qp), seed=3, num_samples=5000
        )
        assert np.isfinite(value).sum() >= 3, value


# --------------------------------------------------------------- (c) float32
EPS32 = float(np.finfo(np.float32).eps)
# float32 values against the float64 ones at the same parameters. Rounding the parameters to
# float32 and rounding inside the computation act like relative perturbations of the
# parameters by a few ulps, so the tolerance is C32 · eps32 · (1 + |KL| + Σ_j m_j |∂KL/∂θ_j|)
# (the KL's condition), with m_j the magnitude of parameter j (see _magnitudes), C32 = 64
# for the few dozen roundings of a formula, and the absolute 1 because divergences are sums
# of O(1) terms (entropies, log-normalizers) whose own roundings remain where they cancel
# near p = q. Gradients have no such bound (their formulas cancel terms that the value's
# condition does not see): on the random entries they must agree to half of float32's
# digits, sqrt(eps32) · (|g_i| + (1 + |KL| + Σ_j m_j |g_j|) / m_i), the last term the
# value-level error over the parameter's own scale (a small component of a gradient may
# carry the absolute error of the large ones).
C32 = 64.0
BIG = 1e30  # beyond this the float64 value (or gradient) need not be finite in float32


def _magnitudes(params):
    """The scale on which each parameter is resolved: ``|θ|``; for a location
    ``|loc| + scale``, for a uniform's ends ``|low| + |high|``, for probabilities
    ``min(probs, 1 - probs)``."""
    mags = {}
    for k, v in params.items():
        if k == "loc":
            mags[k] = np.abs(v) + params["scale"]
        elif k in ("low", "high"):
            mags[k] = np.abs(params["low"]) + np.abs(params["high"])
        elif k == "probs":  # a probability near 1 is resolved on the scale of 1 - probs
            mags[k] = np.minimum(v, 1.0 - v)
        else:
            mags[k] = np.abs(v)
    return mags


@pytest.mark.parametrize("pair", FINITE_PAIRS, ids=_ids(FINITE_PAIRS))
def test_float32(pair):
    """float32 at the float64 test's parameters: no NaN in values or gradients; values (and
    gradients) finite where the float64 ones are within float32's range; values close to
    float64 on all entries, gradients on the random ones."""
    ref = _reference(pair)
    v64, g64 = ref["value"], ref["grads"]
    v32, g32 = _jdist_grads(pair, ref["pp"], ref["qp"], np.float32)
    assert v32.dtype == np.float32
    assert not np.any(np.isnan(v32)), v32
    for key, g in g32.items():
        assert not np.any(np.isnan(g)), (key, g)
    mags = {("p", k): m for k, m in _magnitudes(ref["pp"]).items()}
    mags.update({("q", k): m for k, m in _magnitudes(ref["qp"]).items()})
    in_range = np.isfinite(v64) & (np.abs(v64) < BIG)
    assert np.all(np.isposinf(v32[np.isinf(v64)]))
    assert np.all(np.isfinite(v32[in_range]))
    sens = sum(mags[k] * np.abs(g64[k]) for k in g64)
    scale = 1.0 + np.abs(v64) + sens
    err = np.abs(v32.astype(np.float64) - np.where(in_range, v64, 0.0))
    bad = in_range & ~(err <= C32 * EPS32 * scale)
    assert not bad.any(), (np.flatnonzero(bad), v32[bad], v64[bad])
    grads_in_range = in_range & np.all([np.abs(g) < BIG for g in g64.values()], axis=0)
    rand = np.arange(len(v64)) < N_RANDOM
    for key, g in g32.items():
        assert np.all(np.isfinite(g[grads_in_range])), (key, g)
        tol = math.sqrt(EPS32) * (np.abs(g64[key]) + scale / mags[key])
        bad = rand & grads_in_range & ~(np.abs(g - g64[key]) <= tol)
        assert not bad.any(), (key, np.flatnonzero(bad), g[bad], g64[key][bad])


# --------------------------------------------------------------- (d) jit and vmap
JIT_PAIRS = [("Normal", "Normal"), ("Uniform", "Uniform")]


@pytest.mark.parametrize("pair", JIT_PAIRS, ids=_ids(JIT_PAIRS))
def test_jit_vmap(pair):
    with jax.enable_x64(True):
        pp, qp = _random_params(pair)
        check_jit_vmap(_make(pair[0], pp), _make(pair[1], qp))


def test_broadcasting_and_dtype():
    """The result has the broadcast batch shape (Python-float parameters included) and the
    promoted dtype, and each entry is the divergence of its own pair."""
    with jax.enable_x64(True):
        lp, sp = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.5, 2.0])
        lq, sq = np.array([[0.5], [-1.0]]), np.array([[1.5], [0.7]])
        value = jdist.kl_divergence(jdist.Normal(lp, sp), jdist.Normal(lq, sq))
        assert value.shape == (2, 3) and value.dtype == jnp.float64
        r = sp / sq
        expected = 0.5 * (r**2 + ((lp - lq) / sq) ** 2 - 1.0) - np.log(r)
        np.testing.assert_allclose(value, expected, rtol=1e-14)
        rate32 = jnp.array([0.5, 2.0], jnp.float32)
        assert jdist.kl_divergence(jdist.Exponential(rate32), jdist.Exponential(2.0)).shape == (2,)
        mixed = jdist.kl_divergence(jdist.Exponential(rate32), jdist.Exponential(jnp.float64(2)))
        assert mixed.dtype == jnp.float64
    default = jdist.kl_divergence(jdist.Exponential(1.0), jdist.Exponential(3.0))
    assert default.dtype == jnp.float32


# --------------------------------------------------------------- (e) infinite divergences
@pytest.mark.parametrize("pair", INFINITE_PAIRS, ids=_ids(INFINITE_PAIRS))
def test_infinite_pairs(pair):
    """Always-infinite pairs: inf (broadcast to the batch shape, the promoted dtype), not
    NaN, and zero gradients, in both dtypes; torch agrees. (The conditionally infinite pairs
    are covered by the float64/float32 tests, whose batches open with infinite entries.)"""
    pp, qp = _random_params(pair)
    assert np.all(np.isposinf(_torch_grads(pair, pp, qp)[0]))
    qp = {k: v[:1] for k, v in qp.items()}  # broadcasting (25,) against (1,)
    for dtype in (np.float32, np.float64):
        with jax.enable_x64(dtype is np.float64):
            p, q = _make(pair[0], pp, dtype), _make(pair[1], qp, dtype)
            value = jdist.kl_divergence(p, q)
            assert value.shape == (N_RANDOM,) and value.dtype == dtype
            assert np.all(np.isposinf(np.asarray(value)))
            grads = jax.grad(lambda a, b: jnp.sum(jdist.kl_divergence(a, b)), (0, 1))(p, q)
            for leaf in jax.tree.leaves(grads):
                np.testing.assert_array_equal(np.asarray(leaf), 0.0)


def test_continuous_bernoulli_against_unit_uniform_is_finite():
    """``Uniform(0, 1)`` and a ContinuousBernoulli have the same support: finite both ways
    (torch says inf when an end of the uniform is on 0 or 1), equal to mpmath's (the extreme
    batches hold these entries)."""
    for pair, side in (
        (("ContinuousBernoulli", "Uniform"), "qp"),
        (("Uniform", "ContinuousBernoulli"), "pp"),
    ):
        ref = _reference(pair)
        unit = (ref[side]["low"] == 0.0) & (ref[side]["high"] == 1.0)
        assert unit.sum() == 5
        assert np.all(np.isfinite(ref["value"][unit])) and np.all(np.isinf(ref["torch"][unit]))
        np.testing.assert_allclose(ref["value"][unit], ref["mp"][unit], rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------- (f) dispatch, probs
def test_chi2_dispatches_to_gamma():
    """Chi2 subclasses Gamma: its pairs are the Gamma functions (their values and gradients
    are checked with the other pairs, CHI2_PAIRS)."""
    for q in ("Gamma", "Exponential", "Normal", "Gumbel", "Beta", "Uniform"):
        assert _registry._dispatch(jdist.Chi2, getattr(jdist, q)) is _registry._dispatch(
            jdist.Gamma, getattr(jdist, q)
        )
    assert _registry._dispatch(jdist.Chi2, jdist.Gamma) is univariate._kl_gamma_gamma
    assert _registry._dispatch(jdist.Gamma, jdist.Chi2) is univariate._kl_gamma_gamma


CB_PROBS_PAIRS = [
    ("ContinuousBernoulli", "ContinuousBernoulli"),
    ("Beta", "ContinuousBernoulli"),
    ("ContinuousBernoulli", "Normal"),
]


@pytest.mark.parametrize("pair", CB_PROBS_PAIRS, ids=_ids(CB_PROBS_PAIRS))
def test_continuous_bernoulli_given_probs(pair):
    """The ContinuousBernoulli pairs with ``probs=`` (the other batches use logits)."""
    _check_float64(pair, _reference(pair, probs=True))
