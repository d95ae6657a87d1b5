"""Relaxed (Concrete / Gumbel-softmax) Bernoulli and one-hot categorical distributions.

Maddison, Mnih & Teh 2017, "The Concrete distribution: a continuous relaxation of discrete
random variables" (binary Concrete: §3.3 and eq. 21 of appendix B; K-category Concrete:
Definition 1 and eq. 4); Jang, Gu & Poole 2017, "Categorical reparameterization with
Gumbel-softmax". The densities are computed directly (in log space) rather than through a
TransformedDistribution; they agree with torch's ``RelaxedBernoulli`` /
``RelaxedOneHotCategorical`` (which push LogitRelaxedBernoulli / ExpRelaxedCategorical
through Sigmoid / Exp transforms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy import special

from jdist import constraints
from jdist._math import float_dtype
from jdist.distribution import Distribution
from jdist.distributions._probs_logits import ProbsLogitsMixin, probs_or_logits
from jdist.estimators.relaxations import gumbel_softmax, relaxed_bernoulli

__all__ = ["RelaxedBernoulli", "RelaxedOneHotCategorical"]


def _clamp_open_unit(y):
    """Clamp to ``[tiny, 1 - eps]`` as torch's ``clamp_probs`` does, so that samples that
    rounded to 0 or 1 keep a finite log density."""
    info = jnp.finfo(y.dtype)
    return jnp.clip(y, info.tiny, 1.0 - info.eps)


def _logit_parts(y):
    """``logit(y)`` for ``y`` in the open interval, with masks for ``y <= 0`` / ``y >= 1``
    (double ``where``: no NaN gradients at the ends)."""
    low, high = y <= 0, y >= 1
    safe = jnp.where(low | high, 0.5, y)
    return jnp.log(safe) - jnp.log1p(-safe), low, high


class _RelaxedBase(ProbsLogitsMixin, Distribution):
    """Shared parameter handling: a temperature leaf plus ``probs``/``logits``."""

    has_rsample = True

    def __init__(self, name: str, temperature, probs, logits, validate_args: bool) -> None:
        params = {"temperature": temperature, **probs_or_logits(name, probs, logits)}
        super().__init__(params, validate_args=validate_args)

    @property
    def dtype(self):
        return float_dtype(self._raw, self.temperature)

    def _no_closed_form(self, what: str):
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form {what} (neither has torch's); "
            f"estimate it from rsample draws"
        )

    def _mean(self):
        self._no_closed_form("mean")

    def _mode(self):
        self._no_closed_form("mode")

    def _variance(self):
        self._no_closed_form("variance")

    def _entropy(self):
        self._no_closed_form("entropy")


class RelaxedBernoulli(_RelaxedBase):
    """Binary Concrete (relaxed Bernoulli) distribution on ``(0, 1)``.

    ``Y = σ((logits + L) / τ)`` with ``L ~ Logistic(0, 1)`` and temperature ``τ > 0``
    (Maddison et al. 2017, §3.3). Density (their eq. 21), with ``x = logit(y)`` and
    ``d = logits - τ x``: ``log p(y) = log τ + log σ(d) + log σ(-d) - log y - log(1 - y)``.
    Closed-form ``cdf(y) = σ(τ logit(y) - logits)`` and ``icdf``. As ``τ → 0`` it tends to
    ``Bernoulli(logits)``; ``P(Y > 1/2) = σ(logits)`` for every ``τ``.

    ``temperature`` is a pytree leaf (a new value never retraces under ``jit``); ``rsample``
    is differentiable w.r.t. ``logits``/``probs`` and ``temperature``. Samples and values
    are clamped to ``[tiny, 1 - eps]`` as in torch, so ``log_prob`` of a sample is finite.
    ``mean``/``variance``/``mode``/``entropy`` have no closed form and raise.
    Shapes: ``temperature`` and ``probs``/``logits`` broadcast to ``batch_shape``.

    Example:
        >>> d = jdist.RelaxedBernoulli(0.5, logits=jnp.array([-1.0, 0.0, 2.0]))
        >>> y = d.rsample(jax.random.key(0), (4,))      # (4, 3) in (0, 1)
        >>> d.log_prob(y).shape
        (4, 3)
    """

    arg_constraints = {
        "temperature": constraints.positive,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.unit_interval
    _is_binary = True

    def __init__(
        self, temperature, probs=None, logits=None, *, validate_args: bool = False
    ) -> None:
        super().__init__("RelaxedBernoulli", temperature, probs, logits, validate_args)

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        logits = jnp.broadcast_to(jnp.asarray(self.logits, self.dtype), shape)
        return _clamp_open_unit(relaxed_bernoulli(key, logits, self.temperature))

    def _log_prob(self, value):
        y = _clamp_open_unit(jnp.asarray(value, self.dtype))
        log_y, log_1my = jnp.log(y), jnp.log1p(-y)
        t = self.temperature
        d = self.logits - t * (log_y - log_1my)
        return jnp.log(t) + jax.nn.log_sigmoid(d) + jax.nn.log_sigmoid(-d) - log_y - log_1my

    def _z(self, value):
        """``τ logit(y) - logits`` (``∓inf`` at and beyond the ends): ``cdf = σ(z)``."""
        x, low, high = _logit_parts(jnp.asarray(value, self.dtype))
        z = self.temperature * x - self.logits
        return jnp.where(low, -jnp.inf, jnp.where(high, jnp.inf, z))

    def _cdf(self, value):
        return jax.nn.sigmoid(self._z(value))

    def _log_cdf(self, value):
        return jax.nn.log_sigmoid(self._z(value))

    def _survival_function(self, value):
        return jax.nn.sigmoid(-self._z(value))

    def _log_survival_function(self, value):
        return jax.nn.log_sigmoid(-self._z(value))

    def _icdf(self, value):
        x, low, high = _logit_parts(jnp.asarray(value, self.dtype))
        y = jax.nn.sigmoid((self.logits + x) / self.temperature)
        return jnp.where(low, 0.0, jnp.where(high, 1.0, y))


class RelaxedOneHotCategorical(_RelaxedBase):
    """Concrete / Gumbel-softmax distribution on the simplex (relaxed one-hot vectors).

    ``Y = softmax((logits + G) / τ)`` with ``G`` i.i.d. standard Gumbel and temperature
    ``τ > 0`` (Maddison et al. 2017, Definition 1; Jang et al. 2017, eq. 1). Density on
    the ``K``-category simplex (Maddison et al. eq. 4, in log space):
    ``log p(y) = log Γ(K) + (K-1) log τ + Σ_k (logits_k - (τ+1) log y_k)
    - K logsumexp_k(logits_k - τ log y_k)``.

    Categories with logits of ``-inf`` (or ``probs`` of 0) are masks: samples put exactly 0
    there and the density is the Concrete density of the remaining categories (``-inf`` if
    a masked entry of the value is nonzero). Sampled entries are clamped to at least the
    smallest normal number (as are values in ``log_prob``), so log densities stay finite.
    ``temperature`` is a pytree leaf (a new value never retraces under ``jit``); ``rsample``
    is differentiable w.r.t. ``logits``/``probs`` and ``temperature``.
    ``mean``/``variance``/``mode``/``entropy`` have no closed form and raise.
    Shapes: ``probs``/``logits`` are ``batch_shape + (K,)``, ``temperature`` broadcasts to
    ``batch_shape``; ``event_shape == (K,)``.

    Example:
        >>> d = jdist.RelaxedOneHotCategorical(0.5, logits=jnp.array([0.0, 1.0, -1.0]))
        >>> y = d.rsample(jax.random.key(0), (4,))      # (4, 3), rows on the simplex
        >>> d.log_prob(y).shape
        (4,)
    """

    arg_constraints = {
        "temperature": constraints.positive,
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.simplex
    _param_event_ndims = {"_probs": 1, "_logits": 1}

    def __init__(
        self, temperature, probs=None, logits=None, *, validate_args: bool = False
    ) -> None:
        super().__init__("RelaxedOneHotCategorical", temperature, probs, logits, validate_args)

    @property
    def num_categories(self) -> int:
        """Number of categories ``K`` (static)."""
        return jnp.shape(self._raw)[-1]

    @property
    def event_shape(self):
        return (self.num_categories,)

    def _temperature(self):
        return jnp.asarray(self.temperature)[..., None]

    def _rsample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape + self.event_shape
        logits = jnp.broadcast_to(jnp.asarray(self.logits, self.dtype), shape)
        y = gumbel_softmax(key, logits, self._temperature())
        return jnp.where(jnp.isneginf(logits), y, jnp.maximum(y, jnp.finfo(y.dtype).tiny))

    def _log_prob(self, value):
        value = jnp.asarray(value, self.dtype)
        logits = self.logits
        t = self._temperature()
        masked = jnp.isneginf(logits)
        k = jnp.sum(~masked, axis=-1).astype(self.dtype)
        log_y = jnp.log(jnp.where(masked, 1.0, jnp.maximum(value, jnp.finfo(self.dtype).tiny)))
        safe_logits = jnp.where(masked, 0.0, logits)
        score = jnp.where(masked, -jnp.inf, safe_logits - t * log_y)
        linear = jnp.sum(jnp.where(masked, 0.0, safe_logits - (t + 1.0) * log_y), axis=-1)
        log_p = (
            special.gammaln(k)
            + (k - 1.0) * jnp.log(t[..., 0])
            + linear
            - k * jax.nn.logsumexp(score, axis=-1)
        )
        off_mask = jnp.any(masked & (value != 0), axis=-1)
        return jnp.where(off_mask, -jnp.inf, log_p)
