"""REBAR, RELAX, ARM and DisARM: unbiasedness against closed forms, measured variance.

As in ``test_estimators.py``: M independent single-sample estimates at a fixed key, mean
within 4 standard errors of the closed-form gradient per component (a 6e-5 two-sided
false-alarm rate), and a deliberately biased variant (REBAR without the conditional
sample z̃ ~ p(z|b)) caught at the same M.

Toy problem (the toy experiments of Tucker et al. 2017 and Grathwohl et al. 2018):
b ~ Bernoulli(σ(θ)), f(b) = (b - t)², ∂/∂θ E[f] = σ'(θ)((1 - t)² - t²).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jdist
from jdist.estimators import reinforce_loss
from jdist.estimators.discrete import (
    arm,
    disarm,
    rebar,
    rebar_variance_loss,
    relax,
    relax_variance_loss,
)

M = 100_000

# These programs run once on a few hundred thousand cheap draws: skipping XLA's backend
# optimisations halves their compile time, which dominates this file's runtime.
FAST = {"xla_backend_optimization_level": 0}
fast_jit = functools.partial(jax.jit, compiler_options=FAST)

TS = (0.499, 0.49, 0.4)
THETA = 0.5  # toy logit for the unbiasedness checks (θ = 0 is a symmetric special case)
ETA, TEMP = 1.0, 0.5  # initial REBAR parameters: η = 1 (the plain relaxed f), λ = 0.5


def _z_scores(estimates, truth):
    estimates = np.asarray(estimates, np.float64).reshape(len(estimates), -1)
    se = estimates.std(0, ddof=1) / np.sqrt(estimates.shape[0])
    return (estimates.mean(0) - np.ravel(truth)) / se


def assert_unbiased(estimates, truth):
    z = _z_scores(estimates, truth)
    assert np.all(np.abs(z) < 4), f"bias of {z} standard errors"


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def toy_truth(theta, t):
    s = _sigmoid(theta)
    return s * (1 - s) * ((1 - t) ** 2 - t**2)


def mlp_init(key, hidden=8, scale=0.1):
    """A small elementwise network c_φ(z) = Σ_i w2·tanh(w1 z_i + b1) + b2 (RELAX's r_ρ)."""
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (hidden,)),
        "b1": jnp.zeros(hidden),
        "w2": scale * jax.random.normal(k2, (hidden,)),
        "b2": jnp.zeros(()),
    }


def mlp(phi, z):
    h = jnp.tanh(z[..., None] * phi["w1"] + phi["b1"])
    return jnp.sum(h @ phi["w2"]) + phi["b2"]


PHI0 = mlp_init(jax.random.key(11))


def _reinforce(key, logits, f, kind):
    def loss(lg):
        d = (
            jdist.Bernoulli(logits=lg)
            if kind == "bernoulli"
            else jdist.OneHotCategorical(logits=lg)
        )
        b = d.sample(key)
        return -reinforce_loss(jnp.sum(d.log_prob(b)), f(b))  # -(-∇E f) = ∇E f

    return jax.grad(loss)(logits)


def _naive_rebar(key, logits, f, kind):
    """Deliberately biased: the score term's control variate uses z itself, not z̃ ~ p(z|b).

    E[c(z) ∇log p(b)] ≠ 0 because c(z) depends on b, so the correction ∇c(z) no longer
    cancels it (Tucker et al. 2017, §3, explain why the conditional sample is needed).
    """
    if kind == "bernoulli":
        noise = jax.random.logistic(key, logits.shape)
    else:
        noise = jax.random.gumbel(key, logits.shape)

    def surrogate(lg):
        if kind == "bernoulli":
            z = lg + noise
            b = jax.lax.stop_gradient((z > 0).astype(z.dtype))
            log_p = jnp.sum(b * lg - jax.nn.softplus(lg))
            c = f(jax.nn.sigmoid(z / TEMP))
        else:
            z = jax.nn.log_softmax(lg) + noise
            b = jax.nn.one_hot(jnp.argmax(z, -1), lg.shape[-1])
            log_p = jnp.sum(b * jax.nn.log_softmax(lg))
            c = f(jax.nn.softmax(z / TEMP, axis=-1))
        return jax.lax.stop_gradient(f(b) - ETA * c) * log_p + ETA * c

    return jax.grad(surrogate)(logits)


def make_estimators(eta=ETA, temperature=TEMP, phi=PHI0):
    """name -> estimate(key, logits, f, kind) of ∇_logits E[f(b)]."""
    return {
        "reinforce": _reinforce,
        "rebar": lambda k, lg, f, kind: jax.grad(rebar, argnums=1)(
            k, lg, f, eta, temperature, kind=kind
        ),
        "relax": lambda k, lg, f, kind: jax.grad(relax, argnums=1)(k, lg, f, mlp, phi, kind=kind),
        "arm": lambda k, lg, f, kind: jax.grad(arm, argnums=1)(k, lg, f),
        "disarm": lambda k, lg, f, kind: jax.grad(disarm, argnums=1)(k, lg, f),
        "naive_rebar_BIASED": _naive_rebar,
        # η per logit (Tucker et al. 2017 fit one η per parameter group); vector problem only.
        "rebar_per_logit_eta": lambda k, lg, f, kind: jax.grad(rebar, argnums=1)(
            k, lg, f, jnp.array([0.2, 1.0, 2.0, 0.5]), temperature, kind=kind
        ),
    }


UNBIASED = ["reinforce", "rebar", "relax", "arm", "disarm"]


@functools.partial(fast_jit, static_argnames=("kind", "f", "names", "m"))
def estimates(key, logits, kind, f, names, m=50_000, eta=ETA, temperature=TEMP, phi=PHI0):
    """{name: m single-sample estimates} for each estimator in ``names``; one compilation
    per problem, with the logits and the control-variate parameters traced."""
    ests = make_estimators(eta, temperature, phi)
    keys = jax.random.split(key, m)
    return {n: jax.vmap(lambda k, e=ests[n]: e(k, logits, f, kind))(keys) for n in names}


def toy_f(t):
    return lambda b: jnp.sum((b - t) ** 2)


@functools.partial(fast_jit, static_argnames=("names", "m"))
def toy_estimates(key, theta, t, names, m=M, eta=ETA, temperature=TEMP, phi=PHI0):
    """As :func:`estimates` on the toy, with θ, t and the parameters traced."""
    ests = make_estimators(eta, temperature, phi)
    keys = jax.random.split(key, m)
    f = toy_f(t)
    return {n: jax.vmap(lambda k, e=ests[n]: e(k, theta, f, "bernoulli"))(keys) for n in names}


ALL = tuple(UNBIASED) + ("naive_rebar_BIASED",)
# Initial control-variate parameters as float32 arrays, so that the toy fixtures' calls with
# initial and trained values share one compilation.
INIT = dict(eta=jnp.float32(ETA), temperature=jnp.float32(TEMP), phi=PHI0)


@pytest.fixture(scope="module")
def toy():
    """Estimates of every estimator for each t at θ = THETA."""
    out = {}
    for t in TS:
        ests = toy_estimates(jax.random.key(100), jnp.float32(THETA), t, ALL, **INIT)
        out.update({(n, t): np.asarray(e, np.float64) for n, e in ests.items()})
    return out


@pytest.mark.parametrize("t", TS)
@pytest.mark.parametrize("name", UNBIASED)
def test_toy_estimators_are_unbiased(toy, name, t):
    assert_unbiased(toy[name, t], toy_truth(THETA, t))


@pytest.mark.parametrize("t", TS)
def test_biased_rebar_variant_is_caught(toy, t):
    z = _z_scores(toy["naive_rebar_BIASED", t], toy_truth(THETA, t))
    assert np.all(np.abs(z) > 4), z


def _exact_variances(theta, t):
    """Closed-form single-sample variances on the toy (logit parameterisation)."""
    p, m = _sigmoid(theta), _sigmoid(-abs(theta))
    f1, f0 = (1 - t) ** 2, t**2
    delta, truth = f1 - f0, toy_truth(theta, t)
    # REINFORCE: ĝ = f(b)(b - p).
    reinforce = p * (f1 * (1 - p)) ** 2 + (1 - p) * (f0 * p) ** 2 - truth**2
    # ARM: ĝ = ±Δ(u - 1/2) for u outside [m, 1 - m], else 0: E ĝ² = 2Δ² ∫_0^m (u - ½)² du.
    arm_ = 2 * delta**2 * ((m - 0.5) ** 3 + 0.125) / 3 - truth**2
    # DisARM: ĝ = ½Δσ(|θ|) when b ≠ b̃ (probability 2m), else 0.
    disarm_ = (0.5 * delta * _sigmoid(abs(theta))) ** 2 * 2 * m * (1 - 2 * m)
    return {"reinforce": reinforce, "arm": arm_, "disarm": disarm_}


@pytest.mark.parametrize("t", TS)
def test_toy_variances_match_closed_forms(toy, t):
    """Measured variance within 5 SE of the exact variance (SE from the 4th moment)."""
    for name, exact in _exact_variances(THETA, t).items():
        e = toy[name, t]
        mu4 = np.mean((e - e.mean()) ** 4)
        se_var = np.sqrt(max(mu4 - e.var() ** 2, 0.0) / len(e))
        assert abs(e.var() - exact) < 5 * se_var + 1e-12 * exact, (name, e.var(), exact)


def _train(loss, params, steps=300, batch=32, lr=0.1, seed=0):
    """Adam on the mean variance loss over ``batch`` fresh keys per step (lax.scan)."""
    opt = optax.adam(lr)

    def step(carry, key):
        params, state = carry
        grads = jax.grad(loss)(params, jax.random.split(key, batch))
        updates, state = opt.update(grads, state)
        return (optax.apply_updates(params, updates), state), None

    keys = jax.random.split(jax.random.key(seed), steps)
    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), keys)
    return params


TRAIN_T = {"rebar": 0.45, "relax": 0.499}  # the toys of Tucker et al. / Grathwohl et al.


def _rebar_loss(cv, keys, t=TRAIN_T["rebar"]):
    eta, log_temp = cv
    vl = lambda k: rebar_variance_loss(  # noqa: E731
        k, 0.0, toy_f(t), eta, jnp.exp(log_temp), kind="bernoulli"
    )[0]
    return jnp.mean(jax.vmap(vl)(keys))


def _relax_loss(phi, keys, t=TRAIN_T["relax"]):
    vl = lambda k: relax_variance_loss(k, 0.0, toy_f(t), mlp, phi, kind="bernoulli")[0]  # noqa: E731
    return jnp.mean(jax.vmap(vl)(keys))


@fast_jit
def _train_both(cv, phi):
    return _train(_rebar_loss, cv), _train(_relax_loss, phi)


TABLE = ("reinforce", "rebar", "relax", "arm", "disarm")


@pytest.fixture(scope="module")
def variances():
    """Variances at θ = 0 with fresh keys (not those used in training), M each: before and
    after training the control variates, for each toy t."""
    cv, phi = _train_both((INIT["eta"], jnp.log(INIT["temperature"])), PHI0)
    params = {
        "init": INIT,
        "trained": dict(eta=cv[0], temperature=jnp.exp(cv[1]), phi=phi),
    }
    out = {"params": params}
    for state, kw in params.items():
        for t in (0.45, 0.499):
            ests = toy_estimates(jax.random.key(200), jnp.float32(0.0), t, ALL, **kw)
            out[state, t] = {n: float(np.var(np.asarray(e, np.float64))) for n, e in ests.items()}
    return out


def test_training_eta_and_temperature_reduces_rebar_variance(variances):
    t = TRAIN_T["rebar"]
    v0, v1 = variances["init", t]["rebar"], variances["trained", t]["rebar"]
    # With M = 100,000 each variance is known to about 1%; a 15% margin is many SE.
    assert v1 < 0.85 * v0, (v0, v1, variances["params"]["trained"])


def test_training_phi_reduces_relax_variance(variances):
    t = TRAIN_T["relax"]
    v0, v1 = variances["init", t]["relax"], variances["trained", t]["relax"]
    assert v1 < 0.1 * v0, (v0, v1)
    assert v1 < 0.1 * variances["init", t]["reinforce"], variances["init", t]


def _log_str(v):
    return f"{np.log(v):7.2f}" if v > 0 else "   -inf"


def test_variance_table(variances, capsys):
    """Log-variance of each estimator on the toy at θ = 0 (printed; run with ``-s``).

    Checked here: DisARM ≤ ARM (DisARM is ARM Rao-Blackwellised given (b, b̃)).
    At θ = 0 DisARM is exactly ½Δσ(0) on every draw (b ≠ b̃ always): variance 0.
    """
    with capsys.disabled():
        print("\nlog Var of ∂/∂θ E[(b-t)^2] at θ=0 (control variates: init -> trained):")
        for n in TABLE:
            row = ""
            for t in (0.45, 0.499):
                v0, v1 = (_log_str(variances[s, t][n]) for s in ("init", "trained"))
                row += f"  t={t}: {v0} -> {v1}"
            print(f"  {n:10s}{row}")
    for t in (0.45, 0.499):
        assert variances["init", t]["disarm"] <= variances["init", t]["arm"]


# ---------------------------------------------------------------------------------------
# Vector of Bernoullis and categoricals: truth by enumerating all outcomes.

W = jnp.array([1.0, -2.0, 0.5, 1.5])
VEC_LOGITS = jnp.array([0.3, -0.5, 1.0, 0.0])


def f_vec(b):
    """A non-separable loss of 4 bits, defined for relaxed values too."""
    return jnp.sum(W * b) + (jnp.sum(b) - 1.5) ** 2 + 2.0 * b[0] * b[2]


def exact_vector_gradient(logits):
    bits = jnp.array(np.array(np.meshgrid(*[[0, 1]] * len(logits))).reshape(len(logits), -1).T)

    def expectation(lg):
        log_p = jnp.sum(bits * lg - jax.nn.softplus(lg), axis=1)
        return jnp.sum(jnp.exp(log_p) * jax.vmap(f_vec)(bits))

    return np.asarray(jax.grad(expectation)(logits), np.float64)


@pytest.fixture(scope="module")
def vector():
    names = ALL + ("rebar_per_logit_eta",)
    ests = estimates(jax.random.key(300), VEC_LOGITS, "bernoulli", f_vec, names)
    return {n: np.asarray(e, np.float64) for n, e in ests.items()}


@pytest.mark.parametrize("name", UNBIASED + ["rebar_per_logit_eta"])
def test_vector_bernoulli_unbiased(vector, name):
    assert_unbiased(vector[name], exact_vector_gradient(VEC_LOGITS))


def test_vector_bernoulli_biased_variant_caught_and_variances(vector):
    z = _z_scores(vector["naive_rebar_BIASED"], exact_vector_gradient(VEC_LOGITS))
    assert np.any(np.abs(z) > 4), z
    var = {n: e.var(0).sum() for n, e in vector.items()}
    # With 50,000 samples each variance is known to a few percent.
    assert var["disarm"] <= var["arm"], var
    assert var["rebar"] < 0.5 * var["reinforce"], var


CAT_TABLE = jnp.array([1.0, -0.5, 2.0, 0.3])
CAT_LOGITS = jnp.array([0.2, -1.0, 0.7, 0.0])
PAIR_TABLE = jnp.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [0.2, 1.5, -0.7]])
PAIR_LOGITS = jnp.array([[0.5, -0.3, 0.1], [-1.0, 0.4, 0.9]])


def f_cat(y):
    """A table of values on one-hot y (F_k = (v_k - 0.4)²), nonlinear when relaxed."""
    return (jnp.dot(y, CAT_TABLE) - 0.4) ** 2


def f_pair(y):
    """Two categoricals (batch of 2, K = 3): f = y₀ᵀ T y₁, the table T[a₀, a₁]."""
    return y[0] @ PAIR_TABLE @ y[1]


def exact_categorical_gradients():
    p = np.asarray(jax.nn.softmax(CAT_LOGITS), np.float64)
    values = (np.asarray(CAT_TABLE, np.float64) - 0.4) ** 2
    single = p * (values - np.sum(p * values))  # p_k (f_k - E f)
    pair = jax.grad(lambda lg: jax.nn.softmax(lg[0]) @ PAIR_TABLE @ jax.nn.softmax(lg[1]))(
        PAIR_LOGITS
    )
    return single, np.asarray(pair, np.float64)


# Categorical REINFORCE is tested in test_estimators.py.
CATEGORICAL = ("rebar", "relax", "naive_rebar_BIASED")


@pytest.fixture(scope="module")
def categorical():
    out = {}
    for problem, logits, f in [("single", CAT_LOGITS, f_cat), ("pair", PAIR_LOGITS, f_pair)]:
        ests = estimates(jax.random.key(400), logits, "categorical", f, CATEGORICAL)
        out.update({(n, problem): np.asarray(e, np.float64) for n, e in ests.items()})
    return out


@pytest.mark.parametrize("problem", ["single", "pair"])
@pytest.mark.parametrize("name", ["rebar", "relax"])
def test_categorical_unbiased(categorical, name, problem):
    single, pair = exact_categorical_gradients()
    assert_unbiased(categorical[name, problem], single if problem == "single" else pair)


def test_categorical_biased_variant_caught(categorical):
    single, pair = exact_categorical_gradients()
    for problem, truth in [("single", single), ("pair", pair)]:
        z = _z_scores(categorical["naive_rebar_BIASED", problem], truth)
        assert np.any(np.abs(z) > 4), (problem, z)


# ---------------------------------------------------------------------------------------
# Variance-loss gradients, f's own parameters, values, jit/vmap, errors.


def test_variance_loss_gradients_match_finite_differences():
    """At fixed keys Σĝ² is a smooth function of (η, λ): autodiff = central differences.

    This catches a stop_gradient that would cut the control variate's dependence on its
    parameters out of ĝ (e.g. the c(z̃) factor of the score term).
    """
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(5), 128)
        logits = jnp.asarray(VEC_LOGITS, jnp.float64)

        @fast_jit
        @jax.value_and_grad
        def loss(x):
            """Mean REBAR variance loss at (η, λ) = x."""
            vl = lambda k: rebar_variance_loss(  # noqa: E731
                k, logits, f_vec, x[0], x[1], kind="bernoulli"
            )[0]
            return jnp.mean(jax.vmap(vl)(keys))

        # λ enters ĝ through all three control-variate terms, the score term's c(z̃) included.
        x, h = jnp.array([0.8, 0.6]), 1e-5
        grad = loss(x)[1]
        for i in range(2):
            e = jnp.zeros(2).at[i].set(h)
            fd = (loss(x + e)[0] - loss(x - e)[0]) / (2 * h)
            np.testing.assert_allclose(grad[i], fd, rtol=1e-5)
        assert np.all(np.abs(grad) > 1e-3), grad


def test_gradient_wrt_parameters_of_f_is_unbiased():
    """f(b; ψ) = Σ(b - ψ)²: ∇_ψ E f = -2 Σ (σ(θ) - ψ); the surrogate's value estimates E f."""
    logits, psi = VEC_LOGITS[:2], jnp.float32(0.3)
    p = np.asarray(jax.nn.sigmoid(logits), np.float64)
    surrogates = {
        "rebar": lambda k, f: rebar(k, logits, f, ETA, TEMP, kind="bernoulli"),
        "arm": lambda k, f: arm(k, logits, f),
        "disarm": lambda k, f: disarm(k, logits, f),
    }

    @fast_jit
    def run(keys):
        def one(k, surrogate):
            return jax.value_and_grad(lambda ps: surrogate(k, lambda b: jnp.sum((b - ps) ** 2)))(
                psi
            )

        return {n: jax.vmap(lambda k, s=s: one(k, s))(keys) for n, s in surrogates.items()}

    mean_f = np.sum(p * (1 - psi) ** 2 + (1 - p) * psi**2)
    for name, (values, grads) in run(jax.random.split(jax.random.key(6), 20_000)).items():
        assert np.all(np.abs(_z_scores(grads, -2 * np.sum(p - psi))) < 4), name
        assert np.all(np.abs(_z_scores(values, mean_f)) < 4), name


def test_surrogate_values_are_f_of_the_sample():
    key, logits = jax.random.key(7), VEC_LOGITS
    for fn in (
        lambda f: rebar(key, logits, f, ETA, TEMP, kind="bernoulli"),
        lambda f: relax(key, logits, f, mlp, PHI0, kind="bernoulli"),
    ):
        seen = []
        value = fn(lambda b, seen=seen: seen.append(b) or f_vec(b))
        b = seen[0]
        assert set(np.unique(np.asarray(b))) <= {0.0, 1.0}
        np.testing.assert_allclose(value, f_vec(b), rtol=1e-6)


def test_jit_vmap_and_no_retrace():
    """Every estimator under jit(vmap) over keys and a batch of logits (the fixtures above
    check the values of jit(vmap) over keys against the truth): rows do not interact, and
    new values of η, λ, φ and the logits never retrace."""
    traces = []

    def all_estimates(key, logits, eta, temperature, phi):
        traces.append(1)
        pair_logits = PAIR_LOGITS + logits[:3]
        return {
            "rebar": jax.grad(rebar, argnums=1)(
                key, logits, f_vec, eta, temperature, kind="bernoulli"
            ),
            "relax": jax.grad(relax, argnums=1)(key, logits, f_vec, mlp, phi, kind="bernoulli"),
            "arm": jax.grad(arm, argnums=1)(key, logits, f_vec),
            "disarm": jax.grad(disarm, argnums=1)(key, logits, f_vec),
            "rebar_cat": jax.grad(rebar, argnums=1)(
                key, pair_logits, f_pair, eta, temperature, kind="categorical"
            ),
            "relax_cat": jax.grad(relax, argnums=1)(
                key, pair_logits, f_pair, mlp, phi, kind="categorical"
            ),
        }

    batched = fast_jit(jax.vmap(all_estimates, in_axes=(0, 0, None, None, None)))
    keys = jax.random.split(jax.random.key(8), 3)
    batch = jnp.stack([VEC_LOGITS, -VEC_LOGITS, 2 * VEC_LOGITS])
    out = batched(keys, batch, 1.0, 0.5, PHI0)
    # Row 0 is unchanged when the other rows' keys and logits change.
    other_keys = keys.at[1:].set(jax.random.split(jax.random.key(9), 2))
    out2 = batched(other_keys, batch.at[1:].multiply(-3.0), 1.0, 0.5, PHI0)
    for name, v in out.items():
        assert np.all(np.isfinite(v)), name
        np.testing.assert_array_equal(out2[name][0], v[0], err_msg=name)
        assert not np.allclose(out2[name][1:], v[1:]), name
    assert len(traces) == 1
    batched(keys, batch + 0.1, 0.3, 2.0, jax.tree.map(lambda x: 2 * x, PHI0))
    assert len(traces) == 1


def test_extreme_logits_are_finite():
    logits = jnp.array([-30.0, 30.0, 0.0, 15.0])
    f_cat3 = lambda y: jnp.sum(y * jnp.array([1.0, 2.0, 3.0])) ** 2  # noqa: E731
    for kind, lg, f in [("bernoulli", logits, f_vec), ("categorical", logits[None, :3], f_cat3)]:

        def one(key, lg=lg, f=f, kind=kind):
            # Each returns (Σĝ², ĝ): the estimate and the second-order variance loss.
            return rebar_variance_loss(key, lg, f, ETA, TEMP, kind=kind)

        out = jax.tree.leaves(fast_jit(jax.vmap(one))(jax.random.split(jax.random.key(10), 1000)))
        for x in out:
            assert np.all(np.isfinite(x)), (kind, x)


def test_bad_kind_raises():
    with pytest.raises(ValueError, match="kind must be"):
        rebar(jax.random.key(0), VEC_LOGITS, f_vec, ETA, TEMP, kind="gaussian")
    with pytest.raises(ValueError, match="kind must be"):
        relax(jax.random.key(0), VEC_LOGITS, f_vec, mlp, PHI0, kind="onehot")
