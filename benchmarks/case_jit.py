"""Case 1, jitted overhead against the floor: ``log_prob`` and ``sample`` under ``jax.jit``.

Each library's function takes the parameters (and the value, or a PRNG key) as ``jit``
arguments, so nothing is constant-folded, and builds the distribution inside the jitted
function, as real code does. The floor, ``hand-written jnp``, is the same computation
written directly with ``jax.numpy``/``jax.random``/``jax.scipy`` (the textbook formula and
the ``jax.random`` sampler); jdist can only add overhead on top of it, and the target is
``jdist / floor <= 1.05``. torch.distributions runs eagerly on the same data (torch has
no ``jit`` here) for reference.

Sizes (``--quick`` divides the batch sizes by 100):

* Normal: ``loc``, ``scale``, ``x`` of 1e6 elements.
* Categorical: logits (1e5, 16); ``log_prob`` of 1e5 actions; one draw per row.
* Gamma: ``concentration`` in [0.5, 5], ``rate`` in [0.5, 2], 1e5 elements.
* MultivariateNormal: batch 1e4, dim 16, batched ``scale_tril``.
* Dirichlet: batch 1e4, 16 categories, ``concentration`` in [0.5, 5].

The ``jaxpr eqns`` column counts the primitive equations each jitted function traces to
(floor / jdist): a larger jdist count is extra work, not overhead of the abstraction.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import linalg as jsl
from jax.scipy import special

from benchmarks._harness import CaseResult, Config, Table, cell, time_calls
from benchmarks._jaxpr import count_eqns
from benchmarks._peers import load_peers, torch_block, torch_device

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
TARGET = 1.05
QUICK_FAMILIES = ("Normal", "Categorical")

# What the floor leaves out or does differently, by item (shown where jdist is slower).
EXPLANATIONS = {
    "Gamma log_prob": (
        "Cause: the log density's formula, not the Distribution wrapper. "
        "`Gamma._log_prob` -> `jdist/distributions/gamma.py:_gamma_log_prob` -> "
        "`jdist/_math.py:gamma_log_kernel`, the Stirling 'deviance' form (accurate for "
        "concentrations of 1e4 and more, where the textbook `(a-1) log x - b x + a log b - "
        "lgamma(a)` loses digits to cancellation): `_log_t_minus_t_plus_1` evaluates "
        "`log1pmx` (a 16-term series) and `log1p`, and `lgamma_stirling_remainder` both "
        "lgamma and a 7-term series, each on both sides of a `jnp.where`; XLA also "
        "materialises `(x - a) / a` and log1pmx's `x / (2 + x)` (divides with several users "
        "are not fused), 3 loop fusions against the floor's 1. The code is shared "
        "(`_math.py`), so it is left as is here."
    ),
    "Dirichlet log_prob": (
        "Cause: the log density's formula, not the wrapper. `Dirichlet._log_prob` uses the "
        "Stirling 'deviance' form per component (`log1pmx` series, `lgamma_stirling_remainder`"
        " = lgamma + series, both sides of each `jnp.where` computed), accurate for large "
        "concentrations, plus the boundary branch (values with zeros) for every row; the "
        "floor is one lgamma and one log per component. (The boundary branch used to cost "
        "K + 1 more lgammas per row: it now reuses the Stirling terms, about 30% faster.)"
    ),
    "Categorical log_prob": (
        "Measured (1e5 x 16, interleaved): floor 1.14 ms, jdist's `_log_prob` alone 1.15 ms, "
        "full `log_prob` 1.34 ms, so the extra is the support mask of "
        "`jdist/distribution.py:Distribution._mask_support` (`integer_interval.check` + "
        "`jnp.where(..., -inf)` on the actions), not the gather. The mask's ops are few; in "
        "the compiled HLO XLA shares its `-inf` constant with log_softmax's reduce-max and "
        "passes it into the XNNPACK (`__ynn_fusion`) log_softmax kernel as a runtime operand "
        "instead of a constant, a likely cause; on a loaded machine the effect is within "
        "the noise (1.03-1.08 over runs)."
    ),
    "Gamma sample": (
        "jdist draws `log x` with `jax.random.loggamma` (so tiny concentrations do not "
        "underflow) and exponentiates with clamping to the normal floats; the floor calls "
        "`jax.random.gamma` directly."
    ),
    "Dirichlet sample": (
        "jdist normalises `jax.random.loggamma` draws in log space (logsumexp) so tiny "
        "concentrations do not underflow to 0/0; the floor is `jax.random.dirichlet`."
    ),
}


def _sizes(quick: bool) -> dict[str, int]:
    div = 100 if quick else 1
    return {
        "normal": 1_000_000 // div,
        "cat_batch": 100_000 // div,
        "cat_k": 16,
        "gamma": 100_000 // div,
        "mvn_batch": 10_000 // div,
        "mvn_dim": 16,
        "dir_batch": 10_000 // div,
        "dir_k": 16,
    }


def _exp(n: float) -> str:
    e = math.log10(n)
    return f"1e{e:.0f}" if abs(e - round(e)) < 1e-9 else f"{n:g}"


class _Item:
    """One benchmark row: per-library jax functions (jitted here), their arguments, and
    the torch function on torch tensors."""

    def __init__(self, label, args, fns, torch_fn=None, torch_args=()):
        self.label, self.args, self.fns = label, args, fns
        self.torch_fn, self.torch_args = torch_fn, torch_args


def _items(peers, sizes, cfg: Config):
    rng = np.random.default_rng(0)
    f32 = np.float32
    key = jax.random.PRNGKey(0)  # raw uint32 key: accepted by every JAX peer
    jd = peers.get("jdist")
    dx, nd, tfd = peers.get("distrax"), peers.get("numpyro"), peers.get("tfp")
    tns = peers.get("torch")
    dev = torch_device(tns) if tns is not None else "cpu"

    def t(a):  # numpy -> torch tensor on the torch device
        a = np.ascontiguousarray(a)
        if a.dtype == np.int32:
            a = a.astype(np.int64)
        return tns.torch.from_numpy(a).to(dev)

    def put(*arrays):
        return tuple(jax.block_until_ready(jnp.asarray(a)) for a in arrays)

    items = []

    def add(label, args, fns, torch_fn=None, torch_args=()):
        fns = {lib: f for lib, f in fns.items() if f is not None and cfg.want(lib)}
        use_torch = tns is not None and torch_fn is not None
        items.append(_Item(label, args, fns, torch_fn if use_torch else None, torch_args))

    def only(lib, fn):
        return fn if lib == "jnp" or lib in peers else None

    # ---- Normal
    n = sizes["normal"]
    loc_np = rng.standard_normal(n).astype(f32)
    scale_np = rng.uniform(0.5, 2.0, n).astype(f32)
    x_np = (loc_np + scale_np * rng.standard_normal(n)).astype(f32)
    loc, scale, x = put(loc_np, scale_np, x_np)
    targs = (t(loc_np), t(scale_np), t(x_np)) if tns else ()
    add(
        f"Normal log_prob ({_exp(n)})",
        (loc, scale, x),
        {
            "jnp": lambda m, s, v: -0.5 * jnp.square((v - m) / s) - jnp.log(s) - HALF_LOG_2PI,
            "jdist": only("jdist", lambda m, s, v: jd.Normal(m, s).log_prob(v)),
            "distrax": only("distrax", lambda m, s, v: dx.Normal(m, s).log_prob(v)),
            "numpyro": only("numpyro", lambda m, s, v: nd.Normal(m, s).log_prob(v)),
            "tfp": only("tfp", lambda m, s, v: tfd.Normal(m, s).log_prob(v)),
        },
        lambda m, s, v: tns.td.Normal(m, s, validate_args=False).log_prob(v),
        targs,
    )
    add(
        f"Normal sample ({_exp(n)})",
        (key, loc, scale),
        {
            "jnp": lambda k, m, s: m + s * jax.random.normal(k, m.shape, m.dtype),
            "jdist": only("jdist", lambda k, m, s: jd.Normal(m, s).sample(k)),
            "distrax": only("distrax", lambda k, m, s: dx.Normal(m, s).sample(seed=k)),
            "numpyro": only("numpyro", lambda k, m, s: nd.Normal(m, s).sample(k)),
            "tfp": only("tfp", lambda k, m, s: tfd.Normal(m, s).sample(seed=k)),
        },
        lambda m, s: tns.td.Normal(m, s, validate_args=False).sample(),
        targs[:2],
    )

    # ---- Categorical
    b, k = sizes["cat_batch"], sizes["cat_k"]
    logits_np = rng.standard_normal((b, k)).astype(f32)
    actions_np = rng.integers(0, k, b).astype(np.int32)
    logits, actions = put(logits_np, actions_np)
    targs = (t(logits_np), t(actions_np)) if tns else ()

    def cat_lp_jnp(lg, a):
        return jnp.take_along_axis(jax.nn.log_softmax(lg, axis=-1), a[:, None], axis=-1)[:, 0]

    add(
        f"Categorical log_prob ({_exp(b)} x {k})",
        (logits, actions),
        {
            "jnp": cat_lp_jnp,
            "jdist": only("jdist", lambda lg, a: jd.Categorical(logits=lg).log_prob(a)),
            "distrax": only("distrax", lambda lg, a: dx.Categorical(logits=lg).log_prob(a)),
            "numpyro": only("numpyro", lambda lg, a: nd.Categorical(logits=lg).log_prob(a)),
            "tfp": only("tfp", lambda lg, a: tfd.Categorical(logits=lg).log_prob(a)),
        },
        lambda lg, a: tns.td.Categorical(logits=lg, validate_args=False).log_prob(a),
        targs,
    )
    add(
        f"Categorical sample ({_exp(b)} x {k})",
        (key, logits),
        {
            "jnp": lambda kk, lg: jax.random.categorical(kk, lg, axis=-1),
            "jdist": only("jdist", lambda kk, lg: jd.Categorical(logits=lg).sample(kk)),
            "distrax": only("distrax", lambda kk, lg: dx.Categorical(logits=lg).sample(seed=kk)),
            "numpyro": only("numpyro", lambda kk, lg: nd.Categorical(logits=lg).sample(kk)),
            "tfp": only("tfp", lambda kk, lg: tfd.Categorical(logits=lg).sample(seed=kk)),
        },
        lambda lg: tns.td.Categorical(logits=lg, validate_args=False).sample(),
        targs[:1],
    )

    # ---- Gamma
    n = sizes["gamma"]
    conc_np = rng.uniform(0.5, 5.0, n).astype(f32)
    rate_np = rng.uniform(0.5, 2.0, n).astype(f32)
    gx_np = (rng.gamma(conc_np) / rate_np).astype(f32)
    conc, rate, gx = put(conc_np, rate_np, gx_np)
    targs = (t(conc_np), t(rate_np), t(gx_np)) if tns else ()

    def gamma_lp_jnp(a, r, v):
        return (a - 1.0) * jnp.log(v) - r * v + a * jnp.log(r) - special.gammaln(a)

    add(
        f"Gamma log_prob ({_exp(n)})",
        (conc, rate, gx),
        {
            "jnp": gamma_lp_jnp,
            "jdist": only("jdist", lambda a, r, v: jd.Gamma(a, r).log_prob(v)),
            "distrax": only("distrax", lambda a, r, v: dx.Gamma(a, r).log_prob(v)),
            "numpyro": only("numpyro", lambda a, r, v: nd.Gamma(a, r).log_prob(v)),
            "tfp": only("tfp", lambda a, r, v: tfd.Gamma(a, r).log_prob(v)),
        },
        lambda a, r, v: tns.td.Gamma(a, r, validate_args=False).log_prob(v),
        targs,
    )
    add(
        f"Gamma sample ({_exp(n)})",
        (key, conc, rate),
        {
            "jnp": lambda kk, a, r: jax.random.gamma(kk, a, a.shape, a.dtype) / r,
            "jdist": only("jdist", lambda kk, a, r: jd.Gamma(a, r).sample(kk)),
            "distrax": only("distrax", lambda kk, a, r: dx.Gamma(a, r).sample(seed=kk)),
            "numpyro": only("numpyro", lambda kk, a, r: nd.Gamma(a, r).sample(kk)),
            "tfp": only("tfp", lambda kk, a, r: tfd.Gamma(a, r).sample(seed=kk)),
        },
        lambda a, r: tns.td.Gamma(a, r, validate_args=False).sample(),
        targs[:2],
    )

    # ---- MultivariateNormal (batched scale_tril)
    b, d = sizes["mvn_batch"], sizes["mvn_dim"]
    mloc_np = rng.standard_normal((b, d)).astype(f32)
    tril_np = np.tril(rng.standard_normal((b, d, d)) * (0.3 / math.sqrt(d)), -1)
    tril_np[:, np.arange(d), np.arange(d)] = np.exp(rng.uniform(-0.5, 0.5, (b, d)))
    tril_np = tril_np.astype(f32)
    mx_np = (mloc_np + np.einsum("bij,bj->bi", tril_np, rng.standard_normal((b, d)))).astype(f32)
    mloc, tril, mx = put(mloc_np, tril_np, mx_np)
    targs = (t(mloc_np), t(tril_np), t(mx_np)) if tns else ()

    def mvn_lp_jnp(m, low, v):
        z = jsl.solve_triangular(low, (v - m)[..., None], lower=True)[..., 0]
        half_log_det = jnp.sum(jnp.log(jnp.diagonal(low, axis1=-2, axis2=-1)), axis=-1)
        return -0.5 * jnp.sum(z * z, axis=-1) - half_log_det - d * HALF_LOG_2PI

    def mvn_sample_jnp(kk, m, low):
        eps = jax.random.normal(kk, m.shape, m.dtype)
        return m + jnp.einsum("...ij,...j->...i", low, eps)

    add(
        f"MultivariateNormal log_prob ({_exp(b)} x {d})",
        (mloc, tril, mx),
        {
            "jnp": mvn_lp_jnp,
            "jdist": only(
                "jdist", lambda m, low, v: jd.MultivariateNormal(m, scale_tril=low).log_prob(v)
            ),
            "distrax": only(
                "distrax",
                lambda m, low, v: dx.MultivariateNormalTri(m, low, is_lower=True).log_prob(v),
            ),
            "numpyro": only(
                "numpyro",
                lambda m, low, v: nd.MultivariateNormal(m, scale_tril=low).log_prob(v),
            ),
            "tfp": only("tfp", lambda m, low, v: tfd.MultivariateNormalTriL(m, low).log_prob(v)),
        },
        lambda m, low, v: tns.td.MultivariateNormal(
            m, scale_tril=low, validate_args=False
        ).log_prob(v),
        targs,
    )
    add(
        f"MultivariateNormal sample ({_exp(b)} x {d})",
        (key, mloc, tril),
        {
            "jnp": mvn_sample_jnp,
            "jdist": only(
                "jdist", lambda kk, m, low: jd.MultivariateNormal(m, scale_tril=low).sample(kk)
            ),
            "distrax": only(
                "distrax",
                lambda kk, m, low: dx.MultivariateNormalTri(m, low, is_lower=True).sample(seed=kk),
            ),
            "numpyro": only(
                "numpyro", lambda kk, m, low: nd.MultivariateNormal(m, scale_tril=low).sample(kk)
            ),
            "tfp": only(
                "tfp", lambda kk, m, low: tfd.MultivariateNormalTriL(m, low).sample(seed=kk)
            ),
        },
        lambda m, low: tns.td.MultivariateNormal(m, scale_tril=low, validate_args=False).sample(),
        targs[:2],
    )

    # ---- Dirichlet
    b, k = sizes["dir_batch"], sizes["dir_k"]
    dconc_np = rng.uniform(0.5, 5.0, (b, k)).astype(f32)
    g = np.maximum(rng.gamma(dconc_np.astype(np.float64)), 1e-30)
    dx_np = (g / g.sum(-1, keepdims=True)).astype(f32)
    dconc, dxv = put(dconc_np, dx_np)
    targs = (t(dconc_np), t(dx_np)) if tns else ()

    def dir_lp_jnp(a, v):
        return (
            jnp.sum((a - 1.0) * jnp.log(v), axis=-1)
            + special.gammaln(jnp.sum(a, axis=-1))
            - jnp.sum(special.gammaln(a), axis=-1)
        )

    add(
        f"Dirichlet log_prob ({_exp(b)} x {k})",
        (dconc, dxv),
        {
            "jnp": dir_lp_jnp,
            "jdist": only("jdist", lambda a, v: jd.Dirichlet(a).log_prob(v)),
            "distrax": only("distrax", lambda a, v: dx.Dirichlet(a).log_prob(v)),
            "numpyro": only("numpyro", lambda a, v: nd.Dirichlet(a).log_prob(v)),
            "tfp": only("tfp", lambda a, v: tfd.Dirichlet(a).log_prob(v)),
        },
        lambda a, v: tns.td.Dirichlet(a, validate_args=False).log_prob(v),
        targs,
    )
    add(
        f"Dirichlet sample ({_exp(b)} x {k})",
        (key, dconc),
        {
            "jnp": lambda kk, a: jax.random.dirichlet(kk, a, a.shape[:-1], a.dtype),
            "jdist": only("jdist", lambda kk, a: jd.Dirichlet(a).sample(kk)),
            "distrax": only("distrax", lambda kk, a: dx.Dirichlet(a).sample(seed=kk)),
            "numpyro": only("numpyro", lambda kk, a: nd.Dirichlet(a).sample(kk)),
            "tfp": only("tfp", lambda kk, a: tfd.Dirichlet(a).sample(seed=kk)),
        },
        lambda a: tns.td.Dirichlet(a, validate_args=False).sample(),
        targs[:1],
    )
    return items


def _check(item: _Item, outputs: dict) -> list[str]:
    """Log densities must match the floor's; draws must have its shape and be finite."""
    ref = outputs.get("jnp")
    notes = []
    if ref is None:
        return notes
    ref = np.asarray(ref, dtype=np.float64)
    for lib, out in outputs.items():
        if lib == "jnp":
            continue
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        out = np.asarray(out, dtype=np.float64)
        if out.shape != ref.shape:
            notes.append(f"{lib}: {item.label} has shape {out.shape}, floor {ref.shape}")
        elif "log_prob" in item.label:
            if not np.allclose(out, ref, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(ref).max())):
                err = np.max(np.abs(out - ref))
                notes.append(f"{lib}: {item.label} differs from the floor by up to {err:.2g}")
        elif not np.all(np.isfinite(out)):
            notes.append(f"{lib}: {item.label} has non-finite draws")
    return notes


def run(cfg: Config) -> CaseResult:
    """Times every item; see the module docstring."""
    # Many short interleaved repeats: a burst of load from elsewhere spoils few of them.
    target = cfg.target_s or (0.02 if cfg.quick else 0.03)
    repeats = cfg.repeats or (3 if cfg.quick else 11)
    peers = load_peers(cfg.libs)
    sizes = _sizes(cfg.quick)
    items = _items(peers, sizes, cfg)
    if cfg.quick:  # compiling every item takes most of a minute: not for a smoke run
        items = [it for it in items if it.label.split(" ")[0] in QUICK_FAMILIES]
    tns = peers.get("torch")
    tblock = torch_block(tns) if tns is not None else None
    libs = [lib for lib in ("jnp", "jdist", "distrax", "numpyro", "tfp", "torch") if cfg.want(lib)]
    table = Table("time per call under jax.jit (torch: eager)", libs, info=["jaxpr eqns jnp/jdist"])
    notes = []
    slow = []
    for item in items:
        calls, blocks, outputs = {}, {}, {}
        for lib, fn in item.fns.items():
            jitted = jax.jit(fn)
            calls[lib] = lambda jitted=jitted, args=item.args: jitted(*args)
            blocks[lib] = jax.block_until_ready
        if item.torch_fn is not None:
            calls["torch"] = lambda f=item.torch_fn, a=item.torch_args: f(*a)
            blocks["torch"] = tblock
        for lib, fn in calls.items():
            try:
                outputs[lib] = blocks[lib](fn())
            except Exception:  # noqa: BLE001  (time_calls reports it)
                pass
        notes += _check(item, outputs)
        secs = time_calls(calls, block=blocks, target_s=target, repeats=repeats)
        cells = {lib: cell(v) for lib, v in secs.items()}
        for lib, why in peers.notes.items():
            cells[lib] = cell(why)
        info = {}
        if "jnp" in item.fns and "jdist" in item.fns:
            n_floor = count_eqns(item.fns["jnp"], *item.args)
            n_jdist = count_eqns(item.fns["jdist"], *item.args)
            info["jaxpr eqns jnp/jdist"] = f"{n_floor}/{n_jdist}"
        table.add(item.label, cells, info)
        a, b = secs.get("jdist"), secs.get("jnp")
        if isinstance(a, float) and isinstance(b, float) and a / b > TARGET:
            slow.append((item.label, a / b))
    for label, r in slow:
        family_op = label.split(" (")[0]
        why = EXPLANATIONS.get(
            family_op,
            "No cause recorded: if it persists on a quiet machine, compare "
            "`jax.jit(f).lower(*args).compile().as_text()` of jdist and the floor.",
        )
        notes.append(f"{label}: jdist/floor = {r:.2f} > {TARGET}. {why}")
    if not slow and "jnp" in libs:
        notes.append(f"Every jdist/floor ratio is within the {TARGET} target in this run.")
    return CaseResult(
        name="jit",
        title="1. Jitted overhead vs the hand-written floor",
        description=(
            "`log_prob` and `sample` of each family inside `jax.jit`, the distribution built "
            "inside the jitted function from parameters passed as arguments; float32. "
            f"Median of {repeats} repeats of ~{target:g} s of calls after warm-up. Sizes: "
            + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
            + ". Target: jdist/jnp <= 1.05."
            + (f" --quick: only {' and '.join(QUICK_FAMILIES)}." if cfg.quick else "")
        ),
        tables=[table],
        notes=notes,
    )
