"""Control variates for the per-sample Jacobian estimators, with the API of the removed
``optax.monte_carlo`` (see ``docs/estimators_optax_migration.md``).

A control variate ``h(x; θ)`` with a closed-form expectation gives the identity
(Mohamed et al. 2020, Sec. 7, control variates)

    ∇_θ E_p[f] = ∇_θ E_p[f - h]  +  ∇_θ E_p[h]
               = ĝ(f) - ĝ(h(·; ⊥θ)) - E_p[∇_θ h(x; θ)] + ∇_θ E_p[h]

where ``ĝ`` is any of the Jacobian estimators (score function, pathwise,
measure-valued) and ``⊥`` is ``stop_gradient``; :func:`control_variates_jacobians`
evaluates the right-hand side per sample.

A control variate is built by a factory ``control_variate(function)`` returning three
pure functions (``ControlVariate``):

* ``cv(params, sample, state) -> scalar``: ``h`` at one sample;
* ``expected_value(params, state) -> scalar``: ``E_p[h]`` in closed form;
* ``update_state(params, samples, state) -> state``: the next state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from jdist.distribution import Distribution

Array = jax.Array
Params = Sequence[Array]
CvState = Any
ComputeCv = Callable[[Params, Array, CvState], Array]
CvExpectedValue = Callable[[Params, CvState], Array]
UpdateCvState = Callable[[Params, Array, CvState], CvState]
ControlVariate = tuple[ComputeCv, CvExpectedValue, UpdateCvState]
JacobianEstimator = Callable[..., Sequence[Array]]

__all__ = [
    "control_delta_method",
    "control_variates_jacobians",
    "estimate_control_variate_coefficients",
    "moving_avg_baseline",
]


def control_delta_method(function: Callable[[Array], Array]) -> ControlVariate:
    """Delta-method control variate: the second-order Taylor expansion of ``function``
    at the mean, ``h(x) = f(μ) + (x-μ)ᵀ∇f(μ) + ½ (x-μ)ᵀ∇²f(μ)(x-μ)``
    (Paisley, Blei & Jordan 2012; Mohamed et al. 2020, Sec. 7: the delta method).

    For a diagonal Normal with ``params = [mean, log_scale]`` (as in optax; ``mean``
    of any shape, ``log_scale`` broadcastable to it), ``E[h] = f(μ) + ½ Σ_k σ_k²
    ∂²f/∂x_k²(μ)``. It has no state (``state`` is passed through unchanged).
    Exact (zero-variance) for quadratic ``f``.

    Returns:
        ``(cv, expected_value, update_state)`` as described in the module docstring.

    Example:
        >>> cv, expected_cv, update = control_delta_method(lambda x: jnp.sum(jnp.cos(x)))
        >>> jacs, _ = control_variates_jacobians(f, control_delta_method,
        ...     score_function_jacobians, [mean, log_scale], builder, key, 100)
    """

    def flat_function(mean: Array):
        return lambda v: function(v.reshape(mean.shape))

    def delta(params: Params, sample: Array, state: CvState = None) -> Array:
        """Second-order expansion of ``function`` at ``params[0]``, evaluated at ``sample``."""
        del state
        mean = jnp.asarray(params[0])
        f = flat_function(mean)
        m = mean.reshape(-1)
        dx = (sample - mean).reshape(-1)
        grad = jax.grad(f)(m)
        hessian = jax.hessian(f)(m)
        return f(m) + dx @ grad + 0.5 * dx @ hessian @ dx

    def expected_value_delta(params: Params, state: CvState) -> Array:
        """``E[h] = f(μ) + ½ tr(∇²f(μ) Σ)`` for the diagonal ``Σ = diag(exp(2 log_scale))``."""
        del state
        mean = jnp.asarray(params[0])
        f = flat_function(mean)
        m = mean.reshape(-1)
        variance = jnp.broadcast_to(jnp.exp(2.0 * jnp.asarray(params[1])), mean.shape)
        hessian = jax.hessian(f)(m)
        return f(m) + 0.5 * jnp.sum(variance.reshape(-1) * jnp.diag(hessian))

    def update_state(params: Params, samples: Array, state: CvState = None) -> CvState:
        """No state is kept."""
        del params, samples
        return state

    return delta, expected_value_delta, update_state


def moving_avg_baseline(
    function: Callable[[Array], Array],
    decay: float | Array = 0.99,
    zero_debias: bool = True,
    use_decay_early_training_heuristic: bool = True,
) -> ControlVariate:
    """Moving-average baseline: ``h(x) = b``, an exponential moving average of past
    ``mean_i function(x_i)``, with ``E[h] = b`` (Williams 1992; Mohamed et al. 2020,
    Sec. 7: baselines). It lowers the variance of the score-function estimator and leaves the
    pathwise and measure-valued estimators unchanged.

    The state is ``(average, count)``; start from ``(jnp.zeros(()), jnp.zeros((),
    jnp.int32))`` (optax's ``(0., 0)`` works too). The step-``i`` decay is ``decay``,
    or ``min(decay, (1 + i) / (10 + i))`` with ``use_decay_early_training_heuristic``.
    With ``zero_debias`` the stored average is the debiased one,
    ``raw_i / (1 - Π_{k<i} decay_k)`` as in Adam (Kingma & Ba 2015), so the first
    update gives exactly the first batch mean. (optax's zero-debiasing divided the
    already-debiased value again at every step, which blows the baseline up without
    the heuristic, e.g. about 50× at the second step for ``decay=0.99``; the two agree
    on the first step and whenever ``zero_debias=False``.) ``decay`` may be a traced
    value.

    Returns:
        ``(cv, expected_value, update_state)`` as described in the module docstring.

    Example:
        >>> cv = lambda f: moving_avg_baseline(f, decay=0.9)
        >>> state = (jnp.zeros(()), jnp.zeros((), jnp.int32))
        >>> jacs, state = control_variates_jacobians(f, cv, score_function_jacobians,
        ...     params, builder, key, 100, state)
    """

    def step_decay(count: Array) -> Array:
        if use_decay_early_training_heuristic:
            return jnp.minimum(decay, (1.0 + count) / (10.0 + count))
        return jnp.asarray(decay, jnp.result_type(float))

    def decay_product(count: Array) -> Array:
        """``Π_{k<count} step_decay(k)`` in closed form (the weight of the zero init)."""
        count = jnp.asarray(count, jnp.result_type(float))
        d = jnp.asarray(decay, count.dtype)
        if not use_decay_early_training_heuristic:
            return jnp.power(d, count)
        # (1+k)/(10+k) increases with k: it is the minimum for k < k_switch, and
        # Π_{k<n} (1+k)/(10+k) = n! 9! / (n+9)!.
        k_switch = jnp.where(d < 1.0, jnp.ceil((10.0 * d - 1.0) / (1.0 - d)), jnp.inf)
        n = jnp.clip(jnp.minimum(count, k_switch), 0.0, None)
        log_head = gammaln(n + 1.0) + gammaln(10.0) - gammaln(n + 10.0)
        return jnp.exp(log_head + (count - n) * jnp.log(d))

    def moving_avg(params: Params, samples: Array, state: CvState = None) -> Array:
        """The current average (it does not depend on the sample)."""
        del params, samples
        return state[0]

    def expected_value_moving_avg(params: Params, state: CvState) -> Array:
        """The current average."""
        del params
        return state[0]

    def update_state(params: Params, samples: Array, state: CvState = None) -> CvState:
        """Fold ``mean_i function(samples[i])`` into the average; count + 1."""
        del params
        value, count = state
        count = jnp.asarray(count, jnp.int32)
        d = step_decay(count)
        batch_mean = jnp.mean(jax.vmap(function)(samples))
        if zero_debias:
            before, after = 1.0 - decay_product(count), 1.0 - decay_product(count + 1)
            raw = d * before * value + (1.0 - d) * batch_mean
            updated = raw / jnp.where(after > 0, after, 1.0)
        else:
            updated = d * value + (1.0 - d) * batch_mean
        updated = jnp.asarray(updated, jnp.result_type(value, batch_mean))
        return jax.lax.stop_gradient(updated), count + 1

    return moving_avg, expected_value_moving_avg, update_state


def _grads_of_mean_cv(cv: ComputeCv, params: list[Array], samples: Array, state: CvState):
    """``mean_i ∇_θ h(x_i; θ)`` with the samples held fixed: the explicit θ-dependence."""

    def mean_cv(p):
        return jnp.mean(jax.vmap(lambda x: cv(p, x, state))(samples))

    return jax.grad(mean_cv)(params)


def control_variates_jacobians(
    function: Callable[[Array], Array],
    control_variate_from_function: Callable[[Callable[[Array], Array]], ControlVariate],
    grad_estimator: JacobianEstimator,
    params: Params,
    dist_builder: Callable[..., Distribution],
    rng: Array,
    num_samples: int,
    control_variate_state: CvState = None,
    estimate_cv_coeffs: bool = False,
    estimate_cv_coeffs_num_samples: int = 20,
) -> tuple[list[Array], CvState]:
    """Per-sample Jacobians of ``E_p[function]`` with a control variate subtracted.

    Row ``i`` for parameter ``θ``: ``ĝ_i(f) - c (ĝ_i(h(·; ⊥θ)) + mean_j ∇_θ h(x_j; θ)
    - ∇_θ E[h])``, ``ĝ`` being ``grad_estimator`` (e.g.
    :func:`jdist.estimators.score_function_jacobians`) on the same samples, ``c`` the
    coefficient (1, or estimated per parameter on *independent* samples with
    ``estimate_cv_coeffs``, so it stays unbiased). The ``mean_j`` term is shared by
    all rows, so estimate variance from repeated calls, not from one call's rows.

    The control variate is evaluated with ``control_variate_state`` as passed in,
    and the state is then updated with this call's samples and returned: a
    baseline never sees the samples it is paired with, so the estimate is unbiased.
    (optax updated the state first and used the updated one, which lets a
    moving-average baseline include the current samples: a bias of order
    ``(1 - decay) / num_samples``.)

    Returns:
        ``(jacobians, new_state)``: one array per element of ``params``, shape
        ``(num_samples,) + param.shape``, and the updated control-variate state.

    Example:
        >>> builder = lambda mean, log_scale: jdist.Normal(mean, jnp.exp(log_scale))
        >>> jacs, _ = control_variates_jacobians(lambda x: jnp.sum(jnp.cos(x)),
        ...     control_delta_method, score_function_jacobians,
        ...     [jnp.zeros(3), jnp.zeros(3)], builder, key, 100)
        >>> grad_mean = jacs[0].mean(0)
    """
    params = [jnp.asarray(p) for p in params]
    cv, expected_value, update_state = control_variate_from_function(function)
    state = control_variate_state
    if estimate_cv_coeffs:
        coeffs = estimate_control_variate_coefficients(
            function,
            control_variate_from_function,
            grad_estimator,
            params,
            dist_builder,
            rng,
            estimate_cv_coeffs_num_samples,
            state,
        )
    else:
        coeffs = [1.0] * len(params)

    function_jacobians = grad_estimator(function, params, dist_builder, rng, num_samples)
    # The same key gives the same samples as inside grad_estimator.
    samples = jax.lax.stop_gradient(dist_builder(*params).sample(rng, (num_samples,)))
    frozen = jax.lax.stop_gradient(params)
    cv_jacobians = grad_estimator(
        lambda x: cv(frozen, x, state), params, dist_builder, rng, num_samples
    )
    cv_param_grads = _grads_of_mean_cv(cv, params, samples, state)
    expected_value_grads = jax.grad(lambda p: expected_value(p, state))(params)

    jacobians = [
        f_jac - c * (cv_jac + cv_grad - ev_grad)
        for f_jac, c, cv_jac, cv_grad, ev_grad in zip(
            function_jacobians,
            coeffs,
            cv_jacobians,
            cv_param_grads,
            expected_value_grads,
            strict=True,
        )
    ]
    return jacobians, update_state(params, samples, state)


def estimate_control_variate_coefficients(
    function: Callable[[Array], Array],
    control_variate_from_function: Callable[[Callable[[Array], Array]], ControlVariate],
    grad_estimator: JacobianEstimator,
    params: Params,
    dist_builder: Callable[..., Distribution],
    rng: Array,
    num_samples: int,
    control_variate_state: CvState = None,
    eps: float | Array = 1e-3,
) -> list[Array]:
    """Variance-minimising control-variate coefficient for each element of ``params``:
    ``Σ_k cov(ĝ(f)_k, ĝ(h)_k) / (Σ_k var(ĝ(h)_k) + eps)`` over the parameter's
    coordinates ``k`` (Mohamed et al. 2020, Sec. 7: the optimal coefficient
    ``Cov(f, h) / Var(h)``), from ``num_samples`` samples drawn with a key derived
    from ``rng`` (independent of the samples ``rng`` itself gives), as in optax.

    Returns:
        A list of scalars (gradient-stopped), one per element of ``params``.

    Example:
        >>> coeffs = estimate_control_variate_coefficients(f, control_delta_method,
        ...     score_function_jacobians, [mean, log_scale], builder, key, 20)
    """
    params = [jnp.asarray(p) for p in params]
    cv_key, _ = jax.random.split(rng)
    cv, _, _ = control_variate_from_function(function)
    frozen = jax.lax.stop_gradient(params)
    cv_jacobians = grad_estimator(
        lambda x: cv(frozen, x, control_variate_state), params, dist_builder, cv_key, num_samples
    )
    function_jacobians = grad_estimator(function, params, dist_builder, cv_key, num_samples)

    def coefficient(cv_jac: Array, f_jac: Array) -> Array:
        cv_jac = cv_jac.reshape(cv_jac.shape[0], -1)
        f_jac = f_jac.reshape(f_jac.shape[0], -1)
        cov = jnp.mean((f_jac - f_jac.mean(0)) * (cv_jac - cv_jac.mean(0)), axis=0)
        return jax.lax.stop_gradient(jnp.sum(cov) / (jnp.sum(jnp.var(cv_jac, axis=0)) + eps))

    return [coefficient(c, f) for c, f in zip(cv_jacobians, function_jacobians, strict=True)]
