"""Counting what a jitted function does: equations of its jaxpr (all nested sub-jaxprs
included) and ops of the optimised HLO, to compare jdist with the hand-written floor.

Example:
    >>> import jax.numpy as jnp
    >>> count_eqns(lambda x: jnp.sin(x) + 1.0, jnp.ones(3))
    2
"""

from __future__ import annotations

import re

import jax
import jax.extend.core


def _sub_jaxprs(value):
    if isinstance(value, jax.extend.core.ClosedJaxpr):
        yield value.jaxpr
    elif isinstance(value, jax.extend.core.Jaxpr):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _sub_jaxprs(v)


def _count(jaxpr) -> int:
    n = 0
    for eqn in jaxpr.eqns:
        subs = [j for v in eqn.params.values() for j in _sub_jaxprs(v)]
        # A call-like equation (pjit, custom_jvp_call, ...) counts by its body only.
        n += sum(_count(j) for j in subs) if subs else 1
    return n


def count_eqns(fn, *args) -> int:
    """Primitive equations executed by ``fn(*args)`` (call wrappers flattened)."""
    return _count(jax.make_jaxpr(fn)(*args).jaxpr)


_HLO_OP = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+ = \S+ (\w[\w\-]*)\(", re.M)


def count_hlo_ops(fn, *args) -> int:
    """Instructions in the optimised HLO of ``jax.jit(fn)`` (fused computations included,
    parameters and tuples excluded)."""
    text = jax.jit(fn).lower(*args).compile().as_text()
    ops = _HLO_OP.findall(text)
    return sum(1 for op in ops if op not in ("parameter", "tuple", "get-tuple-element"))
