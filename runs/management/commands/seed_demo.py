"""Create the demo: role accounts, the demo chat service with its builds and suite, and history."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from runs.models import Build, Service, Suite
from runs.roles import MANAGER, OPERATOR, VIEWER
from runs.services.demo_history import demo_history_create
from runs.services.roles import roles_ensure

DEMO_TESTS = [
    f"tests.test_{area}::test_{name}"
    for area, names in {
        "health": ["reports_ok", "reports_build"],
        "auth": ["issues_token", "rejects_bad_password", "rejects_missing_token"],
        "threads": ["creates_thread", "lists_threads", "gets_thread", "missing_thread_is_404"],
        "messages": ["posts_message", "lists_messages", "rejects_empty_message"],
        "agents": ["lists_agents", "runs_agent", "unknown_agent_is_404"],
        "streaming": ["streams_partial_results", "stream_completes"],
        "websocket": ["echoes_message", "rejects_unauthenticated"],
    }.items()
    for name in names
]


class Command(BaseCommand):
    help = "Create demo accounts, services, builds, suites and a few weeks of history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("STAGELOOP_DEMO_PASSWORD", ""))

    def handle(self, *args, password: str, **options):
        password = password or "stageloop-demo"
        with transaction.atomic():
            self._accounts(password)
            created = self._services()
        if created:
            self.stdout.write(self.style.SUCCESS("Demo services and history created."))
        else:
            self.stdout.write("Demo services already exist; left as they are.")
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/ as admin / {password} "
            f"(also operator, viewer, manager with the same password)."
        )

    def _accounts(self, password: str) -> None:
        User = get_user_model()
        groups = roles_ensure()
        for username, role in (
            ("admin", None),
            ("operator", OPERATOR),
            ("viewer", VIEWER),
            ("manager", MANAGER),
        ):
            user, made = User.objects.get_or_create(username=username)
            if made:
                user.set_password(password)
                user.is_staff = user.is_superuser = role is None
                user.save()
            if role:
                user.groups.add(groups[role])

    def _services(self) -> bool:
        if Service.objects.filter(name="demo-chat").exists():
            return False
        base = settings.BASE_DIR
        chat = Service.objects.create(
            name="demo-chat",
            display_name="Demo chat backend",
            description="The demo staging service shipped in demo/: chat, agents, streaming.",
            target_kind=Service.TargetKind.LOCAL,
            target_config={
                "command": [sys.executable, str(base / "demo" / "app.py")],
                "cwd": str(base),
                "start_timeout": 30,
            },
            health_path="/healthz",
            default_image="stageloop-demo:1.4.1",
        )
        suite = Suite.objects.create(
            service=chat,
            name="e2e",
            command=[sys.executable, "-m", "pytest", "-q"],
            working_dir=str(base / "demo" / "e2e"),
            timeout_seconds=300,
            test_timeout_seconds=10,
            target_test_count=40,
        )
        Build.objects.create(
            service=chat,
            image="stageloop-demo:1.4.0",
            commit_sha="4e1f0c2a9b7d",
            commit_message="Stream agent replies in partial chunks",
        )
        demo_history_create(suite=suite, test_names=DEMO_TESTS)
        payments = Service.objects.create(
            name="payments-api",
            display_name="Payments API",
            target_kind=Service.TargetKind.COMMAND,
            target_config={"command": [sys.executable, str(base / "demo" / "deploy_script.py")]},
            health_path="/healthz",
            default_image="registry.local/payments-api:2.3.0",
        )
        payments_suite = Suite.objects.create(
            service=payments, name="api-contract", target_test_count=200
        )
        demo_history_create(
            suite=payments_suite,
            test_names=[f"contract.Payments{i // 10}::test_case_{i:03d}" for i in range(60)],
            seed=11,
            runs_per_day=2,
        )
        return True
