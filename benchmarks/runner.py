"""The benchmark driver: one subprocess per case, then the report.

The parent process only launches ``python -m benchmarks --child CASE --json FILE`` for each
selected case (so no import, compilation or cache state leaks from one case into the
next), prints each case's tables as it finishes, then the summary of ratios and the
machine, and writes ``benchmarks/RESULTS.md``.

Example:
    >>> main(["--quick", "--cases", "eager", "--libs", "jnp,jdist", "--no-write"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._harness import (
    LIBS,
    REPO_ROOT,
    CaseResult,
    Config,
    render_case,
    render_machine,
    render_summary,
)

# Case name -> module; the order is the report's.
CASES = {
    "jit": "benchmarks.case_jit",
    "eager": "benchmarks.case_eager",
    "compile": "benchmarks.case_compile",
    "import": "benchmarks.case_import",
    "e2e": "benchmarks.case_e2e",
    "scaling": "benchmarks.case_scaling",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


def _parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="jdist side by side with hand-written JAX, distrax, numpyro, TFP (JAX) "
        "and torch.distributions; every case in its own process.",
    )
    p.add_argument("--quick", action="store_true", help="small sizes and repeats (smoke run)")
    p.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated subset of: {', '.join(CASES)} (default: all)",
    )
    p.add_argument(
        "--libs",
        default=",".join(LIBS),
        help=f"comma-separated subset of: {', '.join(LIBS)} (default: all installed)",
    )
    p.add_argument("--repeats", type=int, default=None, help="override repeats per timing")
    p.add_argument("--target", type=float, default=None, help="override seconds per repeat")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="markdown report path (default benchmarks/RESULTS.md, written only by a full "
        "run: all cases, not --quick)",
    )
    p.add_argument("--no-write", action="store_true", help="write no markdown report")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per case")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    args.libs = tuple(x.strip() for x in args.libs.split(",") if x.strip())
    bad = [c for c in args.cases if c not in CASES]
    if bad:
        p.error(f"unknown case(s) {bad}; choose from {list(CASES)}")
    bad = [x for x in args.libs if x not in LIBS]
    if bad:
        p.error(f"unknown librar(y/ies) {bad}; choose from {list(LIBS)}")
    if "jdist" not in args.libs:
        p.error("--libs must include jdist (every ratio is jdist / peer)")
    return args


def _child(args) -> int:
    """Runs one case in this process and writes its result as JSON."""
    module = importlib.import_module(CASES[args.child])
    cfg = Config(quick=args.quick, libs=args.libs, repeats=args.repeats, target_s=args.target)
    t0 = time.perf_counter()
    result: CaseResult = module.run(cfg)
    result.seconds = time.perf_counter() - t0
    with open(args.json, "w") as f:
        json.dump(result.to_json(), f)
    return 0


def _child_command(args, case: str, json_path: str) -> list[str]:
    cmd = [sys.executable, "-m", "benchmarks", "--child", case, "--json", json_path]
    cmd += ["--libs", ",".join(args.libs)]
    if args.quick:
        cmd.append("--quick")
    if args.repeats is not None:
        cmd += ["--repeats", str(args.repeats)]
    if args.target is not None:
        cmd += ["--target", str(args.target)]
    return cmd


def child_env() -> dict[str, str]:
    """Environment of a case process: the repository importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _run_case(args, case: str) -> tuple[CaseResult | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, f"{case}.json")
        try:
            proc = subprocess.run(
                _child_command(args, case, json_path),
                cwd=REPO_ROOT,
                env=child_env(),
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired:
            return None, f"timed out after {args.timeout:.0f} s"
        if proc.returncode != 0 or not os.path.exists(json_path):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            return None, f"exit status {proc.returncode}:\n" + "\n".join(tail)
        with open(json_path) as f:
            return CaseResult.from_json(json.load(f)), proc.stderr


def _markdown(info, cases, failed, args, total_s) -> str:
    mode = " --quick" if args.quick else ""
    parts = [
        "# jdist benchmarks\n",
        f"Written by `python -m benchmarks{mode}` on {info['date']} (total {total_s:.0f} s). "
        "Each case ran in its own process; timings are medians over repeats interleaved "
        "across libraries, after warm-up, every result blocked on "
        "(`jax.block_until_ready`). **Ratios are jdist time / peer time measured in the same "
        "run: below 1 jdist is faster.** `hand-written jnp` is the floor: the same "
        "computation written directly with `jax.numpy`/`jax.random`.\n",
        "## Machine\n",
        render_machine(info, markdown=True) + "\n",
        "## Summary: jdist time / peer time\n",
        render_summary(cases, markdown=True) + "\n",
    ]
    if failed:
        parts.append("## Cases that failed\n")
        parts += [f"- `{c}`: {why.splitlines()[0]}" for c, why in failed.items()]
        parts.append("")
    parts += [render_case(c, markdown=True) for c in cases]
    return "\n".join(parts).rstrip() + "\n"


def _machine_info() -> dict[str, str]:
    """:func:`machine_info` from a subprocess, so that this process never initialises a
    JAX backend (on a GPU it would hold device memory while the cases run)."""
    code = "import json; from benchmarks._harness import machine_info; "
    code += "print(json.dumps(machine_info()))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError("could not read the machine's description:\n" + proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    """Entry point of ``python -m benchmarks``; returns the exit status."""
    args = _parse(argv)
    if args.child:
        return _child(args)

    t_start = time.perf_counter()
    info = _machine_info()
    print("jdist benchmarks" + (" (--quick)" if args.quick else ""))
    print(render_machine(info))
    print()
    full_run = not args.quick and args.cases == list(CASES)
    out = args.out if args.out is not None else (DEFAULT_OUT if full_run else None)
    if args.no_write:
        out = None
    results: list[CaseResult] = []
    failed: dict[str, str] = {}
    for case in args.cases:
        print(f"-- running case '{case}' ...", flush=True)
        result, log = _run_case(args, case)
        if result is None:
            failed[case] = log
            print(f"!! case '{case}' failed: {log}\n", flush=True)
        else:
            results.append(result)
            print(render_case(result), flush=True)
        if out is not None:  # rewritten after every case: a cut-off run keeps what it has
            pending = args.cases[args.cases.index(case) + 1 :]
            _write(out, info, results, failed, args, time.perf_counter() - t_start, pending)
    total = time.perf_counter() - t_start

    print("== Summary: jdist time / peer time (below 1: jdist faster)")
    print(render_summary(results))
    print()
    print("machine:")
    print(render_machine(info))
    print(f"total {total:.0f} s" + (f"; FAILED cases: {', '.join(failed)}" if failed else ""))

    if out is None:
        if not args.no_write:
            print("(no report written: pass --out PATH for a partial or --quick run)")
    else:
        _write(out, info, results, failed, args, total, [])
        print(f"wrote {out}")
    return 1 if failed else 0


def _write(out: Path, info, results, failed, args, total_s, pending) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = _markdown(info, results, failed, args, total_s)
    if pending:
        text += f"\n_Incomplete: still running or not reached: {', '.join(pending)}._\n"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
