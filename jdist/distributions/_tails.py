"""``TailParts``: the CDF, survival function and their logs from one shared computation."""

from __future__ import annotations


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
