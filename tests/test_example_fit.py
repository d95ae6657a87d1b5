"""examples/fit_by_max_likelihood.py: a short run recovers the generating parameters."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fit_by_max_likelihood.py"
SAMPLES = 4000


@pytest.fixture(scope="module")
def results():
    spec = importlib.util.spec_from_file_location("fit_by_max_likelihood_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            r = module.main(["--samples", str(SAMPLES), "--steps", "200", "--seed", "0"])
        yield r, out.getvalue()
    finally:
        sys.modules.pop(spec.name, None)


def _dirichlet_mle(log_p_mean: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Dirichlet MLE by Minka's fixed point ψ(α_k) = ψ(Σα) + mean log p_k (Minka 2000,
    "Estimating a Dirichlet distribution", eq. 9), with Newton steps for ψ⁻¹."""
    alpha = np.ones_like(log_p_mean)
    for _ in range(iterations):
        target = special.digamma(alpha.sum()) + log_p_mean
        x = np.where(target >= -2.22, np.exp(target) + 0.5, -1.0 / (target - special.digamma(1)))
        for _ in range(5):
            x = x - (special.digamma(x) - target) / special.polygamma(1, x)
        alpha = x
    return alpha


def test_recovers_generating_parameters(results):
    # The MLE is asymptotically normal around the truth with the Fisher standard errors the
    # example reports; at a fixed seed each coordinate lies within 5 of them (a 5-sigma
    # miss has probability 6e-7 per coordinate).
    r, _ = results
    for name, fit in r.items():
        z = np.abs(fit["estimate"] - fit["truth"]) / fit["se"]
        assert np.all(z < 5), (name, z)


def test_optimiser_reaches_the_mle(results):
    # The optimisation error must be negligible next to the statistical one: within 0.1
    # standard errors of the closed-form MLE (sample mean and biased covariance) for the
    # Normal, and of Minka's fixed point for the Dirichlet.
    r, _ = results
    for name in ("loc", "covariance"):
        gap = np.abs(r[name]["estimate"] - r[name]["mle"]) / r[name]["se"]
        assert np.all(gap < 0.1), (name, gap)
    fit = r["concentration"]
    gap = np.abs(fit["estimate"] - _dirichlet_mle(fit["mean_log"])) / fit["se"]
    assert np.all(gap < 0.1), gap


def test_prints_progress_and_final_error(results):
    _, out = results
    assert "step   200  mean NLL" in out
    assert "max |estimate - truth|" in out and "standard errors" in out
