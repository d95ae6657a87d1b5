"""Relaxed, structural and RL-policy families for the shared contract suite (batch_shape
(2, 3)).

Every numeric leaf (temperature, epsilon) is given the full batch shape: the contract's
``vmap`` tests stack each leaf on a new leading axis, which only lines up with the batch
when every leaf carries the batch dims. Scalar temperatures and epsilons are tested in
tests/test_structural_families.py.

The relaxed families, LogisticNormal and the mixtures have no closed-form entropy (and the
first three no closed-form mean or variance); those members raise ``NotImplementedError``
(DESIGN §2), which the contract suite accepts.
``Greedy``'s preferences contain ties so that its draws depend on the key (the contract's
determinism test compares draws at two keys).
"""

from __future__ import annotations

import numpy as np

import jdist
from tests.families import Family, arr

_LOGITS3 = np.log(np.array([[[0.2, 0.3, 0.5]] * 3, [[0.6, 0.3, 0.1]] * 3]))
_LOGITS = [[-2.0, 0.0, 3.0], [0.5, -1.0, 1.5]]
_TEMPERATURE = [[0.5, 1.0, 2.0], [0.3, 0.7, 1.5]]
_PREFS = [
    [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [3.0, -1.0, 3.0]],
    [[5.0, 1.0, 5.0], [-1.0, 4.0, 4.0], [2.0, 2.0, 1.0]],
]
_EPS = [[0.1, 0.0, 0.5], [1.0, 0.05, 0.3]]

# Mixtures of k = 4 components, batch (2, 3).
_rng = np.random.default_rng(0)
_MIX_LOGITS = _rng.normal(size=(2, 3, 4))
_COMP_LOC = _rng.normal(size=(2, 3, 4)) * 2.0
_COMP_SCALE = np.exp(_rng.normal(size=(2, 3, 4)) * 0.5)
_COMP_LOC2 = _rng.normal(size=(2, 3, 4, 2))
_RATE = [[0.5, 1.0, 4.0], [2.0, 2.5, 3.0]]


def _mixture_same_family(t, **kw):
    return jdist.MixtureSameFamily(
        jdist.Categorical(logits=arr(_MIX_LOGITS, t), **kw),
        jdist.Normal(arr(_COMP_LOC, t), arr(_COMP_SCALE, t), **kw),
        **kw,
    )


def _mixture_same_family_mvn(t, **kw):
    return jdist.MixtureSameFamily(
        jdist.Categorical(logits=arr(_MIX_LOGITS, t), **kw),
        jdist.Independent(jdist.Normal(arr(_COMP_LOC2, t), arr(np.ones((2, 3, 4, 2)), t)), 1),
        **kw,
    )


def _mixture(t, **kw):
    return jdist.Mixture(
        jdist.Categorical(logits=arr(_MIX_LOGITS[..., :3], t), **kw),
        [
            jdist.Normal(arr(_COMP_LOC[..., 0], t), arr(_COMP_SCALE[..., 0], t), **kw),
            jdist.Laplace(arr(_COMP_LOC[..., 1], t), arr(_COMP_SCALE[..., 1], t), **kw),
            jdist.Gamma(arr(_COMP_SCALE[..., 2] + 1.0, t), arr(_RATE, t), **kw),
        ],
        **kw,
    )


FAMILIES = [
    Family(
        "RelaxedBernoulli(logits)",
        lambda t, **kw: jdist.RelaxedBernoulli(arr(_TEMPERATURE, t), logits=arr(_LOGITS, t), **kw),
    ),
    Family(
        "RelaxedBernoulli(probs)",
        lambda t, **kw: jdist.RelaxedBernoulli(
            arr(_TEMPERATURE, t), probs=arr(np.exp(_LOGITS3[..., 0]), t), **kw
        ),
    ),
    Family(
        "RelaxedOneHotCategorical(logits)",
        lambda t, **kw: jdist.RelaxedOneHotCategorical(
            arr(_TEMPERATURE, t), logits=arr(_LOGITS3, t), **kw
        ),
    ),
    Family(
        "RelaxedOneHotCategorical(probs)",
        lambda t, **kw: jdist.RelaxedOneHotCategorical(
            arr(_TEMPERATURE, t), probs=arr(np.exp(_LOGITS3), t), **kw
        ),
    ),
    Family(
        "OneHotCategoricalStraightThrough",
        lambda t, **kw: jdist.OneHotCategoricalStraightThrough(logits=arr(_LOGITS3, t), **kw),
    ),
    Family(
        "LogisticNormal",
        lambda t, **kw: jdist.LogisticNormal(arr(_COMP_LOC, t), arr(_COMP_SCALE, t), **kw),
    ),
    Family("MixtureSameFamily(Normal)", _mixture_same_family),
    Family("MixtureSameFamily(Independent(Normal))", _mixture_same_family_mvn),
    Family("Mixture(Normal,Laplace,Gamma)", _mixture),
    Family("Greedy", lambda t, **kw: jdist.Greedy(arr(_PREFS, t), **kw)),
    Family(
        "EpsilonGreedy", lambda t, **kw: jdist.EpsilonGreedy(arr(_PREFS, t), arr(_EPS, t), **kw)
    ),
]
