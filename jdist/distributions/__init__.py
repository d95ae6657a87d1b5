"""Distribution families, one module per family or close family group."""

from jdist.distributions.bernoulli import Bernoulli
from jdist.distributions.beta import Beta, Kumaraswamy
from jdist.distributions.binomial import Binomial
from jdist.distributions.categorical import Categorical, OneHotCategorical
from jdist.distributions.categorical_straight_through import OneHotCategoricalStraightThrough
from jdist.distributions.cauchy import Cauchy, HalfCauchy
from jdist.distributions.continuous_bernoulli import ContinuousBernoulli
from jdist.distributions.deterministic import Deterministic
from jdist.distributions.dirichlet import Dirichlet
from jdist.distributions.exponential import Exponential, Laplace
from jdist.distributions.gamma import Chi2, Gamma, InverseGamma
from jdist.distributions.geometric import Geometric
from jdist.distributions.gumbel import Gumbel, Logistic
from jdist.distributions.independent import Independent
from jdist.distributions.lkj_cholesky import LKJCholesky
from jdist.distributions.logistic_normal import LogisticNormal
from jdist.distributions.low_rank_multivariate_normal import LowRankMultivariateNormal
from jdist.distributions.mixture import Mixture, MixtureSameFamily
from jdist.distributions.multinomial import Multinomial
from jdist.distributions.multivariate_normal import MultivariateNormal
from jdist.distributions.negative_binomial import NegativeBinomial
from jdist.distributions.normal import Normal
from jdist.distributions.normal_derived import HalfNormal, LogNormal
from jdist.distributions.pareto import GeneralizedPareto, Pareto
from jdist.distributions.poisson import Poisson
from jdist.distributions.policies import EpsilonGreedy, Greedy
from jdist.distributions.relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from jdist.distributions.student_t import FisherSnedecor, StudentT
from jdist.distributions.transformed_distribution import TransformedDistribution
from jdist.distributions.truncated_normal import TruncatedNormal
from jdist.distributions.uniform import Uniform
from jdist.distributions.von_mises import VonMises
from jdist.distributions.weibull import Weibull
from jdist.distributions.wishart import Wishart

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ContinuousBernoulli",
    "Deterministic",
    "Dirichlet",
    "EpsilonGreedy",
    "Exponential",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Greedy",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "Logistic",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "Mixture",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "StudentT",
    "TransformedDistribution",
    "TruncatedNormal",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
]
