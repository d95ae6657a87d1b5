"""Analytic KL divergences of the discrete, multivariate and structural pairs
(``jdist/kl/discrete.py``, ``jdist/kl/multivariate.py``).

Each pair is compared in float64 with torch.distributions (values, and autograd gradients
w.r.t. every parameter of both arguments) on random and extreme parameters, with a
Monte Carlo estimate, under jit/vmap, and in float32 for finite values and gradients.
Where torch itself is inaccurate (Bernoulli/Geometric logits of ±50 suffer cancellation or
round ``q`` to 1; Poisson with ``λp ≈ λq`` cancels; torch's batched Wishart KL is wrong, see
``jdist/kl/multivariate.py``) the reference is a 50-digit mpmath evaluation instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import torch
from jax.experimental import checkify

import jdist
from jdist.transforms import AffineTransform, ExpTransform
from tests.kl_checks import check_against_torch, check_jit_vmap, check_monte_carlo, fast_jit

mp.mp.dps = 50
TD = torch.distributions


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def twin(d):
    """torch twin ``(dist, leaves)`` of a jdist distribution; a ``scale_tril`` leaf enters
    through ``tril()`` (jdist reads only the lower triangle, so the upper one has zero
    gradient; torch's KL would otherwise differentiate it)."""
    leaves = {
        n: torch.tensor(np.asarray(getattr(d, n), np.float64), requires_grad=True)
        for n in d._param_names
    }
    kwargs = {n.lstrip("_"): (v.tril() if n == "_scale_tril" else v) for n, v in leaves.items()}
    return getattr(TD, type(d).__name__)(**kwargs), leaves


def rng(seed):
    return np.random.default_rng(seed)


def arr(x):
    return jnp.asarray(np.asarray(x, np.float64))


def spd(r, n, batch=(), cond=None):
    """Random SPD matrices; eigenvalues log-spaced from 1 to ``cond`` when given."""
    q, _ = np.linalg.qr(r.normal(size=batch + (n, n)))
    if cond is None:
        lam = r.uniform(0.5, 2.0, size=batch + (n,))
    else:
        lam = np.broadcast_to(np.logspace(0, np.log10(cond), n), batch + (n,))
    cov = (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    return arr(0.5 * (cov + np.swapaxes(cov, -1, -2)))


def mvn(r, n, batch, kind="covariance_matrix", cond=None):
    m = spd(r, n, batch, cond)
    if kind == "scale_tril":
        m = jnp.linalg.cholesky(m)
    elif kind == "precision_matrix":
        m = arr(np.linalg.inv(np.asarray(m)))
    return jdist.MultivariateNormal(arr(r.normal(size=batch + (n,))), **{kind: m})


def lowrank(r, n, rank, batch):
    return jdist.LowRankMultivariateNormal(
        arr(r.normal(size=batch + (n,))),
        arr(r.normal(size=batch + (n, rank))),
        arr(r.uniform(0.5, 2.0, size=batch + (n,))),
    )


KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


# ----------------------------------------------------------------------------- cases
def discrete_cases():
    """Each case mixes random parameters (the leading entries) with extreme ones."""
    r = rng(0)
    B, P, C, G = jdist.Bernoulli, jdist.Poisson, jdist.Categorical, jdist.Geometric
    Bi, OneHot = jdist.Binomial, jdist.OneHotCategorical
    u = lambda *s: r.uniform(0.05, 0.95, size=s)  # noqa: E731
    g = lambda *s: 3.0 * r.normal(size=s)  # noqa: E731
    cat = lambda *xs: arr(np.concatenate([np.ravel(x) for x in xs]))  # noqa: E731
    tiny, near1 = [1e-12, 1 - 1e-12, 1e-12, 0.3, 1 - 1e-9], [0.5, 1e-9, 1 - 1e-12, 1 - 1e-12, 1e-12]
    rates_p, rates_q = [1e-8, 1e6, 1e-8, 1e6, 3.0], [1e6, 1e-8, 1.0, 2.0, 1e-8]
    cat_p, cat_q = g(2, 1, 5), g(3, 5)
    cat_p[1, 0] = [50, -50, 0, -50, 50]
    cat_q[2] = [-50, 50, 0, 50, -50]
    return {
        "bernoulli-probs": (B(probs=cat(u(4), tiny)), B(probs=cat(u(4), near1))),
        "bernoulli-logits": (
            B(logits=cat(g(4), [30, -30, 30, -30])),
            B(logits=cat(g(4), [-30, 30, 29, -28])),
        ),
        # (p = 1 - 1e-12 against λ = 1e6 is checked in closed form: torch's gradient cancels)
        "bernoulli-poisson": (
            B(probs=cat(u(3), [1e-12, 1 - 1e-7, 1e-12, 0.3, 1 - 1e-9])),
            P(cat(r.uniform(0.1, 5, 3), rates_p)),
        ),
        "binomial": (
            Bi(arr([3, 10, 0, 7, 5, 9]), probs=arr(u(6))),
            Bi(arr([3, 10, 0, 7, 4, 2]), logits=arr(g(6))),
        ),
        "categorical-logits": (C(logits=arr(cat_p)), C(logits=arr(cat_q))),
        "categorical-probs": (C(probs=arr(u(3, 4))), C(logits=arr(g(4)))),
        "onehot": (OneHot(logits=arr(g(2, 4))), OneHot(probs=arr(u(2, 4)))),
        "geometric-probs": (
            G(probs=cat(u(4), [1e-6, 1 - 1e-9, 0.5])),
            G(probs=cat(u(4), [0.5, 1e-6, 1 - 1e-12])),
        ),
        "geometric-logits": (G(logits=arr(g(5))), G(logits=arr(g(5)))),
        "poisson": (
            P(cat(r.uniform(0.1, 10, 4), rates_p)),
            P(cat(r.uniform(20, 30, 4), rates_q)),
        ),
        "poisson-bernoulli": (P(arr(rates_p)), B(probs=arr(u(5)))),
        "poisson-binomial": (P(arr(rates_p)), Bi(arr([1, 2, 3, 4, 5.0]), probs=arr(u(5)))),
    }


def multivariate_cases():
    r = rng(1)
    D = jdist.Dirichlet
    conc_p = r.uniform(0.2, 5, (3, 4))
    conc_q = r.uniform(0.2, 5, (3, 4))
    conc_p[2], conc_q[2] = [1e-3, 1e3, 1.0, 5.0], [1e3, 1e-3, 2.0, 1e-3]
    cases = {
        "dirichlet": (D(arr(conc_p)), D(arr(conc_q))),
        "lowrank-lowrank": (lowrank(r, 5, 2, (2,)), lowrank(r, 5, 3, (3, 1))),
    }
    # The four code paths of the full-covariance pairs: each of p, q given by a covariance
    # factor (covariance_matrix or scale_tril) or a precision factor.
    for kp, kq in [
        ("covariance_matrix", "precision_matrix"),
        ("precision_matrix", "scale_tril"),
        ("scale_tril", "covariance_matrix"),
        ("precision_matrix", "precision_matrix"),
    ]:
        cases[f"mvn-{kp}-{kq}"] = (mvn(r, 4, (2,), kp), mvn(r, 4, (3, 1), kq))
    for k in ["precision_matrix", "scale_tril"]:
        cases[f"mvn-lowrank-{k}"] = (mvn(r, 4, (2,), k), lowrank(r, 4, 2, (3, 1)))
    for k in ["precision_matrix", "covariance_matrix"]:
        cases[f"lowrank-mvn-{k}"] = (lowrank(r, 4, 2, (2,)), mvn(r, 4, (3, 1), k))
    return cases


def ill_conditioned_cases():
    r = rng(8)
    return {
        "mvn-cond1e6": (mvn(r, 6, (), cond=1e6), mvn(r, 6, (), cond=1e6)),
        "mvn-cond1e6-prec": (
            mvn(r, 6, (), "precision_matrix", cond=1e6),
            mvn(r, 6, (), "scale_tril", cond=1e6),
        ),
    }


def wishart_cases():
    r = rng(7)
    cases = {}
    # (covariance_matrix against scale_tril: test_wishart_vs_mpmath_batched)
    for kp, kq in [("covariance_matrix", "precision_matrix"), ("precision_matrix", "scale_tril")]:
        p = jdist.Wishart(arr([4.5, 30.0]), **{kp: mvn(r, 3, (2,), kp)._params[f"_{kp}"]})
        q = jdist.Wishart(arr([3.2, 2.5]), **{kq: mvn(r, 3, (2,), kq)._params[f"_{kq}"]})
        cases[f"wishart-{kp}-{kq}"] = (p, q)
    return cases


TORCH_IDS = list(discrete_cases()) + list(multivariate_cases())
ALL_IDS = TORCH_IDS + list(wishart_cases())


def all_cases():
    with jax.enable_x64(True):
        return {
            **discrete_cases(),
            **multivariate_cases(),
            **wishart_cases(),
            **ill_conditioned_cases(),
        }


def case(name):
    return all_cases()[name]


# ------------------------------------------------------------------------------ torch
@pytest.mark.parametrize("name", TORCH_IDS)
def test_against_torch(name, x64):
    """Values and gradients w.r.t. every parameter equal torch's in float64 (rtol 1e-10 on
    values, 1e-8 on gradients)."""
    p, q = case(name)
    check_against_torch(p, q, twin(p), twin(q), jit=True)


def test_bernoulli_poisson_gradient_closed_form(x64):
    """p = 1 - 1e-12 against λ = 1e6 (torch's gradient is off by 1e-4 there):
    ∂KL/∂p = log p - log(1 - p) - log λ, ∂KL/∂λ = 1 - p/λ."""
    p, lam = 1 - 1e-12, 1e6
    g = jax.grad(
        lambda a, b: jdist.kl_divergence(jdist.Bernoulli(probs=a), jdist.Poisson(b)), (0, 1)
    )(p, lam)
    # The two terms' λ(1 - p) and λ p cancel: 1e6 · eps absolute, 2e-11 relative.
    np.testing.assert_allclose(float(g[0]), np.log(p) - np.log1p(-p) - np.log(lam), rtol=1e-10)
    np.testing.assert_allclose(float(g[1]), 1 - p / lam, rtol=1e-12)
    # p = 1e-12 against λ = 1e-8: KL ≈ λ, where torch's -H(p) - p log λ + λ is off by 3e-7.
    got = float(jdist.kl_divergence(jdist.Bernoulli(probs=1e-12), jdist.Poisson(1e-8)))
    pm, lm = mp.mpf(1e-12), mp.mpf(1e-8)
    want = (1 - pm) * (mp.log1p(-pm) + lm) + pm * (mp.log(pm) - mp.log(lm) + lm)
    np.testing.assert_allclose(got, float(want), rtol=1e-14)


def torch_wishart_kl(nu_p, cov_p, nu_q, cov_q):
    """The Wishart KL closed form written in torch (per batch entry), for autograd
    references: torch's own Wishart KL (ExponentialFamily) detaches p's parameters."""
    d = cov_p.shape[-1]
    lq, lp = torch.linalg.cholesky(cov_q), torch.linalg.cholesky(cov_p)
    m = torch.linalg.solve_triangular(lq, lp, upper=False)
    logdet = lambda chol: 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # noqa: E731
    j = torch.arange(d, dtype=cov_p.dtype)
    ap, aq = (nu_p[..., None] - j) / 2, (nu_q[..., None] - j) / 2
    return (
        nu_q / 2 * (logdet(lq) - logdet(lp))
        + nu_p / 2 * (m.square().sum((-2, -1)) - d)
        + (torch.lgamma(aq) - torch.lgamma(ap) + (ap - aq) * torch.digamma(ap)).sum(-1)
    )


def _torch_cov(name, leaf):
    if name == "_covariance_matrix":
        return leaf
    if name == "_precision_matrix":
        return torch.linalg.inv(leaf)
    t = leaf.tril()
    return t @ t.mT


@pytest.mark.parametrize("name", list(wishart_cases()))
def test_wishart_against_torch(name, x64):
    """Batched Wishart KL: values equal torch's unbatched values (its ExponentialFamily
    entry, which is wrong for batches), and values and gradients w.r.t. df and the matrices
    of both equal autograd through the closed form written in torch."""
    p, q = case(name)
    f = lambda a, b: (jnp.sum(jdist.kl_divergence(a, b)), jdist.kl_divergence(a, b))  # noqa: E731
    (_, got), grads = fast_jit(jax.value_and_grad(f, (0, 1), has_aux=True))(p, q)
    got = np.asarray(got)
    for i in range(2):
        pi, qi = (jax.tree.map(lambda x, i=i: x[i], d) for d in (p, q))
        want = TD.kl_divergence(twin(pi)[0], twin(qi)[0])
        np.testing.assert_allclose(got[i], float(want), rtol=1e-10)
    leaves = []
    for d in (p, q):
        ((name_m, mat),) = [(n, getattr(d, n)) for n in d._param_names if n != "df"]
        df = torch.tensor(np.asarray(d.df), requires_grad=True)
        mat = torch.tensor(np.asarray(mat), requires_grad=True)
        leaves.append((df, mat, _torch_cov(name_m, mat)))
    want = torch_wishart_kl(leaves[0][0], leaves[0][2], leaves[1][0], leaves[1][2])
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-10)
    want.sum().backward()
    for g, (df, mat, _) in zip(grads, leaves, strict=True):
        g_df, g_mat = jax.tree.leaves(g)  # df first, then the matrix
        np.testing.assert_allclose(np.asarray(g_df), df.grad.numpy(), rtol=1e-8)
        np.testing.assert_allclose(np.asarray(g_mat), mat.grad.numpy(), rtol=1e-8, atol=1e-12)


# ------------------------------------------------------------------ mpmath references
def _mp_matrix(x):
    return mp.matrix(np.asarray(x).tolist())


def _mp_covariance(d):
    """``(parameter name, parameter, Σ)`` of a MultivariateNormal, in mpmath."""
    name = next(n for n in d._param_names if n != "loc")
    m = _mp_matrix(getattr(d, name))
    if name == "_covariance_matrix":
        return name, m, m
    if name == "_precision_matrix":
        return name, m, m**-1
    tril = mp.matrix(m.rows, m.rows)
    for i in range(m.rows):
        for j in range(i + 1):
            tril[i, j] = m[i, j]
    return name, tril, tril * tril.T


def mp_mvn_kl_and_grads(p, q):
    """50-digit MVN KL and its gradients w.r.t. (loc_p, matrix_p, loc_q, matrix_q): with
    ``A = Σp + δδᵀ`` (δ = μq - μp), ``∂/∂Σp = (Σq⁻¹ - Σp⁻¹)/2``, ``∂/∂Σq = (Σq⁻¹ - Σq⁻¹AΣq⁻¹)/2``,
    ``∂/∂P = -Σ G Σ`` for a precision ``P``, ``∂/∂L = tril(2 G L)`` for a scale_tril."""
    (name_p, par_p, sp), (name_q, par_q, sq) = _mp_covariance(p), _mp_covariance(q)
    n = sp.rows
    d = _mp_matrix(q.loc) - _mp_matrix(p.loc)
    sqi, spi = sq**-1, sp**-1
    trace = mp.fsum((sqi * sp)[i, i] for i in range(n))
    kl = (trace + (d.T * sqi * d)[0] - n + mp.log(mp.det(sq)) - mp.log(mp.det(sp))) / 2

    def to_param(name, par, s, g):
        if name == "_covariance_matrix":
            return g
        if name == "_precision_matrix":
            return -s * g * s
        out = 2 * g * par
        for i in range(n):
            for j in range(i + 1, n):
                out[i, j] = 0
        return out

    g_p = to_param(name_p, par_p, sp, (sqi - spi) / 2)
    g_q = to_param(name_q, par_q, sq, (sqi - sqi * (sp + d * d.T) * sqi) / 2)
    grads = [-sqi * d, g_p, sqi * d, g_q]
    return float(kl), [
        np.array(g.tolist(), float).reshape(np.shape(x))
        for g, x in zip(grads, [p.loc, getattr(p, name_p), q.loc, getattr(q, name_q)], strict=True)
    ]


@pytest.mark.parametrize("name", list(ill_conditioned_cases()))
def test_mvn_ill_conditioned_vs_mpmath(name, x64):
    """Covariances of condition number 1e6 (covariance, precision and scale_tril inputs):
    value and gradients within 1e-9 relative of 50-digit references (rounding the inputs
    alone moves the result by up to cond · eps ≈ 2e-10; torch's value is off by 5e-8 in the
    precision case, as it inverts the precision's factor explicitly)."""
    p, q = case(name)
    want, want_grads = mp_mvn_kl_and_grads(p, q)
    value, grads = fast_jit(jax.value_and_grad(jdist.kl_divergence, (0, 1)))(p, q)
    np.testing.assert_allclose(float(value), want, rtol=1e-9)
    for g, w in zip(jax.tree.leaves(grads), want_grads, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-9 * np.abs(w).max())


def mp_bernoulli(p, q):
    p, q = mp.mpf(p), mp.mpf(q)
    return p * mp.log(p / q) + (1 - p) * mp.log((1 - p) / (1 - q))


def mp_sigmoid(x):
    return 1 / (1 + mp.exp(-mp.mpf(x)))


def test_bernoulli_geometric_logits50_vs_mpmath(x64):
    """Logits of ±50: relative accuracy 1e-13 (torch rounds ``q`` to 1 and returns inf, or
    loses all digits to cancellation here)."""
    lp = np.array([50.0, -50.0, 50.0, -50.0, 3.0, 40.0])
    lq = np.array([-50.0, 50.0, 49.0, -49.5, -50.0, 40.0 + 1e-6])
    got = np.asarray(
        jdist.kl_divergence(jdist.Bernoulli(logits=arr(lp)), jdist.Bernoulli(logits=arr(lq)))
    )
    want = [float(mp_bernoulli(mp_sigmoid(a), mp_sigmoid(b))) for a, b in zip(lp, lq, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got = np.asarray(
        jdist.kl_divergence(jdist.Geometric(logits=arr(lp)), jdist.Geometric(logits=arr(lq)))
    )
    want = [
        float(mp_bernoulli(mp_sigmoid(a), mp_sigmoid(b)) / mp_sigmoid(a))
        for a, b in zip(lp, lq, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_poisson_near_equal_vs_mpmath(x64):
    """Near ``λp = λq`` the KL is ~ (λp - λq)²/(2λ): full relative accuracy (torch's direct
    form loses ~|log(λp/λq)|⁻¹ digits)."""
    lp = np.array([1.0, 1e6, 3.0, 1e-8])
    lq = lp * (1 + np.array([1e-7, 1e-9, -1e-5, 1e-6]))
    got = np.asarray(jdist.kl_divergence(jdist.Poisson(arr(lp)), jdist.Poisson(arr(lq))))
    want = []
    for a, b in zip(lp, lq, strict=True):
        a, b = mp.mpf(a), mp.mpf(b)
        want.append(float(a * mp.log(a / b) - a + b))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def mp_lmvgamma(a, d):
    return d * (d - 1) / 4 * mp.log(mp.pi) + mp.fsum(
        mp.loggamma(a - mp.mpf(j) / 2) for j in range(d)
    )


def mp_mvdigamma(a, d):
    return mp.fsum(mp.digamma(a - mp.mpf(j) / 2) for j in range(d))


def mp_wishart(nu_p, cov_p, nu_q, cov_q):
    d = cov_p.shape[0]
    sp, sq = mp.matrix(cov_p.tolist()), mp.matrix(cov_q.tolist())
    nu_p, nu_q = mp.mpf(nu_p), mp.mpf(nu_q)
    tr = sum((sq**-1 * sp)[i, i] for i in range(d))
    ld = mp.log(mp.det(sq)) - mp.log(mp.det(sp))
    return (
        nu_q / 2 * ld
        + nu_p / 2 * (tr - d)
        + mp_lmvgamma(nu_q / 2, d)
        - mp_lmvgamma(nu_p / 2, d)
        + (nu_p - nu_q) / 2 * mp_mvdigamma(nu_p / 2, d)
    )


def test_wishart_vs_mpmath_batched(x64):
    """Batched Wishart KL, including df of 1e4 and df just above d - 1, against a 50-digit
    evaluation of the closed form (torch's batched Bregman entry is wrong, see module doc)."""
    r = rng(2)
    d = 3
    covs_p = np.stack([np.asarray(spd(r, d)) for _ in range(4)])
    covs_q = np.stack([np.asarray(spd(r, d)) for _ in range(4)])
    nu_p = np.array([4.5, 1e4, 2.001, 7.0])
    nu_q = np.array([3.2, 1.2e4, 5.0, 7.0])
    covs_q[3] = covs_p[3]  # p == q: KL 0
    p = jdist.Wishart(arr(nu_p), covariance_matrix=arr(covs_p))
    q = jdist.Wishart(arr(nu_q), scale_tril=jnp.linalg.cholesky(arr(covs_q)))
    got = np.asarray(jdist.kl_divergence(p, q))
    want = [float(mp_wishart(nu_p[i], covs_p[i], nu_q[i], covs_q[i])) for i in range(4)]
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-11)
    assert abs(got[3]) < 1e-13


def test_dirichlet_large_concentration_vs_mpmath(x64):
    """Concentrations 1e3-1e6 (lgamma terms of 1e7 cancel to a KL of order 1)."""
    a = np.array([1e6, 2e6, 3e5])
    b = np.array([1.1e6, 1.9e6, 3e5])
    got = float(jdist.kl_divergence(jdist.Dirichlet(arr(a)), jdist.Dirichlet(arr(b))))
    ma, mb = [mp.mpf(x) for x in a], [mp.mpf(x) for x in b]
    a0, b0 = mp.fsum(ma), mp.fsum(mb)
    want = (
        mp.loggamma(a0)
        - mp.loggamma(b0)
        - mp.fsum(mp.loggamma(x) - mp.loggamma(y) for x, y in zip(ma, mb, strict=True))
        + mp.fsum((x - y) * (mp.digamma(x) - mp.digamma(a0)) for x, y in zip(ma, mb, strict=True))
    )
    np.testing.assert_allclose(got, float(want), rtol=1e-10)
    with jax.enable_x64(False):  # float32 keeps ~1e-4 (plain lgamma would be off by ~10)
        got32 = float(fast_jit(jdist.kl_divergence)(jdist.Dirichlet(a), jdist.Dirichlet(b)))
    np.testing.assert_allclose(got32, float(want), rtol=1e-3)


# ------------------------------------------------------------- boundaries and masking
def test_bernoulli_point_masses(x64):
    """Exact 0/1 probabilities: 0 log 0 = 0, inf where q excludes an outcome p has;
    gradients finite."""
    p = jdist.Bernoulli(probs=arr([0.0, 1.0, 0.3, 0.0, 1.0]))
    q = jdist.Bernoulli(probs=arr([0.5, 0.3, 1.0, 0.0, 1.0]))
    got = np.asarray(jdist.kl_divergence(p, q))
    np.testing.assert_allclose(got, [np.log(2), -np.log(0.3), np.inf, 0.0, 0.0], rtol=1e-15)
    grads = fast_jit(
        jax.grad(
            lambda a, b: jnp.sum(jnp.where(jnp.isfinite(got), jdist.kl_divergence(a, b), 0)), (0, 1)
        )
    )(p, q)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(grads))


def test_categorical_masked_logits(x64):
    """Masked (-inf) logits: values as torch, inf where p has mass q lacks; gradients are
    finite everywhere (torch's are NaN) and equal the closed form
    ``∂/∂lp_j = p_j (log p_j - log q_j - KL)``, ``∂/∂lq_j = q_j - p_j`` (0 on masked entries)."""
    ninf = -np.inf
    lp = np.array([[0.0, ninf, 1.0, 2.0], [0.0, 1.0, 2.0, ninf], [1.0, 0.5, ninf, ninf]])
    lq = np.array([[1.0, 2.0, 0.0, -1.0], [0.5, ninf, 2.0, ninf], [ninf, 0.5, 1.0, ninf]])
    p, q = jdist.Categorical(logits=arr(lp)), jdist.Categorical(logits=arr(lq))
    value = np.asarray(jdist.kl_divergence(p, q))
    want = TD.kl_divergence(
        TD.Categorical(logits=torch.tensor(lp)), TD.Categorical(logits=torch.tensor(lq))
    )
    np.testing.assert_allclose(value, want.numpy(), rtol=1e-13)
    assert value[0] < np.inf and value[1] == np.inf and value[2] == np.inf
    gp, gq = fast_jit(jax.grad(lambda a, b: jdist.kl_divergence(a, b)[0], (0, 1)))(p, q)
    gp, gq = np.asarray(gp._logits), np.asarray(gq._logits)
    assert np.all(np.isfinite(gp)) and np.all(np.isfinite(gq))
    pp = np.exp(lp[0] - np.logaddexp.reduce(lp[0]))
    qq = np.exp(lq[0] - np.logaddexp.reduce(lq[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pp > 0, np.log(pp) - np.log(qq), 0.0)
    np.testing.assert_allclose(gp[0], pp * (ratio - value[0]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gq[0], qq - pp, rtol=1e-12, atol=1e-15)
    # Masked probs (zeros) too, with finite gradients.
    pz = jdist.Categorical(probs=arr([0.5, 0.0, 0.5]))
    qz = jdist.Categorical(probs=arr([0.2, 0.3, 0.5]))
    np.testing.assert_allclose(float(jdist.kl_divergence(pz, qz)), 0.5 * np.log(2.5), rtol=1e-14)
    g = jax.grad(jdist.kl_divergence, (0, 1))(pz, qz)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(g))


def test_policies_use_the_categorical_pair(x64):
    """Greedy / EpsilonGreedy (Categorical subclasses) dispatch to Categorical–Categorical:
    equal to the KL of Categoricals with the same probabilities, to Monte Carlo, and
    differentiable w.r.t. epsilon."""
    prefs = arr([[0.1, 2.0, -1.0, 2.0], [1.0, 0.0, 0.5, -3.0]])
    greedy = jdist.Greedy(prefs)
    eps = jdist.EpsilonGreedy(prefs, arr([0.3, 0.05]))
    pairs = [(greedy, eps), (eps, greedy), (eps, jdist.EpsilonGreedy(prefs[::-1], 0.2))]

    def both(pairs):
        cat = jdist.Categorical
        return [
            (jdist.kl_divergence(p, q), jdist.kl_divergence(cat(probs=p.probs), cat(probs=q.probs)))
            for p, q in pairs
        ]

    for got, ref in fast_jit(both)(pairs):
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-13)
    check_monte_carlo(eps, jdist.EpsilonGreedy(prefs[::-1], 0.2), num_samples=4000, jit=True)
    assert np.all(np.isinf(np.asarray(jdist.kl_divergence(eps, greedy))))
    # d/dε KL(Greedy || EpsGreedy) = d/dε [-log((1 - ε)/2 + ε/4)] for two tied greedy actions.
    g = fast_jit(jax.grad(lambda e: jdist.kl_divergence(greedy, jdist.EpsilonGreedy(prefs, e))[0]))(
        0.3
    )
    np.testing.assert_allclose(float(g), (1 / 2 - 1 / 4) / ((1 - 0.3) / 2 + 0.3 / 4), rtol=1e-12)


def test_geometric_poisson_point_masses(x64):
    """Geometric(1) is a point mass at 0: KL = -log q; Poisson(0) a point mass at 0: finite
    against Bernoulli/Binomial (torch: inf), inf the other way round is not registered."""
    got = jdist.kl_divergence(
        jdist.Geometric(probs=arr([1.0, 0.5])), jdist.Geometric(probs=arr([0.3, 1.0]))
    )
    np.testing.assert_allclose(np.asarray(got), [-np.log(0.3), np.inf], rtol=1e-15)
    zero = jdist.Poisson(arr([0.0, 2.0]))
    got = jdist.kl_divergence(zero, jdist.Bernoulli(probs=0.25))
    np.testing.assert_allclose(np.asarray(got), [-np.log(0.75), np.inf], rtol=1e-15)
    got = jdist.kl_divergence(zero, jdist.Binomial(3.0, probs=0.25))
    np.testing.assert_allclose(np.asarray(got), [-3 * np.log(0.75), np.inf], rtol=1e-15)
    got = jdist.kl_divergence(zero, jdist.Poisson(arr([2.0, 0.0])))
    np.testing.assert_allclose(np.asarray(got), [2.0, np.inf], rtol=1e-15)


def test_binomial_fewer_trials_exact_sum(x64):
    """p.total_count < q.total_count (torch raises): the exact sum over p's support (here
    under jit, total_count closed over), with gradients w.r.t. probs; p's probs = 0 with
    more trials than q is a point mass at 0 (finite; torch: inf)."""
    from scipy import stats

    n_p, n_q = np.array([3.0, 10.0, 7.0, 6.0]), np.array([5.0, 12.0, 7.0, 2.0])
    pp, pq = np.array([0.2, 0.7, 0.4, 0.0]), np.array([0.5, 0.6, 0.1, 0.25])
    q = jdist.Binomial(arr(n_q), probs=arr(pq))
    want, want_g = [], []
    for i in range(3):
        # Σ_k p(k) (log p(k) - log q(k)), and its derivative w.r.t. π = probs:
        # Σ_k p(k) s(k) (log p(k) - log q(k)), score s(k) = k/π - (n - k)/(1 - π).
        k = np.arange(n_p[i] + 1)
        lp = stats.binom.logpmf(k, n_p[i], pp[i])
        lq = stats.binom.logpmf(k, n_q[i], pq[i])
        score = k / pp[i] - (n_p[i] - k) / (1 - pp[i])
        want.append(np.sum(np.exp(lp) * (lp - lq)))
        want_g.append(np.sum(np.exp(lp) * score * (lp - lq)))
    want.append(-2 * np.log(0.75))
    grad_mask = jnp.array([1.0, 1.0, 1.0, 0.0])  # (no derivative at the point mass)

    def f(a):
        kl = jdist.kl_divergence(jdist.Binomial(n_p, probs=a), q)
        return jnp.sum(grad_mask * kl), kl

    (_, value), g = fast_jit(jax.value_and_grad(f, has_aux=True))(arr(pp))
    np.testing.assert_allclose(np.asarray(value), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g)[:3], want_g, rtol=1e-11)
    # Traced total_count: those entries cannot be summed (NaN, reported by checkify).
    p = jdist.Binomial(arr(n_p), probs=arr(pp))
    err, out = fast_jit(checkify.checkify(jdist.kl_divergence))(p, q)
    out = np.asarray(out)
    assert np.isnan(out[:2]).all() and np.isfinite(out[2:]).all()
    assert err.get() is not None and "total_count" in err.get()


# -------------------------------------------------------------------- structural pairs
def _check_tree_grads(p, q, torch_p, torch_q, leaves):
    """Value and gradients (jdist pytree leaves, in order, vs the torch tensors)."""
    for t in leaves:
        t.grad = None
    want = TD.kl_divergence(torch_p, torch_q)
    f = lambda a, b: jnp.sum(jdist.kl_divergence(a, b))  # noqa: E731
    got, grads = fast_jit(jax.value_and_grad(f, (0, 1)))(p, q)
    np.testing.assert_allclose(float(got), float(want.sum()), rtol=1e-10)
    want.sum().backward(retain_graph=True)
    grads = jax.tree.leaves(grads)
    assert len(grads) == len(leaves)
    for g, t in zip(grads, leaves, strict=True):
        want_g = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(np.asarray(g), want_g, rtol=1e-8, atol=1e-12)


def test_independent_independent(x64):
    r = rng(3)
    a, b = r.uniform(0.1, 0.9, (2, 3, 4)), r.uniform(0.1, 0.9, (2, 3, 4))
    p = jdist.Independent(jdist.Bernoulli(probs=arr(a)), 2)
    q = jdist.Independent(jdist.Bernoulli(probs=arr(b)), 2)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tp = TD.Independent(TD.Bernoulli(probs=ta), 2)
    tq = TD.Independent(TD.Bernoulli(probs=tb), 2)
    _check_tree_grads(p, q, tp, tq, [ta, tb])
    check_jit_vmap(p, q, jit_vmap=True)
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        jdist.kl_divergence(jdist.Independent(jdist.Bernoulli(probs=arr(a)), 1), q)


def test_transformed_transformed(x64):
    r = rng(4)
    p0, q0 = mvn(r, 3, (2,)), mvn(r, 3, ())
    loc, scale = arr(r.normal(size=3)), arr(r.uniform(0.5, 2, 3))
    transforms = [AffineTransform(loc, scale, event_dim=1), ExpTransform()]
    p = jdist.TransformedDistribution(p0, transforms)
    q = jdist.TransformedDistribution(
        q0, [AffineTransform(loc, scale, event_dim=1), ExpTransform()]
    )
    (tp0, lp), (tq0, lq) = twin(p0), twin(q0)
    tt = [
        TD.AffineTransform(
            torch.tensor(np.asarray(loc)), torch.tensor(np.asarray(scale)), event_dim=1
        ),
        TD.ExpTransform(),
    ]
    tp, tq = TD.TransformedDistribution(tp0, tt), TD.TransformedDistribution(tq0, tt)
    _check_tree_grads(
        p,
        q,
        tp,
        tq,
        [
            *lp.values(),
            torch.zeros(3),
            torch.zeros(3),
            *lq.values(),
            torch.zeros(3),
            torch.zeros(3),
        ],
    )
    check_jit_vmap(p, q, jit_vmap=True)
    # LogisticNormal (a TransformedDistribution subclass), as torch's.
    r2 = rng(9)
    a, b, c, e = (r2.uniform(0.5, 2, (2, 3)) for _ in range(4))
    got = jdist.kl_divergence(
        jdist.LogisticNormal(arr(a), arr(b)), jdist.LogisticNormal(arr(c), arr(e))
    )
    want = TD.kl_divergence(
        TD.LogisticNormal(torch.tensor(a), torch.tensor(b)),
        TD.LogisticNormal(torch.tensor(c), torch.tensor(e)),
    )
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12)
    # An elementwise transform of a vector base: the KL of the bases.
    p1 = jdist.TransformedDistribution(jdist.Dirichlet(arr([1.0, 2.0, 3.0])), [ExpTransform()])
    q1 = jdist.TransformedDistribution(jdist.Dirichlet(arr([2.0, 2.0, 1.0])), [ExpTransform()])
    np.testing.assert_allclose(
        float(jdist.kl_divergence(p1, q1)),
        float(jdist.kl_divergence(p1.base_dist, q1.base_dist)),
        rtol=1e-15,
    )
    different = jdist.TransformedDistribution(
        q0, [AffineTransform(loc, 2 * scale, event_dim=1), ExpTransform()]
    )
    with pytest.raises(NotImplementedError, match="identical transforms"):
        jdist.kl_divergence(p, different)
    # Traced, different parameters: NaN, reported by checkify.
    err, out = fast_jit(checkify.checkify(jdist.kl_divergence))(p, different)
    assert np.isnan(np.asarray(out)).all() and err.get() is not None
    err, out = fast_jit(checkify.checkify(jdist.kl_divergence))(p, q)
    assert err.get() is None
    np.testing.assert_allclose(np.asarray(out), np.asarray(jdist.kl_divergence(p, q)), rtol=1e-14)


def test_diag_normal_mvn(x64):
    """Independent(Normal, 1) against MultivariateNormal both ways (beyond torch): equal to
    torch's MVN–MVN with the diagonal covariance, gradients included."""
    r = rng(5)
    loc, scale = r.normal(size=(2, 4)), r.uniform(0.5, 2, (2, 4))
    m = mvn(r, 4, (), "precision_matrix")
    d = jdist.Independent(jdist.Normal(arr(loc), arr(scale)), 1)
    tl, ts = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    td = TD.MultivariateNormal(tl, scale_tril=torch.diag_embed(ts))
    tm, lm = twin(m)
    _check_tree_grads(d, m, td, tm, [tl, ts, *lm.values()])
    _check_tree_grads(m, d, tm, td, [*lm.values(), tl, ts])


# ------------------------------------------------------------------ low rank at scale
def test_lowrank_dimension_10000(x64):
    """n = 10,000, rank 4: agrees with torch (whose low-rank KL is also O(n r²)), and no
    intermediate of the computation has two axes of length n."""
    r = rng(6)
    n = 10_000
    p, q = lowrank(r, n, 4, ()), lowrank(r, n, 4, ())
    check_against_torch(p, q, twin(p), twin(q), rtol=1e-9, jit=True)
    jaxpr = jax.make_jaxpr(jax.grad(jdist.kl_divergence, (0, 1)))(p, q)

    def shapes(jaxpr):
        for eqn in jaxpr.eqns:
            for v in eqn.outvars:
                yield tuple(getattr(v.aval, "shape", ()))
            for sub in jax.core.jaxprs_in_params(eqn.params):
                yield from shapes(sub)

    big = [s for s in shapes(jaxpr.jaxpr) if sum(d >= n for d in s) >= 2]
    assert not big, big


# ------------------------------------------------------------------ Monte Carlo, jit
# One case per registered pair, with how many leading batch entries are random (Monte Carlo
# cannot see the extreme ones: an outcome of probability 1e-12 is never drawn). Poisson
# against Bernoulli/Binomial is infinite: only jit/vmap are checked there.
PAIR_CASES = {
    "bernoulli-probs": 4,
    "bernoulli-poisson": 3,
    "binomial": None,
    "categorical-probs": None,  # OneHotCategorical runs the same function
    "geometric-probs": 4,
    "poisson": 4,
    "dirichlet": 2,
    "lowrank-lowrank": None,
    "mvn-precision_matrix-scale_tril": None,
    "mvn-lowrank-scale_tril": None,
    "lowrank-mvn-precision_matrix": None,
    "wishart-covariance_matrix-precision_matrix": None,
}


def test_infinite_pairs_jit_vmap(x64):
    """Poisson against Bernoulli/Binomial (infinite, so no Monte Carlo): jit and vmap, one
    compiled call."""
    cases = all_cases()
    pairs = [cases["poisson-bernoulli"], cases["poisson-binomial"], cases["onehot"]]
    stack = lambda d: jax.tree.map(lambda v: jnp.stack([v, v]), d)  # noqa: E731

    def run(pairs):
        return [
            (jdist.kl_divergence(p, q), jax.vmap(jdist.kl_divergence)(stack(p), stack(q)))
            for p, q in pairs
        ]

    for (value, mapped), (p, q) in zip(fast_jit(run)(pairs), pairs, strict=True):
        direct = np.asarray(jdist.kl_divergence(p, q))
        np.testing.assert_allclose(np.asarray(value), direct, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(mapped), np.stack([direct, direct]), rtol=1e-12)


@pytest.mark.parametrize("name", list(PAIR_CASES))
def test_monte_carlo_jit_vmap(name, x64):
    """The analytic KL is within 5 standard errors of mean(log p(x) - log q(x)) over 4000
    draws x ~ p (as ``check_monte_carlo``), and vmap over stacked copies of both arguments
    agrees with it (as ``check_jit_vmap``): one compiled call does the draws, the KL and the
    vmapped KL (compiling once is what keeps this file's runtime in budget; the eager path
    is exercised by the mpmath and boundary tests above)."""
    p, q = case(name)
    k = PAIR_CASES[name]
    if k is not None:
        p, q = (jax.tree.map(lambda x: x[:k], d) for d in (p, q))
    shape = jnp.broadcast_shapes(p.batch_shape, q.batch_shape)
    p, q = p.expand(shape), q.expand(shape)
    n = 4000
    stack = lambda d: jax.tree.map(lambda v: jnp.stack([v, v]), d)  # noqa: E731

    def run(p, q, key):
        x = p.sample(key, (n,))
        mapped = jax.vmap(jdist.kl_divergence)(stack(p), stack(q))
        return jdist.kl_divergence(p, q), mapped, p.log_prob(x) - q.log_prob(x)

    value, mapped, log_ratio = fast_jit(run)(p, q, jax.random.key(0))
    value = np.asarray(value)
    assert not np.isnan(value).any()
    np.testing.assert_allclose(np.asarray(mapped), np.stack([value, value]), rtol=1e-12)
    log_ratio = np.asarray(log_ratio)
    finite = np.isfinite(value)
    mean = log_ratio.mean(axis=0)
    se = log_ratio.std(axis=0) / np.sqrt(n)
    bad = finite & ~(np.abs(mean - value) <= 5 * se + 1e-12 * np.abs(value))
    assert not bad.any(), (value[bad], mean[bad], se[bad])


# --------------------------------------------------------------------------- float32
F32_CASES = [
    "bernoulli-logits",
    "categorical-logits",
    "geometric-probs",
    "poisson",
    "dirichlet",
    "mvn-precision_matrix-scale_tril",
    "wishart-precision_matrix-scale_tril",
]


@pytest.mark.parametrize("name", F32_CASES)
def test_float32_finite(name):
    """float32 on the extreme parameters: no NaN in values or gradients, infinite exactly
    where float64 is (for the float32-rounded parameters), and finite values within 1e-3
    relative of float64 (a few hundred float32 ulps: the conditioning of these parameters,
    e.g. logits of ±30 or concentrations of 1e-3 and 1e3)."""
    with jax.enable_x64(True):
        p64, q64 = case(name)
        # The float64 reference sees the float32-rounded parameters (1 - 1e-12 is 1 there).
        p64, q64 = (jax.tree.map(lambda x: arr(np.float32(x)), d) for d in (p64, q64))
        want = np.asarray(fast_jit(jdist.kl_divergence)(p64, q64))
    p, q = (jax.tree.map(lambda x: jnp.asarray(np.asarray(x), jnp.float32), d) for d in (p64, q64))
    fin = np.isfinite(want)

    def masked_sum(a, b):
        kl = jdist.kl_divergence(a, b)
        return jnp.sum(jnp.where(fin, kl, 0.0)), kl

    (_, got), grads = fast_jit(jax.value_and_grad(masked_sum, (0, 1), has_aux=True))(p, q)
    got = np.asarray(got)
    assert got.dtype == np.float32
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-3, atol=1e-6)
    for g in jax.tree.leaves(grads):
        assert not np.isnan(np.asarray(g)).any()
