"""pgverify: the reference test oracle for policy-gradient RL and policy optimisation for control.

Tiers of truth: exact, certified, high-precision, statistical, float (docs/tiers.md); the
formulas: docs/mathematics.md.

* :class:`LQR` — the LQR oracle (float, mpmath, certified balls);
* :class:`FiniteMDP` and :mod:`pgverify.mdp` — finite MDPs in exact arithmetic;
* :mod:`pgverify.symbolic` — sympy derivations (``pgverify derive``);
* :mod:`pgverify.strategies` — hypothesis strategies for your own property tests;
* :mod:`pgverify.checks` and :func:`assert_close` — judge your implementation in one call.
"""

from pgverify.checks import assert_close  # also makes pgverify.checks an attribute
from pgverify.enclosure import Enclosure
from pgverify.errors import (
    CertificationError,
    InvalidProblemError,
    NotStabilizingError,
    OracleMismatch,
    PgverifyError,
)
from pgverify.lqr import LQR
from pgverify.mdp import FiniteMDP
from pgverify.precision import Certified

__version__ = "0.1.0"

__all__ = [
    "LQR",
    "CertificationError",
    "Certified",
    "Enclosure",
    "FiniteMDP",
    "InvalidProblemError",
    "NotStabilizingError",
    "OracleMismatch",
    "PgverifyError",
    "__version__",
    "assert_close",
]
