"""Sharded parameters: sampling and log_prob under jit keep the sharding (8 CPU devices).

Runs in a subprocess so XLA_FLAGS is set before JAX initialises its backend.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import jdist

    assert jax.device_count() == 8, jax.devices()
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    rows = NamedSharding(mesh, P("batch"))
    rows2 = NamedSharding(mesh, P("batch", None))

    loc = jax.device_put(jnp.arange(64.0), rows)
    scale = jax.device_put(jnp.ones(64) * 2.0, rows)
    logits = jax.device_put(jnp.tile(jnp.array([0.1, 0.5, -1.0, 2.0]), (64, 1)), rows2)

    @jax.jit
    def run(normal, cat, key):
        k1, k2 = jax.random.split(key)
        x = normal.sample(k1)
        a = cat.sample(k2)
        return x, normal.log_prob(x), a, cat.log_prob(a)

    normal = jdist.Normal(loc, scale)
    cat = jdist.Categorical(logits=logits)
    x, lp, a, lpa = run(normal, cat, jax.random.key(0))
    for name, out in [("x", x), ("lp", lp), ("a", a), ("lpa", lpa)]:
        assert out.shape == (64,), (name, out.shape)
        assert out.sharding.is_equivalent_to(rows, 1), (name, out.sharding)
        assert len(out.addressable_shards) == 8
        assert all(s.data.shape == (8,) for s in out.addressable_shards), name
    expected = jdist.Normal(np.arange(64.0), 2.0).log_prob(np.asarray(x))
    np.testing.assert_allclose(lp, expected, rtol=1e-5)
    # No all-gather or all-to-all appears in the compiled program.
    hlo = run.lower(normal, cat, jax.random.key(0)).compile().as_text()
    for op in ("all-gather", "all-to-all", "collective-permute"):
        assert op not in hlo, op
    print("SHARDING_OK")
    """
)


def test_sharded_normal_and_categorical_under_jit():
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and "SHARDING_OK" in proc.stdout, proc.stderr[-3000:]
