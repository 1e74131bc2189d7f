"""The shared time range parser: presets, custom spans, and a sentence for each bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from health.ranges import health_range
from runs.time_range import BadTimeRange, time_range_parse

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def parse(**params):
    return time_range_parse(params, now=NOW)


def test_no_range_is_the_last_30_days_and_not_carried_in_links():
    found = parse()

    assert (found.start, found.end, found.key) == (NOW - timedelta(days=30), NOW, "30d")
    assert found.label == "last 30 d"
    assert found.query == "range=30d"
    assert found.suffix == ""


@pytest.mark.parametrize(
    ("key", "span"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("30d", timedelta(days=30)),
        ("90d", timedelta(days=90)),
        ("1h", timedelta(hours=1)),
        ("6h", timedelta(hours=6)),
    ],
)
def test_each_preset_ends_now_and_names_itself_in_the_url(key, span):
    found = parse(range=key)

    assert (found.start, found.end) == (NOW - span, NOW)
    assert found.query == f"range={key}"
    assert found.suffix == f"?range={key}"
    assert not found.is_custom


def test_a_custom_span_without_offset_is_utc():
    found = parse(**{"from": "2026-11-01", "to": "2026-11-02T12:30"})

    assert found.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert found.end == datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
    assert found.is_custom
    assert found.query == "from=2026-11-01T00%3A00%3A00Z&to=2026-11-02T12%3A30%3A00Z"
    assert found.label == "2026-11-01 00:00 to 2026-11-02 12:30 UTC"


def test_a_custom_span_with_offsets_is_converted_to_utc_and_wins_over_a_preset():
    found = parse(range="7d", **{"from": "2026-11-01T10:00:00+02:00", "to": "2026-11-01T12:00Z"})

    assert (found.start, found.end) == (
        datetime(2026, 11, 1, 8, tzinfo=UTC),
        datetime(2026, 11, 1, 12, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        (
            {"range": "2w"},
            "“2w” is not a time range: range takes one of 1h, 6h, 24h, 7d, 30d, 90d, "
            "or give from and to as ISO 8601 dates.",
        ),
        (
            {"from": "2026-11-01"},
            "A custom time range needs both from and to; from was given without to. "
            "Add to, or choose a preset such as range=7d.",
        ),
        (
            {"to": "2026-11-01"},
            "A custom time range needs both from and to; to was given without from. "
            "Add from, or choose a preset such as range=7d.",
        ),
        (
            {"from": "yesterday", "to": "2026-11-01"},
            "“yesterday” is not a date and time: from takes ISO 8601, such as 2026-11-02 "
            "or 2026-11-02T14:30:00Z.",
        ),
        (
            {"from": "2026-11-01", "to": "3026-11-01"},
            "“3026-11-01” is outside the years 2000 to 2100; give to a date in that span.",
        ),
        (
            {"from": "2026-11-02", "to": "2026-11-01"},
            "The time range starts at 2026-11-02 00:00 UTC, which is not before its end at "
            "2026-11-01 00:00 UTC; from must come before to.",
        ),
        (
            {"from": "2026-11-01", "to": "2026-11-01"},
            "The time range starts at 2026-11-01 00:00 UTC, which is not before its end at "
            "2026-11-01 00:00 UTC; from must come before to.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_sentence(params, sentence):
    with pytest.raises(BadTimeRange) as raised:
        parse(**params)

    assert str(raised.value) == sentence


@pytest.mark.parametrize(
    ("params", "rollup", "step"),
    [
        ({"range": "24h"}, "minute", 900),
        ({"range": "7d"}, "hour", 3600),
        ({"from": "2026-11-01T00:00", "to": "2026-11-01T03:00"}, "minute", 300),
        ({"from": "2026-11-01", "to": "2026-11-05"}, "hour", 3600),
        ({"from": "2026-11-01", "to": "2026-11-20"}, "day", 24 * 3600),
        ({"range": "90d"}, "day", 24 * 3600),
        ({"from": "2025-01-01", "to": "2026-01-01"}, "day", 24 * 3600),
    ],
)
def test_the_health_rollup_follows_the_span(params, rollup, step):
    found = health_range(parse(**params))

    assert (found.rollup, found.step_seconds) == (rollup, step)
