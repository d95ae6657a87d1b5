"""Pathwise (reparameterization) gradients through a differentiable environment.

A 2-D point mass with damping has to reach a randomly placed target and stay
there.  At every time step the policy outputs the mean of a Gaussian over the
(pre-squash) force; the standard deviation is a learned, state-independent
parameter.  Actions are drawn with ``jdist.Normal(loc, scale).rsample(key)``,
i.e. ``loc + scale * eps`` with ``eps ~ N(0, 1)``, so the sampled action is a
differentiable function of the policy parameters.

Because the environment is written in JAX, the whole episode (a ``lax.scan``
over time) is differentiable as well.  The loss is minus the episode return and
``jax.grad`` goes straight through the dynamics *and* through ``rsample`` --
this is the pathwise gradient estimator.  Compare with the score-function
(REINFORCE) estimator, which only needs ``log_prob`` of the actions but ignores
the known dynamics and has much higher variance.

Run::

    python examples/pathwise_control.py --steps 300 --seed 0
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

if importlib.util.find_spec("jdist") is None:  # allow running from a source checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jdist  # noqa: E402


class EnvConfig(NamedTuple):
    horizon: int = 50  # time steps per episode
    dt: float = 0.1  # integration step
    damping: float = 0.5  # linear drag on the velocity
    max_force: float = 2.0  # force limit per axis (smooth, via tanh)
    force_cost: float = 0.01  # weight of the quadratic control cost
    arena: float = 2.0  # start / target positions are uniform in [-arena, arena]^2


ENV = EnvConfig()
OBS_DIM = 4  # (target - position, velocity)
ACT_DIM = 2
HIDDEN = 32


# --------------------------------------------------------------------------- environment


def env_reset(key, cfg: EnvConfig = ENV):
    """Random start position and target, zero initial velocity."""
    k_pos, k_tgt = jax.random.split(key)
    pos = jax.random.uniform(k_pos, (2,), minval=-cfg.arena, maxval=cfg.arena)
    target = jax.random.uniform(k_tgt, (2,), minval=-cfg.arena, maxval=cfg.arena)
    return {"pos": pos, "vel": jnp.zeros(2), "target": target}


def env_step(state, action, cfg: EnvConfig = ENV):
    """Smooth point-mass dynamics (semi-implicit Euler). Returns (state, reward)."""
    force = cfg.max_force * jnp.tanh(action)  # torque/force limit, still differentiable
    vel = state["vel"] + cfg.dt * (force - cfg.damping * state["vel"])
    pos = state["pos"] + cfg.dt * vel
    dist2 = jnp.sum((pos - state["target"]) ** 2)
    reward = -(dist2 + cfg.force_cost * jnp.sum(force**2))
    return {"pos": pos, "vel": vel, "target": state["target"]}, reward


def observe(state):
    return jnp.concatenate([state["target"] - state["pos"], state["vel"]])


# --------------------------------------------------------------------------- policy


def init_policy(key, init_scale: float = 0.5):
    """Tiny MLP for the action mean plus a raw (pre-softplus) action std."""
    k1, k2 = jax.random.split(key)
    raw = jnp.log(jnp.expm1(init_scale))  # inverse softplus
    return {
        "w1": jax.random.normal(k1, (OBS_DIM, HIDDEN)) / jnp.sqrt(OBS_DIM),
        "b1": jnp.zeros(HIDDEN),
        # small output layer: the untrained policy is close to "do nothing"
        "w2": 0.01 * jax.random.normal(k2, (HIDDEN, ACT_DIM)) / jnp.sqrt(HIDDEN),
        "b2": jnp.zeros(ACT_DIM),
        "raw_scale": jnp.full((ACT_DIM,), raw),
    }


def policy_dist(params, obs):
    h = jnp.tanh(obs @ params["w1"] + params["b1"])
    loc = h @ params["w2"] + params["b2"]
    scale = jax.nn.softplus(params["raw_scale"])
    return jdist.Normal(loc, scale)


def action_scale(params):
    return jax.nn.softplus(params["raw_scale"])


# --------------------------------------------------------------------------- rollout / loss


def rollout_return(params, key, cfg: EnvConfig = ENV):
    """Return of one stochastic episode; differentiable w.r.t. ``params``."""
    k_reset, k_act = jax.random.split(key)
    state = env_reset(k_reset, cfg)
    step_keys = jax.random.split(k_act, cfg.horizon)

    def body(state, k):
        action = policy_dist(params, observe(state)).rsample(k)  # pathwise sample
        state, reward = env_step(state, action, cfg)
        return state, reward

    _, rewards = jax.lax.scan(body, state, step_keys)
    return jnp.sum(rewards)


def batch_return(params, keys, cfg: EnvConfig = ENV):
    return jax.vmap(rollout_return, in_axes=(None, 0, None))(params, keys, cfg)


def loss_fn(params, keys, cfg: EnvConfig = ENV):
    """Minus the mean return over a batch of rollouts."""
    return -jnp.mean(batch_return(params, keys, cfg))


@functools.cache
def make_train_step(lr: float, cfg: EnvConfig = ENV):
    """Build (optimizer, jitted train step); cached so repeated runs reuse the compilation."""
    optimizer = optax.chain(optax.clip_by_global_norm(10.0), optax.adam(lr))

    @jax.jit
    def train_step(params, opt_state, keys):
        loss, grads = jax.value_and_grad(loss_fn)(params, keys, cfg)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, loss

    return optimizer, train_step


evaluate = jax.jit(lambda params, keys: jnp.mean(batch_return(params, keys)))


# --------------------------------------------------------------------------- driver


def train(
    steps: int,
    seed: int,
    batch_size: int = 64,
    lr: float = 1e-2,
    log_every=None,
    verbose: bool = True,
):
    key = jax.random.key(seed)
    k_init, k_train = jax.random.split(key)
    params = init_policy(k_init)
    optimizer, train_step = make_train_step(lr)
    opt_state = optimizer.init(params)

    log_every = log_every or max(1, steps // 10)
    init_params = params
    for step in range(1, steps + 1):
        k_train, k_batch = jax.random.split(k_train)
        keys = jax.random.split(k_batch, batch_size)
        params, opt_state, loss = train_step(params, opt_state, keys)
        if verbose and (step % log_every == 0 or step == 1):
            scale = ", ".join(f"{s:.3f}" for s in action_scale(params))
            print(f"step {step:4d}  batch return {-float(loss):9.2f}  action std [{scale}]")
    return init_params, params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64, help="rollouts per step")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--eval-rollouts", type=int, default=256)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    init_params, params = train(args.steps, args.seed, args.batch_size, args.lr)

    # Same evaluation keys for both policies (common random numbers).
    eval_keys = jax.random.split(jax.random.key(args.seed + 10_000), args.eval_rollouts)
    untrained = float(evaluate(init_params, eval_keys))
    trained = float(evaluate(params, eval_keys))
    print(f"time {time.perf_counter() - t0:.1f}s, {args.eval_rollouts} evaluation rollouts")
    print(f"pathwise control: untrained return {untrained:.1f} -> trained return {trained:.1f}")
    return untrained, trained


if __name__ == "__main__":
    main()
