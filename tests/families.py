"""Registry of families for the shared contract suite (tests/test_contract.py).

Each entry builds a distribution with ``batch_shape == (2, 3)`` from float arrays of
the requested dtype (``make(dtype, validate_args=...)``). Adding a family to jdist means
adding one entry here or to a ``tests/families_<group>.py`` module defining ``FAMILIES``
(collected below).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

import jdist


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    make: Callable[..., jdist.Distribution]  # make(dtype, validate_args=...)

    def __repr__(self) -> str:
        return self.name


def arr(x, dtype):
    """``x`` as a JAX array of ``dtype`` (float64 numpy values rounded to it)."""
    return jnp.asarray(np.asarray(x, dtype=np.float64).astype(dtype))


_LOC = [[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]
_SCALE = [[1.0, 0.5, 2.0], [0.1, 1.5, 3.0]]
_P = [[0.1, 0.5, 0.9], [0.3, 0.7, 0.01]]
_LOGITS3 = np.log(np.array([[[0.2, 0.3, 0.5]] * 3, [[0.6, 0.3, 0.1]] * 3]))

FAMILIES = [
    Family("Normal", lambda t, **kw: jdist.Normal(arr(_LOC, t), arr(_SCALE, t), **kw)),
    Family(
        "Uniform",
        lambda t, **kw: jdist.Uniform(arr(_LOC, t), arr(_LOC, t) + arr(_SCALE, t), **kw),
    ),
    Family("Bernoulli(probs)", lambda t, **kw: jdist.Bernoulli(probs=arr(_P, t), **kw)),
    Family("Bernoulli(logits)", lambda t, **kw: jdist.Bernoulli(logits=arr(_LOC, t), **kw)),
    Family("Categorical(logits)", lambda t, **kw: jdist.Categorical(logits=arr(_LOGITS3, t), **kw)),
    Family(
        "Categorical(probs)",
        lambda t, **kw: jdist.Categorical(probs=arr(np.exp(_LOGITS3), t), **kw),
    ),
    Family(
        "OneHotCategorical",
        lambda t, **kw: jdist.OneHotCategorical(logits=arr(_LOGITS3, t), **kw),
    ),
    Family(
        "Independent(Normal)",
        lambda t, **kw: jdist.Independent(
            jdist.Normal(arr(np.zeros((2, 3, 4)), t), arr(np.ones((2, 3, 4)), t), **kw), 1, **kw
        ),
    ),
]


def _collect_group_modules() -> list[Family]:
    import importlib
    import pathlib

    found = []
    for path in sorted(pathlib.Path(__file__).parent.glob("families_*.py")):
        found += importlib.import_module(f"tests.{path.stem}").FAMILIES
    return found


FAMILIES += _collect_group_modules()
