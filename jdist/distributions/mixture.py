"""Finite mixtures: ``MixtureSameFamily`` (torch semantics) and ``Mixture`` (components of
different families).

``p(x) = Σ_k w_k p_k(x)`` with weights ``w = mixture_distribution.probs`` (a
``Categorical``). ``log_prob`` is ``logsumexp_k(log w_k + log p_k(x))``; ``sample`` draws a
component index and gathers that component's draw; ``mean = Σ w_k μ_k`` and ``variance``
by the law of total variance, ``Σ w_k σ_k² + Σ w_k (μ_k - μ)²``; ``cdf``/``log_cdf``/
survival functions for univariate components (log forms via ``logsumexp``, accurate in
the tails). No ``rsample`` (the component index is discrete), no closed-form ``entropy``,
``mode`` or ``icdf``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import float_dtype
from jdist.distribution import Distribution, broadcast_shapes
from jdist.distributions.categorical import Categorical

__all__ = ["Mixture", "MixtureSameFamily"]


def _logsumexp(a, axis: int = -1):
    """``logsumexp`` that is ``-inf`` with finite (zero) gradients where every term is
    ``-inf`` (a value outside every component's support)."""
    empty = jnp.all(jnp.isneginf(a), axis=axis, keepdims=True)
    out = jax.nn.logsumexp(jnp.where(empty, 0.0, a), axis=axis)
    return jnp.where(jnp.squeeze(empty, axis), -jnp.inf, out)


def _component_log_prob(component: Distribution, value):
    """``component.log_prob(value)`` without the component's own validation: the mixture
    has checked ``value`` against its support, the union of the components' supports, so
    a valid value may lie outside one component's support (log density ``-inf`` there)."""
    return component._mask_support(value, component._log_prob(value))


class _UnionSupport(constraints.Constraint):
    """Values in the support of at least one component (the support of a mixture)."""

    def __init__(self, check_each, base: constraints.Constraint):
        self._check_each = check_each  # value -> bool array (..., k)
        self.event_dim = base.event_dim
        self.is_discrete = base.is_discrete
        self._base = base

    def check(self, value):
        return jnp.any(self._check_each(value), axis=-1)

    def __repr__(self) -> str:
        return f"union over components of {self._base!r}"


class _MixtureBase(Distribution):
    """Shared mixture math; subclasses say how to evaluate members over the components."""

    arg_constraints = {}
    has_rsample = False

    def _check_mixture(self, name: str, mixture, k: int, comp_batch) -> None:
        if not isinstance(mixture, Categorical):
            raise ValueError(
                f"{name}: mixture_distribution must be a jdist.Categorical, got "
                f"{type(mixture).__name__}"
            )
        if mixture.num_categories != k:
            raise ValueError(
                f"{name}: mixture_distribution has {mixture.num_categories} categories "
                f"(logits shape {jnp.shape(mixture._raw)}) but there are {k} components"
            )
        broadcast_shapes(
            mixture.batch_shape,
            comp_batch,
            what=f"{name}: mixture_distribution.batch_shape and the components' batch_shape",
        )

    # ---------------------------------------------------------------- hooks
    def _component_values(self, fn, value=None, event_ndims: int = 0):
        """``fn(component, value)`` for every component, stacked on axis
        ``-1 - event_ndims`` (``event_ndims``: trailing event dims of ``fn``'s output)."""
        raise NotImplementedError

    def _component_samples(self, key, sample_shape):
        """Draws of every component, shape ``sample_shape + batch + (k,) + event``."""
        raise NotImplementedError

    def _component_supports(self) -> list[constraints.Constraint]:
        raise NotImplementedError

    # -------------------------------------------------------------- shapes
    @property
    def num_components(self) -> int:
        """Number of mixture components ``k`` (static)."""
        return self.mixture_distribution.num_categories

    @property
    def _component_batch_shape(self):
        raise NotImplementedError

    @property
    def batch_shape(self):
        return broadcast_shapes(self.mixture_distribution.batch_shape, self._component_batch_shape)

    def _validate_parameters(self) -> None:
        pass  # the mixture and component distributions validate their own parameters

    def _log_weights(self, event_ndims: int = 0):
        logits = self.mixture_distribution.logits
        return logits.reshape(logits.shape + (1,) * event_ndims)

    def _weights(self, event_ndims: int = 0):
        probs = self.mixture_distribution.probs
        return probs.reshape(probs.shape + (1,) * event_ndims)

    @property
    def support(self) -> constraints.Constraint:
        supports = self._component_supports()
        if all(s is supports[0] for s in supports) and supports[0] in (
            constraints.real,
            constraints.real_vector,
        ):
            return supports[0]
        return _UnionSupport(self._check_supports, supports[0])

    def _check_supports(self, value):
        return self._component_values(lambda c, v: c.support.check(v), value)

    def _mask_support(self, value, log_prob):
        return log_prob  # each component's log_prob is already -inf outside its support

    # ------------------------------------------------------------ sampling
    def _sample(self, key, sample_shape):
        key_mix, key_comp = jax.random.split(key)
        mixture = self.mixture_distribution
        if mixture.batch_shape != self.batch_shape:
            mixture = mixture.expand(self.batch_shape)
        index = mixture.sample(key_mix, sample_shape)  # sample_shape + batch
        draws = self._component_samples(key_comp, sample_shape)
        event_ndims = len(self.event_shape)
        index = index.reshape(index.shape + (1,) * (1 + event_ndims))
        axis = len(sample_shape) + len(self.batch_shape)
        return jnp.squeeze(jnp.take_along_axis(draws, index, axis=axis), axis)

    # --------------------------------------------------- densities, CDFs
    def _log_prob(self, value):
        log_p = self._component_values(_component_log_prob, value)
        return _logsumexp(log_p + self._log_weights())

    def _require_univariate(self, what: str) -> None:
        if self.event_shape:
            raise NotImplementedError(
                f"{type(self).__name__}.{what} is defined for univariate components only, "
                f"got event_shape {self.event_shape}"
            )

    def _cdf(self, value):
        self._require_univariate("cdf")
        cdf = self._component_values(lambda c, v: c._cdf(v), value)
        return jnp.sum(self._weights() * cdf, axis=-1)

    def _survival_function(self, value):
        self._require_univariate("survival_function")
        sf = self._component_values(lambda c, v: c._survival_function(v), value)
        return jnp.sum(self._weights() * sf, axis=-1)

    def _log_cdf(self, value):
        self._require_univariate("log_cdf")
        log_cdf = self._component_values(lambda c, v: c._log_cdf(v), value)
        return _logsumexp(self._log_weights() + log_cdf)

    def _log_survival_function(self, value):
        self._require_univariate("log_survival_function")
        log_sf = self._component_values(lambda c, v: c._log_survival_function(v), value)
        return _logsumexp(self._log_weights() + log_sf)

    # -------------------------------------------------------------- moments
    def _moments(self):
        n = len(self.event_shape)
        w = self._weights(n)
        means = self._component_values(lambda c, _: c.mean, event_ndims=n)
        mean = jnp.sum(w * means, axis=-1 - n)
        return w, means, mean

    def _mean(self):
        return self._moments()[2]

    def _variance(self):
        n = len(self.event_shape)
        w, means, mean = self._moments()
        variances = self._component_values(lambda c, _: c.variance, event_ndims=n)
        spread = jnp.square(means - jnp.expand_dims(mean, -1 - n))
        return jnp.sum(w * variances, axis=-1 - n) + jnp.sum(w * spread, axis=-1 - n)

    def _mode(self):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form mode")

    def _entropy(self):
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form entropy (a mixture's entropy has "
            f"none); estimate -E[log_prob] from samples"
        )


class MixtureSameFamily(_MixtureBase):
    """Mixture of ``k`` components from one batched distribution (torch semantics).

    ``component_distribution`` has batch shape ``batch_shape + (k,)``: its rightmost batch
    dim indexes the components. ``mixture_distribution`` is a ``Categorical`` over ``k``
    with a batch shape broadcastable to ``batch_shape``.
    ``log p(x) = logsumexp_k(log w_k + log p_k(x))`` with ``w = mixture_distribution.probs``;
    ``sample`` picks each draw's component with ``mixture_distribution`` and gathers it;
    ``mean``, ``variance`` (law of total variance), ``cdf``, ``log_cdf``,
    ``survival_function``, ``log_survival_function`` (univariate components); no
    ``rsample``, ``entropy``, ``mode`` or ``icdf`` (none is closed form).
    Shapes: ``batch_shape`` = broadcast of the mixture's and the components' (less ``k``)
    batch shapes; ``event_shape`` is the components'.

    Example:
        >>> mix = jdist.Categorical(logits=jnp.zeros(3))
        >>> comp = jdist.Normal(jnp.array([-2.0, 0.0, 2.0]), 0.5)
        >>> d = jdist.MixtureSameFamily(mix, comp); d.log_prob(jnp.zeros(4)).shape  # (4,)
    """

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        *,
        validate_args: bool = False,
    ) -> None:
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                f"MixtureSameFamily: component_distribution must be a jdist Distribution, "
                f"got {type(component_distribution).__name__}"
            )
        comp_batch = component_distribution.batch_shape
        if not comp_batch:
            raise ValueError(
                "MixtureSameFamily: component_distribution needs a batch dim indexing the "
                "components, got batch_shape ()"
            )
        self._check_mixture(
            "MixtureSameFamily", mixture_distribution, comp_batch[-1], comp_batch[:-1]
        )
        super().__init__(
            {
                "mixture_distribution": mixture_distribution,
                "component_distribution": component_distribution,
            },
            validate_args=validate_args,
        )

    @property
    def _component_batch_shape(self):
        return self.component_distribution.batch_shape[:-1]

    @property
    def event_shape(self):
        return self.component_distribution.event_shape

    @property
    def dtype(self):
        return self.component_distribution.dtype

    def _component_values(self, fn, value=None, event_ndims: int = 0):
        if value is not None:
            value = jnp.expand_dims(value, -1 - len(self.event_shape))
        return fn(self.component_distribution, value)

    def _component_samples(self, key, sample_shape):
        comp = self.component_distribution
        full = self.batch_shape + (self.num_components,)
        if comp.batch_shape != full:
            comp = comp.expand(full)
        return comp.sample(key, sample_shape)

    def _component_supports(self):
        return [self.component_distribution.support]

    def _expand(self, batch_shape):
        return self._replace(
            mixture_distribution=self.mixture_distribution.expand(batch_shape),
            component_distribution=self.component_distribution.expand(
                tuple(batch_shape) + (self.num_components,)
            ),
        )


class Mixture(_MixtureBase):
    """Mixture of distributions of *different* families (beyond torch).

    ``components`` is a list of ``k`` distributions with one batch shape and one event
    shape (e.g. a Normal, a Laplace and a StudentT); ``mixture_distribution`` is a
    ``Categorical`` over ``k``. Same members and formulas as ``MixtureSameFamily``
    (``log_prob`` by ``logsumexp``, ``sample``, ``mean``, ``variance``, univariate ``cdf``
    and survival functions). The components are a pytree child list, so the mixture goes
    through ``jit``/``vmap``/``grad`` like any distribution.
    Shapes: ``batch_shape`` = broadcast of the mixture's and the components' batch shapes.

    Example:
        >>> comps = [jdist.Normal(0.0, 1.0), jdist.Laplace(3.0, 0.5)]
        >>> d = jdist.Mixture(jdist.Categorical(probs=jnp.array([0.3, 0.7])), comps)
        >>> d.sample(jax.random.key(0), (5,)).shape    # (5,)
    """

    def __init__(
        self,
        mixture_distribution: Categorical,
        components,
        *,
        validate_args: bool = False,
    ) -> None:
        components = list(components)
        if not components or not all(isinstance(c, Distribution) for c in components):
            raise ValueError(
                "Mixture: components must be a non-empty list of jdist distributions, got "
                f"{[type(c).__name__ for c in components]}"
            )
        batch, event = components[0].batch_shape, components[0].event_shape
        for i, c in enumerate(components):
            if c.batch_shape != batch or c.event_shape != event:
                raise ValueError(
                    f"Mixture: all components need one batch_shape and event_shape; "
                    f"component 0 has {batch} and {event}, component {i} "
                    f"({type(c).__name__}) has {c.batch_shape} and {c.event_shape}"
                )
        self._check_mixture("Mixture", mixture_distribution, len(components), batch)
        # Not Distribution.__init__: its leaf conversion would turn the list into an array.
        self._set_fields(
            {"mixture_distribution": mixture_distribution, "components": components},
            {"validate_args": bool(validate_args)},
        )
        self.batch_shape  # noqa: B018  (checks that the shapes broadcast)

    @property
    def _component_batch_shape(self):
        return self.components[0].batch_shape

    @property
    def event_shape(self):
        return self.components[0].event_shape

    @property
    def dtype(self):
        return float_dtype(*(c.dtype for c in self.components))

    def _component_values(self, fn, value=None, event_ndims: int = 0):
        return jnp.stack([fn(c, value) for c in self.components], axis=-1 - event_ndims)

    def _component_samples(self, key, sample_shape):
        keys = jax.random.split(key, len(self.components))
        draws = []
        for k, c in zip(keys, self.components, strict=True):
            if c.batch_shape != self.batch_shape:
                c = c.expand(self.batch_shape)
            draws.append(c.sample(k, sample_shape))
        return jnp.stack(draws, axis=len(sample_shape) + len(self.batch_shape))

    def _component_supports(self):
        return [c.support for c in self.components]

    def _expand(self, batch_shape):
        return self._replace(
            mixture_distribution=self.mixture_distribution.expand(batch_shape),
            components=[c.expand(batch_shape) for c in self.components],
        )
