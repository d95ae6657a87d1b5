"""Continuous relaxations and straight-through gradients for discrete samples.

These are *biased* pathwise gradient estimators: differentiate ``f`` of the returned
sample with ``jax.grad``. For unbiased estimators of the same gradients see
:mod:`jdist.estimators.discrete` (REBAR, RELAX, ARM, DisARM), or
:func:`jdist.estimators.reinforce_loss`.

The bias of each is documented and measured in ``tests/test_relaxations.py`` on the
toy problem ``E_{b~Bern(σ(θ))}[(b - t)²]``: at ``θ = 0`` the (soft or hard) relaxed
gradient equals ``4·a(τ)`` times the true one with ``0 < 4·a(τ) < 1``, i.e. it is
shrunk toward zero; straight-through is biased by exactly ``σ'(θ)(2σ(θ) - 1)``,
with the sign of ``θ``.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

from jdist._math import float_dtype

Array = jax.Array

__all__ = ["gumbel_softmax", "relaxed_bernoulli", "straight_through"]


def _float_logits(logits) -> Array:
    logits = jnp.asarray(logits)
    return logits.astype(float_dtype(logits))


def _straight_through(hard: Array, soft: Array) -> Array:
    """Value ``hard``, gradient that of ``soft``."""
    return soft + jax.lax.stop_gradient(hard - soft)


def gumbel_softmax(
    key: Array, logits: Array, temperature: float | Array, hard: bool = False
) -> Array:
    """Gumbel-softmax / Concrete relaxed one-hot sample over the last axis of ``logits``.

    ``y = softmax((logits + G) / τ)`` with ``G`` i.i.d. standard Gumbel (Jang, Gu & Poole
    2017, "Categorical reparameterization with Gumbel-softmax", §2; Maddison, Mnih & Teh
    2017, "The Concrete distribution", §3).
    ``argmax y`` is an exact sample of ``Categorical(logits)`` (the Gumbel-max trick), and
    ``y`` is differentiable w.r.t. ``logits`` and ``temperature`` τ (a traced argument:
    new values never retrace). As τ → 0 the samples approach one-hot vectors and the
    gradient's bias vanishes while its variance grows.

    With ``hard=True`` the forward value is ``one_hot(argmax y)`` and the gradient is
    that of the relaxed ``y`` ("straight-through Gumbel-softmax", Jang et al. 2017,
    §2.2). Both variants give *biased* gradients of ``E[f(one_hot)]``.

    Logits of ``-inf`` mask categories (weight 0, no NaN gradients).

    Args:
        key: PRNG key.
        logits: unnormalised log-probabilities, shape ``batch_shape + (K,)``.
        temperature: τ > 0, scalar or broadcastable to ``logits``.
        hard: Python bool; return one-hot samples with the relaxed gradient.

    Returns:
        Array of ``logits.shape`` whose last axis lies on the simplex.

    Example:
        >>> logits = jnp.array([0.5, -1.0, 2.0])
        >>> f = lambda y: jnp.dot(y, jnp.array([1.0, 2.0, 3.0]))
        >>> g = jax.grad(lambda lg: f(gumbel_softmax(key, lg, 0.5)))(logits)
    """
    logits = _float_logits(logits)
    g = jax.random.gumbel(key, logits.shape, logits.dtype)
    masked = jnp.isneginf(logits)
    # Double where: a masked entry's (-inf - g) / τ would give a NaN gradient for τ.
    safe = jnp.where(masked, 0.0, logits + g)
    scores = jnp.where(masked, -jnp.inf, safe / temperature)
    y = jax.nn.softmax(scores, axis=-1)
    if not hard:
        return y
    one_hot = jax.nn.one_hot(jnp.argmax(scores, axis=-1), logits.shape[-1], dtype=y.dtype)
    return _straight_through(one_hot, y)


def relaxed_bernoulli(
    key: Array, logits: Array, temperature: float | Array, hard: bool = False
) -> Array:
    """Binary Concrete (relaxed Bernoulli) sample: ``σ((logits + L) / τ)``, L ~ Logistic(0, 1).

    The two-category case of :func:`gumbel_softmax` (the difference of two Gumbels is
    logistic): the binary Concrete of Maddison, Mnih & Teh 2017, §3. Each element
    of ``logits`` is an independent relaxed Bernoulli with ``P(y > 1/2) = σ(logits)``;
    ``y`` is differentiable w.r.t. ``logits`` and ``temperature`` (a traced argument).

    With ``hard=True`` the forward value is the exact Bernoulli sample
    ``1[logits + L > 0]`` and the gradient is that of the relaxed ``y``
    (straight-through). Both variants give *biased* gradients of ``E[f(b)]``.

    Args:
        key: PRNG key.
        logits: Bernoulli logits, any shape.
        temperature: τ > 0, scalar or broadcastable to ``logits``.
        hard: Python bool; return {0, 1} samples with the relaxed gradient.

    Returns:
        Array of ``logits.shape`` with values in (0, 1) (or {0, 1} if ``hard``).

    Example:
        >>> f = lambda y: jnp.sum((y - 0.45) ** 2)
        >>> g = jax.grad(lambda th: f(relaxed_bernoulli(key, th, 0.5)))(jnp.zeros(3))
    """
    logits = _float_logits(logits)
    noisy = logits + jax.random.logistic(key, logits.shape, logits.dtype)
    y = jax.nn.sigmoid(noisy / temperature)
    if not hard:
        return y
    return _straight_through((noisy > 0).astype(y.dtype), y)


def straight_through(key: Array, logits: Array, kind: Literal["bernoulli", "categorical"]) -> Array:
    """Straight-through sample: exact discrete sample forward, gradient of the probabilities.

    The variant implemented (the straight-through estimator of Bengio, Léonard & Courville
    2013, "Estimating or propagating gradients through stochastic neurons", with the
    probabilities as the backward surrogate, as torch's ``OneHotCategoricalStraightThrough``)
    is

    * ``kind="bernoulli"``: ``b = 1[u < σ(logits)]``, returned as ``b + σ(logits) -
      stop_gradient(σ(logits))``: value ``b``, Jacobian ``diag σ'(logits)``. So
      ``jax.grad`` of ``f(b)`` is ``f'(b) σ'(logits)``.
    * ``kind="categorical"``: ``y = one_hot(a)``, ``a ~ Categorical(logits)`` over the last
      axis, returned as ``y + p - stop_gradient(p)`` with ``p = softmax(logits)``: value
      ``y``, Jacobian that of the softmax.

    This is a *biased* estimator of ``∇ E[f(b)]``: it replaces ``∂b/∂p`` (zero almost
    everywhere) by the identity. For ``f(b) = (b - t)²`` its mean is
    ``2(σ(θ) - t)σ'(θ)`` against the truth ``(1 - 2t)σ'(θ)``, a bias of
    ``(2σ(θ) - 1)σ'(θ)`` with the sign of θ. (For the straight-through Gumbel-softmax
    variant use ``gumbel_softmax(..., hard=True)``.)

    Args:
        key: PRNG key.
        logits: Bernoulli logits (any shape) or categorical logits (``batch + (K,)``).
        kind: ``"bernoulli"`` or ``"categorical"`` (required: logits of shape ``(K,)``
            mean different things for the two).

    Returns:
        Float array of ``logits.shape``: {0, 1} values or one-hot rows.

    Example:
        >>> f = lambda b: jnp.sum((b - 0.45) ** 2)
        >>> g = jax.grad(lambda th: f(straight_through(key, th, "bernoulli")))(jnp.zeros(3))
    """
    logits = _float_logits(logits)
    if kind == "bernoulli":
        p = jax.nn.sigmoid(logits)
        u = jax.random.uniform(key, logits.shape, logits.dtype)
        return _straight_through((u < p).astype(p.dtype), p)
    if kind == "categorical":
        p = jax.nn.softmax(logits, axis=-1)
        index = jax.random.categorical(key, logits, axis=-1)
        return _straight_through(jax.nn.one_hot(index, logits.shape[-1], dtype=p.dtype), p)
    raise ValueError(f"straight_through: kind must be 'bernoulli' or 'categorical', got {kind!r}")
