"""Relaxed, straight-through, logistic-normal, mixture and RL-policy families.

References: torch.distributions in float64 (RelaxedBernoulli, RelaxedOneHotCategorical,
OneHotCategoricalStraightThrough, LogisticNormal, MixtureSameFamily), scipy.stats mixtures
computed in numpy (Mixture), quadrature of torch's density (RelaxedBernoulli cdf), and for
the policies a ``jdist.Categorical`` built from probabilities computed here in numpy. Every
value check runs in float32 and float64 on inputs rounded to that dtype (``cast_like``).
Samplers: KS / chi-square tests at fixed keys (tests/stats_checks.py).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from scipy import integrate, special, stats

import jdist
from tests.conftest import ATOL, RTOL, assert_close, cast_like
from tests.stats_checks import chi2_check, ks_check, moments_check

TD = torch.distributions
N = 20_000

# Eager op-by-op dispatch compiles every primitive separately, which dominates these small
# checks: members and samplers are evaluated in one compiled program each instead, without
# XLA's backend optimisations (they halve compile time and do not change results here).
FAST = {"xla_backend_optimization_level": 0}
fast_jit = functools.partial(jax.jit, compiler_options=FAST)


@functools.partial(jax.jit, static_argnames=("members",), compiler_options=FAST)
def _members(d, x, members):
    """``{name: d.name(x)}``; ``d.name`` for properties, ``d.name()`` for ``entropy`` and
    ``enumerate_support``."""
    props = ("mean", "variance", "probs", "mode")
    no_args = ("entropy", "enumerate_support")
    out = {}
    for m in members:
        attr = getattr(d, m)
        out[m] = attr if m in props else attr() if m in no_args else attr(x)
    return out


@functools.partial(fast_jit, static_argnames=("n",))
def _draw(d, key, n):
    return d.sample(key, (n,))


def _t(x):
    return torch.tensor(np.asarray(x, np.float64))


def _j(x, dtype):
    return jnp.asarray(np.asarray(x), dtype)


def assert_close_cond(actual, expected, dtype, magnitude, what=""):
    """|actual - expected| <= ATOL + RTOL (|expected| + magnitude): a relative tolerance
    measured against ``magnitude``, the size of the intermediate terms whose rounding
    errors (eps each, times their slope) reach the result — its condition, not a fudge."""
    actual = np.asarray(actual, np.float64)
    expected, magnitude = np.broadcast_arrays(np.asarray(expected, np.float64), magnitude)
    assert not np.any(np.isnan(actual)), f"{what}: NaN in {actual}"
    same_inf = np.isinf(expected) & (actual == expected)
    with np.errstate(invalid="ignore"):
        err = np.where(same_inf, 0.0, np.abs(actual - expected))
    tol = ATOL[dtype] + RTOL[dtype] * (np.abs(expected) + magnitude)
    bad = ~(err <= tol)
    assert not np.any(bad), f"{what}: errors {err[bad][:5]} above {tol[bad][:5]}"


# ------------------------------------------------------------------- RelaxedBernoulli
# temperature, logits: ordinary, very cold / very hot, and logits far in the tails.
RB_TEMPERATURE = np.array([0.5, 0.05, 10.0, 1.0, 0.2, 3.0])
RB_LOGITS = np.array([0.3, -2.0, 1.5, 30.0, -25.0, 0.0])
RB_Y = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999, 1.0 - 1e-6])[:, None]


def _rb_magnitude(temp, logits, y):
    """Size of the terms of log τ + log σ(d) + log σ(-d) - log y - log(1 - y) with
    d = logits - τ logit(y): each is rounded (d's rounding error enters with slope <= 1)."""
    return (
        np.abs(logits)
        + 2 * temp * np.abs(special.logit(y))
        + np.abs(np.log(y))
        + np.abs(np.log1p(-y))
        + np.abs(np.log(temp))
    )


def _relaxed_bernoulli_ref(temperature, logits, y):
    return TD.RelaxedBernoulli(_t(temperature), logits=_t(logits)).log_prob(_t(y)).numpy()


@pytest.mark.parametrize("param", ["logits", "probs"])
def test_relaxed_bernoulli_log_prob_against_torch(param, dtype):
    temp, logits, y = (cast_like(v, dtype) for v in (RB_TEMPERATURE, RB_LOGITS, RB_Y))
    if param == "probs":
        # expit(±30) rounds to 0 / 1 in float32 (the degenerate limits, tested below).
        probs = cast_like(special.expit(np.clip(logits, -14, 14)), dtype)
        logits = special.logit(probs)  # for the tolerance
        d = jdist.RelaxedBernoulli(_j(temp, dtype), probs=_j(probs, dtype))
        ref = TD.RelaxedBernoulli(_t(temp), probs=_t(probs)).log_prob(_t(y)).numpy()
    else:
        d = jdist.RelaxedBernoulli(_j(temp, dtype), logits=_j(logits, dtype))
        ref = _relaxed_bernoulli_ref(temp, logits, y)
    got = d.log_prob(_j(y, dtype))
    assert got.dtype == dtype
    assert_close_cond(got, ref, dtype, _rb_magnitude(temp, logits, y), what=f"log_prob({param})")


def test_relaxed_bernoulli_degenerate_probs(dtype):
    """probs of 0 / 1 are the limits logits = ∓inf: a point mass at 0 / 1, so the density
    at interior points is 0 (log_prob -inf, as the torch formula gives without its clamp)
    and draws sit at the clamped ends; nothing is NaN."""
    d = jdist.RelaxedBernoulli(_j(0.5, dtype), probs=_j([0.0, 1.0], dtype))
    m = _members(
        d, _j([[0.3, 0.3], [0.9, 0.9], [0.0, 0.0], [1.0, 1.0]], dtype), ("log_prob", "cdf")
    )
    np.testing.assert_array_equal(m["log_prob"][:2], -np.inf)
    assert not np.any(np.isnan(m["cdf"]))
    x = np.asarray(_draw(d, jax.random.key(0), 10))
    info = np.finfo(dtype)
    np.testing.assert_array_equal(x, np.broadcast_to([info.tiny, 1 - info.eps], (10, 2)))


def _rb_cdf_by_quadrature(temp, logits, y):
    """P(Y <= y) by integrating torch's density in logit space (smooth there), all points
    at once: x = lo + t (logit(y) - lo) for t in [0, 1], lo 60 widths below the mode."""
    lo = (logits - 60.0) / temp
    hi = special.logit(y)

    def integrand(t):
        x = lo + t * (hi - lo)
        lp = _relaxed_bernoulli_ref(temp, logits, special.expit(x))
        return np.exp(lp + np.log(special.expit(x)) + np.log(special.expit(-x))) * (hi - lo)

    value, err = integrate.quad_vec(integrand, 0.0, 1.0, epsabs=0, epsrel=1e-13, norm="max")
    return value, err


def test_relaxed_bernoulli_cdf_family_against_quadrature(dtype):
    temp = cast_like([0.5, 2.0, 0.1], dtype)
    logits = cast_like([0.7, -1.0, 2.0], dtype)
    ys = np.array([0.05, 0.4, 0.5, 0.97])
    d = jdist.RelaxedBernoulli(_j(temp, dtype), logits=_j(logits, dtype))
    y = cast_like(ys[:, None] * np.ones(3), dtype)
    ref, err = _rb_cdf_by_quadrature(temp, logits, y)
    assert err < 0.1 * (ATOL[np.float64] + RTOL[np.float64] * ref.min())  # 10x below tolerance
    yj = _j(y, dtype)
    # cdf = σ(z), z = τ logit(y) - logits: z's rounding error (eps times the size of its
    # terms) enters log σ(±z) with slope <= 1 and σ(±z) with slope σ(z) σ(-z) <= 1.
    mag = np.abs(logits) + temp * np.abs(special.logit(y))
    slope = ref * (1 - ref)
    names = ("cdf", "survival_function", "log_cdf", "log_survival_function")
    m = _members(d, yj, names)
    assert_close_cond(m["cdf"], ref, dtype, mag * slope, what="cdf")
    assert_close_cond(m["survival_function"], 1.0 - ref, dtype, mag * slope, what="sf")
    assert_close_cond(m["log_cdf"], np.log(ref), dtype, mag, what="log_cdf")
    assert_close_cond(m["log_survival_function"], np.log1p(-ref), dtype, mag, what="log_sf")
    # icdf(u) = σ((logits + logit u)/τ) inverts cdf: the rounding of u = cdf(y) (relative
    # eps, plus cdf's own error above) moves logit(u) by eps (1/(1-u) + mag) and y by
    # y(1 - y)/τ times that.
    mag_icdf = y * (1 - y) / temp * (1 / (1 - ref) + 1 / ref + mag)
    u = np.concatenate([np.asarray(m["cdf"]), [[0.0] * 3, [1.0] * 3]])
    back = _members(d, _j(u, dtype), ("icdf",))["icdf"]
    assert_close_cond(back[:-2], y, dtype, mag_icdf, what="icdf(cdf)")
    np.testing.assert_array_equal(back[-2:], [[0.0] * 3, [1.0] * 3])
    np.testing.assert_array_equal(
        d.cdf(_j([[-1.0], [0.0], [1.0], [2.0]], dtype)), [[0] * 3, [0] * 3, [1] * 3, [1] * 3]
    )
    g = fast_jit(
        jax.grad(
            lambda t: jnp.sum(jdist.RelaxedBernoulli(t, logits=0.5).cdf(_j([0.0, 0.3, 1.0], dtype)))
        )
    )(jnp.asarray(0.7, dtype))
    assert np.isfinite(g)


def test_relaxed_bernoulli_sampler(dtype):
    # Float32 spaces its values 6e-8 apart below 1, so a cold temperature piles draws onto
    # the grid next to 1 (σ(-4) of them at τ = 0.3) and KS sees the grid: use τ = 0.7 there.
    temp = np.array([0.3 if dtype == np.float64 else 0.7, 1.0, 4.0])
    logits = np.array([1.0, -0.5, 0.2])
    temp, logits = cast_like(temp, dtype), cast_like(logits, dtype)
    d = jdist.RelaxedBernoulli(_j(temp, dtype), logits=_j(logits, dtype))
    y = np.asarray(d.sample(jax.random.key(0), (N,)), np.float64)
    assert y.shape == (N, 3) and np.all((y > 0) & (y < 1))
    for j in range(3):
        ks_check(y[:, j], lambda v, j=j: special.expit(temp[j] * special.logit(v) - logits[j]))
    # P(Y > 1/2) = σ(logits) at every temperature (Maddison et al. 2017, Prop. 3).
    above = (y > 0.5).mean(0)
    se = np.sqrt(special.expit(logits) * special.expit(-logits) / N)
    assert np.all(np.abs(above - special.expit(logits)) < 5 * se)
    # Cold samples that round to 0 or 1 are clamped: log_prob stays finite.
    cold = jdist.RelaxedBernoulli(0.01, logits=jnp.array([0.0, 3.0]))
    x = cold.sample(jax.random.key(1), (2000,))
    assert np.all(np.isfinite(cold.log_prob(x)))


# ------------------------------------------------------------- RelaxedOneHotCategorical
RC_LOGITS = np.array([[0.1, -1.0, 2.0, 0.3], [20.0, -20.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
RC_TEMPERATURE = np.array([0.7, 0.1, 5.0])


def _torch_relaxed_one_hot(temp, y, **param):
    """torch's log_prob row by row (torch's temperature does not broadcast as a batch)."""
    ((name, value),) = param.items()
    return np.stack(
        [
            TD.RelaxedOneHotCategorical(_t(t), **{name: _t(v)}).log_prob(_t(y[:, b])).numpy()
            for b, (t, v) in enumerate(zip(temp, value, strict=True))
        ],
        axis=-1,
    )


@pytest.mark.parametrize("param", ["logits", "probs"])
def test_relaxed_one_hot_log_prob_against_torch(param, dtype):
    temp, logits = cast_like(RC_TEMPERATURE, dtype), cast_like(RC_LOGITS, dtype)
    probs = cast_like(special.softmax(logits, axis=-1), dtype)
    # Points on the simplex, away from float32 underflow: torch draws at a warm
    # temperature, plus the barycentre and a near-vertex point.
    torch.manual_seed(0)
    y = TD.RelaxedOneHotCategorical(_t(2.0), logits=_t(np.zeros(4))).sample((5, 3)).numpy()
    y = np.concatenate(
        [y, np.full((1, 3, 4), 0.25), np.tile([[[1 - 3e-4, 1e-4, 1e-4, 1e-4]]], (1, 3, 1))]
    )
    y = cast_like(y, dtype)
    if param == "probs":
        d = jdist.RelaxedOneHotCategorical(_j(temp, dtype), probs=_j(probs, dtype))
        # torch clamps probs to >= eps (2e-16) when turning them into logits; the
        # unclamped distribution (row 2 has a probability of e^-40) is its logits form.
        ref = _torch_relaxed_one_hot(temp, y, logits=np.log(probs))
    else:
        d = jdist.RelaxedOneHotCategorical(_j(temp, dtype), logits=_j(logits, dtype))
        ref = _torch_relaxed_one_hot(temp, y, logits=logits)
    got = d.log_prob(_j(y, dtype))
    assert got.shape == (7, 3) and got.dtype == dtype
    # Condition: the result sums the scores logits_k - (τ + 1) log y_k and K times their
    # logsumexp; each is rounded to eps times its size.
    terms = np.abs(logits) + (temp[:, None] + 1) * np.abs(np.log(y))
    mag = np.sum(terms, axis=-1) + 4 * np.max(terms, axis=-1)
    assert_close_cond(got, ref, dtype, mag, what=f"log_prob({param})")


def test_relaxed_one_hot_masked_categories(dtype):
    logits = np.array([0.5, -np.inf, 1.0, -0.2])
    d = jdist.RelaxedOneHotCategorical(_j(0.6, dtype), logits=_j(logits, dtype))
    y = np.asarray(_draw(d, jax.random.key(2), 50), np.float64)
    assert np.all(y[:, 1] == 0)
    # The density is the Concrete density of the unmasked categories.
    kept = [0, 2, 3]
    ref_d = TD.RelaxedOneHotCategorical(_t(cast_like(0.6, dtype)), logits=_t(logits[kept]))
    ref = ref_d.log_prob(_t(y[:, kept]))
    terms = np.abs(logits[kept]) + 1.6 * np.abs(np.log(y[:, kept]))
    mag = np.sum(terms, axis=-1) + 3 * np.max(terms, axis=-1)
    off = np.array([[0.3, 0.1, 0.3, 0.3]])
    lp = _members(d, _j(np.concatenate([y, off]), dtype), ("log_prob",))["log_prob"]
    assert_close_cond(lp[:-1], ref.numpy(), dtype, mag, what="masked")
    assert lp[-1] == -np.inf
    g = fast_jit(
        jax.grad(
            lambda lg, t: jnp.sum(
                jdist.RelaxedOneHotCategorical(t, logits=lg).log_prob(_j(y, dtype))
            ),
            argnums=(0, 1),
        )
    )(_j(logits, dtype), _j(0.6, dtype))
    assert all(np.all(np.isfinite(x)) for x in g)


def test_relaxed_one_hot_sampler():
    logits = np.array([0.5, -1.0, 1.2])
    temp = 0.4
    d = jdist.RelaxedOneHotCategorical(temp, logits=jnp.asarray(logits, jnp.float32))
    y = np.asarray(d.sample(jax.random.key(3), (N,)), np.float64)
    assert np.allclose(y.sum(-1), 1.0, atol=1e-5) and np.all(y > 0)
    # argmax is an exact Categorical draw (the Gumbel-max trick).
    chi2_check(y.argmax(-1), special.softmax(logits))
    # τ log(y_0 / y_k) = (logits_0 + G_0) - (logits_k + G_k): a Logistic(logits_0 - logits_k).
    for k in (1, 2):
        stat = temp * (np.log(y[:, 0]) - np.log(y[:, k]))
        ks_check(stat, stats.logistic(loc=logits[0] - logits[k]).cdf)


# -------------------------------------------------------- rsample gradients, temperature
def _finite_difference(f, x, h=1e-6):
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(jnp.asarray(x + e)) - f(jnp.asarray(x - e))) / (2 * h)
    return grad


@pytest.mark.parametrize("family", ["RelaxedBernoulli", "RelaxedOneHotCategorical"])
def test_relaxed_rsample_gradients_match_finite_differences(family):
    with jax.enable_x64(True):
        cls = getattr(jdist, family)
        logits = jnp.array([0.3, -1.2, 0.8], jnp.float64)
        weights = jnp.array([1.0, -2.0, 0.5], jnp.float64)
        key = jax.random.key(4)

        def f(lg, t):
            return jnp.sum(weights * jnp.sin(cls(t, logits=lg).rsample(key, (3,))))

        g_logits, g_temp = fast_jit(jax.grad(f, argnums=(0, 1)))(logits, jnp.float64(0.7))
        f_jit = fast_jit(f)
        np.testing.assert_allclose(
            g_logits, _finite_difference(lambda lg: f_jit(lg, 0.7), logits), rtol=1e-6, atol=1e-9
        )
        np.testing.assert_allclose(
            g_temp, _finite_difference(lambda t: f_jit(logits, t), 0.7), rtol=1e-6, atol=1e-9
        )
        assert np.all(g_logits != 0) and g_temp != 0


def test_relaxed_bernoulli_pathwise_gradient_is_unbiased():
    """Mean of ∂/∂logits of rsample matches dE[Y]/dlogits = ∫ σ'((l + logit u)/τ)/τ du."""
    temp, logits = 0.6, 0.4

    def integrand(u):
        z = (logits + special.logit(u)) / temp
        return special.expit(z) * special.expit(-z) / temp

    truth, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-12)
    grads = jax.vmap(
        jax.grad(lambda lg, k: jdist.RelaxedBernoulli(temp, logits=lg).rsample(k)),
        in_axes=(None, 0),
    )(jnp.float32(logits), jax.random.split(jax.random.key(5), N))
    grads = np.asarray(grads, np.float64)
    assert abs(grads.mean() - truth) < 5 * grads.std() / np.sqrt(N)


@pytest.mark.parametrize("family", ["RelaxedBernoulli", "RelaxedOneHotCategorical"])
def test_temperature_is_a_leaf_and_never_retraces(family):
    cls = getattr(jdist, family)
    logits = jnp.array([0.3, -1.2, 0.8])
    d = cls(jnp.float32(0.5), logits=logits)
    assert any(leaf is d.temperature for leaf in jax.tree.leaves(d))
    traces = []

    @jax.jit
    def f(dist, key):
        traces.append(1)
        x = dist.rsample(key)
        return dist.log_prob(x)

    key = jax.random.key(0)
    outs = [f(cls(jnp.float32(t), logits=logits), key) for t in (0.5, 0.9, 2.0)]
    assert len(traces) == 1
    assert not np.allclose(outs[0], outs[1])

    @jax.jit
    def g(t):  # a temperature passed as an argument and used inside
        traces.append(1)
        return cls(t, logits=logits).rsample(key)

    g(0.5), g(0.7), g(1.5)
    assert len(traces) == 2
    # Gradient w.r.t. the distribution includes the temperature.
    grad = jax.grad(lambda dist: jnp.sum(dist.rsample(key) ** 2))(d)
    assert grad.temperature != 0


# ------------------------------------------------- OneHotCategoricalStraightThrough
def test_straight_through_forward_and_gradient_match_torch(dtype):
    logits = cast_like(np.array([[0.2, -1.0, 1.5], [3.0, 0.0, -2.0]]), dtype)
    w = np.array([1.0, -2.0, 0.5])
    d = jdist.OneHotCategoricalStraightThrough(logits=_j(logits, dtype))
    key = jax.random.key(6)
    hard = d.sample(key, (4,))
    np.testing.assert_array_equal(d.rsample(key, (4,)), hard)
    assert np.all(hard.sum(-1) == 1) and hard.dtype == dtype

    def loss(lg):
        x = jdist.OneHotCategoricalStraightThrough(logits=lg).rsample(key, (4,))
        return jnp.sum(jnp.square(x) * _j(w, dtype))

    g = fast_jit(jax.grad(loss))(_j(logits, dtype))
    # torch: the same hard samples pushed through torch's straight-through rsample formula.
    tl = _t(logits).requires_grad_(True)
    td = TD.OneHotCategoricalStraightThrough(logits=tl)
    s = _t(np.asarray(hard)) + (td.probs - td.probs.detach())  # torch's rsample given its draw
    torch.sum(s**2 * _t(w)).backward()
    assert_close(g, tl.grad.numpy(), dtype, what="straight-through grad")
    assert_close(
        d.log_prob(hard),
        TD.OneHotCategorical(logits=_t(logits)).log_prob(_t(np.asarray(hard))).numpy(),
        dtype,
    )
    with pytest.raises(ValueError, match="OneHotCategoricalStraightThrough"):
        jdist.OneHotCategoricalStraightThrough()


def test_straight_through_sampler():
    probs = np.array([0.1, 0.6, 0.3])
    d = jdist.OneHotCategoricalStraightThrough(probs=jnp.asarray(probs, jnp.float32))
    x = np.asarray(d.rsample(jax.random.key(7), (N,)))
    chi2_check(x.argmax(-1), probs)


# -------------------------------------------------------------------- LogisticNormal
LN_LOC = np.array([[0.0, 1.0, -2.0], [3.0, -4.0, 0.5]])
LN_SCALE = np.array([[1.0, 0.5, 2.0], [0.1, 3.0, 1.0]])


def test_logistic_normal_log_prob_against_torch(dtype):
    loc, scale = cast_like(LN_LOC, dtype), cast_like(LN_SCALE, dtype)
    torch.manual_seed(1)
    ref_d = TD.LogisticNormal(_t(loc), _t(scale))
    y = ref_d.sample((6,)).numpy()  # (6, 2, 4), incl. points near the simplex's corners
    y = cast_like(np.concatenate([y, np.full((1, 2, 4), 0.25)]), dtype)
    d = jdist.LogisticNormal(_j(loc, dtype), _j(scale, dtype))
    assert d.batch_shape == (2,) and d.event_shape == (4,)
    got = d.log_prob(_j(y, dtype))
    # The rounded y no longer sums to 1 exactly. jdist reads the stick fractions from
    # y_k / Σ_{j>k} y_j (reverse cumulative sums, accurate near corners), torch from
    # y_k / (1 - Σ_{j<=k} y_j); so the reference is torch's density at the exactly
    # normalised point with jdist's fractions: x from the reverse sums (float64), then
    # torch's forward transform.
    rest = np.flip(np.cumsum(np.flip(y[..., 1:], -1), -1), -1)
    log_head, log_rest = np.log(y[..., :-1]), np.log(rest)
    x = log_head - log_rest + np.log(np.arange(3, 0, -1))
    y_ref = TD.transforms.StickBreakingTransform()(_t(x))
    ref = ref_d.log_prob(y_ref).numpy()
    # Condition: x_k is rounded to eps (|log y_k| + |log rest_k| + K) and enters the
    # Gaussian term with slope |x - loc|/scale² and the log-det with slope <= 2; the
    # Gaussian terms z²/2 and the log-det terms are rounded to eps times their size.
    z = (x - loc) / scale
    dx = np.abs(log_head) + np.abs(log_rest) + 4
    mag = np.sum(dx * (np.abs(z) / scale + 2) + z**2 / 2 + np.abs(log_head) + np.abs(log_rest), -1)
    assert_close_cond(got, ref, dtype, mag, what="log_prob")
    assert got.dtype == dtype


def test_logistic_normal_sampler_and_scalar_params():
    d = jdist.LogisticNormal(jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 0.3, 2.0]))
    y = _draw(d, jax.random.key(8), N)
    assert y.shape == (N, 4) and np.allclose(np.asarray(y).sum(-1), 1.0, atol=1e-5)
    x = np.asarray(fast_jit(jdist.transforms.StickBreakingTransform().inverse)(y), np.float64)
    for k, (m, s) in enumerate(zip([0.5, -1.0, 2.0], [1.0, 0.3, 2.0], strict=True)):
        ks_check(x[:, k], stats.norm(m, s).cdf)
    scalar = jdist.LogisticNormal(0.0, 1.0)  # torch: a scalar base becomes K = 1
    assert scalar.batch_shape == () and scalar.event_shape == (2,)
    ref = TD.LogisticNormal(_t(0.0), _t(1.0)).log_prob(_t([0.3, 0.7])).numpy()
    assert_close(scalar.log_prob(jnp.array([0.3, 0.7])), ref, np.float32)
    g = fast_jit(
        jax.grad(
            lambda loc: jnp.sum(jdist.LogisticNormal(loc, 1.0).rsample(jax.random.key(0)) ** 2)
        )
    )(jnp.zeros(3))
    assert np.all(np.isfinite(g)) and np.any(g != 0)
    with pytest.raises(NotImplementedError, match="LogisticNormal"):
        d.mean  # noqa: B018


# ----------------------------------------------------------------- MixtureSameFamily
rng = np.random.default_rng(1)
MIX_LOGITS = rng.normal(size=(3, 4)) * 2.0
MIX_LOC = rng.normal(size=(3, 4)) * 3.0
MIX_SCALE = np.exp(rng.normal(size=(3, 4)) * 0.7)
X = np.array([-40.0, -5.0, -1.0, 0.0, 0.7, 3.0, 9.0, 40.0])[:, None]


def _torch_msf(logits, loc, scale):
    return TD.MixtureSameFamily(TD.Categorical(logits=_t(logits)), TD.Normal(_t(loc), _t(scale)))


def test_mixture_same_family_against_torch(dtype):
    logits, loc, scale = (cast_like(v, dtype) for v in (MIX_LOGITS, MIX_LOC, MIX_SCALE))
    d = jdist.MixtureSameFamily(
        jdist.Categorical(logits=_j(logits, dtype)), jdist.Normal(_j(loc, dtype), _j(scale, dtype))
    )
    ref = _torch_msf(logits, loc, scale)
    assert d.batch_shape == (3,) and d.event_shape == ()
    x = cast_like(X, dtype)
    xj = _j(x, dtype)
    # Gaussian log densities -z²/2 with z up to ~40/min(scale): z is rounded to eps |z| and
    # z²/2 to eps z² (condition of log_prob, log_cdf and log_sf alike).
    z2 = np.max(((x[..., None] - loc) / scale) ** 2, axis=-1)
    names = ("log_prob", "cdf", "log_cdf", "survival_function", "log_survival_function")
    m = _members(d, xj, names + ("mean", "variance"))
    assert_close_cond(m["log_prob"], ref.log_prob(_t(x)).numpy(), dtype, 2 * z2, "log_prob")
    assert_close(m["cdf"], ref.cdf(_t(x)).numpy(), dtype, what="cdf")
    assert_close(m["mean"], ref.mean.numpy(), dtype, what="mean")
    assert_close(m["variance"], ref.variance.numpy(), dtype, what="variance")
    # Log forms in the far tails against scipy (torch has no log_cdf).
    w = special.softmax(logits, -1)
    ref_log_cdf = special.logsumexp(np.log(w) + stats.norm.logcdf(x[..., None], loc, scale), -1)
    ref_log_sf = special.logsumexp(np.log(w) + stats.norm.logsf(x[..., None], loc, scale), -1)
    assert_close_cond(m["log_cdf"], ref_log_cdf, dtype, 2 * z2, what="log_cdf")
    assert_close_cond(m["log_survival_function"], ref_log_sf, dtype, 2 * z2, what="log_sf")
    assert_close(m["survival_function"], np.exp(ref_log_sf), dtype, what="sf")
    assert np.all(np.isfinite(m["log_cdf"]))
    with pytest.raises(NotImplementedError):
        d.rsample(jax.random.key(0))
    with pytest.raises(NotImplementedError, match="entropy"):
        d.entropy()


def test_mixture_same_family_multivariate_against_torch(dtype):
    loc = cast_like(rng.normal(size=(2, 3, 2)), dtype)
    scale = cast_like(np.exp(rng.normal(size=(2, 3, 2)) * 0.3), dtype)
    logits = cast_like([0.1, -0.5, 1.0], dtype)  # mixture batch () broadcasts against (2,)
    d = jdist.MixtureSameFamily(
        jdist.Categorical(logits=_j(logits, dtype)),
        jdist.Independent(jdist.Normal(_j(loc, dtype), _j(scale, dtype)), 1),
    )
    ref = TD.MixtureSameFamily(
        TD.Categorical(logits=_t(logits)), TD.Independent(TD.Normal(_t(loc), _t(scale)), 1)
    )
    assert d.batch_shape == (2,) and d.event_shape == (2,)
    x = cast_like(rng.normal(size=(5, 2, 2)) * 2, dtype)
    m = _members(d, _j(x, dtype), ("log_prob", "mean", "variance"))
    assert_close(m["log_prob"], ref.log_prob(_t(x)).numpy(), dtype)
    assert_close(m["mean"], ref.mean.numpy(), dtype, what="mean")
    assert_close(m["variance"], ref.variance.numpy(), dtype, what="variance")
    with pytest.raises(NotImplementedError, match="univariate"):
        d.cdf(_j(x, dtype))
    s = np.asarray(_draw(d, jax.random.key(9), N), np.float64)
    assert s.shape == (N, 2, 2)
    moments_check(s, np.asarray(ref.mean), np.asarray(ref.variance))


def test_mixture_same_family_samplers():
    d = jdist.MixtureSameFamily(
        jdist.Categorical(logits=jnp.asarray(MIX_LOGITS[0], jnp.float32)),
        jdist.Normal(jnp.asarray(MIX_LOC[0], jnp.float32), jnp.asarray(MIX_SCALE[0], jnp.float32)),
    )
    x = np.asarray(_draw(d, jax.random.key(10), N), np.float64)
    w = special.softmax(MIX_LOGITS[0])
    ks_check(x, lambda v: np.sum(w * stats.norm.cdf(v[:, None], MIX_LOC[0], MIX_SCALE[0]), -1))
    # Discrete components (3 Categoricals over 5 values): integer draws, chi-square
    # against the mixed pmf.
    comp_probs = special.softmax(np.random.default_rng(2).normal(size=(3, 5)) * 2, -1)
    wp = np.array([0.2, 0.5, 0.3])
    p = jdist.MixtureSameFamily(
        jdist.Categorical(probs=jnp.asarray(wp, jnp.float32)),
        jdist.Categorical(probs=jnp.asarray(comp_probs, jnp.float32)),
    )
    k = np.asarray(_draw(p, jax.random.key(11), N))
    assert jnp.issubdtype(k.dtype, jnp.integer)
    pmf = wp @ comp_probs
    chi2_check(k, pmf)
    assert_close(p.log_prob(jnp.arange(5)), np.log(pmf), np.float32)


def test_mixture_same_family_shape_errors_and_support():
    with pytest.raises(ValueError, match="Categorical"):
        jdist.MixtureSameFamily(jdist.Normal(0.0, 1.0), jdist.Normal(jnp.zeros(3), 1.0))
    with pytest.raises(ValueError, match="4 categories"):
        jdist.MixtureSameFamily(
            jdist.Categorical(logits=jnp.zeros(4)), jdist.Normal(jnp.zeros(3), 1.0)
        )
    with pytest.raises(ValueError, match=r"\(2,\).*\(5,\)"):
        jdist.MixtureSameFamily(
            jdist.Categorical(logits=jnp.zeros((2, 3))), jdist.Normal(jnp.zeros((5, 3)), 1.0)
        )
    # Support is the union of the components' supports (Uniform components).
    u = jdist.MixtureSameFamily(
        jdist.Categorical(probs=jnp.array([0.5, 0.5])),
        jdist.Uniform(jnp.array([0.0, 5.0]), jnp.array([1.0, 6.0])),
        validate_args=True,
    )
    np.testing.assert_allclose(u.log_prob(jnp.array([0.5, 5.5])), np.log(0.5), rtol=1e-6)
    assert np.all(np.asarray(u.support.check(jnp.array([0.5, 3.0, 5.5]))) == [True, False, True])
    with pytest.raises(ValueError, match="support"):
        u.log_prob(jnp.array([3.0]))


# --------------------------------------------------------------------------- Mixture
def test_mixture_of_different_families_against_scipy(dtype):
    loc, scale = cast_like(MIX_LOC[:, :3].T, dtype), cast_like(MIX_SCALE[:, :3].T, dtype)
    logits = cast_like(MIX_LOGITS[:, :3], dtype)
    rate = cast_like(1.0 / (loc[2] ** 2 + 0.5), dtype)
    comps = [
        jdist.Normal(_j(loc[0], dtype), _j(scale[0], dtype)),
        jdist.Laplace(_j(loc[1], dtype), _j(scale[1], dtype)),
        jdist.Exponential(_j(rate, dtype)),
    ]
    d = jdist.Mixture(jdist.Categorical(logits=_j(logits, dtype)), comps)
    assert d.batch_shape == (3,) and d.event_shape == ()
    refs = [
        stats.norm(loc[0], scale[0]),
        stats.laplace(loc[1], scale[1]),
        stats.expon(scale=1 / rate),
    ]
    w = special.softmax(logits, -1)
    x = cast_like(np.array([-3.0, -0.5, 0.2, 1.0, 2.5, 6.0])[:, None], dtype)
    xj = _j(x, dtype)
    with np.errstate(divide="ignore"):
        ref_lp = special.logsumexp(np.log(w) + np.stack([r.logpdf(x) for r in refs], -1), -1)
    ref_cdf = np.sum(w * np.stack([r.cdf(x) for r in refs], -1), -1)
    names = ("log_prob", "cdf", "log_cdf", "survival_function", "mean", "variance")
    m = _members(d, xj, names)
    assert_close(m["log_prob"], ref_lp, dtype, what="log_prob")
    assert_close(m["cdf"], ref_cdf, dtype, what="cdf")
    assert_close(m["log_cdf"], np.log(ref_cdf), dtype, what="log_cdf")
    assert_close(m["survival_function"], 1 - ref_cdf, dtype, what="sf")
    means = np.stack([r.mean() for r in refs], -1)
    variances = np.stack([r.var() for r in refs], -1)
    mean = np.sum(w * means, -1)
    assert_close(m["mean"], mean, dtype, what="mean")
    ref_var = np.sum(w * variances, -1) + np.sum(w * (means - mean[:, None]) ** 2, -1)
    assert_close(m["variance"], ref_var, dtype, what="variance")
    # Negative values: outside the Exponential's support but inside the mixture's.
    assert np.all(np.isfinite(m["log_prob"]))
    assert d.expand((2, 3)).batch_shape == (2, 3)


def test_mixture_sampler_and_agreement_with_same_family():
    w = np.array([0.3, 0.5, 0.2])
    comps = [jdist.Normal(-2.0, 0.5), jdist.Laplace(1.0, 0.7), jdist.Gumbel(4.0, 1.0)]
    d = jdist.Mixture(jdist.Categorical(probs=jnp.asarray(w, jnp.float32)), comps)
    x = np.asarray(_draw(d, jax.random.key(12), N), np.float64)
    refs = [stats.norm(-2.0, 0.5), stats.laplace(1.0, 0.7), stats.gumbel_r(4.0, 1.0)]
    ks_check(x, lambda v: sum(wi * r.cdf(v) for wi, r in zip(w, refs, strict=True)))
    # A Mixture of Normals equals the MixtureSameFamily of the stacked Normal.
    locs, scales = np.array([-1.0, 0.5, 2.0]), np.array([0.3, 1.0, 2.0])
    mix = jdist.Categorical(probs=jnp.asarray(w, jnp.float32))
    a = jdist.Mixture(mix, [jdist.Normal(m, s) for m, s in zip(locs, scales, strict=True)])
    b = jdist.MixtureSameFamily(
        mix, jdist.Normal(jnp.asarray(locs, jnp.float32), jnp.asarray(scales, jnp.float32))
    )
    v = jnp.linspace(-4.0, 5.0, 7)
    ma, mb = (_members(m, v, ("log_prob", "variance")) for m in (a, b))
    np.testing.assert_allclose(ma["log_prob"], mb["log_prob"], rtol=1e-6)
    np.testing.assert_allclose(ma["variance"], mb["variance"], rtol=1e-6)
    # The component list is a pytree child list: jit, grad.
    g = fast_jit(jax.grad(lambda m: jnp.sum(m.log_prob(v))))(a)
    assert type(g) is jdist.Mixture and len(g.components) == 3
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(g))
    with pytest.raises(ValueError, match="component 1"):
        jdist.Mixture(
            mix, [jdist.Normal(0.0, 1.0), jdist.Normal(jnp.zeros(2), 1.0), jdist.Normal(0.0, 1.0)]
        )
    with pytest.raises(ValueError, match="3 categories"):
        jdist.Mixture(mix, [jdist.Normal(0.0, 1.0)] * 2)


# -------------------------------------------------------------------------- policies
PREFS = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 2.0, 0.0, -np.inf]])
EPSILONS = np.array([0.1, 0.0, 1.0])


def _greedy_probs(prefs):
    mask = prefs == prefs.max(-1, keepdims=True)
    return mask / mask.sum(-1, keepdims=True)


def _check_against_categorical(d, probs, dtype):
    ref = jdist.Categorical(probs=_j(probs, dtype))
    actions = jnp.arange(probs.shape[-1])[:, None]
    names = ("log_prob", "probs", "entropy", "mean", "variance", "mode", "enumerate_support")
    got, want = _members(d, actions, names), _members(ref, actions, names)
    with np.errstate(divide="ignore"):
        assert_close(got["log_prob"], np.log(probs.T), dtype, what="log_prob")
    for name in names[:-2]:
        assert_close(got[name], want[name], dtype, what=f"{name} vs Categorical")
        assert got[name].dtype == dtype
    np.testing.assert_array_equal(got["mode"], want["mode"])
    np.testing.assert_array_equal(got["enumerate_support"], want["enumerate_support"])


def test_greedy_against_categorical(dtype):
    prefs = cast_like(PREFS, dtype)
    d = jdist.Greedy(_j(prefs, dtype))
    probs = _greedy_probs(prefs)
    _check_against_categorical(d, probs, dtype)
    # Ties: log_prob of a greedy action is -log(#ties); entropy log(#ties).
    assert_close(d.entropy(), np.log([2.0, 4.0, 1.0]), dtype)
    assert np.asarray(d.mode).tolist() == [1, 0, 1]  # first greedy action
    g = jax.grad(lambda p: jnp.sum(jdist.Greedy(p).log_prob(jnp.array([1, 0, 1]))))(
        _j(prefs, dtype)
    )
    assert np.all(g == 0)  # argmax is piecewise constant: no gradient to the preferences


def test_epsilon_greedy_against_categorical(dtype):
    prefs, eps = cast_like(PREFS, dtype), cast_like(EPSILONS, dtype)
    d = jdist.EpsilonGreedy(_j(prefs, dtype), _j(eps, dtype))
    probs = (1 - eps[:, None]) * _greedy_probs(prefs) + eps[:, None] / 4
    _check_against_categorical(d, probs, dtype)

    # d log p / dε = (1/K - greedy_probs) / p: finite, including ε = 0 and 1.
    def lp(e):
        return jdist.EpsilonGreedy(_j(prefs, dtype), e).log_prob(jnp.array([[0], [1], [2], [3]]))

    jac = fast_jit(jax.jacobian(lambda e: jnp.sum(jnp.where(jnp.isfinite(lp(e)), lp(e), 0.0), 0)))(
        _j(eps, dtype)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.sum(np.where(probs.T > 0, (0.25 - _greedy_probs(prefs).T) / probs.T, 0.0), 0)
    assert_close(np.diag(np.asarray(jac)), ref, dtype, what="d/dε")
    # Scalar epsilon broadcasts.
    assert jdist.EpsilonGreedy(_j(prefs, dtype), 0.2).batch_shape == (3,)


def test_policy_samplers():
    prefs = jnp.asarray(PREFS, jnp.float32)
    greedy = np.asarray(_draw(jdist.Greedy(prefs), jax.random.key(13), N))
    eps = np.array([0.3, 0.5, 0.2])
    eg = jdist.EpsilonGreedy(prefs, jnp.asarray(eps, jnp.float32))
    explore = np.asarray(_draw(eg, jax.random.key(14), N))
    explore_probs = (1 - eps[:, None]) * _greedy_probs(PREFS) + eps[:, None] / 4
    for b in range(3):
        probs = _greedy_probs(PREFS[b])
        if np.count_nonzero(probs) == 1:  # no ties: deterministic
            assert np.all(greedy[:, b] == np.argmax(probs))
        else:
            chi2_check(greedy[:, b], probs)
        chi2_check(explore[:, b], explore_probs[b])
    assert jnp.issubdtype(explore.dtype, jnp.integer)


def test_epsilon_is_a_leaf_and_never_retraces():
    traces = []

    @jax.jit
    def act(policy, key):
        traces.append(1)
        return policy.sample(key), policy.log_prob(0)

    prefs = jnp.array([0.0, 1.0, 0.5])
    for e in (0.1, 0.2, 0.05):
        act(jdist.EpsilonGreedy(prefs, jnp.float32(e)), jax.random.key(0))
    assert len(traces) == 1
    g = fast_jit(jax.grad(lambda p: p.log_prob(0)))(jdist.EpsilonGreedy(prefs, 0.1))
    assert g.epsilon != 0 and isinstance(g, jdist.EpsilonGreedy)
    # They are Categoricals: usable as a MixtureSameFamily's mixing distribution.
    m = jdist.MixtureSameFamily(jdist.EpsilonGreedy(prefs, 0.1), jdist.Normal(jnp.zeros(3), 1.0))
    assert np.isfinite(_members(m, 0.3, ("log_prob",))["log_prob"])
