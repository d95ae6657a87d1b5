"""Per-sample Jacobian estimators and control variates (the optax.monte_carlo API) on the
Gaussian problems of Mohamed et al. (2020): ∇ E_{x~N(μ, σ²)}[f(x)] for f = x, x², cos x
with a diagonal Normal over a vector, params [mean, log_scale] of shape (D,).

Unbiasedness: the mean of the per-sample Jacobians is within 4 standard errors of the
closed form, per component (as in tests/test_estimators.py). The rows of one call of a
plain estimator are independent; the control-variate estimators share a term between
rows, so for them the estimates are the means of M independent calls.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jdist
from jdist.estimators.control_variates import (
    control_delta_method,
    control_variates_jacobians,
    estimate_control_variate_coefficients,
    moving_avg_baseline,
)
from jdist.estimators.jacobians import (
    measure_valued_jacobians,
    pathwise_jacobians,
    score_function_jacobians,
)

MEAN = np.array([0.5, -1.0, 1.5], np.float32)
SCALE = np.array([1.3, 0.7, 1.0], np.float32)
PARAMS = [jnp.asarray(MEAN), jnp.log(jnp.asarray(SCALE))]
N = 20_000
S2 = SCALE.astype(np.float64) ** 2


def builder(mean, log_scale):
    return jdist.Normal(mean, jnp.exp(log_scale))


def _linear(x):
    return jnp.sum(x)


def _square(x):
    return jnp.sum(x**2)


def _cos(x):
    return jnp.sum(jnp.cos(x))


# Closed forms for d/d(mean, log_scale); d/dlog σ = σ d/dσ.
# E[x] = μ; E[x²] = μ² + σ²; E[cos x] = cos μ · exp(-σ²/2).
_DAMP = np.exp(-S2 / 2)
PROBLEMS = {
    "linear": (_linear, np.ones(3), np.zeros(3)),
    "square": (_square, 2 * MEAN, 2 * S2),
    "cos": (_cos, -np.sin(MEAN) * _DAMP, -S2 * np.cos(MEAN) * _DAMP),
}
ESTIMATORS = {
    "score": score_function_jacobians,
    "pathwise": pathwise_jacobians,
    "mv_coupled": functools.partial(measure_valued_jacobians, coupling=True),
    "mv_uncoupled": functools.partial(measure_valued_jacobians, coupling=False),
}


def _z_scores(estimates, truth):
    """Bias in standard errors; a constant estimate is 0 if exact, else infinitely off."""
    estimates = np.asarray(estimates, np.float64).reshape(estimates.shape[0], -1)
    truth = np.asarray(truth, np.float64).reshape(-1)
    se = estimates.std(0, ddof=1) / np.sqrt(estimates.shape[0])
    bias = estimates.mean(0) - truth
    exact = np.abs(bias) <= 1e-5 * (1 + np.abs(truth))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, bias / se, np.where(exact, 0.0, np.inf))


def assert_unbiased(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.all(np.abs(z) < 4), f"bias of {z} standard errors"


def assert_caught(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.any(np.abs(z) > 4), f"biased variant not caught: {z} standard errors"


@functools.cache
def _all_jacobians(estimator: str):
    """{problem: [mean Jacobians, log_scale Jacobians]} from one compiled function."""

    @jax.jit
    def run(key):
        est = ESTIMATORS[estimator]
        return {name: est(p[0], PARAMS, builder, key, N) for name, p in PROBLEMS.items()}

    return jax.tree.map(np.asarray, run(jax.random.key(11)))


def _jacobians(estimator: str, problem: str):
    return _all_jacobians(estimator)[problem]


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_jacobian_estimators_unbiased(estimator, problem):
    jacs = _jacobians(estimator, problem)
    _, true_mean, true_log_scale = PROBLEMS[problem]
    assert [j.shape for j in jacs] == [(N, 3), (N, 3)]
    assert_unbiased(jacs[0], true_mean)
    assert_unbiased(jacs[1], true_log_scale)


def _total_variance(jacs):
    return sum(float(j.var(0, ddof=1).sum()) for j in jacs)


@pytest.mark.parametrize("problem", ["square", "cos"])
def test_variance_coupling_and_pathwise(problem):
    """Coupling lowers measure-valued variance for x² and cos x; pathwise beats score.

    With N = 20,000 a sample variance is known to a few percent: 20% margins are wide.
    """
    var = {name: _total_variance(_jacobians(name, problem)) for name in ESTIMATORS}
    assert var["mv_coupled"] < 0.8 * var["mv_uncoupled"], var
    assert var["pathwise"] < 0.8 * var["score"], var


def test_coupling_doubles_variance_for_the_mean_of_a_linear_function():
    """As documented: f(μ+σW) - f(μ-σW) = 2σW (coupled) vs σ(W + W') (uncoupled)."""
    coupled, uncoupled = (_jacobians(name, "linear")[0] for name in ("mv_coupled", "mv_uncoupled"))
    ratio = coupled.var(0) / uncoupled.var(0)
    np.testing.assert_allclose(ratio, 2.0, rtol=0.1)  # variance known to ~2% at N = 20,000


def _independent(m, s):
    return jdist.Independent(jdist.Normal(m, jnp.exp(s)), 1)


def _builder_variants(key, mean):
    """For each estimator, E[Σ cos x] Jacobians (50 samples) from three builders."""
    params = [mean, PARAMS[1]]
    return {
        name: (
            est(_cos, params, builder, key, 50),
            est(_cos, params, _independent, key, 50),
            est(_cos, [mean, jnp.exp(PARAMS[1])], jdist.Normal, key, 50),
        )
        for name, est in ESTIMATORS.items()
    }


@functools.cache
def _builder_variants_single():
    return jax.jit(_builder_variants)(jax.random.key(5), PARAMS[0])


def test_independent_builder_and_param_chain_rule():
    """An Independent Normal builder, and a builder parameterised by the scale itself,
    give the same samples; the chain rule maps (loc, scale) derivatives to params."""
    for a, ind, direct in _builder_variants_single().values():
        for x, y in zip(a, ind, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a[1], direct[1] * SCALE, rtol=1e-4, atol=1e-5)


def test_jit_and_vmap_over_keys_and_params():
    keys = jnp.stack([jax.random.key(5), jax.random.key(6)])
    means = jnp.stack([PARAMS[0], PARAMS[0] + 1.0])
    batched = jax.jit(jax.vmap(_builder_variants))(keys, means)
    single = _builder_variants_single()
    for name in ESTIMATORS:
        for b, s in zip(jax.tree.leaves(batched[name]), jax.tree.leaves(single[name]), strict=True):
            assert b.shape == (2,) + s.shape
            np.testing.assert_allclose(b[0], s, rtol=1e-4, atol=1e-5)
            assert not np.allclose(b[1], s)


def test_measure_valued_rejects_other_families():
    with pytest.raises(NotImplementedError, match="no weak derivative.*Laplace"):
        measure_valued_jacobians(
            _cos, [jnp.zeros(3)], lambda m: jdist.Laplace(m, 1.0), jax.random.key(0), 4
        )


# --- control variates ---------------------------------------------------------------
M_CALLS, N_PER_CALL = 2_000, 10
# A smaller scale: the delta method's quadratic is a good approximation of cos there.
SMALL_PARAMS = [jnp.asarray(MEAN), jnp.log(jnp.full(3, 0.4, jnp.float32))]
_S2_SMALL = 0.4**2
TRUE_COS_SMALL = (
    -np.sin(MEAN) * np.exp(-_S2_SMALL / 2),
    -_S2_SMALL * np.cos(MEAN) * np.exp(-_S2_SMALL / 2),
)


def _drop_expected_value(function):
    """A deliberately wrong control variate: the delta method with E[h] replaced by h(μ)."""
    cv, _, update = control_delta_method(function)
    return cv, lambda params, state: function(params[0]), update


CV_VARIANTS = {  # name: (estimator, control variate factory, estimate_cv_coeffs)
    "score": ("score", control_delta_method, False),
    "score_coeffs": ("score", control_delta_method, True),
    "pathwise": ("pathwise", control_delta_method, False),
    "mv_coupled": ("mv_coupled", control_delta_method, False),
    "score_wrong": ("score", _drop_expected_value, False),
}


@functools.cache
def _cv_call_means():
    """{variant: (M_CALLS, 2, 3)} per-call mean Jacobians for [mean, log_scale] of
    E[Σ cos x] at the small scale; "plain" is the score function without control variate."""

    def one(key):
        out = {}
        for name, (est, cv, coeffs) in CV_VARIANTS.items():
            jacs, _ = control_variates_jacobians(
                _cos, cv, ESTIMATORS[est], SMALL_PARAMS, builder, key, N_PER_CALL, None, coeffs
            )
            out[name] = jnp.stack([j.mean(0) for j in jacs])
        plain = score_function_jacobians(_cos, SMALL_PARAMS, builder, key, N_PER_CALL)
        out["plain"] = jnp.stack([j.mean(0) for j in plain])
        return out

    keys = jax.random.split(jax.random.key(21), M_CALLS)
    return jax.tree.map(np.asarray, jax.jit(jax.vmap(one))(keys))


@pytest.mark.parametrize("variant", ["score", "score_coeffs", "pathwise", "mv_coupled"])
def test_delta_control_variate_unbiased(variant):
    assert_unbiased(_cv_call_means()[variant], np.stack(TRUE_COS_SMALL))


@pytest.mark.parametrize("variant", ["score", "score_coeffs"])
def test_delta_control_variate_lowers_score_function_variance(variant):
    """The delta method is meant for the score function (its h follows f closely at a
    small scale): the variance of the per-call estimate is at least halved."""
    means = _cv_call_means()
    assert means[variant].var(0, ddof=1).sum() < 0.5 * means["plain"].var(0, ddof=1).sum()


def test_wrong_control_variate_is_caught():
    assert_caught(_cv_call_means()["score_wrong"], np.stack(TRUE_COS_SMALL))


def test_delta_method_is_exact_for_a_quadratic():
    """h = f for f = Σx²: every row is the exact gradient (zero variance)."""

    @jax.jit
    def run(key):
        return {
            name: control_variates_jacobians(
                _square, control_delta_method, ESTIMATORS[name], PARAMS, builder, key, 16
            )
            for name in ("score", "pathwise", "mv_coupled")
        }

    for jacs, state in run(jax.random.key(2)).values():
        assert state is None
        np.testing.assert_allclose(jacs[0], np.broadcast_to(2 * MEAN, (16, 3)), 2e-4, 2e-4)
        np.testing.assert_allclose(jacs[1], np.broadcast_to(2 * S2, (16, 3)), 2e-4, 2e-4)


def _moving_average_run(n: int, steps: int):
    """Per-call mean score-function estimates of ∇E[Σx²] over `steps` calls with a
    moving-average baseline, its state carried from call to call."""
    cv_factory = functools.partial(moving_avg_baseline, decay=0.9)

    def step(state, key):
        jacs, state = control_variates_jacobians(
            _square, cv_factory, score_function_jacobians, PARAMS, builder, key, n, state
        )
        return state, jnp.stack([j.mean(0) for j in jacs])

    init = (jnp.zeros(()), jnp.zeros((), jnp.int32))
    keys = jax.random.split(jax.random.key(31), steps)
    _, means = jax.jit(lambda k: jax.lax.scan(step, init, k))(keys)
    return np.asarray(means)


def test_moving_average_baseline_unbiased_lower_variance_and_optax_order_caught():
    truth = np.stack([2 * MEAN, 2 * S2])
    ours = _moving_average_run(n=10, steps=M_CALLS)
    assert_unbiased(ours, truth)

    def plain(key):
        return jnp.stack(
            [j.mean(0) for j in score_function_jacobians(_square, PARAMS, builder, key, 10)]
        )

    base = np.asarray(jax.jit(jax.vmap(plain))(jax.random.split(jax.random.key(31), M_CALLS)))
    assert ours.var(0, ddof=1).sum() < 0.5 * base.var(0, ddof=1).sum()

    # optax's order lets the baseline see the samples it is paired with: on every first
    # step (fresh state, count 0) the baseline is exactly the batch mean, so with n = 2
    # the gradient shrinks by (n-1)/n = 1/2.
    def optax_first_step(key):
        samples = builder(*PARAMS).sample(key, (2,))
        cv = moving_avg_baseline(_square, decay=0.9)
        state = cv[2](PARAMS, samples, (jnp.zeros(()), jnp.zeros((), jnp.int32)))
        jacs, _ = control_variates_jacobians(
            _square,
            moving_avg_baseline,
            score_function_jacobians,
            PARAMS,
            builder,
            key,
            2,
            state,
        )
        return jnp.stack([j.mean(0) for j in jacs])

    optax = np.asarray(
        jax.jit(jax.vmap(optax_first_step))(jax.random.split(jax.random.key(41), 20_000))
    )
    assert_caught(optax, truth)
    assert_unbiased(optax, truth / 2)


def test_moving_average_has_no_effect_on_pathwise():
    @jax.jit
    def run(key, state):
        with_cv = control_variates_jacobians(
            _cos, moving_avg_baseline, pathwise_jacobians, PARAMS, builder, key, 32, state
        )
        return with_cv, pathwise_jacobians(_cos, PARAMS, builder, key, 32)

    (jacs, new_state), plain = run(jax.random.key(3), (jnp.asarray(3.0), jnp.asarray(4)))
    for a, b in zip(jacs, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(new_state[1]) == 5


def test_moving_avg_baseline_state_updates():
    samples = builder(*PARAMS).sample(jax.random.key(0), (64,))
    m = float(jnp.mean(jax.vmap(_linear)(samples)))
    for heuristic in (False, True):
        _, _, update = moving_avg_baseline(_linear, 0.9, True, heuristic)
        s1 = update(PARAMS, samples, (jnp.zeros(()), 0))
        np.testing.assert_allclose(s1[0], m, rtol=1e-6)  # first debiased update: the mean
        s2 = update(PARAMS, samples, s1)
        np.testing.assert_allclose(s2[0], m, rtol=1e-5)  # a constant stays constant
    # Without debiasing, as optax: decay * value + (1 - decay) * mean; the heuristic's
    # decay at count 1 is min(0.9, 2/11).
    _, _, update = moving_avg_baseline(_linear, 0.9, False, False)
    np.testing.assert_allclose(update(PARAMS, samples, (2.0, 0))[0], 0.9 * 2 + 0.1 * m, 1e-6)
    _, _, update = moving_avg_baseline(_linear, 0.9, False, True)
    np.testing.assert_allclose(
        update(PARAMS, samples, (2.0, 1))[0], 2 / 11 * 2 + 9 / 11 * m, rtol=1e-6
    )
    # Debiasing with the heuristic: the weights of the batches seen sum to one, so a
    # constant input stays exactly constant for many steps (decay products in closed form).
    _, _, update = moving_avg_baseline(lambda x: jnp.asarray(7.0), 0.99, True, True)
    state = (jnp.zeros(()), 0)
    for _ in range(30):
        state = update(PARAMS, samples, state)
    np.testing.assert_allclose(state[0], 7.0, rtol=1e-5)


def test_estimate_control_variate_coefficients():
    coeffs = jax.jit(estimate_control_variate_coefficients, static_argnums=(0, 1, 2, 4, 6))(
        _square,
        control_delta_method,
        score_function_jacobians,
        PARAMS,
        builder,
        jax.random.key(0),
        50,
    )
    # h = f exactly, so the optimal coefficient is Var / (Var + eps) ≈ 1.
    assert len(coeffs) == 2
    np.testing.assert_allclose(coeffs, 1.0, atol=1e-3)


# --- implicit reparameterization (Gamma, Beta) through pathwise_jacobians -----------
_HAVE_GAMMA_BETA = hasattr(jdist, "Gamma") and hasattr(jdist, "Beta")


@pytest.mark.skipif(
    not _HAVE_GAMMA_BETA,
    reason="jdist.Gamma / jdist.Beta (jdist/distributions/gamma.py, beta.py) are not available yet",
)
def test_pathwise_implicit_reparameterization_gamma_beta():
    # One Gamma call for two problems: coordinates 0-2 enter f linearly, 3-5 squared.
    alpha = jnp.array([0.5, 2.0, 7.0, 0.5, 2.0, 7.0])
    a, b = jnp.array([0.5, 2.0, 3.0]), jnp.array([1.5, 0.7, 3.0])

    def f(x):
        return jnp.sum(x[:3]) + jnp.sum(x[3:] ** 2)

    @jax.jit
    def run(key):
        return (
            pathwise_jacobians(f, [alpha], lambda a: jdist.Gamma(a, 1.0), key, N)[0],
            pathwise_jacobians(_linear, [a, b], jdist.Beta, key, N),
        )

    gamma, beta = run(jax.random.key(51))
    # E_{Gamma(α, 1)}[x] = α and E[x²] = α(α + 1): derivatives 1 and 2α + 1.
    assert gamma.shape == (N, 6)
    assert_unbiased(gamma, np.concatenate([np.ones(3), 2 * np.asarray(alpha[3:]) + 1]))
    # E_{Beta(α, β)}[x] = α / (α + β): d/dα = β / (α+β)², d/dβ = -α / (α+β)².
    total = np.asarray(a + b) ** 2
    assert_unbiased(beta[0], np.asarray(b) / total)
    assert_unbiased(beta[1], -np.asarray(a) / total)
