"""The ``Distribution`` base class: pytree registration, shapes, validation, defaults.

Every family subclasses :class:`Distribution` and implements small private hooks
(``_rsample``, ``_log_prob``, ``_mean``, ...). The public surface (``sample``,
``log_prob``, ``mean``, ``expand``, ...) is written once, here.

Pytree mechanism (``jdist._pytree.Pytree``): a subclass is registered as a pytree
when it is defined. Its *parameters* (the dict passed to ``Distribution.__init__``) are
the leaves, in the order given; the parameter names and the static configuration
(``validate_args`` and anything passed as ``static=``) are the auxiliary data.
Unflattening never validates or converts, so ``jax.tree.map(lambda _: 0, d)`` works.
Shapes are always derived from the leaves, never cached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jdist import constraints
from jdist._math import float_dtype
from jdist._pytree import Pytree

Array = jax.Array
Shape = tuple[int, ...]

__all__ = ["Distribution", "broadcast_shapes"]


def broadcast_shapes(*shapes: Shape, what: str = "shapes") -> Shape:
    """Numpy broadcasting of static shapes, raising a ``ValueError`` naming all of them."""
    first = shapes[0]
    if all(s == first for s in shapes[1:]):
        return tuple(first)
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            d = s[axis] if len(s) >= -axis else 1
            if d != 1:
                if size not in (1, d):
                    listed = ", ".join(str(tuple(s)) for s in shapes)
                    raise ValueError(f"{what} do not broadcast: {listed}")
                size = d
        result.append(size)
    return tuple(result)


def _shape_of(x) -> Shape:
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def _to_leaf(x):
    """Store parameters as given (no eager array work), except that containers become
    arrays and Python ints become floats (so ``Normal(0, 1)`` is differentiable, as in
    torch)."""
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return float(x)
    if isinstance(x, (list, tuple)):
        x = jnp.asarray(x)
        return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(float)
    return x


def _as_value(x):
    """Values passed to log_prob/cdf/...: containers become arrays, nothing else changes."""
    return jnp.asarray(x) if isinstance(x, (list, tuple)) else x


def _is_tracer(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def check_condition(ok, message: Callable[[], str]) -> None:
    """Raise ``ValueError(message())`` if ``ok`` is not all true.

    Outside ``jit`` this raises at once; under tracing it adds a
    ``jax.experimental.checkify`` check that ``checkify.checkify(f)`` reports
    (and that costs nothing when ``f`` is not checkified).
    """
    if _is_tracer(ok):
        checkify.check(jnp.all(ok), message(), debug=True)
    elif not bool(np.all(np.asarray(ok))):
        raise ValueError(message())


def _check_key(key):
    if isinstance(key, (int, np.integer)) or key is None:
        raise TypeError(
            f"expected a JAX PRNG key such as jax.random.key(0) or jax.random.PRNGKey(0), "
            f"got {key!r}"
        )
    return key


class Distribution(Pytree):
    """Base class of every jdist distribution (an immutable pytree).

    Subclasses call ``super().__init__(params, validate_args=..., static=...)`` with a
    dict of parameter leaves and implement the private hooks they support. Shapes:
    ``sample(key, sample_shape)`` returns ``sample_shape + batch_shape + event_shape``;
    ``log_prob(value)`` returns the broadcast of ``value``'s batch dims with
    ``batch_shape``.

    Example:
        >>> import jax, jdist
        >>> d = jdist.Normal(0.0, 1.0)
        >>> d.sample(jax.random.key(0), (3,)).shape
        (3,)
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}
    support: constraints.Constraint = constraints.real
    has_rsample: ClassVar[bool] = False
    has_enumerate_support: ClassVar[bool] = False
    # Rightmost dims of each parameter that are not batch dims (e.g. 1 for logits).
    _param_event_ndims: ClassVar[dict[str, int]] = {}

    def __init__(
        self,
        params: dict[str, Any],
        *,
        validate_args: bool = False,
        static: dict[str, Any] | None = None,
    ) -> None:
        static = dict(static or {})
        static["validate_args"] = bool(validate_args)
        self._set_fields({n: _to_leaf(v) for n, v in params.items()}, static)
        self.batch_shape  # noqa: B018  (raises a ValueError if parameters don't broadcast)
        if validate_args:
            self._validate_parameters()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"
        )

    # ----------------------------------------------------------------- shapes
    @property
    def batch_shape(self) -> Shape:
        """Static tuple: the shape of independent, not identically distributed draws."""
        shapes = []
        for name in self._param_names:
            shape = _shape_of(getattr(self, name))
            k = self._param_event_ndims.get(name, 0)
            shapes.append(shape[: len(shape) - k])
        if not shapes:
            return ()
        return broadcast_shapes(
            *shapes,
            what=f"{type(self).__name__} parameters {self._param_names} with shapes",
        )

    @property
    def event_shape(self) -> Shape:
        """Static tuple: the shape of one draw."""
        return ()

    @property
    def dtype(self):
        """Floating dtype of the parameters (float32 by default, float64 under x64)."""
        return float_dtype(*(getattr(self, n) for n in self._param_names))

    # ------------------------------------------------------------- validation
    def _validate_parameters(self) -> None:
        for name in self._param_names:
            public = name.lstrip("_")
            constraint = self.arg_constraints.get(public)
            if constraint is None or constraint is constraints.dependent:
                continue
            value = getattr(self, name)
            ok = constraint.check(value)
            check_condition(
                ok,
                lambda public=public, constraint=constraint, value=value, ok=ok: _violation_message(
                    f"{type(self).__name__}: parameter `{public}`", constraint, value, ok
                ),
            )

    def _prepare_value(self, value) -> Array:
        """Shape-check ``value`` against the distribution (always) and its support
        (when ``validate_args``)."""
        value = _as_value(value)
        vshape = _shape_of(value)
        event = self.event_shape
        target = self.batch_shape + event
        if event and tuple(vshape[len(vshape) - len(event) :]) != event:
            raise ValueError(
                f"{type(self).__name__}: value shape {vshape} does not end with the "
                f"event shape {event} (batch_shape {self.batch_shape})"
            )
        broadcast_shapes(
            vshape,
            target,
            what=f"{type(self).__name__}: value shape and batch_shape + event_shape",
        )
        if self.validate_args:
            support = self.support
            ok = support.check(value)
            check_condition(
                ok,
                lambda: _violation_message(
                    f"{type(self).__name__}: value", support, value, ok, what="support"
                ),
            )
        return value

    # --------------------------------------------------------------- sampling
    def sample(self, key: Array, sample_shape: Sequence[int] = ()) -> Array:
        """Draw ``sample_shape + batch_shape + event_shape`` values; no gradient flows."""
        return jax.lax.stop_gradient(self._sample(_check_key(key), _as_shape(sample_shape)))

    def rsample(self, key: Array, sample_shape: Sequence[int] = ()) -> Array:
        """Reparameterized draw, differentiable w.r.t. the parameters."""
        if not self.has_rsample:
            raise NotImplementedError(
                f"{type(self).__name__} has no reparameterized sampler (rsample). Use a "
                f"score-function estimator (jdist.estimators.reinforce_loss with "
                f"log_prob of sample()), or a relaxed family (e.g. RelaxedBernoulli, "
                f"RelaxedOneHotCategorical) with jdist.estimators.gumbel_softmax."
            )
        return self._rsample(_check_key(key), _as_shape(sample_shape))

    def sample_and_log_prob(
        self, key: Array, sample_shape: Sequence[int] = ()
    ) -> tuple[Array, Array]:
        """``(x, log_prob(x))`` for ``x = sample(key, sample_shape)``; no gradient
        flows into ``x`` (``log_prob`` is differentiable w.r.t. the parameters)."""
        x, log_prob = self._sample_and_log_prob(_check_key(key), _as_shape(sample_shape))
        return jax.lax.stop_gradient(x), log_prob

    def _sample(self, key, sample_shape: Shape):
        if self.has_rsample:
            return self._rsample(key, sample_shape)
        raise NotImplementedError(f"{type(self).__name__} does not implement sampling")

    def _rsample(self, key, sample_shape: Shape):
        raise NotImplementedError

    def _sample_and_log_prob(self, key, sample_shape: Shape):
        x = jax.lax.stop_gradient(self._sample(key, sample_shape))
        return x, self._log_prob(x)

    # ------------------------------------------------------- densities, CDFs
    def log_prob(self, value) -> Array:
        """Log density (or mass) of ``value``; ``-inf`` outside the support."""
        value = self._prepare_value(value)
        return self._mask_support(value, self._log_prob(value))

    def prob(self, value) -> Array:
        """Density (or mass) of ``value``: ``exp(log_prob(value))``."""
        return jnp.exp(self.log_prob(value))

    def cdf(self, value) -> Array:
        """``P(X <= value)``."""
        return self._cdf(self._prepare_value(value))

    def log_cdf(self, value) -> Array:
        """``log P(X <= value)``, accurate in the lower tail where the family allows."""
        return self._log_cdf(self._prepare_value(value))

    def survival_function(self, value) -> Array:
        """``P(X > value) = 1 - cdf(value)``."""
        return self._survival_function(self._prepare_value(value))

    def log_survival_function(self, value) -> Array:
        """``log P(X > value)``, accurate in the upper tail where the family allows."""
        return self._log_survival_function(self._prepare_value(value))

    def icdf(self, value) -> Array:
        """Quantile function: the ``x`` with ``cdf(x) == value`` for ``value`` in [0, 1]."""
        value = _as_value(value)
        if self.validate_args:
            ok = constraints.unit_interval.check(value)
            check_condition(
                ok,
                lambda: _violation_message(
                    f"{type(self).__name__}.icdf: value", constraints.unit_interval, value, ok
                ),
            )
        return self._icdf(value)

    def _mask_support(self, value, log_prob):
        support = self.support
        if support is constraints.real or support is constraints.real_vector:
            return log_prob
        return jnp.where(support.check(value), log_prob, -jnp.inf)

    def _log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def _cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form cdf")

    def _log_cdf(self, value):
        return jnp.log(self._cdf(value))

    def _survival_function(self, value):
        return 1.0 - self._cdf(value)

    def _log_survival_function(self, value):
        return jnp.log1p(-self._cdf(value))

    def _icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form icdf")

    # -------------------------------------------------------------- moments
    def _full(self, x, shape: Shape | None = None) -> Array:
        # A Python float (a constant moment, e.g. Logistic's variance factor) takes the
        # distribution's dtype rather than JAX's default float.
        if isinstance(x, float):
            x = jnp.asarray(x, self.dtype)
        return jnp.broadcast_to(x, self.batch_shape + self.event_shape if shape is None else shape)

    @property
    def mean(self) -> Array:
        """Mean, shape ``batch_shape + event_shape``."""
        return self._full(self._mean())

    @property
    def mode(self) -> Array:
        """Mode, shape ``batch_shape + event_shape``."""
        return self._full(self._mode())

    @property
    def variance(self) -> Array:
        """Variance, shape ``batch_shape + event_shape``."""
        return self._full(self._variance())

    @property
    def stddev(self) -> Array:
        """Standard deviation, ``sqrt(variance)``, shape ``batch_shape + event_shape``."""
        return self._full(self._stddev())

    def entropy(self) -> Array:
        """Differential (or Shannon) entropy in nats, shape ``batch_shape``."""
        return self._full(self._entropy(), self.batch_shape)

    def perplexity(self) -> Array:
        """``exp(entropy())``, shape ``batch_shape``."""
        return jnp.exp(self.entropy())

    def _mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form mean")

    def _mode(self):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form mode")

    def _variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form variance")

    def _stddev(self):
        # Families whose variance under- or overflows before the standard deviation does
        # (scale² at scale = 1e-20 in float32) override this with the direct form.
        return jnp.sqrt(self._variance())

    def _entropy(self):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form entropy")

    # -------------------------------------------------------------- support
    def enumerate_support(self, expand: bool = True) -> Array:
        """All values of a finite support, shape ``(n,) + batch_shape + event_shape``
        (``(n,) + (1,) * len(batch_shape) + event_shape`` when ``expand=False``)."""
        if not self.has_enumerate_support:
            raise NotImplementedError(f"{type(self).__name__} has no finite support to enumerate")
        values = self._enumerate_support()
        if expand:
            values = jnp.broadcast_to(
                values, values.shape[:1] + self.batch_shape + self.event_shape
            )
        return values

    def _enumerate_support(self):
        raise NotImplementedError

    # --------------------------------------------------------------- expand
    def expand(self, batch_shape: Sequence[int]) -> Distribution:
        """A distribution with parameters broadcast to the larger ``batch_shape``."""
        batch_shape = _as_shape(batch_shape)
        broadcast_shapes(
            self.batch_shape,
            batch_shape,
            what=f"{type(self).__name__}.expand: batch_shape and requested batch_shape",
        )
        if broadcast_shapes(self.batch_shape, batch_shape) != batch_shape:
            raise ValueError(
                f"{type(self).__name__}.expand: cannot expand batch_shape "
                f"{self.batch_shape} to {batch_shape}"
            )
        return self._expand(batch_shape)

    def _expand(self, batch_shape: Shape) -> Distribution:
        new = {}
        for name in self._param_names:
            value = jnp.asarray(getattr(self, name))
            k = self._param_event_ndims.get(name, 0)
            new[name] = jnp.broadcast_to(value, batch_shape + value.shape[value.ndim - k :])
        return self._replace(**new)


def _as_shape(shape: Sequence[int] | int) -> Shape:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _violation_message(subject, constraint, value, ok, what="constraint") -> str:
    shape = _shape_of(value)
    detail = ""
    if not _is_tracer(ok):
        bad = int(np.size(ok) - np.count_nonzero(np.asarray(ok)))
        detail = f" ({bad} of {int(np.size(ok))} failing)"
    return f"{subject} of shape {shape} violates {what} {constraint!r}{detail}"
