"""Monte Carlo gradient estimators as surrogate losses: ``jax.grad`` of each is the estimate.

Pathwise (reparameterization) gradients need no surrogate: differentiate through
``Distribution.rsample``.
"""

from jdist.estimators.baselines import (
    MovingAverageBaseline,
    MovingAverageState,
    leave_one_out_baseline,
)
from jdist.estimators.control_variates import (
    control_delta_method,
    control_variates_jacobians,
    estimate_control_variate_coefficients,
    moving_avg_baseline,
)
from jdist.estimators.dice import dice_objective, loaded_dice_objective, magic_box
from jdist.estimators.discrete import (
    arm,
    disarm,
    rebar,
    rebar_variance_loss,
    relax,
    relax_variance_loss,
)
from jdist.estimators.jacobians import (
    measure_valued_jacobians,
    pathwise_jacobians,
    score_function_jacobians,
)
from jdist.estimators.relaxations import gumbel_softmax, relaxed_bernoulli, straight_through
from jdist.estimators.score_function import reinforce_loss

__all__ = [
    "MovingAverageBaseline",
    "MovingAverageState",
    "arm",
    "control_delta_method",
    "control_variates_jacobians",
    "dice_objective",
    "disarm",
    "estimate_control_variate_coefficients",
    "gumbel_softmax",
    "leave_one_out_baseline",
    "loaded_dice_objective",
    "magic_box",
    "measure_valued_jacobians",
    "moving_avg_baseline",
    "pathwise_jacobians",
    "rebar",
    "rebar_variance_loss",
    "reinforce_loss",
    "relax",
    "relax_variance_loss",
    "relaxed_bernoulli",
    "score_function_jacobians",
    "straight_through",
]
