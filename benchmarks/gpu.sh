#!/usr/bin/env bash
# Runs the whole benchmark suite (python -m benchmarks) on a GPU machine, in under 8 minutes.
#
#   bash benchmarks/gpu.sh            # from anywhere; results in $OUT if set, else benchmarks/
#
# Writes RESULTS-gpu.md (the same report as benchmarks/RESULTS.md) and benchmarks-gpu.log
# (the full console output); extra arguments go to `python -m benchmarks` (e.g. --quick).
# Installs only what is missing: jax with CUDA when JAX sees no GPU, and the bench peers
# one by one (jdist itself is imported from this checkout); a peer that cannot be installed
# (no network) is reported as "not installed" and skipped. JDIST_BENCH_NO_INSTALL=1 skips
# every install (a dry run on a CPU: JDIST_BENCH_NO_INSTALL=1 bash benchmarks/gpu.sh --quick).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
DEST="${OUT:-benchmarks}"
mkdir -p "$DEST"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Each case is its own process; JAX must not grab 75% of the GPU up front in any of them.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
export TF_CPP_MIN_LOG_LEVEL=2
start=$(date +%s)

have() { "$PY" -c "import $1" >/dev/null 2>&1; }
install() {  # install SECONDS ARGS...: best effort, bounded (no network must not stall us)
  local seconds=$1
  shift
  timeout "$seconds" "$PY" -m pip install -q --disable-pip-version-check "$@" \
    || echo "gpu.sh: could not install $* (continuing without it)"
}

if [ -n "${JDIST_BENCH_NO_INSTALL:-}" ]; then
  echo "gpu.sh: JDIST_BENCH_NO_INSTALL set: installing nothing"
elif ! "$PY" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' >/dev/null 2>&1; then
  echo "gpu.sh: JAX sees no GPU; installing jax[cuda12]"
  install 240 "jax[cuda12]"
fi
if [ -z "${JDIST_BENCH_NO_INSTALL:-}" ]; then
  have optax || install 120 optax
  have chex || install 120 chex
  have numpyro || install 120 numpyro
  have tensorflow_probability || install 120 tfp-nightly
  have distrax || install 120 distrax
  have torch || install 200 "torch==2.13.0"
fi

"$PY" - <<'PY'
import jax
print("gpu.sh: jax", jax.__version__, "backend", jax.default_backend(), jax.devices())
PY

# The suite: every case in its own process; the report is rewritten after each case, so a
# run cut short by the time limit still leaves the finished cases in RESULTS-gpu.md.
left=$(( 470 - ($(date +%s) - start) ))
timeout "$left" "$PY" -m benchmarks --timeout 240 --out "$DEST/RESULTS-gpu.md" "$@" 2>&1 \
  | tee "$DEST/benchmarks-gpu.log"
status=${PIPESTATUS[0]}
echo "gpu.sh: exit status $status after $(( $(date +%s) - start )) s; report: $DEST/RESULTS-gpu.md"
exit "$status"
