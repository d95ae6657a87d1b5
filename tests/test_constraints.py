"""Constraints: each accepts what it should and rejects what it should."""

import jax.numpy as jnp
import numpy as np
import pytest

from jdist import constraints as C

SPD = np.array([[2.0, 0.5], [0.5, 1.0]])
CORR_L = np.linalg.cholesky(np.array([[1.0, 0.3], [0.3, 1.0]]))

CASES = [
    (C.real, [0.0, -np.inf, 1e30], [np.nan]),
    (C.positive, [1e-30, 5.0], [0.0, -1.0]),
    (C.nonnegative, [0.0, 5.0], [-1e-30]),
    (C.unit_interval, [0.0, 0.5, 1.0], [-0.1, 1.1]),
    (C.interval(-1.0, 2.0), [-1.0, 2.0], [2.5]),
    (C.half_open_interval(0.0, 1.0), [0.0, 0.99], [1.0]),
    (C.greater_than(3.0), [3.5], [3.0]),
    (C.greater_than_eq(3.0), [3.0], [2.9]),
    (C.less_than(3.0), [2.9], [3.0]),
    (C.boolean, [0.0, 1.0], [0.5, 2.0]),
    (C.integer_interval(0, 3), [0, 3, 2.0], [4, -1, 1.5]),
    (C.nonnegative_integer, [0, 7], [-1, 0.5]),
    (C.positive_integer, [1, 7], [0]),
    (C.simplex, [[0.2, 0.8]], [[0.5, 0.6], [-0.1, 1.1]]),
    (C.one_hot, [[0, 1, 0]], [[1, 1, 0], [0, 0, 0]]),
    (C.multinomial(3), [[1, 2], [0, 0]], [[2, 2], [-1, 1]]),
    (C.symmetric, [SPD], [[[1.0, 2.0], [0.0, 1.0]]]),
    (C.positive_definite, [SPD], [-SPD, [[1.0, 2.0], [2.0, 1.0]]]),
    (C.positive_semidefinite, [SPD, np.zeros((2, 2))], [-SPD]),
    (C.lower_triangular, [np.tril(SPD)], [SPD]),
    (C.lower_cholesky, [np.linalg.cholesky(SPD)], [-np.linalg.cholesky(SPD), SPD]),
    (C.corr_cholesky, [CORR_L], [np.linalg.cholesky(SPD)]),
    (C.real_vector, [[0.0, 1.0]], [[0.0, np.nan]]),
    (C.independent(C.positive, 1), [[1.0, 2.0]], [[1.0, -2.0]]),
]


@pytest.mark.parametrize("constraint, good, bad", CASES, ids=lambda c: repr(c)[:30])
def test_constraint_accepts_and_rejects(constraint, good, bad):
    for v in good:
        assert np.all(constraint.check(jnp.asarray(v))), (constraint, v)
    for v in bad:
        assert not np.any(constraint.check(jnp.asarray(v))), (constraint, v)


def test_cat_and_stack():
    c = C.cat([C.positive, C.real], axis=0, lengths=[1, 2])
    np.testing.assert_array_equal(c.check(jnp.array([-1.0, -2.0, -3.0])), [False, True, True])
    s = C.stack([C.positive, C.real], axis=0)
    np.testing.assert_array_equal(s.check(jnp.array([-1.0, -2.0])), [False, True])


def test_dependent():
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="dependent"):
        C.dependent.check(1.0)
