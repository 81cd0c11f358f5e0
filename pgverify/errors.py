"""The exception hierarchy of pgverify.

Every error pgverify raises on purpose derives from :class:`PgverifyError`, so a caller can catch
them all at once. Messages say what was wrong, the value seen and what was expected.
"""

from __future__ import annotations


class PgverifyError(Exception):
    """Base class of every exception pgverify raises on purpose."""


class InvalidProblemError(PgverifyError, ValueError):
    """Bad input: a wrong shape, a NaN or infinity, a complex entry, a matrix that is not symmetric
    or not positive (semi)definite, a discount outside (0, 1], an (A, B) pair that is not
    stabilisable, ...  Also a :class:`ValueError`, so generic callers catch it too."""


class NotStabilizingError(PgverifyError, ValueError):
    """A gain K with spectral radius rho(A - BK) >= 1: the LQR cost C(K) is infinite there, so
    no quantity of the policy-gradient oracle is defined. The message gives the radius seen."""

    def __init__(self, message: str, spectral_radius: float | None = None) -> None:
        super().__init__(message)
        self.spectral_radius = spectral_radius


class CertificationError(PgverifyError, ArithmeticError):
    """A rigorous enclosure could not be certified at the requested precision. The message says
    which step failed and what to try (more bits, a better conditioned problem, a lower tier).
    pgverify never returns an uncertified number labelled certified."""


class OracleMismatch(PgverifyError, AssertionError):
    """A check found an implementation disagreeing with the oracle. An AssertionError, so pytest
    reports it as a test failure."""


class MissingDependencyError(PgverifyError, ImportError):
    """An optional dependency is not installed (e.g. matplotlib for ``pgverify report --plots``).
    The message names the package and the extra that installs it."""
