"""Samplers of the foundation families: goodness of fit and moments at fixed keys
(tolerances from the sample size, see tests/stats_checks.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jdist
from tests.stats_checks import chi2_check as _chi2
from tests.stats_checks import ks_check as _ks
from tests.stats_checks import moments_check as _moments

N = 20_000


@pytest.mark.parametrize("loc, scale", [(0.0, 1.0), (-3.0, 0.01), (100.0, 25.0)])
def test_normal_sampler(loc, scale):
    d = jdist.Normal(loc, scale)
    x = d.sample(jax.random.key(11), (N,))
    _ks(x, stats.norm(loc, scale).cdf)
    _moments(x, loc, scale**2)
    _ks(d.rsample(jax.random.key(12), (N,)), d.cdf)  # also against jdist's own cdf


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-5.0, -4.9), (-1e3, 1e3)])
def test_uniform_sampler(low, high):
    d = jdist.Uniform(low, high)
    x = d.sample(jax.random.key(21), (N,))
    assert np.all((x >= low) & (x <= high))
    _ks(x, stats.uniform(low, high - low).cdf)
    _moments(x, (low + high) / 2, (high - low) ** 2 / 12)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_bernoulli_sampler(param):
    p = np.array([0.02, 0.5, 0.9])
    arg = p if param == "probs" else np.log(p) - np.log1p(-p)
    d = jdist.Bernoulli(**{param: jnp.asarray(arg, jnp.float32)})
    x = d.sample(jax.random.key(31), (N,))
    assert x.dtype == jnp.float32 and set(np.unique(x)) <= {0.0, 1.0}
    for j in range(3):
        _chi2(x[:, j].astype(int), [1 - p[j], p[j]])
    _moments(x, p, p * (1 - p))


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_sampler(param):
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.97, 0.01, 0.02]])
    with np.errstate(divide="ignore"):  # log 0 = -inf: a masked category
        arg = p if param == "probs" else np.log(p)
    d = jdist.Categorical(**{param: jnp.asarray(arg, jnp.float32)})
    x = d.sample(jax.random.key(41), (N,))
    assert jnp.issubdtype(x.dtype, jnp.integer)
    for b in range(2):
        _chi2(x[:, b], p[b])
    oh = jdist.OneHotCategorical(**{param: jnp.asarray(arg, jnp.float32)})
    y = oh.sample(jax.random.key(42), (N,))
    assert np.all(y.sum(-1) == 1)
    for b in range(2):
        _chi2(np.argmax(y[:, b], -1), p[b])
    _moments(y, p, p * (1 - p))


def test_categorical_sampler_catches_a_wrong_distribution():
    """The chi-square check fails on samples from a slightly different distribution."""
    x = jdist.Categorical(probs=jnp.asarray([0.26, 0.24, 0.25, 0.25])).sample(
        jax.random.key(0), (N * 5,)
    )
    with pytest.raises(AssertionError):
        _chi2(x, [0.25, 0.25, 0.25, 0.25])
