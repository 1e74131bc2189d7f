"""Every page of the app, for the browser matrices: the URL name each page is, the named URLs that
are not pages (and why), and a seeded world to open them in.

A new page (a named GET URL answering HTML) must be added here, to PAGES and to seed_world's
paths; tests/pages/test_inventory.py fails until it is. The world is the demo data plus the
worst of what test suites produce: a 908-character parametrized test name and long messages
without spaces."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from analyses.models import ActionItem, Why
from analyses.services.analyses import analysis_start_from_run
from health.models import Incident, MaintenanceWindow, Probe, Slo, SloAlert
from health.services import probe_results_record
from integrations.events import KINDS
from integrations.models import (
    Channel,
    CommitStatus,
    NotificationDelivery,
    NotificationRule,
    Webhook,
    WebhookDelivery,
)
from reports.models import Capability, StatusPage
from reports.services.capability_cases import capability_save
from runs.models import (
    Build,
    Deploy,
    FailureSignature,
    Loop,
    LoopIteration,
    Revision,
    ScheduleSkip,
    Service,
    Suite,
    TestCase,
    TestRun,
)
from runs.services.tokens import token_create
from tests.conftest import PASSWORD
from tests.health.helpers import outcome
from tests.pages.conftest import make_run

# Page name -> the URL name it is. "login" is opened logged out; "not found" is the error page.
PAGES: dict[str, str | None] = {
    "login": "login",
    "not found": None,
    "overview": "overview",
    "service": "service-detail",
    "suite": "suite-detail",
    "run": "run-detail",
    "test": "test-detail",
    "revision": "revision-detail",
    "deploy": "deploy-detail",
    "loop": "loop-detail",
    "compare": "compare",
    "health": "service-health",
    "analyses": "analysis-list",
    "analysis": "analysis-detail",
    "analysis edit": "analysis-edit",
    "action items": "action-item-list",
    "summary": "reports:summary",
    "capabilities": "reports:capability-list",
    "capability": "reports:capability-detail",
    "capability edit": "reports:capability-edit",
    "capability new": "reports:capability-create",
    "evidence runs": "reports:evidence",
    "evidence deploys": "reports:evidence",
    "evidence restores": "reports:evidence",
    "evidence incidents": "reports:evidence",
    "tokens": "tokens",
    "upload": "suite-upload",
    "search": "search",
    "search tests": "search",
    "evidence triage": "reports:evidence",
    "webhooks": "webhook-list",
    "webhook": "webhook-detail",
    "webhooks docs": "webhook-docs",
    "notifications": "notification-list",
    "my notifications": "notification-mine",
    "slos": "service-slos",
    "slo edit": "slo-edit",
    # maintenance windows and status pages (issue 19); the public status page is opened logged out
    "maintenance": "maintenance-list",
    "maintenance edit": "maintenance-edit",
    "status page": "status-page",
    "status page public": "status-page",
    "channel edit": "channel-edit",
    "rule edit": "rule-edit",
    "subscription edit": "subscription-edit",
    "commit statuses": "commit-status-list",
}

# Named URLs that are not pages a person opens, and why. Django's admin is left out on purpose.
NOT_PAGES: dict[str, str] = {
    "logout": "POST only",
    "oidc_logout": "POST only (the same sign-out, named for mozilla-django-oidc)",
    "oidc_authentication_init": "a redirect to the identity provider (tests/accounts)",
    "oidc_authentication_callback": "the identity provider's redirect back (tests/accounts)",
    "breakglass": "needs a one-time link from manage.py breakglass_login (tests/accounts)",
    "healthz": "JSON for load balancers",
    "worker-status": "htmx fragment of the overview",
    "deploy-progress": "htmx fragment of the deploy page",
    "loop-progress": "htmx fragment of the loop page",
    "run-progress": "htmx fragment of the run page",
    "run-artifact": "a file download",
    "reports:summary-markdown": "a Markdown export",
    "reports:summary-csv": "a CSV export",
    "reports:summary-pdf": "a PDF export",
    "deploy-and-test": "POST only (the service page's form)",
    "slo-delete": "POST only (the SLO edit page's button)",
    "revision-rollback": "POST only",
    "revision-promote": "POST only",
    "deploy-abort": "POST only",
    "loop-cancel": "POST only",
    "loop-create": "POST only",
    "build-create": "POST only",
    "run-cancel": "POST only",
    "test-state-change": "POST only",
    "token-revoke": "POST only",
    "analyze-result": "POST only",
    "analyze-signature": "POST only",
    "analyze-run": "POST only",
    "signature-triage": "POST only",
    "suite-retention": "POST only (the suite page's retention form)",
    "run-pin": "POST only (the run page's pin button)",
    "suite-schedule": "POST only (the suite page's schedule form)",
    "search-typeahead": "htmx fragment of the header's search box",
    "search-failure": "a redirect to the newest run (or the suite) of a failure signature",
    "suite-tree-branch": "htmx fragment of the suite page's tree",
    "attachment-download": "a file download",
    "webhook-pause": "POST only (the webhook page's button)",
    "webhook-resume": "POST only (the webhook page's button)",
    "webhook-delete": "POST only (the webhook page's button)",
    "webhook-test": "POST only (the webhook page's button)",
    "delivery-redeliver": "POST only (a delivery's button on the webhook page)",
    "webhook-rotate-secret": "POST only (its answer shows the new secret once)",
    "channel-delete": "POST only (the notifications page's button)",
    "channel-test": "POST only (the notifications page's button)",
    "rule-delete": "POST only (the notifications page's button)",
    "subscription-delete": "POST only (the my-notifications page's button)",
    "maintenance-create": "POST only (the maintenance page's form)",
    "maintenance-delete": "POST only (the maintenance page's button)",
    "commit-status-repost": "POST only (the commit statuses page's button)",
}
# The API (namespace "api") answers JSON; its docs page is django-ninja's Swagger UI, not ours.
NOT_PAGE_NAMESPACES = ("admin", "api")


_CART = ",".join(
    json.dumps({"sku": f"SKU-{i:05d}", "qty": i % 7 + 1, "price_cents": 1000 + 37 * i})
    for i in range(40)
).replace(" ", "")
_PREFIX = "test_checkout_accepts_every_cart_the_storefront_can_build[cart="
LONG_NAME = _PREFIX + _CART[: 908 - len(_PREFIX) - 1] + "]"
assert len(LONG_NAME) == 908

LONG_URL = "https://staging.example.com/api/v1/carts/7f3c2a/checkout?" + "&".join(
    f"item{i}=SKU-{i:05d}" for i in range(45)
)
LONG_MESSAGE = (
    f"AssertionError: POST {LONG_URL} answered 503 Service Unavailable after 30.0 s; "
    "expected 201 Created with a JSON body naming the order\n"
    'Traceback (most recent call last):\n  File "/builds/acme/storefront/tests/e2e/checkout/'
    'test_checkout_accepts_every_cart_the_storefront_can_build.py", line 412, in test_checkout\n'
    "    assert response.status_code == 201, response.text\n" + "x" * 600
)


def seed_world() -> dict[str, str]:
    """The demo data, plus the longest names and messages a real suite produces; returns the
    pages to open by name."""
    call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = get_user_model().objects.get(username="admin")
    service = Service.objects.get(name="demo-chat")
    Service.objects.filter(pk=service.pk).update(base_url="http://127.0.0.1:9")
    suite = Suite.objects.get(service=service, name="e2e")
    now = timezone.now()

    long_case = TestCase.objects.create(
        suite=suite,
        key=f"tests/e2e/checkout/test_checkout.py::{LONG_NAME}",
        key_hash="f" * 40,
        name=LONG_NAME,
        classname="tests.e2e.checkout.test_checkout.TestCheckoutAcceptsEveryCartTheStorefront",
        file="tests/e2e/checkout/test_checkout.py",
    )
    signature = FailureSignature.objects.create(
        suite=suite,
        hash="e" * 40,
        kind="failed",
        normalized=LONG_MESSAGE.splitlines()[0],
        example=LONG_MESSAGE,
    )
    build = Build.objects.create(
        service=service,
        image="europe-docker.pkg.dev/acme-staging-platform/storefront/demo-chat-backend:1.4.2-rc.7",
        commit_sha="4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f",
        commit_message="Stream agent replies in partial chunks; " + "retry-the-socket-" * 30,
    )
    revision = Revision.objects.create(
        service=service,
        name="demo-chat-00099-checkout-carts-with-forty-items",
        image=build.image,
        commit_sha=build.commit_sha,
        commit_message=build.commit_message,
        url="http://127.0.0.1:9",
        status=Revision.Status.READY,
    )
    deploy = Deploy.objects.create(
        service=service,
        build=build,
        revision=revision,
        image=build.image,
        commit_sha=build.commit_sha,
        status=Deploy.Status.SUCCEEDED,
        started_at=now - timedelta(minutes=5),
        finished_at=now - timedelta(minutes=4),
        operation="projects/acme-staging-platform/locations/europe-west1/operations/" + "a1" * 40,
        log="\n".join(f"step {i}: pulled {build.image}@sha256:{'b' * 64}" for i in range(30)),
    )
    cases = list(suite.cases.exclude(pk=long_case.pk).order_by("pk")[:20])
    previous = make_run(
        suite,
        {**dict.fromkeys(cases, "passed"), long_case: "passed"},
        revision=revision,
        at=now - timedelta(hours=1),
    )
    run = make_run(
        suite,
        {**dict.fromkeys(cases, "passed"), cases[0]: "error", long_case: "failed"},
        revision=revision,
        at=now - timedelta(minutes=3),
        messages={long_case: LONG_MESSAGE, cases[0]: LONG_URL},
        signatures={long_case: signature},
    )
    TestRun.objects.filter(pk=run.pk).update(
        deploy=deploy, log=LONG_MESSAGE * 3, error="The suite exited with code 1: " + LONG_URL
    )

    loop = Loop.objects.create(service=service, suite=suite, status=Loop.Status.WAITING)
    LoopIteration.objects.create(
        loop=loop, number=1, build=build, deploy=deploy, run=run, goal_met=False, note="1 failed"
    )

    analysis = analysis_start_from_run(run=run, user=admin)
    analysis.title = ("Checkout of a forty-item cart answers 503 " + LONG_NAME)[:200]
    analysis.root_causes = ["The proxy drops bodies over 64 KiB: " + LONG_URL]
    analysis.save()
    Why.objects.create(
        analysis=analysis,
        position=1,
        question=f"Why did {LONG_NAME} fail?",
        answer=LONG_MESSAGE,
        evidence=[LONG_URL, f"/runs/{run.pk}/"],
    )
    ActionItem.objects.create(
        analysis=analysis,
        what="Raise the body limit: " + LONG_URL,
        owner=admin,
        link=LONG_URL[:500],  # the longest link an action item keeps
    )

    probe = Probe.objects.filter(service=service).first()
    probe_results_record(
        outcomes=[
            outcome(
                probe,
                at=now - timedelta(minutes=m),
                ok=m % 10 > 2,
                latency_ms=40.0 + m,
                error_kind="wrong_status",
                error="expected status 200, got 503: " + LONG_URL,
                status_code=503,
            )
            for m in reversed(range(90))
        ]
    )
    Incident.objects.filter(probe=probe).update(first_error=LONG_MESSAGE)
    # SLOs (issue 19): the longest name a form accepts, a latency one, and an open fast burn.
    slo = Slo.objects.create(
        service=service, name=LONG_NAME[:100], kind="availability", objective_percent=99.95
    )
    Slo.objects.create(
        service=service,
        name="checkout latency",
        kind="latency",
        objective_percent=99.0,
        latency_threshold_ms=250,
        window_days=7,
    )
    SloAlert.objects.create(
        slo=slo,
        service=service,
        severity="critical",
        threshold=14.4,
        long_burn=611.1,
        short_burn=3000.0,
        opened_at=now - timedelta(minutes=20),
    )
    # Saved as the form saves it: its tests mapped (reports.CapabilityCase), so the pages read
    # the read model, as they do in production.
    capability = capability_save(
        capability=Capability(
            name="Checkout of every cart the storefront can build, streamed agent replies included",
            description=LONG_MESSAGE,
            # The longest pattern line the capability form accepts is 300 characters.
            patterns="name:test_checkout_accepts_every_cart*\nfile:tests/e2e/checkout/*\n"
            + LONG_NAME[:300],
        )
    )
    capability.services.add(service)
    token_create(user=admin, name="ci-pipeline-" + "storefront-checkout-" * 4)
    webhook = Webhook.objects.create(
        name="ci-notifier-" + "storefront-checkout-" * 4,
        service=service,
        url=LONG_URL,
        events=list(KINDS),
        secret="whsec_" + "s" * 43,
        created_by=admin,
    )
    WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=uuid.uuid4(),
        kind="run.failed",
        body="{}",
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        last_status_code=503,
        response_ms=10000,
        response_excerpt=LONG_MESSAGE[:1024],
        error="The receiver answered 503; Stageloop tries again later. Gave up after 8 attempts.",
    )
    channel = Channel.objects.create(
        name="ci-alerts-" + "storefront-checkout-" * 4,
        url="json://" + LONG_URL.split("://", 1)[1],
        url_masked="json://" + LONG_URL.split("://", 1)[1],
        created_by=admin,
    )
    rule = NotificationRule.objects.create(
        channel=channel, events=list(KINDS), service=service, created_by=admin
    )
    NotificationRule.objects.create(subscriber=admin, events=list(KINDS), digest="daily")
    NotificationDelivery.objects.create(
        rule=rule,
        channel=channel,
        event_id=uuid.uuid4(),
        kind="run.failed",
        severity="warning",
        service=service,
        title=LONG_MESSAGE[:200],
        text=LONG_MESSAGE,
        link=LONG_URL,
        status=NotificationDelivery.Status.GIVEN_UP,
        attempts=5,
        error="The receiver answered 503. " + LONG_MESSAGE[:900],
    )
    window = MaintenanceWindow.objects.create(
        service=service,
        kind=MaintenanceWindow.Kind.WEEKLY,
        weekdays=[1, 2, 3, 4, 5, 6, 7],
        local_start=timezone.localtime(now - timedelta(minutes=30)).time().replace(microsecond=0),
        duration_minutes=60,
        reason=("Database upgrade of the storefront checkout cluster " + LONG_NAME)[:200],
    )
    private_page = StatusPage.objects.create(
        name=("Storefront checkout and streamed agent replies " + "x" * 100)[:100],
        slug="storefront-checkout-and-streamed-agent-replies-int"[:50],
    )
    public_page = StatusPage.objects.create(
        name="Acme public status", slug="acme", public=True, show_errors=True
    )
    for status_page in (private_page, public_page):
        status_page.services.add(*Service.objects.all())
    CommitStatus.objects.create(
        service=service,
        run=run,
        host="github",
        repository="storefront-" * 20 + "checkout",
        sha="f" * 64,
        context="stageloop/" + "storefront-checkout/" * 12,
        state="failure",
        description=LONG_MESSAGE[:140],
        target_url=LONG_URL[:2000],
        status=CommitStatus.Status.GIVEN_UP,
        attempts=8,
        last_status_code=502,
        response_excerpt=LONG_MESSAGE[:1024],
        error="The host answered 502. " + LONG_MESSAGE[:400],
    )

    # The suite runs on a schedule: a scheduled run, and an occurrence skipped while it ran.
    Suite.objects.filter(pk=suite.pk).update(
        schedule_minutes=10_080, schedule_enabled=True, schedule_next_at=now
    )
    TestRun.objects.filter(pk=previous.pk).update(trigger=TestRun.Trigger.SCHEDULED)
    ScheduleSkip.objects.create(
        suite=suite,
        reason=ScheduleSkip.Reason.OVERLAP,
        due_at=now - timedelta(minutes=30),
        missed=12,
        active_run=previous,
        detail=f"Skipped 12 occurrences: run #{previous.pk} (scheduled, started "
        f"{now:%Y-%m-%d %H:%M:%S}) was still running; " + LONG_MESSAGE[:400],
        recorded_at=now,
    )

    return {
        "login": "/login/",
        "overview": "/",
        "not found": "/no-such-page/",
        "service": f"/services/{service.name}/",
        "suite": f"/suites/{suite.pk}/",
        "run": f"/runs/{run.pk}/",
        "test": f"/tests/{long_case.pk}/",
        "revision": f"/revisions/{revision.pk}/",
        "deploy": f"/deploys/{deploy.pk}/",
        "loop": f"/loops/{loop.pk}/",
        "compare": f"/compare?runs={previous.pk},{run.pk}",
        "health": f"/services/{service.name}/health/",
        "analyses": "/analyses/",
        "analysis": f"/analyses/{analysis.pk}/",
        "analysis edit": f"/analyses/{analysis.pk}/edit",
        "action items": "/action-items/",
        "summary": "/reports/summary",
        "capabilities": "/reports/capabilities/",
        "capability": f"/reports/capabilities/{capability.pk}/",
        "capability edit": f"/reports/capabilities/{capability.pk}/edit",
        "capability new": "/reports/capabilities/new",
        "evidence runs": "/reports/evidence/runs",
        "evidence deploys": "/reports/evidence/deploys",
        "evidence restores": "/reports/evidence/restores",
        "evidence incidents": "/reports/evidence/incidents",
        "tokens": "/account/tokens/",
        "upload": f"/suites/{suite.pk}/upload",
        "search": "/search?q=checkout",
        "search tests": "/search?q=checkout&kind=tests",
        "evidence triage": "/reports/evidence/triage",
        "webhooks": "/settings/webhooks/",
        "webhook": f"/settings/webhooks/{webhook.pk}/",
        "webhooks docs": "/settings/webhooks/docs",
        "notifications": "/settings/notifications/",
        "my notifications": "/settings/notifications/mine/",
        "slos": f"/services/{service.name}/slos/",
        "slo edit": f"/services/{service.name}/slos/{slo.pk}/edit/",
        "maintenance": f"/services/{service.name}/maintenance/",
        "maintenance edit": f"/services/{service.name}/maintenance/{window.pk}/edit",
        "status page": f"/status/{private_page.slug}/",
        "status page public": f"/status/{public_page.slug}/",
        "channel edit": f"/settings/notifications/channels/{channel.pk}/",
        "rule edit": f"/settings/notifications/rules/{rule.pk}/",
        "subscription edit": "/settings/notifications/mine/"
        f"{NotificationRule.objects.filter(subscriber=admin).values_list('pk', flat=True)[0]}/",
        "commit statuses": "/settings/commit-statuses/",
    }
