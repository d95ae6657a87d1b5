"""Gamma-based families for the shared contract suite (batch_shape (2, 3))."""

from __future__ import annotations

import jdist
from tests.families import Family, arr

_CONC = [[0.5, 1.0, 2.5], [0.1, 7.0, 30.0]]
_CONC0 = [[2.0, 0.5, 1.0], [3.0, 0.2, 12.0]]
_RATE = [[1.0, 0.5, 2.0], [0.1, 3.0, 10.0]]
_DF = [[0.5, 1.0, 2.5], [4.0, 10.0, 100.0]]
_DF2 = [[3.0, 1.0, 5.0], [0.5, 8.0, 40.0]]
_LOC = [[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]
_SCALE = [[1.0, 0.5, 2.0], [0.1, 1.5, 3.0]]

FAMILIES = [
    Family("Gamma", lambda t, **kw: jdist.Gamma(arr(_CONC, t), arr(_RATE, t), **kw)),
    Family("Chi2", lambda t, **kw: jdist.Chi2(arr(_DF, t), **kw)),
    Family("InverseGamma", lambda t, **kw: jdist.InverseGamma(arr(_CONC, t), arr(_RATE, t), **kw)),
    Family("Beta", lambda t, **kw: jdist.Beta(arr(_CONC, t), arr(_CONC0, t), **kw)),
    Family("Kumaraswamy", lambda t, **kw: jdist.Kumaraswamy(arr(_CONC, t), arr(_CONC0, t), **kw)),
    Family(
        "StudentT",
        lambda t, **kw: jdist.StudentT(arr(_DF, t), arr(_LOC, t), arr(_SCALE, t), **kw),
    ),
    Family("FisherSnedecor", lambda t, **kw: jdist.FisherSnedecor(arr(_DF, t), arr(_DF2, t), **kw)),
]
