"""Eager (outside ``jit``) per-call latency of building a distribution and calling log_prob.

Run from the repository root::

    python -m benchmarks.eager_overhead            # full run (about half a minute)
    python -m benchmarks.eager_overhead --quick    # fewer, shorter repeats

Cases, each timed as "construct the distribution, then log_prob", result blocked on:

* ``normal``: ``Normal(0., 1.).log_prob(x)`` with ``x`` a float32 array of 16 elements.
* ``categorical``: ``Categorical(logits=logits).log_prob(a)`` with ``logits`` float32 of
  shape (16, 4) and ``a`` 16 int32 actions.

Libraries: jdist; a hand-written ``jax.numpy`` formula (the floor: the fewest eager ops
that compute the same thing); distrax; numpyro; TFP's JAX substrate; and
torch.distributions on the CPU for reference. Peers that are not installed are reported
and skipped. Install them with ``pip install distrax numpyro torch==2.13.0`` (distrax
brings TFP).

Method: a few warm-up calls (excluded: first calls compile each primitive), then N is
chosen so that one repeat of N calls takes about ``--target`` seconds; the reported
figure is the median over ``--repeats`` repeats of the mean time per call, in µs.
Python's garbage collector is off during a repeat, as in ``timeit``.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import jdist

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
N_X = 16
N_CATEGORIES = 4


# --------------------------------------------------------------------------- timing
def _block_jax(result):
    return jax.block_until_ready(result)


def _block_none(result):
    return result


def time_per_call(
    fn: Callable[[], object],
    block: Callable[[object], object],
    *,
    target_s: float,
    repeats: int,
    warmup: int = 20,
) -> float:
    """Median over ``repeats`` of the mean seconds per ``block(fn())`` call."""
    for _ in range(warmup):
        block(fn())
    # Calibrate: grow n until a batch takes long enough to measure, then scale to target.
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            block(fn())
        elapsed = time.perf_counter() - t0
        if elapsed >= 0.02 or n >= 1 << 20:
            break
        n *= 4
    per_call = elapsed / n
    n_calls = max(1, int(target_s / per_call))
    samples = []
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(n_calls):
                block(fn())
            samples.append((time.perf_counter() - t0) / n_calls)
            if gc_was_enabled:
                gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples)


# --------------------------------------------------------------------------- inputs
def _inputs():
    rng = np.random.default_rng(0)
    x_np = np.linspace(-2.0, 2.0, N_X, dtype=np.float32)
    logits_np = rng.standard_normal((N_X, N_CATEGORIES)).astype(np.float32)
    actions_np = rng.integers(0, N_CATEGORIES, size=N_X).astype(np.int32)
    x = jax.block_until_ready(jnp.asarray(x_np))
    logits = jax.block_until_ready(jnp.asarray(logits_np))
    actions = jax.block_until_ready(jnp.asarray(actions_np))
    return x_np, logits_np, actions_np, x, logits, actions


@dataclass
class Entry:
    case: str
    library: str
    fn: Callable[[], object] | None = None
    block: Callable[[object], object] = _block_jax
    note: str = ""  # "not installed", an error, ...
    us: float | None = None
    agrees: bool | None = None


def _build_entries() -> tuple[list[Entry], dict[str, str]]:
    """All (case, library) entries; unavailable peers carry a note instead of a fn."""
    x_np, logits_np, actions_np, x, logits, actions = _inputs()
    versions: dict[str, str] = {"jax": jax.__version__, "jdist": jdist.__version__}
    entries: list[Entry] = []

    # ---- the floor: hand-written jax.numpy
    def normal_jnp():
        loc, scale = 0.0, 1.0
        return -0.5 * ((x - loc) / scale) ** 2 - jnp.log(scale) - HALF_LOG_2PI

    def categorical_jnp():
        logp = jax.nn.log_softmax(logits, axis=-1)
        return jnp.take_along_axis(logp, actions[:, None], axis=-1)[:, 0]

    entries.append(Entry("normal", "hand-written jnp", normal_jnp))
    entries.append(Entry("categorical", "hand-written jnp", categorical_jnp))

    # ---- jdist
    entries.append(Entry("normal", "jdist", lambda: jdist.Normal(0.0, 1.0).log_prob(x)))
    entries.append(
        Entry("categorical", "jdist", lambda: jdist.Categorical(logits=logits).log_prob(actions))
    )

    # ---- peers
    def peer(name, make):
        """``make()`` imports the peer and returns (version, normal_fn, categorical_fn[, block])."""
        try:
            made = make()
        except ImportError as e:
            note = "not installed" if isinstance(e, ModuleNotFoundError) else f"import failed: {e}"
            for case in ("normal", "categorical"):
                entries.append(Entry(case, name, note=note))
            return
        except Exception as e:  # noqa: BLE001  (a broken peer must not stop the benchmark)
            note = f"import failed: {type(e).__name__}: {e}"
            for case in ("normal", "categorical"):
                entries.append(Entry(case, name, note=note))
            return
        version, normal_fn, categorical_fn, *rest = made
        block = rest[0] if rest else _block_jax
        versions[name.split(" (validate")[0]] = version
        entries.append(Entry("normal", name, normal_fn, block))
        entries.append(Entry("categorical", name, categorical_fn, block))

    def make_distrax():
        import distrax

        return (
            distrax.__version__,
            lambda: distrax.Normal(0.0, 1.0).log_prob(x),
            lambda: distrax.Categorical(logits=logits).log_prob(actions),
        )

    def make_numpyro():
        import numpyro
        import numpyro.distributions as nd

        return (
            numpyro.__version__,
            lambda: nd.Normal(0.0, 1.0).log_prob(x),
            lambda: nd.Categorical(logits=logits).log_prob(actions),
        )

    def make_tfp():
        import tensorflow_probability.substrates.jax as tfp

        tfd = tfp.distributions
        return (
            tfp.__version__,
            lambda: tfd.Normal(0.0, 1.0).log_prob(x),
            lambda: tfd.Categorical(logits=logits).log_prob(actions),
        )

    def make_torch(validate_args):
        def make():
            import torch
            from torch import distributions as td

            xt = torch.from_numpy(x_np.copy())
            logits_t = torch.from_numpy(logits_np.copy())
            actions_t = torch.from_numpy(actions_np.astype(np.int64))
            return (
                torch.__version__,
                lambda: td.Normal(0.0, 1.0, validate_args=validate_args).log_prob(xt),
                lambda: td.Categorical(logits=logits_t, validate_args=validate_args).log_prob(
                    actions_t
                ),
                _block_none,
            )

        return make

    peer("distrax", make_distrax)
    peer("numpyro", make_numpyro)
    peer("tfp (jax substrate)", make_tfp)
    # torch validates arguments by default (under __debug__); jdist, numpyro and TFP do
    # not, so the like-for-like row is validate_args=False. The default is shown too.
    peer("torch", make_torch(False))
    peer("torch (validate_args on)", make_torch(True))
    return entries, versions


# --------------------------------------------------------------------------- report
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


def _to_numpy(result) -> np.ndarray:
    if hasattr(result, "detach"):  # torch
        result = result.detach().numpy()
    return np.asarray(result, dtype=np.float64)


def _fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    return f"{a / b:.2f}x"


def _print_table(entries: list[Entry]) -> None:
    floor = {e.case: e.us for e in entries if e.library == "hand-written jnp"}
    jd = {e.case: e.us for e in entries if e.library == "jdist"}
    headers = ("case", "library", "µs/call", "vs hand-written", "jdist/peer", "agrees")
    rows = []
    for e in entries:
        if e.us is None:
            rows.append((e.case, e.library, e.note, "-", "-", "-"))
            continue
        is_ref = e.library in ("jdist", "hand-written jnp")
        rows.append(
            (
                e.case,
                e.library,
                f"{e.us:.1f}",
                _fmt_ratio(e.us, floor.get(e.case)),
                "-" if is_ref else _fmt_ratio(jd.get(e.case), e.us),
                {None: "-", True: "yes", False: "NO"}[e.agrees],
            )
        )
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    prev_case = None
    for r in rows:
        if prev_case is not None and r[0] != prev_case:
            print()
        prev_case = r[0]
        print(line.format(*r))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.2, help="seconds per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per entry")
    parser.add_argument("--quick", action="store_true", help="--target 0.05 --repeats 3")
    args = parser.parse_args(argv)
    if args.quick:
        args.target, args.repeats = 0.05, 3

    t_start = time.perf_counter()
    entries, versions = _build_entries()

    reference: dict[str, np.ndarray] = {}
    for e in entries:
        if e.fn is None:
            continue
        try:
            out = _to_numpy(e.block(e.fn()))
            if e.library == "hand-written jnp":
                reference[e.case] = out
            elif e.case in reference:
                e.agrees = out.shape == reference[e.case].shape and bool(
                    np.allclose(out, reference[e.case], rtol=1e-5, atol=1e-5)
                )
            e.us = 1e6 * time_per_call(e.fn, e.block, target_s=args.target, repeats=args.repeats)
        except Exception as ex:  # noqa: BLE001  (report and go on)
            e.note = f"error: {type(ex).__name__}: {ex}".splitlines()[0][:80]
            if os.environ.get("JDIST_BENCH_DEBUG"):
                traceback.print_exc()

    print("Eager (outside jit) latency per call: construct distribution + log_prob")
    print(f"  normal:      Normal(0., 1.).log_prob(x), x float32 ({N_X},)")
    print(
        f"  categorical: Categorical(logits=logits).log_prob(a), logits float32 "
        f"({N_X}, {N_CATEGORIES}), a int ({N_X},)"
    )
    print(f"machine: {_cpu_model()}, {_cores()} cores, Python {platform.python_version()}")
    devices = ", ".join(str(d) for d in jax.devices())
    print(f"jax {jax.__version__}, backend {jax.default_backend()} ({devices})")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        f"method: median of {args.repeats} repeats, each ~{args.target:g} s of calls, "
        f"after warm-up; jax results blocked with jax.block_until_ready"
    )
    print()
    order = {"normal": 0, "categorical": 1}
    _print_table(sorted(entries, key=lambda e: order.get(e.case, 2)))
    print()
    print(f"(total {time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
