"""The KL registry (``register_kl`` / ``kl_divergence`` dispatch) and ``kl_divergence_mc``.

Dispatch is checked on toy subclasses defined here (fresh classes per test, so the global
registry is only extended with pairs no other code can hit). ``kl_divergence_mc`` is
checked for unbiasedness of its value and of its gradient w.r.t. both distributions'
parameters, for a reparameterizable ``p`` (Normal, pathwise) and a non-reparameterizable
one (Categorical, score function), against closed forms; the check is shown to catch an
estimator that omits the score term.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jdist
from jdist.distribution import Distribution
from tests.kl_checks import fast_jit


def _toy_family():
    """Fresh ``Base`` / ``Child(Base)`` distribution classes (one parameter each)."""

    class Base(Distribution):
        def __init__(self, loc=0.0):
            super().__init__({"loc": loc})

    class Child(Base):
        pass

    return Base, Child


def _const(value):
    return lambda p, q: jnp.asarray(value)


# --------------------------------------------------------------------------- dispatch
def test_most_specific_pair_wins():
    base, child = _toy_family()
    jdist.register_kl(base, base)(_const(1.0))
    jdist.register_kl(child, base)(_const(2.0))
    b, c = base(), child()
    assert float(jdist.kl_divergence(b, b)) == 1.0
    assert float(jdist.kl_divergence(b, c)) == 1.0  # only (Base, Base) matches
    assert float(jdist.kl_divergence(c, b)) == 2.0  # (Child, Base) is below (Base, Base)
    assert float(jdist.kl_divergence(c, c)) == 2.0
    # A later, more specific registration takes over (the dispatch cache is cleared).
    jdist.register_kl(child, child)(_const(3.0))
    assert float(jdist.kl_divergence(c, c)) == 3.0
    assert float(jdist.kl_divergence(c, b)) == 2.0


def test_ambiguous_pairs_raise_naming_candidates():
    base, child = _toy_family()
    jdist.register_kl(base, base)(_const(1.0))
    jdist.register_kl(child, base)(_const(2.0))
    jdist.register_kl(base, child)(_const(3.0))
    c = child()
    with pytest.raises(NotImplementedError, match="ambiguous") as info:
        jdist.kl_divergence(c, c)
    message = str(info.value)
    assert "(Child, Base)" in message and "(Base, Child)" in message
    assert "(Base, Base)" not in message  # dominated, not a candidate
    # Unambiguous mixed calls still work.
    assert float(jdist.kl_divergence(c, base())) == 2.0
    assert float(jdist.kl_divergence(base(), c)) == 3.0


def test_missing_pair_names_both_types_and_suggests_mc():
    base, _ = _toy_family()
    with pytest.raises(NotImplementedError) as info:
        jdist.kl_divergence(base(), jdist.Poisson(1.0))
    message = str(info.value)
    assert "Base" in message and "Poisson" in message and "kl_divergence_mc" in message


@pytest.mark.parametrize("bad", [int, "Normal", jnp.ndarray, None])
def test_register_rejects_non_distribution_types(bad):
    base, _ = _toy_family()
    with pytest.raises(TypeError, match="Distribution"):
        jdist.register_kl(bad, base)
    with pytest.raises(TypeError, match="Distribution"):
        jdist.register_kl(base, bad)


def test_subclasses_of_registered_families_dispatch():
    """Real subclass relations: the policies and OneHotCategoricalStraightThrough reach
    their parents' pairs; HalfNormal-style unrelated families do not match by accident."""
    prefs = jnp.array([0.0, 1.0, 0.5])
    assert np.isfinite(
        float(jdist.kl_divergence(jdist.Greedy(prefs), jdist.EpsilonGreedy(prefs, 0.1)))
    )
    st = jdist.OneHotCategoricalStraightThrough(logits=prefs)
    one_hot = jdist.OneHotCategorical(logits=prefs[::-1])
    np.testing.assert_allclose(
        float(jdist.kl_divergence(st, one_hot)),
        float(jdist.kl_divergence(jdist.OneHotCategorical(logits=prefs), one_hot)),
        rtol=1e-6,
    )
    with pytest.raises(NotImplementedError, match="Categorical"):
        jdist.kl_divergence(jdist.Categorical(logits=prefs), one_hot)


# ----------------------------------------------------------------- kl_divergence_mc
def _normal_kl(mu_p, sd_p, mu_q, sd_q):
    """Closed-form KL(N(μp, σp²) || N(μq, σq²)) (written here, independent of the registry)."""
    return jnp.log(sd_q / sd_p) + (sd_p**2 + (mu_p - mu_q) ** 2) / (2 * sd_q**2) - 0.5


def _replicates(estimator, p, q, reps, num_samples, seed=0):
    """``reps`` independent ``(value, (grad_p, grad_q))`` of ``estimator``, in one compiled
    vmapped call."""
    keys = jax.random.split(jax.random.key(seed), reps)

    def total(a, b, k):
        value = estimator(a, b, k, num_samples)
        return jnp.sum(value), value

    f = jax.value_and_grad(total, (0, 1), has_aux=True)
    (_, values), grads = fast_jit(jax.vmap(f, in_axes=(None, None, 0)))(p, q, keys)
    return values, grads


def _within(samples, expected, k_se=4.0):
    """Per component: is the mean of ``samples`` (axis 0) within ``k_se`` standard errors
    of ``expected``? (4 SE: a false alarm has probability 6e-5 per component.)"""
    samples = np.asarray(samples, np.float64)
    se = samples.std(axis=0) / np.sqrt(samples.shape[0])
    return np.abs(samples.mean(axis=0) - np.asarray(expected)) <= k_se * se + 1e-12


def _check_unbiased(estimator, p, q, exact_value, exact_grads, reps, num_samples):
    values, grads = _replicates(estimator, p, q, reps, num_samples)
    ok = [bool(np.all(_within(values, exact_value)))]
    for got, want in zip(jax.tree.leaves(grads), jax.tree.leaves(exact_grads), strict=True):
        ok.append(bool(np.all(_within(got, want))))
    return ok


def test_mc_unbiased_reparameterized():
    """Normal p (rsample, pathwise): value and gradients w.r.t. (μp, σp, μq, σq) unbiased."""
    p = jdist.Normal(jnp.array([0.3, -1.0]), jnp.array([1.2, 0.5]))
    q = jdist.Normal(jnp.array([1.0, 0.0]), jnp.array([2.0, 0.7]))
    exact = _normal_kl(p.loc, p.scale, q.loc, q.scale)
    grads = jax.grad(lambda a, b: jnp.sum(_normal_kl(a.loc, a.scale, b.loc, b.scale)), (0, 1))(p, q)
    ok = _check_unbiased(jdist.kl_divergence_mc, p, q, exact, grads, reps=2000, num_samples=8)
    assert all(ok), ok


def _categoricals():
    p = jdist.Categorical(logits=jnp.array([[0.5, -1.0, 0.2, 1.5], [0.0, 0.0, 2.0, -1.0]]))
    q = jdist.Categorical(logits=jnp.array([[0.0, 0.3, -0.5, 1.0], [1.0, -1.0, 0.0, 0.5]]))
    return p, q


def test_mc_unbiased_score_function():
    """Categorical p (no rsample: score-function term): value and gradients w.r.t. both
    distributions' logits unbiased against the analytic Categorical pair (itself checked
    against torch in test_kl_discrete_multivariate.py)."""
    p, q = _categoricals()
    exact = jdist.kl_divergence(p, q)
    grads = jax.grad(lambda a, b: jnp.sum(jdist.kl_divergence(a, b)), (0, 1))(p, q)
    ok = _check_unbiased(jdist.kl_divergence_mc, p, q, exact, grads, reps=4000, num_samples=4)
    assert all(ok), ok


def test_mc_check_catches_missing_score_term():
    """A variant without the score term (the naive mean of log p(x) - log q(x) over draws
    that carry no gradient) has a biased gradient w.r.t. p, and the same check flags it,
    far outside 4 standard errors."""

    def no_score(p, q, key, n):
        x = p.sample(key, (n,))
        return jnp.mean(p.log_prob(x) - q.log_prob(x), axis=0)

    p, q = _categoricals()
    exact = jdist.kl_divergence(p, q)
    grads = jax.grad(lambda a, b: jnp.sum(jdist.kl_divergence(a, b)), (0, 1))(p, q)
    values, got = _replicates(no_score, p, q, reps=4000, num_samples=4)
    assert np.all(_within(values, exact))  # the value alone is unbiased ...
    grad_p = np.asarray(got[0]._logits)
    assert not np.all(_within(grad_p, grads[0]._logits, k_se=10.0))  # ... its gradient is not
    assert np.all(_within(np.asarray(got[1]._logits), grads[1]._logits))  # (q's is)


def test_mc_rejects_bad_num_samples():
    p = jdist.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="num_samples"):
        jdist.kl_divergence_mc(p, p, jax.random.key(0), 0)
