"""Tests for examples/pathwise_control.py (pathwise gradients through a JAX environment)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pathwise_control.py"


@pytest.fixture(scope="module")
def pc():
    spec = importlib.util.spec_from_file_location("pathwise_control_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_short_training_improves_return(pc, capsys):
    untrained, trained = pc.main(["--steps", "60", "--seed", "0"])
    assert math.isfinite(untrained) and math.isfinite(trained)
    assert untrained < 0 and trained < 0  # returns are sums of negative rewards
    # Training must cut the (negative) return's magnitude at least threefold.
    assert trained > untrained / 3, (untrained, trained)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("pathwise control: untrained return ")
    assert "-> trained return" in last


def test_training_is_deterministic_given_seed(pc):
    # Default batch size / lr: reuses the train step compiled by the other test.
    _, p1 = pc.train(3, seed=5, verbose=False)
    _, p2 = pc.train(3, seed=5, verbose=False)
    for k in p1:
        np.testing.assert_array_equal(np.asarray(p1[k]), np.asarray(p2[k]))


def test_gradient_flows_through_rsample_to_scale(pc):
    params = pc.init_policy(jax.random.key(0))
    keys = jax.random.split(jax.random.key(1), 32)
    loss_fn = jax.jit(pc.loss_fn)
    grads = jax.jit(jax.grad(pc.loss_fn))(params, keys)

    g_scale = np.asarray(grads["raw_scale"])
    assert g_scale.shape == (pc.ACT_DIM,)
    assert np.all(np.isfinite(g_scale))
    assert np.all(np.abs(g_scale) > 1e-3), g_scale
    # Exploration noise only hurts in this task, so the loss must increase with the std.
    assert np.all(g_scale > 0), g_scale
    for name, g in grads.items():
        assert np.all(np.isfinite(np.asarray(g))), name

    # With the keys fixed the loss is a deterministic, smooth function of the
    # parameters, so the pathwise gradient must match central finite differences.
    eps = 1e-2
    for i in range(pc.ACT_DIM):
        delta = jnp.zeros(pc.ACT_DIM).at[i].set(eps)
        up = loss_fn({**params, "raw_scale": params["raw_scale"] + delta}, keys)
        down = loss_fn({**params, "raw_scale": params["raw_scale"] - delta}, keys)
        fd = float(up - down) / (2 * eps)
        np.testing.assert_allclose(g_scale[i], fd, rtol=2e-2)


def test_rsample_is_reparameterized(pc):
    """An action is loc + scale * eps: d action / d scale equals the standardized noise."""
    params = pc.init_policy(jax.random.key(0))
    obs = jnp.array([1.0, -0.5, 0.2, 0.0])
    key = jax.random.key(3)

    def action(raw_scale):
        return pc.policy_dist({**params, "raw_scale": raw_scale}, obs).rsample(key)

    a = action(params["raw_scale"])
    jac = jax.jacobian(action)(params["raw_scale"])
    dist = pc.policy_dist(params, obs)
    eps_noise = (a - dist.loc) / dist.scale
    expected = jnp.diag(eps_noise * jax.nn.sigmoid(params["raw_scale"]))  # softplus' = sigmoid
    np.testing.assert_allclose(np.asarray(jac), np.asarray(expected), rtol=1e-4, atol=1e-6)
