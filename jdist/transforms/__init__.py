"""Transforms between constrained and unconstrained spaces (``torch.distributions.transforms``
names and semantics), as immutable pytrees.

Every transform has ``t(x)``/``t.forward(x)``, ``t.inverse(y)``, ``t.inv``,
``t.log_abs_det_jacobian(x, y)``, ``t.forward_and_log_det(x)``, ``t.inverse_and_log_det(y)``,
``t.domain``/``t.codomain`` (``jdist.constraints``, with ``event_dim``), ``t.bijective``
and ``t.forward_shape``/``t.inverse_shape``. Numeric parameters (``loc``, ``scale``,
``exponent``) are pytree leaves, so transforms go through ``jit``, ``vmap`` and ``grad``.

Example:
    >>> from jdist import transforms as T
    >>> t = T.ComposeTransform([T.TanhTransform(), T.AffineTransform(0.0, 2.0)])
    >>> y, log_det = t.forward_and_log_det(jnp.array([0.3, 25.0]))   # finite at x = 25
"""

from jdist.transforms._base import Transform
from jdist.transforms.cholesky import (
    CorrCholeskyTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
)
from jdist.transforms.compose import (
    ComposeTransform,
    IndependentTransform,
    ReshapeTransform,
    identity_transform,
)
from jdist.transforms.elementwise import (
    AbsTransform,
    AffineTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftplusTransform,
    TanhTransform,
)
from jdist.transforms.simplex import SoftmaxTransform, StickBreakingTransform
from jdist.transforms.structural import CatTransform, StackTransform

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]
