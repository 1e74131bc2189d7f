"""Probing two revisions side by side, every interval, each at its own URL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import median

import pytest

from health.models import Incident, ProbeResult
from health.services.comparing import revisions_probe_compare
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe

pytestmark = pytest.mark.django_db


class _DelayedServer(ThreadingHTTPServer):
    daemon_threads = True
    delay_s: float


class _Handler(BaseHTTPRequestHandler):
    server: _DelayedServer

    def do_GET(self) -> None:
        time.sleep(self.server.delay_s)
        body = b"ok" if self.path == "/healthz" else b"no such route"
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        # A revision that names another one must still be recorded as the one we aimed at.
        self.send_header("X-Stageloop-Revision", "someone-else")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(delay_s: float) -> Iterator[str]:
    server = _DelayedServer(("127.0.0.1", 0), _Handler)
    server.delay_s = delay_s
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def fast_url() -> Iterator[str]:
    yield from _serve(0.0)


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    yield from _serve(0.06)


@pytest.fixture
def service():
    return ServiceFactory(base_url="http://127.0.0.1:9", health_path="/healthz")


def test_it_probes_each_revision_at_its_own_url_and_records_its_samples(
    service, fast_url, slow_url
):
    # given a stable and a slower candidate revision, neither of them the current one
    stable = RevisionFactory(service=service, url=fast_url)
    candidate = RevisionFactory(service=service, url=slow_url)
    make_probe(service, name="health", path="/healthz", failures_before_incident=1)

    # when both are probed for 3 seconds, every half second
    samples = revisions_probe_compare(
        service=service, revisions=[stable, candidate], seconds=3, interval=0.5
    )

    # then each has its own samples, all healthy, recorded against it
    assert set(samples) == {stable.pk, candidate.pk}
    for revision in (stable, candidate):
        got = samples[revision.pk]
        assert got.total >= 5
        assert got.errors == 0
        assert len(got.latencies_ms) == got.total
        rows = ProbeResult.objects.filter(revision=revision)
        assert rows.count() == got.total
        assert got.first_result_id == min(row.pk for row in rows)
        assert got.last_result_id == max(row.pk for row in rows)
        assert got.first_checked_at == min(row.checked_at for row in rows)
        assert got.last_checked_at == max(row.checked_at for row in rows)
    assert ProbeResult.objects.filter(revision__isnull=True).count() == 0
    # the slower one's latencies are larger
    assert median(samples[candidate.pk].latencies_ms) > median(samples[stable.pk].latencies_ms)
    assert min(samples[candidate.pk].latencies_ms) >= 60


def test_a_revision_that_is_down_counts_errors_without_opening_incidents(
    service, fast_url, closed_port
):
    stable = RevisionFactory(service=service, url=fast_url)
    down = RevisionFactory(service=service, url=f"http://127.0.0.1:{closed_port}")
    probe = make_probe(service, name="health", path="/healthz", failures_before_incident=1)

    samples = revisions_probe_compare(
        service=service, revisions=[stable, down], seconds=1.5, interval=0.5
    )

    assert samples[down.pk].total >= 3
    assert samples[down.pk].errors == samples[down.pk].total
    assert samples[down.pk].latencies_ms == []
    assert samples[down.pk].error_kinds == {"connection_refused": samples[down.pk].total}
    assert samples[stable.pk].errors == 0
    # the comparison is the gate's evidence; incidents stay with the scheduled probes
    assert not Incident.objects.exists()
    probe.refresh_from_db()
    assert probe.consecutive_failures == 0


def test_a_failing_answer_counts_as_an_error_and_not_as_a_latency(service, fast_url):
    revision = RevisionFactory(service=service, url=fast_url)
    make_probe(service, name="health", path="/healthz")
    make_probe(service, name="missing", path="/missing")

    samples = revisions_probe_compare(
        service=service, revisions=[revision], seconds=1, interval=0.5
    )

    got = samples[revision.pk]
    assert got.total == 2 * len(got.latencies_ms)
    assert got.errors == len(got.latencies_ms)
    assert got.error_kinds == {"wrong_status": got.errors}


def test_an_answer_over_the_latency_threshold_is_an_error_with_its_latency(service, slow_url):
    revision = RevisionFactory(service=service, url=slow_url)
    make_probe(service, name="health", path="/healthz", latency_threshold_ms=30)

    samples = revisions_probe_compare(
        service=service, revisions=[revision], seconds=1, interval=0.5
    )

    got = samples[revision.pk]
    assert got.errors == got.total == len(got.latencies_ms) == 2
    assert got.error_kinds == {"too_slow": 2}


def test_probes_with_a_full_url_are_skipped_and_named(service, fast_url):
    revision = RevisionFactory(service=service, url=fast_url)
    make_probe(service, name="health", path="/healthz")
    make_probe(service, name="status page", path="", url="https://status.example.com/")
    make_probe(service, name="off", path="/healthz", enabled=False)

    samples = revisions_probe_compare(
        service=service, revisions=[revision], seconds=0.5, interval=0.5
    )

    got = samples[revision.pk]
    assert got.probes == ["health"]
    assert got.skipped == [
        "probe “status page” checks a full URL, not a path on the revision; it was skipped"
    ]
    assert got.total == 1


def test_stop_ends_the_comparison_early(service, fast_url):
    revision = RevisionFactory(service=service, url=fast_url)
    make_probe(service, name="health", path="/healthz")
    asked = []

    def stop() -> bool:
        asked.append(time.monotonic())
        return len(asked) >= 3

    started = time.monotonic()
    samples = revisions_probe_compare(
        service=service, revisions=[revision], seconds=30, interval=0.2, stop=stop
    )

    assert time.monotonic() - started < 5
    assert 2 <= samples[revision.pk].total <= 3
    assert samples[revision.pk].stopped


def test_a_revision_without_a_url_is_refused(service):
    revision = RevisionFactory(service=service, url="")
    make_probe(service, name="health", path="/healthz")

    with pytest.raises(ValueError, match=f"revision {revision.name} has no URL"):
        revisions_probe_compare(service=service, revisions=[revision], seconds=1)


def test_a_revision_of_another_service_is_refused(service):
    revision = RevisionFactory(url="http://127.0.0.1:9")

    with pytest.raises(ValueError, match="belongs to service"):
        revisions_probe_compare(service=service, revisions=[revision], seconds=1)


def test_a_service_without_a_probe_gets_its_default_one(service, fast_url):
    revision = RevisionFactory(service=service, url=fast_url)

    samples = revisions_probe_compare(
        service=service, revisions=[revision], seconds=0.5, interval=0.5
    )

    assert samples[revision.pk].probes == ["health"]
    assert samples[revision.pk].errors == 0
