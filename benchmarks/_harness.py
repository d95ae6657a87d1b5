"""The one timing and reporting mechanism shared by every benchmark case.

Timing (:func:`time_calls`): each library's callable is first called ``warmup`` times
(compilation and first-call costs excluded), then calibrated so that one repeat of ``n``
calls lasts about ``target_s``; the repeats are interleaved round-robin across the
libraries, in an order rotated every round (so that load on a shared machine hits all of
them alike, and no library always runs right after the same other one), and the figure kept
is the median over repeats of the mean time per call. Every call's result is blocked on
(``jax.block_until_ready``, or a torch synchronisation) before the next call starts, and
Python's garbage collector is off during a repeat, as in ``timeit``.

Reporting: a case returns a :class:`CaseResult` (plain dicts, so it travels as JSON from
the case's subprocess); :func:`render_case` and :func:`render_summary` lay it out as text
tables or markdown. Ratios are always ``jdist time / peer time`` measured in the same
process and run: below 1 jdist is faster, above 1 slower.

Example:
    >>> secs = time_calls({"a": lambda: 1 + 1}, block=lambda r: r, target_s=0.01, repeats=3)
    >>> secs["a"] > 0
    True
"""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import math
import os
import platform
import statistics
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "LABELS",
    "LIBS",
    "PEERS",
    "CaseResult",
    "Config",
    "Table",
    "cell",
    "error_note",
    "fmt_ratio",
    "fmt_time",
    "machine_info",
    "render_case",
    "render_machine",
    "render_summary",
    "time_calls",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

# Library keys in table order; "jnp" is the hand-written jax.numpy / jax.random floor.
LIBS = ("jnp", "jdist", "distrax", "numpyro", "tfp", "torch")
PEERS = tuple(lib for lib in LIBS if lib != "jdist")
LABELS = {
    "jnp": "hand-written jnp",
    "jdist": "jdist",
    "distrax": "distrax",
    "numpyro": "numpyro",
    "tfp": "TFP (JAX)",
    "torch": "torch",
    "torch_validate": "torch (validate_args)",
}
# Short names for ratio column headers.
SHORT = {"jnp": "jnp", "tfp": "TFP", "torch_validate": "torch(validate)"}
# Distributions the packages of each peer are published under (for version reporting).
_DISTS = {
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "distrax": ("distrax",),
    "numpyro": ("numpyro",),
    "tfp": ("tfp-nightly", "tensorflow-probability"),
    "torch": ("torch",),
    "optax": ("optax",),
    "numpy": ("numpy",),
}


@dataclass
class Config:
    """Options every case receives: ``quick`` shrinks sizes and repeats; ``libs`` selects
    libraries (keys of :data:`LIBS`); ``repeats``/``target_s`` override the case's own."""

    quick: bool = False
    libs: tuple[str, ...] = LIBS
    repeats: int | None = None
    target_s: float | None = None

    def want(self, lib: str) -> bool:
        """Whether library ``lib`` (``torch_validate`` counts as ``torch``) is selected."""
        return (lib.split("_")[0] if lib.startswith("torch") else lib) in self.libs


# --------------------------------------------------------------------------- timing
def _block_default(result):
    import jax

    return jax.block_until_ready(result)


def time_calls(
    fns: dict[str, Callable[[], object]],
    *,
    block: Callable[[object], object] | dict[str, Callable[[object], object]] = _block_default,
    target_s: float = 0.1,
    repeats: int = 7,
    warmup: int = 3,
    max_calls: int = 1 << 20,
) -> dict[str, float | str]:
    """Median seconds per blocked call of each ``fns[lib]()``, or an error note (a ``str``).

    ``block`` (one callable, or one per library) waits for a result. See the module
    docstring for the method. A library whose call raises is reported by its error and
    dropped from the remaining repeats.
    """
    blocks = block if isinstance(block, dict) else dict.fromkeys(fns, block)
    out: dict[str, float | str] = {}
    n_calls: dict[str, int] = {}
    for lib, fn in fns.items():
        blk = blocks[lib]
        try:
            for _ in range(warmup):
                blk(fn())
            n = 1
            while True:  # calibrate: grow n until a batch is long enough to measure
                t0 = time.perf_counter()
                for _ in range(n):
                    blk(fn())
                elapsed = time.perf_counter() - t0
                if elapsed >= min(0.02, target_s) or n >= max_calls:
                    break
                n *= 4
            n_calls[lib] = max(1, min(max_calls, int(target_s / (elapsed / n))))
        except Exception as e:  # noqa: BLE001  (a failing library is reported, not fatal)
            out[lib] = error_note(e)
    samples: dict[str, list[float]] = {lib: [] for lib in n_calls}
    gc_was_enabled = gc.isenabled()
    try:
        order = list(n_calls)
        for r in range(repeats):
            # Rotate the order each round so no library always follows the same one.
            for lib in order[r % len(order) :] + order[: r % len(order)]:
                n = n_calls[lib]
                if lib in out:
                    continue
                fn, blk = fns[lib], blocks[lib]
                gc.collect()
                gc.disable()
                try:
                    t0 = time.perf_counter()
                    for _ in range(n):
                        blk(fn())
                    samples[lib].append((time.perf_counter() - t0) / n)
                except Exception as e:  # noqa: BLE001
                    out[lib] = error_note(e)
                finally:
                    if gc_was_enabled:
                        gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    for lib, s in samples.items():
        if lib not in out:
            out[lib] = statistics.median(s)
    return {lib: out[lib] for lib in fns if lib in out}


def time_once(fn: Callable[[], object], block: Callable[[object], object] = _block_default):
    """Seconds for one blocked call of ``fn`` (for first-call / compile timings)."""
    t0 = time.perf_counter()
    block(fn())
    return time.perf_counter() - t0


def error_note(e: BaseException) -> str:
    """A one-line note for a failed measurement (full traceback with JDIST_BENCH_DEBUG=1)."""
    if os.environ.get("JDIST_BENCH_DEBUG"):
        traceback.print_exception(e)
    if isinstance(e, ModuleNotFoundError):
        return "not installed"
    text = f"{type(e).__name__}: {e}".splitlines()[0]
    return "error: " + (text[:57] + "..." if len(text) > 60 else text)


# --------------------------------------------------------------------------- results
def cell(value: float | str | None, text: str | None = None) -> dict:
    """One table cell: ``value`` in seconds (lower is better) or a note string."""
    if isinstance(value, str) or value is None:
        return {"value": None, "text": value or "-"}
    return {"value": float(value), "text": text if text is not None else fmt_time(value)}


@dataclass
class Table:
    """Rows of measurements: ``rows[i] = {"item": str, "cells": {lib: cell}, "info":
    {column: str}}``. ``libs`` are the timed columns (ratios jdist/each are derived);
    ``info`` columns are shown as given (GB/s, steps/s, ...). ``summary`` says whether the
    table's ratios go into the summary table."""

    title: str
    libs: list[str]
    rows: list[dict] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    summary: bool = True

    def add(
        self,
        item: str,
        cells: dict[str, dict],
        info: dict[str, str] | None = None,
        summary: bool = True,
    ):
        """Append a row (``cells`` maps library key to :func:`cell`); ``summary=False`` keeps
        the row out of the summary table."""
        self.rows.append({"item": item, "cells": cells, "info": info or {}, "summary": summary})


@dataclass
class CaseResult:
    """What one case reports: tables, free-text notes, versions of what it imported."""

    name: str
    title: str
    description: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> CaseResult:
        d = dict(d)
        d["tables"] = [Table(**t) for t in d.get("tables", [])]
        return CaseResult(**d)


def ratio(table_row: dict, lib: str) -> float | None:
    """``jdist / lib`` for one row, or None where either is missing."""
    cells = table_row["cells"]
    a = cells.get("jdist", {}).get("value")
    b = cells.get(lib, {}).get("value")
    if a is None or b is None or b <= 0:
        return None
    return a / b


# --------------------------------------------------------------------------- formatting
def fmt_time(s: float) -> str:
    """Seconds with three significant digits in a fitting unit: ``12.3 µs``."""
    if s is None or not math.isfinite(s):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:.0f} {unit}"
    return f"{s:g} s"


def fmt_ratio(r: float | None) -> str:
    """``1.03`` (two decimals), ``-`` when missing."""
    return "-" if r is None else f"{r:.2f}"


def fmt_rate(per_s: float, unit: str = "") -> str:
    """A rate with an SI prefix: ``3.1 M steps/s``."""
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.3g} {prefix}{unit}"
    return f"{per_s:.3g} {unit}".rstrip()


def _text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*r) for r in rows]
    return "\n".join(s.rstrip() for s in out)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def esc(s):
        return str(s).replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    out.append("|" + "|".join(" --- " for _ in headers) + "|")
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _present_libs(table: Table) -> list[str]:
    return [lib for lib in table.libs if any(lib in r["cells"] for r in table.rows)]


def table_rows(table: Table) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a table: item, each library's figure, the info columns, then
    ``jdist/<peer>`` ratios."""
    libs = _present_libs(table)
    peers = [lib for lib in libs if lib != "jdist"] if "jdist" in libs else []
    headers = ["item", *(LABELS.get(lib, lib) for lib in libs), *table.info]
    headers += [f"jdist/{SHORT.get(p, p)}" for p in peers]
    rows = []
    for r in table.rows:
        row = [r["item"]]
        row += [r["cells"].get(lib, {}).get("text", "-") for lib in libs]
        row += [r["info"].get(c, "-") for c in table.info]
        row += [fmt_ratio(ratio(r, p)) for p in peers]
        rows.append(row)
    return headers, rows


def render_case(case: CaseResult, markdown: bool = False) -> str:
    """A case as text (for the terminal) or markdown (for RESULTS.md)."""
    parts = []
    if markdown:
        parts.append(f"## {case.title}\n\n{case.description}\n")
    else:
        parts.append(f"== {case.title} ({case.seconds:.0f} s)\n{case.description}\n")
    for t in case.tables:
        headers, rows = table_rows(t)
        if markdown:
            parts.append(f"**{t.title}**\n\n{_md_table(headers, rows)}\n")
        else:
            parts.append(f"{t.title}\n{_text_table(headers, rows)}\n")
    if case.notes:
        bullet = "- " if markdown else "  * "
        parts.append("\n".join(bullet + n for n in case.notes) + "\n")
    return "\n".join(parts)


def render_summary(cases: list[CaseResult], markdown: bool = False) -> str:
    """One table of every ratio ``jdist time / peer time`` over all cases."""
    peers = list(PEERS)
    headers = ["case", "measurement", *(f"jdist/{SHORT.get(p, p)}" for p in peers)]
    rows = []
    for case in cases:
        for t in case.tables:
            if not t.summary:
                continue
            for r in t.rows:
                if "jdist" not in r["cells"] or not r.get("summary", True):
                    continue
                rows.append([case.name, r["item"], *(fmt_ratio(ratio(r, p)) for p in peers)])
    used = [i for i in range(2, len(headers)) if any(row[i] != "-" for row in rows)]
    keep = [0, 1, *used]
    headers = [headers[i] for i in keep]
    rows = [[row[i] for i in keep] for row in rows]
    return (_md_table if markdown else _text_table)(headers, rows)


# --------------------------------------------------------------------------- machine
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> str:
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = total
    return f"{usable}" if usable == total else f"{usable} usable of {total}"


def package_version(key: str) -> str | None:
    """Installed version of a library key (``"tfp"``, ``"torch"``, ...) without importing it."""
    for dist in _DISTS.get(key, (key,)):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "jdist"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if rev.returncode:
            return "unknown"
        return rev.stdout.strip() + (" (jdist/ modified)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info() -> dict[str, str]:
    """CPU model, cores, JAX backend/devices, versions, date and git revision."""
    import jax

    import jdist

    info = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": _cores(),
        "python": platform.python_version(),
        "jax backend": f"{jax.default_backend()} ("
        + ", ".join(f"{d} {d.device_kind}" for d in jax.devices())
        + ")",
        "jdist": f"{jdist.__version__} (git {_git_revision()})",
    }
    for key in ("jax", "jaxlib", "distrax", "numpyro", "tfp", "torch", "optax", "numpy"):
        info[key] = package_version(key) or "not installed"
    try:
        load = os.getloadavg()
        info["load average at start"] = ", ".join(f"{x:.2f}" for x in load)
    except OSError:
        pass
    return info


def render_machine(info: dict[str, str], markdown: bool = False) -> str:
    """The machine block."""
    if markdown:
        return "\n".join(f"- **{k}**: {v}" for k, v in info.items())
    return "\n".join(f"  {k}: {v}" for k, v in info.items())
