"""Variance report: bias (in standard errors) and variance of every gradient estimator at
equal sample counts, on problems whose gradients are known in closed form.

Run ``python -m jdist.estimators.report [--out DIR] [--quick]``. It prints two tables and
writes ``report.txt``, ``report.json`` and two log-log plots of variance against the
number of samples, ``gaussian_variance.png`` and ``bernoulli_variance.png``, to ``DIR``
(default ``estimator_report``). The plots need matplotlib (``pip install jdist[examples]``),
imported only when they are drawn; without it the tables are still written.

Problems:

* **Gaussian** (Mohamed, Rosca, Figurnov & Mnih 2020, "Monte Carlo Gradient Estimation in
  Machine Learning", JMLR, Sec. 3): ``∂/∂μ`` and ``∂/∂σ`` of ``E_{x~N(μ, σ²)}[f(x)]`` for
  ``f = x, x², cos x`` at ``μ = 0.5, σ = 1.3``, with the Jacobian estimators of
  :mod:`jdist.estimators.jacobians` and :mod:`jdist.estimators.control_variates`.
* **Bernoulli toy** (the toy experiments of Tucker et al. 2017, "REBAR", and Grathwohl
  et al. 2018, "Backpropagation through the Void"): ``∂/∂φ E_{b~Bern(σ(φ))}[(b - t)²]
  = σ'(φ)(1 - 2t)`` at ``φ = 0.5`` for ``t = 0.499, 0.49, 0.45, 0.4``, with the estimators
  of :mod:`jdist.estimators.discrete`, REINFORCE (with and without a leave-one-out
  baseline) and the biased relaxations of :mod:`jdist.estimators.relaxations`.

Equal sample counts: every estimator is given the same total number of samples from the
distribution (``x`` or ``b``), and the variance is that of an estimate built from ``N``
of them (an estimator that consumes ``u`` samples per draw, e.g. ARM's antithetic pair or
REINFORCE with a 2-sample leave-one-out baseline, averages ``N / u`` draws). The bias is
the mean of all estimates minus the closed form, in standard errors of that mean.

This module is not imported by ``jdist`` or ``jdist.estimators``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jdist.distributions.bernoulli import Bernoulli
from jdist.distributions.normal import Normal
from jdist.estimators.baselines import leave_one_out_baseline
from jdist.estimators.control_variates import (
    control_delta_method,
    control_variates_jacobians,
    moving_avg_baseline,
)
from jdist.estimators.discrete import (
    arm,
    disarm,
    rebar,
    rebar_variance_loss,
    relax,
    relax_variance_loss,
)
from jdist.estimators.jacobians import (
    measure_valued_jacobians,
    pathwise_jacobians,
    score_function_jacobians,
)
from jdist.estimators.relaxations import gumbel_softmax, relaxed_bernoulli, straight_through
from jdist.estimators.score_function import reinforce_loss

Array = jax.Array

__all__ = [
    "BERNOULLI_ESTIMATORS",
    "FULL",
    "GAUSSIAN_ESTIMATORS",
    "GAUSSIAN_FUNCTIONS",
    "QUICK",
    "ReportConfig",
    "Row",
    "bernoulli_truth",
    "format_report",
    "gaussian_truth",
    "main",
    "plot_variances",
    "probability_log_variance_offset",
    "run_report",
]

# Problem constants.
MU, SIGMA = 0.5, 1.3
PHI = 0.5  # Bernoulli logit; at φ = 0 DisARM is exact (zero variance) and straight-through
# happens to be unbiased, which would hide both.
TS = (0.499, 0.49, 0.45, 0.4)
TEMPERATURE = 0.5  # relaxations, and REBAR's initial λ
LEARNING_RATE = 0.05  # Adam, for the REBAR/RELAX control-variate parameters
HIDDEN = 8  # units of RELAX's r_ρ

# The SE of a mean is floored at the float32 resolution of the arithmetic, so that an
# estimator that is exact up to rounding (zero variance, e.g. pathwise ∂/∂μ of f = x)
# reads as 0 standard errors rather than rounding error divided by ~0.
_SE_FLOOR = 1e-6

# Compiled once each on a few hundred thousand cheap draws: skipping XLA's backend
# optimisations roughly halves compile time, which dominates the report's runtime.
_jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """Sizes of one report run.

    ``total_samples`` samples of ``x`` (or ``b``) per estimator and problem;
    ``sample_counts`` the ``N`` of the variance plot (each must divide ``total_samples``
    and be even); ``table_samples`` the ``N`` of the tables; ``train_steps`` Adam steps of
    ``train_batch`` fresh keys each to fit the REBAR and RELAX control variates.

    Example:
        >>> ReportConfig(total_samples=2**12, sample_counts=(2, 8), train_steps=50)
    """

    total_samples: int = 2**16
    sample_counts: tuple[int, ...] = (2, 8, 32, 128)
    table_samples: int = 2
    train_steps: int = 300
    train_batch: int = 32
    seed: int = 0


FULL = ReportConfig()
QUICK = ReportConfig(total_samples=2**13, sample_counts=(2, 8, 32), train_steps=100)


@dataclasses.dataclass(frozen=True)
class Row:
    """One estimator on one target: bias and variances measured at equal sample counts.

    ``variances[N]`` is the variance of an estimate from ``N`` samples; ``bias_se`` is
    ``(mean - truth) / sqrt(stderr² + floor²)`` over all ``total_samples`` samples, with
    ``floor = 1e-6 (1 + |truth|)`` (float32 rounding) so that an exact estimator reads 0.

    Example:
        >>> row.bias_se, row.variances[2]
    """

    problem: str  # "gaussian" or "bernoulli"
    estimator: str
    target: str  # e.g. "x^2 d/dmu" or "t=0.49"
    unbiased: bool
    truth: float
    mean: float
    stderr: float
    bias_se: float
    variances: dict[int, float]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``variances`` keyed by ``str(N)``)."""
        out = dataclasses.asdict(self)
        out["variances"] = {str(n): v for n, v in self.variances.items()}
        return out


# ---------------------------------------------------------------------------------------
# Gaussian problems.

GAUSSIAN_FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "x": lambda x: x,
    "x^2": lambda x: x**2,
    "cos x": jnp.cos,
}
# name -> description; all unbiased.
GAUSSIAN_ESTIMATORS = {
    "score": "score function (REINFORCE), score_function_jacobians",
    "score+moving_avg": "score function with moving_avg_baseline (decay 0.99)",
    "score+delta": "score function with control_delta_method (2nd-order Taylor at μ)",
    "pathwise": "pathwise (reparameterisation), pathwise_jacobians",
    "mv_coupled": "measure-valued, coupling=True (4 f evaluations per sample)",
    "mv_uncoupled": "measure-valued, coupling=False (4 f evaluations per sample)",
}


def _delta_method_jacobians(function, params, dist_builder, rng, num_samples):
    """Single-sample score-function estimates with the delta-method control variate, one
    row per independent call: ``num_samples`` rows like the plain Jacobian estimators.

    The mean of N such rows is exactly the N-sample estimate of
    ``control_variates_jacobians``: its rows share only ``mean_j ∇_θ h(x_j; θ)``, which
    is the mean of the rows' own terms.
    """

    def one(k):
        jacs, _ = control_variates_jacobians(
            function, control_delta_method, score_function_jacobians, params, dist_builder, k, 1
        )
        return [j[0] for j in jacs]

    return jax.vmap(one)(jax.random.split(rng, num_samples))


_POOLED = {
    "score": score_function_jacobians,
    "score+delta": _delta_method_jacobians,
    "pathwise": pathwise_jacobians,
    "mv_coupled": functools.partial(measure_valued_jacobians, coupling=True),
    "mv_uncoupled": functools.partial(measure_valued_jacobians, coupling=False),
}
_PARAM_NAMES = ("d/dmu", "d/dsigma")


def _normal(mean: Array, log_scale: Array) -> Normal:
    return Normal(mean, jnp.exp(log_scale))


def gaussian_truth(mu: float = MU, sigma: float = SIGMA) -> dict[str, tuple[float, float]]:
    """Closed-form ``(∂/∂μ, ∂/∂σ) E_{N(μ, σ²)}[f]`` for each of ``GAUSSIAN_FUNCTIONS``.

    ``E[x] = μ``, ``E[x²] = μ² + σ²``, ``E[cos x] = cos μ · exp(-σ²/2)``.

    Example:
        >>> gaussian_truth(0.0, 1.0)["x^2"]
        (0.0, 2.0)
    """
    damp = math.exp(-(sigma**2) / 2)
    return {
        "x": (1.0, 0.0),
        "x^2": (2 * mu, 2 * sigma),
        "cos x": (-math.sin(mu) * damp, -sigma * math.cos(mu) * damp),
    }


def _gaussian_function(index: Array, x: Array) -> Array:
    """``GAUSSIAN_FUNCTIONS`` number ``index`` at ``x``: vmapping over ``index`` traces each
    estimator once for all three functions (a third of the compile time)."""
    return jnp.stack([f(x) for f in GAUSSIAN_FUNCTIONS.values()])[index]


@functools.partial(_jit, static_argnames=("total", "counts"))
def _gaussian_estimates(key: Array, params: list[Array], total: int, counts: tuple[int, ...]):
    """Estimates w.r.t. (μ, σ) for each f: ``{name: (3, total, 2)}`` i.i.d. single-sample
    rows, and ``{"score+moving_avg|N": (3, total / N, 2)}`` estimates from N samples each."""
    sigma = jnp.exp(params[1])
    indices = jnp.arange(len(GAUSSIAN_FUNCTIONS))

    def mu_sigma(jacs):
        # params are (mean, log σ); ∂/∂σ = (∂/∂log σ) / σ.
        return jnp.stack([jacs[0], jacs[1] / sigma], axis=-1)

    def per_function(run, k):
        return jax.vmap(run)(indices, jax.random.split(k, len(GAUSSIAN_FUNCTIONS)))

    out = {}
    for i, (name, estimator) in enumerate(_POOLED.items()):

        def pooled(index, k, estimator=estimator):
            f = functools.partial(_gaussian_function, index)
            return mu_sigma(estimator(f, params, _normal, k, total))

        out[name] = per_function(pooled, jax.random.fold_in(key, i))

    # The moving-average baseline is shared by the N samples of one estimate and updated
    # once per estimate, so each N is a run of its own. The state runs through the
    # estimates in sequence; each estimate is unbiased given the past, so the estimates
    # are uncorrelated.
    for n in counts:

        def moving_average(index, k, n=n):
            f = functools.partial(_gaussian_function, index)

            def step(state, k):
                jacs, state = control_variates_jacobians(
                    f, moving_avg_baseline, score_function_jacobians, params, _normal, k, n, state
                )
                return state, mu_sigma([j.mean(0) for j in jacs])

            init = (jnp.zeros(()), jnp.zeros((), jnp.int32))
            return jax.lax.scan(step, init, jax.random.split(k, total // n))[1]

        ma_key = jax.random.fold_in(key, 1000 + n)  # distinct from the pooled ones' 0, 1, ...
        out[f"score+moving_avg|{n}"] = per_function(moving_average, ma_key)
    return out


# ---------------------------------------------------------------------------------------
# Bernoulli toy.

# name -> (unbiased, samples of b per draw, description)
BERNOULLI_ESTIMATORS = {
    "reinforce": (True, 1, "score function, reinforce_loss"),
    "reinforce+loo": (True, 2, "score function, 2 samples, leave_one_out_baseline"),
    "rebar_init": (True, 1, "rebar, η = 1, λ = 0.5 (untrained)"),
    "rebar": (True, 1, "rebar, η and λ trained with rebar_variance_loss"),
    "relax": (True, 1, "relax, c_φ(z) = η f(σ(z/λ)) + r_ρ(z) trained with relax_variance_loss"),
    "arm": (True, 2, "arm (one antithetic pair)"),
    "disarm": (True, 2, "disarm (one antithetic pair)"),
    "straight_through": (False, 1, "straight_through (BIASED)"),
    "relaxed": (False, 1, "relaxed_bernoulli, τ = 0.5, f at the relaxed sample (BIASED)"),
    "relaxed_hard": (False, 1, "relaxed_bernoulli(hard=True): ST Gumbel, τ = 0.5 (BIASED)"),
    "gumbel_softmax": (False, 1, "gumbel_softmax on logits (φ, 0), τ = 0.5 (BIASED)"),
}


def bernoulli_truth(t: float, phi: float = PHI) -> float:
    """``∂/∂φ E_{b~Bern(σ(φ))}[(b - t)²] = σ'(φ)((1 - t)² - t²) = σ'(φ)(1 - 2t)``.

    Example:
        >>> bernoulli_truth(0.25, 0.0)
        0.125
    """
    s = 1.0 / (1.0 + math.exp(-phi))
    return s * (1.0 - s) * (1.0 - 2.0 * t)


def probability_log_variance_offset(phi: float = PHI) -> float:
    """``2 log(1/σ'(φ))``: add it to ``log Var`` of a gradient w.r.t. the logit ``φ`` to get
    ``log Var`` of the gradient w.r.t. the probability ``p = σ(φ)``.

    The same estimator computed w.r.t. ``p`` (through ``φ = logit p``, with the same
    noise) is, by the chain rule, ``ĝ_p = ĝ_φ dφ/dp = ĝ_φ / σ'(φ)``, so
    ``Var_p = Var_φ / σ'(φ)²``; ``1/σ'(φ) = 2 + 2 cosh φ`` (4 at φ = 0). Natural logs.

    Example:
        >>> round(probability_log_variance_offset(0.0), 4)  # 2 log 4
        2.7726
    """
    return 2.0 * math.log(2.0 + 2.0 * math.cosh(phi))


def _toy_f(t: Array) -> Callable[[Array], Array]:
    return lambda b: (b - t) ** 2


def _relax_control_variate(t: Array) -> Callable[[dict, Array], Array]:
    """``c_φ(z) = η f(σ(z/λ)) + r_ρ(z)``: REBAR's control variate plus a one-hidden-layer
    tanh network ``r_ρ``, a RELAX control variate that can represent REBAR's (``r_ρ = 0``)."""
    f = _toy_f(t)

    def c(params, z):
        relaxed = jax.nn.sigmoid(z / jnp.exp(params["log_temperature"]))
        hidden = jnp.tanh(z * params["w1"] + params["b1"])
        return params["eta"] * f(relaxed) + hidden @ params["w2"] + params["b2"]

    return c


def _initial_control_variates(key: Array) -> tuple[dict, dict]:
    k1, k2 = jax.random.split(key)
    rebar_params = {"eta": jnp.float32(1.0), "log_temperature": jnp.log(jnp.float32(TEMPERATURE))}
    relax_params = {
        **rebar_params,
        "w1": jax.random.normal(k1, (HIDDEN,)),
        "b1": jnp.zeros(HIDDEN),
        "w2": 0.1 * jax.random.normal(k2, (HIDDEN,)),
        "b2": jnp.zeros(()),
    }
    return rebar_params, relax_params


def _rebar_variance(params, keys, t):
    def one(k):
        eta, temperature = params["eta"], jnp.exp(params["log_temperature"])
        return rebar_variance_loss(k, PHI, _toy_f(t), eta, temperature, kind="bernoulli")[0]

    return jnp.mean(jax.vmap(one)(keys))


def _relax_variance(params, keys, t):
    c = _relax_control_variate(t)

    def one(k):
        return relax_variance_loss(k, PHI, _toy_f(t), c, params, kind="bernoulli")[0]

    return jnp.mean(jax.vmap(one)(keys))


def _adam(loss, params, keys, t):
    """Adam on ``loss(params, batch_keys, t)``, one row of ``keys`` per step (lax.scan)."""
    opt = optax.adam(LEARNING_RATE)

    def step(carry, batch_keys):
        p, state = carry
        updates, state = opt.update(jax.grad(loss)(p, batch_keys, t), state)
        return (optax.apply_updates(p, updates), state), None

    return jax.lax.scan(step, (params, opt.init(params)), keys)[0][0]


@functools.partial(_jit, static_argnames=("steps", "batch"))
def _train_control_variates(key, ts, rebar_params, relax_params, steps, batch):
    """REBAR's (η, log λ) and RELAX's φ fitted for each t (vmapped over t)."""

    def one(k, t):
        k1, k2 = jax.random.split(k)
        keys1 = jax.random.split(k1, (steps, batch))
        keys2 = jax.random.split(k2, (steps, batch))
        return _adam(_rebar_variance, rebar_params, keys1, t), _adam(
            _relax_variance, relax_params, keys2, t
        )

    return jax.vmap(one)(jax.random.split(key, len(ts)), ts)


def _bernoulli_draws(t, rebar_params, relax_params) -> dict[str, Callable[[Array], Array]]:
    """name -> (key -> one draw of the estimate of ∂/∂φ E[(b - t)²] at φ = PHI)."""
    f = _toy_f(t)
    phi = jnp.float32(PHI)
    grad = functools.partial(jax.grad, argnums=1)

    def reinforce(k, n):
        def loss(lg):
            d = Bernoulli(logits=lg)
            b = d.sample(k, (n,))
            r = f(b)
            return reinforce_loss(d.log_prob(b), r, leave_one_out_baseline(r) if n > 1 else None)

        return -jax.grad(loss)(phi)  # reinforce_loss is minimised: -∇ is ∇E[f]

    def relaxed_grad(sample):
        return lambda k: jax.grad(lambda lg: f(sample(k, lg)))(phi)

    eta, temp = rebar_params["eta"], jnp.exp(rebar_params["log_temperature"])
    c = _relax_control_variate(t)
    return {
        "reinforce": lambda k: reinforce(k, 1),
        "reinforce+loo": lambda k: reinforce(k, 2),
        "rebar_init": lambda k: grad(rebar)(k, phi, f, 1.0, TEMPERATURE, kind="bernoulli"),
        "rebar": lambda k: grad(rebar)(k, phi, f, eta, temp, kind="bernoulli"),
        "relax": lambda k: grad(relax)(k, phi, f, c, relax_params, kind="bernoulli"),
        "arm": lambda k: grad(arm)(k, phi, f),
        "disarm": lambda k: grad(disarm)(k, phi, f),
        "straight_through": relaxed_grad(lambda k, lg: straight_through(k, lg, "bernoulli")),
        "relaxed": relaxed_grad(lambda k, lg: relaxed_bernoulli(k, lg, TEMPERATURE)),
        "relaxed_hard": relaxed_grad(lambda k, lg: relaxed_bernoulli(k, lg, TEMPERATURE, True)),
        "gumbel_softmax": relaxed_grad(
            lambda k, lg: gumbel_softmax(k, jnp.stack([lg, 0.0]), TEMPERATURE)[0]
        ),
    }


@functools.partial(_jit, static_argnames=("total",))
def _bernoulli_estimates(key, ts, rebar_params, relax_params, total: int):
    """{name: (len(ts), total / u) draws}, u the samples per draw; vmapped over t."""

    def one(k, t, rp, xp):
        draws = _bernoulli_draws(t, rp, xp)
        out = {}
        for i, (name, draw) in enumerate(draws.items()):
            u = BERNOULLI_ESTIMATORS[name][1]
            out[name] = jax.vmap(draw)(jax.random.split(jax.random.fold_in(k, i), total // u))
        return out

    return jax.vmap(one)(jax.random.split(key, len(ts)), ts, rebar_params, relax_params)


# ---------------------------------------------------------------------------------------
# Statistics.


def _bias(draws: np.ndarray, truth: float) -> tuple[float, float, float]:
    """(mean, SE, bias in SE) of i.i.d. (or martingale-difference) draws."""
    draws = np.asarray(draws, np.float64)
    mean = float(draws.mean())
    se = float(draws.std(ddof=1) / math.sqrt(len(draws)))
    floor = _SE_FLOOR * (1.0 + abs(truth))
    return mean, se, (mean - truth) / math.sqrt(se**2 + floor**2)


def _block_variance(draws: np.ndarray, per_block: int) -> float:
    """Variance of the mean of ``per_block`` consecutive i.i.d. draws."""
    draws = np.asarray(draws, np.float64)
    blocks = draws[: len(draws) // per_block * per_block].reshape(-1, per_block).mean(1)
    return float(blocks.var(ddof=1))


def _gaussian_rows(config: ReportConfig, key: Array) -> list[Row]:
    params = [jnp.float32(MU), jnp.log(jnp.float32(SIGMA))]
    counts = tuple(sorted(set(config.sample_counts) | {config.table_samples}))
    out = jax.tree.map(np.asarray, _gaussian_estimates(key, params, config.total_samples, counts))
    rows = []
    for name in GAUSSIAN_ESTIMATORS:
        for i, (fname, truths) in enumerate(gaussian_truth().items()):
            for j, (pname, truth) in enumerate(zip(_PARAM_NAMES, truths, strict=True)):
                if name in _POOLED:
                    draws = out[name][i, :, j]
                    variances = {n: _block_variance(draws, n) for n in counts}
                else:
                    per_n = {n: out[f"{name}|{n}"][i, :, j] for n in counts}
                    draws = per_n[config.table_samples]
                    variances = {n: _block_variance(e, 1) for n, e in per_n.items()}
                mean, se, z = _bias(draws, truth)
                rows.append(
                    Row("gaussian", name, f"{fname} {pname}", True, truth, mean, se, z, variances)
                )
    return rows


def _bernoulli_rows(config: ReportConfig, key: Array) -> list[Row]:
    ts = jnp.asarray(TS, jnp.float32)
    init_key, train_key, eval_key = jax.random.split(key, 3)
    rebar0, relax0 = _initial_control_variates(init_key)
    rebar_params, relax_params = _train_control_variates(
        train_key, ts, rebar0, relax0, config.train_steps, config.train_batch
    )
    out = _bernoulli_estimates(eval_key, ts, rebar_params, relax_params, config.total_samples)
    out = jax.tree.map(np.asarray, out)
    counts = tuple(sorted(set(config.sample_counts) | {config.table_samples}))
    rows = []
    for name, (unbiased, u, _) in BERNOULLI_ESTIMATORS.items():
        for i, t in enumerate(TS):
            draws = out[name][i]
            truth = bernoulli_truth(t)
            mean, se, z = _bias(draws, truth)
            variances = {n: _block_variance(draws, n // u) for n in counts}
            rows.append(Row("bernoulli", name, f"t={t}", unbiased, truth, mean, se, z, variances))
    return rows


# ---------------------------------------------------------------------------------------
# Output.


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, jax {jax.__version__} ({jax.default_backend()})"


def _fmt(x: float, width: int = 9) -> str:
    return f"{x:{width}.3g}" if x != 0 else f"{'0':>{width}}"


def _fmt_log(v: float) -> str:
    return f"{math.log(v):7.2f}" if v > 0 else f"{'-inf':>7}"


def format_report(
    rows: Sequence[Row],
    config: ReportConfig,
    elapsed: float | None = None,
    cpu: float | None = None,
) -> str:
    """The report's tables as text (what ``main`` prints and saves as ``report.txt``).

    Example:
        >>> print(format_report(*run_report(QUICK)[:2]))
    """
    n, total = config.table_samples, config.total_samples
    lines = [
        "jdist gradient-estimator variance report",
        f"machine: {_machine()}",
        f"samples per estimator and problem: {total}; tables at N = {n} samples per estimate; "
        f"bias = (mean - truth) / SE of the mean over all {total} samples",
    ]
    if elapsed is not None:
        cpu_text = f", {cpu:.1f} s CPU (this process)" if cpu is not None else ""
        lines.append(f"elapsed: {elapsed:.1f} s wall{cpu_text}, compilation included")
    lines += [
        "",
        f"Gaussian: d/d(mu, sigma) E_{{x~N(mu, sigma^2)}}[f(x)], mu = {MU}, sigma = {SIGMA} "
        "(Mohamed et al. 2020, Sec. 3); all estimators unbiased",
        f"{'estimator':18s}{'f':7s}{'dmu bias/SE':>12s}{f'dmu Var(N={n})':>15s}"
        f"{'dsigma bias/SE':>15s}{f'dsigma Var(N={n})':>18s}",
    ]
    gauss = {(r.estimator, r.target): r for r in rows if r.problem == "gaussian"}
    for name in GAUSSIAN_ESTIMATORS:
        for fname in GAUSSIAN_FUNCTIONS:
            mu_row, sigma_row = (gauss[name, f"{fname} {p}"] for p in _PARAM_NAMES)
            lines.append(
                f"{name:18s}{fname:7s}{mu_row.bias_se:+12.2f}{_fmt(mu_row.variances[n], 15)}"
                f"{sigma_row.bias_se:+15.2f}{_fmt(sigma_row.variances[n], 18)}"
            )
    offset = probability_log_variance_offset()
    lines += [
        "",
        f"Bernoulli toy: d/dphi E_{{b~Bern(sigmoid(phi))}}[(b - t)^2] = sigmoid'(phi)(1 - 2t), "
        f"phi = {PHI}; bias/SE and ln Var of an N = {n}-sample estimate",
        f"{'estimator':18s}"
        + "".join(f"{f't={t}':>20s}" for t in TS)
        + "\n"
        + f"{'':18s}"
        + f"{'bias/SE  ln Var':>20s}" * len(TS),
    ]
    bern = {(r.estimator, r.target): r for r in rows if r.problem == "bernoulli"}
    for name in BERNOULLI_ESTIMATORS:
        cells = []
        for t in TS:
            r = bern[name, f"t={t}"]
            z = f"{r.bias_se:+.1f}" if abs(r.bias_se) < 1e4 else f"{r.bias_se:+.1e}"
            cells.append(f"{z:>12s}{_fmt_log(r.variances[n]):>8s}")
        lines.append(f"{name:18s}" + "".join(cells))
    lines.append(f"{'truth':18s}" + "".join(f"{bernoulli_truth(t):20.3g}" for t in TS))
    lines += ["", "Biased estimators, mean / truth:"]
    for name, (unbiased, _, _) in BERNOULLI_ESTIMATORS.items():
        if not unbiased:
            ratios = [bern[name, f"t={t}"].mean / bernoulli_truth(t) for t in TS]
            lines.append(f"{name:18s}" + "".join(f"{x:20.3g}" for x in ratios))
    lines += [
        "",
        "Estimators:",
        *(f"  {k:18s}{v}" for k, v in GAUSSIAN_ESTIMATORS.items()),
        *(
            f"  {k:18s}{d} [{u} sample{'s' if u > 1 else ''} per draw]"
            for k, (_, u, d) in BERNOULLI_ESTIMATORS.items()
        ),
        "",
        f"Control variates: rebar and relax fitted per t with {config.train_steps} Adam steps "
        f"(lr {LEARNING_RATE}) of {config.train_batch} fresh keys each on the variance losses "
        "(keys independent of the evaluation keys); rebar_init is rebar before training.",
        "ln Var is w.r.t. the logit phi. The REBAR and RELAX papers differentiate w.r.t. the "
        "probability p = sigmoid(phi)",
        f"(and show their variances only as plots): ln Var_p = ln Var_phi + 2 ln(1/sigmoid'(phi))"
        f" = ln Var_phi + {offset:.3f} at phi = {PHI} (the right axis of bernoulli_variance.png).",
    ]
    return "\n".join(lines)


def plot_variances(rows: Sequence[Row], out_dir: str | Path) -> list[Path]:
    """Log-log plots of variance against the number of samples N, one line per estimator.

    Writes ``gaussian_variance.png`` (a panel per f and parameter) and
    ``bernoulli_variance.png`` (a panel per t; biased estimators dashed; the right axis is
    the variance w.r.t. the probability ``p = σ(φ)``). Estimators exact up to rounding
    (variance below the float32 floor) are named in the panel instead of drawn. Imports
    matplotlib here, so ``import jdist`` never does; returns the paths written.

    Example:
        >>> rows, config, _ = run_report(QUICK)
        >>> plot_variances(rows, "estimator_report")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    paths = []
    gauss = [r for r in rows if r.problem == "gaussian"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 8), squeeze=False)
    colors = _colors(plt, GAUSSIAN_ESTIMATORS)
    for col, fname in enumerate(GAUSSIAN_FUNCTIONS):
        for row_i, pname in enumerate(_PARAM_NAMES):
            ax = axes[row_i][col]
            _plot_panel(ax, [r for r in gauss if r.target == f"{fname} {pname}"], colors)
            ax.set_title(f"f = {fname}, {pname}")
    _finish(fig, axes, "Gaussian: variance of an N-sample estimate", colors)
    paths.append(out_dir / "gaussian_variance.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    bern = [r for r in rows if r.problem == "bernoulli"]
    fig, axes = plt.subplots(1, len(TS), figsize=(4.3 * len(TS), 5.2), squeeze=False)
    colors = _colors(plt, BERNOULLI_ESTIMATORS)
    scale = math.exp(probability_log_variance_offset())
    for i, t in enumerate(TS):
        ax = axes[0][i]
        _plot_panel(ax, [r for r in bern if r.target == f"t={t}"], colors)
        ax.set_title(f"t = {t}")
        secondary = ax.secondary_yaxis(
            "right", functions=(lambda v: v * scale, lambda v: v / scale)
        )
        if i == len(TS) - 1:
            secondary.set_ylabel("variance w.r.t. p = sigmoid(phi)")
    biased = [name for name, (unbiased, _, _) in BERNOULLI_ESTIMATORS.items() if not unbiased]
    title = f"Bernoulli toy at phi = {PHI}: variance w.r.t. phi (left axis); dashed: biased"
    _finish(fig, axes, title, colors, biased)
    paths.append(out_dir / "bernoulli_variance.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths


def _colors(plt, names) -> dict[str, Any]:
    palette = [plt.get_cmap("tab10")(i) for i in range(10)] + ["black", "olive"]
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def _is_exact(row: Row, variance: float) -> bool:
    return variance <= (_SE_FLOOR * (1.0 + abs(row.truth))) ** 2


def _plot_panel(ax, rows: Sequence[Row], colors: dict[str, Any]) -> None:
    exact = []
    for row in rows:
        counts = sorted(row.variances)
        if all(_is_exact(row, row.variances[n]) for n in counts):
            exact.append(row.estimator)
            continue
        variances = [row.variances[n] for n in counts]
        style = "-o" if row.unbiased else "--x"
        ax.plot(counts, variances, style, color=colors[row.estimator], markersize=3)
    if exact:
        ax.text(
            0.98,
            0.98,
            "exact (variance 0):\n" + "\n".join(exact),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )


def _finish(fig, axes, title: str, colors: dict[str, Any], biased=()) -> None:
    from matplotlib.lines import Line2D

    for row in axes:
        for ax in row:
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("N samples")
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("variance")
    handles = [
        Line2D([], [], color=c, marker="x" if n in biased else "o", markersize=3)
        for n, c in colors.items()
    ]
    for h, n in zip(handles, colors, strict=True):
        h.set_linestyle("--" if n in biased else "-")
    fig.legend(handles, list(colors), loc="lower center", ncol=min(len(colors), 6), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))


def run_report(config: ReportConfig = FULL) -> tuple[list[Row], ReportConfig, float]:
    """Measure every estimator on every problem: ``(rows, config, seconds)``.

    Example:
        >>> rows, _, seconds = run_report(QUICK)
        >>> [r.bias_se for r in rows if r.estimator == "disarm"]
    """
    for n in set(config.sample_counts) | {config.table_samples}:
        if n % 2 or config.total_samples % n:
            raise ValueError(
                f"run_report: sample counts must be even and divide total_samples="
                f"{config.total_samples}; got {n}"
            )
    start = time.perf_counter()
    key = jax.random.key(config.seed)
    gauss_key, bern_key = jax.random.split(key)
    rows = _gaussian_rows(config, gauss_key) + _bernoulli_rows(config, bern_key)
    return rows, config, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m jdist.estimators.report [--out DIR] [--quick]``.

    Prints the tables and writes ``report.txt``, ``report.json`` and the plots to ``DIR``.

    Example:
        >>> main(["--quick", "--out", "/tmp/report"])
        0
    """
    parser = argparse.ArgumentParser(prog="python -m jdist.estimators.report", description=__doc__)
    parser.add_argument("--out", default="estimator_report", help="output folder")
    parser.add_argument("--quick", action="store_true", help="small sizes (about 20 s)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    start, start_cpu = time.perf_counter(), time.process_time()
    rows, _, _ = run_report(config)
    try:
        plots = [str(p) for p in plot_variances(rows, out_dir)]
    except ImportError:
        plots = []
        print(
            "matplotlib is not installed: no plots (pip install jdist[examples])", file=sys.stderr
        )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    text = format_report(rows, config, elapsed, cpu)
    print(text)
    (out_dir / "report.txt").write_text(text + "\n")
    summary = {
        "config": dataclasses.asdict(config),
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "machine": _machine(),
        "plots": plots,
        "rows": [r.to_json() for r in rows],
    }
    (out_dir / "report.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
