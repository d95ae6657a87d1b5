"""Independent: reinterpret batch dimensions of a distribution as event dimensions."""

from __future__ import annotations

import jax.numpy as jnp

from jdist import constraints
from jdist.distribution import Distribution


def _sum_rightmost(x, n: int):
    return jnp.sum(x, axis=tuple(range(-n, 0))) if n else x


class Independent(Distribution):
    """Treats the rightmost ``reinterpreted_batch_ndims`` batch dims of ``base_distribution``
    as event dims: ``log_prob`` sums over them.

    A diagonal Gaussian over vectors of length 3:

    Example:
        >>> d = jdist.Independent(jdist.Normal(jnp.zeros(3), 1.0), 1)
        >>> d.batch_shape, d.event_shape
        ((), (3,))
        >>> d.log_prob(jnp.zeros(3)).shape
        ()
    """

    arg_constraints = {}

    def __init__(
        self,
        base_distribution: Distribution,
        reinterpreted_batch_ndims: int,
        *,
        validate_args: bool = False,
    ) -> None:
        n = int(reinterpreted_batch_ndims)
        if not 0 <= n <= len(base_distribution.batch_shape):
            raise ValueError(
                f"Independent: reinterpreted_batch_ndims={n} must be in "
                f"[0, len(base_distribution.batch_shape)] = "
                f"[0, {len(base_distribution.batch_shape)}] "
                f"(base batch_shape {base_distribution.batch_shape})"
            )
        super().__init__(
            {"base_dist": base_distribution},
            validate_args=validate_args,
            static={"reinterpreted_batch_ndims": n},
        )

    @property
    def _n(self) -> int:
        return self.reinterpreted_batch_ndims

    @property
    def batch_shape(self):
        shape = self.base_dist.batch_shape
        return shape[: len(shape) - self._n]

    @property
    def event_shape(self):
        shape = self.base_dist.batch_shape
        return shape[len(shape) - self._n :] + self.base_dist.event_shape

    @property
    def dtype(self):
        return self.base_dist.dtype

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        return self._n == 0 and self.base_dist.has_enumerate_support

    @property
    def support(self) -> constraints.Constraint:
        return constraints.independent(self.base_dist.support, self._n)

    def _validate_parameters(self) -> None:
        pass  # the base distribution validated its own parameters

    def _sample(self, key, sample_shape):
        return self.base_dist._sample(key, sample_shape)

    def _rsample(self, key, sample_shape):
        return self.base_dist._rsample(key, sample_shape)

    def _log_prob(self, value):
        return _sum_rightmost(self.base_dist.log_prob(value), self._n)

    def _mask_support(self, value, log_prob):
        return log_prob  # base_dist.log_prob already gives -inf outside its support

    def _mean(self):
        return self.base_dist.mean

    def _mode(self):
        return self.base_dist.mode

    def _variance(self):
        return self.base_dist.variance

    def _entropy(self):
        return _sum_rightmost(self.base_dist.entropy(), self._n)

    def _enumerate_support(self):
        return self.base_dist._enumerate_support()

    def _expand(self, batch_shape):
        base_shape = self.base_dist.batch_shape
        reinterpreted = base_shape[len(base_shape) - self._n :]
        return self._replace(base_dist=self.base_dist.expand(batch_shape + reinterpreted))
