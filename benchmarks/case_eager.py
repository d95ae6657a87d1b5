"""Case 2, eager latency: construct a distribution and call ``log_prob`` outside ``jit``.

The un-jitted RL-loop habit: every call builds the distribution and evaluates one small
batch, so the figure is per-call Python and dispatch overhead, not arithmetic.

* ``Normal(0., 1.).log_prob(x)`` with ``x`` float32 of 16 elements.
* ``Categorical(logits=logits).log_prob(a)`` with ``logits`` float32 (16, 4), ``a`` 16 ints.

torch validates arguments by default (under ``__debug__``); jdist, distrax, numpyro and
TFP do not, so the like-for-like torch column is ``validate_args=False`` and the default
is shown beside it.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import CaseResult, Config, Table, cell, time_calls
from benchmarks._peers import load_peers, torch_block, torch_device

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
N_X = 16
N_CATEGORIES = 4


def _functions(peers, cfg: Config):
    rng = np.random.default_rng(0)
    x_np = np.linspace(-2.0, 2.0, N_X, dtype=np.float32)
    logits_np = rng.standard_normal((N_X, N_CATEGORIES)).astype(np.float32)
    actions_np = rng.integers(0, N_CATEGORIES, size=N_X).astype(np.int32)
    x = jax.block_until_ready(jnp.asarray(x_np))
    logits = jax.block_until_ready(jnp.asarray(logits_np))
    actions = jax.block_until_ready(jnp.asarray(actions_np))

    normal, categorical, blocks = {}, {}, {}

    def normal_jnp():
        loc, scale = 0.0, 1.0
        return -0.5 * ((x - loc) / scale) ** 2 - jnp.log(scale) - HALF_LOG_2PI

    def categorical_jnp():
        logp = jax.nn.log_softmax(logits, axis=-1)
        return jnp.take_along_axis(logp, actions[:, None], axis=-1)[:, 0]

    if cfg.want("jnp"):
        normal["jnp"], categorical["jnp"] = normal_jnp, categorical_jnp
    jd = peers["jdist"]
    normal["jdist"] = lambda: jd.Normal(0.0, 1.0).log_prob(x)
    categorical["jdist"] = lambda: jd.Categorical(logits=logits).log_prob(actions)
    if "distrax" in peers:
        dx = peers["distrax"]
        normal["distrax"] = lambda: dx.Normal(0.0, 1.0).log_prob(x)
        categorical["distrax"] = lambda: dx.Categorical(logits=logits).log_prob(actions)
    if "numpyro" in peers:
        nd = peers["numpyro"]
        normal["numpyro"] = lambda: nd.Normal(0.0, 1.0).log_prob(x)
        categorical["numpyro"] = lambda: nd.Categorical(logits=logits).log_prob(actions)
    if "tfp" in peers:
        tfd = peers["tfp"]
        normal["tfp"] = lambda: tfd.Normal(0.0, 1.0).log_prob(x)
        categorical["tfp"] = lambda: tfd.Categorical(logits=logits).log_prob(actions)
    if "torch" in peers:
        torch, td = peers["torch"].torch, peers["torch"].td
        dev = torch_device(peers["torch"])
        xt = torch.from_numpy(x_np.copy()).to(dev)
        logits_t = torch.from_numpy(logits_np.copy()).to(dev)
        actions_t = torch.from_numpy(actions_np.astype(np.int64)).to(dev)
        for key, validate in (("torch", False), ("torch_validate", True)):
            normal[key] = lambda v=validate: td.Normal(0.0, 1.0, validate_args=v).log_prob(xt)
            categorical[key] = lambda v=validate: td.Categorical(
                logits=logits_t, validate_args=v
            ).log_prob(actions_t)
            blocks[key] = torch_block(peers["torch"])
    reference = {"normal": normal_jnp, "categorical": categorical_jnp}
    return {"normal": normal, "categorical": categorical}, blocks, reference


def _agrees(out, ref) -> bool:
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return out.shape == ref.shape and bool(np.allclose(out, ref, rtol=1e-5, atol=1e-5))


def run(cfg: Config) -> CaseResult:
    """Times each library's construct + log_prob call; see the module docstring."""
    target = cfg.target_s or (0.03 if cfg.quick else 0.1)
    repeats = cfg.repeats or (3 if cfg.quick else 7)
    peers = load_peers(cfg.libs)
    fns, blocks, reference = _functions(peers, cfg)
    libs = [lib for lib in ("jnp", "jdist", "distrax", "numpyro", "tfp") if cfg.want(lib)]
    libs += ["torch", "torch_validate"] if cfg.want("torch") else []
    table = Table("per call, outside jit (construct + log_prob)", libs)
    notes = []
    items = {
        "normal": f"Normal(0., 1.).log_prob(x), x: {N_X} float32",
        "categorical": f"Categorical(logits).log_prob(a), logits ({N_X}, {N_CATEGORIES})",
    }
    for case, label in items.items():
        block = {lib: blocks.get(lib, jax.block_until_ready) for lib in fns[case]}
        ref = np.asarray(reference[case]())
        for lib, fn in fns[case].items():
            try:
                if not _agrees(block[lib](fn()), ref):
                    notes.append(f"{lib} disagrees with the hand-written result on {case}")
            except Exception:  # noqa: BLE001  (time_calls reports the error)
                pass
        secs = time_calls(fns[case], block=block, target_s=target, repeats=repeats, warmup=20)
        cells = {lib: cell(v) for lib, v in secs.items()}
        for lib, why in peers.notes.items():
            cells[lib] = cell(why)
            if lib == "torch":
                cells["torch_validate"] = cell(why)
        table.add(label, cells)
    if "torch" in fns["normal"]:
        notes.append(
            "torch runs eagerly by design (no jit); its column uses validate_args=False, "
            "like the JAX libraries, and torch's default (validate_args on) is shown beside it."
        )
    return CaseResult(
        name="eager",
        title="2. Eager latency (construct + log_prob outside jit)",
        description=(
            "Per-call time of building the distribution and evaluating `log_prob` on a small "
            f"batch outside `jit`; median of {repeats} repeats of ~{target:g} s of calls after "
            "20 warm-up calls."
        ),
        tables=[table],
        notes=notes,
    )
