"""Smoke test of the benchmark suite: ``python -m benchmarks`` runs and reports ratios.

Performance itself is never asserted here (see benchmarks/RESULTS.md); this only checks
that the one command works end to end on its cheapest case, with the libraries every
installation has (the floor and jdist), in a subprocess as a user would run it.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_eager_case_prints_a_ratio_table(tmp_path):
    out = tmp_path / "results.md"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--cases",
            "eager",
            "--libs",
            "jnp,jdist",
            "--repeats",
            "2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = proc.stdout
    assert "Summary: jdist time / peer time" in text
    assert "jdist/jnp" in text  # the ratio column
    # One ratio per item, each a positive number.
    rows = [line for line in text.splitlines() if line.startswith("eager ")]
    assert len(rows) == 2, text
    for row in rows:
        assert float(row.split()[-1]) > 0
    assert "cpu:" in text and "jax backend:" in text  # the machine block
    report = out.read_text()
    assert "| case | measurement | jdist/jnp |" in report
    assert "## Machine" in report
