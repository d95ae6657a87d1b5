"""The variance report (``python -m jdist.estimators.report --quick``): every estimator has
a row, the unbiased ones are within 4 standard errors of the closed form, the biased ones
are caught, the measured variances are ordered as the methods claim, and the plots exist.

The report runs once (module fixture) through ``main``, the command line's entry point.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json

import numpy as np
import pytest

from jdist.estimators import report


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert report.main(["--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "report.json").read_text())
    rows = {(r["problem"], r["estimator"], r["target"]): r for r in summary["rows"]}
    return {"out": out, "stdout": buffer.getvalue(), "summary": summary, "rows": rows}


def _table_names(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines() if line.strip()}


def test_table_has_every_estimator_row(quick):
    printed = quick["stdout"]
    assert printed.strip() == (quick["out"] / "report.txt").read_text().strip()
    tables = printed.split("\nEstimators:")[0]  # the tables, without the legend
    names = _table_names(tables)
    for name in list(report.GAUSSIAN_ESTIMATORS) + list(report.BERNOULLI_ESTIMATORS):
        assert name in names, f"no table row for {name}"
    gaussian_rows = [line for line in tables.splitlines() if line.startswith("score+delta ")]
    assert len(gaussian_rows) == len(report.GAUSSIAN_FUNCTIONS)
    expected = len(report.GAUSSIAN_ESTIMATORS) * 6 + len(report.BERNOULLI_ESTIMATORS) * 4
    assert len(quick["summary"]["rows"]) == expected


def test_unbiased_estimators_within_4_standard_errors(quick):
    unbiased = [r for r in quick["summary"]["rows"] if r["unbiased"]]
    assert len(unbiased) == 6 * 6 + 7 * 4
    bad = [(r["estimator"], r["target"], r["bias_se"]) for r in unbiased if abs(r["bias_se"]) >= 4]
    assert not bad, bad


def test_biased_estimators_are_caught(quick):
    """Straight-through and the relaxations are biased on every t (by 1.2x to over 100x the
    truth): the same 4-SE check that the unbiased rows pass flags all of them."""
    biased = [r for r in quick["summary"]["rows"] if not r["unbiased"]]
    assert len(biased) == 4 * 4
    missed = [(r["estimator"], r["target"], r["bias_se"]) for r in biased if abs(r["bias_se"]) < 4]
    assert not missed, missed


def test_truths_are_the_closed_forms(quick):
    rows = quick["rows"]
    assert rows["gaussian", "pathwise", "x^2 d/dmu"]["truth"] == pytest.approx(2 * report.MU)
    assert rows["gaussian", "pathwise", "x^2 d/dsigma"]["truth"] == pytest.approx(2 * report.SIGMA)
    s = 1 / (1 + np.exp(-report.PHI))
    for t in report.TS:
        truth = rows["bernoulli", "arm", f"t={t}"]["truth"]
        assert truth == pytest.approx(s * (1 - s) * ((1 - t) ** 2 - t**2))


def test_variance_orderings(quick):
    """Orderings the methods guarantee or are built for, each by a wide margin at the
    quick sizes (8,192 samples: variances known to a few percent)."""
    rows = quick["rows"]

    def var(problem, name, target, n=2):
        return rows[problem, name, target]["variances"][str(n)]

    for t in report.TS:
        target = f"t={t}"
        # DisARM is ARM Rao-Blackwellised given the antithetic pair.
        assert var("bernoulli", "disarm", target) < var("bernoulli", "arm", target)
        assert var("bernoulli", "reinforce+loo", target) < 0.9 * var(
            "bernoulli", "reinforce", target
        )
        assert var("bernoulli", "relax", target) < 0.1 * var("bernoulli", "reinforce", target)
    # The delta method is exact for quadratic f; pathwise beats the score function on x².
    assert var("gaussian", "score+delta", "x^2 d/dmu") < 1e-10
    for p in ("d/dmu", "d/dsigma"):
        assert var("gaussian", "pathwise", f"x^2 {p}") < 0.5 * var("gaussian", "score", f"x^2 {p}")
    # Variance of an N-sample estimate falls as 1/N for i.i.d. samples.
    for n in (8, 32):
        ratio = var("gaussian", "score", "cos x d/dmu", n) / var("gaussian", "score", "cos x d/dmu")
        assert ratio == pytest.approx(2 / n, rel=0.3)


def test_plots_written(quick):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (it is in the test extra)")
    for name in ("gaussian_variance.png", "bernoulli_variance.png"):
        path = quick["out"] / name
        assert path.exists() and path.stat().st_size > 10_000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(quick["summary"]["plots"]) == 2


def test_bad_sample_counts_raise():
    with pytest.raises(ValueError, match="even and divide"):
        report.run_report(report.ReportConfig(total_samples=100, sample_counts=(3,)))
