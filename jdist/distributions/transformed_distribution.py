"""TransformedDistribution: the push-forward of a base distribution through transforms."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist.distribution import Distribution
from jdist.transforms import AffineTransform, ComposeTransform, IndependentTransform, Transform
from jdist.transforms._base import is_static_number, sum_rightmost


def _flat_parts(transform: Transform) -> list[Transform]:
    if isinstance(transform, ComposeTransform):
        return [q for p in transform.parts for q in _flat_parts(p)]
    return [transform]


def _as_affine(transform: Transform) -> AffineTransform | None:
    while isinstance(transform, IndependentTransform):
        transform = transform.base_transform
    return transform if isinstance(transform, AffineTransform) else None


def _by_sign(sign, if_positive, if_negative):
    """Pick ``if_positive()`` or ``if_negative()`` statically when ``sign`` is a Python
    number, elementwise otherwise."""
    if is_static_number(sign):
        return if_positive() if sign > 0 else if_negative()
    return jnp.where(sign > 0, if_positive(), if_negative())


class TransformedDistribution(Distribution):
    """The distribution of ``y = f_n(... f_1(x))`` for ``x ~ base_distribution`` and
    ``transforms = [f_1, ..., f_n]`` (one transform or a list), as in torch.

    ``log p(y) = log p_base(x) - Σ_i log|det J_{f_i}(x_{i-1})|`` with ``x = f⁻¹(y)``
    (change of variables), each log-det summed over the event dims. ``event_shape`` comes
    from the transforms' event dims: a transform acting on vectors (``domain.event_dim ==
    1``) reinterprets the rightmost batch dim of a scalar base as an event dim.
    ``rsample`` where the base has it; ``cdf``/``icdf``/survival functions for monotone
    scalar transforms; ``mean``/``variance``/``mode`` when every transform is affine;
    ``entropy`` when every log-det's expectation has a closed form (affine and exp maps:
    ``H(y) = H(x) + E log|det J|``); otherwise these raise ``NotImplementedError``.

    ``sample_and_log_prob`` takes the log-dets forward from the base draw, never inverting,
    so a squashed Gaussian stays exact where ``tanh`` rounds to ±1 (``log_prob(y)`` must
    invert a clipped ``atanh`` there); it agrees with ``log_prob`` of the draw to rounding
    elsewhere. (With parametrised transforms, e.g. ``AffineTransform`` leaves, it falls back
    to ``log_prob``, whose gradient holds ``y`` fixed.)

    Pytree: ``base_dist`` (the base as given; unlike torch it is not wrapped in
    ``Independent`` or expanded, which happens lazily) and ``transform`` (the transforms as
    one ``ComposeTransform``; ``transforms`` lists them) are children; shapes are derived.

    Example:
        >>> d = TransformedDistribution(jdist.Normal(0.0, 1.0), [TanhTransform()])
        >>> y, log_p = d.sample_and_log_prob(jax.random.key(0), (4,))   # squashed Gaussian
        >>> d.log_prob(y)                                               # ≈ log_p
    """

    arg_constraints = {}

    def __init__(
        self,
        base_distribution: Distribution,
        transforms: Transform | Sequence[Transform],
        *,
        validate_args: bool = False,
    ) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not isinstance(transforms, (list, tuple)) or not all(
            isinstance(t, Transform) for t in transforms
        ):
            raise TypeError(
                f"TransformedDistribution: transforms must be a Transform or a list of "
                f"Transforms, got {transforms!r}"
            )
        transform = ComposeTransform(transforms)
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(
                f"TransformedDistribution: base_distribution needs at least "
                f"{transform.domain.event_dim} dims for the transforms' event dims, but its "
                f"batch_shape + event_shape is {base_shape}"
            )
        super().__init__(
            {"base_dist": base_distribution, "transform": transform},
            validate_args=validate_args,
        )

    # ----------------------------------------------------------------- shapes
    @property
    def transforms(self) -> list[Transform]:
        """The transforms, in the order they are applied."""
        return list(self.transform.parts)

    @property
    def _base_event_dim(self) -> int:
        return len(self.base_dist.event_shape)

    @property
    def _event_dim(self) -> int:
        t = self.transform
        change = t.codomain.event_dim - t.domain.event_dim
        return max(t.codomain.event_dim, self._base_event_dim + change)

    @property
    def _shape(self):
        return self.transform.forward_shape(self.base_dist.batch_shape + self.base_dist.event_shape)

    @property
    def batch_shape(self):
        shape = self._shape
        return shape[: len(shape) - self._event_dim]

    @property
    def event_shape(self):
        shape = self._shape
        return shape[len(shape) - self._event_dim :]

    @property
    def dtype(self):
        return self.base_dist.dtype

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:
        if not self.transform.parts:
            return self.base_dist.support
        support = self.transform.parts[-1].codomain
        if self._event_dim > support.event_dim:
            support = constraints.independent(support, self._event_dim - support.event_dim)
        return support

    def _validate_parameters(self) -> None:
        pass  # the base distribution validated its own parameters

    def _stage_sums(self) -> tuple[list[int], int]:
        """Rightmost dims to sum of each transform's log-det, and of the base log_prob."""
        counts, event_dim = [], self._event_dim
        for t in reversed(self.transforms):
            event_dim += t.domain.event_dim - t.codomain.event_dim
            counts.append(event_dim - t.domain.event_dim)
        return counts[::-1], event_dim - self._base_event_dim

    def _expanded_base(self) -> Distribution:
        """The base broadcast to the shape the transforms need (as torch does at
        construction), so that draws are independent across the full batch."""
        base = self.base_dist
        base_shape = base.batch_shape + base.event_shape
        needed = self.transform.inverse_shape(self._shape)
        if needed == base_shape:
            return base
        return base.expand(needed[: len(needed) - self._base_event_dim])

    def _require_bijective(self, what: str) -> None:
        for t in self.transforms:
            if not t.bijective:
                raise NotImplementedError(
                    f"TransformedDistribution.{what}: {t!r} is not bijective, so the "
                    f"change-of-variables density is not defined"
                )

    # --------------------------------------------------------------- sampling
    def _push(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def _sample(self, key, sample_shape):
        return self._push(self._expanded_base().sample(key, sample_shape))

    def _rsample(self, key, sample_shape):
        return self._push(self._expanded_base().rsample(key, sample_shape))

    def _sample_and_log_prob(self, key, sample_shape):
        # Forward log-dets avoid inverting (e.g. atanh of a tanh that rounded to ±1). With
        # leaf-free transforms x = f⁻¹(y) does not depend on any parameter, so this is also
        # log_prob(y)'s gradient; with parametrised transforms fall back to log_prob(y).
        if jax.tree.leaves(self.transform) or not self.transform.bijective:
            return super()._sample_and_log_prob(key, sample_shape)
        x, log_prob = self._expanded_base().sample_and_log_prob(key, sample_shape)
        counts, base_sum = self._stage_sums()
        log_prob = sum_rightmost(log_prob, base_sum)
        for t, n in zip(self.transforms, counts, strict=True):
            x, log_det = t.forward_and_log_det(x)
            log_prob = log_prob - sum_rightmost(log_det, n)
        return x, log_prob

    # ------------------------------------------------------- densities, CDFs
    def _log_prob(self, value):
        self._require_bijective("log_prob")
        counts, base_sum = self._stage_sums()
        log_prob, y = 0.0, value
        for t, n in zip(reversed(self.transforms), reversed(counts), strict=True):
            x = t.inverse(y)
            log_prob = log_prob - sum_rightmost(t.log_abs_det_jacobian(x, y), n)
            y = x
        return log_prob + sum_rightmost(self.base_dist.log_prob(y), base_sum)

    def _check_scalar(self, what: str) -> None:
        if self._event_dim or self._base_event_dim:
            raise NotImplementedError(
                f"TransformedDistribution.{what} needs scalar events, got event_shape "
                f"{self.event_shape}"
            )
        for t in self.transforms:
            if t.domain.event_dim or t.codomain.event_dim:
                raise NotImplementedError(f"TransformedDistribution.{what}: {t!r} is not scalar")

    def _scalar_inverse(self, value, what: str):
        self._check_scalar(what)
        for t in reversed(self.transforms):
            value = t.inverse(value)
        return value

    @property
    def _sign(self):
        return self.transform.sign  # NotImplementedError for non-monotone transforms

    def _cdf(self, value):
        sign, x = self._sign, self._scalar_inverse(value, "cdf")
        return _by_sign(
            sign, lambda: self.base_dist.cdf(x), lambda: self.base_dist.survival_function(x)
        )

    def _survival_function(self, value):
        sign, x = self._sign, self._scalar_inverse(value, "survival_function")
        return _by_sign(
            sign, lambda: self.base_dist.survival_function(x), lambda: self.base_dist.cdf(x)
        )

    def _log_cdf(self, value):
        sign, x = self._sign, self._scalar_inverse(value, "log_cdf")
        return _by_sign(
            sign,
            lambda: self.base_dist.log_cdf(x),
            lambda: self.base_dist.log_survival_function(x),
        )

    def _log_survival_function(self, value):
        sign, x = self._sign, self._scalar_inverse(value, "log_survival_function")
        return _by_sign(
            sign,
            lambda: self.base_dist.log_survival_function(x),
            lambda: self.base_dist.log_cdf(x),
        )

    def _icdf(self, value):
        sign = self._sign
        self._check_scalar("icdf")
        x = _by_sign(
            sign, lambda: self.base_dist.icdf(value), lambda: self.base_dist.icdf(1.0 - value)
        )
        return self._push(x)

    # -------------------------------------------------------------- moments
    def _affine_parts(self, what: str) -> list[AffineTransform]:
        parts = [_as_affine(p) for p in _flat_parts(self.transform)]
        if any(p is None for p in parts):
            raise NotImplementedError(
                f"TransformedDistribution.{what} has a closed form only when every transform "
                f"is affine; got {self.transforms!r}"
            )
        return parts

    def _mean(self):
        m = self._expanded_base().mean
        for t in self._affine_parts("mean"):
            m = t(m)
        return m

    def _mode(self):
        m = self._expanded_base().mode
        for t in self._affine_parts("mode"):
            m = t(m)
        return m

    def _variance(self):
        v = self._expanded_base().variance
        for t in self._affine_parts("variance"):
            v = jnp.square(t.scale) * v
        return v

    def _entropy(self):
        self._require_bijective("entropy")
        base = self._expanded_base()
        counts, base_sum = self._stage_sums()
        entropy = sum_rightmost(base.entropy(), base_sum)
        shape = base.batch_shape + base.event_shape
        mean = functools.partial(getattr, base, "mean")  # mean of the current stage, lazily
        for t, n in zip(self.transforms, counts, strict=True):
            entropy = entropy + sum_rightmost(t._expected_log_det(shape, self.dtype, mean), n)
            affine = _as_affine(t) is not None
            mean = functools.partial(_pushed_mean, t, mean) if affine else _no_closed_mean
            shape = t.forward_shape(shape)
        return entropy

    # --------------------------------------------------------------- expand
    def _expand(self, batch_shape):
        shape = self.transform.inverse_shape(tuple(batch_shape) + self.event_shape)
        base_batch = shape[: len(shape) - self._base_event_dim]
        return self._replace(base_dist=self.base_dist.expand(base_batch))


def _pushed_mean(transform, mean):
    return transform(mean())


def _no_closed_mean():
    raise NotImplementedError(
        "TransformedDistribution.entropy: the mean after a non-affine transform has no closed form"
    )
