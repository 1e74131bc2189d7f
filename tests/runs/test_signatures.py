"""Failure signatures: the same cause gives the same signature, different causes differ."""

from __future__ import annotations

import pytest

from runs.signatures import normalize_message, signature_hash


def signature(message: str, kind: str = "failed") -> str:
    return signature_hash(normalize_message(message), kind)


def test_it_gives_the_same_signature_to_one_cause_on_different_addresses() -> None:
    first = signature("connection refused to 10.0.0.5:5432")
    second = signature("connection refused to 10.0.0.7:5433")

    assert first == second
    assert normalize_message("connection refused to 10.0.0.5:5432") == (
        "connection refused to <ip>"
    )


def test_it_gives_different_errors_different_signatures() -> None:
    assert signature("connection refused to 10.0.0.5:5432") != signature(
        "permission denied for table users"
    )
    assert signature("expected 200 but got 500") != signature("expected status but got timeout")


def test_it_keeps_failures_and_errors_with_one_message_apart() -> None:
    normalized = normalize_message("boom")

    assert signature_hash(normalized, "failed") != signature_hash(normalized, "error")


def test_it_hashes_to_a_stable_sha1_hex() -> None:
    digest = signature_hash("boom", "failed")

    assert digest == signature_hash("boom", "failed")
    assert len(digest) == 40
    assert set(digest) <= set("0123456789abcdef")


@pytest.mark.parametrize(
    ("message", "normalized"),
    [
        ("request 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed", "request <uuid> failed"),
        ("ID 3FA85F64-5717-4562-B3FC-2C963F66AFA6", "ID <uuid>"),
        ("segfault at 0x7f3a9c2e1d00", "segfault at <hex>"),
        ("commit deadbeefcafe1234 is missing", "commit <hex> is missing"),
        ("<Foo@1b6d3586> was not equal", "<Foo@<hex>> was not equal"),
        ("at 2024-05-01T10:00:00.123Z stopped", "at <ts> stopped"),
        ("at 2024-05-01 10:00:00+02:00 stopped", "at <ts> stopped"),
        ("at 2024-05-01T10:00:00 stopped", "at <ts> stopped"),
        ("logged 12:34:56.789 done", "logged <ts> done"),
        ("expected 3 rows, got 4", "expected <n> rows, got <n>"),
        ("took 1.23s, limit 30000ms", "took <duration>, limit <duration>"),
        ("waited 5 seconds", "waited <duration>"),
        ("user 'user-8472' not found", "user '<id>' not found"),
        ('order "ord_9f8e7d" unknown', 'order "<id>" unknown'),
        ("listen [::1]:8080 failed", "listen <ip> failed"),
        ("peer fe80::1ff:fe23:4567:890a gone", "peer <ip> gone"),
        ("peer 2001:db8::1 gone", "peer <ip> gone"),
        ("db.internal:5432 refused", "db.internal:<port> refused"),
        ("localhost:8000 refused", "localhost:<port> refused"),
        ("cannot open /tmp/pytest-of-bob/pytest-12/t0/f.txt: gone", "cannot open <path>: gone"),
        ("/var/folders/x1/abc123/T/foo.log missing", "<path> missing"),
        ("/private/var/folders/x1/T/a missing", "<path> missing"),
        (
            r"cannot open C:\Users\bob\AppData\Local\Temp\tmpab12cd\x.txt now",
            "cannot open <path> now",
        ),
        ("\x1b[31mError\x1b[0m: bad", "Error: bad"),
        ("  many \n\t spaces  ", "many spaces"),
    ],
)
def test_it_replaces_what_varies_with_placeholders(message: str, normalized: str) -> None:
    assert normalize_message(message) == normalized


def test_it_keeps_source_lines_and_scoped_names_readable() -> None:
    message = "tests/test_lib.py:25: AssertionError in Foo::bar and test.py::test_x"

    assert normalize_message(message) == (
        "tests/test_lib.py:<n>: AssertionError in Foo::bar and test.py::test_x"
    )


def test_it_replaces_uuids_before_hex_and_numbers() -> None:
    assert normalize_message("a 12345678-1234-1234-1234-123456789abc b") == "a <uuid> b"


def test_it_replaces_timestamps_before_numbers() -> None:
    assert normalize_message("2024-05-01T10:00:00Z") == "<ts>"


def test_it_gives_one_signature_to_messages_differing_only_in_ids_and_times() -> None:
    first = "Timeout after 30.5s waiting for job 3fa85f64-5717-4562-b3fc-2c963f66afa6 at 10.1.2.3"
    second = "Timeout after 12.0s waiting for job 9c858901-8a57-4791-81fe-4c455b099bc9 at 10.9.8.7"

    assert signature(first) == signature(second)


def test_it_cuts_normalized_messages_to_500_characters() -> None:
    normalized = normalize_message("word " * 300)

    assert len(normalized) <= 500
    assert normalized.startswith("word word")
    assert not normalized.endswith(" ")
