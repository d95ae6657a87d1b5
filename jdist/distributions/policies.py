"""Action-selection policies as categorical distributions (beyond torch): ``Greedy`` and
``EpsilonGreedy`` over action preferences (e.g. Q-values), as in Sutton & Barto 2018,
"Reinforcement Learning: An Introduction", §2.2-2.3.

Both are ``Categorical`` subclasses whose ``probs``/``logits`` are computed from the
preferences, so every ``Categorical`` member (integer samples, ``log_prob``, ``entropy``,
``mean``/``variance`` of the index, ``mode``, ``enumerate_support``) applies unchanged.
Ties: every action whose preference equals the maximum exactly is greedy, and the greedy
mass is split uniformly among them (so ``log_prob`` of a greedy action is
``-log(#ties)``); ``mode`` is the first greedy action.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import float_dtype
from jdist.distribution import Distribution
from jdist.distributions.categorical import Categorical

__all__ = ["EpsilonGreedy", "Greedy"]


class _PreferencePolicy(Categorical):
    """A ``Categorical`` whose probabilities are derived from a ``preferences`` leaf."""

    _param_event_ndims = {"preferences": 1}

    # ProbsLogitsMixin hooks: the derived logits play the role of given logits.
    @property
    def _given_logits(self) -> bool:
        return True

    @property
    def _logits(self):
        return self.logits

    @property
    def _raw(self):
        return self.preferences

    @property
    def dtype(self):
        return float_dtype(*(getattr(self, n) for n in self._param_names))

    def _greedy(self):
        """``(mask, count)``: which actions are greedy, and how many per batch entry."""
        prefs = jnp.asarray(self.preferences)
        mask = prefs == jnp.max(prefs, axis=-1, keepdims=True)
        return mask, jnp.sum(mask, axis=-1, keepdims=True).astype(self.dtype)

    def _sample(self, key, sample_shape):
        logits = self.logits
        shape = sample_shape + self.batch_shape
        return jax.random.categorical(key, logits, axis=-1, shape=shape)


class Greedy(_PreferencePolicy):
    """Deterministic greedy policy: all mass on ``argmax preferences`` (ties split evenly).

    ``probs_a = 1[a ∈ A*] / |A*|`` with ``A* = {a : preferences_a = max preferences}``
    (exact float equality), ``logits_a = -log|A*|`` on ``A*`` and ``-inf`` elsewhere.
    Samples are integer actions in ``A*`` (uniform among ties); ``log_prob`` is
    ``-log|A*|`` on greedy actions and ``-inf`` elsewhere; ``entropy = log|A*|``. No
    gradient flows to ``preferences`` (argmax is piecewise constant).
    Shapes: ``preferences`` is ``batch_shape + (K,)``; samples are ``sample_shape + batch_shape``.

    Example:
        >>> d = jdist.Greedy(jnp.array([0.1, 2.0, -1.0]))
        >>> d.sample(jax.random.key(0), (3,))          # Array([1, 1, 1], dtype=int32)
        >>> d.log_prob(1), d.log_prob(0)                # (0.0, -inf)
    """

    arg_constraints = {"preferences": constraints.real_vector}

    def __init__(self, preferences, *, validate_args: bool = False) -> None:
        Distribution.__init__(self, {"preferences": preferences}, validate_args=validate_args)

    @property
    def probs(self) -> jax.Array:
        """``1[a greedy] / #greedy``, shape ``batch_shape + (K,)``."""
        mask, count = self._greedy()
        return mask.astype(self.dtype) / count

    @property
    def logits(self) -> jax.Array:
        """``-log #greedy`` on greedy actions, ``-inf`` elsewhere (normalised)."""
        mask, count = self._greedy()
        return jnp.where(mask, -jnp.log(count), -jnp.inf)


class EpsilonGreedy(_PreferencePolicy):
    """ε-greedy policy: a uniformly random action with probability ``epsilon``, else greedy.

    ``probs_a = (1 - ε) 1[a ∈ A*] / |A*| + ε / K`` with ``A*`` the (tied) maximisers of
    ``preferences`` as in ``Greedy``. ``epsilon`` is a pytree leaf (a new value never
    retraces under ``jit``) in ``[0, 1]``, broadcasting against ``batch_shape``;
    ``log_prob``/``entropy``/``mean``/``variance`` are differentiable w.r.t. it.
    ``ε = 0`` is ``Greedy`` (``-inf`` off the greedy set), ``ε = 1`` uniform.
    Shapes: ``preferences`` is ``batch_shape + (K,)``; samples are ``sample_shape + batch_shape``.

    Example:
        >>> d = jdist.EpsilonGreedy(jnp.array([0.1, 2.0, -1.0]), epsilon=0.3)
        >>> d.probs                                     # [0.1, 0.8, 0.1]
        >>> d.sample(jax.random.key(0), (1000,)).shape  # (1000,)
    """

    arg_constraints = {
        "preferences": constraints.real_vector,
        "epsilon": constraints.unit_interval,
    }

    def __init__(self, preferences, epsilon, *, validate_args: bool = False) -> None:
        Distribution.__init__(
            self, {"preferences": preferences, "epsilon": epsilon}, validate_args=validate_args
        )

    @property
    def probs(self) -> jax.Array:
        """``(1 - ε) 1[a greedy] / #greedy + ε / K``, shape ``batch_shape + (K,)``."""
        mask, count = self._greedy()
        eps = jnp.asarray(self.epsilon, self.dtype)[..., None]
        greedy = jnp.where(mask, (1.0 - eps) / count, 0.0)
        return greedy + eps / self.num_categories

    @property
    def logits(self) -> jax.Array:
        """``log probs`` (``-inf`` where a probability is 0, i.e. off-greedy at ε = 0)."""
        p = self.probs
        positive = p > 0
        return jnp.where(positive, jnp.log(jnp.where(positive, p, 1.0)), -jnp.inf)
