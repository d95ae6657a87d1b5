"""Every member of the foundation families against scipy.stats / numpy float64 references,
in float32 and float64, at ordinary and extreme parameters and far tails."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special as sp_special
from scipy import stats

import jdist
from tests.conftest import RTOL, assert_close, cast_like

NORMAL_PARAMS = [
    dict(loc=[0.0, -3.0, 5.0], scale=[1.0, 0.1, 30.0]),
    dict(loc=0.0, scale=1e-3),
    dict(loc=1e4, scale=1e3),
]
NORMAL_X = np.array([-40.0, -12.0, -5.0, -1.0, 0.0, 0.3, 2.0, 8.0, 40.0])[:, None]
QUANTILES = np.array([1e-30, 1e-10, 0.01, 0.3, 0.5, 0.9, 0.999999])[:, None]


@pytest.mark.parametrize("params", NORMAL_PARAMS)
def test_normal_against_scipy(params, dtype):
    p = {k: cast_like(v, dtype) for k, v in params.items()}
    d = jdist.Normal(jnp.asarray(p["loc"], dtype), jnp.asarray(p["scale"], dtype))
    ref = stats.norm(p["loc"], p["scale"])
    x = cast_like(p["loc"] + NORMAL_X * p["scale"], dtype)  # standardized points, incl. z = ±40
    xj = jnp.asarray(x, dtype)
    assert_close(d.log_prob(xj), ref.logpdf(x), dtype, what="log_prob")
    assert_close(d.cdf(xj), ref.cdf(x), dtype, what="cdf")
    assert_close(d.log_cdf(xj), ref.logcdf(x), dtype, what="log_cdf")
    assert_close(d.survival_function(xj), ref.sf(x), dtype, what="sf")
    assert_close(d.log_survival_function(xj), ref.logsf(x), dtype, what="log_sf")
    q = cast_like(QUANTILES, dtype)
    # icdf is ill-conditioned where the density is tiny; scale the tolerance by the
    # condition number |q / (x pdf(x))| of the quantile function (at least 1).
    xq = ref.ppf(q)
    cond = np.maximum(1.0, np.abs(q / (np.maximum(np.abs(xq), 1e-300) * ref.pdf(xq))))
    got = np.asarray(d.icdf(jnp.asarray(q, dtype)), np.float64)
    err = np.abs(got - xq) / (np.abs(xq) + 1e-30)
    assert np.all(err <= 10 * RTOL[dtype] * cond), (err, cond)
    assert_close(d.mean, ref.mean(), dtype, what="mean")
    assert_close(d.variance, ref.var(), dtype, what="variance")
    assert_close(d.stddev, ref.std(), dtype, what="stddev")
    assert_close(d.entropy(), ref.entropy(), dtype, what="entropy")
    assert_close(d.mode, p["loc"] + 0 * p["scale"], dtype, what="mode")


def test_normal_far_tail_is_finite_with_finite_gradients(dtype):
    d = jdist.Normal(jnp.asarray(0.0, dtype), jnp.asarray(1.0, dtype))
    for f in (d.log_cdf, d.log_survival_function, d.log_prob):
        for x in (-40.0, 40.0, -1e3, 1e3):
            v = f(jnp.asarray(x, dtype))
            assert np.isfinite(v), (f, x, v)
            g = jax.grad(
                lambda loc, f_name=f.__name__, x=x: getattr(
                    jdist.Normal(loc, jnp.asarray(1.0, dtype)), f_name
                )(jnp.asarray(x, dtype))
            )(jnp.asarray(0.0, dtype))
            assert np.isfinite(g), (f, x, g)
    assert_close(d.log_cdf(jnp.asarray(-40.0, dtype)), stats.norm.logcdf(-40.0), dtype)


def test_normal_tiny_scale_gradients_are_exact(dtype):
    """At x == loc with scale² below the smallest float, d/dscale log_prob = -1/scale and
    d/dscale cdf = 0 exactly (a plain quotient rule gives 0 · inf = NaN there)."""
    tiny = jnp.asarray(1e-20 if dtype == np.float32 else 1e-160, dtype)
    zero = jnp.asarray(0.0, dtype)
    for member, expected in (("log_prob", -1.0 / float(tiny)), ("cdf", 0.0)):
        g = jax.grad(lambda s, m=member: getattr(jdist.Normal(zero, s), m)(zero))(tiny)
        np.testing.assert_allclose(float(g), expected, rtol=1e-6, err_msg=member)


@pytest.mark.parametrize(
    "low, high",
    [([0.0, -2.0, 1e-3], [1.0, 3.0, 2e-3]), (-1e6, 1e6), (5.0, 5.0 + 1e-4)],
)
def test_uniform_against_scipy(low, high, dtype):
    lo, hi = cast_like(low, dtype), cast_like(high, dtype)
    d = jdist.Uniform(jnp.asarray(lo, dtype), jnp.asarray(hi, dtype))
    ref = stats.uniform(lo, hi - lo)
    t = np.array([-0.5, 0.0, 0.25, 0.5, 0.99, 1.0, 1.5])[:, None]
    x = cast_like(lo + t * (hi - lo), dtype)
    xj = jnp.asarray(x, dtype)
    # `high - low` is computed in `dtype`: its relative rounding error grows by the
    # condition number max(|low|, |high|) / (high - low) for narrow intervals.
    scale = max(1.0, float(np.max(np.maximum(np.abs(lo), np.abs(hi)) / (hi - lo))))
    assert_close(d.log_prob(xj), ref.logpdf(x), dtype, rtol_scale=scale, what="log_prob")
    assert_close(d.cdf(xj), ref.cdf(x), dtype, rtol_scale=scale, what="cdf")
    assert_close(d.survival_function(xj), ref.sf(x), dtype, rtol_scale=scale, what="sf")
    assert_close(d.log_survival_function(xj), ref.logsf(x), dtype, rtol_scale=scale, what="logsf")
    q = cast_like(np.array([0.0, 0.1, 0.5, 1.0])[:, None], dtype)
    assert_close(d.icdf(jnp.asarray(q, dtype)), ref.ppf(q), dtype, rtol_scale=scale, what="icdf")
    assert_close(d.mean, ref.mean(), dtype, rtol_scale=scale, what="mean")
    assert_close(d.variance, ref.var(), dtype, rtol_scale=scale, what="variance")
    assert_close(d.entropy(), ref.entropy(), dtype, rtol_scale=scale, what="entropy")
    with pytest.raises(NotImplementedError, match="mode"):
        d.mode  # noqa: B018


@pytest.mark.parametrize("logits", [[-200.0, -30.0, -1.0, 0.0, 2.5, 30.0, 200.0]])
def test_bernoulli_logits_against_numpy(logits, dtype):
    lg = cast_like(logits, dtype)
    d = jdist.Bernoulli(logits=jnp.asarray(lg, dtype))
    # log σ(l) = -log(1 + e^{-l}), computed stably in float64 by numpy.
    log_p1, log_p0 = -np.logaddexp(0.0, -lg), -np.logaddexp(0.0, lg)
    assert_close(d.log_prob(jnp.ones_like(lg, dtype=dtype)), log_p1, dtype, what="log_prob(1)")
    assert_close(d.log_prob(jnp.zeros(len(lg), dtype=jnp.int32)), log_p0, dtype, what="log_prob(0)")
    p = sp_special.expit(lg)
    assert_close(d.probs, p, dtype, what="probs")
    assert_close(d.mean, p, dtype, what="mean")
    assert_close(d.variance, p * (1 - p), dtype, what="variance")
    entropy = -(np.exp(log_p1) * log_p1 + np.exp(log_p0) * log_p0)
    assert_close(d.entropy(), entropy, dtype, what="entropy")
    grads = jax.grad(
        lambda lg: jnp.sum(
            jdist.Bernoulli(logits=lg).log_prob(jnp.ones_like(lg))
            + jdist.Bernoulli(logits=lg).entropy()
        )
    )(jnp.asarray(lg, dtype))
    assert np.all(np.isfinite(grads))


@pytest.mark.parametrize("probs", [[0.0, 1e-6, 0.3, 0.5, 0.999, 1.0]])
def test_bernoulli_probs_against_scipy(probs, dtype):
    p = cast_like(probs, dtype)
    d = jdist.Bernoulli(probs=jnp.asarray(p, dtype))
    ref = stats.bernoulli(p)
    for x in (0.0, 1.0):
        assert_close(d.log_prob(jnp.full(p.shape, x, dtype)), ref.logpmf(x), dtype, what=f"lp({x})")
    assert_close(d.mean, ref.mean(), dtype, what="mean")
    assert_close(d.variance, ref.var(), dtype, what="variance")
    assert_close(d.entropy(), ref.entropy(), dtype, what="entropy")
    assert_close(d.logits[1:-1], sp_special.logit(p[1:-1]), dtype, what="logits")
    # Gradients at the boundary probabilities stay finite for the outcome that is possible.
    g = jax.grad(
        lambda q: jnp.sum(jdist.Bernoulli(probs=q).log_prob(jnp.asarray([0.0, 1.0], dtype)))
    )(jnp.asarray([0.0, 1.0], dtype))
    assert np.all(np.isfinite(g))


CATEGORICAL_PROBS = [
    [0.1, 0.2, 0.7],
    [1e-30, 0.5, 0.5],
    [0.25, 0.25, 0.25, 0.25],
]


@pytest.mark.parametrize("probs", CATEGORICAL_PROBS)
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_against_scipy(probs, param, dtype):
    p = cast_like(probs, dtype)
    p = p / p.sum()
    k = np.arange(len(p))
    ref = stats.rv_discrete(values=(k, p))
    arg = jnp.asarray(p if param == "probs" else np.log(p) + 3.0, dtype)  # unnormalised logits
    d = jdist.Categorical(**{param: arg})
    assert_close(d.log_prob(jnp.asarray(k)), np.log(p), dtype, what="log_prob")
    assert_close(d.probs, p, dtype, what="probs")
    assert_close(d.mean, ref.mean(), dtype, what="mean")
    assert_close(d.variance, ref.var(), dtype, rtol_scale=10, what="variance")
    assert_close(d.entropy(), ref.entropy(), dtype, what="entropy")
    assert int(d.mode) == int(np.argmax(p))
    oh = jdist.OneHotCategorical(**{param: arg})
    assert_close(oh.log_prob(jnp.eye(len(p), dtype=dtype)), np.log(p), dtype, what="onehot lp")
    assert_close(oh.mean, p, dtype, what="onehot mean")
    assert_close(oh.variance, p * (1 - p), dtype, what="onehot variance")
    assert_close(oh.entropy(), ref.entropy(), dtype, what="onehot entropy")
    np.testing.assert_array_equal(oh.mode, np.eye(len(p))[np.argmax(p)])


def test_categorical_masked_logits(dtype):
    logits = jnp.asarray([0.5, -jnp.inf, 1.0, -jnp.inf], dtype)
    d = jdist.Categorical(logits=logits)
    p = np.exp([0.5, 1.0]) / np.exp([0.5, 1.0]).sum()
    assert_close(d.log_prob(jnp.asarray([0, 2])), np.log(p), dtype, what="allowed")
    assert np.all(d.log_prob(jnp.asarray([1, 3])) == -np.inf)
    assert_close(d.probs, [p[0], 0, p[1], 0], dtype, what="probs")
    assert_close(d.entropy(), -(p * np.log(p)).sum(), dtype, what="entropy")
    samples = d.sample(jax.random.key(0), (2000,))
    assert not np.any((samples == 1) | (samples == 3))

    def objective(lg):
        dist = jdist.Categorical(logits=lg)
        return jnp.sum(dist.log_prob(jnp.asarray([0, 2]))) + dist.entropy()

    g = jax.grad(objective)(logits)
    assert np.all(np.isfinite(g)) and g[1] == 0 and g[3] == 0
    oh = jdist.OneHotCategorical(logits=logits)
    assert np.isfinite(oh.log_prob(jnp.asarray([0.0, 0.0, 1.0, 0.0], dtype)))
    assert np.all(
        np.isfinite(jax.grad(lambda lg: jdist.OneHotCategorical(logits=lg).entropy())(logits))
    )


def test_categorical_out_of_range_index_is_minus_inf():
    d = jdist.Categorical(probs=jnp.asarray([0.5, 0.5]))
    np.testing.assert_array_equal(d.log_prob(jnp.asarray([-1, 2, 5])), -np.inf)
    assert d.log_prob(jnp.asarray(0.5)) == -np.inf
    assert np.isfinite(d.log_prob(jnp.asarray(1.0)))  # float index accepted


def test_bernoulli_logits_gradient_is_x_minus_sigmoid(dtype):
    """d/dl log p(x) = x - σ(l), including at l = 0 (where |l|/relu-based forms pick a
    wrong subgradient) and at |l| = 30, 200."""
    logits = jnp.asarray([-200.0, -30.0, -3.0, 0.0, 3.0, 30.0, 200.0], dtype)
    for x in (0.0, 1.0):
        g = jax.grad(lambda lg, x=x: jdist.Bernoulli(logits=lg).log_prob(x).sum())(logits)
        expected = x - 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64)))
        assert_close(g, expected, dtype, what=f"x={x}")
