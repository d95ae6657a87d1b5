"""The one pytree mechanism behind distributions and transforms.

A subclass of :class:`Pytree` is registered with JAX when it is defined. An instance
stores *parameters* (the leaves, in the order given) and *static* configuration
(auxiliary data: hashable Python values such as ``validate_args`` or an ``event_dim``).
Unflattening never validates or converts leaves, so ``jax.tree.map(lambda _: 0, x)``
works; instances are immutable.
"""

from __future__ import annotations

from typing import Any

import jax


class Pytree:
    """Immutable pytree base: parameters are leaves, static config is auxiliary data."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_with_keys(
            cls, cls._tree_flatten_with_keys, cls._tree_unflatten, cls._tree_flatten
        )

    def _set_fields(self, params: dict[str, Any], static: dict[str, Any]) -> None:
        """Store the leaves and static config; call once, from ``__init__``."""
        set_ = object.__setattr__
        set_(self, "_param_names", tuple(params))
        set_(self, "_static_names", tuple(static))
        for name, value in params.items():
            set_(self, name, value)
        for name, value in static.items():
            set_(self, name, value)

    def _tree_flatten(self):
        children = tuple(getattr(self, n) for n in self._param_names)
        aux = (self._param_names, tuple((n, getattr(self, n)) for n in self._static_names))
        return children, aux

    def _tree_flatten_with_keys(self):
        children, aux = self._tree_flatten()
        keyed = tuple(
            (jax.tree_util.GetAttrKey(n), c)
            for n, c in zip(self._param_names, children, strict=True)
        )
        return keyed, aux

    @classmethod
    def _tree_unflatten(cls, aux, children):
        names, static = aux
        obj = object.__new__(cls)
        obj._set_fields(dict(zip(names, children, strict=True)), dict(static))
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable; build a new one instead "
            f"(e.g. with jax.tree.map or the constructor)"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _replace(self, **params: Any):
        """A copy with some parameter leaves replaced (no validation, like unflatten)."""
        children, aux = self._tree_flatten()
        new = [params.get(n, c) for n, c in zip(self._param_names, children, strict=True)]
        return type(self)._tree_unflatten(aux, new)

    @property
    def _params(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self._param_names}
