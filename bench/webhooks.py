"""Benchmark: webhook deliveries per second from one worker process, and the latency from an
event to its receiver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_hooks \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/webhooks.py --events 3000 --latency-events 30

What it does:
1. starts a local receiver (an asyncio HTTP server in its own process) that answers 200 and
   notes when each body arrived;
2. creates a ``bench-hooks`` service with one webhook pointing at it (the private-address
   switch on, as an admin would set it for an internal receiver);
3. starts one real Celery worker process (``--pool=solo``) on the broker;
4. throughput: emits ``--events`` run.failed events in one transaction; its commit wakes the
   worker, which sends batch after batch (``STAGELOOP_WEBHOOKS_BATCH`` at a time, concurrently);
   the bench re-sends the wake-up every 2 s as the beat's 10 s entry would, only sooner;
   prints deliveries/s from the commit to the last arrival;
5. latency: emits ``--latency-events`` events one at a time, 0.5 s apart, each in its own
   transaction, and prints event (commit) → receiver p50/p95/max;
6. prints each figure's ratio to its goal (100 deliveries/s; < 2 s) and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

THROUGHPUT_GOAL = 100.0  # deliveries/s from one worker process
LATENCY_GOAL = 2.0  # seconds from the event to the receiver


def receive(port: int, arrivals) -> None:
    """Answer every POST with 200 and put (arrival time, body) on ``arrivals``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            arrivals.put((time.time(), body))
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\nok"
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=2048)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drain(arrivals, count: int, timeout: float) -> list[tuple[float, bytes]]:
    got: list[tuple[float, bytes]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):  # keep waiting until the deadline
            got.append(arrivals.get(timeout=0.5))
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--latency-events", type=int, default=30)
    args = parser.parse_args()

    os.environ["STAGELOOP_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    from bench._django import setup

    setup("stageloop_bench_hooks")
    from celery import current_app
    from django.db import transaction

    from integrations import events
    from integrations.models import Webhook, WebhookDelivery
    from integrations.services.events import event_emit
    from integrations.services.webhooks import webhook_create
    from runs.models import Service

    port = _free_port()
    arrivals: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receive, args=(port, arrivals), daemon=True)
    receiver.start()

    Webhook.objects.filter(name="bench-hooks").delete()
    service, _ = Service.objects.get_or_create(name="bench-hooks")
    webhook_create(
        name="bench-hooks",
        url=f"http://127.0.0.1:{port}/hooks",
        kinds=[events.RUN_FAILED],
        service=service,
    )
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
    try:
        time.sleep(4)  # the worker connects to the broker
        payload = {"run": {"id": 0, "status": "failed", "bench": "x" * 400}}

        started = time.time()
        with transaction.atomic():
            for _ in range(args.events):
                event_emit(kind=events.RUN_FAILED, service=service, payload=payload)
        committed = time.time()
        got: list[tuple[float, bytes]] = []
        deadline = time.monotonic() + max(60.0, args.events / 10)
        while len(got) < args.events and time.monotonic() < deadline:
            got += _drain(arrivals, args.events - len(got), timeout=2.0)
            current_app.send_task("integrations.tasks.webhooks_send")  # as the beat would
        last = max((t for t, _ in got), default=committed)
        rate = len(got) / max(last - committed, 1e-9)
        delivered = WebhookDelivery.objects.filter(
            webhook__name="bench-hooks", status="delivered"
        ).count()

        latencies = []
        for _ in range(args.latency_events):
            with transaction.atomic():
                event_emit(kind=events.RUN_FAILED, service=service, payload={"run": {"id": 1}})
            emitted = time.time()
            [(arrived, _body)] = _drain(arrivals, 1, timeout=30.0) or [(float("nan"), b"")]
            latencies.append(arrived - emitted)
            time.sleep(0.5)
        latencies.sort()
        p50 = statistics.median(latencies)
        p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]

        print(f"emitting {args.events} events (one transaction): {committed - started:.2f} s")
        print(
            f"throughput: {len(got)} deliveries in {last - committed:.2f} s = {rate:.0f}/s "
            f"({rate / THROUGHPUT_GOAL:.2f}x the goal of {THROUGHPUT_GOAL:.0f}/s); "
            f"{delivered} marked delivered"
        )
        print(
            f"latency event -> receiver over {len(latencies)} events: p50 {p50 * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
            f"(p95 is {p95 / LATENCY_GOAL:.2f}x the goal of < {LATENCY_GOAL:.0f} s)"
        )
        print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        receiver.terminate()


if __name__ == "__main__":
    main()
