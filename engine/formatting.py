"""How a fraction reads as a percentage on every page: truncated, never rounded up."""

from __future__ import annotations

import math


def percent_text(value: float, digits: int = 1) -> str:
    """0.9996 -> "99.9 %" (not "100.0 %"): only an exact 1.0 reads 100 %. Truncates toward zero."""
    scale = 10**digits
    scaled = math.floor(abs(value) * 100 * scale + 1e-9)
    if abs(value) < 1 and scaled >= 100 * scale:
        scaled = 100 * scale - 1  # a float a hair under 1 must not print as 100
    sign = "-" if value < 0 and scaled else ""
    return f"{sign}{scaled / scale:.{digits}f} %"
