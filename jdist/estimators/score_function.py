"""Score-function (REINFORCE) surrogate losses."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def reinforce_loss(log_prob: Array, reward: Array, baseline: Array | float | None = None) -> Array:
    """Score-function (REINFORCE) surrogate: ``-mean(stop_gradient(reward - baseline) * log_prob)``.

    ``jax.grad`` of the result w.r.t. the parameters behind ``log_prob`` is the
    unbiased estimate of ``-∇ E[reward]`` (Williams 1992), as long as ``baseline``
    does not depend on the sample it is paired with (use
    :func:`leave_one_out_baseline` or :class:`MovingAverageBaseline`). ``log_prob``,
    ``reward`` and ``baseline`` broadcast together; the mean is over all elements.

    Example:
        >>> m = jdist.Categorical(logits=logits)
        >>> action = m.sample(key)
        >>> loss = jdist.estimators.reinforce_loss(m.log_prob(action), reward)
    """
    advantage = reward if baseline is None else reward - baseline
    return -jnp.mean(jax.lax.stop_gradient(advantage) * log_prob)
