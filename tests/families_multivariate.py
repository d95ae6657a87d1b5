"""Multivariate families for the shared contract suite (batch_shape (2, 3), event dim 3).

Every leaf carries the full batch shape: the suite stacks leaves along a new axis 0 for
``vmap`` (broadcasting between parameters is tested in tests/test_multivariate.py)."""

from __future__ import annotations

import numpy as np

import jdist
from tests.families import Family, arr

_RNG = np.random.default_rng(1234)
_LOC = _RNG.normal(size=(2, 3, 3))
_A = _RNG.normal(size=(2, 3, 3, 3))
_COV = _A @ np.swapaxes(_A, -1, -2) + 0.5 * np.eye(3)  # (2, 3) batch of 3 × 3 covariances
_PREC = np.linalg.inv(_COV)
_TRIL = np.linalg.cholesky(_COV)
_CONC = [[[0.5, 1.0, 2.0], [3.0, 0.3, 7.0], [1.0, 1.0, 1.0]], [[10.0, 20.0, 5.0]] * 3]
_LOGITS = np.log(np.array([[[0.2, 0.3, 0.5]] * 3, [[0.6, 0.3, 0.1]] * 3]))
_FACTOR = _RNG.normal(size=(2, 3, 3, 2))
_DIAG = _RNG.uniform(0.5, 2.0, size=(2, 3, 3))
_DF = [[3.5, 4.5, 10.0], [3.0, 6.0, 30.0]]  # df >= p: see the Wishart docstring
_ETA = [[0.5, 1.0, 2.0], [5.0, 0.8, 30.0]]

FAMILIES = [
    Family("Dirichlet", lambda t, **kw: jdist.Dirichlet(arr(_CONC, t), **kw)),
    Family(
        "Multinomial(probs)", lambda t, **kw: jdist.Multinomial(7, arr(np.exp(_LOGITS), t), **kw)
    ),
    Family(
        "Multinomial(logits)", lambda t, **kw: jdist.Multinomial(5, logits=arr(_LOGITS, t), **kw)
    ),
    Family(
        "MultivariateNormal(covariance_matrix)",
        lambda t, **kw: jdist.MultivariateNormal(arr(_LOC, t), arr(_COV, t), **kw),
    ),
    Family(
        "MultivariateNormal(precision_matrix)",
        lambda t, **kw: jdist.MultivariateNormal(
            arr(_LOC, t), precision_matrix=arr(_PREC, t), **kw
        ),
    ),
    Family(
        "MultivariateNormal(scale_tril)",
        lambda t, **kw: jdist.MultivariateNormal(arr(_LOC, t), scale_tril=arr(_TRIL, t), **kw),
    ),
    Family(
        "LowRankMultivariateNormal",
        lambda t, **kw: jdist.LowRankMultivariateNormal(
            arr(_LOC, t), arr(_FACTOR, t), arr(_DIAG, t), **kw
        ),
    ),
    Family(
        "Wishart(covariance_matrix)",
        lambda t, **kw: jdist.Wishart(arr(_DF, t), arr(_COV, t), **kw),
    ),
    Family(
        "Wishart(precision_matrix)",
        lambda t, **kw: jdist.Wishart(arr(_DF, t), precision_matrix=arr(_PREC, t), **kw),
    ),
    Family(
        "Wishart(scale_tril)",
        lambda t, **kw: jdist.Wishart(arr(_DF, t), scale_tril=arr(_TRIL, t), **kw),
    ),
    Family("LKJCholesky", lambda t, **kw: jdist.LKJCholesky(3, arr(_ETA, t), **kw)),
]
