"""Gumbel-softmax, relaxed Bernoulli and straight-through: samples, gradients, known biases.

The relaxed and straight-through gradients are biased estimators of ∇E[f(b)]. On the toy
problem b ~ Bern(σ(θ)), f(b) = (b - t)² (truth σ'(θ)(1 - 2t)) the bias is known:

* straight-through: mean 2(σ(θ) - t)σ'(θ), bias (2σ(θ) - 1)σ'(θ), with the sign of θ;
* relaxed (soft or hard-forward) at θ = 0: mean 4a(τ)·truth with
  a(τ) = ∫ σ'(l/τ)/τ σ'(l) dl, the density at 0 of the sum of two logistics (scales 1 and
  τ), which is below the density of one at 0 (1/4): 0 < 4a(τ) < 1, so the relaxed gradient
  is the truth shrunk toward zero and its bias has the sign opposite to the truth.

The exact expectations come from quadrature; Monte Carlo means of the implementation are
checked against them within 4 standard errors, and against the truth to show the bias is
detected where it is larger than the Monte Carlo error.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from jdist.estimators.relaxations import gumbel_softmax, relaxed_bernoulli, straight_through
from tests.stats_checks import chi2_check, ks_check

M = 100_000

# These programs run once on a few hundred thousand cheap draws: skipping XLA's backend
# optimisations halves their compile time, which dominates this file's runtime.
FAST = {"xla_backend_optimization_level": 0}
fast_jit = functools.partial(jax.jit, compiler_options=FAST)

TS = (0.499, 0.49, 0.4)
TAU = 0.5


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free for quadrature tails


def _dsigmoid(x):
    s = _sigmoid(x)
    return s * (1.0 - s)


def toy_truth(theta, t):
    return _dsigmoid(theta) * (1.0 - 2.0 * t)


def z_scores(estimates, target):
    e = np.asarray(estimates, np.float64)
    return (e.mean(0) - target) / (e.std(0, ddof=1) / np.sqrt(e.shape[0]))


def relaxed_expectation(theta, t, tau, hard):
    """E_L[d/dθ f(y)] with y = σ((θ + L)/τ), L ~ Logistic, by quadrature.

    The gradient flows through y in both variants: f'(y) y(1-y)/τ, with f' evaluated at y
    (soft) or at the hard sample 1[θ + L > 0] (straight-through forward).
    """

    def integrand(noise):
        y = _sigmoid((theta + noise) / tau)
        x = float(theta + noise > 0) if hard else y
        return 2.0 * (x - t) * y * (1.0 - y) / tau * _dsigmoid(noise)

    pieces = [(-np.inf, -theta), (-theta, np.inf)]  # the hard integrand jumps at l = -θ
    return sum(integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-11)[0] for a, b in pieces)


def shrink_factor(tau):
    """4 a(τ): the relaxed gradient at θ = 0 is this times the true one."""
    a = integrate.quad(lambda x: _dsigmoid(x / tau) / tau * _dsigmoid(x), -np.inf, np.inf)[0]
    return 4.0 * a


# ---------------------------------------------------------------------------------------
# Samples.


def test_gumbel_softmax_samples():
    logits = jnp.array([0.5, -1.0, 2.0, 0.0])
    keys = jax.random.split(jax.random.key(0), 20_000)
    both = fast_jit(
        jax.vmap(lambda k, tau: [gumbel_softmax(k, logits, tau, h) for h in (0, 1)], (0, None))
    )
    soft, hard = both(keys, TAU)
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-5)
    assert np.all((soft >= 0) & (soft <= 1))
    # hard is one_hot(argmax soft) for the same key, and argmax is exactly Categorical.
    np.testing.assert_array_equal(hard, jax.nn.one_hot(jnp.argmax(soft, -1), 4))
    chi2_check(np.argmax(soft, -1), np.asarray(jax.nn.softmax(logits), np.float64))
    # As τ → 0 the relaxed samples approach one-hot vectors.
    cold, _ = both(keys, 0.01)
    assert np.mean(cold.max(-1) > 0.99) > 0.95


def test_gumbel_softmax_masked_logits_and_finite_gradients():
    logits = jnp.array([0.0, -jnp.inf, 1.0])

    def f(lg, tau, key, hard):
        return jnp.sum(gumbel_softmax(key, lg, tau, hard) * jnp.array([1.0, 5.0, -2.0]))

    grad = jax.grad(f, argnums=(0, 1))

    @fast_jit
    @jax.vmap
    def draws(k):
        return [(gumbel_softmax(k, logits, TAU, h), grad(logits, TAU, k, h)) for h in (0, 1)]

    for y, (g_logits, g_tau) in draws(jax.random.split(jax.random.key(1), 1000)):
        np.testing.assert_array_equal(y[:, 1], 0.0)
        assert np.all(np.isfinite(g_logits)) and np.all(np.isfinite(g_tau))
        np.testing.assert_array_equal(g_logits[:, 1], 0.0)


def test_relaxed_bernoulli_samples():
    theta = 0.7
    keys = jax.random.split(jax.random.key(2), 20_000)
    both = fast_jit(jax.vmap(lambda k: [relaxed_bernoulli(k, theta, TAU, h) for h in (0, 1)]))
    soft, hard = both(keys)
    # P(y ≤ x) = P(L ≤ τ logit(x) - θ) = σ(τ logit(x) - θ).
    with np.errstate(divide="ignore"):  # float32 samples may round to exactly 0 or 1
        ks_check(soft, lambda x: _sigmoid(TAU * (np.log(x) - np.log1p(-x)) - theta))
    np.testing.assert_array_equal(hard, soft > 0.5)
    chi2_check(hard.astype(int), [1 - _sigmoid(theta), _sigmoid(theta)])


def test_straight_through_samples():
    keys = jax.random.split(jax.random.key(3), 20_000)
    theta = jnp.array([0.7, -1.2])
    b = fast_jit(jax.vmap(lambda k: straight_through(k, theta, "bernoulli")))(keys)
    assert set(np.unique(np.asarray(b))) <= {0.0, 1.0}
    for i in range(2):
        p = float(_sigmoid(float(theta[i])))
        chi2_check(np.asarray(b[:, i]).astype(int), [1 - p, p])
    logits = jnp.array([0.5, -1.0, 2.0])
    y = fast_jit(jax.vmap(lambda k: straight_through(k, logits, "categorical")))(keys)
    np.testing.assert_array_equal(y.sum(-1), 1.0)
    assert set(np.unique(np.asarray(y))) <= {0.0, 1.0}
    chi2_check(np.argmax(y, -1), np.asarray(jax.nn.softmax(logits), np.float64))


# ---------------------------------------------------------------------------------------
# Gradients: what exactly each one differentiates.


def test_hard_variants_carry_the_soft_gradient():
    key = jax.random.key(4)
    w = jnp.array([1.0, -2.0, 0.5])

    @fast_jit
    def grads(logits):
        """(soft, hard) gradients w.r.t. (logits, τ) of Σ w·y for both relaxations."""

        def f(lg, tau, fn, hard):
            return jnp.sum(w * fn(key, lg, tau, hard))

        fns = (gumbel_softmax, relaxed_bernoulli)
        grad = jax.grad(f, argnums=(0, 1))
        return [[grad(logits, TAU, fn, h) for h in (False, True)] for fn in fns]

    for soft, hard in grads(jnp.array([0.3, -0.2, 1.0])):
        for s_, h_ in zip(soft, hard, strict=True):
            np.testing.assert_allclose(h_, s_, rtol=1e-6)


def test_temperature_gradient_matches_finite_differences():
    with jax.enable_x64(True):
        key = jax.random.key(5)
        w = jnp.array([1.0, -2.0, 0.5])
        logits = jnp.array([0.3, -0.2, 1.0])

        @fast_jit
        def f(tau):
            """Values and τ-gradients of Σ w·y² for both relaxations."""
            fns = (gumbel_softmax, relaxed_bernoulli)
            return [
                jax.value_and_grad(lambda t, fn=fn: jnp.sum(w * fn(key, logits, t) ** 2))(tau)
                for fn in fns
            ]

        h = 1e-6
        for (_, g), (up, _), (down, _) in zip(f(0.7), f(0.7 + h), f(0.7 - h), strict=True):
            np.testing.assert_allclose(g, (up - down) / (2 * h), rtol=1e-6)


def test_straight_through_gradient_is_that_of_the_probabilities():
    key = jax.random.key(6)
    theta = jnp.array([0.7, -1.2, 0.1])
    t, w = 0.45, jnp.array([1.0, -2.0, 0.5])

    @fast_jit
    def run(theta):
        def f_bernoulli(th):
            return jnp.sum((straight_through(key, th, "bernoulli") - t) ** 2)

        def f_categorical(lg):
            return jnp.dot(w, straight_through(key, lg, "categorical")) ** 2

        b, y = (
            straight_through(key, theta, "bernoulli"),
            straight_through(key, theta, "categorical"),
        )
        _, softmax_vjp = jax.vjp(jax.nn.softmax, theta)
        return (
            (
                jax.grad(f_bernoulli)(theta),
                2 * (b - t) * jax.nn.sigmoid(theta) * jax.nn.sigmoid(-theta),
            ),
            (jax.grad(f_categorical)(theta), softmax_vjp(2 * jnp.dot(w, y) * w)[0]),
        )

    for got, want in run(theta):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_relaxed_gradient_per_sample_equals_the_quadrature_integrand():
    """The implementation's gradient at each draw is f'(x) y(1-y)/τ, the integrand above."""
    t, theta = 0.4, 0.3
    keys = jax.random.split(jax.random.key(7), 100)

    @fast_jit
    @jax.vmap
    def draws(k):
        out = []
        for hard in (False, True):
            y, g = jax.value_and_grad(lambda th, h=hard: relaxed_bernoulli(k, th, TAU, h))(theta)
            grad_f = jax.grad(lambda th, h=hard: (relaxed_bernoulli(k, th, TAU, h) - t) ** 2)(theta)
            out.append((y, g, grad_f, relaxed_bernoulli(k, theta, TAU)))
        return out

    for y, g, grad_f, soft in draws(keys):
        np.testing.assert_allclose(g, soft * (1 - soft) / TAU, rtol=1e-5)
        np.testing.assert_allclose(grad_f, 2 * (y - t) * g, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------
# Known bias signs on the toy problem.


def _toy_f(t):
    return lambda y: jnp.sum((y - t) ** 2)


@functools.partial(fast_jit, static_argnames=("m",))
def toy_biased_estimates(key, theta, t, tau, m=M):
    """∂/∂θ f for each biased estimator, m draws. gumbel_softmax is used on the two-category
    form of the toy, logits (0, θ): its category-1 weight is σ((θ + G₁ - G₀)/τ), and
    G₁ - G₀ ~ Logistic, so its expectation is the relaxed Bernoulli one."""
    f = _toy_f(t)

    def one(k):
        def pair(th, hard):
            return f(gumbel_softmax(k, jnp.stack([0.0, th]), tau, hard)[1])

        return {
            "straight_through": jax.grad(lambda th: f(straight_through(k, th, "bernoulli")))(theta),
            "relaxed": jax.grad(lambda th: f(relaxed_bernoulli(k, th, tau)))(theta),
            "relaxed_hard": jax.grad(lambda th: f(relaxed_bernoulli(k, th, tau, True)))(theta),
            "gumbel_softmax": jax.grad(pair)(theta, False),
            "gumbel_softmax_hard": jax.grad(pair)(theta, True),
        }

    return jax.vmap(one)(jax.random.split(key, m))


@pytest.fixture(scope="module")
def biased():
    out = {}
    for theta in (-1.0, 0.0, 1.0):
        for t in TS:
            ests = toy_biased_estimates(jax.random.key(8), jnp.float32(theta), t, TAU)
            out.update({(n, theta, t): np.asarray(e, np.float64) for n, e in ests.items()})
    return out


@pytest.mark.parametrize("t", TS)
@pytest.mark.parametrize("theta", [-1.0, 1.0])
def test_straight_through_bias_has_the_sign_of_theta(biased, theta, t):
    s, ds = _sigmoid(theta), _dsigmoid(theta)
    exact_mean = 2 * (s - t) * ds
    bias = exact_mean - toy_truth(theta, t)
    np.testing.assert_allclose(bias, (2 * s - 1) * ds, rtol=1e-12)
    assert np.sign(bias) == np.sign(theta)
    e = biased["straight_through", theta, t]
    assert abs(z_scores(e, exact_mean)) < 4  # the implementation has exactly this mean
    z = z_scores(e, toy_truth(theta, t))
    assert np.sign(z) == np.sign(theta) and abs(z) > 4, z  # and the bias is detected


@pytest.mark.parametrize("t", TS)
@pytest.mark.parametrize(
    "name", ["relaxed", "relaxed_hard", "gumbel_softmax", "gumbel_softmax_hard"]
)
def test_relaxed_gradient_is_shrunk_toward_zero(biased, name, t):
    hard = name.endswith("hard")
    truth = toy_truth(0.0, t)
    exact_mean = relaxed_expectation(0.0, t, TAU, hard)
    factor = shrink_factor(TAU)
    np.testing.assert_allclose(exact_mean, factor * truth, rtol=1e-7)
    assert 0 < factor < 1
    assert np.sign(exact_mean - truth) == -np.sign(truth)  # the known sign of the bias
    e = biased[name, 0.0, t]
    assert abs(z_scores(e, exact_mean)) < 4, z_scores(e, exact_mean)
    z = z_scores(e, truth)
    if abs(exact_mean - truth) > 10 * e.std() / np.sqrt(len(e)):  # t = 0.4 at M = 100,000
        assert z < -4, z


@pytest.mark.parametrize("t", TS)
@pytest.mark.parametrize("name", ["relaxed", "relaxed_hard", "gumbel_softmax"])
def test_relaxed_mean_matches_quadrature_away_from_zero(biased, name, t):
    """At θ = ±1 no sign is claimed; the implementation's mean is still the quadrature one."""
    for theta in (-1.0, 1.0):
        exact_mean = relaxed_expectation(theta, t, TAU, name.endswith("hard"))
        assert abs(z_scores(biased[name, theta, t], exact_mean)) < 4


# ---------------------------------------------------------------------------------------
# jit, vmap, retracing, errors.


def test_jit_vmap_and_temperature_never_retraces():
    traces = []

    @fast_jit
    def all_samples(key, logits, tau):
        traces.append(1)
        return (
            gumbel_softmax(key, logits, tau),
            gumbel_softmax(key, logits, tau, hard=True),
            relaxed_bernoulli(key, logits, tau),
            relaxed_bernoulli(key, logits, tau, hard=True),
            straight_through(key, logits, "bernoulli"),
            straight_through(key, logits, "categorical"),
        )

    keys = jax.random.split(jax.random.key(9), 3)
    logits = jnp.array([[0.1, 0.5, -1.0], [1.0, 0.0, 0.2], [-0.3, 0.3, 0.0]])
    batched = jax.vmap(all_samples, in_axes=(0, 0, None))(keys, logits, TAU)
    for i in range(3):
        for b, s in zip(batched, all_samples(keys[i], logits[i], TAU), strict=True):
            np.testing.assert_allclose(b[i], s, rtol=1e-6)
    n = len(traces)
    all_samples(keys[0], logits[0], 0.1)
    all_samples(keys[0], logits[1], 2.0)
    assert len(traces) == n
    # Temperature as a per-row array broadcasts.
    y = gumbel_softmax(keys[0], logits, jnp.array([[0.1], [1.0], [5.0]]))
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)


def test_straight_through_bad_kind():
    with pytest.raises(ValueError, match="kind must be"):
        straight_through(jax.random.key(0), jnp.zeros(3), "gaussian")
