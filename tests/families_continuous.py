"""Closed-form continuous families for the shared contract suite (batch_shape (2, 3))."""

from __future__ import annotations

import jdist
from tests.families import Family, arr

_LOC = [[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]
_SCALE = [[1.0, 0.5, 2.0], [0.1, 1.5, 3.0]]
_RATE = [[0.5, 1.0, 2.0], [0.1, 3.0, 10.0]]
_ALPHA = [[0.5, 1.5, 3.0], [1.0, 2.5, 6.0]]
_PARETO_SCALE = [[1.0, 2.0, 1.5], [3.0, 1.0, 5.0]]
_WEIBULL_K = [[0.5, 1.0, 2.0], [3.0, 1.5, 0.8]]
_XI_NONNEG = [[0.0, 0.2, 0.5], [1.0, 0.1, 2.0]]
_XI_NEG = [[-0.2, -0.5, -1.0], [-1.5, -0.05, -0.3]]

FAMILIES = [
    Family("Exponential", lambda t, **kw: jdist.Exponential(arr(_RATE, t), **kw)),
    Family("Laplace", lambda t, **kw: jdist.Laplace(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family("Cauchy", lambda t, **kw: jdist.Cauchy(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family("HalfCauchy", lambda t, **kw: jdist.HalfCauchy(arr(_SCALE, t), **kw)),
    Family("HalfNormal", lambda t, **kw: jdist.HalfNormal(arr(_SCALE, t), **kw)),
    Family("LogNormal", lambda t, **kw: jdist.LogNormal(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family("Gumbel", lambda t, **kw: jdist.Gumbel(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family("Logistic", lambda t, **kw: jdist.Logistic(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family("Pareto", lambda t, **kw: jdist.Pareto(arr(_PARETO_SCALE, t), arr(_ALPHA, t), **kw)),
    Family("Weibull", lambda t, **kw: jdist.Weibull(arr(_SCALE, t), arr(_WEIBULL_K, t), **kw)),
    Family(
        "GeneralizedPareto(xi>=0)",
        lambda t, **kw: jdist.GeneralizedPareto(
            arr(_LOC, t), arr(_SCALE, t), arr(_XI_NONNEG, t), **kw
        ),
    ),
    Family(
        "GeneralizedPareto(xi<0)",
        lambda t, **kw: jdist.GeneralizedPareto(
            arr(_LOC, t), arr(_SCALE, t), arr(_XI_NEG, t), **kw
        ),
    ),
    Family("Deterministic", lambda t, **kw: jdist.Deterministic(arr(_LOC, t), **kw)),
]
