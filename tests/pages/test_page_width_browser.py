"""In Chromium: every page at 390, 1280 and 1920 px, in the light and the dark theme.

Each page (tests/pages/inventory.py lists them all) must fit its window (no sideways scroll; a
table may scroll inside its own card), print no console or page error, and pass axe-core with
every rule on: no serious or critical violation, at every width in both themes. Each
screenshot is saved to VAR_DIR/screenshots/<page>-<width>-<theme>.png (var/screenshots/ in CI,
kept there for people to look at), with axe-<theme>.json beside them listing every violation."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter

import pytest
from django.conf import settings
from django.urls import resolve

from tests.conftest import PASSWORD
from tests.pages.a11y import AXE_SCRIPT, BLOCKING, axe_violations, describe
from tests.pages.inventory import PAGES, seed_world

pytestmark = [pytest.mark.browser, pytest.mark.matrix, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280, 1920)
THEMES = ("light", "dark")
# axe-core everywhere: a phone's layout hides, wraps and scrolls things the wide one does not.
AXE_AT = set(itertools.product(WIDTHS, THEMES))
# Pages that answer an error status on purpose, and the console line Chromium prints for it.
EXPECTED_STATUS = {"not found": 404}
LOGGED_OUT = ("login", "status page public")

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


def _overflow(page) -> str | None:
    """None when the page fits the window and its cards, else how wide it is, what sticks out
    and which cards spill over."""
    scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    problems = page.evaluate(_SPILLING_CARDS)
    if scroll > inner:
        problems.insert(0, f"{scroll} px wide: " + ", ".join(page.evaluate(_OVERFLOW)))
    return "; ".join(problems) or None


def _login_state(browser, url: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    state = context.storage_state()
    context.close()
    return state


def _visit(page, url: str, name: str, shot, *, axe: bool, spent: Counter) -> tuple[list, list]:
    """Open one page and check it: what is wrong with it, and axe-core's violations if `axe`."""
    problems: list[str] = []
    began = time.monotonic()
    response = page.goto(url)
    status = response.status if response else None
    if status != EXPECTED_STATUS.get(name, 200):
        return [f"answered {status}"], []
    page.wait_for_function(_CHARTS_DRAWN, timeout=10_000)
    page.wait_for_timeout(50)  # plotly sizes responsive charts on the next frame
    if problem := _overflow(page):
        problems.append(problem)
    spent["open"] += time.monotonic() - began
    began = time.monotonic()
    page.screenshot(path=shot, full_page=True)
    spent["screenshot"] += time.monotonic() - began
    began = time.monotonic()
    violations = axe_violations(page) if axe else []
    problems.extend(f"axe {describe(v)}" for v in violations if v["impact"] in BLOCKING)
    spent["axe"] += time.monotonic() - began
    return problems, violations


def _collect_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


# A few minutes on an idle two-core machine; far more when it is shared.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("theme", THEMES)
def test_every_page_fits_and_passes_axe_at_every_width(browser, live_server, theme):
    pages = seed_world()
    for name, path in pages.items():  # the inventory's paths are the pages it says they are
        assert (resolve(path.split("?")[0]).view_name if PAGES[name] else None) == PAGES[name]
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob(f"*-{theme}.*"):
        old.unlink()
    logged_in = _login_state(browser, live_server.url)

    problems: list[str] = []
    found: list[dict] = []
    spent: Counter[str] = Counter()
    for width, logged in itertools.product(WIDTHS, (False, True)):
        axe = (width, theme) in AXE_AT
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme=theme,
            storage_state=logged_in if logged else None,
        )
        if axe:
            context.add_init_script(script=AXE_SCRIPT)
        page = context.new_page()
        errors = _collect_errors(page)
        for name, path in pages.items():
            if (name in LOGGED_OUT) == logged:
                continue
            errors.clear()
            shot = shots / f"{name.replace(' ', '-')}-{width}-{theme}.png"
            wrong, violations = _visit(
                page, live_server.url + path, name, shot, axe=axe, spent=spent
            )
            found.extend({"page": name, "width": width, "theme": theme, **v} for v in violations)
            if name in EXPECTED_STATUS:  # Chromium logs the error status itself
                errors[:] = [e for e in errors if "Failed to load resource" not in e]
            wrong.extend(f"console: {error}" for error in errors)
            problems.extend(f"{name} at {width} px, {theme}: {w}" for w in wrong)
        context.close()

    (shots / f"axe-{theme}.json").write_text(json.dumps(found, indent=1))
    counts = Counter(f"{v['id']} ({v['impact']})" for v in found)
    print("seconds spent:", {k: round(v) for k, v in spent.items()})
    print("axe-core violations by rule:", dict(counts.most_common()) or "none")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
