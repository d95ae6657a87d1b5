"""REINFORCE on CartPole-v1, entirely in JAX.

The policy is a small MLP (plain JAX, parameters in a dict) whose logits define
a ``jdist.Categorical`` over the two actions. Every update

1. resets ``num_envs`` CartPole environments (``examples/cartpole_env.py``) and
   runs them, vmapped, for the full 500-step horizon inside ``lax.scan``,
   sampling actions from the policy; the steps after an episode has ended are
   masked out,
2. computes discounted returns-to-go ``G_t`` (``gamma = 0.99``),
3. subtracts a baseline for every time step: by default the leave-one-out
   baseline (the mean ``G_t`` of the *other* environments,
   ``jdist.estimators.leave_one_out_baseline``); ``--baseline ema`` uses a
   running average of ``G_t`` over past batches
   (``jdist.estimators.MovingAverageBaseline``) instead,
4. divides returns and baseline by the standard deviation of the advantages,
   and takes an Adam step (learning rate decayed linearly to zero) on
   ``jdist.estimators.reinforce_loss`` minus a small entropy bonus
   (``Categorical.entropy``).

The whole training loop (all updates) is one ``jax.jit``-compiled function
built on ``lax.scan``; progress is printed from inside it with
``jax.debug.print``. The trained policy is then evaluated on 100 fresh episodes
by *sampling* actions from it (the greedy policy is evaluated too, for
reference).

Run with ``python -m examples.reinforce_cartpole`` (or ``python
examples/reinforce_cartpole.py``); ``--help`` lists the options.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

if __package__ in (None, ""):  # run as a script: make ``examples`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jdist  # noqa: E402
from examples import cartpole_env as cartpole  # noqa: E402

MAX_STEPS = cartpole.DEFAULT_PARAMS.max_episode_steps


class Config(NamedTuple):
    updates: int = 250
    num_envs: int = 32
    hidden: int = 32
    learning_rate: float = 0.01
    gamma: float = 0.99
    entropy_coef: float = 0.001
    baseline: str = "loo"  # "loo" (leave-one-out), "ema" (moving average) or "none"
    eval_episodes: int = 100
    log_every: int = 25  # print progress every `log_every` updates; 0 turns it off
    seed: int = 0


class TrainResult(NamedTuple):
    params: dict
    mean_returns: jax.Array  # (updates,) mean undiscounted episode return of each batch
    losses: jax.Array  # (updates,) policy-gradient surrogate loss
    entropies: jax.Array  # (updates,) mean policy entropy over visited states
    eval_return: float  # mean return of the sampled policy over `eval_episodes`
    eval_return_greedy: float  # same for the greedy (argmax) policy
    env_steps: int  # environment steps simulated during training
    episode_steps: int  # of which inside an episode (not masked out)
    compile_time: float  # seconds
    train_time: float  # seconds, excluding compilation
    eval_time: float  # seconds, including compilation


# --------------------------------------------------------------------------- policy


def init_policy(key: jax.Array, hidden: int) -> dict:
    """Two tanh hidden layers; the output layer starts near zero (uniform policy)."""
    k1, k2, k3 = jax.random.split(key, 3)

    def dense(k, n_in, n_out, scale):
        w = jax.random.normal(k, (n_in, n_out)) * (scale / jnp.sqrt(n_in))
        return w, jnp.zeros((n_out,))

    w1, b1 = dense(k1, cartpole.OBS_SIZE, hidden, 1.0)
    w2, b2 = dense(k2, hidden, hidden, 1.0)
    w3, b3 = dense(k3, hidden, cartpole.NUM_ACTIONS, 0.01)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}


def policy_logits(params: dict, obs: jax.Array) -> jax.Array:
    h = jnp.tanh(obs @ params["w1"] + params["b1"])
    h = jnp.tanh(h @ params["w2"] + params["b2"])
    return h @ params["w3"] + params["b3"]


def policy(params: dict, obs: jax.Array) -> jdist.Categorical:
    """The action distribution pi(. | obs); batch shape ``obs.shape[:-1]``."""
    return jdist.Categorical(logits=policy_logits(params, obs))


# --------------------------------------------------------------------------- rollouts


class Rollout(NamedTuple):
    obs: jax.Array  # (T, N, 4)
    actions: jax.Array  # (T, N)
    rewards: jax.Array  # (T, N), zero after the episode ended
    mask: jax.Array  # (T, N), 1.0 while the episode is running


def rollout(params: dict, key: jax.Array, num_envs: int, greedy: bool = False) -> Rollout:
    """Runs one full episode (at most 500 steps) in each of `num_envs` environments."""
    reset_key, step_key = jax.random.split(key)
    states = jax.vmap(cartpole.reset)(jax.random.split(reset_key, num_envs))
    alive = jnp.ones((num_envs,), dtype=bool)

    def one_step(carry, k):
        states, alive = carry
        obs = cartpole.observation(states)
        if greedy:
            action = jnp.argmax(policy_logits(params, obs), axis=-1)
        else:
            action = policy(params, obs).sample(k)
        states, _, reward, terminated, truncated = jax.vmap(cartpole.step)(states, action)
        mask = alive.astype(reward.dtype)
        alive = alive & ~(terminated | truncated)
        return (states, alive), Rollout(obs, action, reward * mask, mask)

    _, traj = lax.scan(one_step, (states, alive), jax.random.split(step_key, MAX_STEPS))
    return traj


def returns_to_go(rewards: jax.Array, mask: jax.Array, gamma: float) -> jax.Array:
    """G_t = r_t + gamma * G_{t+1}, restricted to the steps inside the episode."""

    def back(g_next, rm):
        r, m = rm
        g = (r + gamma * g_next) * m
        return g, g

    _, g = lax.scan(back, jnp.zeros_like(rewards[0]), (rewards, mask), reverse=True)
    return g


# --------------------------------------------------------------------------- training


def make_train(config: Config):
    """Returns ``train(key) -> (params, metrics)``, to be jitted as a whole."""
    if config.baseline not in ("loo", "ema", "none"):
        raise ValueError(f"unknown baseline {config.baseline!r}; use 'loo', 'ema' or 'none'")
    # Adam with the learning rate decayed linearly to zero over training, which
    # keeps the final policy from drifting away from the solution.
    schedule = optax.linear_schedule(config.learning_rate, 0.0, config.updates)
    optimizer = optax.adam(schedule)

    moving_average = jdist.estimators.MovingAverageBaseline(decay=0.9)

    def loss_fn(params, traj: Rollout, returns, baseline):
        dist = policy(params, traj.obs)
        log_prob = dist.log_prob(traj.actions) * traj.mask  # no gradient after the episode
        # reinforce_loss averages over all T*N entries; rescale so that the loss is
        # the average over the steps inside an episode.
        valid = jnp.maximum(traj.mask.sum(), 1.0)
        pg_loss = jdist.estimators.reinforce_loss(log_prob, returns, baseline)
        pg_loss = pg_loss * (traj.mask.size / valid)
        entropy = jnp.sum(dist.entropy() * traj.mask) / valid
        return pg_loss - config.entropy_coef * entropy, (pg_loss, entropy)

    def update(carry, xs):
        params, opt_state, ma_state = carry
        key, i = xs
        traj = rollout(params, key, config.num_envs)
        g = returns_to_go(traj.rewards, traj.mask, config.gamma)  # (T, N)

        # A baseline for every time step t: G_t depends strongly on t (the
        # 500-step horizon cuts the returns-to-go of late steps short).
        if config.baseline == "loo":  # mean G_t of the other N-1 episodes
            baseline = jdist.estimators.leave_one_out_baseline(g, axis=1)
        elif config.baseline == "ema":  # running average of G_t over past batches
            baseline = moving_average.value(ma_state)[:, None]
        else:
            baseline = jnp.zeros_like(g)
        ma_state = moving_average.update(ma_state, g, axis=1)

        # Scale returns and baseline by the spread of the advantages (a per-batch
        # step-size normalisation; it leaves the gradient's direction unchanged).
        valid = jnp.maximum(traj.mask.sum(), 1.0)
        adv_std = jnp.sqrt(jnp.sum(jnp.square((g - baseline) * traj.mask)) / valid)
        inv_scale = 1.0 / (adv_std + 1e-8)
        grads, (pg_loss, entropy) = jax.grad(loss_fn, has_aux=True)(
            params, traj, g * inv_scale, baseline * inv_scale
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)

        mean_return = traj.rewards.sum(axis=0).mean()
        if config.log_every > 0:  # progress report from inside the jitted loop
            lax.cond(
                (i + 1) % config.log_every == 0,
                lambda: jax.debug.print(
                    "update {i:4d}  mean return {r:6.1f}  entropy {e:.3f}  loss {l:+.4f}",
                    i=i + 1,
                    r=mean_return,
                    e=entropy,
                    l=pg_loss,
                    ordered=True,
                ),
                lambda: None,
            )
        metrics = {
            "mean_return": mean_return,
            "loss": pg_loss,
            "entropy": entropy,
            "episode_steps": traj.mask.sum(),
        }
        return (params, opt_state, ma_state), metrics

    def train(key):
        init_key, loop_key = jax.random.split(key)
        params = init_policy(init_key, config.hidden)
        carry = (params, optimizer.init(params), moving_average.init(shape=(MAX_STEPS,)))
        keys = jax.random.split(loop_key, config.updates)
        (params, _, _), metrics = lax.scan(update, carry, (keys, jnp.arange(config.updates)))
        return params, metrics

    return train


def evaluate(params: dict, key: jax.Array, episodes: int, greedy: bool) -> jax.Array:
    """Mean undiscounted return over `episodes` fresh episodes."""
    traj = rollout(params, key, episodes, greedy=greedy)
    return traj.rewards.sum(axis=0).mean()


def run(config: Config, verbose: bool = True) -> TrainResult:
    """Trains and evaluates; progress lines come from ``config.log_every``."""
    say = print if verbose else (lambda *a, **k: None)
    key = jax.random.key(config.seed)
    train_key, eval_key = jax.random.split(key)

    train = jax.jit(make_train(config))
    t0 = time.perf_counter()
    compiled = train.lower(train_key).compile()
    compile_time = time.perf_counter() - t0
    say(f"compiled the training loop in {compile_time:.1f} s; training...")

    t0 = time.perf_counter()
    params, metrics = jax.block_until_ready(compiled(train_key))
    train_time = time.perf_counter() - t0

    t0 = time.perf_counter()
    eval_fn = jax.jit(evaluate, static_argnames=("episodes", "greedy"))
    eval_return = float(eval_fn(params, eval_key, config.eval_episodes, False))
    eval_greedy = float(eval_fn(params, eval_key, config.eval_episodes, True))
    eval_time = time.perf_counter() - t0

    env_steps = config.updates * config.num_envs * MAX_STEPS
    return TrainResult(
        params=params,
        mean_returns=metrics["mean_return"],
        losses=metrics["loss"],
        entropies=metrics["entropy"],
        eval_return=eval_return,
        eval_return_greedy=eval_greedy,
        env_steps=env_steps,
        episode_steps=int(metrics["episode_steps"].sum()),
        compile_time=compile_time,
        train_time=train_time,
        eval_time=eval_time,
    )


def parse_args(argv=None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--updates", type=int, default=d.updates, help="number of policy updates")
    p.add_argument("--num-envs", type=int, default=d.num_envs, help="episodes per update")
    p.add_argument("--hidden", type=int, default=d.hidden, help="hidden layer width")
    p.add_argument("--lr", type=float, default=d.learning_rate, help="Adam learning rate")
    p.add_argument("--gamma", type=float, default=d.gamma, help="discount factor")
    p.add_argument("--entropy-coef", type=float, default=d.entropy_coef)
    p.add_argument(
        "--baseline",
        choices=("loo", "ema", "none"),
        default=d.baseline,
        help="per-time-step baseline: leave-one-out across episodes, moving average, or none",
    )
    p.add_argument("--eval-episodes", type=int, default=d.eval_episodes)
    p.add_argument(
        "--log-every", type=int, default=d.log_every, help="print every N updates (0: never)"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    a = p.parse_args(argv)
    return Config(
        updates=a.updates,
        num_envs=a.num_envs,
        hidden=a.hidden,
        learning_rate=a.lr,
        gamma=a.gamma,
        entropy_coef=a.entropy_coef,
        baseline=a.baseline,
        eval_episodes=a.eval_episodes,
        log_every=a.log_every,
        seed=a.seed,
    )


def main(argv=None) -> TrainResult:
    config = parse_args(argv)
    print(
        f"REINFORCE on CartPole-v1: {config.updates} updates x {config.num_envs} episodes, "
        f"seed {config.seed}, jax {jax.__version__} on {jax.devices()[0].platform}"
    )
    t_start = time.perf_counter()
    result = run(config)
    total = time.perf_counter() - t_start
    print(
        f"training: {result.train_time:.1f} s for {result.env_steps:,} env steps "
        f"({result.env_steps / result.train_time:,.0f} env steps/s; "
        f"{result.episode_steps:,} of them inside episodes); "
        f"compile {result.compile_time:.1f} s"
    )
    print(f"wall time (compile + train + eval): {total:.1f} s")
    print(
        f"greedy policy: mean return {result.eval_return_greedy:.1f} "
        f"over {config.eval_episodes} episodes"
    )
    print("sampled policy (actions drawn from the Categorical):")
    print(f"evaluation over {config.eval_episodes} episodes: mean return {result.eval_return:.1f}")
    return result


if __name__ == "__main__":
    main()
