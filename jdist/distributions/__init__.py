"""Distribution families, one module per family or close family group."""

from jdist.distributions.bernoulli import Bernoulli
from jdist.distributions.categorical import Categorical, OneHotCategorical
from jdist.distributions.independent import Independent
from jdist.distributions.normal import Normal
from jdist.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Independent", "Normal", "OneHotCategorical", "Uniform"]
