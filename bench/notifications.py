"""Benchmark: the latency from an event to the receiver of its notification, through a real
Celery worker and Apprise's json:// (and, with --email, through Django's SMTP backend to a local
aiosmtpd server).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_notifications \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/notifications.py --events 30 --email

What it does:
1. starts a local receiver (an asyncio HTTP server in its own process) that answers 200 and
   notes when each message arrived, and with --email an SMTP server (aiosmtpd) likewise;
2. creates a ``bench-notify`` service, a json:// channel pointing at the receiver (and an email
   channel), and a rule sending run.failed to each (the private-address switch on, as an admin
   would set it for an internal receiver);
3. starts one real Celery worker process (``--pool=solo``) on the broker;
4. after one warm-up event (the worker's first task imports Apprise; not counted), emits
   ``--events`` run.failed events one at a time, 0.5 s apart, each in its own transaction
   (its commit wakes the worker), and prints event (commit) → receiver p50/p95/max per channel;
5. prints the p95's ratio to the goal (< 2 s) and the load average.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhooks import _drain, _free_port, receive  # noqa: E402 (the same local receiver)

LATENCY_GOAL = 2.0  # seconds from the event to the receiver


def smtp_receive(port: int, arrivals) -> None:
    """An SMTP server that puts (arrival time, message) on ``arrivals``."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            arrivals.put((time.time(), envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    while True:
        time.sleep(3600)


def _figures(name: str, latencies: list[float]) -> None:
    latencies = sorted(latencies)
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"{name}: event -> receiver over {len(latencies)} events: p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
        f"(p95 is {p95 / LATENCY_GOAL:.2f}x the goal of < {LATENCY_GOAL:.0f} s)"
    )


def main() -> None:
    import multiprocessing

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--email", action="store_true", help="also time the email channel")
    args = parser.parse_args()

    smtp_port = _free_port()
    os.environ["STAGELOOP_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    os.environ["EMAIL_HOST"], os.environ["EMAIL_PORT"] = "127.0.0.1", str(smtp_port)
    from bench._django import setup

    setup("stageloop_bench_notifications")
    from django.db import transaction

    from integrations import events
    from integrations.models import Channel
    from integrations.services.events import event_emit
    from integrations.services.notifications import channel_create, rule_create
    from runs.models import Service

    port = _free_port()
    arrivals: multiprocessing.Queue = multiprocessing.Queue()
    mails: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receive, args=(port, arrivals), daemon=True)
    receiver.start()
    smtp = multiprocessing.Process(target=smtp_receive, args=(smtp_port, mails), daemon=True)
    if args.email:
        smtp.start()

    Channel.objects.filter(name__startswith="bench-notify").delete()
    service, _ = Service.objects.get_or_create(name="bench-notify")
    json_channel = channel_create(
        name="bench-notify-json", kind="apprise", url=f"json://127.0.0.1:{port}/notify"
    )
    rule_create(kinds=[events.RUN_FAILED], channel=json_channel, service=service)
    if args.email:
        mail = channel_create(name="bench-notify-mail", kind="email", emails="oncall@example.com")
        rule_create(kinds=[events.RUN_FAILED], channel=mail, service=service)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "worker",
            "--pool=solo",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ},
        start_new_session=True,
    )
    payload = {
        "run": {
            "id": 1,
            "url": "/runs/1/",
            "status": "failed",
            "suite": {"id": 1, "name": "e2e"},
            "revision": None,
            "total": 10,
            "passed": 9,
            "failed": 1,
            "errors": 0,
        }
    }
    try:
        time.sleep(4)  # the worker connects to the broker
        # Warm-up (not counted): the worker's first task imports Apprise and its plugins.
        with transaction.atomic():
            event_emit(kind=events.RUN_FAILED, service=service, payload=payload)
        _drain(arrivals, 1, timeout=60.0)
        if args.email:
            _drain(mails, 1, timeout=60.0)
        http_latencies, mail_latencies = [], []
        for _ in range(args.events):
            with transaction.atomic():
                event_emit(kind=events.RUN_FAILED, service=service, payload=payload)
            emitted = time.time()
            [(arrived, _body)] = _drain(arrivals, 1, timeout=30.0) or [(float("nan"), b"")]
            http_latencies.append(arrived - emitted)
            if args.email:
                [(arrived, _m)] = _drain(mails, 1, timeout=30.0) or [(float("nan"), b"")]
                mail_latencies.append(arrived - emitted)
            time.sleep(0.5)
        _figures("json:// (Apprise)", http_latencies)
        if args.email:
            _figures("email (SMTP)", mail_latencies)
        print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        receiver.terminate()
        if args.email:
            smtp.terminate()


if __name__ == "__main__":
    main()
