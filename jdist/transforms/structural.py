"""Transforms that apply different transforms to different slices of one array:
``CatTransform`` (consecutive blocks along an axis) and ``StackTransform`` (one entry each)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist.transforms._base import Transform, sum_rightmost


def _check_transforms(name: str, tseq) -> tuple[Transform, ...]:
    tseq = tuple(tseq)
    if not tseq or not all(isinstance(t, Transform) for t in tseq):
        raise TypeError(f"{name}: expected a non-empty sequence of Transforms, got {tseq!r}")
    return tseq


class CatTransform(Transform):
    """Applies ``tseq[i]`` to the i-th block (of ``lengths[i]`` entries, default 1) along
    axis ``dim`` and concatenates the results, like ``torch.cat``.

    The log-det is concatenated along ``dim`` when ``dim`` is a batch axis, and summed
    over the blocks when it is one of the event axes.

    Example:
        >>> t = CatTransform([ExpTransform(), identity_transform], dim=-1, lengths=[2, 1])
        >>> t(jnp.zeros((5, 3)))        # [[1, 1, 0], ...]
        >>> t.log_abs_det_jacobian(jnp.zeros((5, 3)), None).shape
        (5, 3)
    """

    def __init__(
        self, tseq: Sequence[Transform], dim: int = 0, lengths: Sequence[int] | None = None
    ) -> None:
        tseq = _check_transforms("CatTransform", tseq)
        lengths = tuple(int(n) for n in lengths) if lengths is not None else (1,) * len(tseq)
        if len(lengths) != len(tseq):
            raise ValueError(
                f"CatTransform: {len(tseq)} transforms but {len(lengths)} lengths {lengths}"
            )
        self._set_fields({"transforms": tseq}, {"dim": int(dim), "lengths": lengths})

    def __repr__(self) -> str:
        return f"CatTransform({list(self.transforms)!r}, dim={self.dim}, lengths={self.lengths})"

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @property
    def event_dim(self) -> int:
        return max(t.domain.event_dim for t in self.transforms)

    @property
    def domain(self):  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    def _slices(self, x):
        x = jnp.asarray(x)
        total = sum(self.lengths)
        if x.shape[self.dim] != total:
            raise ValueError(
                f"CatTransform: axis {self.dim} of shape {x.shape} must have "
                f"sum(lengths) = {total} entries"
            )
        start, out = 0, []
        for n in self.lengths:
            out.append(jax.lax.slice_in_dim(x, start, start + n, axis=self.dim % x.ndim))
            start += n
        return out

    def _map(self, fn, x):
        parts = [fn(t, xi) for t, xi in zip(self.transforms, self._slices(x), strict=True)]
        return jnp.concatenate(parts, axis=self.dim)

    def _forward(self, x):
        return self._map(lambda t, xi: t._forward(xi), x)

    def _inverse(self, y):
        return self._map(lambda t, yi: t._inverse(yi), y)

    def _log_abs_det_jacobian(self, x, y):
        x = jnp.asarray(x)
        if y is None:
            y = self._forward(x)
        event_dim = self.event_dim
        parts = []
        for t, xi, yi in zip(self.transforms, self._slices(x), self._slices(y), strict=True):
            log_det = t._log_abs_det_jacobian(xi, yi)
            parts.append(sum_rightmost(log_det, event_dim - t.domain.event_dim))
        axis = (self.dim if self.dim < 0 else self.dim - x.ndim) + event_dim
        if axis < 0:
            return jnp.concatenate(parts, axis=axis)
        return sum(parts[1:], parts[0])


class StackTransform(Transform):
    """Applies ``tseq[i]`` to ``x[..., i, ...]`` (index ``i`` along axis ``dim``) and
    stacks the results along ``dim``, like ``torch.stack``; log-dets are stacked likewise.

    Example:
        >>> t = StackTransform([ExpTransform(), identity_transform], dim=-1)
        >>> t(jnp.zeros((5, 2)))         # [[1, 0], ...]
        >>> t.log_abs_det_jacobian(jnp.zeros((5, 2)), None).shape
        (5, 2)
    """

    def __init__(self, tseq: Sequence[Transform], dim: int = 0) -> None:
        tseq = _check_transforms("StackTransform", tseq)
        self._set_fields({"transforms": tseq}, {"dim": int(dim)})

    def __repr__(self) -> str:
        return f"StackTransform({list(self.transforms)!r}, dim={self.dim})"

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    def _slices(self, x):
        x = jnp.asarray(x)
        if x.shape[self.dim] != len(self.transforms):
            raise ValueError(
                f"StackTransform: axis {self.dim} of shape {x.shape} must have "
                f"{len(self.transforms)} entries, one per transform"
            )
        return [jnp.take(x, i, axis=self.dim) for i in range(len(self.transforms))]

    def _stack(self, fn, *arrays):
        sliced = [self._slices(a) for a in arrays]
        parts = [fn(t, *xs) for t, *xs in zip(self.transforms, *sliced, strict=True)]
        return jnp.stack(parts, axis=self.dim)

    def _forward(self, x):
        return self._stack(lambda t, xi: t._forward(xi), x)

    def _inverse(self, y):
        return self._stack(lambda t, yi: t._inverse(yi), y)

    def _log_abs_det_jacobian(self, x, y):
        if y is None:
            y = self._forward(x)
        return self._stack(lambda t, xi, yi: t._log_abs_det_jacobian(xi, yi), x, y)
