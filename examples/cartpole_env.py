"""CartPole-v1 in pure JAX.

The dynamics, termination rule, reward and reset distribution reproduce
gymnasium's ``CartPole-v1`` (``gymnasium.envs.classic_control.CartPoleEnv``
wrapped in a 500-step ``TimeLimit``):

* explicit Euler integration with ``tau = 0.02``,
* action ``1`` pushes right with ``force_mag``, action ``0`` pushes left,
* the episode terminates once ``|x| > 2.4`` or ``|theta| > 12 degrees``,
* the episode is truncated after 500 steps,
* the reward is ``1.0`` for every step, including the terminating one,
* a reset draws every state variable uniformly from ``[-0.05, 0.05]``.

Everything is a pure function of explicit arguments, so the environment can be
``jax.jit``-ed, ``jax.vmap``-ed over a batch of environments and stepped inside
``lax.scan``. :func:`step_autoreset` replaces finished environments with freshly
reset ones, which is what a ``lax.scan`` rollout over a fixed number of steps
needs.

The computation follows the dtype of the state: states created by
:func:`reset` are ``float32`` by default and ``float64`` when 64-bit mode is
enabled (``with jax.enable_x64(True): ...``), in which case the arithmetic is
the same as gymnasium's float64 NumPy code, operation for operation.

Example::

    key = jax.random.key(0)
    keys = jax.random.split(key, 8)
    states = jax.vmap(reset)(keys)                      # 8 environments
    actions = jnp.ones(8, dtype=jnp.int32)
    states, obs, reward, terminated, truncated = jax.vmap(step)(states, actions)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = [
    "CartPoleParams",
    "CartPoleState",
    "DEFAULT_PARAMS",
    "NUM_ACTIONS",
    "OBS_SIZE",
    "observation",
    "reset",
    "state_from_array",
    "step",
    "step_autoreset",
]

NUM_ACTIONS = 2
OBS_SIZE = 4


class CartPoleParams(NamedTuple):
    """Physical constants; the defaults are gymnasium's CartPole-v1 values."""

    gravity: float = 9.8
    masscart: float = 1.0
    masspole: float = 0.1
    length: float = 0.5  # half the pole's length
    force_mag: float = 10.0
    tau: float = 0.02  # seconds between state updates
    theta_threshold_radians: float = 12 * 2 * math.pi / 360
    x_threshold: float = 2.4
    max_episode_steps: int = 500
    reset_bound: float = 0.05

    @property
    def total_mass(self) -> float:
        return self.masspole + self.masscart

    @property
    def polemass_length(self) -> float:
        return self.masspole * self.length


DEFAULT_PARAMS = CartPoleParams()


class CartPoleState(NamedTuple):
    """State of one environment (or, with leading batch axes, of many).

    ``time`` counts the steps taken since the last reset; the episode is
    truncated when it reaches ``params.max_episode_steps``.
    """

    x: jax.Array
    x_dot: jax.Array
    theta: jax.Array
    theta_dot: jax.Array
    time: jax.Array


def observation(state: CartPoleState) -> jax.Array:
    """The observation ``[x, x_dot, theta, theta_dot]`` (shape ``batch + (4,)``)."""
    return jnp.stack([state.x, state.x_dot, state.theta, state.theta_dot], axis=-1)


def state_from_array(physics, time=0) -> CartPoleState:
    """Builds a state from an array ``[..., 4]`` of ``[x, x_dot, theta, theta_dot]``."""
    physics = jnp.asarray(physics)
    time = jnp.broadcast_to(jnp.asarray(time, dtype=jnp.int32), physics.shape[:-1])
    return CartPoleState(physics[..., 0], physics[..., 1], physics[..., 2], physics[..., 3], time)


def reset(key: jax.Array, params: CartPoleParams = DEFAULT_PARAMS, dtype=None) -> CartPoleState:
    """Samples an initial state uniformly from ``[-reset_bound, reset_bound]^4``.

    ``dtype`` defaults to JAX's default float type (``float32``, or ``float64``
    under ``jax.enable_x64``).
    """
    if dtype is None:
        dtype = jnp.zeros((), dtype=float).dtype
    u = jax.random.uniform(
        key, (4,), dtype=dtype, minval=-params.reset_bound, maxval=params.reset_bound
    )
    return state_from_array(u, 0)


def step(
    state: CartPoleState,
    action: jax.Array,
    params: CartPoleParams = DEFAULT_PARAMS,
) -> tuple[CartPoleState, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Advances one environment by one time step (use ``jax.vmap`` for a batch).

    Args:
      state: current state.
      action: integer array, ``1`` pushes the cart right, ``0`` pushes it left.
      params: physical constants.

    Returns:
      ``(next_state, obs, reward, terminated, truncated)`` where ``obs`` is
      ``observation(next_state)``, ``reward`` is ``1.0``, ``terminated`` says
      whether the pole fell or the cart left the track and ``truncated``
      whether the 500-step time limit was reached (both booleans; the episode
      is over when either is true). Stepping a finished episode is allowed but
      meaningless, just as in gymnasium; see :func:`step_autoreset`.
    """
    x, x_dot, theta, theta_dot, time = state
    force = jnp.where(action == 1, params.force_mag, -params.force_mag).astype(x.dtype)
    costheta = jnp.cos(theta)
    sintheta = jnp.sin(theta)

    # Same expressions, in the same order, as gymnasium's CartPoleEnv.step.
    temp = (force + params.polemass_length * jnp.square(theta_dot) * sintheta) / params.total_mass
    thetaacc = (params.gravity * sintheta - costheta * temp) / (
        params.length * (4.0 / 3.0 - params.masspole * jnp.square(costheta) / params.total_mass)
    )
    xacc = temp - params.polemass_length * thetaacc * costheta / params.total_mass

    # Explicit Euler ("euler" kinematics integrator).
    x = x + params.tau * x_dot
    x_dot = x_dot + params.tau * xacc
    theta = theta + params.tau * theta_dot
    theta_dot = theta_dot + params.tau * thetaacc
    time = time + 1

    terminated = (
        (x < -params.x_threshold)
        | (x > params.x_threshold)
        | (theta < -params.theta_threshold_radians)
        | (theta > params.theta_threshold_radians)
    )
    truncated = time >= params.max_episode_steps
    next_state = CartPoleState(x, x_dot, theta, theta_dot, time)
    reward = jnp.ones_like(x)
    return next_state, observation(next_state), reward, terminated, truncated


def step_autoreset(
    key: jax.Array,
    state: CartPoleState,
    action: jax.Array,
    params: CartPoleParams = DEFAULT_PARAMS,
) -> tuple[CartPoleState, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Like :func:`step`, but an environment whose episode ends is reset.

    When the step terminates or truncates the episode, the returned state (and
    observation) is a fresh :func:`reset` state drawn with ``key``, while
    ``reward``, ``terminated`` and ``truncated`` still describe the step that
    ended the episode. This keeps shapes fixed, so it can run inside
    ``lax.scan`` for any number of steps.
    """
    next_state, _, reward, terminated, truncated = step(state, action, params)
    done = terminated | truncated
    fresh = reset(key, params, dtype=state.x.dtype)
    next_state = jax.tree.map(lambda r, n: jnp.where(done, r, n), fresh, next_state)
    return next_state, observation(next_state), reward, terminated, truncated
