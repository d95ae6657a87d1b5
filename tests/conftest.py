"""Shared fixtures: float32 / float64 runs and reference tolerances."""

import jax
import numpy as np
import pytest

# Tolerances for comparing against float64 references computed by scipy/numpy.
# float32: eps = 1.2e-7; allowing ~100 ulps covers the few roundings of a special-function
# composition (log, exp, erfc, ...) times modest condition numbers.
# float64: eps = 2.2e-16; 1e-10 still catches any formula error while leaving room for
# the series/asymptotic cut-offs of special functions.
RTOL = {np.float32: 1.2e-5, np.float64: 1e-10}
ATOL = {np.float32: 1e-6, np.float64: 1e-12}


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    """Run the test in float32 (default JAX) and in float64 (x64 enabled)."""
    if request.param is np.float64:
        with jax.enable_x64(True):
            yield request.param
    else:
        yield request.param


def assert_close(actual, expected, dtype, *, rtol_scale=1.0, what=""):
    """Elementwise |a - e| <= atol + rtol |e|, treating equal infinities as equal."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    actual, expected = np.broadcast_arrays(actual, expected)
    assert not np.any(np.isnan(actual)), f"{what}: NaN in result {actual}"
    same_inf = np.isinf(expected) & (actual == expected)
    with np.errstate(invalid="ignore"):
        err = np.abs(actual - expected)
    tol = ATOL[dtype] * rtol_scale + RTOL[dtype] * rtol_scale * np.abs(expected)
    bad = ~same_inf & ~(err <= tol)
    assert not np.any(bad), (
        f"{what}: max error {np.max(np.where(same_inf, 0, err))} "
        f"at actual={actual[bad][:5]} expected={expected[bad][:5]}"
    )


def cast_like(x, dtype):
    """Round ``x`` to ``dtype`` and back to float64, so a float64 reference sees exactly
    the inputs that jdist sees in ``dtype``."""
    return np.asarray(np.asarray(x, np.float64).astype(dtype), np.float64)
