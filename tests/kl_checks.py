"""Shared checks for analytic KL divergences (used by every tests/test_kl_*.py).

Each pair is checked, in float64, against torch.distributions' value and autograd
gradients, against a Monte Carlo estimate, and under jit/vmap; the test modules only
list the pairs and their parameters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch

import jdist

torch.set_default_dtype(torch.float64)

# Test programs run once, so their compile time dominates: compiled at XLA backend
# optimization level 0 (about 40% faster to compile; the LLVM backend keeps IEEE semantics,
# so the arithmetic is the same). Used where a check is asked to compile (``jit=True``).
FAST_COMPILE = {"xla_backend_optimization_level": 0}


def fast_jit(f):
    """``jax.jit`` with ``FAST_COMPILE`` (for test-only programs)."""
    return jax.jit(f, compiler_options=FAST_COMPILE)


def to_torch(d, requires_grad: bool = False):
    """The torch.distributions twin of a jdist distribution with torch's argument names
    (parameters as float64 leaf tensors), and the list of those tensors."""
    leaves = {
        n: torch.tensor(np.asarray(getattr(d, n), np.float64), requires_grad=requires_grad)
        for n in d._param_names
    }
    family = getattr(torch.distributions, type(d).__name__)
    # jdist stores `probs`/`logits` and the MultivariateNormal/Wishart matrices as private
    # leaves (`_probs`, `_covariance_matrix`, ...); torch's argument names drop the underscore.
    return family(**{n.lstrip("_"): v for n, v in leaves.items()}), leaves


def check_against_torch(p, q, p_torch=None, q_torch=None, rtol=1e-10, atol=1e-12, jit=False):
    """jdist's KL value and its gradient w.r.t. every parameter of p and q equal torch's.

    Pass ``p_torch``/``q_torch`` (with leaf tensors requiring grad, as ``(dist, leaves)``)
    for families that ``to_torch`` cannot build. Infinite entries must match exactly.
    ``jit=True`` computes value and gradients in one compiled call (much faster than
    eager dispatch for pairs with many operations)."""
    p_torch = p_torch or to_torch(p, requires_grad=True)
    q_torch = q_torch or to_torch(q, requires_grad=True)
    expected_t = torch.distributions.kl_divergence(p_torch[0], q_torch[0])
    expected = expected_t.detach().numpy()
    finite = np.isfinite(expected)
    mask = jnp.asarray(finite)

    def masked_sum(a, b):
        kl = jdist.kl_divergence(a, b)
        return jnp.sum(jnp.where(mask, kl, 0.0)), kl

    if jit:
        (_, value), grads = fast_jit(jax.value_and_grad(masked_sum, (0, 1), has_aux=True))(p, q)
    else:
        value = jdist.kl_divergence(p, q)
    value = np.asarray(value)
    assert value.shape == expected.shape, (value.shape, expected.shape)
    assert not np.any(np.isnan(value)), value
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)

    if not finite.any():
        return
    # Gradients of the sum of the finite entries, parameter by parameter.
    expected_t[torch.as_tensor(finite)].sum().backward()
    if not jit:
        grads = jax.grad(lambda a, b: masked_sum(a, b)[0], (0, 1))(p, q)
    for dist_grad, (_, leaves) in zip(grads, (p_torch, q_torch), strict=True):
        for name, leaf in leaves.items():
            got = np.asarray(getattr(dist_grad, name))
            want = np.zeros_like(got) if leaf.grad is None else leaf.grad.numpy()
            assert not np.any(np.isnan(got)), (name, got)
            np.testing.assert_allclose(got, want, rtol=rtol * 100, atol=atol * 100, err_msg=name)


def check_monte_carlo(p, q, seed=0, num_samples=20_000, jit=False):
    """The analytic KL lies within 5 standard errors of the Monte Carlo estimate
    mean(log p(x) - log q(x)), x ~ p (finite entries; infinite KL needs q(x) = 0 for
    some x of positive p-mass, so the estimate is infinite or the draw missed it).
    ``jit=True`` draws and evaluates in one compiled call (faster than eager dispatch)."""

    def draw(p, q, key):
        x = p.sample(key, (num_samples,))
        return jdist.kl_divergence(p, q), p.log_prob(x) - q.log_prob(x)

    value, log_ratio = (fast_jit(draw) if jit else draw)(p, q, jax.random.key(seed))
    value = np.asarray(value)
    log_ratio = np.asarray(log_ratio, np.float64)
    finite = np.isfinite(value)
    mean = log_ratio.mean(axis=0)
    se = log_ratio.std(axis=0) / np.sqrt(num_samples)
    bad = finite & ~(np.abs(mean - value) <= 5 * se + 1e-12 * np.abs(value))
    assert not bad.any(), (value[bad], mean[bad], se[bad])
    return value, mean, se


def check_jit_vmap(p, q, jit_vmap=False):
    """The KL jits, and vmaps over a leading axis of stacked copies of both arguments
    (``jit_vmap=True``: the vmapped call is compiled too, which is faster, and both compile
    with ``FAST_COMPILE``)."""
    direct = jdist.kl_divergence(p, q)
    jitted = (fast_jit if jit_vmap else jax.jit)(jdist.kl_divergence)(p, q)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(direct), rtol=1e-12)
    stack = lambda d: jax.tree.map(lambda v: jnp.stack([v, v]), d)  # noqa: E731
    mapped = jax.vmap(jdist.kl_divergence)
    mapped = (fast_jit(mapped) if jit_vmap else mapped)(stack(p), stack(q))
    np.testing.assert_allclose(np.asarray(mapped[1]), np.asarray(direct), rtol=1e-12)
