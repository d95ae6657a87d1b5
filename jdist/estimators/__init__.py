"""Monte Carlo gradient estimators as surrogate losses: ``jax.grad`` of each is the estimate.

Pathwise (reparameterization) gradients need no surrogate: differentiate through
``Distribution.rsample``.
"""

from jdist.estimators.baselines import (
    MovingAverageBaseline,
    MovingAverageState,
    leave_one_out_baseline,
)
from jdist.estimators.score_function import reinforce_loss

__all__ = [
    "MovingAverageBaseline",
    "MovingAverageState",
    "leave_one_out_baseline",
    "reinforce_loss",
]
