"""Count families (Binomial, Geometric, NegativeBinomial, Poisson) for the shared contract
suite, each parameterization separately (batch_shape (2, 3))."""

from __future__ import annotations

import numpy as np

import jdist
from tests.families import Family, arr

_P = [[0.1, 0.5, 0.9], [0.3, 0.7, 0.01]]
_LOGITS = [[-2.0, 0.0, 3.0], [0.5, -1.0, 1.5]]
_R = [[0.5, 1.0, 4.0], [10.0, 2.5, 0.1]]
_RATE = [[0.5, 1.0, 4.0], [10.0, 2.5, 30.0]]

FAMILIES = [
    # One total_count for all elements (broadcast), so enumerate_support is available.
    Family(
        "Binomial(probs)",
        lambda t, **kw: jdist.Binomial(arr([[10.0], [10.0]], t), probs=arr(_P, t), **kw),
    ),
    Family(
        "Binomial(logits)",
        lambda t, **kw: jdist.Binomial(arr(np.full((2, 3), 6.0), t), logits=arr(_LOGITS, t), **kw),
    ),
    Family("Geometric(probs)", lambda t, **kw: jdist.Geometric(probs=arr(_P, t), **kw)),
    Family("Geometric(logits)", lambda t, **kw: jdist.Geometric(logits=arr(_LOGITS, t), **kw)),
    Family(
        "NegativeBinomial(probs)",
        lambda t, **kw: jdist.NegativeBinomial(arr(_R, t), probs=arr(_P, t), **kw),
    ),
    Family(
        "NegativeBinomial(logits)",
        lambda t, **kw: jdist.NegativeBinomial(arr(_R, t), logits=arr(_LOGITS, t), **kw),
    ),
    Family("Poisson", lambda t, **kw: jdist.Poisson(arr(_RATE, t), **kw)),
]
