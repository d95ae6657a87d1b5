"""OneHotCategoricalStraightThrough: one-hot samples with straight-through gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist.distributions._probs_logits import probs_or_logits
from jdist.distributions.categorical import OneHotCategorical

__all__ = ["OneHotCategoricalStraightThrough"]


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` whose ``rsample`` carries the straight-through gradient.

    ``rsample`` returns the exact one-hot draw ``s`` in the forward pass, written as
    ``s + (p - stop_gradient(p))`` with ``p = probs`` (Bengio, Léonard & Courville 2013,
    "Estimating or propagating gradients through stochastic neurons", §4; torch's
    ``OneHotCategoricalStraightThrough``): the value is exactly ``s`` and the Jacobian
    w.r.t. the parameters is that of ``probs``. The resulting gradient of ``E[f(s)]`` is
    *biased* (see ``jdist.estimators.straight_through``). Every other member is
    ``OneHotCategorical``'s; shapes as there (``event_shape == (K,)``).

    Example:
        >>> d = jdist.OneHotCategoricalStraightThrough(logits=jnp.array([0.0, 1.0, -1.0]))
        >>> f = lambda dist: jnp.sum(dist.rsample(jax.random.key(0)) * jnp.arange(3.0))
        >>> jax.grad(f)(d)._logits                      # nonzero: the gradient of probs
    """

    has_rsample = True

    def __init__(self, probs=None, logits=None, *, validate_args: bool = False) -> None:
        # Skip OneHotCategorical.__init__ only to name this family in the ValueError.
        super(OneHotCategorical, self).__init__(
            probs_or_logits("OneHotCategoricalStraightThrough", probs, logits),
            validate_args=validate_args,
        )

    def _rsample(self, key, sample_shape):
        sample = jax.lax.stop_gradient(self._sample(key, sample_shape))
        probs = self.probs
        # Adding the exact zero (p - sg(p)) keeps the forward value bit-identical to ``sample``.
        return sample + jnp.broadcast_to(probs - jax.lax.stop_gradient(probs), sample.shape)
