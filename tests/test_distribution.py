"""Rules of the Distribution base that are not per-family: errors, dtypes, immutability."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.experimental import checkify

import jdist


def test_invalid_parameter_error_names_parameter_constraint_and_shape():
    with pytest.raises(ValueError, match=r"Normal: parameter `scale` of shape \(3,\).*> 0.*1 of 3"):
        jdist.Normal(0.0, jnp.array([1.0, -1.0, 2.0]), validate_args=True)
    with pytest.raises(ValueError, match=r"Bernoulli: parameter `probs`.*\[0.0, 1.0\]"):
        jdist.Bernoulli(probs=jnp.array([0.5, 1.5]), validate_args=True)
    with pytest.raises(
        ValueError, match=r"Categorical: parameter `probs` of shape \(2, 3\).*simplex"
    ):
        jdist.Categorical(probs=jnp.array([[0.5, 0.5, 0.5], [0.2, 0.3, 0.5]]), validate_args=True)
    with pytest.raises(ValueError, match="low < high"):
        jdist.Uniform(1.0, jnp.array([0.0, 2.0]), validate_args=True)
    # Without validate_args nothing is checked (and nothing is computed).
    jdist.Normal(0.0, -1.0)


def test_invalid_parameters_under_jit_reported_by_checkify():
    def f(scale):
        return jdist.Normal(0.0, scale, validate_args=True).log_prob(0.0)

    err, _ = checkify.checkify(jax.jit(f))(jnp.array(-1.0))
    with pytest.raises(Exception, match="scale"):
        err.throw()
    err, _ = checkify.checkify(jax.jit(f))(jnp.array(1.0))
    assert err.get() is None
    # Plain jit without checkify runs (the check is a no-op there, never a trace error).
    assert np.isfinite(jax.jit(f)(jnp.array(1.0)))


def test_out_of_support_value_error():
    d = jdist.Categorical(logits=jnp.zeros(3), validate_args=True)
    with pytest.raises(ValueError, match=r"Categorical: value of shape \(2,\) violates support"):
        d.log_prob(jnp.array([0, 3]))
    with pytest.raises(ValueError, match=r"icdf"):
        jdist.Normal(0.0, 1.0, validate_args=True).icdf(1.5)


def test_parameter_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\), \(4,\)"):
        jdist.Normal(jnp.zeros(3), jnp.ones(4))


def test_probs_and_logits_exactly_one():
    for cls in (jdist.Bernoulli, jdist.Categorical, jdist.OneHotCategorical):
        with pytest.raises(ValueError, match="exactly one of `probs` or `logits`.*both"):
            cls(probs=jnp.array([0.5, 0.5]), logits=jnp.zeros(2))
        with pytest.raises(ValueError, match="neither"):
            cls()
    d = jdist.Categorical(probs=jnp.array([1.0, 3.0]))
    np.testing.assert_allclose(d.probs, [0.25, 0.75])
    np.testing.assert_allclose(d.logits, np.log([0.25, 0.75]), rtol=1e-6)


def test_immutable():
    d = jdist.Normal(0.0, 1.0)
    with pytest.raises(AttributeError, match="immutable"):
        d.loc = 3.0
    with pytest.raises(AttributeError, match="immutable"):
        del d.scale


def test_dtypes_follow_jax_conventions():
    d = jdist.Normal(0.0, 1.0)  # Python scalars are weakly typed
    assert d.sample(jax.random.key(0)).dtype == jnp.float32
    assert d.log_prob(jnp.float32(0.5)).dtype == jnp.float32
    assert jdist.Normal(0, 1).sample(jax.random.key(0)).dtype == jnp.float32
    with jax.enable_x64(True):
        d64 = jdist.Normal(jnp.zeros(2, jnp.float64), 1.0)
        assert d64.sample(jax.random.key(0)).dtype == jnp.float64
        assert d64.log_prob(jnp.zeros(2)).dtype == jnp.float64
        # float32 parameters stay float32 with x64 on; Python scalars don't upgrade them.
        d32 = jdist.Normal(jnp.zeros(2, jnp.float32), 1.0)
        assert d32.sample(jax.random.key(0)).dtype == jnp.float32
        assert (
            jdist.Bernoulli(probs=jnp.float32(0.3)).sample(jax.random.key(0)).dtype == jnp.float32
        )


def test_independent_rules():
    base = jdist.Normal(jnp.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"reinterpreted_batch_ndims=3.*\(2, 3\)"):
        jdist.Independent(base, 3)
    d = jdist.Independent(base, 2)
    assert d.batch_shape == () and d.event_shape == (2, 3)
    assert d.has_rsample
    np.testing.assert_allclose(
        d.log_prob(jnp.zeros((2, 3))), 6 * -0.5 * np.log(2 * np.pi), rtol=1e-6
    )
    np.testing.assert_allclose(d.entropy(), 6 * (0.5 + 0.5 * np.log(2 * np.pi)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"event shape \(2, 3\)"):
        d.log_prob(jnp.zeros((3, 2)))
    i = jdist.Independent(jdist.Bernoulli(probs=jnp.full((4,), 0.5)), 1)
    assert not i.has_enumerate_support and not i.has_rsample


def test_sample_shape_forms():
    d = jdist.Normal(jnp.zeros(2), 1.0)
    assert d.sample(jax.random.key(0)).shape == (2,)
    assert d.sample(jax.random.key(0), 3).shape == (3, 2)
    assert d.sample(jax.random.key(0), (3, 4)).shape == (3, 4, 2)
    assert d.sample(jax.random.key(0), [3]).shape == (3, 2)


@settings(max_examples=40, deadline=None)
@given(
    loc=st.floats(-1e3, 1e3),
    scale=st.floats(1e-3, 1e3),
    q=st.floats(1e-6, 1 - 1e-6),
)
def test_normal_icdf_inverts_cdf(loc, scale, q):
    # float64, so that rounding x = loc + scale * z (ulp(loc) / scale can be large) is
    # far below the tolerance.
    with jax.enable_x64(True):
        d = jdist.Normal(jnp.float64(loc), jnp.float64(scale))
        x = d.icdf(jnp.float64(q))
        np.testing.assert_allclose(d.cdf(x), q, rtol=1e-6, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(logits=st.lists(st.floats(-50, 50), min_size=2, max_size=6))
def test_categorical_log_probs_normalised_and_finite(logits):
    d = jdist.Categorical(logits=jnp.asarray(logits, jnp.float32))
    lp = d.log_prob(d.enumerate_support())
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(jax.nn.logsumexp(lp), 0.0, atol=1e-5)
    assert np.isfinite(d.entropy()) and d.entropy() >= -1e-6


@settings(max_examples=40, deadline=None)
@given(logit=st.floats(-500, 500), x=st.sampled_from([0.0, 1.0]))
def test_bernoulli_log_prob_and_grad_finite_for_any_logit(logit, x):
    lp, g = jax.value_and_grad(lambda lg: jdist.Bernoulli(logits=lg).log_prob(x))(
        jnp.float32(logit)
    )
    assert np.isfinite(lp) and np.isfinite(g) and lp <= 0


def test_python_ints_and_lists_become_float_parameters():
    d = jdist.Normal(0, 1)
    g = jax.grad(lambda dist: dist.log_prob(0.5))(d)
    assert np.isfinite(g.loc) and np.isfinite(g.scale)
    c = jdist.Categorical(probs=[1, 3])
    assert jnp.issubdtype(c.probs.dtype, jnp.floating)
    np.testing.assert_allclose(c.log_prob([0, 1]), np.log([0.25, 0.75]), rtol=1e-6)
