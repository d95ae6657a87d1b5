"""Case 6, scaling: jitted ``sample``/``log_prob`` time of Normal and Categorical from 1e3
to 1e7 elements, and the memory bandwidth they achieve, against the hand-written version.

"Elements" counts the main operand: Normal values (``loc``, ``scale`` and ``x`` all of that
size), Categorical logits (rows of 16 categories, so 1e6 elements are 62,500 rows).
Achieved GB/s = bytes that must cross memory at least once / time (float32, int32):

* Normal ``log_prob``: read ``loc``, ``scale``, ``x``, write the result: 16 bytes/element.
* Normal ``sample``: read ``loc``, ``scale``, write the draw: 12 bytes/element.
* Categorical ``log_prob``: read the logits and one action per row, write one value per
  row: 4 + 8/16 bytes/element.
* Categorical ``sample``: read the logits, write one index per row: 4 + 4/16 bytes/element.

The ``stream GB/s`` column is the bandwidth of a trivially memory-bound jitted
``2 * x + 1`` over the same number of float32 elements (8 bytes/element): the machine's
practical memory-bandwidth floor at that size. A family at or near it is memory bound;
far below it (sampling: random-bit generation) is compute bound.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import CaseResult, Config, Table, cell, fmt_time, time_calls
from benchmarks._peers import load_peers

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
K = 16
BYTES_PER_ELEMENT = {
    "Normal log_prob": 16.0,
    "Normal sample": 12.0,
    "Categorical log_prob": 4.0 + 8.0 / K,
    "Categorical sample": 4.0 + 4.0 / K,
}


def _fns(jd):
    def normal_lp_jnp(m, s, v):
        return -0.5 * jnp.square((v - m) / s) - jnp.log(s) - HALF_LOG_2PI

    def cat_lp_jnp(lg, a):
        return jnp.take_along_axis(jax.nn.log_softmax(lg, axis=-1), a[:, None], axis=-1)[:, 0]

    return {
        "Normal log_prob": {
            "jnp": normal_lp_jnp,
            "jdist": lambda m, s, v: jd.Normal(m, s).log_prob(v),
        },
        "Normal sample": {
            "jnp": lambda k, m, s: m + s * jax.random.normal(k, m.shape, m.dtype),
            "jdist": lambda k, m, s: jd.Normal(m, s).sample(k),
        },
        "Categorical log_prob": {
            "jnp": cat_lp_jnp,
            "jdist": lambda lg, a: jd.Categorical(logits=lg).log_prob(a),
        },
        "Categorical sample": {
            "jnp": lambda k, lg: jax.random.categorical(k, lg, axis=-1),
            "jdist": lambda k, lg: jd.Categorical(logits=lg).sample(k),
        },
    }


def _gbps(n_bytes: float, secs) -> str:
    return f"{n_bytes / secs / 1e9:.2f}" if isinstance(secs, float) else "-"


def run(cfg: Config) -> CaseResult:
    """Times each (operation, size); see the module docstring."""
    exps = (3, 5) if cfg.quick else (3, 4, 5, 6, 7)
    repeats = cfg.repeats or (3 if cfg.quick else 9)
    target = cfg.target_s or (0.02 if cfg.quick else 0.03)
    peers = load_peers(("jdist",))
    fns = _fns(peers["jdist"])
    libs = [lib for lib in ("jnp", "jdist") if cfg.want(lib)]
    rng = np.random.default_rng(0)
    key = jax.random.PRNGKey(0)
    stream = jax.jit(lambda v: 2.0 * v + 1.0)
    tables = {
        op: Table(
            f"{op}: time per call under jit, achieved GB/s",
            libs,
            info=["GB/s jnp", "GB/s jdist", "stream GB/s", "jdist ns/element"],
        )
        for op in fns
    }
    for e in exps:
        n = 10**e
        loc = jnp.asarray(rng.standard_normal(n).astype(np.float32))
        scale = jnp.asarray(rng.uniform(0.5, 2.0, n).astype(np.float32))
        x = jnp.asarray(rng.standard_normal(n).astype(np.float32))
        rows = max(1, n // K)
        logits = jnp.asarray(rng.standard_normal((rows, K)).astype(np.float32))
        actions = jnp.asarray(rng.integers(0, K, rows).astype(np.int32))
        jax.block_until_ready((loc, scale, x, logits, actions))
        args = {
            "Normal log_prob": (loc, scale, x),
            "Normal sample": (key, loc, scale),
            "Categorical log_prob": (logits, actions),
            "Categorical sample": (key, logits),
        }
        stream_s = time_calls({"stream": lambda x=x: stream(x)}, target_s=target, repeats=repeats)[
            "stream"
        ]
        for op, per_lib in fns.items():
            calls = {}
            for lib in libs:
                jitted = jax.jit(per_lib[lib])
                calls[lib] = lambda j=jitted, a=args[op]: j(*a)
            secs = time_calls(calls, target_s=target, repeats=repeats)
            n_bytes = BYTES_PER_ELEMENT[op] * n
            info = {f"GB/s {lib}": _gbps(n_bytes, secs.get(lib)) for lib in libs}
            info["stream GB/s"] = _gbps(8.0 * n, stream_s)
            if isinstance(secs.get("jdist"), float):
                info["jdist ns/element"] = f"{secs['jdist'] / n * 1e9:.3g}"
            tables[op].add(
                f"{op} 1e{e}",
                {lib: cell(v) for lib, v in secs.items()},
                info,
                summary=e in (exps[len(exps) // 2], exps[-1]),
            )
    notes = [
        "Linear cost shows as a constant ns/element once the fixed per-call cost (dispatch, "
        f"~{fmt_time(1e-5)} on a CPU) is amortised; memory-bound operations approach the "
        "stream column, compute-bound ones (random-bit generation in sample) stay below it."
    ]
    return CaseResult(
        name="scaling",
        title="6. Scaling with size (Normal, Categorical)",
        description=(
            "Jitted `log_prob`/`sample` from 1e3 to 1e7 elements, jdist against the "
            f"hand-written version; median of {repeats} repeats of ~{target:g} s. "
            "Bytes per element: "
            + ", ".join(f"{op} {b:g}" for op, b in BYTES_PER_ELEMENT.items())
            + "."
        ),
        tables=list(tables.values()),
        notes=notes,
    )
