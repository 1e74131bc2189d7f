"""Create the demo: role accounts, the demo chat service with its builds and suite, and history."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.seed.demo_history import demo_history_create, demo_verdicts_create
from runs.health_seam import service_probe_ensure
from runs.models import Build, GatePolicy, QuarantinePolicy, Service, Suite
from runs.roles import MANAGER, OPERATOR, VIEWER
from runs.services.roles import roles_ensure
from runs.services.states import test_states_replay

DEMO_PASSWORD = "stageloop-demo"

# The keys the demo's real e2e suite produces (demo/e2e), so history and new runs line up.
DEMO_TESTS = [
    f"pytest \u203a test_{area}::test_{name}"
    for area, names in {
        "agents": [
            "agent_run_is_recorded_in_the_thread",
            "agent_without_input_is_refused_with_400",
            "agents_are_listed_with_descriptions",
            "reverse_agent_replies_with_its_output",
            "unknown_agent_is_404",
        ],
        "auth": [
            "forged_token_is_401",
            "login_without_a_json_body_is_refused_with_400",
            "protected_endpoint_without_a_token_is_401",
            "valid_credentials_get_a_bearer_token",
            "wrong_password_is_refused_with_401",
        ],
        "health": [
            "health_is_ok_and_names_the_build",
            "responses_carry_the_revision_header",
            "unknown_path_is_a_json_404",
        ],
        "messages": [
            "empty_message_is_refused_with_400",
            "invalid_limit_is_refused_with_400",
            "limit_returns_the_latest_messages",
            "message_to_an_unknown_thread_is_404",
            "posted_messages_are_listed_in_order",
        ],
        "streaming": [
            "stream_of_an_empty_thread_is_409",
            "stream_of_an_unknown_thread_is_404",
            "stream_sends_partial_chunks_then_completes",
        ],
        "threads": [
            "another_users_thread_is_invisible",
            "create_thread_returns_201_with_an_id",
            "created_thread_can_be_fetched_and_is_listed",
            "unknown_thread_is_404",
            *(
                f"invalid_title_is_refused_with_400[{p}]"
                for p in ("blank", "empty", "missing", "not-a-string", "too-long")
            ),
        ],
        "websocket": [
            "websocket_accepts_the_token_as_a_query_parameter",
            "websocket_answers_a_bad_frame_with_an_error_and_stays_open",
            "websocket_chat_is_stored_in_the_thread",
            "websocket_greets_pongs_and_echoes",
            "websocket_refuses_a_connection_without_a_token",
        ],
    }.items()
    for name in names
]


class Command(BaseCommand):
    help = "Create demo accounts, services, builds, suites and a few weeks of history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("STAGELOOP_DEMO_PASSWORD", ""))
        parser.add_argument(
            "--python",
            default=os.environ.get("STAGELOOP_DEMO_PYTHON", ""),
            help="Python of the demo's own environment (make run: .venv-demo/bin/python); it "
            "runs the demo service and its e2e suite. Default: this Python.",
        )

    def handle(self, *args, password: str, python: str, **options):
        if not password and not settings.DEVELOPMENT:
            raise CommandError(
                "seed_demo makes accounts with a known password, which only the demo may have. "
                "Outside DEBUG mode pass --password (or STAGELOOP_DEMO_PASSWORD) with a password "
                "of your own."
            )
        if password == DEMO_PASSWORD and not settings.DEVELOPMENT:
            raise CommandError(
                f"The password {DEMO_PASSWORD!r} is published in the README; outside DEBUG mode "
                "choose another one."
            )
        password = password or DEMO_PASSWORD
        python = python or sys.executable
        if not Path(python).is_file():
            raise CommandError(f"--python {python}: no such file. Run `make demo` to create it.")
        self.python = python
        with transaction.atomic():
            self._accounts(password)
            created = self._services()
        if created:
            self.stdout.write(self.style.SUCCESS("Demo services and history created."))
        else:
            self.stdout.write("Demo services already exist; left as they are.")
        self.stdout.write(
            f"Log in at http://127.0.0.1:{os.environ.get('STAGELOOP_PORT', '8000')}/ "
            f"as admin / {password} "
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
            is_demo=True,
            display_name="Demo chat backend",
            description=(
                "The demo staging service shipped in demo/: chat, agents, streaming. Its builds: "
                "1.4.0 hangs its stream (a test catches it), 1.4.1 fixes it, "
                "1.4.2 passes its tests, +50 ms slower: the canary comparison stops it."
            ),
            target_kind=Service.TargetKind.LOCAL,
            target_config={
                "command": [self.python, str(base / "demo" / "app.py")],
                "cwd": str(base),
                "start_timeout": 30,
            },
            health_path="/healthz",
            default_image="stageloop-demo:1.4.1",
        )
        suite = Suite.objects.create(
            service=chat,
            name="e2e",
            command=[self.python, "-m", "pytest", "-q"],
            working_dir=str(base / "demo" / "e2e"),
            timeout_seconds=300,
            test_timeout_seconds=10,
            target_test_count=40,
        )
        # The fixed and the slow build are offered in the Build menu; the faulty one is the
        # latest, what Deploy and test (and the loop) take first.
        Build.objects.create(
            service=chat,
            image="stageloop-demo:1.4.2",
            commit_sha="7d3a5e9c1f20",
            commit_message="Log every request with its full headers (50 ms slower)",
        )
        Build.objects.create(
            service=chat,
            image="stageloop-demo:1.4.1",
            commit_sha="9c0ffee1d2e3",
            commit_message="Flush each stream chunk as it is written",
        )
        Build.objects.create(
            service=chat,
            image="stageloop-demo:1.4.0",
            commit_sha="4e1f0c2a9b7d",
            commit_message="Stream agent replies in partial chunks",
        )
        # All history revisions retired: the first click on Deploy and test starts a real one.
        demo_history_create(suite=suite, test_names=DEMO_TESTS, keep_current=False)
        payments = Service.objects.create(
            name="payments-api",
            is_demo=True,
            display_name="Payments API",
            description=(
                "Results pushed from CI. Configured for Cloud Run: deploying needs Application "
                "Default Credentials and a real project in the service's settings."
            ),
            target_kind=Service.TargetKind.CLOUDRUN,
            target_config={
                "project": "your-gcp-project",
                "region": "europe-west1",
                "service": "payments-api",
                "timeout": 600,
            },
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
        for service in (chat, payments):
            service_probe_ensure(service=service)
            demo_verdicts_create(service=service)
        # Judged from here on: probe thresholds on the candidate's own checks, and canary steps
        # of 25 s (25 probes of each revision, over the 20 the comparison needs).
        GatePolicy.objects.create(service=chat, max_probe_p95_ms=500, max_probe_error_percent=5)
        # Automatic quarantine is off by default; the demo turns it on and judges its history
        # run by run, so a flaky test is seen quarantined (and released after clean runs).
        for quarantined_suite in (suite, payments_suite):
            QuarantinePolicy.objects.create(suite=quarantined_suite, auto_quarantine=True)
            test_states_replay(suite_id=quarantined_suite.pk)
        Service.objects.filter(pk=chat.pk).update(canary_step_seconds=25)
        return True
