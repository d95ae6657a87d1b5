"""Statistical checks shared by sampler tests (fixed keys, tolerances from sample size).

Significance level ALPHA = 1e-4 per test: with the few hundred sampler tests here a
spurious failure at a fixed key is unlikely, while a wrong sampler fails at any key.
Moment bounds are 5 standard errors.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHA = 1e-4


def ks_check(samples, cdf) -> None:
    """Kolmogorov–Smirnov test of 1-D samples against a CDF; asserts p > ALPHA."""
    result = stats.kstest(np.asarray(samples, np.float64), cdf)
    assert result.pvalue > ALPHA, result


def chi2_check(samples, probs, *, min_expected: float = 5.0) -> None:
    """Chi-square goodness of fit of integer samples against category probabilities.

    Categories with expected count below ``min_expected`` are pooled into one bin, as
    the chi-square approximation requires.
    """
    samples = np.asarray(samples).astype(np.int64)
    probs = np.asarray(probs, np.float64)
    counts = np.bincount(samples, minlength=len(probs))
    assert counts.sum() == len(samples)
    assert len(counts) == len(probs), "sampled a value outside the listed categories"
    assert np.all(counts[probs == 0] == 0), "sampled an impossible category"
    expected = probs * len(samples)
    big = expected >= min_expected
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    exp = exp * obs.sum() / exp.sum()  # mass beyond the listed categories is negligible
    result = stats.chisquare(obs, exp)
    assert result.pvalue > ALPHA, result


def moments_check(samples, mean, var) -> None:
    """Sample mean and variance within 5 standard errors of ``mean`` and ``var``."""
    samples = np.asarray(samples, np.float64)
    n = samples.shape[0]
    se_mean = np.sqrt(var / n)
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * se_mean + 1e-12), (
        samples.mean(0),
        mean,
        se_mean,
    )
    # Var of the sample variance ≈ (μ4 - σ⁴)/n; μ4 estimated from the samples.
    mu4 = np.mean((samples - samples.mean(0)) ** 4, axis=0)
    se_var = np.sqrt(np.maximum(mu4 - var**2, 0) / n)
    assert np.all(np.abs(samples.var(0) - var) < 5 * se_var + 1e-12), (samples.var(0), var)
