"""``python -m benchmarks``: run every benchmark case, each in its own process.

See :mod:`benchmarks` for the cases and options.
"""

from benchmarks.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
