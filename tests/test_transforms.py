"""Transforms: log-dets against jax.jacfwd + slogdet (float64 reference), round trips,
values against torch.distributions.transforms, shapes and event dims, pytree behaviour,
and the numerics of TanhTransform far out."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.distributions import transforms as TT

import jdist
from jdist import constraints
from jdist import transforms as T
from tests.conftest import assert_close, cast_like

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
F64 = torch.float64
RNG = np.random.default_rng(0)


def _tril(n, k=0):
    return np.tril_indices(n, k)


def _vec_to_tril(v, n, k=0):
    rows, cols = _tril(n, k)
    return jnp.zeros(v.shape[:-1] + (n, n), v.dtype).at[..., rows, cols].set(v)


def _tril_to_vec(m, k=0):
    rows, cols = _tril(m.shape[-1], k)
    return m[..., rows, cols]


# Free coordinates in which each transform is a map between spaces of equal dimension:
# (embed: coordinates -> x, read: y -> coordinates, coordinates of a given x).
_FLAT = (lambda u: u, lambda y: y.reshape(-1), lambda x: x.reshape(-1))
_SIMPLEX_OUT = (lambda u: u, lambda y: y[:-1], lambda x: x)
_SIMPLEX_IN = (
    lambda u: jnp.concatenate([u, 1.0 - jnp.sum(u, keepdims=True)]),
    lambda y: y,
    lambda x: x[:-1],
)
_TRIL3 = (lambda u: _vec_to_tril(u, 3), lambda y: _tril_to_vec(y), lambda x: _tril_to_vec(x))
_CORR4 = (lambda u: u, lambda y: _tril_to_vec(y, -1), lambda x: x)


def _normal(*shape):
    return RNG.uniform(-2.0, 2.0, shape)


def _positive(*shape):
    return np.exp(_normal(*shape))


def _simplex(k):
    p = np.exp(_normal(k))
    return p / p.sum()


# (name, transform factory, x sampler, coordinates, torch factory or None)
CASES = [
    ("Exp", T.ExpTransform, lambda: _normal(5), _FLAT, TT.ExpTransform),
    (
        "Affine",
        lambda: T.AffineTransform(0.5, np.array([2.0, -3.0, 0.1, 1.0, -0.5])),
        lambda: _normal(5),
        _FLAT,
        lambda: TT.AffineTransform(0.5, torch.tensor([2.0, -3.0, 0.1, 1.0, -0.5], dtype=F64)),
    ),
    (
        "Affine(event_dim=1)",
        lambda: T.AffineTransform(jnp.ones(4), -2.0, event_dim=1),
        lambda: _normal(4),
        _FLAT,
        lambda: TT.AffineTransform(torch.ones(4, dtype=F64), -2.0, event_dim=1),
    ),
    ("Sigmoid", T.SigmoidTransform, lambda: _normal(5), _FLAT, TT.SigmoidTransform),
    ("Tanh", T.TanhTransform, lambda: _normal(5), _FLAT, TT.TanhTransform),
    ("Softplus", T.SoftplusTransform, lambda: _normal(5), _FLAT, TT.SoftplusTransform),
    (
        "Power(2.5)",
        lambda: T.PowerTransform(2.5),
        lambda: _positive(5),
        _FLAT,
        lambda: TT.PowerTransform(torch.tensor(2.5, dtype=F64)),
    ),
    (
        "Power(-1.5)",
        lambda: T.PowerTransform(-1.5),
        lambda: _positive(5),
        _FLAT,
        lambda: TT.PowerTransform(torch.tensor(-1.5, dtype=F64)),
    ),
    (
        "CumulativeDistribution(Normal)",
        lambda: T.CumulativeDistributionTransform(jdist.Normal(0.3, 2.0)),
        lambda: _normal(5),
        _FLAT,
        lambda: TT.CumulativeDistributionTransform(
            torch.distributions.Normal(torch.tensor(0.3, dtype=F64), torch.tensor(2.0, dtype=F64))
        ),
    ),
    (
        "StickBreaking",
        T.StickBreakingTransform,
        lambda: _normal(4),
        _SIMPLEX_OUT,
        TT.StickBreakingTransform,
    ),
    (
        "StickBreaking.inv",
        lambda: T.StickBreakingTransform().inv,
        lambda: _simplex(5),
        _SIMPLEX_IN,
        lambda: TT.StickBreakingTransform().inv,
    ),
    ("LowerCholesky", T.LowerCholeskyTransform, lambda: np.tril(_normal(3, 3)), _TRIL3, None),
    ("PositiveDefinite", T.PositiveDefiniteTransform, lambda: np.tril(_normal(3, 3)), _TRIL3, None),
    ("CorrCholesky", T.CorrCholeskyTransform, lambda: _normal(6), _CORR4, TT.CorrCholeskyTransform),
    (
        "Exp.inv",
        lambda: T.ExpTransform().inv,
        lambda: _positive(5),
        _FLAT,
        lambda: TT.ExpTransform().inv,
    ),
    (
        "Tanh.inv",
        lambda: T.TanhTransform().inv,
        lambda: np.tanh(_normal(5)),
        _FLAT,
        lambda: TT.TanhTransform().inv,
    ),
    (
        "Compose(Exp,Affine)",
        lambda: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(2.0, -3.0)]),
        lambda: _normal(5),
        _FLAT,
        lambda: TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(2.0, -3.0)]),
    ),
    (
        "Compose(Tanh,StickBreaking)",
        lambda: T.ComposeTransform([T.TanhTransform(), T.StickBreakingTransform()]),
        lambda: _normal(3),
        _SIMPLEX_OUT,
        lambda: TT.ComposeTransform([TT.TanhTransform(), TT.StickBreakingTransform()]),
    ),
    (
        "Independent(Sigmoid,1)",
        lambda: T.IndependentTransform(T.SigmoidTransform(), 1),
        lambda: _normal(4),
        _FLAT,
        lambda: TT.IndependentTransform(TT.SigmoidTransform(), 1),
    ),
    (
        "Reshape",
        lambda: T.ReshapeTransform((6,), (2, 3)),
        lambda: _normal(6),
        _FLAT,
        lambda: TT.ReshapeTransform((6,), (2, 3)),
    ),
    (
        "Cat",
        lambda: T.CatTransform(
            [T.ExpTransform(), T.AffineTransform(1.0, 3.0), T.TanhTransform()], -1, [2, 1, 2]
        ),
        lambda: _normal(5),
        _FLAT,
        lambda: TT.CatTransform(
            [TT.ExpTransform(), TT.AffineTransform(1.0, 3.0), TT.TanhTransform()], -1, [2, 1, 2]
        ),
    ),
    (
        "Stack",
        lambda: T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], -1),
        lambda: _normal(2),
        _FLAT,
        lambda: TT.StackTransform([TT.ExpTransform(), TT.SigmoidTransform()], -1),
    ),
]
IDS = [c[0] for c in CASES]
X_CACHE = {c[0]: c[2]() for c in CASES}


def _to(tree, dtype):
    return jax.tree.map(lambda a: jnp.asarray(a, dtype), tree)


@jax.jit
def _evaluate(t, x, y_other):
    """Every member at ``x`` (and the inverse at another point ``y_other``), in one compile."""
    y, log_det_fwd = t.forward_and_log_det(x)
    x_back, minus_log_det = t.inverse_and_log_det(y)
    return dict(
        y=y,
        log_det=t.log_abs_det_jacobian(x, y),
        log_det_fwd=log_det_fwd,
        x_back=x_back,
        x_inv=t.inv(y),
        y_again=t(x_back),
        minus_log_det=minus_log_det,
        inv_log_det=t.inv.log_abs_det_jacobian(y, x),
        in_domain=t.domain.check(x),
        in_codomain=t.codomain.check(y),
        inverse_other=t.inverse(y if y_other is None else y_other),
    )


@functools.cache
def _reference_log_det(name):
    """``log|det J|`` at ``X_CACHE[name]`` from ``jax.jacfwd`` and ``slogdet`` in float64.

    Computed once for both dtypes: rounding the input to float32 moves the float32 result by
    about cond * 6e-8, far inside the float32 tolerance."""
    _, make, _, (embed, read, coords), _ = CASES[IDS.index(name)]
    with jax.enable_x64(True):
        t64 = _to(make(), np.float64)
        u = coords(jnp.asarray(X_CACHE[name], np.float64))
        jac = jax.jit(jax.jacfwd(lambda v: read(t64(embed(v)))))(u)
        sign, ref = np.linalg.slogdet(np.asarray(jac))
    assert sign != 0
    return ref


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_transform(case, dtype):
    """Log-det vs the float64 Jacobian, round trips (|x| <= 2, so every inverse has condition
    number below 10: rtol 10 * RTOL), shapes, and values against torch where it has the
    transform (float64 torch on the same rounded inputs)."""
    name, make, _, _, make_torch = case
    x = cast_like(X_CACHE[name], dtype)
    t = _to(make(), dtype)
    y_torch = None
    if make_torch is not None:
        tt = make_torch()
        tx = torch.tensor(x, dtype=F64)
        ty = tt(tx)
        y_torch = cast_like(ty.numpy(), dtype)
    out = _evaluate(
        t, jnp.asarray(x, dtype), None if y_torch is None else jnp.asarray(y_torch, dtype)
    )
    y = out["y"]
    assert out["log_det"].dtype == dtype and y.dtype == dtype
    assert np.all(out["in_domain"]) and np.all(out["in_codomain"])
    ref = _reference_log_det(name)
    assert_close(np.sum(out["log_det"]), ref, dtype, what=f"{name} log|det J|")
    assert_close(out["log_det_fwd"], out["log_det"], dtype, what=f"{name} forward_and_log_det")
    assert_close(out["x_back"], x, dtype, rtol_scale=10, what=f"{name} inverse(f(x))")
    assert_close(out["x_inv"], x, dtype, rtol_scale=10, what=f"{name} inv(f(x))")
    assert_close(out["y_again"], y, dtype, rtol_scale=10, what=f"{name} f(inverse(y))")
    assert_close(out["minus_log_det"], -out["log_det"], dtype, rtol_scale=10)
    assert_close(out["inv_log_det"], -out["log_det"], dtype, rtol_scale=10)
    assert type(t.inv.inv) is type(t)
    assert t.forward_shape(x.shape) == y.shape and t.inverse_shape(y.shape) == x.shape
    if make_torch is not None:
        assert_close(y, ty.numpy(), dtype, what=f"{name} forward vs torch")
        ref_inverse = tt.inv(torch.tensor(y_torch)).numpy()
        assert_close(out["inverse_other"], ref_inverse, dtype, rtol_scale=10, what="inverse")
        ref_log_det = tt.log_abs_det_jacobian(tx, ty).numpy()
        assert out["log_det"].shape == ref_log_det.shape
        assert_close(out["log_det"], ref_log_det, dtype, what=f"{name} log-det vs torch")


@pytest.mark.parametrize(
    "make, make_torch, x",
    [
        (T.LowerCholeskyTransform, TT.LowerCholeskyTransform, _normal(2, 3, 3)),
        (T.PositiveDefiniteTransform, TT.PositiveDefiniteTransform, _normal(2, 3, 3)),
        (T.CorrCholeskyTransform, TT.CorrCholeskyTransform, _normal(2, 6)),
        (T.StickBreakingTransform, TT.StickBreakingTransform, _normal(2, 4)),
        (T.SoftmaxTransform, TT.SoftmaxTransform, _normal(2, 4)),
        (T.AbsTransform, TT.AbsTransform, _normal(2, 4)),
    ],
    ids=["LowerCholesky", "PositiveDefinite", "CorrCholesky", "StickBreaking", "Softmax", "Abs"],
)
def test_batched_values_against_torch(make, make_torch, x, dtype):
    x = cast_like(x, dtype)
    t, tt = make(), make_torch()
    ty = tt(torch.tensor(x))
    yc = cast_like(ty.numpy(), dtype)
    y, in_codomain, x_back = jax.jit(lambda a, b: (t(a), t.codomain.check(t(a)), t.inverse(b)))(
        jnp.asarray(x, dtype), jnp.asarray(yc, dtype)
    )
    assert_close(y, ty.numpy(), dtype, what="forward")
    assert np.all(in_codomain)
    assert_close(x_back, tt.inv(torch.tensor(yc)).numpy(), dtype, rtol_scale=10)


def _tanh_log_det_ref(x):
    # log(1 - tanh²x) = log sech²x = 2 (log 2 - |x| - log1p(e^{-2|x|})), in float64.
    x = np.abs(np.asarray(x, np.float64))
    return 2.0 * (math.log(2.0) - x - np.log1p(np.exp(-2.0 * x)))


@jax.jit
def _tanh_members(x, y):
    t = T.TanhTransform()
    grads = jax.vmap(jax.grad(lambda v: t.forward_and_log_det(v)[1]))(x)
    inverse_grad = jax.grad(lambda v: jnp.sum(t.inverse(v)))(y)
    return t.forward_and_log_det(x)[1], grads, t.inverse(y), inverse_grad


def test_tanh_is_stable_far_out(dtype):
    x = cast_like([-40.0, -20.0, -9.0, -1e-3, 0.0, 5.0, 20.0, 40.0], dtype)
    log_det, grads, back, inverse_grad = _tanh_members(
        jnp.asarray(x, dtype), jnp.asarray([-1.0, 1.0, 0.5], dtype)
    )
    assert_close(log_det, _tanh_log_det_ref(x), dtype, what="tanh log-det")
    assert_close(grads, -2.0 * np.tanh(x), dtype, what="d/dx log-det = -2 tanh x")
    # The inverse clips |y| to 1 - epsneg: finite at ±1, exact below.
    bound = 1.0 - np.finfo(dtype).epsneg
    assert_close(back, [-np.arctanh(bound), np.arctanh(bound), np.arctanh(0.5)], dtype)
    assert np.all(np.isfinite(inverse_grad))


@jax.jit
def _extremes(x, x_corr, y_softplus):
    out = {}
    for t in (T.SigmoidTransform(), T.SoftplusTransform()):
        y, log_det = t.forward_and_log_det(x)
        out[repr(t)] = (y, log_det, t.inverse(y), t.codomain.check(y))
    for t in (T.StickBreakingTransform(), T.CorrCholeskyTransform()):
        y, log_det = t.forward_and_log_det(x_corr)
        grad = jax.grad(lambda v, t=t: t.forward_and_log_det(v)[1])(x_corr)
        out[repr(t)] = (y, log_det, grad, t.codomain.check(y))
    out["softplus_inverse"] = T.SoftplusTransform().inverse(y_softplus)
    return out


def test_extreme_inputs_stay_finite_and_in_the_codomain(dtype):
    x = jnp.asarray([-200.0, -30.0, 0.0, 30.0, 200.0], dtype)
    y_softplus = cast_like([1e-30, 1e-5, 1.0, 50.0], dtype)
    x_corr = jnp.asarray([-60.0, 60.0, 3.0, -80.0, 0.0, 90.0], dtype)
    out = _extremes(x, x_corr, jnp.asarray(y_softplus, dtype))
    for name in ("SigmoidTransform()", "SoftplusTransform()"):
        y, log_det, back, ok = out.pop(name)
        assert np.all(np.isfinite(log_det)) and np.all(np.isfinite(back)) and np.all(ok), name
    for name in ("StickBreakingTransform()", "CorrCholeskyTransform()"):
        arrays = out.pop(name)
        assert all(np.all(np.isfinite(a)) for a in arrays[:3]) and np.all(arrays[3]), name
    ref = -np.logaddexp(0, -np.float64(x)) - np.logaddexp(0, np.float64(x))
    assert_close(T.SigmoidTransform().log_abs_det_jacobian(x, None), ref, dtype)
    # softplus⁻¹(y) = log(expm1(y)): accurate for tiny and large y.
    assert_close(out["softplus_inverse"], np.log(np.expm1(y_softplus)), dtype)


def _shape(fn, *shapes):
    """Output shape of ``fn`` on zeros of ``shapes``, traced without compiling."""
    return jax.eval_shape(fn, *(jax.ShapeDtypeStruct(s, jnp.float32) for s in shapes)).shape


def test_event_dims_and_shapes():
    sb, corr = T.StickBreakingTransform(), T.CorrCholeskyTransform()
    assert (sb.domain.event_dim, sb.codomain.event_dim) == (1, 1)
    assert sb.forward_shape((7, 3)) == (7, 4) and sb.inverse_shape((7, 4)) == (7, 3)
    assert corr.forward_shape((2, 6)) == (2, 4, 4) and corr.inverse_shape((4, 4)) == (6,)
    assert _shape(corr, (2, 6)) == (2, 4, 4) and _shape(corr.inv, (4, 4)) == (6,)
    with pytest.raises(ValueError, match="n\\(n-1\\)/2"):
        corr.forward_shape((5,))
    assert T.AffineTransform(jnp.zeros(3), 1.0).forward_shape((2, 1)) == (2, 3)
    # A scalar map before a vector map is summed over the vector's axis.
    c = T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()])
    assert (c.domain.event_dim, c.codomain.event_dim) == (1, 1)
    assert _shape(c.log_abs_det_jacobian, (5, 3)) == (5,)
    r = T.ReshapeTransform((6,), (2, 3))
    assert (r.domain.event_dim, r.codomain.event_dim) == (1, 2)
    assert _shape(r.log_abs_det_jacobian, (4, 6)) == (4,)
    i = T.IndependentTransform(T.ExpTransform(), 2)
    assert i.domain.event_dim == 2 and _shape(i.log_abs_det_jacobian, (4, 2, 3)) == (4,)
    assert isinstance(T.identity_transform.codomain, type(constraints.real))
    exp1 = T.IndependentTransform(T.ExpTransform(), 1)
    cat = T.CatTransform([exp1, T.TanhTransform()], -1, [2, 1])
    assert _shape(cat.log_abs_det_jacobian, (4, 3)) == (4,)
    cat0 = T.CatTransform([T.ExpTransform(), T.TanhTransform()], 0, [2, 1])
    assert _shape(cat0.log_abs_det_jacobian, (3, 4)) == (3, 4)
    with pytest.raises(ValueError, match="sum\\(lengths\\)"):
        _shape(cat, (4, 5))


def test_transforms_are_pytrees():
    t = T.AffineTransform(jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0]))
    assert len(jax.tree.leaves(t)) == 2
    assert jax.tree.leaves(T.ComposeTransform([T.ExpTransform(), t])) == jax.tree.leaves(t)
    with pytest.raises(AttributeError, match="immutable"):
        t.loc = 0.0
    traces = []

    @jax.jit
    def f(tr, x):
        traces.append(1)
        grad = jax.grad(lambda tr: jnp.sum(tr(x) + tr.log_abs_det_jacobian(x)))(tr)
        return tr.forward_and_log_det(x), grad

    f(t, jnp.ones(2))
    _, g = f(jax.tree.map(lambda a: a * 2, t), jnp.ones(2))
    assert len(traces) == 1  # new parameter values never retrace
    assert type(g) is type(t)
    np.testing.assert_allclose(g.loc, [1.0, 1.0])
    np.testing.assert_allclose(g.scale, [1.0 + 1.0 / 6.0, 1.0 + 1.0 / 8.0], rtol=1e-6)
    stacked = jax.tree.map(lambda a: jnp.stack([a, a + 1]), t)
    ys = jax.jit(jax.vmap(lambda tr: tr(jnp.ones(2))))(stacked)
    np.testing.assert_allclose(ys, [[4.0, 6.0], [6.0, 8.0]])
    cdf_t = T.CumulativeDistributionTransform(jdist.Normal(jnp.array(0.0), jnp.array(1.0)))
    assert len(jax.tree.leaves(cdf_t)) == 2
    assert jax.tree.map(lambda _: 0, T.ExpTransform().inv).base.__class__ is T.ExpTransform


# ---------------------------------------------------------------- TransformedDistribution
_VALUE_MEMBERS = ("log_prob", "cdf", "log_cdf", "survival_function", "log_survival_function")


@functools.partial(jax.jit, static_argnames=("names",))
def _members(d, value, q, names):
    """The named members of ``d`` (at ``value``; ``icdf`` at ``q``), in one compile."""
    out = {}
    for name in names:
        if name in _VALUE_MEMBERS:
            out[name] = getattr(d, name)(value)
        elif name == "icdf":
            out[name] = d.icdf(q)
        elif name == "entropy":
            out[name] = d.entropy()
        else:
            out[name] = getattr(d, name)
    return out


def test_transformed_lognormal_against_scipy(dtype):
    from scipy import stats

    loc, scale = cast_like([0.3, -1.0, 2.0], dtype), cast_like([0.5, 2.0, 0.1], dtype)
    d = jdist.TransformedDistribution(
        jdist.Normal(jnp.asarray(loc, dtype), jnp.asarray(scale, dtype)), T.ExpTransform()
    )
    ref = stats.lognorm(s=scale, scale=np.exp(loc))
    y = cast_like(np.array([[-1.0], [1e-3], [0.5], [1.0], [3.0], [40.0]]), dtype)
    q = cast_like([[0.01], [0.5], [0.9]], dtype)
    names = ("log_prob", "cdf", "log_cdf", "log_survival_function", "icdf", "entropy")
    out = _members(d, jnp.asarray(y, dtype), jnp.asarray(q, dtype), names)
    assert d.batch_shape == (3,) and d.event_shape == ()
    for name, want in [
        ("log_prob", ref.logpdf(y)),
        ("log_cdf", ref.logcdf(y[1:])),
        ("log_survival_function", ref.logsf(y[1:])),
        ("entropy", ref.entropy()),  # H(base) + E[x]
    ]:
        got = out[name] if name in ("log_prob", "entropy") else out[name][1:]
        assert_close(got, want, dtype, what=name)
    assert_close(out["cdf"][1:], ref.cdf(y[1:]), dtype, what="cdf")
    assert_close(out["icdf"], ref.ppf(q), dtype, rtol_scale=10, what="icdf")  # cond <= 10
    assert np.all(out["log_prob"][0] == -np.inf)
    with pytest.raises(NotImplementedError, match="affine"):
        d.mean  # noqa: B018


def test_affine_transformed_normal_against_scipy(dtype):
    from scipy import stats

    loc = cast_like([0.5, -2.0], dtype)
    base = jdist.Normal(jnp.asarray(loc, dtype), jnp.asarray(2.0, dtype))
    # y = 1 - 3 x is decreasing, so cdf comes from the base survival function.
    d = jdist.TransformedDistribution(base, [T.AffineTransform(1.0, -3.0)])
    ref = stats.norm(1.0 - 3.0 * loc, 6.0)
    y = cast_like(np.array([[-30.0], [-1.0], [0.0], [4.0], [50.0]]), dtype)
    q = np.array([[0.1], [0.7]])
    names = _VALUE_MEMBERS + ("icdf", "mean", "mode", "variance", "entropy")
    out = _members(d, jnp.asarray(y, dtype), jnp.asarray(q, dtype), names)
    for name, want in [
        ("log_prob", ref.logpdf(y)),
        ("cdf", ref.cdf(y)),
        ("log_cdf", ref.logcdf(y)),
        ("survival_function", ref.sf(y)),
        ("log_survival_function", ref.logsf(y)),
        ("icdf", ref.ppf(q)),
        ("mean", ref.mean()),
        ("mode", ref.mean()),
        ("variance", ref.var()),
        ("entropy", ref.entropy()),
    ]:
        assert_close(out[name], want, dtype, what=name)


def test_squashed_gaussian_against_torch(dtype):
    loc, scale = cast_like([0.2, -1.0, 1.5], dtype), cast_like([0.5, 1.0, 2.0], dtype)
    d = jdist.TransformedDistribution(
        jdist.Normal(jnp.asarray(loc, dtype), jnp.asarray(scale, dtype)), [T.TanhTransform()]
    )
    td = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)), [TT.TanhTransform()]
    )
    y = cast_like(np.array([[-0.99], [-0.3], [0.0], [0.6], [0.95]]), dtype)
    out = _members(d, jnp.asarray(y, dtype), None, ("log_prob", "cdf"))
    assert_close(out["log_prob"], td.log_prob(torch.tensor(y)).numpy(), dtype)
    assert_close(out["cdf"], td.cdf(torch.tensor(y)).numpy(), dtype)
    assert d.support.check(np.array([-1.0, 0.0, 1.0])).all()


def test_squashed_gaussian_sample_and_log_prob_far_out(dtype):
    # Pre-activations around 12: tanh rounds to 1, yet sample_and_log_prob stays exact
    # because it never inverts the tanh.
    loc, scale = jnp.asarray(12.0, dtype), jnp.asarray(0.5, dtype)
    d = jdist.TransformedDistribution(jdist.Normal(loc, scale), T.TanhTransform())
    key = jax.random.key(0)

    @jax.jit
    def run(d):
        grad = jax.grad(lambda dd: jnp.sum(dd.sample_and_log_prob(key, (8,))[1]))(d)
        return d.sample_and_log_prob(key, (64,)), d.base_dist.sample(key, (64,)), grad

    (y, log_prob), x, g = run(d)
    x = np.asarray(x, np.float64)
    ref = -0.5 * ((x - 12.0) / 0.5) ** 2 - math.log(0.5) - 0.5 * math.log(2 * math.pi)
    assert_close(log_prob, ref - _tanh_log_det_ref(x), dtype, what="squashed log_prob")
    assert np.all(np.abs(np.asarray(y)) <= 1.0)
    if dtype is np.float32:
        assert np.all(np.asarray(y) == 1.0)  # tanh rounded to 1: inverting would be lossy
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(g))


def test_vector_events_against_torch(dtype):
    loc = cast_like(_normal(2, 3), dtype)
    d = jdist.TransformedDistribution(
        jdist.Normal(jnp.asarray(loc, dtype), 1.0), T.StickBreakingTransform()
    )
    corr = jdist.TransformedDistribution(
        jdist.Normal(jnp.zeros(3, dtype), 1.0), T.CorrCholeskyTransform()
    )
    assert d.batch_shape == (2,) and d.event_shape == (4,)
    assert corr.event_shape == (3, 3) and corr.batch_shape == ()

    @jax.jit
    def run(d, corr):
        y, lp = d.sample_and_log_prob(jax.random.key(1), (5,))
        L = corr.sample(jax.random.key(2), (4,))
        return y, lp, d.log_prob(y), L, corr.log_prob(L), constraints.simplex.check(y)

    y, lp_fwd, lp, L, lp_corr, on_simplex = run(d, corr)
    assert y.shape == (5, 2, 4) and np.all(on_simplex)
    td = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), 1.0), TT.StickBreakingTransform()
    )
    # The sample is rounded to dtype, so the torch reference takes it as float64; a simplex
    # point's density is ill-conditioned near the faces (cond <= 10 at these points).
    ref = td.log_prob(torch.tensor(np.asarray(y, np.float64))).numpy()
    assert_close(lp, ref, dtype, rtol_scale=10, what="log_prob")
    assert_close(lp_fwd, ref, dtype, rtol_scale=10, what="sample_and_log_prob")
    tcorr = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.zeros(3, dtype=F64), 1.0),
        TT.CorrCholeskyTransform(),
        validate_args=False,  # torch's corr_cholesky check is tighter than float32 rounding
    )
    ref_corr = tcorr.log_prob(torch.tensor(np.asarray(L, np.float64))).numpy()
    assert_close(lp_corr, ref_corr, dtype, rtol_scale=10, what="corr log_prob")


def test_base_is_broadcast_for_sampling_and_expand():
    d = jdist.TransformedDistribution(jdist.Normal(0.0, 1.0), T.AffineTransform(jnp.zeros(3), 1.0))
    assert d.batch_shape == (3,)
    e = d.expand((4, 3))
    assert e.batch_shape == (4, 3) and e.base_dist.batch_shape == (4, 3)
    assert d.transforms[0] is d.transform.parts[0]

    @jax.jit
    def run(d):
        grad = jax.grad(lambda dd: jnp.sum(dd.rsample(jax.random.key(0), (2,))))(d)
        return d.sample(jax.random.key(0), (2,)), grad

    x, g = run(d)
    assert x.shape == (2, 3) and len(np.unique(np.asarray(x))) == 6  # independent draws
    assert np.all(g.base_dist.loc == 6.0) and g.transform.parts[0].loc.shape == (3,)


def test_non_injective_transforms():
    assert not T.SoftmaxTransform().bijective and not T.AbsTransform().bijective
    with pytest.raises(NotImplementedError, match="StickBreaking"):
        T.SoftmaxTransform().log_abs_det_jacobian(np.zeros(3), np.ones(3) / 3)
    d = jdist.TransformedDistribution(jdist.Normal(0.0, 1.0), T.AbsTransform())
    with pytest.raises(NotImplementedError, match="not bijective"):
        jax.eval_shape(d.log_prob, 1.0)
    with pytest.raises(NotImplementedError, match="monotone"):
        jax.eval_shape(d.cdf, 1.0)


def test_transformed_sampler_goodness_of_fit():
    from scipy import stats

    from tests.stats_checks import ks_check

    d = jdist.TransformedDistribution(jdist.Normal(0.5, 0.8), [T.ExpTransform()])
    x = jax.jit(lambda d: d.sample(jax.random.key(3), (4000,)))(d)
    ks_check(x, stats.lognorm(s=0.8, scale=np.exp(0.5)).cdf)
