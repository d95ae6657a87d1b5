"""TransformedDistribution families for the shared contract suite (batch_shape (2, 3)).

A LogNormal-like ``Normal + Exp``, a squashed Gaussian ``Normal + Tanh`` (RL policies) and an
affine ``Normal + Affine``. The first two have no closed-form mean (and the Tanh one no
closed-form entropy); those members raise ``NotImplementedError`` (DESIGN §2), which the
contract suite accepts.
"""

from __future__ import annotations

import jdist
from jdist import transforms as T
from tests.families import Family, arr

_LOC = [[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]
_SCALE = [[1.0, 0.5, 2.0], [0.1, 1.5, 3.0]]
# Squashed Gaussian: |loc| + 3 scale stays below 3, so tanh never rounds to ±1 in float32
# and log_prob(sample) matches sample_and_log_prob to float32 precision.
_TANH_LOC = [[0.0, 0.5, -0.5], [1.0, -1.0, 0.2]]
_TANH_SCALE = [[0.5, 0.3, 0.6], [0.4, 0.5, 0.2]]


def _normal(t, loc, scale, **kw):
    return jdist.Normal(arr(loc, t), arr(scale, t), **kw)


FAMILIES = [
    Family(
        "TransformedDistribution(Normal,Affine)",
        lambda t, **kw: jdist.TransformedDistribution(
            _normal(t, _LOC, _SCALE, **kw),
            T.AffineTransform(arr(_SCALE, t), -arr(_LOC, t) - 0.5),
            **kw,
        ),
    ),
    Family(
        "TransformedDistribution(Normal,Exp)",
        lambda t, **kw: jdist.TransformedDistribution(
            _normal(t, _LOC, _SCALE, **kw), T.ExpTransform(), **kw
        ),
    ),
    Family(
        "TransformedDistribution(Normal,Tanh)",
        lambda t, **kw: jdist.TransformedDistribution(
            _normal(t, _TANH_LOC, _TANH_SCALE, **kw), [T.TanhTransform()], **kw
        ),
    ),
]
