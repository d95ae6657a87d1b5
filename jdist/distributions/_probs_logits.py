"""The one ``probs=`` / ``logits=`` mechanism shared by discrete families."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist._math import float_dtype


def probs_or_logits(name: str, probs, logits) -> dict:
    """The parameter dict for a family taking exactly one of ``probs`` and ``logits``."""
    if (probs is None) == (logits is None):
        raise ValueError(
            f"{name}: pass exactly one of `probs` or `logits` "
            f"(got {'both' if probs is not None else 'neither'})"
        )
    return {"_probs": probs} if probs is not None else {"_logits": logits}


class ProbsLogitsMixin:
    """``probs`` and ``logits`` properties derived from whichever one was given.

    ``_is_binary`` selects sigmoid/logit (Bernoulli-like) or softmax/log over the last
    axis (Categorical-like, where both are normalised as torch does).
    """

    _is_binary: bool = False

    @property
    def _given_logits(self) -> bool:
        return "_logits" in self._param_names

    @property
    def _raw(self):
        return self._logits if self._given_logits else self._probs

    @property
    def dtype(self):
        return float_dtype(self._raw)

    @property
    def logits(self) -> jax.Array:
        """Log-odds (binary) or normalised log-probabilities (categorical)."""
        if self._is_binary:
            if self._given_logits:
                return self._logits
            p = self._probs
            return jnp.log(p) - jnp.log1p(-p)
        if self._given_logits:
            return jax.nn.log_softmax(self._logits, axis=-1)
        p = self._probs
        return jnp.log(p) - jnp.log(jnp.sum(p, axis=-1, keepdims=True))

    @property
    def probs(self) -> jax.Array:
        """Probabilities (normalised over the last axis for categorical families)."""
        if self._is_binary:
            return self._probs if not self._given_logits else jax.nn.sigmoid(self._logits)
        if self._given_logits:
            return jax.nn.softmax(self._logits, axis=-1)
        p = self._probs
        return p / jnp.sum(p, axis=-1, keepdims=True)
