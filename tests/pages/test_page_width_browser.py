"""In Chromium: no page scrolls sideways on a phone, a laptop or a wide screen.

Every page a user can reach is opened at 390, 1280 and 1920 px with realistic data that includes
the worst of what test suites produce: a 908-character parametrized test name and long messages
without spaces. A table may scroll inside its own card; the page itself must not."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from analyses.models import ActionItem, Why
from analyses.services.analyses import analysis_start_from_run
from health.models import Incident, Probe
from health.services import probe_results_record
from reports.models import Capability
from runs.models import (
    Build,
    Deploy,
    FailureSignature,
    Loop,
    LoopIteration,
    Revision,
    Service,
    Suite,
    TestCase,
    TestRun,
)
from runs.services.tokens import token_create
from tests.conftest import PASSWORD
from tests.health.helpers import outcome
from tests.pages.conftest import make_run

pytestmark = [pytest.mark.browser, pytest.mark.matrix, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280, 1920)

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


def _wide_world() -> dict[str, str]:
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
    capability = Capability.objects.create(
        name="Checkout of every cart the storefront can build, streamed agent replies included",
        description=LONG_MESSAGE,
        # The longest pattern line the capability form accepts is 300 characters.
        patterns="name:test_checkout_accepts_every_cart*\nfile:tests/e2e/checkout/*\n"
        + LONG_NAME[:300],
    )
    capability.services.add(service)
    token_create(user=admin, name="ci-pipeline-" + "storefront-checkout-" * 4)

    return {
        "overview": "/",
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
        "evidence runs": "/reports/evidence/runs",
        "evidence deploys": "/reports/evidence/deploys",
        "evidence restores": "/reports/evidence/restores",
        "evidence incidents": "/reports/evidence/incidents",
        "tokens": "/account/tokens/",
        "upload": f"/suites/{suite.pk}/upload",
    }


# What sticks out past the window, for the failure message: the innermost elements whose box
# or text reaches past it, outside any scroll container.
_OVERFLOW = """() => {
  const limit = window.innerWidth + 1;
  const sticksOut = el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || Math.max(r.right, r.left + el.scrollWidth) <= limit) return false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return false;
    }
    return true;
  };
  const all = [...document.body.querySelectorAll("*")].filter(sticksOut);
  const innermost = all.filter(el => !all.some(other => other !== el && el.contains(other)));
  return innermost.slice(0, 6).map(el => {
    const r = el.getBoundingClientRect();
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (el.classList.length ? "." + [...el.classList].join(".") : "") +
      ` (${Math.round(Math.max(r.right, r.left + el.scrollWidth))} px)`;
  });
}"""

# Cards whose content spills out sideways (under the next card): a scroll container inside the
# card is fine, since it clips what it holds.
_SPILLING_CARDS = """() => [...document.querySelectorAll(".card")]
  .filter(card => card.scrollWidth > card.clientWidth + 1)
  .map(card => {
    const title = card.querySelector("h2, h3, summary, strong");
    return `card ${title ? JSON.stringify(title.innerText.slice(0, 40)) : card.className} ` +
      `spills ${card.scrollWidth - card.clientWidth} px`;
  })"""

_CHARTS_DRAWN = """() => [...document.querySelectorAll('script[data-chart]')]
  .every(tag => { const el = document.getElementById(tag.dataset.chart);
                  return !el || el.dataset.drawn || el.querySelector('.main-svg'); })"""


def _overflow(page, url: str) -> str | None:
    """None when the page fits the window and its cards, else how wide it is, what sticks out
    and which cards spill over."""
    response = page.goto(url)
    if response is None or response.status != 200:
        return f"answered {response and response.status} instead of a page"
    page.wait_for_function(_CHARTS_DRAWN, timeout=10_000)
    page.wait_for_timeout(50)  # plotly sizes responsive charts on the next frame
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    problems = page.evaluate(_SPILLING_CARDS)
    if scroll > inner:
        problems.insert(0, f"{scroll} px wide: " + ", ".join(page.evaluate(_OVERFLOW)))
    return "; ".join(problems) or None


def test_no_page_scrolls_sideways_at_phone_laptop_or_wide_screen_width(
    page, live_server, js_errors
):
    pages = _wide_world()
    offenders: list[str] = []

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if problem := _overflow(page, f"{live_server.url}/login/"):
            offenders.append(f"login at {width}: {problem}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            if problem := _overflow(page, live_server.url + path):
                offenders.append(f"{name} at {width}: {problem}")

    assert not offenders, "Pages that scroll sideways:\n" + "\n".join(offenders)
    assert js_errors == []
