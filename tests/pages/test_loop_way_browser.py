"""In Chromium, the way through the loop: Run loop until green is in sight on the service page,
the analysis edit form is laid out for writing, a new token copies with one click, and the API
docs lead back to the app."""

from __future__ import annotations

import pytest

from analyses.models import Analysis, Why
from runs.models import Loop
from tests.conftest import PASSWORD
from tests.factories import ServiceFactory, SuiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_loop_until_green_is_a_visible_action_on_the_service_page(
    browser_login, live_server, operator, js_errors
):
    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    page = browser_login(operator)

    page.goto(f"{live_server.url}/services/web/")

    button = page.get_by_role("button", name="Run loop until green")
    assert button.is_visible()  # without opening anything first
    assert page.get_by_role("heading", name="Run loop until green").is_visible()
    assert not page.locator("input[name=image]").is_visible()  # builds stay folded away
    button.click()
    loop = Loop.objects.get()
    assert loop.suite == suite
    page.wait_for_url(f"{live_server.url}/loops/{loop.pk}/")
    assert [e for e in js_errors if "status of" not in e] == []


def test_a_viewer_sees_no_loop_action(browser_login, live_server, viewer):
    SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/services/web/")

    assert page.get_by_role("button", name="Run loop until green").count() == 0


@pytest.fixture
def analysis(db):
    analysis = Analysis.objects.create(
        service=ServiceFactory(name="web"), title="Chat drops messages", problem="lost messages"
    )
    for position, question in enumerate(["Why were messages lost?", "Why did it retry?"], 1):
        Why.objects.create(analysis=analysis, position=position, question=question)
    return analysis


def test_the_analysis_edit_form_is_laid_out_for_writing(
    browser_login, live_server, operator, analysis, js_errors
):
    page = browser_login(operator)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/edit")

    # No formset internals in sight: no Order boxes, no Remove checkboxes.
    assert page.locator("input[name$='-ORDER']").count() == 3  # two whys and a blank one
    assert not any(box.is_visible() for box in page.locator("input[name$='-ORDER']").all())
    assert not any(box.is_visible() for box in page.locator("input[name$='-DELETE']").all())
    assert not any(part.is_visible() for part in page.locator(".no-js-only").all())
    # A wide title: at least half the content's width.
    title = page.locator("#id_analysis-title").bounding_box()
    main = page.locator("main").bounding_box()
    assert title and main and title["width"] > main["width"] / 2
    # The whys are a numbered list.
    assert page.locator("ol#whys > li[data-why-row]").count() == 3
    assert page.locator("#whys .why-number").all_inner_texts() == ["1", "2", "3"]

    page.click("#add-why")
    page.locator("#whys li").nth(3).locator("textarea").first.fill("Why was there no alert?")
    page.locator("#whys li").nth(0).locator(".why-remove").click()  # "Why were messages lost?"
    assert page.locator("#whys .why-number:visible").all_inner_texts() == ["1", "2", "3"]
    page.locator("#whys li").nth(3).locator(".why-up").click()  # goes above the blank row
    page.locator("#whys li").nth(2).locator(".why-up").click()  # and above "Why did it retry?"
    page.fill("#id_analysis-title", "Chat drops messages when the broker restarts")
    page.click("#save-analysis")

    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    assert page.locator("#whys li").all_inner_texts()[0].startswith("Why was there no alert?")
    assert [w.question for w in analysis.whys.order_by("position")] == [
        "Why was there no alert?",
        "Why did it retry?",
    ]
    analysis.refresh_from_db()
    assert analysis.title == "Chat drops messages when the broker restarts"
    assert js_errors == []


def test_an_action_item_is_removed_by_its_button(
    browser_login, live_server, operator, analysis, js_errors
):
    analysis.action_items.create(what="Alert on broker restarts")
    page = browser_login(operator)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/edit")

    page.locator("#items tbody tr").first.locator(".item-remove").click()
    assert not page.locator("#items tbody tr").first.is_visible()
    page.click("#save-analysis")

    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    assert analysis.action_items.count() == 0
    assert [w.question for w in analysis.whys.order_by("position")] == [
        "Why were messages lost?",
        "Why did it retry?",
    ]
    assert js_errors == []


def test_a_new_token_is_copied_with_one_click(
    browser_login, live_server, operator, context, js_errors
):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = browser_login(operator)
    page.goto(f"{live_server.url}/account/tokens/")
    page.fill("#token-name", "GitHub Actions")
    page.click("button[type=submit]:has-text('Create token')")

    secret = page.input_value("#token-secret")
    assert secret.startswith("slp_")
    assert page.locator("#token-secret").get_attribute("readonly") is not None
    # Chromium lets a page write the clipboard only while its document has the focus, as the
    # page a person clicks in has; under load a headless page can lose it to another page.
    page.bring_to_front()
    page.click("#copy-token")

    # The Clipboard API answers asynchronously: wait for its answer, then read the clipboard back.
    page.wait_for_function("document.querySelector('#copy-status').textContent !== ''")
    assert page.text_content("#copy-status") == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert js_errors == []


def test_without_the_clipboard_the_token_is_selected_to_copy(
    browser_login, live_server, operator, js_errors
):
    page = browser_login(operator)
    page.goto(f"{live_server.url}/account/tokens/")
    page.fill("#token-name", "nightly")
    page.click("button[type=submit]:has-text('Create token')")
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")

    page.click("#copy-token")

    assert "Ctrl+C" in page.locator("#copy-status").inner_text()
    selected = page.evaluate(
        "(() => { const f = document.getElementById('token-secret');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == page.input_value("#token-secret")
    assert js_errors == []


def test_the_api_docs_link_back_to_the_app(browser_login, live_server, operator):
    page = browser_login(operator)
    page.goto(f"{live_server.url}/api/v1/docs")

    page.wait_for_selector("#swagger-ui .info")  # Swagger UI drew the API
    page.click("#back-to-app")

    page.wait_for_url(f"{live_server.url}/")
    assert page.title() == "Overview · Stageloop"


def test_without_javascript_the_edit_form_keeps_its_order_and_remove_fields(
    browser, live_server, operator, analysis
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", operator.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/edit")

    assert page.locator("#id_whys-0-ORDER").is_visible()
    assert not page.locator("#add-why").is_visible()  # needs JavaScript: not offered
    page.fill("#id_whys-0-ORDER", "2")
    page.fill("#id_whys-1-ORDER", "1")
    page.check("#id_whys-1-DELETE")
    page.click("#save-analysis")

    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    assert [w.question for w in analysis.whys.order_by("position")] == ["Why were messages lost?"]
    context.close()
