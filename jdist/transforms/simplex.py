"""Transforms onto the probability simplex: Softmax (not injective) and StickBreaking
(a bijection from ``K`` reals to ``K + 1`` probabilities)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist.transforms._base import Transform, as_float


class SoftmaxTransform(Transform):
    """``y = softmax(x)`` over the last axis: real vectors → simplex.

    Not injective (``x`` and ``x + c`` give the same ``y``), so it has no log-det-Jacobian
    and ``inverse(y) = log y`` is only a right inverse. Use ``StickBreakingTransform`` for
    a bijection.

    Example:
        >>> t = SoftmaxTransform()
        >>> t(jnp.zeros(4))                       # [0.25, 0.25, 0.25, 0.25]
        >>> t(t.inverse(jnp.array([0.2, 0.8])))   # [0.2, 0.8]
    """

    bijective = False
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _forward(self, x):
        return jax.nn.softmax(as_float(x), axis=-1)

    def _inverse(self, y):
        return jnp.log(y)

    def _log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(
            "SoftmaxTransform is not injective (x and x + c map to the same point), so it "
            "has no log-det-Jacobian; use StickBreakingTransform for a bijection"
        )


def _log_offset(k: int, dtype):
    """``log(K - i)`` for ``i = 0..K-1``: centres the breaks so that ``x = 0`` maps to the
    uniform simplex point."""
    return jnp.log(jnp.arange(k, 0, -1, dtype=dtype))


class StickBreakingTransform(Transform):
    """Stick breaking: ``K`` reals → a point of the ``K``-simplex (``K + 1`` entries).

    With ``z_i = sigmoid(x_i - log(K - i))``, ``y_i = z_i Π_{j<i} (1 - z_j)`` for ``i < K``
    and ``y_K = Π_{j<K} (1 - z_j)`` (Stan Reference Manual, "Unit simplex" transform).
    Computed in log space (``log z = log_sigmoid``), so nothing underflows to NaN.
    ``log|det J| = Σ_i log y_i + log(1 - z_i)`` over ``i < K`` (the Jacobian w.r.t. the
    first ``K`` coordinates of ``y`` is triangular).

    Example:
        >>> t = StickBreakingTransform()
        >>> t(jnp.zeros(3))                          # [0.25, 0.25, 0.25, 0.25]
        >>> t.inverse(jnp.array([0.1, 0.2, 0.7]))    # 2 reals
    """

    bijective = True
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _log_parts(self, x):
        x = as_float(x)
        u = x - _log_offset(x.shape[-1], x.dtype)
        log_z = jax.nn.log_sigmoid(u)
        log_1mz = jax.nn.log_sigmoid(-u)
        remaining = jnp.cumsum(log_1mz, axis=-1)  # log Π_{j<=i} (1 - z_j)
        log_y_head = log_z + remaining - log_1mz
        return log_y_head, log_1mz, remaining[..., -1:]

    def _forward(self, x):
        log_y_head, _, log_last = self._log_parts(x)
        return jnp.exp(jnp.concatenate([log_y_head, log_last], axis=-1))

    def _inverse(self, y):
        y = as_float(y)
        tiny = jnp.finfo(y.dtype).tiny
        head = y[..., :-1]
        # Remaining stick after entry i: Σ_{j>i} y_j (a reverse cumulative sum, which keeps
        # full relative accuracy where 1 - Σ_{j<=i} y_j would cancel).
        rest = jnp.flip(jnp.cumsum(jnp.flip(y[..., 1:], -1), axis=-1), -1)
        offset = _log_offset(head.shape[-1], y.dtype)
        return jnp.log(head) - jnp.log(jnp.maximum(rest, tiny)) + offset

    def _log_abs_det_jacobian(self, x, y):
        log_y_head, log_1mz, _ = self._log_parts(x)
        return jnp.sum(log_y_head + log_1mz, axis=-1)

    def forward_and_log_det(self, x):
        log_y_head, log_1mz, log_last = self._log_parts(x)
        y = jnp.exp(jnp.concatenate([log_y_head, log_last], axis=-1))
        return y, jnp.sum(log_y_head + log_1mz, axis=-1)

    def forward_shape(self, shape):
        shape = tuple(shape)
        if not shape:
            raise ValueError("StickBreakingTransform: input needs at least one dimension")
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        shape = tuple(shape)
        if not shape or shape[-1] < 1:
            raise ValueError(f"StickBreakingTransform: bad simplex shape {shape}")
        return shape[:-1] + (shape[-1] - 1,)
