"""jdist: probability distributions and Monte Carlo gradient estimators for JAX.

Example:
    >>> import jax, jdist
    >>> d = jdist.Normal(loc=0.0, scale=1.0)
    >>> x = d.sample(jax.random.key(0), (5,))
    >>> d.log_prob(x).shape
    (5,)
"""

from jdist import constraints, estimators
from jdist.distribution import Distribution
from jdist.distributions import (
    Bernoulli,
    Categorical,
    Independent,
    Normal,
    OneHotCategorical,
    Uniform,
)

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Independent",
    "Normal",
    "OneHotCategorical",
    "Uniform",
    "constraints",
    "estimators",
]
