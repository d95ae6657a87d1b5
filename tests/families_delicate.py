"""VonMises, TruncatedNormal and ContinuousBernoulli for the shared contract suite
(batch_shape (2, 3))."""

from __future__ import annotations

import numpy as np

import jdist
from tests.families import Family, arr

_LOC = [[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]
_SCALE = [[1.0, 0.5, 2.0], [0.1, 1.5, 3.0]]
_KAPPA = [[0.5, 2.0, 10.0], [1e-3, 50.0, 1e3]]
# Windows in standard units of loc/scale: ordinary, one-sided, upper and lower tail. (The
# contract's optax test takes SGD steps on the bounds of the window, so windows much narrower
# or deeper in the tail, where the step moves a bound past the sample, are tested elsewhere.)
_LOW = [[-1.0, -np.inf, 3.0], [-2.0, -3.0, -6.0]]
_HIGH = [[2.0, 0.5, 4.0], [2.0, 50.0, -5.0]]
_P = [[0.1, 0.5, 0.9], [0.3, 0.7, 0.01]]


def _truncated_normal(t, **kw):
    loc, scale = np.asarray(_LOC), np.asarray(_SCALE)
    return jdist.TruncatedNormal(
        arr(loc, t), arr(scale, t), arr(loc + scale * _LOW, t), arr(loc + scale * _HIGH, t), **kw
    )


FAMILIES = [
    Family("VonMises", lambda t, **kw: jdist.VonMises(arr(_LOC, t), arr(_KAPPA, t), **kw)),
    Family("TruncatedNormal", _truncated_normal),
    Family(
        "ContinuousBernoulli(probs)",
        lambda t, **kw: jdist.ContinuousBernoulli(probs=arr(_P, t), **kw),
    ),
    Family(
        "ContinuousBernoulli(logits)",
        lambda t, **kw: jdist.ContinuousBernoulli(logits=arr(_LOC, t), **kw),
    ),
]
