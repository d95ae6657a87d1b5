"""Bernoulli distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import xlog1py, xlogy
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits


class Bernoulli(ProbsLogitsMixin, Distribution):
    """Bernoulli distribution over {0, 1}, given ``probs`` (P(x=1)) or ``logits``.

    ``p(x) = probs^x (1 - probs)^(1-x)``. Exactly one of ``probs``/``logits``.
    Samples are floats of the parameters' dtype (as in torch); ``log_prob`` accepts
    floats or integers and is finite for any finite ``logits`` (e.g. ±200).

    Example:
        >>> d = jdist.Bernoulli(logits=jnp.array([-2.0, 0.0, 3.0]))
        >>> x = d.sample(jax.random.key(0))      # float32, shape (3,)
        >>> d.log_prob(x).shape
        (3,)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _is_binary = True

    def __init__(self, probs=None, logits=None, *, validate_args: bool = False) -> None:
        super().__init__(probs_or_logits("Bernoulli", probs, logits), validate_args=validate_args)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        u = jax.random.uniform(key, shape, self.dtype)
        return (u < self.probs).astype(self.dtype)

    def _log_prob(self, value):
        value = jnp.asarray(value, self.dtype)
        if self._given_logits:
            # log σ(l) for x=1 and log σ(-l) for x=0: one softplus of the signed logit, no
            # cancelling terms (x l - softplus(l) rounds log σ(30) = -9e-14 to 0 in float32).
            # Values other than 0 and 1 are masked to -inf by the support check.
            return -jax.nn.softplus(jnp.where(value > 0.5, -self._logits, self._logits))
        p = self._probs
        return xlogy(value, p) + xlog1py(1.0 - value, -p)

    def _mean(self):
        return self.probs

    def _mode(self):
        # Ties (probs == 0.5) resolve to 0, one of the two modes.
        return (self.probs > 0.5).astype(self.dtype)

    def _variance(self):
        if self._given_logits:
            # σ(l) σ(-l): 1 - σ(l) rounds to 0 for l > 17 in float32.
            return jax.nn.sigmoid(self._logits) * jax.nn.sigmoid(-self._logits)
        p = self.probs
        return p * (1.0 - p)

    def _entropy(self):
        if self._given_logits:
            # H = σ(l) softplus(-l) + σ(-l) softplus(l): positive terms, no cancellation
            # (softplus(l) - σ(l) l loses everything for l > 17 in float32).
            logits = self._logits
            return jax.nn.sigmoid(logits) * jax.nn.softplus(-logits) + jax.nn.sigmoid(
                -logits
            ) * jax.nn.softplus(logits)
        p = self._probs
        return -(xlogy(p, p) + xlog1py(1.0 - p, -p))

    def _enumerate_support(self):
        values = jnp.arange(2, dtype=self.dtype)
        return values.reshape((2,) + (1,) * len(self.batch_shape))
