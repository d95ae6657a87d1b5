"""Case 5, end to end: CartPole REINFORCE environment steps per second, and one training
update of a VAE-sized model.

**CartPole REINFORCE** reuses ``examples/reinforce_cartpole.py`` unchanged: its jitted
``make_train(Config(updates=U, num_envs=N))`` training loop (vmapped CartPole from
``examples/cartpole_env.py``, 500-step ``lax.scan`` rollouts, returns-to-go, leave-one-out
baseline replaced by the example's moving-average option, ``baseline="ema"``, because
leave-one-out needs 2+ environments; Adam), with only the policy's action distribution
swapped per library (the example's module-level ``policy(params, obs)``, replaced for the
duration of tracing). The
floor is a hand-written categorical (``jax.random.categorical``, ``log_softmax`` and
``take_along_axis``, entropy as ``-sum(p log p)``). Throughput counts every simulated
environment step (``U * N * 500`` per call, including masked steps after an episode
ended); compilation is excluded.

**VAE update**: batch 128, encoder 784 -> 400 (relu) -> 2 x 20 (mean, log standard
deviation), decoder 20 -> 400 (relu) -> 784 Bernoulli logits; loss = KL(q(z|x) || N(0, 1))
minus the Bernoulli log-likelihood of the data at a reparameterized ``z`` (Normal
``rsample``); one jitted ``value_and_grad`` + ``optax.adam`` step. Data: a fixed random
binary batch.
"""

from __future__ import annotations

import contextlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import CaseResult, Config, Table, cell, fmt_rate, fmt_time, time_calls
from benchmarks._peers import load_peers

MAX_STEPS = 500
# The example's default leave-one-out baseline needs 2+ environments; the moving average
# works for any N, so every N uses it (its cost is negligible next to the rollout).
BASELINE = "ema"
VAE_SIZES = (128, 784, 400, 20)  # batch, input, hidden, latent


# ------------------------------------------------------------------------ CartPole
class _HandCategorical:
    """The floor's action distribution: exactly the jax.random / jax.nn calls."""

    def __init__(self, logits):
        self.logits = logits

    def sample(self, key):
        return jax.random.categorical(key, self.logits, axis=-1)

    def log_prob(self, a):
        lp = jax.nn.log_softmax(self.logits, axis=-1)
        return jnp.take_along_axis(lp, a[..., None], axis=-1)[..., 0]

    def entropy(self):
        lp = jax.nn.log_softmax(self.logits, axis=-1)
        return -jnp.sum(jnp.exp(lp) * lp, axis=-1)


class _SeedAdapter:
    """Adapts ``sample(seed=key)`` APIs (distrax, TFP) to the example's ``sample(key)``."""

    def __init__(self, dist):
        self.dist = dist

    def sample(self, key):
        return self.dist.sample(seed=key)

    def log_prob(self, a):
        return self.dist.log_prob(a)

    def entropy(self):
        return self.dist.entropy()


def _action_dists(peers, cfg):
    out = {}
    if cfg.want("jnp"):
        out["jnp"] = _HandCategorical
    out["jdist"] = lambda lg: peers["jdist"].Categorical(logits=lg)
    if "distrax" in peers:
        out["distrax"] = lambda lg: _SeedAdapter(peers["distrax"].Categorical(logits=lg))
    if "numpyro" in peers:
        out["numpyro"] = lambda lg: peers["numpyro"].Categorical(logits=lg)
    return out  # TFP is left out here: 3 more training-loop compiles (~10 s) for little news


@contextlib.contextmanager
def _policy_distribution(rc, make_dist):
    """Temporarily replaces the example's ``policy(params, obs)``."""
    original = rc.policy
    rc.policy = lambda params, obs: make_dist(rc.policy_logits(params, obs))
    try:
        yield
    finally:
        rc.policy = original


def _cartpole(peers, cfg, target, repeats):
    from examples import reinforce_cartpole as rc

    dists = _action_dists(peers, cfg)
    if cfg.quick:  # each library's training loop takes seconds to compile
        dists = {lib: d for lib, d in dists.items() if lib in ("jnp", "jdist")}
    plan = ((8, 1),) if cfg.quick else ((1, 8), (64, 2), (1024, 1))
    table = Table(
        "CartPole REINFORCE training: time per call (U updates x N envs x 500 steps)",
        list(dists),
        info=["env steps/s jnp", "env steps/s jdist", "compile jnp/jdist"],
    )
    notes = []
    key = jax.random.key(0)
    for num_envs, updates in plan:
        calls, compile_s = {}, {}
        for lib, make_dist in dists.items():
            config = rc.Config(updates=updates, num_envs=num_envs, baseline=BASELINE, log_every=0)
            try:
                with _policy_distribution(rc, make_dist):
                    t0 = time.perf_counter()
                    compiled = jax.jit(rc.make_train(config)).lower(key).compile()
                    compile_s[lib] = time.perf_counter() - t0
                calls[lib] = lambda c=compiled: c(key)
            except Exception as e:  # noqa: BLE001
                calls[lib] = _raiser(e)
        secs = time_calls(calls, target_s=target, repeats=repeats, warmup=1)
        steps = updates * num_envs * MAX_STEPS
        cells = {lib: cell(v) for lib, v in secs.items()}
        for lib, why in peers.notes.items():
            if lib != "torch":
                cells[lib] = cell(why)
        info = {}
        for lib in ("jnp", "jdist"):
            if isinstance(secs.get(lib), float):
                info[f"env steps/s {lib}"] = fmt_rate(steps / secs[lib])
        if "jnp" in compile_s and "jdist" in compile_s:
            info["compile jnp/jdist"] = (
                f"{fmt_time(compile_s['jnp'])} / {fmt_time(compile_s['jdist'])}"
            )
        table.add(f"CartPole N={num_envs} envs, U={updates}", cells, info)
    return table, notes


def _raiser(e):
    def call():
        raise e

    return call


# ------------------------------------------------------------------------ VAE
def _init_vae(key, sizes):
    _, d_in, d_h, d_z = sizes
    shapes = {
        "enc": (d_in, d_h),
        "mu": (d_h, d_z),
        "log_sigma": (d_h, d_z),
        "dec": (d_z, d_h),
        "out": (d_h, d_in),
    }
    keys = jax.random.split(key, len(shapes))
    params = {}
    for k, (name, (n_in, n_out)) in zip(keys, shapes.items(), strict=True):
        params[name] = {
            "w": jax.random.normal(k, (n_in, n_out)) / jnp.sqrt(n_in),
            "b": jnp.zeros((n_out,)),
        }
    return params


def _dense(p, x):
    return x @ p["w"] + p["b"]


def _encode(params, x):
    h = jax.nn.relu(_dense(params["enc"], x))
    return _dense(params["mu"], h), _dense(params["log_sigma"], h)


def _decode(params, z):
    return _dense(params["out"], jax.nn.relu(_dense(params["dec"], z)))


def _normal_kl_closed_form(mu, sigma):
    """KL(N(mu, sigma²) || N(0, 1)) = (sigma² + mu² - 1)/2 - log sigma."""
    return 0.5 * (jnp.square(sigma) + jnp.square(mu) - 1.0) - jnp.log(sigma)


def _vae_losses(peers, cfg):
    """``lib -> loss(params, x, key)`` and a note on how jdist's KL is computed."""
    losses = {}
    jd = peers["jdist"]
    try:
        jd.kl_divergence(jd.Normal(0.0, 1.0), jd.Normal(0.0, 1.0))
        jdist_kl = lambda q: jd.kl_divergence(q, jd.Normal(0.0, 1.0))  # noqa: E731
        kl_note = "jdist's KL term is `jdist.kl_divergence(Normal, Normal)`."
    except NotImplementedError:
        jdist_kl = lambda q: _normal_kl_closed_form(q.loc, q.scale)  # noqa: E731
        kl_note = (
            "jdist's KL term is the closed form on `q.loc`/`q.scale`: "
            "`jdist.kl_divergence(Normal, Normal)` is not registered in this checkout."
        )

    if cfg.want("jnp"):

        def loss_jnp(params, x, key):
            mu, log_sigma = _encode(params, x)
            sigma = jnp.exp(log_sigma)
            z = mu + sigma * jax.random.normal(key, mu.shape, mu.dtype)
            logits = _decode(params, z)
            ll = jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)
            kl = jnp.sum(_normal_kl_closed_form(mu, sigma), axis=-1)
            return jnp.mean(kl - ll)

        losses["jnp"] = loss_jnp

    def loss_jdist(params, x, key):
        mu, log_sigma = _encode(params, x)
        q = jd.Normal(mu, jnp.exp(log_sigma))
        logits = _decode(params, q.rsample(key))
        ll = jnp.sum(jd.Bernoulli(logits=logits).log_prob(x), axis=-1)
        return jnp.mean(jnp.sum(jdist_kl(q), axis=-1) - ll)

    losses["jdist"] = loss_jdist

    if "distrax" in peers:
        dx = peers["distrax"]

        def loss_distrax(params, x, key):
            mu, log_sigma = _encode(params, x)
            q = dx.Normal(mu, jnp.exp(log_sigma))
            logits = _decode(params, q.sample(seed=key))
            ll = jnp.sum(dx.Bernoulli(logits=logits).log_prob(x), axis=-1)
            kl = jnp.sum(q.kl_divergence(dx.Normal(0.0, 1.0)), axis=-1)
            return jnp.mean(kl - ll)

        losses["distrax"] = loss_distrax
    if "numpyro" in peers:
        nd = peers["numpyro"]
        from numpyro.distributions.kl import kl_divergence as nkl

        def loss_numpyro(params, x, key):
            mu, log_sigma = _encode(params, x)
            q = nd.Normal(mu, jnp.exp(log_sigma))
            logits = _decode(params, q.rsample(key))
            ll = jnp.sum(nd.Bernoulli(logits=logits).log_prob(x), axis=-1)
            kl = jnp.sum(nkl(q, nd.Normal(jnp.zeros_like(mu), 1.0)), axis=-1)
            return jnp.mean(kl - ll)

        losses["numpyro"] = loss_numpyro
    if "tfp" in peers:
        tfd = peers["tfp"]

        def loss_tfp(params, x, key):
            mu, log_sigma = _encode(params, x)
            q = tfd.Normal(mu, jnp.exp(log_sigma))
            logits = _decode(params, q.sample(seed=key))
            ll = jnp.sum(tfd.Bernoulli(logits=logits).log_prob(x), axis=-1)
            kl = jnp.sum(tfd.kl_divergence(q, tfd.Normal(0.0, 1.0)), axis=-1)
            return jnp.mean(kl - ll)

        losses["tfp"] = loss_tfp
    return losses, kl_note


def _vae(peers, cfg, target, repeats):
    import optax

    sizes = (16, 784, 64, 8) if cfg.quick else VAE_SIZES
    batch, d_in, d_h, d_z = sizes
    params = _init_vae(jax.random.key(1), sizes)
    x = jnp.asarray((np.random.default_rng(0).uniform(size=(batch, d_in)) < 0.3).astype(np.float32))
    key = jax.random.PRNGKey(2)
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)
    losses, kl_note = _vae_losses(peers, cfg)
    calls, values = {}, {}
    for lib, loss in losses.items():

        def update(params, opt_state, x, key, loss=loss):
            value, grads = jax.value_and_grad(loss)(params, x, key)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, value

        step = jax.jit(update)
        calls[lib] = lambda step=step: step(params, opt_state, x, key)
        try:
            values[lib] = float(jax.block_until_ready(calls[lib]())[2])
        except Exception:  # noqa: BLE001  (time_calls reports it)
            pass
    secs = time_calls(calls, target_s=target, repeats=repeats)
    table = Table(
        f"VAE training update (batch {batch}, {d_in}->{d_h}->{d_z}), time per update",
        list(losses),
    )
    cells = {lib: cell(v) for lib, v in secs.items()}
    for lib, why in peers.notes.items():
        if lib != "torch":
            cells[lib] = cell(why)
    table.add("VAE update (value_and_grad + adam)", cells)
    notes = [kl_note]
    ref = values.get("jnp")
    for lib, v in values.items():
        if ref is not None and not np.isclose(v, ref, rtol=1e-4, atol=1e-3):
            notes.append(f"VAE: {lib}'s loss {v:.6g} differs from the floor's {ref:.6g}")
    return table, notes


def run(cfg: Config) -> CaseResult:
    """CartPole throughput at 1, 64, 1024 envs and the VAE update; see the module docstring."""
    libs = tuple(lib for lib in cfg.libs if lib != "torch")
    peers = load_peers(libs)
    repeats = cfg.repeats or (3 if cfg.quick else 5)
    cart, notes = _cartpole(peers, cfg, cfg.target_s or (0.02 if cfg.quick else 0.2), repeats)
    vae, vae_notes = _vae(peers, cfg, cfg.target_s or (0.02 if cfg.quick else 0.1), repeats)
    notes += vae_notes
    notes.append(
        "torch is not in this case (the example and the model are JAX programs); "
        "CartPole peers only replace the action distribution inside the same example code; "
        "TFP is in the VAE only (its CartPole loop would add ~10 s of compilation)."
    )
    return CaseResult(
        name="e2e",
        title="5. End to end: CartPole REINFORCE and a VAE update",
        description=(
            "CartPole: `examples/reinforce_cartpole.py`'s jitted training loop with the policy's "
            "distribution from each library; env steps/s = U x N x 500 / time per call "
            "(compilation excluded). VAE: one jitted `value_and_grad` + Adam update. "
            f"Median of {repeats} repeats."
        ),
        tables=[cart, vae],
        notes=notes,
    )
