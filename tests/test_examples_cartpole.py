"""Tests for examples/cartpole_env.py (JAX CartPole-v1) and examples/reinforce_cartpole.py.

The environment is checked step for step against gymnasium's ``CartPoleEnv``:

* one-step transitions from thousands of states visited by random and by
  noisy balancing policies (both kinds of termination: pole angle and cart
  position), in float64 and in float32;
* whole free-running episodes under random actions, in float64;
* the 500-step truncation of ``gymnasium.make("CartPole-v1")``.

Tolerances. Gymnasium computes in float64 NumPy. In float64 our step performs
the same operations in the same order, so results agree to the last bit or
two (XLA's and NumPy's ``sin``/``cos`` may differ by an ulp): one step is
compared with ``atol = rtol = 1e-13`` (measured: <= 2.3e-16). Free-running
episodes amplify such ulp differences at the rate of the unstable pendulum,
about ``exp(4.4 / s)``; random-action episodes last < 1 s, so ``1e-12`` is
ample (measured: <= 4.5e-16). In float32 (starting from float32-representable
states, so that only the arithmetic differs) each step rounds about twenty
intermediate results of size <= ~20 with relative error 6e-8; after the
``tau = 0.02`` scaling the state error is ~1e-6 at worst, and ``1e-5`` is used.
Termination flags must agree exactly, except (float32 only) when gymnasium's
next state is within that tolerance of a threshold.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples import cartpole_env as cp  # noqa: E402

gym = pytest.importorskip("gymnasium")
from gymnasium.envs.classic_control.cartpole import CartPoleEnv  # noqa: E402

X_THRESHOLD = 2.4
THETA_THRESHOLD = 12 * 2 * math.pi / 360


def _x64():
    """Context manager enabling 64-bit mode (``jax.enable_x64`` in recent JAX)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64  # older JAX

    return enable_x64()


def _balancing_action(state, rng, drift: float, noise: float) -> int:
    """A noisy PD controller on the pole angle: long episodes that usually end with
    the cart leaving the track (``drift`` leans it to one side)."""
    if rng.random() < noise:
        return int(rng.integers(2))
    _, _, theta, theta_dot = state
    return int(theta - drift + 0.5 * theta_dot > 0)


@pytest.fixture(scope="module")
def transitions():
    """(state, action, next_state, terminated) tuples produced by gymnasium.

    Every state is rounded to float32 before it is stepped (by writing it to
    ``env.unwrapped.state``), so it is exactly representable in both precisions.
    """
    env = CartPoleEnv()
    rng = np.random.default_rng(1234)
    states, actions, next_states, terms = [], [], [], []
    episodes = [(None, 1.0)] * 30 + [(0.0, 0.2), (0.02, 0.2), (-0.02, 0.2), (0.03, 0.3)] * 2
    for i, (drift, noise) in enumerate(episodes):
        env.reset(seed=100 + i)
        for _ in range(600):
            s = np.asarray(env.state, dtype=np.float32).astype(np.float64)
            env.unwrapped.state = s.copy()
            a = int(rng.integers(2)) if drift is None else _balancing_action(s, rng, drift, noise)
            _, reward, terminated, truncated, _ = env.step(a)
            assert reward == 1.0 and not truncated
            states.append(s)
            actions.append(a)
            next_states.append(np.array(env.unwrapped.state, dtype=np.float64))
            terms.append(terminated)
            if terminated:
                break
    env.close()
    data = {
        "states": np.stack(states),
        "actions": np.array(actions, dtype=np.int32),
        "next_states": np.stack(next_states),
        "terminated": np.array(terms),
    }
    # The data covers both termination causes and many steps.
    ends = data["next_states"][data["terminated"]]
    assert len(data["actions"]) > 1500
    assert (np.abs(ends[:, 0]) > X_THRESHOLD).sum() >= 3  # cart left the track
    assert (np.abs(ends[:, 2]) > THETA_THRESHOLD).sum() >= 20  # pole fell
    return data


def _step_batch(states, actions):
    batch = cp.state_from_array(jnp.asarray(states))
    next_state, obs, reward, terminated, truncated = jax.jit(jax.vmap(cp.step))(
        batch, jnp.asarray(actions)
    )
    return (
        np.asarray(cp.observation(next_state)),
        np.asarray(obs),
        np.asarray(reward),
        np.asarray(terminated),
        np.asarray(truncated),
        np.asarray(next_state.time),
    )


def test_one_step_matches_gymnasium_float64(transitions):
    with _x64():
        nxt, obs, reward, term, trunc, time = _step_batch(
            transitions["states"], transitions["actions"]
        )
    assert nxt.dtype == np.float64
    np.testing.assert_allclose(nxt, transitions["next_states"], rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(obs, nxt)
    np.testing.assert_array_equal(term, transitions["terminated"])
    assert np.all(reward == 1.0) and not trunc.any() and np.all(time == 1)


def test_one_step_matches_gymnasium_float32(transitions):
    states32 = transitions["states"].astype(np.float32)
    nxt, _, reward, term, _, _ = _step_batch(states32, transitions["actions"])
    assert nxt.dtype == np.float32
    expected = transitions["next_states"]
    np.testing.assert_allclose(nxt, expected, rtol=1e-5, atol=1e-5)
    # Flags agree except where float32 cannot resolve which side of a threshold
    # the next state is on.
    margin = np.minimum(
        np.abs(np.abs(expected[:, 0]) - X_THRESHOLD),
        np.abs(np.abs(expected[:, 2]) - THETA_THRESHOLD),
    )
    resolvable = margin > 1e-5
    assert resolvable.mean() > 0.99
    np.testing.assert_array_equal(term[resolvable], transitions["terminated"][resolvable])
    assert np.all(reward == 1.0)


def test_termination_at_the_thresholds_matches_gymnasium_float64():
    """States that land exactly on, or an ulp or a hair either side of, a threshold.

    With zero velocities the Euler step leaves x and theta unchanged, so the
    next state's position and angle are known exactly.
    """
    offsets = []
    for limit in (X_THRESHOLD, THETA_THRESHOLD):
        near = [limit, np.nextafter(limit, np.inf), np.nextafter(limit, 0.0)]
        near += [limit + d for d in (-1e-4, 1e-4, -1e-9, 1e-9)]
        offsets.append([sign * v for v in near for sign in (1.0, -1.0)])
    states = [np.array([x, 0.0, 0.0, 0.0]) for x in offsets[0]]
    states += [np.array([0.0, 0.0, th, 0.0]) for th in offsets[1]]
    states += [np.array([x, 0.0, th, 0.0]) for x in offsets[0][:6] for th in offsets[1][:6]]
    states = np.stack(states)
    env = CartPoleEnv()
    env.reset(seed=0)
    expected_term, expected_next = [], []
    for s in states:
        for a in (0, 1):
            env.unwrapped.state = s.copy()
            env.unwrapped.steps_beyond_terminated = None
            _, _, terminated, _, _ = env.step(a)
            expected_term.append(terminated)
            expected_next.append(np.array(env.unwrapped.state))
    env.close()
    actions = np.tile(np.array([0, 1], dtype=np.int32), len(states))
    with _x64():
        nxt, _, _, term, _, _ = _step_batch(np.repeat(states, 2, axis=0), actions)
    np.testing.assert_array_equal(nxt[:, [0, 2]], np.stack(expected_next)[:, [0, 2]])
    np.testing.assert_array_equal(term, np.array(expected_term))
    assert 0 < np.sum(expected_term) < len(expected_term)


def test_free_running_episodes_match_gymnasium_float64():
    """Same reset states and actions; both simulators then evolve on their own."""
    env = CartPoleEnv()
    rng = np.random.default_rng(7)
    n_steps = n_episodes = 0
    with _x64():
        step = jax.jit(cp.step)
        while n_steps < 300 or n_episodes < 10:
            env.reset(seed=int(rng.integers(2**31)))
            state = cp.state_from_array(jnp.asarray(env.unwrapped.state, dtype=jnp.float64))
            assert state.x.dtype == jnp.float64
            for t in range(1, 501):
                a = int(rng.integers(2))
                gym_obs, gym_reward, gym_term, _, _ = env.step(a)
                state, obs, reward, term, trunc = step(state, a)
                n_steps += 1
                np.testing.assert_allclose(
                    np.asarray(obs), env.unwrapped.state, rtol=1e-12, atol=1e-12
                )
                np.testing.assert_allclose(np.asarray(obs, np.float32), gym_obs, rtol=1e-6)
                assert bool(term) == gym_term
                assert float(reward) == gym_reward and int(state.time) == t and not bool(trunc)
                if gym_term:
                    break
            assert gym_term
            n_episodes += 1
    env.close()


def test_truncation_after_500_steps_matches_gymnasium_time_limit():
    env = gym.make("CartPole-v1")
    env.reset(seed=5)
    state = cp.state_from_array(jnp.asarray(env.unwrapped.state, dtype=jnp.float32))
    step = jax.jit(cp.step)
    for t in range(1, 501):
        # Follow gymnasium's trajectory (a well-balanced one) and compare the flags.
        a = int(env.unwrapped.state[2] + 0.5 * env.unwrapped.state[3] > 0)
        _, _, gym_term, gym_trunc, _ = env.step(a)
        state, _, _, term, trunc = step(state, a)
        assert (bool(term), bool(trunc)) == (gym_term, gym_trunc), t
        assert int(state.time) == t
        gym_state = jnp.asarray(env.unwrapped.state, jnp.float32)
        state = cp.state_from_array(gym_state, state.time)
    assert gym_trunc and not gym_term  # the episode lasted the full 500 steps
    env.close()


def test_reset_distribution():
    keys = jax.random.split(jax.random.key(0), 4096)
    states = jax.jit(jax.vmap(cp.reset))(keys)
    obs = np.asarray(cp.observation(states))
    assert obs.shape == (4096, 4) and obs.dtype == np.float32
    assert np.all(np.abs(obs) <= 0.05)
    assert np.all(np.asarray(states.time) == 0)
    # Uniform on [-0.05, 0.05]: mean 0, std 0.1 / sqrt(12).
    np.testing.assert_allclose(obs.mean(0), 0.0, atol=0.003)
    np.testing.assert_allclose(obs.std(0), 0.1 / math.sqrt(12), rtol=0.05)
    with _x64():
        assert cp.reset(jax.random.key(1)).x.dtype == jnp.float64


def test_vmapped_autoreset_rollout_in_scan():
    n_envs, n_steps = 64, 700
    key = jax.random.key(42)
    states = jax.vmap(cp.reset)(jax.random.split(key, n_envs))
    # Start a few environments just before the time limit to exercise truncation.
    states = states._replace(time=states.time.at[:4].set(cp.DEFAULT_PARAMS.max_episode_steps - 2))

    @jax.jit
    def run(states, key):
        def body(states, k):
            k_act, k_reset = jax.random.split(k)
            actions = jax.random.bernoulli(k_act, 0.5, (n_envs,)).astype(jnp.int32)
            plain = jax.vmap(cp.step)(states, actions)
            new = jax.vmap(cp.step_autoreset)(jax.random.split(k_reset, n_envs), states, actions)
            return new[0], (states, plain, new)

        return jax.lax.scan(body, states, jax.random.split(key, n_steps))

    _, (before, plain, new) = run(states, jax.random.key(1))
    new_state, new_obs, reward, term, trunc = jax.tree.map(np.asarray, new)
    plain_obs = np.asarray(plain[1])
    done = term | trunc
    assert new_obs.shape == (n_steps, n_envs, 4) and done.shape == (n_steps, n_envs)
    np.testing.assert_array_equal(term, np.asarray(plain[3]))
    np.testing.assert_array_equal(trunc, np.asarray(plain[4]))
    assert np.all(reward == 1.0)
    # Running episodes continue exactly as with `step`; finished ones restart.
    np.testing.assert_array_equal(new_obs[~done], plain_obs[~done])
    np.testing.assert_array_equal(new_state.time[~done], np.asarray(before.time)[~done] + 1)
    np.testing.assert_array_equal(new_state.time[done], 0)
    assert np.all(np.abs(new_obs[done]) <= 0.05)
    np.testing.assert_array_equal(
        new_obs, np.asarray(cp.observation(jax.tree.map(jnp.asarray, new_state)))
    )
    assert trunc[1, :4].all() and trunc.sum() == 4  # random play never lasts 500 steps
    assert done.sum() > 1000  # many episodes ended and restarted


# --------------------------------------------------------------------------- REINFORCE example


def test_reinforce_example_short_run(capfd):
    from examples import reinforce_cartpole as rc

    updates = 24
    result = rc.main(
        ["--updates", str(updates), "--num-envs", "16", "--eval-episodes", "20", "--log-every", "8"]
    )
    out = capfd.readouterr().out
    lines = out.strip().splitlines()

    assert isinstance(result, rc.TrainResult)
    for name in ("mean_returns", "losses", "entropies"):
        values = np.asarray(getattr(result, name))
        assert values.shape == (updates,), name
        assert np.all(np.isfinite(values)), name
    assert set(result.params) == {"w1", "b1", "w2", "b2", "w3", "b3"}
    assert result.env_steps == updates * 16 * 500
    assert 0 < result.episode_steps <= result.env_steps
    returns = np.asarray(result.mean_returns)
    assert np.all((returns >= 8) & (returns <= 500))
    # Learning is under way: a random policy lasts ~22 steps.
    assert returns[-4:].mean() > 2 * returns[:4].mean(), returns
    assert 0 < result.eval_return <= 500 and 0 < result.eval_return_greedy <= 500

    progress = [line for line in lines if line.startswith("update ")]
    assert [int(line.split()[1]) for line in progress] == [8, 16, 24]
    assert any("env steps/s" in line for line in lines)
    assert any(line.startswith("wall time") for line in lines)
    assert re.fullmatch(r"evaluation over 20 episodes: mean return \d+\.\d", lines[-1]), lines[-1]
    assert float(lines[-1].rsplit(" ", 1)[1]) == pytest.approx(result.eval_return, abs=0.05)
