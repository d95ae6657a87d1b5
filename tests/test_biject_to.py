"""biject_to / transform_to: every supported constraint maps unconstrained values into itself,
round-trips, and agrees with torch's registry."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.distributions import biject_to as torch_biject_to
from torch.distributions import constraints as TC
from torch.distributions import transform_to as torch_transform_to

import jdist
from jdist import constraints as C
from jdist import transforms as T
from tests.conftest import assert_close, cast_like

RNG = np.random.default_rng(1)
F64 = torch.float64

# (name, jdist constraint, torch constraint or None, unconstrained input shape)
CASES = [
    ("real", C.real, TC.real, (4, 3)),
    ("positive", C.positive, TC.positive, (4, 3)),
    ("nonnegative", C.nonnegative, TC.nonnegative, (4, 3)),
    ("greater_than", C.greater_than(2.5), TC.greater_than(2.5), (4, 3)),
    ("greater_than(array)", C.greater_than(np.array([-1.0, 0.0, 4.0])), None, (4, 3)),
    ("greater_than_eq", C.greater_than_eq(-1.0), TC.greater_than_eq(-1.0), (4, 3)),
    ("less_than", C.less_than(3.0), TC.less_than(3.0), (4, 3)),
    ("interval", C.interval(-2.0, 5.0), TC.interval(-2.0, 5.0), (4, 3)),
    ("interval(array)", C.interval(np.zeros(3), np.array([1.0, 2.0, 3.0])), None, (4, 3)),
    ("half_open_interval", C.half_open_interval(0.0, 2.0), TC.half_open_interval(0.0, 2.0), (4, 3)),
    ("unit_interval", C.unit_interval, TC.unit_interval, (4, 3)),
    ("real_vector", C.real_vector, TC.real_vector, (4, 3)),
    ("independent", C.independent(C.positive, 2), TC.independent(TC.positive, 2), (4, 3)),
    ("simplex", C.simplex, TC.simplex, (4, 3)),
    ("lower_cholesky", C.lower_cholesky, None, (4, 3, 3)),
    ("corr_cholesky", C.corr_cholesky, TC.corr_cholesky, (4, 6)),
    ("positive_definite", C.positive_definite, None, (4, 3, 3)),
    (
        "cat",
        C.cat([C.positive, C.real, C.unit_interval], -1, [2, 1, 1]),
        TC.cat([TC.positive, TC.real, TC.unit_interval], -1, [2, 1, 1]),
        (4, 4),
    ),
    (
        "stack",
        C.stack([C.positive, C.interval(0.0, 3.0)], -1),
        TC.stack([TC.positive, TC.interval(0.0, 3.0)], -1),
        (4, 2),
    ),
]
IDS = [c[0] for c in CASES]
LOWER = {"lower_cholesky", "positive_definite"}  # bijections on the lower triangle
X = {name: np.float32(RNG.normal(size=shape) * 1.5).astype(np.float64) for name, *_, shape in CASES}


@jax.jit
def _apply(t, x):
    y, log_det = t.forward_and_log_det(x)
    return y, log_det, t.inv(y), t.domain.check(x)


def _check_case(registry, c, x, dtype, name):
    t = registry(c)
    y, log_det, x_back, in_domain = _apply(t, jnp.asarray(x, dtype))
    ok = c.check(y)
    assert np.all(ok) and ok.shape == x.shape[: x.ndim - t.domain.event_dim], name
    assert np.all(in_domain)
    assert t.codomain.event_dim == c.event_dim, name
    assert y.dtype == dtype and np.all(np.isfinite(log_det)), name
    if name in LOWER:
        x = np.tril(x)  # the upper triangle of the input is ignored
    assert_close(x_back, x, dtype, rtol_scale=10, what=f"{name} round trip")
    return t, y


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_biject_to(case, dtype):
    name, c, tc, _ = case
    x = cast_like(X[name], dtype)
    t, y = _check_case(jdist.biject_to, c, x, dtype, name)
    assert t.bijective, name
    if tc is not None:
        ref = torch_biject_to(tc)(torch.tensor(x, dtype=F64)).numpy()
        assert_close(y, ref, dtype, what=f"{name} vs torch")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_transform_to(case, dtype):
    name, c, tc, _ = case
    x = cast_like(X[name], dtype)
    if name == "simplex":  # softmax: onto the simplex, but not injective
        t = jdist.transform_to(c)
        assert isinstance(t, T.SoftmaxTransform) and not t.bijective
        y = t(jnp.asarray(x, dtype))
        assert np.all(c.check(y))
        assert_close(t(t.inverse(y)), y, dtype)
    else:
        _, y = _check_case(jdist.transform_to, c, x, dtype, name)
    if tc is not None:
        ref = torch_transform_to(tc)(torch.tensor(x, dtype=F64)).numpy()
        assert_close(y, ref, dtype, what=f"{name} vs torch")


def test_matrix_transforms_against_torch_transform_to(dtype):
    x = cast_like(X["positive_definite"], dtype)
    for c, tc in [
        (C.lower_cholesky, TC.lower_cholesky),
        (C.positive_definite, TC.positive_definite),
        (C.positive_semidefinite, TC.positive_semidefinite),
    ]:
        y = jdist.transform_to(c)(jnp.asarray(x, dtype))
        ref = torch_transform_to(tc)(torch.tensor(x, dtype=F64)).numpy()
        assert_close(y, ref, dtype, what=repr(c))
        assert np.all(c.check(y))


def test_registry_choices_and_errors():
    assert isinstance(jdist.biject_to(C.positive), T.ExpTransform)
    assert isinstance(jdist.biject_to(C.unit_interval), T.SigmoidTransform)
    assert isinstance(jdist.biject_to(C.simplex), T.StickBreakingTransform)
    gt = jdist.biject_to(C.greater_than(2.0))
    assert isinstance(gt, T.ComposeTransform) and len(gt.parts) == 2
    assert isinstance(jdist.biject_to(C.real_vector), T.IndependentTransform)
    for c in (C.boolean, C.nonnegative_integer, C.integer_interval(0, 3), C.one_hot, C.dependent):
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            jdist.biject_to(c)
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        jdist.biject_to(C.positive_semidefinite)  # as torch: only transform_to
    with pytest.raises(TypeError, match="Constraint"):
        jdist.biject_to.register("positive", lambda c: T.ExpTransform())


def test_register_decorator_on_a_private_registry():
    registry = jdist.constraint_registry.ConstraintRegistry()

    @registry.register(C.positive)
    def _softplus(constraint):
        return T.SoftplusTransform()

    assert isinstance(registry(C.greater_than(0.0)), T.SoftplusTransform)
    registry.register(type(C.real), lambda c: T.identity_transform)
    assert registry(C.real) is T.identity_transform
    with pytest.raises(NotImplementedError):
        registry(C.simplex)


def test_unconstrained_optimisation_with_optax():
    import optax

    # Maximise the Gamma likelihood over an unconstrained parameter: grad flows through
    # biject_to and the optimum is the sample's moment-matched shape.
    x = jnp.asarray(np.random.default_rng(2).gamma(3.0, 1.0, size=2000), jnp.float32)
    t = jdist.biject_to(jdist.Gamma.arg_constraints["concentration"])
    u = t.inv(jnp.asarray(1.0))
    opt = optax.adam(0.05)

    @jax.jit
    def step(u, state):
        loss, g = jax.value_and_grad(lambda v: -jnp.mean(jdist.Gamma(t(v), 1.0).log_prob(x)))(u)
        updates, state = opt.update(g, state)
        return optax.apply_updates(u, updates), state, loss

    state = opt.init(u)
    for _ in range(300):
        u, state, _ = step(u, state)
    # MLE of a Gamma(a, 1) shape solves digamma(a) = mean(log x).
    from scipy import special

    assert abs(special.digamma(float(t(u))) - float(jnp.mean(jnp.log(x)))) < 1e-3
