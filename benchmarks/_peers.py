"""Importing the peer libraries, each optional: a missing one is reported, never fatal.

Example:
    >>> mods = load_peers(("jdist", "distrax"))
    >>> sorted(mods)            # whichever imported; failures are in ``notes``
    ['distrax', 'jdist']
"""

from __future__ import annotations

import types

from benchmarks._harness import error_note


def _import(lib: str):
    if lib == "jdist":
        import jdist

        return jdist
    if lib == "distrax":
        import distrax

        return distrax
    if lib == "numpyro":
        import numpyro.distributions as nd

        return nd
    if lib == "tfp":
        import tensorflow_probability.substrates.jax as tfp

        return tfp.distributions
    if lib == "torch":
        import torch
        from torch import distributions as td

        return types.SimpleNamespace(torch=torch, td=td)
    raise KeyError(lib)


class Peers(dict):
    """``lib -> module`` for the libraries that imported; ``notes[lib]`` says why others
    did not (``"not installed"`` or the error)."""

    def __init__(self):
        super().__init__()
        self.notes: dict[str, str] = {}


def load_peers(libs) -> Peers:
    """Imports each of ``libs`` (``jnp`` needs no import and is skipped)."""
    out = Peers()
    for lib in libs:
        if lib == "jnp":
            continue
        try:
            out[lib] = _import(lib)
        except Exception as e:  # noqa: BLE001  (a broken peer must not stop the benchmark)
            out.notes[lib] = error_note(e)
    return out


def torch_block(torch_ns):
    """The block function for torch results: a CUDA synchronisation when torch runs on the
    GPU (see :func:`torch_device`), nothing on the CPU (synchronous)."""
    if torch_ns is not None and torch_device(torch_ns) == "cuda":
        sync = torch_ns.torch.cuda.synchronize

        def block(result):
            sync()
            return result

        return block
    return lambda result: result


def torch_device(torch_ns) -> str:
    """``"cuda"`` when JAX runs on a GPU and torch sees one, else ``"cpu"``."""
    import jax

    if jax.default_backend() == "gpu" and torch_ns.torch.cuda.is_available():
        return "cuda"
    return "cpu"
