"""KL divergences: ``kl_divergence(p, q)`` from a registry of analytic pairs
(``register_kl``), and ``kl_divergence_mc``, the Monte Carlo estimate.

The analytic pairs live in the modules of this package, grouped by the families they
relate; importing the package registers them all.
"""

from jdist.kl import discrete, multivariate, univariate  # noqa: F401  (registration)
from jdist.kl._registry import kl_divergence, register_kl
from jdist.kl.monte_carlo import kl_divergence_mc

__all__ = ["kl_divergence", "kl_divergence_mc", "register_kl"]
