"""Baselines (control variates) for score-function estimators."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def leave_one_out_baseline(rewards: Array, axis: int = 0) -> Array:
    """Leave-one-out baseline: for each of K samples, the mean of the other K-1 rewards.

    ``b_i = (Σ_j r_j - r_i) / (K - 1)`` along ``axis`` (Kool, van Hoof & Welling 2019,
    "Buy 4 REINFORCE samples, get a baseline for free!"). It does not depend on
    sample ``i``, so ``reinforce_loss(log_probs, rewards, baseline)`` stays unbiased.
    Same shape as ``rewards``; K must be at least 2.

    Example:
        >>> r = jnp.array([1.0, 2.0, 3.0])
        >>> jdist.estimators.leave_one_out_baseline(r)
        Array([2.5, 2. , 1.5], dtype=float32)
    """
    rewards = jnp.asarray(rewards)
    k = rewards.shape[axis]
    if k < 2:
        raise ValueError(
            f"leave_one_out_baseline: needs at least 2 samples along axis {axis}, "
            f"got rewards of shape {rewards.shape}"
        )
    total = jnp.sum(rewards, axis=axis, keepdims=True)
    return (total - rewards) / (k - 1)


class MovingAverageState(NamedTuple):
    """State of :class:`MovingAverageBaseline`: the running average and update count."""

    average: Array
    count: Array


class MovingAverageBaseline(NamedTuple):
    """Exponential moving average of past rewards as a baseline, with its state a pytree.

    ``update`` folds in the mean of a batch of rewards with weight ``1 - decay``;
    ``value`` is the bias-corrected average (as in Adam, Kingma & Ba 2015), 0 before
    any update. Take ``value(state)`` *before* ``update`` with the same rewards, so the
    baseline is independent of them. ``decay`` is a pytree leaf: changing it never
    retraces a jitted function that takes the baseline as an argument.

    Example:
        >>> baseline = jdist.estimators.MovingAverageBaseline(decay=0.9)
        >>> state = baseline.init()
        >>> b = baseline.value(state)
        >>> loss = jdist.estimators.reinforce_loss(log_prob, reward, b)
        >>> state = baseline.update(state, reward)
    """

    decay: float | Array = 0.9

    def init(self, shape: tuple[int, ...] = (), dtype=None) -> MovingAverageState:
        """Zero state; ``shape`` is that of one baseline value (default scalar)."""
        dtype = dtype or jnp.result_type(float)
        return MovingAverageState(jnp.zeros(shape, dtype), jnp.zeros((), jnp.int32))

    def update(self, state: MovingAverageState, rewards: Array, axis=0) -> MovingAverageState:
        """New state after seeing ``rewards`` (averaged over ``axis``, default the first)."""
        batch_mean = jnp.mean(jnp.asarray(rewards), axis=axis)
        average = self.decay * state.average + (1.0 - self.decay) * batch_mean
        return MovingAverageState(average.astype(state.average.dtype), state.count + 1)

    def value(self, state: MovingAverageState) -> Array:
        """Bias-corrected moving average; 0 before the first update."""
        correction = 1.0 - jnp.power(self.decay, state.count)
        safe = jnp.where(state.count > 0, correction, 1.0)
        return jnp.where(state.count > 0, state.average / safe, jnp.zeros_like(state.average))
