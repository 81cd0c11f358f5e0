"""Cases printed as copy-pasteable Python that reproduces them exactly.

Floats are printed with ``repr`` (the shortest string that round-trips), arrays as
``np.array([...])`` of such floats, so pasting the case rebuilds the very same float64 inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def python_literal(value: Any) -> str:
    """A Python expression that evaluates to ``value`` exactly (numpy arrays as float64)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.dtype != np.float64:
            return f"np.array({_nested(value.tolist())}, dtype=np.{value.dtype.name})"
        return f"np.array({_nested(value.tolist())})"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, (list, tuple)):
        return _nested(list(value))
    return repr(value)


def _float(value: float) -> str:
    if value != value:
        return "float('nan')"
    if value in (float("inf"), float("-inf")):
        return f"float('{value}')"
    return repr(value)


def _nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(item) for item in value) + "]"
    if isinstance(value, float):
        return _float(value)
    return python_literal(value)


def python_case(
    arguments: Mapping[str, Any], parameters: Sequence[str], keywords: Mapping[str, Any]
) -> str:
    """``import numpy as np`` / one assignment per argument / the call ``fn(...)``."""
    lines = ["import numpy as np"]
    for name in parameters:
        lines.append(f"{name} = {python_literal(arguments[name])}")
    call = [*parameters, *(f"{key}={python_literal(value)}" for key, value in keywords.items())]
    lines.append(f"result = fn({', '.join(call)})")
    return "\n".join(lines)


def short_array(value: Any) -> str:
    """A readable (not round-tripping) rendering of a value for the failure report."""
    array = np.asarray(value)
    if array.ndim == 0:
        return repr(float(array)) if array.dtype.kind in "fiu" else repr(value)
    return np.array2string(array, precision=8, max_line_width=100, threshold=64)
