"""Pareto (type I) and generalized Pareto distributions."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jdist import constraints
from jdist._math import log1mexp, quantile_with_ends, standardize
from jdist.distribution import Distribution

# |y| below which log1p(y)/y and expm1(y)/y are summed as Taylor series: with 17 terms
# the truncation error is below 0.1^17 / 18 < 1e-18, and the series stay exact (with exact
# derivatives) at y = 0, where the closed forms divide 0 by 0.
_SERIES_CUTOFF = 0.1
_SERIES_TERMS = 17


def _log1p_rel(y):
    """``log1p(y) / y`` (1 at ``y = 0``), smooth through ``y = 0``."""
    small = jnp.abs(y) < _SERIES_CUTOFF
    ys = jnp.where(small, y, 0.0)
    yb = jnp.where(small, 1.0, y)
    series = jnp.zeros_like(ys)
    for n in range(_SERIES_TERMS - 1, -1, -1):  # Σ (-y)^n / (n + 1), Horner form
        series = 1.0 / (n + 1) - ys * series
    return jnp.where(small, series, jnp.log1p(yb) / yb)


def _expm1_rel(y):
    """``expm1(y) / y`` (1 at ``y = 0``), smooth through ``y = 0``."""
    small = jnp.abs(y) < _SERIES_CUTOFF
    ys = jnp.where(small, y, 0.0)
    yb = jnp.where(small, 1.0, y)
    series = jnp.ones_like(ys)
    for n in range(_SERIES_TERMS, 0, -1):  # Σ y^n / (n + 1)!, Horner form
        series = 1.0 + ys * series / (n + 1)
    return jnp.where(small, series, jnp.expm1(yb) / yb)


class Pareto(Distribution):
    """Pareto (type I) distribution with minimum ``scale`` and tail index ``alpha``.

    ``p(x) = alpha · scale^alpha / x^(alpha + 1)`` for ``x >= scale`` (the support
    depends on ``scale``). ``scale`` and ``alpha`` broadcast to ``batch_shape``. With
    ``t = log(x / scale)`` (as ``log1p((x - scale) / scale)`` near ``scale``) the CDF is
    ``-expm1(-alpha t)``, accurate in both tails.

    Diverging moments are ``inf``: ``mean`` for ``alpha <= 1``, ``variance`` for
    ``alpha <= 2`` (as in torch).

    Example:
        >>> d = jdist.Pareto(scale=1.0, alpha=jnp.array([1.5, 3.0]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2), x >= 1
        >>> d.log_prob(x).shape
        (3, 2)
    """

    arg_constraints = {"scale": constraints.positive, "alpha": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, *, validate_args: bool = False) -> None:
        super().__init__({"scale": scale, "alpha": alpha}, validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    def _log_ratio(self, value):
        """``log(max(x, scale) / scale) >= 0`` without cancellation near ``scale`` and
        without overflow of ``x / scale``."""
        s = self.scale
        x = jnp.where(value > s, value, s)
        near = x < 2.0 * s
        x_near = jnp.where(near, x, s)
        x_far = jnp.where(near, 2.0 * s, x)
        r = x_far / s
        far = jnp.where(jnp.isfinite(r), jnp.log(r), jnp.log(x_far) - jnp.log(s))
        return jnp.where(near, jnp.log1p(standardize(x_near, s, s)), far)

    def _rsample(self, key, sample_shape):
        e = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return self.scale * jnp.exp(e / self.alpha)

    def _log_prob(self, value):
        return (
            jnp.log(self.alpha) - jnp.log(self.scale) - (self.alpha + 1.0) * self._log_ratio(value)
        )

    def _cdf(self, value):
        return -jnp.expm1(-self.alpha * self._log_ratio(value))

    def _log_cdf(self, value):
        return log1mexp(self.alpha * self._log_ratio(value))

    def _survival_function(self, value):
        return jnp.exp(-self.alpha * self._log_ratio(value))

    def _log_survival_function(self, value):
        return -self.alpha * self._log_ratio(value)

    def _icdf(self, value):
        return quantile_with_ends(
            value, lambda p: self.scale * jnp.exp(-jnp.log1p(-p) / self.alpha), self.scale, jnp.inf
        )

    def _mean(self):
        finite = self.alpha > 1
        a = jnp.where(finite, self.alpha, 2.0)
        return jnp.where(finite, a * self.scale / (a - 1.0), jnp.inf)

    def _mode(self):
        return self.scale

    def _variance(self):
        finite = self.alpha > 2
        a = jnp.where(finite, self.alpha, 3.0)
        return jnp.where(finite, jnp.square(self.scale / (a - 1.0)) * a / (a - 2.0), jnp.inf)

    def _entropy(self):
        return jnp.log(self.scale / self.alpha) + 1.0 / self.alpha + 1.0


class GeneralizedPareto(Distribution):
    """Generalized Pareto distribution with ``loc``, ``scale`` and ``concentration`` ξ.

    With ``z = (x - loc) / scale``: ``p(x) = (1 + ξ z)^(-1/ξ - 1) / scale`` (and
    ``exp(-z) / scale`` at ξ = 0), supported on ``x >= loc`` for ξ >= 0 and on
    ``loc <= x <= loc - scale / ξ`` for ξ < 0. Conventions and argument names follow
    ``torch.distributions.GeneralizedPareto`` (ξ is scipy's ``genpareto`` shape ``c``).
    Parameters broadcast to ``batch_shape``.

    Everything is written through the cumulative hazard ``L = log1p(ξ z) / ξ`` and
    ``expm1(ξ L) / ξ``, evaluated by Taylor series near ξ z = 0, so values and gradients
    (including w.r.t. ξ) are exact through ξ = 0. Diverging moments are ``inf``:
    ``mean`` for ξ >= 1, ``variance`` for ξ >= 1/2 (torch returns nan there). The mode is
    ``loc``, except for ξ < -1, where the density grows to infinity at the upper end
    (torch returns ``loc`` for every ξ).

    Example:
        >>> d = jdist.GeneralizedPareto(loc=0.0, scale=1.0, concentration=jnp.array([-0.5, 0.3]))
        >>> x = d.rsample(jax.random.key(0), (3,))   # (3, 2)
        >>> d.log_survival_function(x).shape
        (3, 2)
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, *, validate_args: bool = False) -> None:
        super().__init__(
            {"loc": loc, "scale": scale, "concentration": concentration},
            validate_args=validate_args,
        )

    def _upper_z(self):
        """Standardized upper end of the support: ``-1/ξ`` for ξ < 0, else ``inf``."""
        xi = self.concentration
        neg = xi < 0
        return jnp.where(neg, -1.0 / jnp.where(neg, xi, -1.0), jnp.inf)

    def _upper(self):
        """Upper end of the support, ``loc - scale/ξ`` for ξ < 0 (else ``inf``, with no
        ``scale · inf`` in the chain rule)."""
        neg = self.concentration < 0
        finite_end = self.loc + self.scale * jnp.where(neg, self._upper_z(), 0.0)
        return jnp.where(neg, finite_end, jnp.inf)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.loc, self._upper())

    def _z_parts(self, value):
        """``(z, above)``: ``z`` clamped into ``[0, upper)`` (0 where ``above``), and
        ``above`` marking values at or past the upper end of the support."""
        z = standardize(value, self.loc, self.scale)
        z = jnp.where(z > 0, z, 0.0)
        above = z >= self._upper_z()
        return jnp.where(above, 0.0, z), above

    def _hazard(self, value):
        """Cumulative hazard ``L = -log P(X > x) = log1p(ξ z) / ξ``."""
        z, above = self._z_parts(value)
        y = self.concentration * z
        end = above | (y <= -1)  # ξ z rounded onto the end of the support
        return jnp.where(end, jnp.inf, z * _log1p_rel(jnp.where(end, 0.0, y)))

    def _rsample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self._icdf(u)

    def _log_prob(self, value):
        xi = self.concentration
        z, above = self._z_parts(value)
        y = xi * z
        above = above | (y <= -1)  # ξ z rounded onto the end of the support
        # log density = -log σ - (1 + 1/ξ) log1p(ξ z) = -log σ - (1 + ξ) z log1p(y)/y.
        small = jnp.abs(y) < _SERIES_CUTOFF
        big = ~small & ~above
        xi_big = jnp.where(big, xi, 1.0)
        y_big = jnp.where(big, y, 1.0)
        expo = jnp.where(
            small,
            (1.0 + xi) * z * _log1p_rel(jnp.where(small, y, 0.0)),
            (1.0 + 1.0 / xi_big) * jnp.log1p(y_big),
        )
        # At the upper end (ξ < 0): density 0 for ξ > -1, 1/σ for ξ = -1, inf for ξ < -1.
        at_end = jnp.where(xi > -1, jnp.inf, jnp.where(xi < -1, -jnp.inf, 0.0))
        return -jnp.log(self.scale) - jnp.where(above, at_end, expo)

    def _cdf(self, value):
        return -jnp.expm1(-self._hazard(value))

    def _log_cdf(self, value):
        return log1mexp(self._hazard(value))

    def _survival_function(self, value):
        return jnp.exp(-self._hazard(value))

    def _log_survival_function(self, value):
        return -self._hazard(value)

    def _icdf(self, value):
        def interior(p):
            # x = loc + σ expm1(ξ L) / ξ with L = -log1p(-p).
            hazard = -jnp.log1p(-p)
            return self.loc + self.scale * hazard * _expm1_rel(self.concentration * hazard)

        return quantile_with_ends(value, interior, self.loc, self._upper())

    def _mean(self):
        xi = self.concentration
        finite = xi < 1
        safe = jnp.where(finite, xi, 0.0)
        return jnp.where(finite, self.loc + self.scale / (1.0 - safe), jnp.inf)

    def _mode(self):
        # The density decreases from loc for ξ > -1; it is flat for ξ = -1 (loc is one of
        # the modes) and grows to infinity at the upper end for ξ < -1.
        return jnp.where(self.concentration < -1, self._upper(), self.loc)

    def _variance(self):
        xi = self.concentration
        finite = xi < 0.5
        safe = jnp.where(finite, xi, 0.0)
        var = jnp.square(self.scale / (1.0 - safe)) / (1.0 - 2.0 * safe)
        return jnp.where(finite, var, jnp.inf)

    def _entropy(self):
        return jnp.log(self.scale) + self.concentration + 1.0
