"""Unbiased, low-variance gradient estimators for Bernoulli and categorical latents.

Every function here returns a scalar surrogate whose ``jax.grad`` w.r.t. ``logits`` is
an unbiased single-sample estimate of ``∇_logits E[f(b)]``: ``f`` is a *loss*, and
minimising the surrogate minimises ``E[f(b)]`` (pass ``-reward`` to maximise a reward).
The surrogate's value is an unbiased estimate of ``E[f(b)]`` itself. Average over
samples with ``jax.vmap`` over keys.

* :func:`rebar` (Tucker et al. 2017) and :func:`relax` (Grathwohl et al. 2018), for
  ``kind="bernoulli"`` or ``"categorical"``, with :func:`rebar_variance_loss` and
  :func:`relax_variance_loss` to fit their control-variate parameters.
* :func:`arm` (Yin & Zhou 2019) and :func:`disarm` (Dong, Mnih & Tucker 2020) for
  vectors of independent Bernoullis.

Shapes: Bernoulli ``logits`` of any shape, ``b`` of the same shape with values in
{0, 1}. Categorical ``logits`` of shape ``batch + (K,)``, ``b`` one-hot of that shape.
``f(b)`` returns a scalar. REBAR also evaluates ``f`` at relaxed samples (values in
(0, 1) or on the simplex), so there ``f`` must accept those and be differentiable.
Logits must be finite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp

from jdist._math import float_dtype

Array = jax.Array
Kind = Literal["bernoulli", "categorical"]

__all__ = [
    "arm",
    "disarm",
    "rebar",
    "rebar_variance_loss",
    "relax",
    "relax_variance_loss",
]

_sg = jax.lax.stop_gradient


def _float_logits(logits) -> Array:
    logits = jnp.asarray(logits)
    return logits.astype(float_dtype(logits))


def _open_uniform(key: Array, shape, dtype) -> Array:
    """Uniform on (0, 1), never exactly 0, so logs and logits below stay finite."""
    return jax.random.uniform(key, shape, dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)


def _check_kind(name: str, kind: str) -> None:
    if kind not in ("bernoulli", "categorical"):
        raise ValueError(f"{name}: kind must be 'bernoulli' or 'categorical', got {kind!r}")


class _Noise:
    """The two noise draws of REBAR/RELAX, and z, b, z̃ as functions of the logits.

    ``z``: the reparameterised logistic (Bernoulli) or Gumbel (categorical) sample, with
    ``b = H(z)``; ``z̃ ~ p(z | b)`` reparameterised with independent noise ``v`` (Tucker et
    al. 2017, §3 and appendix; Grathwohl et al. 2018, appendix B).
    """

    def __init__(self, key: Array, logits: Array, kind: str) -> None:
        u_key, v_key = jax.random.split(key)
        self.kind = kind
        shape, dtype = logits.shape, logits.dtype
        self.v = _open_uniform(v_key, shape, dtype)
        if kind == "bernoulli":
            u = _open_uniform(u_key, shape, dtype)
            self.noise = jnp.log(u) - jnp.log1p(-u)  # standard logistic
            self.b = (logits + self.noise > 0).astype(dtype)
        else:
            self.noise = jax.random.gumbel(u_key, shape, dtype)
            self.index = jnp.argmax(logits + self.noise, axis=-1)
            self.b = jax.nn.one_hot(self.index, shape[-1], dtype=dtype)

    def z(self, logits: Array) -> Array:
        if self.kind == "bernoulli":
            return logits + self.noise
        return jax.nn.log_softmax(logits, axis=-1) + self.noise

    def z_tilde(self, logits: Array) -> Array:
        v = self.v
        if self.kind == "bernoulli":
            # b = 1: z̃ = log(1 + v/(1-v) · 1/(1-p)); b = 0: z̃ = -log(1 + v/(1-v) · 1/p),
            # with p = σ(θ), log 1/(1-p) = softplus(θ), log 1/p = softplus(-θ)
            # (Tucker et al. 2017, appendix; Grathwohl et al. 2018, appendix B).
            # With s = 2b - 1 both cases read:
            s = 2.0 * self.b - 1.0
            return s * jax.nn.softplus(jnp.log(v) - jnp.log1p(-v) + jax.nn.softplus(s * logits))
        # Categorical (Grathwohl et al. 2018, appendix B, with normalised log-probs θ):
        # the max z̃_b = -log(-log v_b) ~ Gumbel(0); every other z̃_i is Gumbel(θ_i)
        # truncated below z̃_b, z̃_i = -log(-log v_i · exp(-θ_i) + exp(-z̃_b)).
        log_p = jax.nn.log_softmax(logits, axis=-1)
        e = -jnp.log(v)
        top = -jnp.log(jnp.sum(e * self.b, axis=-1, keepdims=True))
        others = -jnp.logaddexp(jnp.log(e) - log_p, -top)
        return jnp.where(self.b > 0, top, others)

    def log_prob(self, logits: Array) -> Array:
        if self.kind == "bernoulli":
            return jnp.sum(self.b * logits - jax.nn.softplus(logits))
        log_p = jax.nn.log_softmax(logits, axis=-1)
        return jnp.sum(jnp.take_along_axis(log_p, self.index[..., None], axis=-1))


def _relaxed(z: Array, temperature, kind: str) -> Array:
    """σ(z/λ) (Bernoulli) or softmax(z/λ) over the last axis (categorical)."""
    if kind == "bernoulli":
        return jax.nn.sigmoid(z / temperature)
    return jax.nn.softmax(z / temperature, axis=-1)


def _zero(x: Array) -> Array:
    """``x - stop_gradient(x)``: value 0, gradient that of ``x``."""
    return x - _sg(x)


def _scale_gradient(x: Array, scale) -> Array:
    """Value ``x``; gradient w.r.t. ``x`` multiplied by ``scale`` (elementwise)."""
    return _sg(x) + scale * (x - _sg(x))


def _control_variate_surrogate(noise: _Noise, logits, f, c, logits_c) -> Array:
    """RELAX surrogate for discrete variables (Grathwohl et al. 2018, §3 and appendix B):

    ``ĝ = [f(b) - c(z̃)] ∇ log p(b) + ∇ c(z) - ∇ c(z̃)``. ``logits_c`` carries the same
    value as ``logits``; REBAR passes a copy whose gradient is scaled by η.
    """
    fb = f(_sg(noise.b))
    c_z = c(noise.z(logits_c))
    c_zt = c(noise.z_tilde(logits_c))
    # Each added term has value 0. The factors multiplying (x - sg(x)) are left
    # unstopped: their own gradients are multiplied by 0, yet ĝ keeps its dependence on
    # the control-variate parameters, which the variance losses differentiate.
    score = fb * _zero(noise.log_prob(logits)) - c_zt * _zero(noise.log_prob(logits_c))
    return fb + score + _zero(c_z) - _zero(c_zt)


def _rebar_surrogate(key, logits, f, eta, temperature, kind) -> Array:
    logits = _float_logits(logits)
    noise = _Noise(key, logits, kind)
    # ĝ_i = [f(b) - η_i f(σ_λ(z̃))] ∂_i log p(b) + η_i ∂_i f(σ_λ(z)) - η_i ∂_i f(σ_λ(z̃))
    # (Tucker et al. 2017, §3). η multiplies the control-variate
    # gradients per logit; logits_c has the value of logits and η-scaled gradients.
    logits_c = _scale_gradient(logits, eta)
    return _control_variate_surrogate(
        noise, logits, f, lambda z: f(_relaxed(z, temperature, kind)), logits_c
    )


def rebar(
    key: Array,
    logits: Array,
    f: Callable[[Array], Array],
    eta: float | Array,
    temperature: float | Array,
    *,
    kind: Kind,
) -> Array:
    """REBAR surrogate: ``jax.grad`` w.r.t. ``logits`` is an unbiased estimate of ∇E[f(b)].

    Tucker, Mnih, Maddison, Lawson & Sohl-Dickstein 2017, "REBAR: Low-variance, unbiased
    gradient estimates for discrete latent variable models", §3:

        ĝ = [f(b) - η f(σ_λ(z̃))] ∇ log p(b) + η ∇ f(σ_λ(z)) - η ∇ f(σ_λ(z̃))

    with ``z`` the reparameterised logistic (``kind="bernoulli"``) or Gumbel
    (``kind="categorical"``) sample, ``b = H(z)`` (``1[z > 0]`` or ``one_hot(argmax z)``),
    ``z̃ ~ p(z | b)`` reparameterised with independent noise (ibid., appendix; Grathwohl et
    al. 2018, appendix B), and
    ``σ_λ(z) = sigmoid(z/λ)`` or ``softmax(z/λ)``. The scale ``eta`` (scalar or one per
    logit) and ``temperature`` λ are traced arguments; fit them with
    :func:`rebar_variance_loss`. Any η, λ > 0 give an unbiased estimate.

    ``f`` must accept relaxed values (in (0, 1), or on the simplex) as well as ``b``.
    The surrogate's value is ``f(b)``; its gradient w.r.t. parameters closed over by
    ``f`` is ``∇f(b)`` plus a zero-mean term; w.r.t. ``eta``/``temperature`` it is
    meaningless (use :func:`rebar_variance_loss`).

    Args:
        key: PRNG key (one sample; ``jax.vmap`` over keys for more).
        logits: Bernoulli logits (any shape) or categorical logits ``batch + (K,)``.
        f: loss of a sample, returning a scalar.
        eta: control-variate scale η, scalar or broadcastable to ``logits``.
        temperature: relaxation temperature λ > 0, broadcastable to ``logits``
            (Bernoulli) or to ``logits.shape[:-1] + (1,)`` (categorical).
        kind: ``"bernoulli"`` or ``"categorical"`` (keyword, required).

    Returns:
        Scalar surrogate.

    Example:
        >>> f = lambda b: jnp.sum((b - 0.45) ** 2)
        >>> g = jax.grad(rebar, argnums=1)(key, jnp.zeros(3), f, 1.0, 0.5, kind="bernoulli")
    """
    _check_kind("rebar", kind)
    return _rebar_surrogate(key, logits, f, eta, temperature, kind)


def relax(
    key: Array,
    logits: Array,
    f: Callable[[Array], Array],
    control_variate: Callable[[Any, Array], Array],
    control_params: Any,
    *,
    kind: Kind,
) -> Array:
    """RELAX surrogate: ``jax.grad`` w.r.t. ``logits`` is an unbiased estimate of ∇E[f(b)].

    Grathwohl, Choi, Wu, Roeder & Duvenaud 2018, "Backpropagation through the Void", the
    estimator for discrete variables (§3, appendix B):

        ĝ = [f(b) - c_φ(z̃)] ∇ log p(b) + ∇ c_φ(z) - ∇ c_φ(z̃)

    with ``z``, ``b = H(z)`` and ``z̃ ~ p(z | b)`` as in :func:`rebar` (appendix B), and
    ``c_φ(z) = control_variate(control_params, z)`` a differentiable scalar function of
    the continuous sample ``z`` (shape of ``logits``): e.g. a small network, or
    ``η f(σ_λ(z)) + r_ρ(z)`` as in the paper's discrete experiments. Fit φ with
    :func:`relax_variance_loss`. ``f`` is only evaluated at discrete ``b`` and need not
    be differentiable.

    Args:
        key: PRNG key (one sample; ``jax.vmap`` over keys for more).
        logits: Bernoulli logits (any shape) or categorical logits ``batch + (K,)``.
        f: loss of a sample, returning a scalar.
        control_variate: ``c(params, z) -> scalar``.
        control_params: pytree φ passed to ``control_variate``.
        kind: ``"bernoulli"`` or ``"categorical"`` (keyword, required).

    Returns:
        Scalar surrogate whose value is ``f(b)``.

    Example:
        >>> c = lambda phi, z: phi["w"] * jnp.sum(jnp.tanh(z)) + phi["b"]
        >>> phi = {"w": 0.1, "b": 0.2}
        >>> g = jax.grad(relax, argnums=1)(key, logits, f, c, phi, kind="bernoulli")
    """
    _check_kind("relax", kind)
    logits = _float_logits(logits)
    noise = _Noise(key, logits, kind)
    return _control_variate_surrogate(
        noise, logits, f, lambda z: control_variate(control_params, z), logits
    )


def _variance_loss(surrogate: Callable[[Array], Array], logits: Array) -> tuple[Array, Array]:
    g = jax.grad(surrogate)(_float_logits(logits))
    return jnp.sum(jnp.square(g)), _sg(g)


def rebar_variance_loss(
    key: Array,
    logits: Array,
    f: Callable[[Array], Array],
    eta: float | Array,
    temperature: float | Array,
    *,
    kind: Kind,
) -> tuple[Array, Array]:
    """``(Σ ĝ², ĝ)`` for the REBAR estimate ĝ: differentiate the first w.r.t. η and λ.

    Since ĝ is unbiased for any η, λ, ``∇_{η,λ} Var(ĝ) = ∇_{η,λ} E[Σ ĝ²]`` (Tucker et al.
    2017, §3; Grathwohl et al. 2018, §3.3), so ``jax.grad`` of the first output
    w.r.t. ``eta``/``temperature`` (or of ``log λ`` behind it) is an unbiased estimate
    of the gradient of the estimator's total variance over the logits. The second output
    is ĝ (no gradient flows through it), the estimate to feed the model's optimiser.

    To minimise the variance of the gradient w.r.t. *other* parameters ψ (e.g. those of
    an encoder producing the logits), form it yourself:
    ``g = jax.grad(lambda psi: rebar(key, net(psi), ...))(psi)`` and minimise ``Σ g²``.

    Example:
        >>> def loss(cv, key):
        ...     eta, log_lam = cv
        ...     return rebar_variance_loss(key, logits, f, eta, jnp.exp(log_lam),
        ...                                kind="bernoulli")
        >>> (var_loss, g_hat), cv_grad = jax.value_and_grad(loss, has_aux=True)(cv, key)
    """
    _check_kind("rebar_variance_loss", kind)
    return _variance_loss(lambda lg: _rebar_surrogate(key, lg, f, eta, temperature, kind), logits)


def relax_variance_loss(
    key: Array,
    logits: Array,
    f: Callable[[Array], Array],
    control_variate: Callable[[Any, Array], Array],
    control_params: Any,
    *,
    kind: Kind,
) -> tuple[Array, Array]:
    """``(Σ ĝ², ĝ)`` for the RELAX estimate ĝ: differentiate the first w.r.t. φ.

    ``∇_φ Var(ĝ) = ∇_φ E[Σ ĝ²]`` because ĝ is unbiased for every φ (Grathwohl et al.
    2018, §3.3). The second output is ĝ (no gradient flows
    through it). See :func:`rebar_variance_loss` for parameters other than the logits.

    Example:
        >>> vloss = lambda phi: relax_variance_loss(key, logits, f, c, phi, kind="bernoulli")
        >>> (var_loss, g_hat), phi_grad = jax.value_and_grad(vloss, has_aux=True)(phi)
    """
    _check_kind("relax_variance_loss", kind)
    return _variance_loss(
        lambda lg: relax(key, lg, f, control_variate, control_params, kind=kind), logits
    )


def _linear_surrogate(logits: Array, value: Array, gradient: Array) -> Array:
    """Scalar with the given value whose gradient w.r.t. ``logits`` is ``gradient``."""
    return value + jnp.sum(gradient * _zero(logits))


def arm(key: Array, logits: Array, f: Callable[[Array], Array]) -> Array:
    """ARM surrogate for independent Bernoullis: ``jax.grad`` w.r.t. ``logits`` is unbiased.

    Yin & Zhou 2019, "ARM: Augment-REINFORCE-Merge gradient for stochastic binary
    networks" (the ARM estimator, §2): with one ``u ~ U(0, 1)^D`` shared by two evaluations,

        ĝ = [f(1[u > σ(-θ)]) - f(1[u < σ(θ)])] (u - 1/2).

    Both arguments are marginally ``Bernoulli(σ(θ))`` samples; the surrogate's value is
    the mean of their two losses. Two evaluations of ``f`` per estimate.

    Args:
        key: PRNG key (one estimate; ``jax.vmap`` over keys for more).
        logits: Bernoulli logits θ, any shape.
        f: loss of a {0, 1} array of ``logits.shape``, returning a scalar.

    Example:
        >>> f = lambda b: jnp.sum((b - 0.45) ** 2)
        >>> g = jax.grad(arm, argnums=1)(key, jnp.zeros(3), f)
    """
    logits = _float_logits(logits)
    u = jax.random.uniform(key, logits.shape, logits.dtype)
    b1 = (u > jax.nn.sigmoid(-logits)).astype(logits.dtype)
    b2 = (u < jax.nn.sigmoid(logits)).astype(logits.dtype)
    f1, f2 = f(_sg(b1)), f(_sg(b2))
    return _linear_surrogate(logits, 0.5 * (f1 + f2), (f1 - f2) * (u - 0.5))


def disarm(key: Array, logits: Array, f: Callable[[Array], Array]) -> Array:
    """DisARM surrogate for independent Bernoullis: ``jax.grad`` w.r.t. ``logits`` is unbiased.

    Dong, Mnih & Tucker 2020, "DisARM: An antithetic gradient estimator for binary latent
    variables", §3: with antithetic samples ``b = 1[u < σ(θ)]``, ``b̃ = 1[1 - u < σ(θ)]``,

        ĝ_i = ½ [f(b) - f(b̃)] (-1)^{b̃_i} 1[b_i ≠ b̃_i] σ(|θ_i|).

    ARM evaluates ``f`` at exactly this pair (``1[u > σ(-θ)] = b̃``); DisARM is ARM's
    conditional expectation given ``(b, b̃)``, so its variance never exceeds ARM's (law of
    total variance). The surrogate's value is ``½ [f(b) + f(b̃)]``.

    Args:
        key: PRNG key (one estimate; ``jax.vmap`` over keys for more).
        logits: Bernoulli logits θ, any shape.
        f: loss of a {0, 1} array of ``logits.shape``, returning a scalar.

    Example:
        >>> f = lambda b: jnp.sum((b - 0.45) ** 2)
        >>> g = jax.grad(disarm, argnums=1)(key, jnp.zeros(3), f)
    """
    logits = _float_logits(logits)
    u = jax.random.uniform(key, logits.shape, logits.dtype)
    p = jax.nn.sigmoid(logits)
    b = (u < p).astype(logits.dtype)
    b_anti = (1.0 - u < p).astype(logits.dtype)
    f_b, f_anti = f(_sg(b)), f(_sg(b_anti))
    sign = 1.0 - 2.0 * b_anti
    weight = sign * (b != b_anti) * jax.nn.sigmoid(jnp.abs(logits))
    return _linear_surrogate(logits, 0.5 * (f_b + f_anti), 0.5 * (f_b - f_anti) * weight)
