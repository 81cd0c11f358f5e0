"""pgverify: the reference test oracle for policy-gradient RL and policy optimisation for control.

Tiers of truth: exact, certified, high-precision, statistical, float (see docs/ and DESIGN).
"""

from pgverify.errors import (
    CertificationError,
    InvalidProblemError,
    NotStabilizingError,
    OracleMismatch,
    PgverifyError,
)
from pgverify.lqr import LQR
from pgverify.precision import Certified, Enclosure

__version__ = "0.1.0"

__all__ = [
    "LQR",
    "CertificationError",
    "Certified",
    "Enclosure",
    "InvalidProblemError",
    "NotStabilizingError",
    "OracleMismatch",
    "PgverifyError",
    "__version__",
]
