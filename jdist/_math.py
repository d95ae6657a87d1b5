"""Numerical helpers shared by several families (one place for each piece of math)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy import special

LOG_2PI = math.log(2.0 * math.pi)
HALF_LOG_2PI = 0.5 * LOG_2PI
SQRT_2 = math.sqrt(2.0)


def float_dtype(*values):
    """The floating dtype that arithmetic on ``values`` produces (float32 unless x64)."""
    dtype = jnp.result_type(*values) if values else jnp.result_type(float)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return dtype


def log_ndtr(x):
    """``log Φ(x)``, accurate far into both tails (asymptotic series below -20)."""
    return special.log_ndtr(x)


def log_ndtr_complement(x):
    """``log(1 - Φ(x)) = log Φ(-x)``, accurate for large positive ``x``."""
    return special.log_ndtr(-x)


def ndtri(p):
    """Inverse of the standard normal CDF."""
    return special.ndtri(p)


def xlogy(x, y):
    """``x * log(y)`` with ``0 * log(0) = 0`` and finite gradients where ``x == 0``."""
    safe_y = jnp.where(x == 0, jnp.ones_like(y), y)
    return jnp.where(x == 0, jnp.zeros_like(x * safe_y), x * jnp.log(safe_y))


def xlog1py(x, y):
    """``x * log1p(y)`` with ``0 * log1p(-1) = 0`` and finite gradients where ``x == 0``."""
    safe_y = jnp.where(x == 0, jnp.zeros_like(y), y)
    return jnp.where(x == 0, jnp.zeros_like(x * safe_y), x * jnp.log1p(safe_y))


def probs_to_logits(probs, *, is_binary: bool = False):
    """Logits from probabilities: ``log p`` (categorical) or ``log p - log1p(-p)`` (binary)."""
    if is_binary:
        return jnp.log(probs) - jnp.log1p(-probs)
    return jnp.log(probs)


def logits_to_probs(logits, *, is_binary: bool = False):
    """Probabilities from logits: ``sigmoid`` (binary) or ``softmax`` over the last axis."""
    if is_binary:
        return jax.nn.sigmoid(logits)
    return jax.nn.softmax(logits, axis=-1)
