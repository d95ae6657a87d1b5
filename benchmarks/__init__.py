"""jdist side by side with hand-written JAX, distrax, numpyro, TFP (JAX) and torch.

Run every case from the repository root (peers from ``pip install -e ".[bench]"``; a
missing peer is reported and skipped)::

    python -m benchmarks                      # all cases, writes benchmarks/RESULTS.md
    python -m benchmarks --quick              # small sizes and repeats: a smoke run
    python -m benchmarks --cases jit,eager    # a subset (report only with --out PATH)
    python -m benchmarks --libs jnp,jdist     # a subset of libraries
    bash benchmarks/gpu.sh                    # the same suite on a GPU machine

Each case runs in its own process (``benchmarks.runner``), so no import, tracing or
compilation state leaks between cases. Timings (``benchmarks._harness.time_calls``) are
medians over repeats interleaved across libraries, after warm-up, with every result
blocked on; the report gives ratios ``jdist time / peer time`` measured in the same run.

Cases:

1. ``jit`` (:mod:`benchmarks.case_jit`): jitted ``log_prob``/``sample`` of Normal,
   Categorical, Gamma, MultivariateNormal and Dirichlet against the hand-written floor.
2. ``eager`` (:mod:`benchmarks.case_eager`): construct + ``log_prob`` outside ``jit``.
3. ``compile`` (:mod:`benchmarks.case_compile`): trace + compile time of 100 mixed
   distributions, fresh process.
4. ``import`` (:mod:`benchmarks.case_import`): ``import`` time after ``import jax``.
5. ``e2e`` (:mod:`benchmarks.case_e2e`): CartPole REINFORCE env steps/s at 1, 64, 1024
   envs; one VAE training update.
6. ``scaling`` (:mod:`benchmarks.case_scaling`): Normal/Categorical from 1e3 to 1e7
   elements, achieved GB/s.
"""
