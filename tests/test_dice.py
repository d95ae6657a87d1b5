"""DiCE and Loaded DiCE: first and second derivatives against closed forms.

As in tests/test_estimators.py, each check draws M independent estimates (one trajectory
each) at a fixed key and asserts that their mean is within 4 standard errors of the
closed form per component (a 6e-5 two-sided false-alarm rate per component). That the
check has teeth is shown by the naive surrogate ``log_prob * cost``: its first
derivative passes, its second derivative is caught.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jdist
from jdist.estimators.dice import dice_objective, loaded_dice_objective, magic_box

M = 20_000

# --- one Bernoulli node: E_{b~Bernoulli(σ(θ))}[f(b)] ------------------------------
THETA = 0.3
F0, F1 = -0.7, 2.5  # f(0), f(1)
P = 1.0 / (1.0 + np.exp(-THETA))
# d/dθ σ(θ) = p(1-p), d²/dθ² σ(θ) = p(1-p)(1-2p); E[f] = f0 + p (f1 - f0).
TRUE_D1 = P * (1 - P) * (F1 - F0)
TRUE_D2 = P * (1 - P) * (1 - 2 * P) * (F1 - F0)
MEAN_F = F0 + P * (F1 - F0)


def _f(b):
    return jnp.where(b > 0.5, F1, F0)


def _z_scores(estimates, truth):
    """Bias in standard errors; a constant estimate is 0 if exact, else infinitely off."""
    estimates = np.asarray(estimates, np.float64)
    se = estimates.std(0, ddof=1) / np.sqrt(estimates.shape[0])
    bias = estimates.mean(0) - np.asarray(truth)
    exact = np.abs(bias) <= 1e-6 * (1 + np.abs(np.asarray(truth)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, bias / se, np.where(exact, 0.0, np.inf))


def assert_unbiased(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.all(np.abs(z) < 4), f"bias of {z} standard errors"


def assert_caught(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.any(np.abs(z) > 4), f"biased variant not caught: {z} standard errors"


def _bernoulli_derivatives(surrogate):
    """(first, second) derivative estimates, one sample each, for M samples."""

    def one(key):
        b = jdist.Bernoulli(logits=THETA).sample(key)

        def objective(theta):
            return surrogate(jdist.Bernoulli(logits=theta).log_prob(b), _f(b))

        return jax.grad(objective)(THETA), jax.grad(jax.grad(objective))(THETA)

    d1, d2 = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), M))
    return np.asarray(d1), np.asarray(d2)


SURROGATES = {
    "dice": lambda lp, c: dice_objective(lp[None], c[None]),
    "loaded_dice": lambda lp, c: loaded_dice_objective(lp[None], c[None]),
    "loaded_dice_baseline": lambda lp, c: loaded_dice_objective(lp[None], c[None], MEAN_F),
    "naive": lambda lp, c: lp * c,
}


@pytest.fixture(scope="module")
def bernoulli_estimates():
    return {name: _bernoulli_derivatives(s) for name, s in SURROGATES.items()}


@pytest.mark.parametrize("name", ["dice", "loaded_dice", "loaded_dice_baseline"])
def test_bernoulli_first_and_second_derivatives_unbiased(bernoulli_estimates, name):
    d1, d2 = bernoulli_estimates[name]
    assert_unbiased(d1[:, None], [TRUE_D1])
    assert_unbiased(d2[:, None], [TRUE_D2])


def test_naive_surrogate_second_derivative_is_caught(bernoulli_estimates):
    """``log_prob * cost`` has the right gradient but drops the ``(∇ log p)²`` term of
    the second derivative: its mean is ``E[∇² log p · f] = -p(1-p) E[f]``."""
    d1, d2 = bernoulli_estimates["naive"]
    assert_unbiased(d1[:, None], [TRUE_D1])
    assert_caught(d2[:, None], [TRUE_D2])
    assert_unbiased(d2[:, None], [-P * (1 - P) * MEAN_F])  # ... for the wrong quantity


def test_baseline_lowers_variance_bernoulli(bernoulli_estimates):
    var = {name: e[0].var(ddof=1) for name, e in bernoulli_estimates.items()}
    var2 = {name: e[1].var(ddof=1) for name, e in bernoulli_estimates.items()}
    # With M = 20,000 a sample variance is known to about 1%; 20% is a wide margin.
    assert var["loaded_dice_baseline"] < 0.8 * var["dice"], var
    assert var2["loaded_dice_baseline"] < 0.8 * var2["dice"], var2


# --- two sequential Bernoulli steps -------------------------------------------------
# a0 ~ Bern(σ(θ0)), a1 ~ Bern(σ(θ1 + K a0)); costs c0 = C0[a0], c1 = C1[a0, a1];
# objective E[c0 + γ c1]. Closed form by enumerating the 4 trajectories.
THETA2 = jnp.array([0.4, -0.3])
K = 0.8
GAMMA = 0.9
# Costs have a level (+2) as rewards in RL often do; it changes no derivative of the
# expectation, only the variance of estimators without a baseline.
C0 = jnp.array([1.5, 2.5])
# The effect of a1 on c1 changes sign with a0, so the mixed derivative d²/dθ0dθ1 (the
# dependence of c1 on both samples, which λ < 1 discounts) is large.
C1 = jnp.array([[2.0, 4.0], [3.5, 0.5]])


def _p1(theta, a0):
    return jax.nn.sigmoid(theta[1] + K * a0)


def _exact(theta):
    total = 0.0
    for a0 in (0, 1):
        pa0 = jax.nn.sigmoid(theta[0]) if a0 else 1 - jax.nn.sigmoid(theta[0])
        for a1 in (0, 1):
            pa1 = _p1(theta, a0) if a1 else 1 - _p1(theta, a0)
            total = total + pa0 * pa1 * (C0[a0] + GAMMA * C1[a0, a1])
    return total


def _values(a0):
    """Exact V_0 (constant) and V_1(a0) = E[c1 | a0]: baselines of the state only."""
    v1 = _p1(THETA2, a0) * C1[a0, 1] + (1 - _p1(THETA2, a0)) * C1[a0, 0]
    return jnp.stack([_exact(THETA2), v1])


TRUE_GRAD2 = np.asarray(jax.grad(_exact)(THETA2))
TRUE_HESS2 = np.asarray(jax.hessian(_exact)(THETA2))


def _two_step_log_probs(theta, a0, a1):
    return jnp.stack(
        [
            jdist.Bernoulli(logits=theta[0]).log_prob(a0),
            jdist.Bernoulli(logits=theta[1] + K * a0).log_prob(a1),
        ]
    )


def _two_step_derivatives(surrogates, seed=1):
    """{name: (gradient (M, 2), Hessian (M, 4))} estimates, one trajectory each."""

    def one(key):
        k0, k1 = jax.random.split(key)
        a0 = jdist.Bernoulli(logits=THETA2[0]).sample(k0)
        a1 = jdist.Bernoulli(logits=THETA2[1] + K * a0).sample(k1)
        i0, i1 = a0.astype(jnp.int32), a1.astype(jnp.int32)
        costs = jnp.stack([C0[i0], C1[i0, i1]])
        out = {}
        for name, surrogate in surrogates.items():

            def objective(theta, surrogate=surrogate):
                return surrogate(_two_step_log_probs(theta, a0, a1), costs, _values(i0))

            out[name] = (jax.grad(objective)(THETA2), jax.hessian(objective)(THETA2).reshape(4))
        return out

    estimates = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), M))
    return jax.tree.map(np.asarray, estimates)


def _naive_sequential(log_probs, costs, values):
    # Surrogate loss: cumulative log-probability times the (fixed) discounted cost.
    gammas = GAMMA ** jnp.arange(2)
    return jnp.sum(jnp.cumsum(log_probs) * jax.lax.stop_gradient(gammas * costs))


SEQUENTIAL = {
    "dice": lambda lp, c, v: dice_objective(lp, c, discount=GAMMA),
    "loaded_dice_baseline": lambda lp, c, v: loaded_dice_objective(lp, c, v, discount=GAMMA),
    "loaded_dice_lam0.5": lambda lp, c, v: loaded_dice_objective(lp, c, v, discount=GAMMA, lam=0.5),
    "loaded_dice_gae0.5_exact_values": lambda lp, c, v: loaded_dice_objective(
        lp, c, v, discount=GAMMA, gae_lambda=0.5
    ),
    "naive": _naive_sequential,
}


@pytest.fixture(scope="module")
def sequential_estimates():
    return _two_step_derivatives(SEQUENTIAL)


@pytest.mark.parametrize("name", ["dice", "loaded_dice_baseline"])
def test_two_step_gradient_and_hessian_unbiased(sequential_estimates, name):
    g, h = sequential_estimates[name]
    assert_unbiased(g, TRUE_GRAD2)
    assert_unbiased(h, TRUE_HESS2.reshape(4))


def test_two_step_naive_surrogate_hessian_is_caught(sequential_estimates):
    g, h = sequential_estimates["naive"]
    assert_unbiased(g, TRUE_GRAD2)
    assert_caught(h, TRUE_HESS2.reshape(4))


def test_loaded_dice_lambda_keeps_gradient_unbiased_and_biases_hessian(sequential_estimates):
    """λ < 1 down-weights the dependence of c1 on a0 in second derivatives only."""
    g, h = sequential_estimates["loaded_dice_lam0.5"]
    assert_unbiased(g, TRUE_GRAD2)
    assert_caught(h, TRUE_HESS2.reshape(4))
    _, h_full = sequential_estimates["loaded_dice_baseline"]
    assert h.var(0, ddof=1).sum() < h_full.var(0, ddof=1).sum()


def test_gae_advantages_with_exact_values_unbiased(sequential_estimates):
    g, _ = sequential_estimates["loaded_dice_gae0.5_exact_values"]
    assert_unbiased(g, TRUE_GRAD2)


def test_state_baseline_lowers_variance_two_step(sequential_estimates):
    var = {
        name: (g.var(0, ddof=1).sum(), h.var(0, ddof=1).sum())
        for name, (g, h) in sequential_estimates.items()
    }
    assert var["loaded_dice_baseline"][0] < 0.8 * var["dice"][0], var
    assert var["loaded_dice_baseline"][1] < 0.8 * var["dice"][1], var


# --- exact identities, shapes, jit/vmap ----------------------------------------------
def test_magic_box_value_and_derivatives():
    x = jnp.array([-3.0, 0.0, 2.5])
    np.testing.assert_array_equal(magic_box(x), 1.0)
    # d/dθ □(g(θ)) = □ g', d²/dθ² = □ (g'' + g'²): for g = θ³ at θ = 1.5.
    g = lambda t: magic_box(t**3)  # noqa: E731
    np.testing.assert_allclose(jax.grad(g)(1.5), 3 * 1.5**2, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(jax.grad(g))(1.5), 6 * 1.5 + 9 * 1.5**4, rtol=1e-6)


def _trajectories(key, batch=5, steps=4):
    k1, k2, k3 = jax.random.split(key, 3)
    log_probs_scale = jax.random.normal(k1, (steps, batch))
    costs = jax.random.normal(k2, (steps, batch))
    values = jax.random.normal(k3, (steps, batch))
    return log_probs_scale, costs, values


def test_values_and_loaded_dice_without_baseline_equals_dice():
    """With λ = 1, no baseline and Monte Carlo advantages, Loaded DiCE differs from DiCE
    by a constant: identical derivatives of every order, per trajectory."""
    w, costs, _ = _trajectories(jax.random.key(3))

    def log_probs(theta):  # a smooth stand-in for log π_θ(a_t | s_t)
        return -jnp.square(w - theta[0]) * jnp.exp(theta[1]) - theta[1]

    theta = jnp.array([0.2, -0.4])
    dice = lambda th: dice_objective(log_probs(th), costs, discount=0.8)  # noqa: E731
    loaded = lambda th: loaded_dice_objective(log_probs(th), costs, discount=0.8)  # noqa: E731
    expected_value = np.mean(np.sum(0.8 ** np.arange(4)[:, None] * np.asarray(costs), 0))
    np.testing.assert_allclose(dice(theta), expected_value, rtol=1e-5)
    np.testing.assert_allclose(loaded(theta), expected_value, rtol=1e-5)

    @jax.jit
    def derivatives(theta):
        orders = (jax.grad, jax.hessian, lambda f: jax.jacfwd(jax.hessian(f)))
        return [(d(loaded)(theta), d(dice)(theta)) for d in orders]

    for of_loaded, of_dice in derivatives(theta):
        np.testing.assert_allclose(of_loaded, of_dice, rtol=1e-4, atol=1e-5)


def test_time_axis_argument():
    lp, costs, values = _trajectories(jax.random.key(4))
    for fn in (dice_objective, loaded_dice_objective):
        args = (lp, costs) if fn is dice_objective else (lp, costs, values)
        a = fn(*args, discount=0.9)
        b = fn(*(x.T for x in args), discount=0.9, axis=1)
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # Broadcasting: one cost per trajectory at the last step only.
    np.testing.assert_allclose(
        dice_objective(lp, jnp.zeros((4, 1)).at[-1].set(2.0)), 2.0, rtol=1e-6
    )


def test_jit_vmap_and_no_retrace_on_hyperparameters():
    lp, costs, values = _trajectories(jax.random.key(5))
    traces = []

    @jax.jit
    def hess(theta, discount, lam, gae_lambda):
        traces.append(1)

        def obj(th):
            return loaded_dice_objective(
                lp * th, costs, values, discount=discount, lam=lam, gae_lambda=gae_lambda
            )

        return jax.hessian(obj)(theta)

    hess(1.0, 0.9, 1.0, 1.0)
    hess(1.0, 0.5, 0.7, 0.3)
    assert len(traces) == 1
    batched = jax.vmap(lambda lps, c: dice_objective(lps, c, discount=0.9), in_axes=1)(lp, costs)
    np.testing.assert_allclose(
        batched, [dice_objective(lp[:, i], costs[:, i], discount=0.9) for i in range(5)], rtol=1e-6
    )
