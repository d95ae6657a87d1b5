"""Unbiasedness (against closed-form gradients) and measured variance of the estimators.

Each check draws M independent gradient estimates at a fixed key and asserts that their
mean is within 4 standard errors of the closed form, per component. 4 SE is a 6e-5
two-sided false-alarm rate per component; a biased estimator is caught as shown by
``test_unbiasedness_check_catches_a_biased_baseline``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jdist
from jdist.estimators import (
    MovingAverageBaseline,
    leave_one_out_baseline,
    reinforce_loss,
)

MU, SIGMA = 0.5, 1.3
TRUE_GRAD = np.array([2 * MU, 2 * SIGMA])  # d/d(μ,σ) E_{N(μ,σ²)}[x²] = (2μ, 2σ)
M, K = 20_000, 4
PARAMS = jnp.array([MU, SIGMA])


def f(x):
    return x**2


def _z_scores(estimates, truth):
    estimates = np.asarray(estimates, np.float64)
    se = estimates.std(0, ddof=1) / np.sqrt(estimates.shape[0])
    return (estimates.mean(0) - truth) / se


def assert_unbiased(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.all(np.abs(z) < 4), f"bias of {z} standard errors"


def _score_estimate(params, key, baseline_fn):
    """One estimate of ∇E[f] from K samples: minus the gradient of the surrogate loss."""

    def loss(p):
        d = jdist.Normal(p[0], p[1])
        x = d.sample(key, (K,))
        r = f(x)
        return reinforce_loss(d.log_prob(x), r, baseline_fn(r))

    return -jax.grad(loss)(params)


@functools.partial(jax.jit, static_argnums=1)
def _estimates(key, kind):
    keys = jax.random.split(key, M)
    baseline = {
        "none": lambda r: None,
        "loo": leave_one_out_baseline,
        "biased_mean_incl_self": lambda r: jnp.mean(r, keepdims=True) + 0 * r,
    }[kind]
    return jax.vmap(lambda k: _score_estimate(PARAMS, k, baseline))(keys)


def _moving_average_estimates(key):
    ma = MovingAverageBaseline(decay=0.9)

    def step(state, k):
        b = ma.value(state)  # computed before seeing this step's rewards: unbiased
        est = _score_estimate(PARAMS, k, lambda r: b)
        x = jdist.Normal(MU, SIGMA).sample(k, (K,))
        return ma.update(state, f(x)), est

    _, ests = jax.lax.scan(step, ma.init(), jax.random.split(key, M))
    return ests


def _pathwise_estimates(key):
    def one(k):
        return jax.grad(lambda p: jnp.mean(f(jdist.Normal(p[0], p[1]).rsample(k, (K,)))))(PARAMS)

    return jax.vmap(one)(jax.random.split(key, M))


@pytest.fixture(scope="module")
def variances():
    key = jax.random.key(2024)
    ests = {
        "score": _estimates(key, "none"),
        "score+loo": _estimates(key, "loo"),
        "score+moving_average": jax.jit(_moving_average_estimates)(key),
        "pathwise": jax.jit(_pathwise_estimates)(key),
    }
    return {name: np.asarray(e) for name, e in ests.items()}


@pytest.mark.parametrize("name", ["score", "score+loo", "score+moving_average", "pathwise"])
def test_gaussian_estimators_are_unbiased(variances, name):
    assert_unbiased(variances[name], TRUE_GRAD)


def test_baselines_and_pathwise_reduce_variance(variances):
    var = {name: e.var(0, ddof=1).sum() for name, e in variances.items()}
    # With M = 20,000 the sample variance is known to a few percent, so a 20% margin
    # is many standard errors wide.
    assert var["score+loo"] < 0.8 * var["score"], var
    assert var["score+moving_average"] < 0.8 * var["score"], var
    assert var["pathwise"] < 0.8 * var["score+loo"], var


def test_unbiasedness_check_catches_a_biased_baseline():
    """A baseline that includes the sample itself shrinks the gradient by (K-1)/K."""
    ests = _estimates(jax.random.key(7), "biased_mean_incl_self")
    z = _z_scores(ests, TRUE_GRAD)
    assert np.any(np.abs(z) > 4), z
    np.testing.assert_allclose(ests.mean(0), TRUE_GRAD * (K - 1) / K, rtol=0.1)


def test_bernoulli_and_categorical_score_function_unbiased():
    t = 0.45
    theta = jnp.array(0.3)
    sig = 1 / (1 + np.exp(-0.3))
    true = sig * (1 - sig) * ((1 - t) ** 2 - t**2)  # d/dθ E_{b~Bern(σ(θ))}[(b-t)²]

    def one_bernoulli(k):
        def loss(th):
            d = jdist.Bernoulli(logits=th)
            b = d.sample(k, (K,))
            r = (b - t) ** 2
            return reinforce_loss(d.log_prob(b), r, leave_one_out_baseline(r))

        return -jax.grad(loss)(theta)

    ests = jax.jit(jax.vmap(one_bernoulli))(jax.random.split(jax.random.key(3), M))
    assert_unbiased(ests[:, None], np.array([true]))

    logits = jnp.array([0.2, -1.0, 0.7])
    values = jnp.array([1.0, -2.0, 3.0])
    p = np.asarray(jax.nn.softmax(logits))
    true_cat = p * (np.asarray(values) - np.sum(p * np.asarray(values)))

    def one_categorical(k):
        def loss(lg):
            d = jdist.Categorical(logits=lg)
            a = d.sample(k, (K,))
            return reinforce_loss(d.log_prob(a), values[a])

        return -jax.grad(loss)(logits)

    ests = jax.jit(jax.vmap(one_categorical))(jax.random.split(jax.random.key(4), M))
    assert_unbiased(ests, true_cat)


def test_reinforce_loss_matches_the_seed_formula():
    logits = jnp.array([[0.1, 0.5, -0.2], [1.0, 0.0, 0.3]])
    reward = jnp.array([2.0, -1.0])
    m = jdist.Categorical(logits=logits)
    action = m.sample(jax.random.key(0))
    seed = jax.grad(lambda lg: jnp.mean(-jdist.Categorical(logits=lg).log_prob(action) * reward))
    ours = jax.grad(
        lambda lg: reinforce_loss(jdist.Categorical(logits=lg).log_prob(action), reward)
    )
    np.testing.assert_allclose(ours(logits), seed(logits), rtol=1e-6)
    # The reward (and baseline) never receive gradient.
    g = jax.grad(lambda r: reinforce_loss(m.log_prob(action), r, 0.5 * r))(reward)
    np.testing.assert_array_equal(g, 0.0)


def test_leave_one_out_baseline_values_and_errors():
    r = jnp.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    np.testing.assert_allclose(leave_one_out_baseline(r), [[2.5, 25.0], [2.0, 20.0], [1.5, 15.0]])
    np.testing.assert_allclose(leave_one_out_baseline(r.T, axis=1), [[2.5, 2.0, 1.5], [25, 20, 15]])
    with pytest.raises(ValueError, match="at least 2"):
        leave_one_out_baseline(jnp.ones((1, 3)))


def test_moving_average_baseline_state():
    ma = MovingAverageBaseline(decay=0.8)
    state = ma.init()
    assert float(ma.value(state)) == 0.0
    state = ma.update(state, jnp.array([3.0, 5.0]))
    np.testing.assert_allclose(ma.value(state), 4.0, rtol=1e-6)  # bias-corrected
    state = ma.update(state, jnp.array([10.0]))
    expected = (0.8 * 0.2 * 4.0 + 0.2 * 10.0) / (1 - 0.8**2)
    np.testing.assert_allclose(ma.value(state), expected, rtol=1e-6)
    traces = []

    @jax.jit
    def step(baseline, st, r):
        traces.append(1)
        return baseline.update(st, r)

    step(ma, state, jnp.ones(2))
    step(MovingAverageBaseline(decay=0.5), state, jnp.ones(2))
    assert len(traces) == 1  # decay is a leaf: no retrace
