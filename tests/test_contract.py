"""The shared contract suite (DESIGN §2): every family in tests/families.py must pass it."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tests.families import FAMILIES

BATCH = (2, 3)
pytestmark = pytest.mark.parametrize("family", FAMILIES, ids=repr)


def _value(d, shape=()):
    return d.sample(jax.random.key(7), shape)


def _optional(member):
    """``member()``, or None where the family has no closed form (DESIGN §2 allows a
    NotImplementedError there, never a wrong value)."""
    try:
        return member()
    except NotImplementedError:
        return None


def _float_leaves(d):
    return [x for x in jax.tree.leaves(d) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]


def test_shapes_and_dtypes(family, dtype):
    d = family.make(dtype)
    assert d.batch_shape == BATCH
    assert isinstance(d.batch_shape, tuple) and isinstance(d.event_shape, tuple)
    x = d.sample(jax.random.key(0), (5,))
    chex.assert_shape(x, (5,) + BATCH + d.event_shape)
    lp = d.log_prob(x)
    chex.assert_shape(lp, (5,) + BATCH)
    assert lp.dtype == dtype
    assert np.all(np.isfinite(lp))
    if jnp.issubdtype(x.dtype, jnp.floating):
        assert x.dtype == dtype
    entropy = _optional(d.entropy)
    if entropy is not None:
        chex.assert_shape(entropy, BATCH)
        assert entropy.dtype == dtype


def test_tree_map_and_unflatten_do_not_validate(family):
    d = family.make(np.float32)
    zeros = jax.tree.map(lambda _: 0, d)
    assert type(zeros) is type(d)
    assert all(leaf == 0 for leaf in jax.tree.leaves(zeros))
    # Unflattening with placeholder leaves never validates, even with validate_args.
    leaves, treedef = jax.tree.flatten(d)
    rebuilt = jax.tree.unflatten(treedef, [object()] * len(leaves))
    assert type(rebuilt) is type(d)
    chex.assert_trees_all_equal_structs(jax.tree.map(lambda _: 0, d), zeros)


def test_jit_in_and_out(family):
    d = family.make(np.float32)
    x = _value(d)

    @jax.jit
    def f(dist, value):
        return dist, dist.log_prob(value)

    d2, lp = f(d, x)
    assert type(d2) is type(d) and d2.batch_shape == d.batch_shape
    np.testing.assert_allclose(lp, d.log_prob(x), rtol=1e-6)


def test_vmap_over_stacked_distributions(family):
    d = family.make(np.float32)
    x = _value(d)
    stacked = jax.tree.map(lambda a, b: jnp.stack([a, b]), d, d)
    assert stacked.batch_shape == (2,) + BATCH
    lp = jax.vmap(lambda dist, v: dist.log_prob(v), in_axes=(jax.tree.map(lambda _: 0, d), None))(
        stacked, x
    )
    chex.assert_shape(lp, (2,) + BATCH)
    np.testing.assert_allclose(lp[1], d.log_prob(x), rtol=1e-6)

    def per_example_shape(dist):
        assert dist.batch_shape == BATCH  # per-example shape under vmap
        return dist.log_prob(x)

    jax.vmap(per_example_shape)(stacked)


def test_distribution_built_inside_vmap_is_returned(family):
    d = family.make(np.float32)
    leaves, treedef = jax.tree.flatten(d)
    stacked_leaves = [jnp.stack([x, x, x]) for x in leaves]
    out = jax.vmap(lambda *ls: jax.tree.unflatten(treedef, ls))(*stacked_leaves)
    assert out.batch_shape == (3,) + BATCH
    chex.assert_shape(out.sample(jax.random.key(0)), (3,) + BATCH + d.event_shape)


def test_grad_wrt_distribution_has_same_type(family):
    d = family.make(np.float32)
    x = _value(d)
    g = jax.grad(lambda dist: jnp.sum(dist.log_prob(x)))(d)
    assert type(g) is type(d)
    chex.assert_trees_all_equal_shapes(g, d)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(g))


def test_scan_carry_and_optax_update(family):
    d = family.make(np.float32)
    x = _value(d)

    def loss(dist):
        return -jnp.mean(dist.log_prob(x))

    opt = optax.sgd(1e-3)
    state = opt.init(d)

    def step(carry, _):
        dist, st = carry
        grads = jax.grad(loss)(dist)
        updates, st = opt.update(grads, st, dist)
        return (optax.apply_updates(dist, updates), st), loss(dist)

    (d_new, _), losses = jax.jit(lambda c: jax.lax.scan(step, c, None, length=3))((d, state))
    assert type(d_new) is type(d)
    assert losses.shape == (3,) and np.all(np.isfinite(losses))
    assert losses[-1] <= losses[0] + 1e-6  # gradient descent on NLL does not increase it


def test_keys_typed_and_legacy_and_determinism(family):
    d = family.make(np.float32)
    # One sample shape throughout: each new shape (and key type) is a new compilation.
    typed = d.sample(jax.random.key(3), (64,))
    legacy = d.sample(jax.random.PRNGKey(3), (64,))
    np.testing.assert_array_equal(typed, legacy)
    np.testing.assert_array_equal(typed, d.sample(jax.random.key(3), (64,)))
    other = d.sample(jax.random.key(4), (64,))
    if not np.all(_optional(lambda: d.variance) == 0):  # a point mass ignores the key
        assert not np.array_equal(other, typed)
    with pytest.raises(TypeError, match="PRNG key"):
        d.sample(0)


def test_no_gradient_through_sample(family):
    d = family.make(np.float32)
    if not jnp.issubdtype(d.sample(jax.random.key(0)).dtype, jnp.floating):
        # Index-valued families: integer samples, which carry no gradient at all.
        assert jnp.issubdtype(d.sample(jax.random.key(0)).dtype, jnp.integer)
        return
    g = jax.grad(lambda dist: jnp.sum(dist.sample(jax.random.key(0))))(d)
    assert all(np.all(leaf == 0) for leaf in jax.tree.leaves(g))


def test_rsample_contract(family):
    d = family.make(np.float32)
    if not d.has_rsample:
        with pytest.raises(NotImplementedError, match="estimators"):
            d.rsample(jax.random.key(0))
        return
    g = jax.grad(lambda dist: jnp.sum(dist.rsample(jax.random.key(0)) ** 2))(d)
    assert any(np.any(leaf != 0) for leaf in jax.tree.leaves(g))
    np.testing.assert_array_equal(
        d.rsample(jax.random.key(1), (2,)), d.sample(jax.random.key(1), (2,))
    )


def test_sample_and_log_prob(family):
    d = family.make(np.float32)
    x, lp = d.sample_and_log_prob(jax.random.key(5), (3,))
    np.testing.assert_array_equal(x, d.sample(jax.random.key(5), (3,)))
    # A family may compute the log-density forward from its base draw (transformed
    # families do, to stay exact where the inverse saturates in float32); log_prob(x)
    # inverts, so the two agree to float32 round-off of that inverse, not to the ulp.
    np.testing.assert_allclose(lp, d.log_prob(x), rtol=2e-5, atol=2e-5)


def test_derived_members(family):
    d = family.make(np.float32)
    x = _value(d)
    np.testing.assert_allclose(d.prob(x), jnp.exp(d.log_prob(x)), rtol=1e-6)
    variance = _optional(lambda: d.variance)
    if variance is not None:
        np.testing.assert_allclose(d.stddev, jnp.sqrt(variance), rtol=1e-6)
        chex.assert_shape(variance, BATCH + d.event_shape)
    entropy = _optional(d.entropy)
    if entropy is not None:
        np.testing.assert_allclose(d.perplexity(), jnp.exp(entropy), rtol=1e-6)
    mean = _optional(lambda: d.mean)
    if mean is not None:
        chex.assert_shape(mean, BATCH + d.event_shape)


def test_expand(family):
    d = family.make(np.float32)
    e = d.expand((4,) + BATCH)
    assert e.batch_shape == (4,) + BATCH and e.event_shape == d.event_shape
    x = _value(d)
    np.testing.assert_allclose(
        e.log_prob(x), jnp.broadcast_to(d.log_prob(x), (4,) + BATCH), rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        d.expand((5,))


def test_shape_mismatch_names_both_shapes(family):
    d = family.make(np.float32)
    bad = jnp.zeros((7,) + d.event_shape)
    with pytest.raises(ValueError, match=r"\(7,.*\(2, 3"):
        d.log_prob(bad)


def test_new_parameter_values_do_not_retrace(family):
    d = family.make(np.float32)
    x = _value(d)
    traces = []

    @jax.jit
    def f(dist):
        traces.append(1)
        return dist.log_prob(x)

    f(d)
    f(jax.tree.map(lambda a: a * 0.9 if jnp.issubdtype(a.dtype, jnp.floating) else a, d))
    assert len(traces) == 1


def test_enumerate_support_is_normalised(family):
    d = family.make(np.float32)
    if not d.has_enumerate_support:
        with pytest.raises(NotImplementedError):
            d.enumerate_support()
        return
    values = d.enumerate_support()
    assert values.shape[1:] == BATCH + d.event_shape
    total = jnp.sum(jnp.exp(d.log_prob(values)), axis=0)
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)
    unexpanded = d.enumerate_support(expand=False)
    assert unexpanded.shape == values.shape[:1] + (1,) * len(BATCH) + d.event_shape


def test_validate_args_accepts_valid_input_eagerly_and_under_checkify(family):
    from jax.experimental import checkify

    d = family.make(np.float32, validate_args=True)
    assert d.validate_args is True
    x = _value(d)
    np.testing.assert_allclose(d.log_prob(x), family.make(np.float32).log_prob(x), rtol=1e-6)
    err, lp = checkify.checkify(jax.jit(lambda dist, v: dist.log_prob(v)))(d, x)
    assert err.get() is None
    # Static config survives flattening, and tree_map to placeholders never validates.
    assert jax.tree.map(lambda a: a, d).validate_args is True
    jax.tree.map(lambda _: -1, d)


def test_out_of_support_is_minus_inf_and_caught_by_validation(family):
    from jax.experimental import checkify

    d = family.make(np.float32)
    bad = jnp.full((4,) + d.batch_shape + d.event_shape, 1e6, dtype=jnp.float32)
    if np.all(d.support.check(bad)):  # unbounded support: 1e6 is a valid value
        assert np.all(np.isfinite(d.log_prob(bad)))
        return
    lp = d.log_prob(bad)
    assert np.all(lp == -np.inf)
    strict = family.make(np.float32, validate_args=True)
    with pytest.raises(ValueError, match="support"):
        strict.log_prob(bad)
    err, _ = checkify.checkify(jax.jit(lambda dist, v: dist.log_prob(v)))(strict, bad)
    with pytest.raises(Exception, match="support"):
        err.throw()
