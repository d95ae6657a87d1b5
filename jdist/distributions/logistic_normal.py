"""LogisticNormal: a Gaussian pushed onto the simplex by stick breaking."""

from __future__ import annotations

from jdist import constraints
from jdist.distributions.independent import Independent
from jdist.distributions.normal import Normal
from jdist.distributions.transformed_distribution import TransformedDistribution
from jdist.transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """Logistic-normal distribution on the ``K``-simplex (torch's ``LogisticNormal``).

    ``Y = StickBreaking(X)`` with ``X ~ Normal(loc, scale)`` over its last axis of length
    ``K``, so ``Y`` has ``K + 1`` entries (Aitchison & Shen 1980, "Logistic-normal
    distributions"; the stick-breaking parametrization of torch and of the Stan reference
    manual). ``log p(y) = Σ_k log N(x_k; loc_k, scale_k) - log|det J(x)|``, ``x = f⁻¹(y)``.
    A ``TransformedDistribution`` of ``Independent(Normal(loc, scale), 1)`` with
    ``StickBreakingTransform``: ``rsample``, ``sample_and_log_prob``, ``log_prob`` and
    ``expand`` come from there; ``mean``/``mode``/``variance``/``entropy`` have no closed
    form and raise (as in torch).
    Shapes: ``loc``/``scale`` broadcast to ``batch_shape + (K,)`` (a scalar gives ``K = 1``,
    as in torch); ``event_shape == (K + 1,)``.

    Example:
        >>> d = jdist.LogisticNormal(jnp.zeros(3), jnp.ones(3))
        >>> y = d.rsample(jax.random.key(0), (5,))      # (5, 4), rows on the simplex
        >>> d.log_prob(y).shape
        (5,)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex

    def __init__(self, loc, scale, *, validate_args: bool = False) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(
            Independent(base, 1, validate_args=validate_args),
            StickBreakingTransform(),
            validate_args=validate_args,
        )

    @property
    def loc(self):
        """Location of the underlying Normal (shape as given, ``(1,)`` for a scalar)."""
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        """Scale of the underlying Normal (shape as given, ``(1,)`` for a scalar)."""
        return self.base_dist.base_dist.scale

    def _no_closed_form(self, what: str):
        raise NotImplementedError(
            f"LogisticNormal has no closed-form {what} (neither has torch's); estimate it "
            f"from rsample draws"
        )

    def _mean(self):
        self._no_closed_form("mean")

    def _mode(self):
        self._no_closed_form("mode")

    def _variance(self):
        self._no_closed_form("variance")

    def _entropy(self):
        self._no_closed_form("entropy")
