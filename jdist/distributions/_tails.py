"""``TailParts``: the CDF, survival function and their logs from one shared computation."""

from __future__ import annotations

import jax.numpy as jnp


class TailParts:
    """Mixin for families whose ``cdf``, ``survival_function``, ``log_cdf`` and
    ``log_survival_function`` come out of one computation (an incomplete gamma or beta
    function gives both tails and their logs at once, each accurate where it is small).

    The family implements ``_tail_parts(value) -> (cdf, sf, log_cdf, log_sf)``.

    Example:
        >>> class MyFamily(TailParts, Distribution):
        ...     def _tail_parts(self, value):
        ...         return cdf, sf, log_cdf, log_sf
    """

    def _tail_parts(self, value):
        raise NotImplementedError

    def _cdf(self, value):
        return self._tail_parts(value)[0]

    def _survival_function(self, value):
        return self._tail_parts(value)[1]

    def _log_cdf(self, value):
        return self._tail_parts(value)[2]

    def _log_survival_function(self, value):
        return self._tail_parts(value)[3]


class LogTailPair(TailParts):
    """``TailParts`` for families that compute the two log tails, ``_log_cdf_pair(value) ->
    (log_cdf, log_sf)`` (discrete families summing their mass in log space); the tails
    themselves are their exponentials.

    Example:
        >>> class MyCounts(LogTailPair, Distribution):
        ...     def _log_cdf_pair(self, value):
        ...         return log_cdf, log_sf
    """

    def _log_cdf_pair(self, value):
        raise NotImplementedError

    def _tail_parts(self, value):
        log_cdf, log_sf = self._log_cdf_pair(value)
        return jnp.exp(log_cdf), jnp.exp(log_sf), log_cdf, log_sf
