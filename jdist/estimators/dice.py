"""DiCE and Loaded DiCE: surrogate objectives whose derivatives of *any* order are
score-function estimators of the derivatives of an expected (sequential) cost.

Shapes, for both objectives: ``log_probs[t]`` is the log-probability (summed over the
stochastic nodes of that step) of what was sampled at step ``t``; ``costs[t]`` is the
cost observed at step ``t``, which may depend on every sample up to and including
step ``t``. Time runs along ``axis`` (default 0, time-major like ``jax.lax.scan``
outputs); every other axis is a batch axis (independent trajectories), averaged over.
``log_probs`` and ``costs`` broadcast against each other. A single stochastic node
with a single cost is the case ``T = 1``: pass ``log_prob[None]`` and ``cost[None]``.

References:
    Foerster, Farquhar, Al-Shedivat, Rocktäschel, Xing & Whiteson (2018), "DiCE: The
    Infinitely Differentiable Monte Carlo Estimator", ICML (the MagicBox operator and
    the DiCE objective, Sec. 4).
    Farquhar, Whiteson & Foerster (2019), "Loaded DiCE: Trading off Bias and Variance
    in Any-Order Score Function Estimators for Reinforcement Learning", NeurIPS.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array

__all__ = ["dice_objective", "loaded_dice_objective", "magic_box"]


def magic_box(x: Array) -> Array:
    """The DiCE MagicBox ``□(x) = exp(x - stop_gradient(x))`` (Foerster et al. 2018).

    Its value is exactly 1, and ``∇□(x) = □(x) ∇x``: applied to a sum of
    log-probabilities it multiplies a cost by the score of those samples under every
    order of differentiation, so ``jax.grad``, ``jax.hessian``, ... of
    ``magic_box(log_p) * cost`` estimate the derivatives of ``E[cost]`` without bias.
    Same shape as ``x``.

    Example:
        >>> b = jdist.Bernoulli(logits=theta).sample(key)
        >>> surrogate = lambda th: magic_box(jdist.Bernoulli(logits=th).log_prob(b)) * f(b)
        >>> jax.grad(surrogate)(theta), jax.grad(jax.grad(surrogate))(theta)
    """
    return jnp.exp(x - jax.lax.stop_gradient(x))


def _time_major(axis: int, *arrays: Array) -> list[Array]:
    """Broadcast the arrays together and move the time ``axis`` to the front."""
    arrays = jnp.broadcast_arrays(*(jnp.asarray(a) for a in arrays))
    return [jnp.moveaxis(a, axis, 0) for a in arrays]


def _discounts(gamma: Array | float, length: int, dtype) -> Array:
    return jnp.power(jnp.asarray(gamma, dtype), jnp.arange(length, dtype=dtype))


def _per_step(x: Array, ndim: int) -> Array:
    """Reshape a length-T vector to broadcast along the leading time axis."""
    return x.reshape(x.shape + (1,) * (ndim - 1))


def dice_objective(
    log_probs: Array, costs: Array, *, discount: Array | float = 1.0, axis: int = 0
) -> Array:
    """DiCE objective ``mean_batch Σ_t discount^t □(Σ_{t'≤t} log_probs[t']) costs[t]``.

    Its value is the Monte Carlo estimate of ``E[Σ_t discount^t costs[t]]`` (the
    MagicBox evaluates to 1), and its derivatives of every order (``jax.grad``,
    ``jax.hessian``, nested ``jax.jacfwd``/``jax.jacrev``) are unbiased estimates of
    the derivatives of that expectation (Foerster et al. 2018, Sec. 4: the DiCE
    objective ``L = Σ_c □(W_c) c``, with ``W_c`` the stochastic nodes influencing
    cost ``c``; for a sequence these are all samples up to step ``t``). Costs are
    *not* stop-gradiented: a cost that depends differentiably on the parameters
    contributes its direct derivatives too. Minimise it to minimise expected cost
    (pass ``-rewards`` as costs to maximise return).

    Args:
        log_probs: log-probability of the samples drawn at each step, shape ``(T, ...)``
            with time along ``axis``; must be differentiable w.r.t. the parameters.
        costs: cost at each step, broadcastable against ``log_probs``.
        discount: ``γ`` in ``Σ_t γ^t costs[t]``; a leaf (never static).
        axis: the time axis of ``log_probs``/``costs``.

    Returns:
        A scalar: the sum over time, averaged over every other axis.

    Example:
        >>> d = jdist.Bernoulli(logits=theta)
        >>> b = d.sample(key, (1000,))
        >>> obj = lambda th: dice_objective(jdist.Bernoulli(logits=th).log_prob(b)[None],
        ...                                 f(b)[None])
        >>> jax.grad(obj)(theta), jax.grad(jax.grad(obj))(theta)   # 1st, 2nd derivative
    """
    log_probs, costs = _time_major(axis, log_probs, costs)
    dependencies = jnp.cumsum(log_probs, axis=0)
    gammas = _per_step(_discounts(discount, costs.shape[0], costs.dtype), costs.ndim)
    per_trajectory = jnp.sum(gammas * magic_box(dependencies) * costs, axis=0)
    return jnp.mean(per_trajectory)


def _reverse_discounted_sum(x: Array, factor: Array) -> Array:
    """``y[t] = x[t] + factor * y[t+1]`` (``y[T] = 0``) along the leading axis."""

    def step(carry, xt):
        carry = xt + factor * carry
        return carry, carry

    _, ys = jax.lax.scan(step, jnp.zeros_like(x[0]), x, reverse=True)
    return ys


def loaded_dice_objective(
    log_probs: Array,
    costs: Array,
    baseline: Array | None = None,
    *,
    discount: Array | float = 1.0,
    lam: Array | float = 1.0,
    gae_lambda: Array | float = 1.0,
    axis: int = 0,
) -> Array:
    """Loaded DiCE objective (Farquhar et al. 2019): DiCE with a baseline, discounting
    and a bias/variance knob ``lam`` for derivatives of second and higher order.

    ``mean_batch Σ_t discount^t [□(w_t) - □(lam · w_{t-1})] A_t`` with the
    ``lam``-discounted dependencies ``w_t = Σ_{t'≤t} lam^{t-t'} log_probs[t']``
    (``w_{-1} = 0``) and advantages ``A_t`` computed from ``costs`` and ``baseline``
    (``V_t``, an estimate of the expected discounted cost-to-go from step ``t``) as
    generalized advantage estimates (Schulman et al. 2016, GAE):
    ``δ_t = costs[t] + discount · V_{t+1} - V_t`` (``V_T = 0``: the trajectory ends
    at ``T``), ``A_t = Σ_l (discount · gae_lambda)^l δ_{t+l}``. With
    ``gae_lambda = 1`` (the default) ``A_t`` is the Monte Carlo cost-to-go minus
    ``V_t``. The value returned is the Monte Carlo estimate of
    ``E[Σ_t discount^t costs[t]]`` (added with ``stop_gradient``; the bracket is 0).

    What its derivatives estimate, for ``∇^n E[Σ_t discount^t costs[t]]``:

    * ``lam = 1`` and ``gae_lambda = 1``: unbiased at **every order** for any
      baseline ``V_t`` that does not depend on the sample at step ``t`` or later (it
      may depend on the state, i.e. on earlier samples), with the baseline lowering
      variance; with no baseline it equals :func:`dice_objective` up to a constant.
    * ``lam < 1``: first derivatives are unchanged (still unbiased); higher orders
      down-weight the dependence of a cost on samples ``k`` steps earlier by
      ``lam^k``, trading bias for variance (Farquhar et al. 2019, "discounting
      causal dependencies").
    * ``gae_lambda < 1``: unbiased only if ``V`` is the exact value function;
      otherwise bias for lower variance, as in GAE.

    ``costs`` and ``baseline`` are stop-gradiented: this objective is for costs
    that depend on the parameters only through the samples (as in RL); use
    :func:`dice_objective` for costs with direct parameter dependence.

    Args:
        log_probs: shape ``(T, ...)``, time along ``axis`` (see the module docstring).
        costs: cost at each step, broadcastable against ``log_probs``.
        baseline: ``V_t``, broadcastable against ``costs``; ``None`` means 0.
        discount: ``γ``; a leaf, as are ``lam`` and ``gae_lambda``.
        lam: Loaded DiCE's dependency discount ``λ`` in ``[0, 1]``.
        gae_lambda: GAE's ``λ`` (Schulman et al. 2016) for the advantages.
        axis: the time axis.

    Returns:
        A scalar surrogate; minimise it to minimise expected discounted cost.

    Example:
        >>> obj = loaded_dice_objective(log_probs, costs, values, discount=0.99, lam=0.9)
        >>> hessian = jax.hessian(lambda th: loaded_dice_objective(lp(th), c, v))(theta)
    """
    if baseline is None:
        baseline = jnp.zeros((), jnp.result_type(costs))
    log_probs, costs, baseline = _time_major(axis, log_probs, costs, baseline)
    costs = jax.lax.stop_gradient(costs)
    values = jax.lax.stop_gradient(baseline)
    dtype = costs.dtype
    discount = jnp.asarray(discount, dtype)
    lam = jnp.asarray(lam, log_probs.dtype)

    next_values = jnp.concatenate([values[1:], jnp.zeros_like(values[:1])], axis=0)
    deltas = costs + discount * next_values - values
    advantages = _reverse_discounted_sum(deltas, discount * jnp.asarray(gae_lambda, dtype))

    def step(w_prev, lp):
        w = lam * w_prev + lp
        # □(w_t) - □(λ w_{t-1}): value 0, first derivative ∇ log_probs[t] whatever λ.
        return w, magic_box(w) - magic_box(lam * w_prev)

    _, dependencies = jax.lax.scan(step, jnp.zeros_like(log_probs[0]), log_probs)
    gammas = _per_step(_discounts(discount, costs.shape[0], dtype), costs.ndim)
    surrogate = jnp.sum(gammas * dependencies * advantages, axis=0)
    value = jnp.sum(gammas * costs, axis=0)
    return jnp.mean(surrogate + jax.lax.stop_gradient(value))
