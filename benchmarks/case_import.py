"""Case 4, import time: ``import <library>`` in a fresh process, after ``import jax``.

Every measurement is a new interpreter that runs ``import jax`` and then the library's
usual import (``import jdist``, ``import distrax``, ``import numpyro``, ``import
tensorflow_probability.substrates.jax``), timing each with ``time.perf_counter``; the
figure is the second (the library's own cost, JAX excluded). One unmeasured process per
library first warms the operating system's file cache; then the libraries take turns,
and the median over processes is kept. ``import jax`` alone is reported for scale.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from benchmarks._harness import REPO_ROOT, CaseResult, Config, Table, cell, fmt_time

IMPORTS = {
    "jdist": "import jdist",
    "distrax": "import distrax",
    "numpyro": "import numpyro",
    "tfp": "import tensorflow_probability.substrates.jax",
    "jnp": "pass",  # nothing beyond jax: the floor
}

_SCRIPT = """
import json, time
t0 = time.perf_counter()
import jax
t1 = time.perf_counter()
{stmt}
t2 = time.perf_counter()
print(json.dumps({{"jax": t1 - t0, "lib": t2 - t1}}))
"""


def _spawn(lib: str) -> dict | str:
    from benchmarks.runner import child_env

    code = _SCRIPT.format(stmt=IMPORTS[lib])
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return "timed out"
    if proc.returncode != 0:
        err = (proc.stderr or "").strip().splitlines()
        if any("ModuleNotFoundError" in x for x in err):
            return "not installed"
        return "error: " + (err[-1][:80] if err else f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(cfg: Config) -> CaseResult:
    """Fresh interpreters per library, interleaved; see the module docstring."""
    repeats = cfg.repeats or (1 if cfg.quick else 5)
    libs = [lib for lib in ("jdist", "distrax", "numpyro", "tfp") if cfg.want(lib)]
    failed: dict[str, str] = {}
    times: dict[str, list[float]] = {lib: [] for lib in libs}
    jax_times: list[float] = []
    if not cfg.quick:
        for lib in libs:  # warm the file cache; not measured
            r = _spawn(lib)
            if isinstance(r, str):
                failed[lib] = r
    for _ in range(repeats):
        for lib in libs:
            if lib in failed:
                continue
            r = _spawn(lib)
            if isinstance(r, str):
                failed[lib] = r
                continue
            times[lib].append(r["lib"])
            jax_times.append(r["jax"])
    table = Table("import time after `import jax` (fresh process)", libs)
    table.add(
        "import <library> - import jax",
        {
            lib: cell(failed[lib]) if lib in failed else cell(statistics.median(times[lib]))
            for lib in libs
        },
    )
    notes = []
    if jax_times:
        notes.append(
            f"`import jax` itself: median {fmt_time(statistics.median(jax_times))} over "
            f"{len(jax_times)} processes (not included above)."
        )
    notes.append("Statements: " + "; ".join(f"{lib}: `{IMPORTS[lib]}`" for lib in libs) + ".")
    return CaseResult(
        name="import",
        title="4. Import time",
        description=(
            "Time of each library's import in a fresh interpreter, after `import jax` "
            f"(JAX's own import excluded); median of {repeats} processes per library, "
            "libraries interleaved"
            + ("." if cfg.quick else ", after one unmeasured warm-up process each.")
        ),
        tables=[table],
        notes=notes,
    )
