from __future__ import annotations

import pytest

from engine.formatting import percent_text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (1.0, 1, "100.0 %"),
        (0.9996, 1, "99.9 %"),
        (0.99999999999, 2, "99.99 %"),
        (0.973, 1, "97.3 %"),
        (0.5, 0, "50 %"),
        (0.0, 1, "0.0 %"),
        (0.29, 1, "29.0 %"),  # 0.29 * 1000 is 289.99999... in floating point
    ],
)
def test_percentages_are_truncated_so_only_100_reads_100(value, digits, text):
    assert percent_text(value, digits) == text
